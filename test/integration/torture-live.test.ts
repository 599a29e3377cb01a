import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawTcpPeer, RawUdpPeer } from '../support/raw-sip.ts';
import { startTestServer } from '../support/server.ts';
import type { TestServer } from '../support/server.ts';
import { TORTURE, TORTURE_DIR } from '../support/torture.ts';

const OPTIONS = (port: number, branch: string, transport = 'UDP'): string =>
  `OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/${transport} 127.0.0.1:${port};branch=z9hG4bK${branch};rport\r\nMax-Forwards: 70\r\nFrom: <sip:probe@127.0.0.1>;tag=p\r\nTo: <sip:127.0.0.1>\r\nCall-ID: ${branch}@probe\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`;

async function until(pred: () => boolean, ms = 2000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 5));
  }
  return true;
}

describe('RFC 4475 torture messages against the live server', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t.close();
  });

  it('over UDP: valid messages are taken, invalid ones rejected, and the server stays up', async () => {
    const peer = new RawUdpPeer();
    await peer.open();
    const c = t.server.edge.counters;
    for (const tc of TORTURE) {
      const before = { received: c.messagesReceived, requests: c.requestsReceived, responses: c.responsesReceived, errors: c.parseErrors };
      peer.send(readFileSync(path.join(TORTURE_DIR, tc.file)), t.ports.sipUdp as number);
      expect(await until(() => c.messagesReceived > before.received), tc.file).toBe(true);
      if (tc.valid === true) {
        expect(tc.kind === 'request' ? c.requestsReceived : c.responsesReceived, tc.file).toBe((tc.kind === 'request' ? before.requests : before.responses) + 1);
      } else if (tc.valid === false) {
        expect(c.parseErrors, tc.file).toBe(before.errors + 1);
      }
    }
    // A malformed request with a usable Via was answered with a 4xx/5xx (to its Via address on loopback).
    expect(c.badRequestsAnswered).toBeGreaterThan(10);
    peer.send(OPTIONS(peer.port, 'afterudp'), t.ports.sipUdp as number);
    expect(await peer.waitFor((r) => r.status === 200 && r.text.includes('afterudp'))).toBeDefined();
    peer.close();
  });

  it('over TCP: each message on its own connection gets the right reaction', async () => {
    const c = t.server.edge.counters;
    for (const tc of TORTURE) {
      const tcp = new RawTcpPeer();
      await tcp.connect(t.ports.sipTcp as number);
      const before = { received: c.messagesReceived, requests: c.requestsReceived, responses: c.responsesReceived, errors: c.parseErrors };
      tcp.send(readFileSync(path.join(TORTURE_DIR, tc.file)));
      if (tc.file === 'clerr.dat') {
        // Content-Length larger than what was sent: on a stream the message simply isn't complete.
        await new Promise((r) => setTimeout(r, 100));
        expect(c.messagesReceived, tc.file).toBe(before.received);
      } else if (tc.file === 'ncl.dat') {
        // A negative Content-Length can't be framed: the connection is closed.
        expect(await tcp.waitFor(() => tcp.closed), tc.file).toBe(true);
      } else {
        expect(await until(() => c.messagesReceived > before.received), tc.file).toBe(true);
        if (tc.valid === true) {
          expect(tc.kind === 'request' ? c.requestsReceived : c.responsesReceived, tc.file).toBeGreaterThan(tc.kind === 'request' ? before.requests : before.responses);
        } else if (tc.valid === false) {
          expect(c.parseErrors, tc.file).toBeGreaterThan(before.errors);
          // Requests are answered on the same connection with the RFC's status.
          if (tc.kind === 'request' && tc.file !== 'insuf.dat') {
            expect(await tcp.waitFor(() => tcp.statuses().length > 0), tc.file).toBe(true);
            expect(tcp.statuses()[0], tc.file).toBeGreaterThanOrEqual(400);
          }
        }
      }
      tcp.close();
    }
    const probe = new RawTcpPeer();
    const port = await probe.connect(t.ports.sipTcp as number);
    probe.send(OPTIONS(port, 'aftertcp', 'TCP'));
    expect(await probe.waitFor(() => probe.statuses().includes(200))).toBe(true);
    probe.close();
  });

  it('leaves nothing behind', async () => {
    expect(await t.waitIdle(20_000)).toMatchObject({ transactions: 0, dialogs: 0, calls: 0 });
  });
});
