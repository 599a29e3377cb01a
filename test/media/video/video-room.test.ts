import { describe, expect, it } from 'vitest';
import type { Random } from '../../../common/random.ts';
import { LINEAR_TO_ULAW } from '../../../media/codecs/g711.ts';
import { MediaCore } from '../../../media/media-core.ts';
import type { MediaEvent, MediaReply, MediaWorkerOptions, RemoteMedia, VideoSnapshot } from '../../../media/protocol.ts';
import { writeRtpHeader } from '../../../media/rtp/rtp-header.ts';
import { FakeUdpNetwork } from '../../support/fake-udp.ts';
import { ManualTimers } from '../../support/manual-timers.ts';

/**
 * The meeting's video switch in the worker (media/video), on an in-memory network with a manual
 * clock: three participants with audio and H.264 video; the picture follows the loudest talker
 * after the hold time, switches only at a key frame it asked for (RTCP PLI), on one SSRC per
 * receiver with the sequence running on; a PLI storm costs the sender one key frame per interval;
 * malformed NAL units are not forwarded; TMMBR is answered with TMMBN.
 */
const LOW = 30000;
const FAR = '192.0.2.9';

interface Member {
  readonly id: string;
  audioPort: number;
  videoPort: number;
  readonly farAudio: number;
  readonly farVideo: number;
  readonly ssrc: number;
  aSeq: number;
  vSeq: number;
  vTs: number;
  /** The far end's encoder owes a key frame (it was sent a PLI). */
  keyOwed: boolean;
}

function setup() {
  const net = new FakeUdpNetwork();
  const clock = new ManualTimers();
  const random: Random = { token: (n) => 'x'.repeat(n), float: () => 0.25 };
  const events: MediaEvent[] = [];
  const opts: MediaWorkerOptions = { bindAddress: '127.0.0.1', low: LOW, high: LOW + 99, strict: false, mediaTimeoutMs: 0, rtcpIntervalMs: 600_000, cname: 'carillon@test', releaseDelayMs: 0, nativeRelay: false };
  const core = new MediaCore(opts, { sockets: net.sockets, clock, timers: clock, random }, (e) => events.push(e));
  const run = async (cmd: Parameters<MediaCore['handle']>[0]): Promise<MediaReply> => core.handle(cmd);
  const members = new Map<string, Member>();
  const far = (port: number): RemoteMedia => ({ address: FAR, port, rtcpPort: port + 1, rtcpMux: false, direction: 'sendrecv', dtmfPayloadTypes: [] });
  const join = async (id: string, keyFrame = { pli: true, fir: false, signaling: false }, h264Level?: number): Promise<Member> => {
    const n = members.size;
    const m: Member = { id, audioPort: 0, videoPort: 0, farAudio: 40000 + 10 * n, farVideo: 40002 + 10 * n, ssrc: 0x100 * (n + 1), aSeq: 0, vSeq: 1000 * (n + 1), vTs: 0, keyOwed: false };
    const a = await run({ op: 'open', session: 'm', endpoint: id, kind: 'audio', clockRateHz: 8000, codec: 'PCMU', functions: true, remote: far(m.farAudio) });
    const v = await run({ op: 'open', session: 'm', endpoint: `${id}.v`, kind: 'video', clockRateHz: 90000, codec: 'H264', functions: true, remote: far(m.farVideo) });
    if (!a.ok || !v.ok || a.port === undefined || v.port === undefined) throw new Error('not opened');
    m.audioPort = a.port;
    m.videoPort = v.port;
    expect(await run({ op: 'attach', session: 'm', endpoint: id, function: { fn: 'participant', codec: 'PCMU', payloadType: 0 } })).toEqual({ ok: true });
    expect(await run({ op: 'attach', session: 'm', endpoint: `${id}.v`, function: { fn: 'video', audioEndpoint: id, codec: 'H264', payloadType: 96, packetizationMode: 1, keyFrame, ...(h264Level === undefined ? {} : { h264Level }) } })).toEqual({ ok: true });
    expect(await run({ op: 'participant', session: 'm', endpoint: id, inMeeting: true })).toEqual({ ok: true });
    members.set(id, m);
    return m;
  };
  const audioFrame = (m: Member, loud: boolean, k: number): void => {
    const b = Buffer.alloc(172);
    writeRtpHeader({ marker: false, payloadType: 0, sequence: m.aSeq++, timestamp: m.aSeq * 160, ssrc: m.ssrc }, b);
    for (let i = 0; i < 160; i++) b[12 + i] = LINEAR_TO_ULAW[Math.round((loud ? 8000 : 0) * Math.sin((2 * Math.PI * 500 * (k * 160 + i)) / 8000)) + 32768] ?? 0;
    net.deliver(m.audioPort, b, FAR, m.farAudio);
  };
  /** One video frame from a member's camera: SPS, PPS, IDR when a key frame is owed, else one P slice. */
  const videoFrame = (m: Member, nals?: Buffer[], lastMarker = true): void => {
    const key = m.keyOwed;
    m.keyOwed = false;
    const units = nals ?? (key ? [Buffer.from([0x67, 0x42, 0xe0, 0x1f]), Buffer.from([0x68, 0xce]), Buffer.from([0x65, 0x88, 0x84])] : [Buffer.from([0x41, 0x9a, 0x02])]);
    units.forEach((nal, i) => {
      const b = Buffer.alloc(12 + nal.length);
      writeRtpHeader({ marker: lastMarker && i === units.length - 1, payloadType: 96, sequence: m.vSeq++ & 0xffff, timestamp: m.vTs >>> 0, ssrc: m.ssrc + 1 }, b);
      nal.copy(b, 12);
      net.deliver(m.videoPort, b, FAR, m.farVideo);
    });
    m.vTs += 3000;
  };
  /** PLIs Carillon sent to a member's camera (RTCP port) since `from` in net.sent. */
  const plisTo = (m: Member, from = 0): number =>
    net.sent.slice(from).filter((d) => d.toPort === m.farVideo + 1 && d.bytes.includes(Buffer.from([0x81, 206, 0, 2]))).length;
  /** Video packets Carillon sent a member: [ssrc, seq, first payload octet]. */
  const videoTo = (m: Member, from = 0): { ssrc: number; seq: number; nal: number; pt: number }[] =>
    net.sent
      .slice(from)
      .filter((d) => d.toPort === m.farVideo && d.fromPort === m.videoPort)
      .map((d) => ({ ssrc: d.bytes.readUInt32BE(8), seq: d.bytes.readUInt16BE(2), nal: d.bytes[12] ?? 0, pt: (d.bytes[1] ?? 0) & 0x7f }));
  /** Runs `ms` of meeting: 20 ms audio ticks (`loud` talks), a video frame from everyone every 100 ms; PLIs make the camera send a key frame next. */
  const live = (ms: number, loud: string | undefined, video = true): void => {
    for (let t = 0; t < ms; t += 20) {
      const sentBefore = net.sent.length;
      for (const m of members.values()) audioFrame(m, m.id === loud, t / 20);
      if (video && t % 100 === 0) for (const m of members.values()) videoFrame(m);
      clock.advance(20);
      for (const m of members.values()) if (plisTo(m, sentBefore) > 0) m.keyOwed = true;
    }
  };
  const video = async (id: string): Promise<VideoSnapshot | undefined> => {
    const q = await run({ op: 'query', session: 'm' });
    return q.ok ? q.snapshot?.endpoints.find((e) => e.id === `${id}.v`)?.video : undefined;
  };
  /** A member's presentation stream: endpoint `<id>.c`, the content role; its far end at farVideo + 4. */
  const content = new Map<string, Member>();
  const joinContent = async (id: string): Promise<Member> => {
    const base = members.get(id);
    if (base === undefined) throw new Error('join first');
    const m: Member = { ...base, videoPort: 0, farVideo: base.farVideo + 4, ssrc: base.ssrc + 0x10, vSeq: 5000, vTs: 0, keyOwed: false };
    const o = await run({ op: 'open', session: 'm', endpoint: `${id}.c`, kind: 'video', clockRateHz: 90000, codec: 'H264', functions: true, remote: far(m.farVideo) });
    if (!o.ok || o.port === undefined) throw new Error('not opened');
    m.videoPort = o.port;
    expect(await run({ op: 'attach', session: 'm', endpoint: `${id}.c`, function: { fn: 'video', role: 'content', audioEndpoint: id, codec: 'H264', payloadType: 96, packetizationMode: 1, keyFrame: { pli: true, fir: false, signaling: false } } })).toEqual({ ok: true });
    content.set(id, m);
    return m;
  };
  /** `ms` of content: a frame from every content stream every 100 ms, PLIs answered with a key frame. */
  let seen = 0;
  const present = (ms: number): void => {
    for (let t = 0; t < ms; t += 100) {
      for (const m of content.values()) if (plisTo(m, seen) > 0) m.keyOwed = true;
      seen = net.sent.length;
      for (const m of content.values()) videoFrame(m);
      clock.advance(100);
    }
  };
  return { net, clock, core, events, run, join, live, plisTo, videoTo, videoFrame, video, members, joinContent, present };
}

describe('meeting video switch', () => {
  it('shows the loudest talker, switching at a key frame it asked for, on one continuous stream per receiver', async () => {
    const t = setup();
    const a = await t.join('a');
    const b = await t.join('b');
    const c = await t.join('c');
    // Nobody talks yet: everyone is shown someone (the first sender), at its first key frame.
    t.live(1000, undefined);
    for (const m of [a, b, c]) expect(t.videoTo(m).length, m.id).toBeGreaterThan(0);
    // a talks: after the hold, b and c are shown a from a key frame on (SPS first).
    t.live(2000, 'a');
    expect((await t.video('b'))?.showing).toBe('a.v');
    expect((await t.video('c'))?.showing).toBe('a.v');
    // c talks: b moves to c; c is shown the previous speaker (a); a is shown c.
    const mark = t.net.sent.length;
    const bBefore = t.videoTo(b);
    t.live(2500, 'c');
    expect((await t.video('b'))?.showing).toBe('c.v');
    expect((await t.video('a'))?.showing).toBe('c.v');
    expect((await t.video('c'))?.showing).toBe('a.v');
    const bAfter = t.videoTo(b, mark);
    const all = [...bBefore, ...bAfter];
    // One SSRC toward b whoever it shows, sequence numbers one up each packet across the switches.
    expect(new Set(all.map((p) => p.ssrc)).size).toBe(1);
    for (let i = 1; i < all.length; i++) expect((all[i] as { seq: number }).seq, `packet ${i}`).toBe(((all[i - 1] as { seq: number }).seq + 1) & 0xffff);
    expect(all.every((p) => p.pt === 96)).toBe(true);
    // b's first packet after the switch to c was c's SPS (a key frame first).
    const firstOfC = t.net.sent.slice(mark).find((d) => d.toPort === b.farVideo && d.bytes[12] === 0x67);
    expect(firstOfC).toBeDefined();
    expect(t.plisTo(c, mark)).toBeGreaterThan(0);
    const vb = await t.video('b');
    expect(vb?.switches).toBeGreaterThanOrEqual(1);
    expect(t.core.status()).toMatchObject({ videoParticipants: 3 });
    expect(t.core.status().videoSwitches).toBeGreaterThanOrEqual(2);
  });

  it('holds a PLI storm to one key-frame request per interval, drops malformed NAL units, answers TMMBR', async () => {
    const t = setup();
    const a = await t.join('a');
    const b = await t.join('b');
    t.live(1500, 'a');
    expect((await t.video('b'))?.showing).toBe('a.v');
    // b sends 200 PLIs in one second.
    const mark = t.net.sent.length;
    const pli = Buffer.alloc(20);
    pli.writeUInt32BE(0x80c90001, 0); // empty RR
    pli.writeUInt32BE(0xbbbb, 4);
    pli.writeUInt32BE(0x81ce0002, 8);
    pli.writeUInt32BE(0xbbbb, 12);
    pli.writeUInt32BE(0, 16);
    for (let i = 0; i < 200; i++) {
      t.net.deliver(b.videoPort + 1, pli, FAR, b.farVideo + 1);
      if (i % 20 === 19) t.clock.advance(100);
    }
    expect(t.plisTo(a, mark)).toBeLessThanOrEqual(3);
    const va = await t.video('a');
    expect(va?.keyFrameRequestsSuppressed).toBeGreaterThan(190);
    expect((await t.video('b'))?.keyFrameRequestsReceived).toBe(200);
    // Broken NAL units from a: F bit set, a STAP-A whose sizes overrun, an FU-A with S and E: none reach b.
    const before = t.videoTo(b).length;
    t.videoFrame(a, [Buffer.from([0xc1, 0x00]), Buffer.from([0x78, 0x00, 0x09, 0x65]), Buffer.from([0x7c, 0xc5, 0x00])]);
    expect(t.videoTo(b).length).toBe(before);
    expect((await t.video('a'))?.invalidPackets).toBe(3);
    t.videoFrame(a);
    expect(t.videoTo(b).length).toBe(before + 1);
    // TMMBR from b (300 kbit/s): answered with a TMMBN, and kept as b's limit.
    const tmmbr = Buffer.alloc(28);
    tmmbr.writeUInt32BE(0x80c90001, 0);
    tmmbr.writeUInt32BE(0xbbbb, 4);
    tmmbr.writeUInt32BE(0x83cd0004, 8);
    tmmbr.writeUInt32BE(0xbbbb, 12);
    tmmbr.writeUInt32BE(0, 16);
    tmmbr.writeUInt32BE(0xbbbb, 20);
    tmmbr.writeUInt32BE(((2 << 26) | (75000 << 9) | 40) >>> 0, 24);
    const m2 = t.net.sent.length;
    t.net.deliver(b.videoPort + 1, tmmbr, FAR, b.farVideo + 1);
    const tmmbn = t.net.sent.slice(m2).find((d) => d.toPort === b.farVideo + 1 && d.bytes.includes(Buffer.from([0x84, 205, 0, 4])));
    expect(tmmbn).toBeDefined();
    expect((await t.video('b'))?.limitBps).toBe(300_000);
  });

  it('asks a sender without RTCP feedback through signaling, and takes a key-frame request from signaling', async () => {
    const t = setup();
    await t.join('a', { pli: false, fir: false, signaling: true });
    await t.join('b');
    t.live(1000, 'a');
    expect(t.events.some((e) => e.ev === 'key-frame' && e.endpoint === 'a.v')).toBe(true);
    expect(await t.run({ op: 'key-frame', session: 'm', endpoint: 'b.v' })).toEqual({ ok: true });
    expect(await t.run({ op: 'key-frame', session: 'm', endpoint: 'b' })).toEqual({ ok: false, error: 'not-a-participant' });
    expect(await t.run({ op: 'key-frame', session: 'nope', endpoint: 'b.v' })).toEqual({ ok: false, error: 'no-such-session' });
    // Bad attach specs are refused.
    const v = await t.run({ op: 'open', session: 'm', endpoint: 'x.v', kind: 'video', clockRateHz: 90000, functions: true });
    expect(v.ok).toBe(true);
    const spec = { fn: 'video' as const, audioEndpoint: 'a', codec: 'H264', payloadType: 96, keyFrame: { pli: true, fir: false, signaling: false } };
    expect(await t.run({ op: 'attach', session: 'm', endpoint: 'x.v', function: { ...spec, codec: 'VP8' } })).toEqual({ ok: false, error: 'unsupported-codec' });
    expect(await t.run({ op: 'attach', session: 'm', endpoint: 'x.v', function: { ...spec, payloadType: 200 } })).toEqual({ ok: false, error: 'unsupported-codec' });
    expect(await t.run({ op: 'attach', session: 'm', endpoint: 'x.v', function: { ...spec, audioEndpoint: 'nobody' } })).toEqual({ ok: false, error: 'not-a-participant' });
    expect(await t.run({ op: 'attach', session: 'm', endpoint: 'x.v', function: { ...spec, packetizationMode: 2 } })).toEqual({ ok: false, error: 'unsupported-codec' });
    const del = await t.run({ op: 'delete', session: 'm' });
    expect(del.ok).toBe(true);
    expect(t.core.status()).toMatchObject({ videoParticipants: 0, sessions: 0 });
  });

  it('sends the presenter\'s content stream to everyone else, from a key frame, and nothing while nobody presents', async () => {
    const t = setup();
    for (const id of ['a', 'b', 'c']) await t.join(id);
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((id) => t.joinContent(id)));
    if (a === undefined || b === undefined || c === undefined) throw new Error('no content');
    t.present(500);
    expect(t.videoTo(b).length + t.videoTo(c).length).toBe(0);
    expect(await t.run({ op: 'presenter', session: 'm', endpoint: 'a.c' })).toEqual({ ok: true });
    t.present(1000);
    expect(t.videoTo(b).length).toBeGreaterThan(0);
    expect(t.videoTo(b)[0]?.nal).toBe(0x67);
    expect(t.videoTo(c)[0]?.nal).toBe(0x67);
    expect(t.videoTo(a).length).toBe(0);
    // The floor moves to b: a and c see b's content, from b's key frame on.
    const mark = t.net.sent.length;
    expect(await t.run({ op: 'presenter', session: 'm', endpoint: 'b.c' })).toEqual({ ok: true });
    t.present(1000);
    expect(t.videoTo(a, mark)[0]?.nal).toBe(0x67);
    const q = await t.run({ op: 'query', session: 'm' });
    const cSnap = q.ok ? q.snapshot?.endpoints.find((e) => e.id === 'c.c')?.video : undefined;
    expect(cSnap).toMatchObject({ role: 'content', showing: 'b.c' });
    // Nobody presents: the content streams stop.
    expect(await t.run({ op: 'presenter', session: 'm', endpoint: null })).toEqual({ ok: true });
    const stop = t.net.sent.length;
    t.present(500);
    expect(t.videoTo(a, stop).length + t.videoTo(c, stop).length).toBe(0);
    expect(await t.run({ op: 'presenter', session: 'm', endpoint: 'a.v' })).toEqual({ ok: false, error: 'not-a-participant' });
    expect(await t.run({ op: 'presenter', session: 'm', endpoint: 'zz' })).toEqual({ ok: false, error: 'no-such-endpoint' });
    // The cameras were never shown as content.
    expect(t.videoTo(t.members.get('b') as Member).length).toBe(0);
  });

  it('shows a receiver only senders at or below the H.264 level it was answered', async () => {
    const t = setup();
    const pli = { pli: true, fir: false, signaling: false };
    await t.join('a', pli, 0x1f);
    await t.join('b', pli, 0x0d);
    await t.join('c', pli, 0x0d);
    t.live(2500, 'a');
    // a (level 3.1) talks: b and c (level 1.3) cannot take its pictures; they see each other; a sees one of them.
    expect((await t.video('b'))?.showing).toBe('c.v');
    expect((await t.video('c'))?.showing).toBe('b.v');
    expect(['b.v', 'c.v']).toContain((await t.video('a'))?.showing);
  });

  it("does not cut the shown sender's picture in half: a switch waits for its marker bit", async () => {
    const t = setup();
    const a = await t.join('a');
    const b = await t.join('b');
    const c = await t.join('c');
    t.live(1500, 'a');
    expect((await t.video('b'))?.showing).toBe('a.v');
    // c talks (audio only): after the hold b waits for c's key frame.
    t.live(1000, 'c', false);
    // a is half-way through a picture (an FU-A start, no marker) when c's key frame comes: b stays on a.
    const mark = t.net.sent.length;
    t.videoFrame(a, [Buffer.from([0x7c, 0x81, 0x9a, 0x01])], false);
    c.keyOwed = true;
    t.videoFrame(c);
    expect((await t.video('b'))?.showing).toBe('a.v');
    // a's picture ends (FU-A end with the marker bit); c is asked again and its next key frame switches b.
    t.videoFrame(a, [Buffer.from([0x7c, 0x41, 0x9a, 0x02])]);
    t.clock.advance(600);
    c.keyOwed = true;
    t.videoFrame(c);
    expect((await t.video('b'))?.showing).toBe('c.v');
    expect(t.videoTo(b, mark).map((p) => p.nal)).toEqual([0x7c, 0x7c, 0x67, 0x68, 0x65]);
  });

  it('starts a receiver at a key frame without parameter sets with the sender\'s latest SPS and PPS, sequence numbers unbroken', async () => {
    const t = setup();
    const a = await t.join('a');
    const b = await t.join('b');
    const c = await t.join('c');
    t.live(1500, 'a');
    expect((await t.video('b'))?.showing).toBe('a.v');
    // c's stream began with its SPS and PPS (a key frame of three NAL units).
    c.keyOwed = true;
    t.videoFrame(c);
    t.live(1000, 'c', false);
    const mark = t.net.sent.length;
    // c's encoder sends its parameter sets only once (they were in its first key frame); now a bare IDR.
    t.videoFrame(c, [Buffer.from([0x65, 0x88, 0x80, 0x10])]);
    expect((await t.video('b'))?.showing).toBe('c.v');
    const got = t.videoTo(b, mark);
    expect(got.map((p) => p.nal)).toEqual([0x67, 0x68, 0x65]);
    for (let i = 1; i < got.length; i++) expect((got[i] as { seq: number }).seq).toBe(((got[i - 1] as { seq: number }).seq + 1) & 0xffff);
    const before = t.videoTo(b).slice(0, t.videoTo(b).length - 3).at(-1);
    expect(((before?.seq ?? 0) + 1) & 0xffff).toBe(got[0]?.seq);
    expect(a.id).toBe('a');
  });
});
