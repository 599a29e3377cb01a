import { afterEach, describe, expect, it } from 'vitest';
import { nodeSockets } from '../../../common/sockets.ts';
import type { Random } from '../../../common/random.ts';
import { ALAW_TO_LINEAR, LINEAR_TO_ALAW, LINEAR_TO_ULAW, ULAW_TO_LINEAR } from '../../../media/codecs/g711.ts';
import { MediaCore } from '../../../media/media-core.ts';
import type { MediaCoreDeps } from '../../../media/media-core.ts';
import { loadAllPromptSets } from '../../../media/prompts/prompts.ts';
import type { EndpointSnapshot, MediaCommand, MediaEvent, MediaReply, MediaWorkerOptions, PromptItem, RemoteMedia } from '../../../media/protocol.ts';
import { BRIDGE_TICK_LAG_BUCKETS_MS } from '../../../media/protocol.ts';
import { writeRtpHeader } from '../../../media/rtp/rtp-header.ts';
import { FakeUdpNetwork } from '../../support/fake-udp.ts';
import { goertzel } from '../../support/goertzel.ts';
import { ManualTimers } from '../../support/manual-timers.ts';
import { dtmfPacket, RtpPeer, until } from '../../support/rtp-peer.ts';

/**
 * Meetings in the worker (media-core + mixer/meeting-room): participants on their endpoints, the
 * bridge ticking on a manual clock, prompts and announcements, the participant's own RTP and RTCP,
 * refusals and cleanup. The three-tone meeting runs on real loopback UDP; the rest on the
 * in-memory network, where every datagram sent is recorded.
 */
const FAR = '192.0.2.1';
const PROMPTS = loadAllPromptSets();
const JOIN = PROMPTS.get('en-US')?.tone('join');
if (JOIN === undefined) throw new Error('no join tone');
const JOIN_FRAMES = JOIN.frameCount;

interface Rtp {
  readonly seq: number;
  readonly ts: number;
  readonly ssrc: number;
  readonly pt: number;
  readonly marker: boolean;
  readonly payload: Buffer;
}

function parseRtp(b: Buffer): Rtp {
  return { seq: b.readUInt16BE(2), ts: b.readUInt32BE(4), ssrc: b.readUInt32BE(8), pt: (b[1] as number) & 0x7f, marker: ((b[1] as number) & 0x80) !== 0, payload: b.subarray(12) };
}

function decode(packets: readonly Rtp[]): number[] {
  const out: number[] = [];
  for (const p of packets) {
    const table = p.pt === 8 ? ALAW_TO_LINEAR : ULAW_TO_LINEAR;
    for (const byte of p.payload) out.push(table[byte] ?? 0);
  }
  return out;
}

/** Frame `k` (20 ms at 8 kHz) of a sine tone, as an RTP packet in PCMU (pt 0) or PCMA (pt 8). */
function toneFrame(hz: number, k: number, pt: number, ssrc: number, amplitude = 6000): Buffer {
  const b = Buffer.alloc(172);
  writeRtpHeader({ marker: k === 0, payloadType: pt, sequence: (1000 + k) & 0xffff, timestamp: (5000 + k * 160) >>> 0, ssrc }, b);
  const enc = pt === 8 ? LINEAR_TO_ALAW : LINEAR_TO_ULAW;
  for (let i = 0; i < 160; i++) b[12 + i] = enc[Math.round(amplitude * Math.sin((2 * Math.PI * hz * (k * 160 + i)) / 8000)) + 32768] ?? 0;
  return b;
}

/** A varying deterministic random source (initial sequence numbers, timestamps, RTCP times). */
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

function options(low: number, over: Partial<MediaWorkerOptions> = {}): MediaWorkerOptions {
  return { bindAddress: '127.0.0.1', low, high: low + 19, strict: false, mediaTimeoutMs: 0, rtcpIntervalMs: 60_000, cname: 'carillon@test', releaseDelayMs: 1000, nativeRelay: false, ...over };
}

const far = (port: number): RemoteMedia => ({ address: FAR, port, rtcpPort: port + 1, rtcpMux: false, direction: 'sendrecv', dtmfPayloadTypes: [101] });

interface Member {
  readonly id: string;
  /** Carillon's RTP port for it. */
  readonly port: number;
  /** Its far end's RTP port. */
  readonly farPort: number;
  readonly pt: number;
  readonly ssrc: number;
  /** Next tone frame index. */
  k: number;
}

/** A MediaCore on the in-memory network with a manual clock; meeting session `m`. */
function setup(over: Partial<MediaWorkerOptions> = {}, deps: Partial<MediaCoreDeps> = {}) {
  const net = new FakeUdpNetwork();
  const clock = new ManualTimers();
  const events: MediaEvent[] = [];
  const core = new MediaCore(options(21000, over), { sockets: net.sockets, clock, timers: clock, random: stepRandom(), ...deps }, (e) => events.push(e));
  const run = async (cmd: MediaCommand): Promise<MediaReply> => core.handle(cmd);
  let farPort = 40000;
  const members = new Map<string, Member>();
  /** Opens an endpoint in session `m` and attaches a participant to it. */
  const add = async (id: string, codec = 'PCMU', pt = 0, capacity?: number): Promise<MediaReply> => {
    const fp = (farPort += 2);
    const o = await run({ op: 'open', session: 'm', endpoint: id, kind: 'audio', clockRateHz: 8000, codec, functions: true, remote: far(fp) });
    if (!o.ok || o.port === undefined) throw new Error('not opened');
    members.set(id, { id, port: o.port, farPort: fp, pt, ssrc: 0x1000 + members.size, k: 0 });
    return run({ op: 'attach', session: 'm', endpoint: id, function: { fn: 'participant', codec, payloadType: pt, ...(capacity === undefined ? {} : { capacity }) } });
  };
  const member = (id: string): Member => {
    const m = members.get(id);
    if (m === undefined) throw new Error(`no member ${id}`);
    return m;
  };
  /** What Carillon sent a member's far end (RTP only). */
  const heard = (id: string): Rtp[] => {
    const m = member(id);
    return net.sent.filter((d) => d.toPort === m.farPort && d.fromPort === m.port).map((d) => parseRtp(d.bytes));
  };
  /** `frames` ticks; before each, every member in `talking` sends its next tone frame. */
  const talk = (frames: number, talking: Record<string, number> = {}): void => {
    for (let f = 0; f < frames; f++) {
      for (const [id, hz] of Object.entries(talking)) {
        const m = member(id);
        net.deliver(m.port, toneFrame(hz, m.k++, m.pt, m.ssrc), FAR, m.farPort);
      }
      clock.advance(20);
    }
  };
  const snapshotOf = async (id: string): Promise<EndpointSnapshot | undefined> => {
    const q = await run({ op: 'query', session: 'm' });
    return q.ok ? q.snapshot?.endpoints.find((e) => e.id === id) : undefined;
  };
  const inMeeting = (endpoint: string, state: { inMeeting?: boolean; muted?: boolean } = { inMeeting: true }): Promise<MediaReply> => run({ op: 'participant', session: 'm', endpoint, ...state });
  const play = (endpoint: string | undefined, items: PromptItem[], token: number, loop = false): Promise<MediaReply> =>
    run({ op: 'play', session: 'm', ...(endpoint === undefined ? {} : { endpoint }), items, token, ...(loop ? { loop } : {}) });
  return { net, clock, core, events, run, add, member, heard, talk, snapshotOf, inMeeting, play };
}

/** Amplitude of `hz` in the samples. */
const level = (samples: readonly number[], hz: number): number => goertzel(samples, hz, 8000);

const tone: PromptItem = { kind: 'tone', name: 'join' };

describe('a meeting on real loopback UDP', () => {
  const closers: (() => void)[] = [];
  afterEach(() => {
    for (const c of closers.splice(0)) c();
  });

  it('three participants (PCMU, PCMA, PCMU) each hear the other two tones and not their own', async () => {
    const clock = new ManualTimers();
    const events: MediaEvent[] = [];
    const low = 52000 + 2 * Math.floor(Math.random() * 2000);
    const core = new MediaCore(options(low), { sockets: nodeSockets, clock, timers: clock, random: stepRandom() }, (e) => events.push(e));
    closers.push(() => core.close());
    const plan = [
      { id: 'p1', hz: 1000, codec: 'PCMU', pt: 0 },
      { id: 'p2', hz: 600, codec: 'PCMA', pt: 8 },
      { id: 'p3', hz: 1400, codec: 'PCMU', pt: 0 },
    ] as const;
    const peers: RtpPeer[] = [];
    for (const p of plan) {
      const peer = await RtpPeer.open();
      closers.push(() => peer.close());
      peers.push(peer);
      const o = await core.handle({ op: 'open', session: 'm', endpoint: p.id, kind: 'audio', clockRateHz: 8000, codec: p.codec, functions: true, remote: { address: '127.0.0.1', port: peer.rtpPort, rtcpPort: peer.rtpPort + 1, rtcpMux: false, direction: 'sendrecv', dtmfPayloadTypes: [101] } });
      if (!o.ok || o.port === undefined) throw new Error('not opened');
      peer.sendTo('127.0.0.1', o.port);
      expect(await core.handle({ op: 'attach', session: 'm', endpoint: p.id, function: { fn: 'participant', codec: p.codec, payloadType: p.pt } })).toEqual({ ok: true });
      expect(await core.handle({ op: 'participant', session: 'm', endpoint: p.id, inMeeting: true })).toEqual({ ok: true });
    }
    const received = async (): Promise<number[]> => {
      const q = await core.handle({ op: 'query', session: 'm' });
      return q.ok ? (q.snapshot?.endpoints.map((e) => e.rtpPackets) ?? []) : [];
    };
    const FRAMES = 50;
    for (let k = 0; k < FRAMES; k++) {
      plan.forEach((p, i) => peers[i]?.sendRaw(toneFrame(p.hz, k, p.pt, 0x2000 + i)));
      // The datagrams are in the worker's hands before the tick that mixes them.
      const want = k + 1;
      for (let tries = 0; ; tries++) {
        if ((await received()).every((n) => n >= want)) break;
        if (tries > 2000) throw new Error('packets did not arrive');
        await new Promise((r) => setTimeout(r, 1));
      }
      clock.advance(20);
    }
    await until(() => peers.every((p) => p.received.length >= FRAMES));
    plan.forEach((p, i) => {
      const got = (peers[i] as RtpPeer).received.map((r) => parseRtp(r.packet));
      expect(got.every((r) => r.pt === p.pt)).toBe(true);
      const samples = decode(got.slice(10, FRAMES));
      const own = level(samples, p.hz);
      for (const other of plan) {
        if (other === p) continue;
        expect(level(samples, other.hz), `${p.id} hears ${other.id}`).toBeGreaterThan(3000);
      }
      expect(own, `${p.id} does not hear itself`).toBeLessThan(150);
    });
    expect(events.filter((e) => e.ev === 'speaker' && e.talking).map((e) => e.ev === 'speaker' && e.endpoint).sort()).toEqual(['p1', 'p2', 'p3']);
  });
});

describe('meetings in the worker', () => {
  it('mixes only participants in the meeting: one outside hears nothing and is heard by no one until put in; mute takes it out of the mix', async () => {
    const { add, inMeeting, talk, heard, snapshotOf, events } = setup();
    for (const id of ['a', 'b', 'c']) expect(await add(id)).toEqual({ ok: true });
    await inMeeting('a');
    await inMeeting('b');
    talk(30, { a: 1000, b: 600, c: 1400 });
    expect(heard('c')).toEqual([]);
    const aHeard = decode(heard('a').slice(10));
    expect(level(aHeard, 600)).toBeGreaterThan(3000);
    expect(level(aHeard, 1400)).toBeLessThan(150);
    expect((await snapshotOf('c'))?.participant).toMatchObject({ inMeeting: false, talking: false, framesPlayed: 0 });
    expect(await inMeeting('c')).toEqual({ ok: true });
    const before = { a: heard('a').length, c: heard('c').length };
    talk(30, { a: 1000, b: 600, c: 1400 });
    expect(heard('c')).toHaveLength(30);
    const cHeard = decode(heard('c').slice(10));
    expect(level(cHeard, 1000)).toBeGreaterThan(3000);
    expect(level(cHeard, 600)).toBeGreaterThan(3000);
    expect(level(cHeard, 1400)).toBeLessThan(150);
    expect(level(decode(heard('a').slice(before.a + 10)), 1400)).toBeGreaterThan(3000);
    expect((await snapshotOf('c'))?.participant).toMatchObject({ codec: 'PCMU', inMeeting: true, muted: false, talking: true, playing: false });
    // Muted: nobody hears c; c still hears the meeting.
    expect(await inMeeting('c', { muted: true })).toEqual({ ok: true });
    const mutedAt = { a: heard('a').length, c: heard('c').length };
    talk(30, { a: 1000, b: 600, c: 1400 });
    expect(level(decode(heard('a').slice(mutedAt.a + 2)), 1400)).toBeLessThan(150);
    expect(level(decode(heard('c').slice(mutedAt.c + 2)), 1000)).toBeGreaterThan(3000);
    expect(events).toContainEqual({ ev: 'speaker', session: 'm', endpoint: 'c', talking: false });
    const snap = (await snapshotOf('c'))?.participant;
    expect(snap).toMatchObject({ muted: true, talking: false });
    expect(snap?.framesPlayed).toBeGreaterThanOrEqual(55);
    // Out of the meeting again: it hears nothing more.
    await inMeeting('c', { inMeeting: false });
    const out = heard('c').length;
    talk(5, { a: 1000, b: 600 });
    expect(heard('c')).toHaveLength(out);
    // Its jitter-buffer figures stay across stays in the bridge.
    expect((await snapshotOf('c'))?.participant?.framesPlayed).toBe(snap?.framesPlayed);
  });

  it('plays a prompt: its pre-encoded frames arrive, one per tick, then `played` once; nothing after', async () => {
    const { add, play, clock, heard, events } = setup();
    await add('a');
    await add('b', 'PCMA', 8);
    expect(await play('a', [tone], 7)).toEqual({ ok: true });
    expect(await play('b', [tone, { kind: 'pause', ms: 50 }], 8)).toEqual({ ok: true });
    clock.advance(20 * (JOIN_FRAMES + 10));
    const a = heard('a');
    expect(a.map((p) => p.payload.toString('hex'))).toEqual(JOIN.pcmu.map((f) => Buffer.from(f).toString('hex')));
    // PCMA, then three frames of A-law silence.
    const b = heard('b');
    expect(b).toHaveLength(JOIN_FRAMES + 3);
    expect(b.slice(0, JOIN_FRAMES).map((p) => p.payload.toString('hex'))).toEqual(JOIN.pcma.map((f) => Buffer.from(f).toString('hex')));
    expect(b.slice(JOIN_FRAMES).every((p) => p.payload.every((x) => x === 0xd5) && p.pt === 8)).toBe(true);
    expect(events.filter((e) => e.ev === 'played')).toEqual([
      { ev: 'played', session: 'm', endpoint: 'a', token: 7 },
      { ev: 'played', session: 'm', endpoint: 'b', token: 8 },
    ]);
  });

  it('stop-play and a replacing play do not fire `played`; a loop starts over', async () => {
    const { add, play, run, clock, heard, events } = setup();
    await add('a');
    await play('a', [{ kind: 'speech', language: 'en-US', name: 'welcome' }], 1);
    clock.advance(100);
    // Replaced after 5 frames: the join tone from its first frame.
    await play('a', [tone], 2);
    clock.advance(20 * 3);
    expect(heard('a').slice(5).map((p) => p.payload.toString('hex'))).toEqual(JOIN.pcmu.slice(0, 3).map((f) => Buffer.from(f).toString('hex')));
    expect(await run({ op: 'stop-play', session: 'm', endpoint: 'a' })).toEqual({ ok: true });
    const stoppedAt = heard('a').length;
    clock.advance(1000);
    expect(heard('a')).toHaveLength(stoppedAt);
    expect(events.filter((e) => e.ev === 'played')).toEqual([]);
    // Looping: the tone again and again, never `played`.
    await play('a', [tone], 3, true);
    clock.advance(20 * (2 * JOIN_FRAMES + 2));
    const looped = heard('a').slice(stoppedAt).map((p) => p.payload.toString('hex'));
    const once = JOIN.pcmu.map((f) => Buffer.from(f).toString('hex'));
    expect(looped).toEqual([...once, ...once, ...once.slice(0, 2)]);
    await run({ op: 'stop-play', session: 'm', endpoint: 'a' });
    clock.advance(100);
    expect(events.filter((e) => e.ev === 'played')).toEqual([]);
  });

  it('a prompt to a participant in the meeting replaces the meeting for it only; its own audio is still mixed', async () => {
    const { add, inMeeting, play, talk, heard, events } = setup();
    await add('a');
    await add('b');
    await inMeeting('a');
    await inMeeting('b');
    await play('a', [tone], 5);
    talk(JOIN_FRAMES, { a: 1000, b: 600 });
    expect(heard('a').map((p) => p.payload.toString('hex'))).toEqual(JOIN.pcmu.map((f) => Buffer.from(f).toString('hex')));
    expect(level(decode(heard('b').slice(5)), 1000)).toBeGreaterThan(3000);
    talk(20, { a: 1000, b: 600 });
    expect(events.filter((e) => e.ev === 'played')).toEqual([{ ev: 'played', session: 'm', endpoint: 'a', token: 5 }]);
    expect(level(decode(heard('a').slice(JOIN_FRAMES + 5)), 600)).toBeGreaterThan(3000);
  });

  it('an announcement reaches everyone in the meeting on top of the talkers, then `played` without an endpoint', async () => {
    const { add, inMeeting, play, talk, heard, events } = setup();
    for (const id of ['a', 'b', 'c']) {
      await add(id, id === 'b' ? 'PCMA' : 'PCMU', id === 'b' ? 8 : 0);
      await inMeeting(id);
    }
    // A room with nobody talking: the join tone (660 then 880 Hz) is all there is.
    expect(await play(undefined, [tone], 11)).toEqual({ ok: true });
    talk(JOIN_FRAMES + 2, { a: 1000 });
    for (const id of ['a', 'b', 'c']) {
      const samples = decode(heard(id).slice(0, JOIN_FRAMES));
      expect(level(samples, 660) + level(samples, 880), `${id} hears the announcement`).toBeGreaterThan(1000);
    }
    expect(level(decode(heard('b').slice(0, JOIN_FRAMES)), 1000)).toBeGreaterThan(3000);
    expect(events.filter((e) => e.ev === 'played')).toEqual([{ ev: 'played', session: 'm', endpoint: undefined, token: 11 }]);
    // After it, silence but for the talker.
    const after = decode(heard('c').slice(JOIN_FRAMES + 2));
    expect(level(after, 660) + level(after, 880)).toBeLessThan(100);
  });

  it('refuses a bad prompt, an unknown codec, a full meeting and a command for no participant', async () => {
    const { add, run, play, inMeeting } = setup();
    expect(await add('a', 'PCMU', 0, 2)).toEqual({ ok: true });
    expect(await add('b')).toEqual({ ok: true });
    expect(await add('c')).toEqual({ ok: false, error: 'meeting-full' });
    expect(await add('d', 'G729', 18)).toEqual({ ok: false, error: 'unsupported-codec' });
    expect(await run({ op: 'attach', session: 'm', endpoint: 'd', function: { fn: 'participant', codec: 'PCMU', payloadType: 200 } })).toEqual({ ok: false, error: 'unsupported-codec' });
    for (const items of [
      [{ kind: 'speech', language: 'en-US', name: 'no-such-prompt' }],
      [{ kind: 'tone', name: 'siren' }],
      [{ kind: 'count', language: 'en-US', n: 251 }],
      [{ kind: 'count', language: 'pt-BR', n: 2.5 }],
      [{ kind: 'pause', ms: -1 }],
      [{ kind: 'pause', ms: 0 }],
      [],
    ] as PromptItem[][]) {
      expect(await play('a', items, 1), JSON.stringify(items)).toEqual({ ok: false, error: 'bad-prompt' });
    }
    expect(await play('a', [{ kind: 'count', language: 'pt-BR', n: 250 }], 1)).toEqual({ ok: true });
    // Plain endpoints are not participants.
    await run({ op: 'open', session: 'm', endpoint: 'plain', kind: 'audio', clockRateHz: 8000 });
    expect(await inMeeting('plain')).toEqual({ ok: false, error: 'not-a-participant' });
    expect(await play('plain', [tone], 1)).toEqual({ ok: false, error: 'not-a-participant' });
    expect(await run({ op: 'stop-play', session: 'm', endpoint: 'plain' })).toEqual({ ok: false, error: 'not-a-participant' });
    expect(await inMeeting('nobody')).toEqual({ ok: false, error: 'no-such-endpoint' });
    expect(await run({ op: 'participant', session: 'other', endpoint: 'a', inMeeting: true })).toEqual({ ok: false, error: 'no-such-session' });
    // A session with no participant has no room to announce in.
    await run({ op: 'open', session: 'call', endpoint: 'x', kind: 'audio', clockRateHz: 8000 });
    expect(await run({ op: 'play', session: 'call', items: [tone], token: 1 })).toEqual({ ok: false, error: 'not-a-participant' });
  });

  it('answers bad-prompt when the prompt files cannot be loaded', async () => {
    const { add, play } = setup({}, {
      loadPrompts: () => {
        throw new Error('missing');
      },
    });
    await add('a');
    expect(await play('a', [tone], 1)).toEqual({ ok: false, error: 'bad-prompt' });
  });

  it('garbage, oversized and DTMF packets from one participant are not mixed and disturb nobody', async () => {
    const { add, inMeeting, talk, heard, net, member, snapshotOf, events, core } = setup();
    for (const id of ['a', 'b', 'c']) {
      await add(id);
      await inMeeting(id);
    }
    const a = member('a');
    const junk = (): void => {
      net.deliver(a.port, Buffer.from([1, 2, 3]), FAR, a.farPort);
      net.deliver(a.port, Buffer.alloc(200, 0x00), FAR, a.farPort); // version 0
      const big = Buffer.alloc(12 + 1200, 0x11);
      writeRtpHeader({ marker: false, payloadType: 0, sequence: 7, timestamp: 0, ssrc: 0xa }, big);
      net.deliver(a.port, big, FAR, a.farPort);
      const other = toneFrame(300, 0, 9, 0xa); // G.722's payload type: not what was answered
      net.deliver(a.port, other, FAR, a.farPort);
    };
    for (let i = 0; i < 10; i++) {
      junk();
      net.deliver(a.port, dtmfPacket({ seq: 2000 + i, ts: 9000, ssrc: 0xa, pt: 101, event: 1, end: i >= 7, duration: 160 * (i + 1) }), FAR, a.farPort);
      talk(1, { c: 1400 });
    }
    talk(20, { c: 1400 });
    const bHeard = decode(heard('b').slice(8));
    expect(level(bHeard, 1400)).toBeGreaterThan(3000);
    expect(level(bHeard, 300)).toBeLessThan(100);
    expect(heard('b')).toHaveLength(30);
    expect(heard('c')).toHaveLength(30);
    const snap = await snapshotOf('a');
    expect(snap?.participant?.framesPlayed).toBe(0);
    // The four junk datagrams of each round are dropped; the DTMF is read, and the far end's digit goes up.
    expect(snap?.dropped).toBe(40);
    expect(events.filter((e) => e.ev === 'dtmf')).toEqual([{ ev: 'dtmf', session: 'm', endpoint: 'a', digit: '1', durationMs: 160 }]);
    // Nothing a participant sent that was taken counts as dropped.
    expect((await snapshotOf('c'))?.dropped).toBe(0);
    expect(core.status().packetsDropped).toBe(40);
  });

  it('keeps the RTP sequence and timestamp continuous across prompt → meeting → prompt, with the marker after a gap', async () => {
    const { add, inMeeting, play, talk, heard, clock } = setup();
    await add('a');
    await add('b');
    await inMeeting('a');
    await inMeeting('b');
    await play('a', [tone], 1);
    talk(JOIN_FRAMES + 1 + 10, { b: 600 });
    await play('a', [tone], 2);
    talk(JOIN_FRAMES + 1, { b: 600 });
    const got = heard('a');
    expect(got).toHaveLength(2 * JOIN_FRAMES + 12);
    const check = (packets: Rtp[]): void => {
      for (let i = 1; i < packets.length; i++) {
        const p = packets[i] as Rtp;
        const q = packets[i - 1] as Rtp;
        expect(p.seq).toBe((q.seq + 1) & 0xffff);
        expect(p.ts).toBe((q.ts + 160) >>> 0);
        expect(p.marker).toBe(false);
        expect(p.ssrc).toBe(q.ssrc);
      }
    };
    expect(got[0]?.marker).toBe(true);
    check(got);
    // The prompt, then the meeting, then the prompt again, then the meeting: one continuous stream.
    expect(got.slice(0, JOIN_FRAMES).map((p) => p.payload.toString('hex'))).toEqual(JOIN.pcmu.map((f) => Buffer.from(f).toString('hex')));
    expect(level(decode(got.slice(JOIN_FRAMES, JOIN_FRAMES + 11)), 600)).toBeGreaterThan(2000);
    // Out of the meeting with nothing playing: a gap of ten ticks, then a prompt.
    await inMeeting('a', { inMeeting: false });
    talk(10, { b: 600 });
    await play('a', [tone], 3);
    clock.advance(40);
    const after = heard('a').slice(got.length);
    const last = got[got.length - 1] as Rtp;
    expect(after[0]?.marker).toBe(true);
    expect(after[0]?.seq).toBe((last.seq + 1) & 0xffff);
    expect(after[0]?.ts).toBe((last.ts + 11 * 160) >>> 0);
    check(after);
  });

  it('after a stall whose ticks were skipped, the timestamps follow the time again (marker bit on the first packet after it)', async () => {
    const { add, inMeeting, talk, heard, clock } = setup();
    await add('a');
    await add('b');
    await inMeeting('a');
    await inMeeting('b');
    talk(10, { b: 600 });
    const before = heard('a');
    const lastBefore = before[before.length - 1] as Rtp;
    // The worker's loop is blocked for 400 ms: the tick catches up a few deadlines and skips the rest.
    clock.jump(400);
    talk(1, { b: 600 });
    talk(5, { b: 600 });
    const after = heard('a').slice(before.length);
    const lastAfter = after[after.length - 1] as Rtp;
    // 400 + 6·20 ms went by: that many frames of timestamp, whatever was skipped.
    expect(((lastAfter.ts - lastBefore.ts) >>> 0) / 160).toBe((400 + 6 * 20) / 20);
    expect(after.some((p) => p.marker)).toBe(true);
    for (let i = 1; i < after.length; i++) expect(((after[i] as Rtp).seq - (after[i - 1] as Rtp).seq) & 0xffff).toBe(1);
  });

  it("sends a participant Carillon's own SR about the stream it hears: its SSRC, counts and timestamp", async () => {
    const { add, inMeeting, talk, heard, net, member, clock, snapshotOf } = setup({ rtcpIntervalMs: 1000 });
    await add('a');
    await add('b');
    await inMeeting('a');
    await inMeeting('b');
    talk(150, { a: 1000, b: 600 });
    const a = member('a');
    const rtcp = net.sent.filter((d) => d.toPort === a.farPort + 1);
    expect(rtcp.length).toBeGreaterThan(0);
    const sr = rtcp[rtcp.length - 1]?.bytes as Buffer;
    expect(sr[1]).toBe(200);
    const rtp = heard('a');
    const ssrc = (rtp[0] as Rtp).ssrc;
    expect(sr.readUInt32BE(4)).toBe(ssrc);
    // Sender info: the packets and octets sent until then, and that instant's RTP timestamp.
    const packets = sr.readUInt32BE(20);
    expect(packets).toBeGreaterThan(0);
    expect(sr.readUInt32BE(24)).toBe(160 * packets);
    // Packet n went out at the tick of 20·n ms; the SR's instant (its NTP time, on the manual clock) is ahead of the last by whole ms.
    const lastBefore = rtp[packets - 1] as Rtp;
    const srMonoMs = Math.round((sr.readUInt32BE(8) - 2_208_988_800) * 1000 + (sr.readUInt32BE(12) / 0x1_0000_0000) * 1000 - 1_700_000_000_000);
    expect(srMonoMs - 20 * packets).toBeGreaterThanOrEqual(0);
    expect(srMonoMs - 20 * packets).toBeLessThanOrEqual(20);
    expect(sr.readUInt32BE(16)).toBe((lastBefore.ts + 8 * (srMonoMs - 20 * packets)) >>> 0);
    // A report block about what a sends Carillon.
    expect((sr[0] as number) & 0x1f).toBe(1);
    expect(sr.readUInt32BE(28)).toBe(a.ssrc);
    // The far end's RR about that SSRC is its report on what Carillon sends it, and answers the SR (RTT).
    clock.advance(7);
    const rr = Buffer.alloc(32);
    rr[0] = 0x81;
    rr[1] = 201;
    rr.writeUInt16BE(7, 2);
    rr.writeUInt32BE(a.ssrc, 4);
    rr.writeUInt32BE(ssrc, 8);
    rr.writeUInt32BE((64 << 24) | 3, 12); // fraction lost 64/256, 3 lost
    rr.writeUInt32BE(1000, 16);
    rr.writeUInt32BE(80, 20); // jitter, RTP units
    rr.writeUInt32BE(((sr.readUInt32BE(8) & 0xffff) << 16) | (sr.readUInt32BE(12) >>> 16), 24);
    net.deliver(a.port + 1, rr, FAR, a.farPort + 1);
    const snap = await snapshotOf('a');
    expect(snap).toMatchObject({ reportedLost: 3, reportedFractionLost: 64, reportedJitterUs: 10_000 });
    expect(snap?.rttUs).toBe((clock.monoMs() - srMonoMs) * 1000);
  });

  it('counts bridges, their participants and tick lags in the status; its packets are not relayed ones', async () => {
    const { add, inMeeting, talk, core, run } = setup();
    await add('a');
    await add('b');
    await add('c');
    expect(core.status()).toMatchObject({ bridges: 0, bridgeParticipants: 0, bridgeTickLagSumMs: 0 });
    await inMeeting('a');
    await inMeeting('b');
    talk(25, { a: 1000 });
    const st = core.status();
    expect(st).toMatchObject({ bridges: 1, bridgeParticipants: 2, packetsRelayed: 0, bytesRelayed: 0, packetsDropped: 0 });
    expect(st.bridgeTickLag).toHaveLength(BRIDGE_TICK_LAG_BUCKETS_MS.length + 1);
    // The manual clock fires every tick on time: all in the first bucket.
    expect(st.bridgeTickLag[0]).toBe(25);
    expect(st.bridgeTickLag.slice(1).every((n) => n === 0)).toBe(true);
    expect(st.bridgeTickUs).toBeGreaterThanOrEqual(0);
    // Closing an endpoint answers its participant figures and takes it out of the bridge.
    const closed = await run({ op: 'close-endpoint', session: 'm', endpoint: 'a' });
    expect(closed.ok && closed.endpoint?.participant).toMatchObject({ codec: 'PCMU', inMeeting: true });
    expect(closed.ok && closed.endpoint?.sentRtpPackets).toBe(25);
    expect(core.status()).toMatchObject({ bridges: 1, bridgeParticipants: 1, packetsRelayed: 0 });
  });

  it('stops ticking when nobody is mixed or played to, and a delete leaves no timer behind', async () => {
    const { add, inMeeting, play, talk, clock, run, core } = setup();
    const idle = clock.pendingCount; // the worker's own housekeeping tick
    await add('a');
    await add('b');
    expect(clock.pendingCount).toBe(idle);
    await play('a', [tone], 1);
    expect(clock.pendingCount).toBe(idle + 1);
    talk(JOIN_FRAMES + 1);
    expect(clock.pendingCount).toBe(idle);
    await inMeeting('a');
    await inMeeting('b');
    await play('b', [tone], 2, true);
    await play(undefined, [tone], 3);
    talk(5, { a: 1000 });
    expect(clock.pendingCount).toBe(idle + 1);
    const del = await run({ op: 'delete', session: 'm' });
    expect(del.ok && del.snapshot?.endpoints.map((e) => e.participant?.inMeeting)).toEqual([true, true]);
    // The ports' release delay, then nothing but the housekeeping tick.
    expect(clock.pendingCount).toBe(idle + 1);
    clock.advance(1000);
    expect(clock.pendingCount).toBe(idle);
    expect(core.status()).toMatchObject({ sessions: 0, bridges: 0, bridgeParticipants: 0, portPairsInUse: 0 });
    core.close();
    expect(clock.pendingCount).toBe(0);
  });

  it('closes a meeting at worker shutdown without a timer left', async () => {
    const { add, inMeeting, clock, core } = setup();
    await add('a');
    await inMeeting('a');
    core.close();
    expect(clock.pendingCount).toBe(0);
  });
});
