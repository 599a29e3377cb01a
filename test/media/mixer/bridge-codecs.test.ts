import { describe, expect, it } from 'vitest';
import { LINEAR_TO_ULAW, ULAW_TO_LINEAR } from '../../../media/codecs/g711.ts';
import { G722Decoder, G722Encoder } from '../../../media/codecs/g722.ts';
import { OPUS_MAX_PAYLOAD_BYTES, OpusFrameDecoder, OpusFrameEncoder } from '../../../media/codecs/opus.ts';
import { Bridge } from '../../../media/mixer/bridge.ts';
import { goertzel } from '../../support/goertzel.ts';

// A meeting of participants on different codecs. Each sender encodes its own tone in its codec as
// a real endpoint would, and each receiver decodes what the bridge hands it with its own codec.

type Codec = 'PCMU' | 'G722' | 'OPUS';

interface Sender {
  /** Next payload of the tone, frame `frame`; answers its length. */
  encode(frame: number, out: Uint8Array): number;
}

interface Receiver {
  readonly rate: number;
  /** Decodes one payload the bridge handed out; answers the samples. */
  decode(payload: Uint8Array, length: number): Int16Array;
}

function sender(codec: Codec, hz: number, amplitude: number): Sender {
  if (codec === 'PCMU') {
    return {
      encode: (frame, out) => {
        for (let i = 0; i < 160; i++) out[i] = LINEAR_TO_ULAW[Math.round(amplitude * Math.sin((2 * Math.PI * hz * (frame * 160 + i)) / 8000)) + 32768] ?? 0;
        return 160;
      },
    };
  }
  const pcm = new Int16Array(320);
  const fill = (frame: number): Int16Array => {
    for (let i = 0; i < 320; i++) pcm[i] = Math.round(amplitude * Math.sin((2 * Math.PI * hz * (frame * 320 + i)) / 16000));
    return pcm;
  };
  if (codec === 'G722') {
    const enc = new G722Encoder();
    return { encode: (frame, out) => enc.encode(fill(frame), out) };
  }
  const enc = new OpusFrameEncoder();
  return { encode: (frame, out) => enc.encode(fill(frame), out) };
}

function receiver(codec: Codec): Receiver {
  if (codec === 'PCMU') {
    return { rate: 8000, decode: (p, n) => Int16Array.from(p.subarray(0, n), (b) => ULAW_TO_LINEAR[b] ?? 0) };
  }
  if (codec === 'G722') {
    const dec = new G722Decoder();
    return {
      rate: 16000,
      decode: (p, n) => {
        const out = new Int16Array(2 * n);
        dec.decode(p, n, out);
        return out;
      },
    };
  }
  const dec = new OpusFrameDecoder();
  return {
    rate: 16000,
    decode: (p, n) => {
      const out = new Int16Array(320);
      dec.decode(p, n, out);
      return out;
    },
  };
}

const TIMESTAMP_PER_FRAME: Record<Codec, number> = { PCMU: 160, G722: 160, OPUS: 960 };

interface Peer {
  readonly id: string;
  readonly codec: Codec;
  readonly hz: number;
  readonly send: Sender;
  readonly hear: Receiver;
  /** What it heard, one decoded frame per tick. */
  readonly frames: Int16Array[];
  seq: number;
}

function peer(id: string, codec: Codec, hz: number, amplitude = 6000): Peer {
  return { id, codec, hz, send: sender(codec, hz, amplitude), hear: receiver(codec), frames: [], seq: 65500 };
}

interface RunOptions {
  readonly ticks: number;
  readonly talkers?: number;
  /** The payload a peer sends this tick instead of its tone: a byte array, or 'drop' to send nothing. */
  readonly override?: (p: Peer, tick: number) => Uint8Array | 'drop' | undefined;
}

interface Run {
  readonly bridge: Bridge;
  /** Per tick, the payload buffers handed out as shared, by receiver id. */
  readonly shared: Map<string, Uint8Array>[];
  /** Per tick, how many frames the bridge concealed. */
  readonly concealed: number[];
}

function meeting(peers: Peer[], options: RunOptions): Run {
  const byId = new Map(peers.map((p) => [p.id, p]));
  const shared: Map<string, Uint8Array>[] = [];
  const concealed: number[] = [];
  let tick = 0;
  const bridge = new Bridge({
    talkers: options.talkers ?? 3,
    onFrame: (id, payload, length, isShared) => {
      const p = byId.get(id);
      if (p === undefined) throw new Error(`frame for ${id}`);
      p.frames[tick] = p.hear.decode(payload, length);
      if (isShared) (shared[tick] ??= new Map()).set(id, payload);
    },
  });
  for (const p of peers) expect(bridge.join(p.id, p.codec)).toBe('joined');
  const buf = new Uint8Array(OPUS_MAX_PAYLOAD_BYTES);
  for (tick = 0; tick < options.ticks; tick++) {
    for (const p of peers) {
      p.seq = (p.seq + 1) & 0xffff;
      const ts = (tick * TIMESTAMP_PER_FRAME[p.codec]) >>> 0;
      const len = p.send.encode(tick, buf); // encoders advance every tick, sent or not
      const o = options.override?.(p, tick);
      if (o === 'drop') continue;
      if (o !== undefined) bridge.push(p.id, p.seq, ts, 4242, o, o.length, tick * 20);
      else bridge.push(p.id, p.seq, ts, 4242, buf, len, tick * 20);
    }
    const before = bridge.stats.concealed;
    bridge.tick();
    concealed.push(bridge.stats.concealed - before);
  }
  return { bridge, shared, concealed };
}

/** The last `ms` of what a peer heard. */
function lastHeard(p: Peer, ms: number): Int16Array {
  const frames = p.frames.slice(-ms / 20);
  const out = new Int16Array(frames.reduce((n, f) => n + f.length, 0));
  let o = 0;
  for (const f of frames) {
    out.set(f, o);
    o += f.length;
  }
  return out;
}

const level = (p: Peer, hz: number, ms = 400): number => goertzel(lastHeard(p, ms), hz, p.hear.rate);
const frameLevel = (p: Peer, tick: number, hz: number): number => goertzel(p.frames[tick] ?? new Int16Array(0), hz, p.hear.rate);

function get<T>(list: readonly T[], i: number): T {
  const v = list[i];
  if (v === undefined) throw new Error(`no element ${i}`);
  return v;
}

describe('Bridge with PCMU, G.722 and Opus participants', () => {
  it('a PCMU, a G722 and an OPUS talker (1000, 600, 1400 Hz): each hears the other two and not itself', () => {
    const peers = [peer('pcmu', 'PCMU', 1000), peer('g722', 'G722', 600), peer('opus', 'OPUS', 1400)];
    const { bridge } = meeting(peers, { ticks: 60 });
    for (const me of peers) {
      expect(bridge.isTalking(me.id), `${me.id} talks`).toBe(true);
      for (const other of peers) {
        if (other === me) expect(level(me, other.hz), `${me.id} hears itself`).toBeLessThan(100);
        else expect(level(me, other.hz), `${me.id} hears ${other.id}`).toBeGreaterThan(4000);
      }
    }
  });

  it('non-talkers share one encoded payload per codec: two G722 listeners get one buffer, two OPUS listeners another', () => {
    const talkers = [peer('pcmu', 'PCMU', 1000), peer('g722', 'G722', 600), peer('opus', 'OPUS', 1400)];
    const listeners = [peer('g1', 'G722', 300, 0), peer('g2', 'G722', 300, 0), peer('o1', 'OPUS', 300, 0), peer('o2', 'OPUS', 300, 0), peer('u1', 'PCMU', 300, 0)];
    const { bridge, shared } = meeting([...talkers, ...listeners], { ticks: 50 });
    for (const t of talkers) expect(bridge.isTalking(t.id)).toBe(true);
    const last = shared[49];
    if (last === undefined) throw new Error('no shared frames in the last tick');
    expect([...last.keys()].sort()).toEqual(['g1', 'g2', 'o1', 'o2', 'u1']);
    expect(last.get('g1')).toBe(last.get('g2'));
    expect(last.get('o1')).toBe(last.get('o2'));
    expect(new Set(last.values()).size).toBe(3);
    for (const l of listeners) {
      for (const t of talkers) expect(level(l, t.hz), `${l.id} hears ${t.id}`).toBeGreaterThan(4000);
    }
  });

  it('a lost frame is concealed in each codec: the tone goes on through the gap', () => {
    const talkers = [peer('pcmu', 'PCMU', 1000), peer('g722', 'G722', 600), peer('opus', 'OPUS', 1400)];
    const ear = peer('ear', 'G722', 300, 0);
    const dropAt: Record<string, number> = { pcmu: 30, g722: 40, opus: 50 };
    const { bridge, concealed } = meeting([...talkers, ear], { ticks: 70, override: (p, t) => (dropAt[p.id] === t ? 'drop' : undefined) });
    // Each drop is concealed twice: at one frame of depth the jitter buffer first finds nothing
    // buffered (it stretches, in case the frame is only late), then skips the missing frame.
    expect(bridge.stats.concealed).toBe(6);
    const ticks = concealed.flatMap((n, t) => (n > 0 ? [t] : []));
    expect(ticks).toEqual([30, 31, 40, 41, 50, 51]);
    // Share of the steady level heard in the first and the second concealed frame. G.711 and
    // G.722 conceal by Appendix I pitch repetition: full level for 10 ms, then 20 % less per
    // 10 ms. libopus conceals a pure tone in SILK mode weakly (about a third, then nothing), and
    // SILK takes some 0.5 s to settle on a pure tone again after a loss. Silence in place of the
    // concealment would read below 3 % in the first frame.
    const share: Record<string, readonly [number, number | undefined, number]> = { pcmu: [0.8, 0.4, 0.8], g722: [0.8, 0.4, 0.8], opus: [0.15, undefined, 0.3] };
    talkers.forEach((t, i) => {
      const [first, second, after] = share[t.id] ?? [1, 1, 1];
      const tick = get(ticks, 2 * i);
      const steady = frameLevel(ear, tick - 5, t.hz);
      expect(steady, `${t.id} before the loss`).toBeGreaterThan(4000);
      expect(frameLevel(ear, tick, t.hz), `${t.id} first concealed frame`).toBeGreaterThan(first * steady);
      if (second !== undefined) expect(frameLevel(ear, tick + 1, t.hz), `${t.id} second concealed frame`).toBeGreaterThan(second * steady);
      expect(frameLevel(ear, tick + 3, t.hz), `${t.id} after the loss`).toBeGreaterThan(after * steady);
    });
  });

  it('malformed G722 and OPUS payloads disturb nobody: the others hear the PCMU talker clean', () => {
    const talker = peer('pcmu', 'PCMU', 1000);
    const g = peer('g722', 'G722', 600);
    const o = peer('opus', 'OPUS', 1400);
    const ear = peer('ear', 'G722', 300, 0);
    // Opus packets libopus rejects (RFC 6716 §3.4 R3, R4, R5), and G.722 payloads too short or too long.
    const badOpus = [Uint8Array.of(0x49, 1), Uint8Array.of(0x4a, 250, 1, 2), Uint8Array.of(0x4b, 0x00), Uint8Array.of(0x03)];
    const badG722 = [new Uint8Array(0), Uint8Array.of(0x55), new Uint8Array(4000)];
    const { bridge } = meeting([talker, g, o, ear], {
      ticks: 60,
      // Good audio for the first 10 frames, then garbage only.
      override: (p, t) => (t < 10 ? undefined : p === o ? get(badOpus, t % badOpus.length) : p === g ? get(badG722, t % badG722.length) : undefined),
    });
    expect(bridge.jitterStats('g722')?.refused).toBeGreaterThan(10);
    for (const listener of [ear, g, o]) {
      expect(level(listener, 1000), `${listener.id} hears the PCMU talker`).toBeGreaterThan(4000);
      expect(level(listener, 600), `${listener.id} hears no G722 garbage`).toBeLessThan(100);
      expect(level(listener, 1400), `${listener.id} hears no OPUS garbage`).toBeLessThan(100);
      // Nothing else either: what it hears is the 1 kHz tone and little besides.
      const heard = lastHeard(listener, 400);
      const power = heard.reduce((s, v) => s + v * v, 0) / heard.length;
      const tone = level(listener, 1000);
      expect(power).toBeLessThan(1.1 * (tone * tone) / 2);
    }
  });
});
