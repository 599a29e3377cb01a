import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decoderErrors, startBaresip, takeSnapshot, videoStats } from '../support/baresip.ts';
import type { BaresipHandle } from '../support/baresip.ts';
import { runScriptInNetns, startCarillonInNetns } from '../support/carillon-in-netns.ts';
import { createNetns } from '../support/netns.ts';
import { h264DecodeErrorLines } from '../support/video-picture.ts';
import type { VideoColour } from '../support/video-picture.ts';

/**
 * A 48 kHz stereo 16-bit WAV of a 500 Hz tone whose level follows `loud(t)` (0..1 by second):
 * baresip's aufile sends it as the participant's voice, so the test decides who talks when.
 */
function speechPlan(file: string, seconds: number, loud: (t: number) => number): void {
  const rate = 48_000;
  const n = rate * seconds;
  const b = Buffer.alloc(44 + n * 4);
  b.write('RIFF', 0, 'ascii');
  b.writeUInt32LE(36 + n * 4, 4);
  b.write('WAVEfmt ', 8, 'ascii');
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20);
  b.writeUInt16LE(2, 22);
  b.writeUInt32LE(rate, 24);
  b.writeUInt32LE(rate * 4, 28);
  b.writeUInt16LE(4, 32);
  b.writeUInt16LE(16, 34);
  b.write('data', 36, 'ascii');
  b.writeUInt32LE(n * 4, 40);
  for (let i = 0; i < n; i++) {
    const v = Math.round(12_000 * loud(i / rate) * Math.sin((2 * Math.PI * 500 * i) / rate));
    b.writeInt16LE(v, 44 + i * 4);
    b.writeInt16LE(v, 46 + i * 4);
  }
  writeFileSync(file, b);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('video in a meeting (baresip with H.264 in a namespace of the test)', () => {
  it('three room systems see the loudest talker; when the talker changes the picture follows within 2 s, a key frame first', async () => {
    const ns = createNetns();
    const [sipPort, apiPort] = [25160, 28180];
    const dir = mkdtempSync(path.join(os.tmpdir(), 'carillon-video-'));
    const carillon = await startCarillonInNetns(ns, {
      yaml: `logLevel: warn\ndomain: ${ns.address}\nsip: { t1Ms: 100, t2Ms: 800, t4Ms: 1000, timerDMs: 1000 }\n`,
      sipUdp: sipPort,
      api: apiPort,
    });
    const phones: BaresipHandle[] = [];
    try {
      const m = await runScriptInNetns<{ meetingId: string; pin: string }>(ns, path.join(import.meta.dirname, '../support/meeting-setup.ts'), {
        endpoint: `http://${ns.address}:${apiPort}`,
        dataDir: path.join(carillon.dir, 'data'),
        settings: { JoinTones: false },
      });
      // red talks for the first 8 s of its call, then green from 8 s; blue never talks.
      const SWITCH_S = 8;
      const rooms: { user: string; port: number; colour: VideoColour; loud: (t: number) => number }[] = [
        { user: 'red', port: 25110, colour: 'red', loud: (t) => (t < SWITCH_S ? 1 : 0) },
        { user: 'green', port: 25120, colour: 'green', loud: (t) => (t >= SWITCH_S ? 1 : 0) },
        { user: 'blue', port: 25130, colour: 'blue', loud: () => 0 },
      ];
      for (const r of rooms) {
        const file = path.join(dir, `${r.user}.wav`);
        speechPlan(file, 20, r.loud);
        phones.push(
          startBaresip({ ns, user: r.user, port: r.port, seconds: 16, audioFile: file, video: { colour: r.colour, packetizationMode: 1 }, dial: `sip:${m.pin}@${ns.address}:${sipPort}` }),
        );
      }
      const [red, green, blue] = phones as [BaresipHandle, BaresipHandle, BaresipHandle];
      const t0 = Date.now();
      const at = async (s: number): Promise<void> => {
        const wait = t0 + s * 1000 - Date.now();
        if (wait > 0) await sleep(wait);
      };
      // Red talks: green and blue see red.
      await at(5.5);
      const early = await Promise.all([takeSnapshot(green), takeSnapshot(blue)]);
      // Green starts at 8 s: by 10 s red and blue see green (2 s).
      await at(SWITCH_S + 2);
      const late = await Promise.all([takeSnapshot(red), takeSnapshot(blue)]);
      // Green, talking, is shown the previous speaker.
      const greenSees = await takeSnapshot(green);
      await Promise.all(phones.map((p) => p.done));
      const outputs = phones.map((p) => p.output().slice(-2500)).join('\n----\n');
      expect(phones.every((p) => p.stats().established), outputs).toBe(true);
      expect(early.map((p) => p?.colour), outputs).toEqual(['red', 'red']);
      expect(late.map((p) => p?.colour), outputs).toEqual(['green', 'green']);
      expect(greenSees?.colour, outputs).toBe('red');
      // A key frame came first at every switch: no decoder error anywhere, one SSRC per receiver.
      for (const p of phones) {
        expect(decoderErrors(p), h264DecodeErrorLines(p.output()).join('\n')).toBe(0);
        expect(videoStats(p).ssrcChanges).toBe(0);
      }
      expect(carillon.metrics()).toMatch(/^carillon_media_video_switches_total [1-9]/m);
    } finally {
      for (const p of phones) p.kill();
      await carillon.stop();
      ns.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);

  it('a room system on TLS with SRTP keeps its video encrypted and sees, and is seen by, a plain one', async () => {
    const ns = createNetns();
    const [sipPort, sipTls, apiPort] = [25160, 25161, 28180];
    const carillon = await startCarillonInNetns(ns, {
      yaml: `logLevel: warn\ndomain: ${ns.address}\nsip: { t1Ms: 100, t2Ms: 800, t4Ms: 1000, timerDMs: 1000 }\n`,
      sipUdp: sipPort,
      sipTls,
      api: apiPort,
    });
    const phones: BaresipHandle[] = [];
    try {
      const m = await runScriptInNetns<{ meetingId: string; pin: string }>(ns, path.join(import.meta.dirname, '../support/meeting-setup.ts'), {
        endpoint: `http://${ns.address}:${apiPort}`,
        dataDir: path.join(carillon.dir, 'data'),
        settings: { JoinTones: false },
      });
      phones.push(
        startBaresip({ ns, user: 'plain', port: 25110, seconds: 10, video: { colour: 'yellow', packetizationMode: 1 }, dial: `sip:${m.pin}@${ns.address}:${sipPort}` }),
        startBaresip({ ns, user: 'secure', port: 25120, seconds: 10, secure: true, video: { colour: 'cyan', packetizationMode: 1 }, dial: `sip:${m.pin}@${ns.address}:${sipTls};transport=tls` }),
      );
      const [plain, secure] = phones as [BaresipHandle, BaresipHandle];
      await sleep(6000);
      const seen = await Promise.all([takeSnapshot(plain), takeSnapshot(secure)]);
      await Promise.all(phones.map((p) => p.done));
      const outputs = phones.map((p) => p.output().slice(-2500)).join('\n----\n');
      expect(seen.map((p) => p?.colour), outputs).toEqual(['cyan', 'yellow']);
      // srtp-mand: baresip keys the video from Carillon's answer (RTP/SAVP with a=crypto) and takes no plain packet.
      expect(secure.output(), outputs).toMatch(/srtp: video: SRTP is Enabled \(cryptosuite=AES_CM_128_HMAC_SHA1_80\)/);
      expect(decoderErrors(secure), outputs).toBe(0);
      expect(decoderErrors(plain), outputs).toBe(0);
    } finally {
      for (const p of phones) p.kill();
      await carillon.stop();
      ns.destroy();
    }
  }, 60_000);
});
