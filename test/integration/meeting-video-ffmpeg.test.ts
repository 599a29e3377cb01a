import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFfmpegH264Receiver, startFfmpegH264Sender, h264RtpSdp } from '../support/ffmpeg-video.ts';
import { answeredVideoPort, meetingHarness, sleep } from '../support/meeting-harness.ts';
import type { MeetingHarness } from '../support/meeting-harness.ts';
import { freePort } from '../support/ports.ts';
import { startTestServer } from '../support/server.ts';
import type { TestServer } from '../support/server.ts';
import { killAllSipp } from '../support/sipp.ts';
import type { VideoColour } from '../support/video-picture.ts';

/**
 * A second, independent video peer: SIPp signals (audio and H.264 video offered), ffmpeg sends and
 * receives the video (ffmpeg's own RTP packetizer, mode 1, and its decoder). One socket at the
 * offered video port joins the two ffmpeg processes into one symmetric RTP endpoint, as a room
 * system's single video port is: what Carillon sends goes on to the receiving ffmpeg, what the
 * sending ffmpeg encodes goes out of that port to Carillon.
 */
interface VideoPeer {
  readonly port: number;
  /** Sends out of the offered video port (or its RTCP port) to Carillon's: a broken packet, a PLI. */
  inject(b: Buffer, rtcp: boolean): void;
  /** Where ffmpeg's sender sends to (then out of `port` to Carillon). */
  readonly feedPort: number;
  carillonPort: number;
  close(): void;
}

async function videoPeer(receiverPort: number): Promise<VideoPeer> {
  const [port, feedPort] = [await freePort(), await freePort()];
  const main = dgram.createSocket('udp4');
  const feed = dgram.createSocket('udp4');
  const rtcp = dgram.createSocket('udp4');
  await new Promise<void>((r) => main.bind(port, '127.0.0.1', r));
  await new Promise<void>((r) => feed.bind(feedPort, '127.0.0.1', r));
  // The offered RTCP port (port + 1) may be taken; RTCP from another port of the same address is taken (latching).
  await new Promise<void>((r) => rtcp.bind(0, '127.0.0.1', r));
  const peer: VideoPeer = {
    port,
    feedPort,
    carillonPort: 0,
    inject: (b, toRtcp) => (toRtcp ? rtcp.send(b, peer.carillonPort + 1, '127.0.0.1') : main.send(b, peer.carillonPort, '127.0.0.1')),
    close: () => {
      main.close();
      feed.close();
      rtcp.close();
    },
  };
  main.on('message', (b, from) => {
    if (from.port === peer.carillonPort) main.send(b, receiverPort, '127.0.0.1');
  });
  feed.on('message', (b) => {
    if (peer.carillonPort > 0) main.send(b, peer.carillonPort, '127.0.0.1');
  });
  return peer;
}

describe('video in a meeting (SIPp signaling, ffmpeg H.264)', () => {
  let t: TestServer;
  let h: MeetingHarness;
  beforeAll(async () => {
    t = await startTestServer({});
    h = meetingHarness(t);
  });
  afterAll(async () => {
    h.closeAll();
    killAllSipp();
    await t.close();
  });

  it("each ffmpeg receiver decodes the other participant's picture from its first frame, with no decode error, through broken NAL units and a PLI storm from the other", async () => {
    const m = await h.create({ JoinTones: false });
    const plan: { colour: VideoColour; tone: number }[] = [
      { colour: 'magenta', tone: 1000 },
      { colour: 'cyan', tone: 0 },
    ];
    const closers: (() => void)[] = [];
    try {
      const parts = [];
      for (const p of plan) {
        const rxPort = await freePort();
        const receiver = startFfmpegH264Receiver({ sdp: h264RtpSdp({ port: rxPort, payloadType: 96 }), seconds: 14 });
        closers.push(() => receiver.kill());
        const peer = await videoPeer(rxPort);
        closers.push(() => peer.close());
        const part = await h.dial(m.pin, { payloadType: 0, holdMs: 12_000, videoPort: peer.port });
        if (p.tone > 0) part.media.tone(p.tone);
        peer.carillonPort = await answeredVideoPort(part);
        parts.push({ ...p, receiver, peer, part });
      }
      const ssrcs = [0x11110001, 0x22220002];
      for (const [i, x] of parts.entries()) {
        const sender = await startFfmpegH264Sender({ colour: x.colour, port: x.peer.feedPort, seconds: 10, gopFrames: 15, payloadType: 96, ssrc: ssrcs[i] as number });
        closers.push(() => sender.kill());
      }
      await sleep(3000);
      const [a, b] = parts as [(typeof parts)[number], (typeof parts)[number]];
      // Bad input from the participant a watches (b): broken NAL units in its own stream (F bit, an
      // overrunning STAP-A, an FU-A with S and E), and a PLI storm on its RTCP. a's picture must not suffer.
      const broken = [Buffer.from([0xc1, 0x00, 0x00]), Buffer.from([0x78, 0x00, 0x40, 0x65]), Buffer.from([0x7c, 0xc5, 0x00])];
      const pli = Buffer.alloc(20);
      pli.writeUInt32BE(0x80c90001, 0);
      pli.writeUInt32BE(ssrcs[1] as number, 4);
      pli.writeUInt32BE(0x81ce0002, 8);
      pli.writeUInt32BE(ssrcs[1] as number, 12);
      for (let i = 0; i < 300; i++) {
        const nal = broken[i % broken.length] as Buffer;
        const pkt = Buffer.alloc(12 + nal.length);
        pkt.writeUInt32BE((0x80600000 | ((40000 + i) & 0xffff)) >>> 0, 0);
        pkt.writeUInt32BE(i * 3000, 4);
        pkt.writeUInt32BE(ssrcs[1] as number, 8);
        nal.copy(pkt, 12);
        b.peer.inject(pkt, false);
        b.peer.inject(pli, true);
        if (i % 30 === 29) await sleep(100);
      }
      await sleep(4000);
      const outputs = `${a.receiver.output().slice(-1500)}\n----\n${b.receiver.output().slice(-1500)}`;
      // The talker (magenta) is what the other sees; the talker sees the only other sender.
      expect(b.receiver.colours(), outputs).toContain('magenta');
      expect(a.receiver.colours(), outputs).toContain('cyan');
      expect(b.receiver.colours().filter((c) => c !== 'magenta'), outputs).toEqual([]);
      expect(a.receiver.colours().filter((c) => c !== 'cyan'), outputs).toEqual([]);
      // Carillon started each receiver at a key frame: the decoder never saw a slice without its SPS/PPS.
      expect(a.receiver.decodeErrors(), outputs).toBe(0);
      expect(b.receiver.decodeErrors(), outputs).toBe(0);
      const metrics = await (await fetch(`http://127.0.0.1:${t.ports.api}/metrics`)).text();
      const series = (name: string): number => Number(new RegExp(`^${name} (\\d+)`, 'm').exec(metrics)?.[1] ?? -1);
      expect(series('carillon_media_video_invalid_packets_total'), metrics).toBeGreaterThanOrEqual(300);
      expect(series('carillon_media_video_key_frame_requests_suppressed_total'), metrics).toBeGreaterThan(250);
      expect(series('carillon_media_video_key_frame_requests_total'), metrics).toBeLessThan(40);
      const live = (await (await h.api('GET', `/carillon/v1/meetings/${m.meetingId}`)).json()) as { Meeting: { Live: { Participants: { Video: { Codec: string; Sending: boolean } | null }[] } } };
      expect(live.Meeting.Live.Participants.map((p) => p.Video?.Codec)).toEqual(['H264', 'H264']);
      await Promise.all(parts.map((x) => x.part.sipp.done));
    } finally {
      for (const c of closers) c();
    }
  }, 60_000);
});
