import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { newMasterKey, SrtpContext } from '../../../media/srtp/srtp.ts';
import type { SrtpSuite } from '../../../media/srtp/srtp.ts';
import { freePort } from '../../support/ports.ts';

/**
 * Carillon's SRTP against an independent implementation (ffmpeg's, the srtp protocol and the
 * SDP a=crypto reader), both ways, on loopback: what ffmpeg encrypts Carillon authenticates and
 * decrypts to the tone ffmpeg encoded; what Carillon encrypts ffmpeg decrypts to the bytes sent.
 */
const dir = mkdtempSync(path.join(os.tmpdir(), 'carillon-srtp-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(args: readonly string[], limitMs: number): Promise<void> {
  const ff = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
  return new Promise((resolve) => {
    const t = setTimeout(() => ff.kill('SIGKILL'), limitMs);
    ff.on('close', () => {
      clearTimeout(t);
      resolve();
    });
  });
}

describe('SRTP interoperates with ffmpeg', () => {
  for (const suite of ['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32'] as const satisfies readonly SrtpSuite[]) {
    it(`${suite}: ffmpeg → Carillon: every packet authenticates and decrypts to the 1 kHz tone`, async () => {
      const master = newMasterKey();
      const sock = dgram.createSocket('udp4');
      await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
      const port = sock.address().port;
      const got: Buffer[] = [];
      sock.on('message', (m) => got.push(m));
      const params = Buffer.concat([master.key, master.salt]).toString('base64');
      await run(['-re', '-f', 'lavfi', '-i', 'sine=frequency=1000:sample_rate=8000:duration=1', '-c:a', 'pcm_mulaw', '-ar', '8000', '-ac', '1', '-f', 'rtp', '-srtp_out_suite', suite, '-srtp_out_params', params, `srtp://127.0.0.1:${port}?pkt_size=172`], 10_000);
      await new Promise((r) => setTimeout(r, 100));
      sock.close();
      const ctx = new SrtpContext(suite, master);
      let rtp = 0;
      let same = 0;
      let pairs = 0;
      for (const p of got) {
        const pt = (p[1] as number) & 0x7f;
        const r = pt >= 72 && pt <= 76 ? ctx.unprotectRtcp(p) : ctx.unprotectRtp(p);
        expect(r.ok).toBe(true);
        if (!r.ok || (pt >= 72 && pt <= 76)) continue;
        rtp++;
        // 1 kHz at 8 kHz: every 8th µ-law sample repeats.
        const pl = r.packet.subarray(12);
        for (let i = 0; i + 8 < pl.length; i++, pairs++) if (pl[i] === pl[i + 8]) same++;
      }
      expect(rtp).toBeGreaterThanOrEqual(40);
      expect(same / pairs).toBeGreaterThan(0.95);
    });
  }

  it('Carillon → ffmpeg: ffmpeg decrypts what Carillon protected to exactly the bytes sent', async () => {
    const master = newMasterKey();
    const port = await freePort();
    const sdp = path.join(dir, 'in.sdp');
    const out = path.join(dir, 'out.ul');
    writeFileSync(
      sdp,
      `v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio ${port} RTP/SAVP 0\r\na=rtpmap:0 PCMU/8000\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${Buffer.concat([master.key, master.salt]).toString('base64')}\r\n`,
    );
    const done = run(['-protocol_whitelist', 'file,udp,rtp,srtp,crypto', '-i', sdp, '-t', '1', '-c:a', 'copy', '-f', 'mulaw', '-y', out], 8_000);
    await new Promise((r) => setTimeout(r, 1500));
    const ctx = new SrtpContext('AES_CM_128_HMAC_SHA1_80', master);
    const sock = dgram.createSocket('udp4');
    const sent: Buffer[] = [];
    for (let i = 0; i < 120; i++) {
      const h = Buffer.alloc(12);
      h[0] = 0x80;
      h.writeUInt16BE((65_500 + i) & 0xffff, 2);
      h.writeUInt32BE(i * 160, 4);
      h.writeUInt32BE(0x1234, 8);
      const payload = crypto.randomBytes(160);
      sent.push(payload);
      sock.send(ctx.protectRtp(Buffer.concat([h, payload])) as Buffer, port, '127.0.0.1');
      await new Promise((r) => setTimeout(r, 20));
    }
    await done;
    sock.close();
    const decoded = readFileSync(out);
    // One second of audio (ffmpeg starts with the first packet it sees), byte for byte.
    expect(decoded.length).toBeGreaterThanOrEqual(8000);
    expect(Buffer.concat(sent).indexOf(decoded)).toBeGreaterThanOrEqual(0);
  });
});
