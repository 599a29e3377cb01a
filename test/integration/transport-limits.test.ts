import net from 'node:net';
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { startTestServer } from '../support/server.ts';

function tcpConnect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.once('error', reject);
  });
}

function closed(s: net.Socket, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (s.destroyed || s.readyState === 'closed') return resolve(true);
    const t = setTimeout(() => resolve(false), ms);
    s.once('close', () => {
      clearTimeout(t);
      resolve(true);
    });
    s.on('error', () => undefined);
  });
}

function tlsHandshake(port: number, opts: tls.ConnectionOptions): Promise<{ ok: boolean; protocol: string | null; cipher: string | undefined }> {
  return new Promise((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...opts }, () => {
      const r = { ok: true, protocol: s.getProtocol(), cipher: s.getCipher()?.name };
      s.destroy();
      resolve(r);
    });
    s.once('error', () => resolve({ ok: false, protocol: null, cipher: undefined }));
  });
}

describe('stream transport limits', () => {
  it('refuses connections past the per-source limit and closes idle ones', async () => {
    const t = await startTestServer({ sip: { maxConnectionsPerSource: 2, tcpIdleTimeoutSec: 1 } });
    try {
      const port = t.ports.sipTcp as number;
      const a = await tcpConnect(port);
      const b = await tcpConnect(port);
      const c = await tcpConnect(port);
      expect(await closed(c, 1000)).toBe(true);
      expect(a.destroyed).toBe(false);
      // Idle for more than a second: closed by Carillon.
      expect(await closed(a, 3000)).toBe(true);
      expect(await closed(b, 3000)).toBe(true);
      for (let i = 0; i < 100 && t.server.stats().connections > 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(t.server.stats().connections).toBe(0);
    } finally {
      await t.close();
    }
  });

  it('TLS: 1.2 and 1.3 with forward-secret suites only; 1.1 and static-RSA suites are refused', async () => {
    const t = await startTestServer();
    try {
      const port = t.ports.sipTls as number;
      const v13 = await tlsHandshake(port, {});
      expect(v13).toMatchObject({ ok: true, protocol: 'TLSv1.3' });
      const v12 = await tlsHandshake(port, { maxVersion: 'TLSv1.2' });
      expect(v12.ok).toBe(true);
      expect(v12.cipher).toMatch(/^ECDHE-/);
      expect((await tlsHandshake(port, { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' })).ok).toBe(false);
      expect((await tlsHandshake(port, { maxVersion: 'TLSv1.2', ciphers: 'AES128-GCM-SHA256:AES256-GCM-SHA384' })).ok).toBe(false);
    } finally {
      await t.close();
    }
  });
});

describe('slow senders cannot hold a connection', () => {
  const options = 'OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bKdrip\r\nMax-Forwards: 70\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:127.0.0.1>\r\nCall-ID: drip@test\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n';

  it('a message dripped a byte at a time is closed at the deadline; one that sent nothing too; whole messages with pauses are not', async () => {
    const t = await startTestServer({ sip: { messageDeadlineSec: 1, tcpIdleTimeoutSec: 60 } });
    try {
      const port = t.ports.sipTcp as number;
      const drip = await tcpConnect(port);
      let sent = 0;
      const dripper = setInterval(() => {
        if (!drip.destroyed && sent < options.length) drip.write(options[sent++] ?? '');
      }, 150);
      const silent = await tcpConnect(port);
      const polite = await tcpConnect(port);
      let politeAnswers = 0;
      polite.on('data', (b: Buffer) => (politeAnswers += (b.toString('latin1').match(/SIP\/2\.0 200 /g) ?? []).length));
      polite.write(options.replace('drip@test', 'polite1@test'));
      try {
        expect(await closed(drip, 4000)).toBe(true);
        expect(sent).toBeLessThan(options.length);
        expect(await closed(silent, 4000)).toBe(true);
        // A whole message, a pause longer than the deadline, another whole message: still open.
        await new Promise((r) => setTimeout(r, 1500));
        expect(polite.destroyed).toBe(false);
        polite.write(options.replace('drip@test', 'polite2@test').replace('z9hG4bKdrip', 'z9hG4bKdrip2'));
        for (let i = 0; i < 100 && politeAnswers < 2; i++) await new Promise((r) => setTimeout(r, 20));
        expect(politeAnswers).toBe(2);
        expect(t.server.edge.streamCounters().deadlinesMissed).toBeGreaterThanOrEqual(2);
      } finally {
        clearInterval(dripper);
        polite.destroy();
      }
    } finally {
      await t.close();
    }
  });

  it('TLS: a connection silent after its handshake is closed at the deadline', async () => {
    const t = await startTestServer({ sip: { messageDeadlineSec: 1 } });
    try {
      const s = await new Promise<tls.TLSSocket>((resolve, reject) => {
        const c = tls.connect({ host: '127.0.0.1', port: t.ports.sipTls as number, rejectUnauthorized: false }, () => resolve(c));
        c.once('error', reject);
      });
      expect(await closed(s, 4000)).toBe(true);
    } finally {
      await t.close();
    }
  });
});
