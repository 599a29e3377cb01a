import { Decoder } from '@evan/opus';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OPUS_MAX_PAYLOAD_BYTES, OpusFrameDecoder, OpusFrameEncoder, opusLossToc } from '../../../media/codecs/opus.ts';
import { goertzel } from '../../support/goertzel.ts';

const RATE = 16_000;
const N = 320;

function tone(hz: number, amplitude: number, frame: number, out = new Int16Array(N)): Int16Array {
  for (let i = 0; i < N; i++) out[i] = Math.round(amplitude * Math.sin((2 * Math.PI * hz * (frame * N + i)) / RATE));
  return out;
}

/** Frame `frame` of a steady voiced sound: 150 Hz and its harmonics to 3 kHz, falling 6 dB per octave. */
function voiced(frame: number, out = new Int16Array(N)): Int16Array {
  for (let i = 0; i < N; i++) {
    let v = 0;
    for (let h = 1; h <= 20; h++) v += Math.sin((2 * Math.PI * 150 * h * (frame * N + i)) / RATE) / h;
    out[i] = Math.round(4000 * v);
  }
  return out;
}

const energy = (f: Int16Array): number => f.reduce((s, v) => s + v * v, 0) / f.length;

/** Encodes `frames` of a tone and decodes them; answers the decoder, the last frame decoded and the payload sizes. */
function roundTrip(hz: number, frames: number): { dec: OpusFrameDecoder; last: Int16Array; sizes: number[] } {
  const enc = new OpusFrameEncoder();
  const dec = new OpusFrameDecoder();
  const payload = new Uint8Array(OPUS_MAX_PAYLOAD_BYTES);
  const last = new Int16Array(N);
  const sizes: number[] = [];
  for (let k = 0; k < frames; k++) {
    const len = enc.encode(tone(hz, 8000, k), payload);
    sizes.push(len);
    dec.decode(payload, len, last);
  }
  return { dec, last, sizes };
}

// Invalid by RFC 6716 §3.4: code 1 with an even N − 1 [R3]; code 2 whose frame length overruns [R4];
// code 3 with no frames [R5]; a code 0 frame over 1275 bytes is out of the bridge's range anyway.
const MALFORMED = [Uint8Array.of(0x49, 1), Uint8Array.of(0x4a, 250, 1, 2), Uint8Array.of(0x4b, 0x00), Uint8Array.of(0x03)];

describe('Opus frame codec (libopus, 16 kHz mono, 20 ms)', () => {
  it('a 1 kHz tone comes back as a 1 kHz tone at about its level, in packets near 28 kbit/s', () => {
    const { last, sizes } = roundTrip(1000, 50);
    expect(goertzel(last, 1000, RATE)).toBeGreaterThan(0.7 * 8000);
    expect(goertzel(last, 1400, RATE)).toBeLessThan(200);
    const steady = sizes.slice(10);
    const mean = steady.reduce((a, b) => a + b, 0) / steady.length;
    expect(mean).toBeGreaterThan(20); // 8 kbit/s
    expect(mean).toBeLessThan(110); // 44 kbit/s
    for (const s of sizes) expect(s).toBeLessThanOrEqual(OPUS_MAX_PAYLOAD_BYTES);
  });

  it('a lost frame of voiced speech is concealed by libopus: the voice carries on for 40 ms, then fades to silence at 80 ms', () => {
    const enc = new OpusFrameEncoder();
    const dec = new OpusFrameDecoder();
    const payload = new Uint8Array(OPUS_MAX_PAYLOAD_BYTES);
    const out = new Int16Array(N);
    for (let k = 0; k < 50; k++) dec.decode(payload, enc.encode(voiced(k), payload), out);
    const before = energy(out);
    expect(before).toBeGreaterThan(1e6);
    const energies: number[] = [];
    for (let k = 0; k < 6; k++) {
      dec.conceal(out);
      energies.push(energy(out));
    }
    const [first = 0, second = 0, third = 0, fourth = 0] = energies;
    expect(first).toBeGreaterThan(0.4 * before);
    expect(second).toBeGreaterThan(0.1 * before);
    expect(third).toBeLessThan(second);
    expect(third).toBeGreaterThan(0);
    expect(fourth).toBeLessThan(third);
    expect(energies[4]).toBe(0);
    expect(energies[5]).toBe(0);
    expect(dec.stats.concealed).toBe(6);
    expect(dec.stats.malformed).toBe(0);
    // The next good packet plays at once.
    dec.decode(payload, enc.encode(voiced(56), payload), out);
    expect(energy(out)).toBeGreaterThan(0.1 * before);
  });

  it('concealment before any packet is silence', () => {
    const dec = new OpusFrameDecoder();
    const out = new Int16Array(N).fill(9);
    dec.conceal(out);
    expect(out.every((v) => v === 0)).toBe(true);
  });

  it('every TOC maps to a 20 ms TOC-only packet that libopus conceals as 320 samples', () => {
    const lib = new Decoder({ channels: 1, sample_rate: RATE });
    for (let toc = 0; toc < 256; toc++) {
      const loss = opusLossToc(toc);
      expect(loss & 0x03).toBe(0); // code 0: one frame
      expect(lib.decode(Uint8Array.of(loss)).length).toBe(2 * N);
    }
  });

  it('malformed payloads, empty ones and ones over 400 bytes are concealed and counted, never thrown', () => {
    const { dec } = roundTrip(1000, 20);
    const out = new Int16Array(N);
    for (const bad of MALFORMED) dec.decode(bad, bad.length, out);
    dec.decode(new Uint8Array(0), 0, out);
    dec.decode(new Uint8Array(OPUS_MAX_PAYLOAD_BYTES + 1), OPUS_MAX_PAYLOAD_BYTES + 1, out);
    dec.decode(new Uint8Array(4), 10, out);
    expect(dec.stats.malformed).toBe(MALFORMED.length + 3);
    expect(dec.stats.concealed).toBe(MALFORMED.length + 3);
  });

  it('random payloads never throw and always fill the frame', () => {
    const dec = new OpusFrameDecoder();
    const out = new Int16Array(N);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2 * OPUS_MAX_PAYLOAD_BYTES }), fc.integer({ min: -1, max: 900 }), (bytes, length) => {
        out.fill(12345);
        expect(() => dec.decode(bytes, length, out)).not.toThrow();
        expect(out.includes(12345)).toBe(false);
      }),
    );
  });

  it('a packet that does not fit the output buffer is sent as a lost frame (TOC only) and counted', () => {
    const enc = new OpusFrameEncoder({ bitrateBps: 64_000 });
    const small = new Uint8Array(8);
    expect(enc.encode(tone(1000, 8000, 0), small)).toBe(1);
    expect(small[0]).toBe(opusLossToc(small[0] ?? 0));
    expect(enc.stats.oversize).toBe(1);
  });

  it('reads payloads and PCM through views at an offset (a payload inside a larger datagram buffer)', () => {
    const pcm = new Int16Array(3 * N);
    for (let k = 0; k < 3; k++) pcm.set(voiced(k), k * N);
    const a = new OpusFrameEncoder();
    const b = new OpusFrameEncoder();
    const pa = new Uint8Array(OPUS_MAX_PAYLOAD_BYTES);
    const pb = new Uint8Array(OPUS_MAX_PAYLOAD_BYTES);
    const da = new OpusFrameDecoder();
    const db = new OpusFrameDecoder();
    const host = new Uint8Array(OPUS_MAX_PAYLOAD_BYTES + 12);
    const oa = new Int16Array(N);
    const ob = new Int16Array(N);
    for (let k = 0; k < 3; k++) {
      const la = a.encode(pcm.subarray(k * N, (k + 1) * N), pa);
      const lb = b.encode(pcm.slice(k * N, (k + 1) * N), pb);
      expect(Array.from(pa.subarray(0, la))).toEqual(Array.from(pb.subarray(0, lb)));
      host.set(pa.subarray(0, la), 12);
      da.decode(host.subarray(12), la, oa);
      db.decode(pb.slice(0, lb), lb, ob);
      expect(Array.from(oa)).toEqual(Array.from(ob));
    }
  });

  it('refuses a bitrate or complexity libopus does not take', () => {
    expect(() => new OpusFrameEncoder({ bitrateBps: 100 })).toThrow(RangeError);
    expect(() => new OpusFrameEncoder({ bitrateBps: 1e6 })).toThrow(RangeError);
    expect(() => new OpusFrameEncoder({ complexity: 11 })).toThrow(RangeError);
    expect(() => new OpusFrameEncoder({ complexity: 2.5 })).toThrow(RangeError);
  });
});
