import dgram from 'node:dgram';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFfmpegH264Receiver, startFfmpegH264Sender, h264RtpSdp } from '../support/ffmpeg-video.ts';
import { meetingHarness, sleep } from '../support/meeting-harness.ts';
import type { MeetingHarness, TestParticipant } from '../support/meeting-harness.ts';
import { freePort } from '../support/ports.ts';
import { until } from '../support/rtp-peer.ts';
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
  /** Where ffmpeg's sender sends to (then out of `port` to Carillon). */
  readonly feedPort: number;
  carillonPort: number;
  close(): void;
}

async function videoPeer(receiverPort: number): Promise<VideoPeer> {
  const [port, feedPort] = [await freePort(), await freePort()];
  const main = dgram.createSocket('udp4');
  const feed = dgram.createSocket('udp4');
  await new Promise<void>((r) => main.bind(port, '127.0.0.1', r));
  await new Promise<void>((r) => feed.bind(feedPort, '127.0.0.1', r));
  const peer: VideoPeer = {
    port,
    feedPort,
    carillonPort: 0,
    close: () => {
      main.close();
      feed.close();
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

/** The video port Carillon answered, as the SIPp scenario logged it. */
async function answeredVideoPort(p: TestParticipant): Promise<number> {
  let port = 0;
  await until(() => {
    const log = readdirSync(p.sipp.dir).find((f) => f.endsWith('_logs.log'));
    const m = log === undefined ? null : /carillon-video-port (\d+)/.exec(readFileSync(path.join(p.sipp.dir, log), 'utf8'));
    port = m === null ? 0 : Number(m[1]);
    return port > 0;
  }, 10_000);
  return port;
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

  it("each ffmpeg receiver decodes the other participant's picture from its first frame, with no decode error", async () => {
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
      for (const x of parts) {
        const sender = await startFfmpegH264Sender({ colour: x.colour, port: x.peer.feedPort, seconds: 10, gopFrames: 15, payloadType: 96 });
        closers.push(() => sender.kill());
      }
      await sleep(8000);
      const [a, b] = parts as [(typeof parts)[number], (typeof parts)[number]];
      const outputs = `${a.receiver.output().slice(-1500)}\n----\n${b.receiver.output().slice(-1500)}`;
      // The talker (magenta) is what the other sees; the talker sees the only other sender.
      expect(b.receiver.colours(), outputs).toContain('magenta');
      expect(a.receiver.colours(), outputs).toContain('cyan');
      expect(b.receiver.colours().filter((c) => c !== 'magenta'), outputs).toEqual([]);
      expect(a.receiver.colours().filter((c) => c !== 'cyan'), outputs).toEqual([]);
      // Carillon started each receiver at a key frame: the decoder never saw a slice without its SPS/PPS.
      expect(a.receiver.decodeErrors(), outputs).toBe(0);
      expect(b.receiver.decodeErrors(), outputs).toBe(0);
      const live = (await (await h.api('GET', `/carillon/v1/meetings/${m.meetingId}`)).json()) as { Meeting: { Live: { Participants: { Video: { Codec: string; Sending: boolean } | null }[] } } };
      expect(live.Meeting.Live.Participants.map((p) => p.Video?.Codec)).toEqual(['H264', 'H264']);
      await Promise.all(parts.map((x) => x.part.sipp.done));
    } finally {
      for (const c of closers) c();
    }
  }, 60_000);
});
