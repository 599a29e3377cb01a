import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawTcpPeer, RawUdpPeer } from '../support/raw-sip.ts';
import { startTestServer } from '../support/server.ts';
import type { TestServer } from '../support/server.ts';

/** A request from the raw peer; `extra` headers go before Content-Length. */
function request(method: string, peerPort: number, opts: { uri?: string; extra?: string; branch?: string; transport?: string; toTag?: string } = {}): string {
  const branch = opts.branch ?? `z9hG4bK${Math.random().toString(36).slice(2)}`;
  const tr = opts.transport ?? 'UDP';
  return (
    `${method} ${opts.uri ?? 'sip:+12065550100@127.0.0.1'} SIP/2.0\r\n` +
    `Via: SIP/2.0/${tr} 127.0.0.1:${peerPort};branch=${branch};rport\r\n` +
    `Max-Forwards: 70\r\n` +
    `From: <sip:alice@127.0.0.1>;tag=a1\r\n` +
    `To: <sip:+12065550100@127.0.0.1>${opts.toTag === undefined ? '' : `;tag=${opts.toTag}`}\r\n` +
    `Call-ID: ${Math.random().toString(36).slice(2)}@test\r\n` +
    `CSeq: 1 ${method}\r\n` +
    `Contact: <sip:alice@127.0.0.1:${peerPort}>\r\n` +
    (opts.extra ?? '') +
    `Content-Length: 0\r\n\r\n`
  );
}

describe('SIP answers Carillon gives itself', () => {
  let t: TestServer;
  let peer: RawUdpPeer;
  let udp: number;

  beforeAll(async () => {
    t = await startTestServer({ sip: { requestsPerSecPerSource: 1000, burstPerSource: 1000 } });
    peer = new RawUdpPeer();
    await peer.open();
    udp = t.ports.sipUdp as number;
  });

  afterAll(async () => {
    peer.close();
    await t.close();
  });

  async function ask(msg: string): Promise<string> {
    const branch = /branch=([^;\r]+)/.exec(msg)?.[1] ?? '';
    peer.send(msg, udp);
    const r = await peer.waitFor((x) => x.status !== undefined && x.status >= 200 && x.text.includes(branch));
    expect(r, `no final answer to:\n${msg}`).toBeDefined();
    return r?.text ?? '';
  }

  it('OPTIONS to Carillon → 200 with Allow/Accept/Supported and no banner', async () => {
    const res = await ask(request('OPTIONS', peer.port, { uri: 'sip:127.0.0.1' }));
    expect(res).toMatch(/^SIP\/2\.0 200 OK\r\n/);
    expect(res).toMatch(/\r\nAllow: [^\r]*INVITE/);
    expect(res).toMatch(/\r\nAccept: application\/sdp/);
    expect(res).toMatch(/\r\nSupported: /);
    expect(res).not.toMatch(/\r\n(Server|User-Agent):/i);
    expect(res).toMatch(/;received=127\.0\.0\.1/);
    expect(res).toMatch(new RegExp(`;rport=${peer.port}`));
  });

  it('Max-Forwards 0 → 483', async () => {
    const res = await ask(request('INVITE', peer.port).replace('Max-Forwards: 70', 'Max-Forwards: 0'));
    expect(res).toMatch(/^SIP\/2\.0 483 /);
  });

  it('unsupported Require → 420 with Unsupported', async () => {
    const res = await ask(request('INVITE', peer.port, { extra: 'Require: foo, timer\r\n' }));
    expect(res).toMatch(/^SIP\/2\.0 420 /);
    expect(res).toMatch(/\r\nUnsupported: foo\r\n/);
  });

  it('REGISTER → 405 with Allow; an unknown method → 501', async () => {
    expect(await ask(request('REGISTER', peer.port, { uri: 'sip:127.0.0.1' }))).toMatch(/^SIP\/2\.0 405 [^]*\r\nAllow: /);
    expect(await ask(request('FROBNICATE', peer.port))).toMatch(/^SIP\/2\.0 501 /);
  });

  it('BYE for no dialog → 481', async () => {
    expect(await ask(request('BYE', peer.port, { toTag: 'nope' }))).toMatch(/^SIP\/2\.0 481 /);
  });

  it('Session-Expires below Min-SE → 422 with Min-SE', async () => {
    const res = await ask(request('INVITE', peer.port, { extra: 'Supported: timer\r\nSession-Expires: 30\r\n' }));
    expect(res).toMatch(/^SIP\/2\.0 422 /);
    expect(res).toMatch(/\r\nMin-SE: 90\r\n/);
  });

  it('no route → 404', async () => {
    expect(await ask(request('INVITE', peer.port))).toMatch(/^SIP\/2\.0 404 /);
  });

  it('a malformed request → 400 with a Warning naming the fault, and the server stays up', async () => {
    const bad = request('INVITE', peer.port).replace(/CSeq: 1 INVITE/, 'CSeq: x INVITE');
    const res = await ask(bad);
    expect(res).toMatch(/^SIP\/2\.0 400 /);
    expect(res).toMatch(/\r\nWarning: 399 /);
    expect(await ask(request('OPTIONS', peer.port))).toMatch(/^SIP\/2\.0 200 /);
  });

  it('the same answers over TCP', async () => {
    const tcp = new RawTcpPeer();
    const port = await tcp.connect(t.ports.sipTcp as number);
    tcp.send(request('OPTIONS', port, { transport: 'TCP' }));
    tcp.send(request('INVITE', port, { transport: 'TCP' }).replace('Max-Forwards: 70', 'Max-Forwards: 0'));
    expect(await tcp.waitFor(() => tcp.statuses().includes(483))).toBe(true);
    expect(tcp.statuses()).toContain(200);
    tcp.close();
  });

  it('leaves no transaction, dialog or call behind', async () => {
    const s = await t.waitIdle();
    expect(s).toMatchObject({ transactions: 0, dialogs: 0, calls: 0 });
  });
});

describe('next hop that does not resolve', () => {
  it('the caller gets 503 with Retry-After, and nothing is left', async () => {
    // The test server's own DNS table is empty: every name is "not found", and no query leaves the process.
    const t = await startTestServer({ routes: [{ match: {}, target: 'sip:pbx.example.invalid;transport=udp' }] });
    const peer = new RawUdpPeer();
    await peer.open();
    try {
      peer.send(request('INVITE', peer.port, { extra: 'Content-Type: application/sdp\r\n' }), t.ports.sipUdp as number);
      const res = await peer.waitFor((r) => r.status !== undefined && r.status >= 200, 10_000);
      expect(res?.status).toBe(503);
      expect(res?.text).toMatch(/\r\nRetry-After: \d+\r\n/);
      // RFC 3263 §4.2: a transport but no port: SRV for that transport, then A records.
      expect(t.dns.questions).toEqual([
        { type: 'SRV', name: '_sip._udp.pbx.example.invalid' },
        { type: 'A', name: 'pbx.example.invalid' },
      ]);
      expect(await t.waitIdle()).toMatchObject({ transactions: 0, dialogs: 0, calls: 0 });
    } finally {
      peer.close();
      await t.close();
    }
  });
});

describe('per-source rate limit', () => {
  it('answers 503 with Retry-After past the limit and counts it', async () => {
    const t = await startTestServer({ sip: { requestsPerSecPerSource: 1, burstPerSource: 5 } });
    const peer = new RawUdpPeer();
    await peer.open();
    try {
      for (let i = 0; i < 20; i++) peer.send(request('OPTIONS', peer.port, { uri: 'sip:127.0.0.1' }), t.ports.sipUdp as number);
      await peer.waitFor(() => peer.replies.length >= 20);
      const statuses = peer.replies.map((r) => r.status);
      expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(5);
      expect(statuses.filter((s) => s === 503).length).toBeGreaterThanOrEqual(10);
      expect(peer.replies.find((r) => r.status === 503)?.text).toMatch(/\r\nRetry-After: \d+\r\n/);
      expect(t.server.edge.counters.rateLimited).toBeGreaterThanOrEqual(10);
      expect(await t.waitIdle()).toMatchObject({ transactions: 0 });
    } finally {
      peer.close();
      await t.close();
    }
  });
});
