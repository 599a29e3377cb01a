import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeRtpHeader } from '../../media/rtp/rtp-header.ts';
import type { MeetingEvent } from '../../signaling/calls/meeting-events.ts';
import { H323TestEndpoint, kindOf } from '../support/h323-endpoint/index.ts';
import { nalTypeOf, VIDEO_TX_LCN } from '../support/h323-endpoint/video.ts';
import { answeredVideoPort, meetingHarness, sleep } from '../support/meeting-harness.ts';
import type { MeetingHarness } from '../support/meeting-harness.ts';
import { until } from '../support/rtp-peer.ts';
import { startTestServer } from '../support/server.ts';
import type { TestServer } from '../support/server.ts';
import { killAllSipp } from '../support/sipp.ts';

/**
 * H.323 room systems get video in meetings: the independent test endpoint calls by the meeting ID
 * with Fast Connect proposals for G.711 and H.264 (H.241), a SIP participant (SIPp signalling, a raw
 * UDP socket for its H.264) is in the same meeting. Each receives the other's video, starting at a
 * key frame; a PLI from the SIP side becomes Carillon's videoFastUpdatePicture to the room system,
 * the room system's VFU flood becomes (bounded) key frame requests to the SIP side (PLI), and the
 * call ends with no port left (the test server's close checks the pools). In slow start (no Fast
 * Connect) Carillon's own offer carries an H.264 line, which the leg realises over H.245.
 */

const NAL_SPS = 7;
const NAL_IDR = 5;
const SPS = Buffer.from([0x67, 0x42, 0xe0, 0x1f, 0xda, 0x01, 0x40, 0x16, 0xe8, 0x06, 0xd0, 0xa1, 0x35]);
const PPS = Buffer.from([0x68, 0xce, 0x06, 0xe2]);
const IDR = Buffer.from([0x65, 0x88, 0x84, 0x00, 0x33, 0xff, 0xfe, 0xf6]);
const P_SLICE = Buffer.from([0x41, 0x9a, 0x02, 0x04, 0x0c]);

/** The SIP participant's video: one RTP socket at the offered port and its RTCP (port + 1); a tiny H.264 stream on PT 96, a key frame on every PLI. */
interface SipVideo {
  readonly port: number;
  carillonPort: number;
  /** NAL types of what Carillon sent, in order. */
  readonly received: number[];
  /** PLIs (RTCP PSFB FMT 1) Carillon sent. */
  plis: number;
  /** Sends an RTCP packet to Carillon out of the RTCP socket (Carillon latches the port RTCP comes from). */
  sendRtcp(b: Buffer): void;
  start(): void;
  close(): void;
}

async function bindPair(): Promise<{ rtp: dgram.Socket; rtcp: dgram.Socket; port: number }> {
  const bind = (s: dgram.Socket, port: number): Promise<boolean> =>
    new Promise((resolve) => {
      s.once('error', () => resolve(false));
      s.bind(port, '127.0.0.1', () => resolve(true));
    });
  for (let i = 0; i < 50; i++) {
    const port = 2 * (10_000 + Math.floor(Math.random() * 14_000));
    const rtp = dgram.createSocket('udp4');
    const rtcp = dgram.createSocket('udp4');
    if ((await bind(rtp, port)) && (await bind(rtcp, port + 1))) return { rtp, rtcp, port };
    rtp.close();
    rtcp.close();
  }
  throw new Error('no free port pair');
}

async function sipVideo(): Promise<SipVideo> {
  const { rtp, rtcp, port } = await bindPair();
  let seq = 1;
  let ts = 0;
  let keyPending = true;
  let timer: NodeJS.Timeout | undefined;
  const v: SipVideo = {
    port,
    carillonPort: 0,
    received: [],
    plis: 0,
    sendRtcp: (b) => rtcp.send(b, v.carillonPort + 1, '127.0.0.1'),
    start: () => {
      timer = setInterval(() => {
        if (v.carillonPort === 0) return;
        ts = (ts + 3600) >>> 0;
        const nals = keyPending ? [SPS, PPS, IDR] : [P_SLICE];
        keyPending = false;
        nals.forEach((nal, i) => {
          const pkt = Buffer.alloc(12 + nal.length);
          writeRtpHeader({ marker: i === nals.length - 1, payloadType: 96, sequence: seq++, timestamp: ts, ssrc: 0x51510001 }, pkt);
          nal.copy(pkt, 12);
          rtp.send(pkt, v.carillonPort, '127.0.0.1');
        });
      }, 40);
    },
    close: () => {
      clearInterval(timer);
      rtp.close();
      rtcp.close();
    },
  };
  rtp.on('message', (b) => {
    if (b.length > 12 && (b[1] ?? 0) >= 96) v.received.push(nalTypeOf(b.subarray(12)));
  });
  rtcp.on('message', (b) => {
    // A compound packet: look for PSFB (206) FMT 1 (PLI) anywhere in it.
    for (let off = 0; off + 4 <= b.length; ) {
      const len = (b.readUInt16BE(off + 2) + 1) * 4;
      if (b[off + 1] === 206 && ((b[off] ?? 0) & 0x1f) === 1) {
        v.plis++;
        keyPending = true;
      }
      off += len;
    }
  });
  return v;
}

/** An RTCP PLI (RFC 4585 §6.3.1) from `sender` about `media`. */
function pli(sender: number, media: number): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt32BE(0x81ce0002, 0);
  b.writeUInt32BE(sender, 4);
  b.writeUInt32BE(media, 8);
  return b;
}

describe('H.323 room systems with video in meetings', () => {
  let t: TestServer;
  let h: MeetingHarness;
  const events: MeetingEvent[] = [];
  const closers: (() => unknown)[] = [];

  beforeAll(async () => {
    t = await startTestServer({ h323: 0, h323RtpRange: '5500-5699' });
    h = meetingHarness(t);
    t.server.meetingEvents.on((e) => events.push(e));
  });

  afterAll(async () => {
    for (const c of closers) await c();
    h.closeAll();
    killAllSipp();
    await t.close();
  });

  const joined = (meetingId: string): number => events.filter((e) => e.type === 'participant-joined' && e.meeting.meetingId === meetingId).length;

  it('Fast Connect H.264 both ways: each side receives the other’s video from a key frame; key frame requests cross as VFU and PLI; the call ends cleanly', async () => {
    const m = await h.create({ JoinTones: false });
    const sv = await sipVideo();
    closers.push(() => sv.close());
    const sip = await h.dial(m.pin, { payloadType: 0, videoPort: sv.port });
    sv.carillonPort = await answeredVideoPort(sip);
    await until(() => joined(m.meetingId) === 1, 10_000);

    const ep = new H323TestEndpoint({ name: 'Room V', localAddress: '127.0.0.1' });
    closers.push(() => ep.close());
    await ep.call({ host: '127.0.0.1', port: t.ports.h323 ?? 0, destination: [{ dialedDigits: m.pin }], fastStart: true, audio: ['g711Ulaw64k'], h245: 'tunnel', video: true });
    await ep.waitFor((x) => 'q931' in x && x.q931 === 'connect', 10_000);
    expect(ep.fastStartState).toBe('accepted');
    const video = ep.video;
    if (video === undefined) throw new Error('no video');
    // Carillon's video port comes from the H.323 range; its own video channel to the room system is known.
    expect(video.target?.port).toBeGreaterThanOrEqual(5500);
    expect(video.target?.port).toBeLessThanOrEqual(5699);
    expect(video.remoteLcn).toBeDefined();
    expect(video.ownLcn).toBe(VIDEO_TX_LCN);
    await until(() => joined(m.meetingId) === 2, 10_000);
    ep.startTone(1000);
    video.start();
    sv.start();

    // Each receives the other's video, a key frame (SPS or IDR) first.
    await until(() => video.rtp.received.length > 5 && sv.received.length > 5, 10_000);
    const first = video.rtp.received[0];
    expect(first?.pt, 'Carillon sends the room system the payload type it proposed').toBe(109);
    expect([NAL_SPS, NAL_IDR], 'the room system sees a key frame first').toContain(nalTypeOf(first?.payload ?? Buffer.alloc(0)));
    expect([NAL_SPS, NAL_IDR], 'the SIP participant sees a key frame first').toContain(sv.received[0]);

    // The SIP participant asks for a picture (PLI): Carillon asks the room system with videoFastUpdatePicture on its channel.
    const vfuBefore = video.fastUpdates.length;
    const keysBefore = video.keyFramesSent;
    const sipKeysBefore = sv.received.filter((n) => n === NAL_SPS).length;
    for (let i = 0; i < 25 && video.fastUpdates.length === vfuBefore; i++) {
      sv.sendRtcp(pli(0x51510001, 0));
      await sleep(300);
    }
    expect(video.fastUpdates.length, 'Carillon sent the room system videoFastUpdatePicture').toBeGreaterThan(vfuBefore);
    expect(video.fastUpdates.every((lcn) => lcn === VIDEO_TX_LCN)).toBe(true);
    await until(() => video.keyFramesSent > keysBefore && sv.received.filter((n) => n === NAL_SPS).length > sipKeysBefore, 5000);

    // The room system reopens its video channel over H.245 (CLC, then an OLC of its own, 12): Carillon
    // acks it onto the same port and asks that channel for key frames from then on.
    const targetPort = (): number | undefined => video.target?.port;
    const portBefore = targetPort();
    video.target = undefined;
    ep.sendH245([{ choice: 'request', value: { choice: 'closeLogicalChannel', value: { forwardLogicalChannelNumber: VIDEO_TX_LCN, source: { choice: 'user', value: null } } } }]);
    ep.openVideoChannel(12);
    await until(() => targetPort() !== undefined, 5000);
    expect(targetPort()).toBe(portBefore);
    expect(ep.received.map(kindOf)).toEqual(expect.arrayContaining(['closeLogicalChannelAck', 'openLogicalChannelAck']));
    for (let i = 0; i < 25 && !video.fastUpdates.includes(12); i++) {
      sv.sendRtcp(pli(0x51510001, 0));
      await sleep(300);
    }
    expect(video.fastUpdates, 'videoFastUpdatePicture on the reopened channel').toContain(12);

    // The room system floods VFUs: the SIP participant is asked for a key frame (PLI), a bounded number of times.
    await sleep(1200);
    const plisBefore = sv.plis;
    for (let i = 0; i < 5; i++) {
      ep.sendVideoFastUpdate(20);
      await sleep(100);
    }
    await until(() => sv.plis > plisBefore, 5000);
    await sleep(600);
    expect(sv.plis - plisBefore, 'at most one request per 500 ms of flood').toBeLessThanOrEqual(3);

    // The room system hangs up; the meeting ends the SIP call.
    const left = events.filter((e) => e.type === 'participant-left').length;
    video.stop();
    await ep.hangup();
    await until(() => events.filter((e) => e.type === 'participant-left').length > left, 10_000);
    const r = await h.api('POST', `/carillon/v1/meetings/${m.meetingId}/end`, {});
    expect(r.status).toBeLessThan(300);
    const done = await sip.sipp.done;
    expect(done.successful, done.output.slice(-1500)).toBe(1);
    await until(() => (t.server.h323?.callsActive ?? 1) === 0, 10_000);
  }, 25_000);

  it('slow start: Carillon offers H.264 to a late-offer leg; the room system’s video channels open over H.245 and its video reaches the SIP participant from a key frame', async () => {
    const m = await h.create({ JoinTones: false });
    const sv = await sipVideo();
    closers.push(() => sv.close());
    const sip = await h.dial(m.pin, { payloadType: 0, videoPort: sv.port });
    sv.carillonPort = await answeredVideoPort(sip);
    await until(() => joined(m.meetingId) === 1, 10_000);
    const ep = new H323TestEndpoint({ name: 'Room S', localAddress: '127.0.0.1' });
    closers.push(() => ep.close());
    await ep.call({ host: '127.0.0.1', port: t.ports.h323 ?? 0, destination: [{ dialedDigits: m.pin }], fastStart: false, audio: ['g711Ulaw64k'], h245: 'tunnel', video: true });
    await ep.waitFor((x) => 'q931' in x && x.q931 === 'connect', 10_000);
    const video = ep.video;
    if (video === undefined) throw new Error('no video');
    await until(() => ep.remoteRtp !== undefined && video.target !== undefined, 10_000);
    expect(video.refused, 'the room system’s video channel is acked').toBeUndefined();
    expect(video.remoteLcn, 'Carillon opened its own video channel').toBeDefined();
    await until(() => joined(m.meetingId) === 2, 10_000);
    ep.startTone(1000);
    video.start();
    sv.start();
    await until(() => sv.received.length > 5 && video.rtp.received.length > 5, 10_000);
    expect([NAL_SPS, NAL_IDR], 'the SIP participant sees a key frame first').toContain(sv.received[0]);
    expect([NAL_SPS, NAL_IDR], 'the room system sees a key frame first').toContain(nalTypeOf(video.rtp.received[0]?.payload ?? Buffer.alloc(0)));
    const left = events.filter((e) => e.type === 'participant-left').length;
    video.stop();
    await ep.hangup();
    await until(() => events.filter((e) => e.type === 'participant-left').length > left, 10_000);
    const r = await h.api('POST', `/carillon/v1/meetings/${m.meetingId}/end`, {});
    expect(r.status).toBeLessThan(300);
    expect((await sip.sipp.done).successful).toBe(1);
    await until(() => (t.server.h323?.callsActive ?? 1) === 0, 10_000);
  }, 25_000);
});
