import { describe, expect, it } from 'vitest';
import { ULAW_TO_LINEAR } from '../../../media/codecs/g711.ts';
import { AudioTap } from '../../../media/stream/audio-tap.ts';

/** A 160-sample µ-law payload whose every byte is `code`. */
const frame = (code: number, n = 160): Buffer => Buffer.alloc(n, code);

function collect(fragmentMs = 200): { tap: AudioTap; out: { t: number; pcm: Int16Array }[] } {
  const out: { t: number; pcm: Int16Array }[] = [];
  return { tap: new AudioTap(fragmentMs, (t, pcm) => out.push({ t, pcm })), out };
}

const T0 = 1_764_000_000_000;

describe('AudioTap: one side of a call, decoded into fragments placed by RTP timestamp', () => {
  it('places packets by timestamp: reordered ones land where they belong, fragments follow each other by exactly their length', () => {
    const { tap, out } = collect(200); // 1600 samples = 10 packets
    const order = [0, 1, 3, 2, 4, 5, 6, 7, 8, 9, 10, 11];
    for (const k of order) tap.write(frame(k + 1), 0, 160, 0, 5000 + 160 * k, T0 + 20 * k + (k === 2 ? 25 : 0));
    tap.close();
    expect(out.map((f) => f.t)).toEqual([T0, T0 + 200]);
    expect(out[0]?.pcm.length).toBe(1600);
    for (let k = 0; k < 10; k++) expect(out[0]?.pcm[160 * k]).toBe(ULAW_TO_LINEAR[k + 1]);
    // The last fragment is cut at the last sample received.
    expect(out[1]?.pcm.length).toBe(320);
  });

  it('a lost packet, or a stretch without packets, stays as silence in place; a packet too late for its fragment is dropped', () => {
    const { tap, out } = collect(200);
    for (const k of [0, 1, 2, 4, 5]) tap.write(frame(0x80), 0, 160, 0, 160 * k, T0 + 20 * k);
    // 30 packets later (600 ms): the fragments between are silence.
    tap.write(frame(0x80), 0, 160, 0, 160 * 35, T0 + 700);
    tap.write(frame(0x80), 0, 160, 0, 160 * 3, T0 + 710); // too late
    tap.close();
    expect(out.map((f) => f.t)).toEqual([T0, T0 + 200, T0 + 400, T0 + 600]);
    const first = out[0]?.pcm as Int16Array;
    expect(first[3 * 160]).toBe(0);
    expect(first[2 * 160]).toBe(ULAW_TO_LINEAR[0x80]);
    expect(out[1]?.pcm.every((s) => s === 0)).toBe(true);
    expect(out[2]?.pcm.every((s) => s === 0)).toBe(true);
    expect(out[3]?.pcm[5 * 160]).toBe(ULAW_TO_LINEAR[0x80]);
  });

  it('a timestamp jump (a new source) starts the timeline again without timecodes going back', () => {
    const { tap, out } = collect(200);
    tap.write(frame(1), 0, 160, 0, 1000, T0);
    tap.write(frame(2), 0, 160, 0, 1000 + 160, T0 + 20);
    tap.write(frame(3), 0, 160, 0, 999_999_000, T0 + 40);
    tap.write(frame(4), 0, 160, 0, 3, T0 + 60); // backwards, far: again
    tap.close();
    expect(out.map((f) => f.t)).toEqual([T0, T0 + 200, T0 + 400]);
    expect(out.map((f) => f.pcm.length)).toEqual([320, 160, 160]);
    expect(out[2]?.pcm[0]).toBe(ULAW_TO_LINEAR[4]);
  });

  it('a sender that goes quiet still gets its fragment sent on after a fragment length; other payload types are not audio', () => {
    const { tap, out } = collect(200);
    tap.write(frame(9), 0, 160, 0, 0, T0);
    tap.write(frame(9, 4), 0, 4, 101, 160, T0 + 20); // telephone-event
    tap.tick(T0 + 150);
    expect(out).toEqual([]);
    tap.tick(T0 + 260);
    expect(out.map((f) => [f.t, f.pcm.length])).toEqual([[T0, 1600]]);
    expect(out[0]?.pcm[160]).toBe(0);
    tap.close();
    expect(out).toHaveLength(1);
  });
});
