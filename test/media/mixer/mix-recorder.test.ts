import { describe, expect, it } from 'vitest';
import type { Random } from '../../../common/random.ts';
import { LINEAR_TO_ULAW } from '../../../media/codecs/g711.ts';
import { MediaCore } from '../../../media/media-core.ts';
import { MixRecorder, validMixFragmentMs } from '../../../media/mixer/mix-recorder.ts';
import type { MediaCommand, MediaEvent, MediaReply, MediaWorkerOptions, RemoteMedia } from '../../../media/protocol.ts';
import { MIX_ENDPOINT } from '../../../media/protocol.ts';
import { writeRtpHeader } from '../../../media/rtp/rtp-header.ts';
import { FakeUdpNetwork } from '../../support/fake-udp.ts';
import { goertzel } from '../../support/goertzel.ts';
import { ManualTimers } from '../../support/manual-timers.ts';

/**
 * A meeting's recording tap in the worker (media-core `record` → meeting-room → mix-recorder):
 * the bridge's shared mix as 8 kHz `audio` fragments of endpoint MIX_ENDPOINT, on the in-memory
 * network with a manual clock.
 */
const FAR = '192.0.2.1';
const WALL0 = 1_700_000_000_000;

function toneFrame(hz: number, k: number, ssrc: number, amplitude = 6000): Buffer {
  const b = Buffer.alloc(172);
  writeRtpHeader({ marker: k === 0, payloadType: 0, sequence: (1000 + k) & 0xffff, timestamp: (5000 + k * 160) >>> 0, ssrc }, b);
  for (let i = 0; i < 160; i++) b[12 + i] = LINEAR_TO_ULAW[Math.round(amplitude * Math.sin((2 * Math.PI * hz * (k * 160 + i)) / 8000)) + 32768] ?? 0;
  return b;
}

function stepRandom(): Random {
  let r = 0.1;
  return {
    token: (n) => 'x'.repeat(n),
    float: () => {
      r = (r + 0.381966) % 1;
      return r;
    },
  };
}

const options: MediaWorkerOptions = { bindAddress: '127.0.0.1', low: 21000, high: 21019, strict: false, mediaTimeoutMs: 0, rtcpIntervalMs: 60_000, cname: 'carillon@test', releaseDelayMs: 1000, nativeRelay: false };
const far = (port: number): RemoteMedia => ({ address: FAR, port, rtcpPort: port + 1, rtcpMux: false, direction: 'sendrecv', dtmfPayloadTypes: [101] });

type Audio = Extract<MediaEvent, { ev: 'audio' }>;

function setup() {
  const net = new FakeUdpNetwork();
  const clock = new ManualTimers(WALL0);
  const events: MediaEvent[] = [];
  const core = new MediaCore(options, { sockets: net.sockets, clock, timers: clock, random: stepRandom() }, (e) => events.push(e));
  const run = async (cmd: MediaCommand): Promise<MediaReply> => core.handle(cmd);
  const members = new Map<string, { port: number; farPort: number; ssrc: number; k: number }>();
  let farPort = 40000;
  const add = async (id: string, inMeeting = true): Promise<void> => {
    const fp = (farPort += 2);
    const o = await run({ op: 'open', session: 'm', endpoint: id, kind: 'audio', clockRateHz: 8000, codec: 'PCMU', functions: true, remote: far(fp) });
    if (!o.ok || o.port === undefined) throw new Error('not opened');
    members.set(id, { port: o.port, farPort: fp, ssrc: 0x1000 + members.size, k: 0 });
    expect(await run({ op: 'attach', session: 'm', endpoint: id, function: { fn: 'participant', codec: 'PCMU', payloadType: 0 } })).toEqual({ ok: true });
    if (inMeeting) expect(await run({ op: 'participant', session: 'm', endpoint: id, inMeeting: true })).toEqual({ ok: true });
  };
  /** `frames` ticks; before each, every member in `talking` sends its next tone frame. */
  const talk = (frames: number, talking: Record<string, number> = {}): void => {
    for (let f = 0; f < frames; f++) {
      for (const [id, hz] of Object.entries(talking)) {
        const m = members.get(id);
        if (m === undefined) throw new Error(`no member ${id}`);
        net.deliver(m.port, toneFrame(hz, m.k++, m.ssrc), FAR, m.farPort);
      }
      clock.advance(20);
    }
  };
  const audio = (): Audio[] => events.filter((e): e is Audio => e.ev === 'audio');
  return { core, clock, events, run, add, talk, audio };
}

const level = (samples: ArrayLike<number>, hz: number): number => goertzel(samples, hz, 8000);
const peak = (samples: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < samples.length; i++) m = Math.max(m, Math.abs(samples[i] ?? 0));
  return m;
};
const concat = (frags: readonly Audio[]): Int16Array => {
  const out = new Int16Array(frags.reduce((n, f) => n + f.pcm.length, 0));
  let at = 0;
  for (const f of frags) {
    out.set(f.pcm, at);
    at += f.pcm.length;
  }
  return out;
};

describe('the meeting recording tap in the worker', () => {
  it("records the shared mix: both talkers' tones, silence while nobody talks, contiguous timecodes; stop sends the rest and stops", async () => {
    const { run, add, talk, audio } = setup();
    await add('a');
    await add('b');
    expect(await run({ op: 'record', session: 'm', fragmentMs: 100 })).toEqual({ ok: true });
    talk(50, { a: 1000, b: 600 }); // 1 s: ten fragments
    const talking = audio();
    expect(talking).toHaveLength(10);
    expect(talking.every((e) => e.session === 'm' && e.endpoint === MIX_ENDPOINT && e.pcm.length === 800)).toBe(true);
    const mixed = concat(talking.slice(2));
    expect(level(mixed, 1000)).toBeGreaterThan(3000);
    expect(level(mixed, 600)).toBeGreaterThan(3000);
    expect(level(mixed, 1400)).toBeLessThan(150);
    // Nobody talks (both still in the meeting, sending nothing): silence keeps the timeline.
    talk(30);
    const quiet = audio().slice(talking.length);
    expect(quiet).toHaveLength(6);
    // The jitter buffers conceal a few frames first; after them, digital silence.
    expect(peak(concat(quiet.slice(2)))).toBe(0);
    // Stop between fragments: the two ticks since the last fragment go up before the reply.
    talk(2, { a: 1000 });
    const before = audio().length;
    expect(await run({ op: 'record', session: 'm', fragmentMs: 0 })).toEqual({ ok: true });
    const all = audio();
    expect(all).toHaveLength(before + 1);
    expect(all.at(-1)?.pcm.length).toBe(320);
    for (let i = 0; i < all.length; i++) expect(all[i]?.timecodeMs).toBe(WALL0 + 20 + 100 * i);
    talk(20, { a: 1000, b: 600 });
    expect(audio()).toHaveLength(all.length);
  });

  it('keeps recording (silence) with nobody in the mix, and the room stops ticking once recording stops', async () => {
    const { core, run, add, talk, audio, clock } = setup();
    await add('a', false);
    expect(await run({ op: 'record', session: 'm', fragmentMs: 200 })).toEqual({ ok: true });
    talk(30, { a: 1000 }); // a is outside the mix: not recorded
    expect(audio()).toHaveLength(3);
    expect(audio().every((e) => peak(e.pcm) === 0)).toBe(true);
    expect(core.status().bridges).toBe(0);
    const timers = clock.pendingCount;
    expect(await run({ op: 'record', session: 'm', fragmentMs: 0 })).toEqual({ ok: true });
    expect(clock.pendingCount).toBe(timers - 1);
    expect(audio().map((e) => e.timecodeMs - WALL0)).toEqual([20, 220, 420]);
  });

  it('a new fragment length starts a new recording; the same one changes nothing; the session ending stops it', async () => {
    const { core, run, add, talk, audio } = setup();
    await add('a');
    expect(await run({ op: 'record', session: 'm', fragmentMs: 100 })).toEqual({ ok: true });
    talk(3);
    expect(await run({ op: 'record', session: 'm', fragmentMs: 100 })).toEqual({ ok: true });
    talk(2);
    expect(audio()).toHaveLength(1);
    expect(await run({ op: 'record', session: 'm', fragmentMs: 40 })).toEqual({ ok: true });
    talk(4);
    expect(audio().map((e) => [e.timecodeMs - WALL0, e.pcm.length])).toEqual([
      [20, 800],
      [120, 320],
      [160, 320],
    ]);
    core.delete('m');
    expect(audio()).toHaveLength(3);
    talk(5);
    expect(audio()).toHaveLength(3);
  });

  it('refuses a bad fragment length and a session without a bridge', async () => {
    const { run, add } = setup();
    expect(await run({ op: 'record', session: 'm', fragmentMs: 100 })).toEqual({ ok: false, error: 'no-such-session' });
    expect(await run({ op: 'open', session: 'n', endpoint: '0a', kind: 'audio', clockRateHz: 8000, functions: true })).toMatchObject({ ok: true });
    expect(await run({ op: 'record', session: 'n', fragmentMs: 100 })).toEqual({ ok: false, error: 'not-a-participant' });
    expect(await run({ op: 'record', session: 'n', fragmentMs: 0 })).toEqual({ ok: true });
    await add('a');
    for (const ms of [30, -20, 10_020, 1.5, Number.NaN]) expect(await run({ op: 'record', session: 'm', fragmentMs: ms }), String(ms)).toEqual({ ok: false, error: 'bad-fragment' });
    expect(validMixFragmentMs(10_000)).toBe(true);
  });
});

describe('MixRecorder', () => {
  it('saturates the sums, downsamples to 8 kHz, and times fragments from the first tick', () => {
    const got: [number, Int16Array][] = [];
    const r = new MixRecorder(40, (t, pcm) => got.push([t, pcm]));
    const mix = new Int32Array(320);
    for (let i = 0; i < 320; i++) mix[i] = Math.round(90_000 * Math.sin((2 * Math.PI * 500 * i) / 16000));
    r.push(mix, 5000);
    r.push(mix, 9999);
    r.push(mix, 0);
    r.close();
    r.push(mix, 0);
    expect(got.map(([t, p]) => [t, p.length])).toEqual([
      [5000, 320],
      [5040, 160],
    ]);
    const pcm = got[0]?.[1] ?? new Int16Array(0);
    expect(peak(pcm)).toBeGreaterThan(30_000);
    // Clipped, not wrapped: the tone is still there, at about full scale.
    expect(level(pcm, 500)).toBeGreaterThan(30_000);
    expect(() => new MixRecorder(25, () => undefined)).toThrow(RangeError);
  });
});
