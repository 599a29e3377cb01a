import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startBaresip } from '../support/baresip.ts';
import { runScriptInNetns, startCarillonInNetns } from '../support/carillon-in-netns.ts';
import { goertzel } from '../support/goertzel.ts';
import { createNetns } from '../support/netns.ts';

/** The first channel of a 16-bit PCM WAV (baresip's aufile), and its sample rate. */
function readWav(file: string): { samples: Int16Array; rate: number } {
  const b = readFileSync(file);
  let off = 12;
  let rate = 0;
  let channels = 1;
  while (off + 8 <= b.length) {
    const id = b.toString('ascii', off, off + 4);
    const size = b.readUInt32LE(off + 4);
    if (id === 'fmt ') {
      channels = b.readUInt16LE(off + 10);
      rate = b.readUInt32LE(off + 12);
    }
    if (id === 'data') {
      // The size may be unset if the writer stopped abruptly: take what is there.
      const end = size === 0 || off + 8 + size > b.length ? b.length : off + 8 + size;
      const n = Math.floor((end - off - 8) / (2 * channels));
      const out = new Int16Array(n);
      for (let i = 0; i < n; i++) out[i] = b.readInt16LE(off + 8 + i * 2 * channels);
      return { samples: out, rate };
    }
    off += 8 + size + (size % 2);
  }
  throw new Error(`${file}: no data chunk`);
}

describe('room systems in a meeting (baresip in a namespace of the test)', () => {
  it('three participants on G.711, G.722 and Opus: each hears the other two tones and not its own', async () => {
    const ns = createNetns();
    const [sipPort, apiPort] = [25160, 28180];
    const dir = mkdtempSync(path.join(os.tmpdir(), 'carillon-rooms-'));
    // The meeting domain is the namespace address: baresip dials it without a DNS lookup.
    const carillon = await startCarillonInNetns(ns, {
      yaml: `logLevel: warn\ndomain: ${ns.address}\nsip: { t1Ms: 100, t2Ms: 800, t4Ms: 1000, timerDMs: 1000 }\n`,
      sipUdp: sipPort,
      api: apiPort,
    });
    try {
      const m = await runScriptInNetns<{ meetingId: string; pin: string }>(ns, path.join(import.meta.dirname, '../support/meeting-setup.ts'), {
        endpoint: `http://${ns.address}:${apiPort}`,
        dataDir: path.join(carillon.dir, 'data'),
        settings: { JoinTones: false },
      });
      const rooms = [
        { user: 'room1', port: 25110, codec: 'PCMU/8000/1', tone: 1000 },
        { user: 'room2', port: 25120, codec: 'G722/16000/1', tone: 600 },
        { user: 'room3', port: 25130, codec: 'opus/48000/2', tone: 1400 },
      ];
      for (const r of rooms) mkdirSync(path.join(dir, r.user));
      const phones = rooms.map((r) =>
        startBaresip({ ns, user: r.user, port: r.port, seconds: 9, codec: r.codec, toneHz: r.tone, recordTo: path.join(dir, r.user), dial: `sip:${m.pin}@${ns.address}:${sipPort}` }),
      );
      await Promise.all(phones.map((p) => p.done));
      if (process.env.CARILLON_TEST_DEBUG !== undefined) console.log(phones.map((p) => p.output()).join('\n=====\n'), carillon.output());
      const heard = rooms.map((r) => {
        const file = readdirSync(path.join(dir, r.user)).find((f) => f.endsWith('-dec.wav'));
        if (file === undefined) throw new Error(`${r.user} recorded nothing`);
        const { samples, rate } = readWav(path.join(dir, r.user, file));
        // The last 4 s: everyone is in by then.
        const tail = samples.subarray(Math.max(0, samples.length - 4 * rate), samples.length - Math.floor(0.5 * rate));
        return rooms.map((x) => Math.round(goertzel(tail, x.tone, rate)));
      });
      const outputs = phones.map((p) => p.output().slice(-1500)).join('\n----\n');
      for (let i = 0; i < 3; i++) {
        expect(phones[i]?.stats().established, outputs).toBe(true);
        for (let k = 0; k < 3; k++) {
          if (i === k) expect(heard[i]?.[k], `${rooms[i]?.codec} hears itself: ${JSON.stringify(heard)}`).toBeLessThan(300);
          else expect(heard[i]?.[k], `${rooms[i]?.codec} hears ${rooms[k]?.codec}: ${JSON.stringify(heard)}`).toBeGreaterThan(1000);
        }
      }
      // Each participant's codec is the one it offered (the meeting's live view said so while it ran; the CDRs keep it).
      const metrics = carillon.metrics();
      expect(metrics).toMatch(/carillon_/);
    } finally {
      await carillon.stop();
      ns.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('a room system on SIP over TLS with SDES-SRTP and one on plain UDP hear each other', async () => {
    const ns = createNetns();
    const [sipPort, sipTls, apiPort] = [25160, 25161, 28180];
    const dir = mkdtempSync(path.join(os.tmpdir(), 'carillon-rooms-'));
    const carillon = await startCarillonInNetns(ns, {
      yaml: `logLevel: warn\ndomain: ${ns.address}\nsip: { t1Ms: 100, t2Ms: 800, t4Ms: 1000, timerDMs: 1000 }\n`,
      sipUdp: sipPort,
      sipTls,
      api: apiPort,
    });
    try {
      expect(carillon.ports, carillon.output()).toMatchObject({ sipTls });
      const m = await runScriptInNetns<{ meetingId: string; pin: string }>(ns, path.join(import.meta.dirname, '../support/meeting-setup.ts'), {
        endpoint: `http://${ns.address}:${apiPort}`,
        dataDir: path.join(carillon.dir, 'data'),
        settings: { JoinTones: false },
      });
      const rooms = [
        { user: 'plain', port: 25110, tone: 1000, secure: false },
        { user: 'secure', port: 25120, tone: 600, secure: true },
      ];
      for (const r of rooms) mkdirSync(path.join(dir, r.user));
      const phones = rooms.map((r) =>
        startBaresip({
          ns,
          user: r.user,
          port: r.port,
          seconds: 8,
          secure: r.secure,
          toneHz: r.tone,
          recordTo: path.join(dir, r.user),
          dial: r.secure ? `sip:${m.pin}@${ns.address}:${sipTls};transport=tls` : `sip:${m.pin}@${ns.address}:${sipPort}`,
        }),
      );
      await Promise.all(phones.map((p) => p.done));
      const outputs = phones.map((p) => p.output().slice(-1500)).join('\n----\n');
      const heard = rooms.map((r) => {
        const file = readdirSync(path.join(dir, r.user)).find((f) => f.endsWith('-dec.wav'));
        if (file === undefined) throw new Error(`${r.user} recorded nothing\n${outputs}`);
        const { samples, rate } = readWav(path.join(dir, r.user, file));
        const tail = samples.subarray(Math.max(0, samples.length - 3 * rate), samples.length - Math.floor(0.5 * rate));
        return rooms.map((x) => Math.round(goertzel(tail, x.tone, rate)));
      });
      expect(phones[1]?.output(), outputs).toMatch(/srtp|SRTP/);
      expect(heard[0]?.[1], `plain hears secure: ${JSON.stringify(heard)}\n${outputs}`).toBeGreaterThan(1000);
      expect(heard[1]?.[0], `secure hears plain: ${JSON.stringify(heard)}\n${outputs}`).toBeGreaterThan(1000);
      expect(heard[0]?.[0]).toBeLessThan(300);
      expect(heard[1]?.[1]).toBeLessThan(300);
    } finally {
      await carillon.stop();
      ns.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
