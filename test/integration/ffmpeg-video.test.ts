import { describe, expect, it } from 'vitest';
import { h264RtpSdp, startFfmpegH264Receiver, startFfmpegH264Sender } from '../support/ffmpeg-video.ts';

// ffmpeg's H.264 RTP peers on loopback, proven against each other (no Carillon).
describe('ffmpeg H.264 RTP video peers (no Carillon)', () => {
  it('a receiver listening from the start decodes every frame as the sender’s colour, without a decode error', async () => {
    const port = 41_200;
    const rx = startFfmpegH264Receiver({ sdp: h264RtpSdp({ port }), seconds: 3 });
    // The receiver opens its socket while probing the SDP: give it a moment before the first IDR.
    await new Promise((r) => setTimeout(r, 500));
    const tx = await startFfmpegH264Sender({ colour: 'magenta', port, seconds: 4, gopFrames: 30 });
    try {
      expect(tx.sdp.replace(/\r\n/g, '\n')).toBe(h264RtpSdp({ port }).replace(/\r\n/g, '\n'));
      await rx.done;
      const log = `${rx.output()}\n----\n${tx.output().slice(-1500)}`;
      expect(rx.frames().length, log).toBeGreaterThan(20);
      expect(rx.colours(), log).toEqual(['magenta']);
      expect(rx.decodeErrors(), log).toBe(0);
    } finally {
      rx.kill();
      tx.kill();
    }
  }, 30_000);

  it('a receiver joining mid-GOP logs decode errors until the next key frame, then sees the colour', async () => {
    const port = 41_210;
    const tx = await startFfmpegH264Sender({ colour: 'cyan', port: port, seconds: 6, gopFrames: 45 });
    try {
      // 1 s into a 3 s GOP: no SPS/PPS yet.
      await new Promise((r) => setTimeout(r, 1000));
      const rx = startFfmpegH264Receiver({ sdp: tx.sdp, seconds: 2 });
      await rx.done;
      const log = `${rx.output().slice(-3000)}\n----\n${tx.output().slice(-1500)}`;
      expect(rx.decodeErrors(), log).toBeGreaterThan(0);
      expect(rx.decodeErrorLines().some((l) => /non-existing PPS 0 referenced/.test(l)), log).toBe(true);
      expect(rx.frames().length, log).toBeGreaterThan(0);
      expect(rx.colours(), log).toEqual(['cyan']);
    } finally {
      tx.kill();
    }
  }, 30_000);
});
