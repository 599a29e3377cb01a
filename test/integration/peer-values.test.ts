import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawTcpPeer, RawUdpPeer, responseTo } from '../support/raw-sip.ts';
import { startTestServer } from '../support/server.ts';
import type { TestServer } from '../support/server.ts';

/**
 * Values a peer writes — Via ports, rport, received, Contact and Route ports, SDP addresses and
 * RTCP ports, duplicated or poisoned headers — reach Node APIs that throw (dgram, net) or look
 * names up. None of them may take the server down, send anything where the peer merely says, or
 * go unanswered where an answer can be routed.
 */

let seq = 0;
const branch = (): string => `z9hG4bKpv${++seq}x${Math.random().toString(36).slice(2, 8)}`;

interface Req {
  method?: string;
  uri?: string;
  via?: string;
  contact?: string | null;
  callId?: string | null;
  extra?: string;
  body?: string;
}

function request(peerPort: number, o: Req = {}): string {
  const method = o.method ?? 'OPTIONS';
  const body = o.body ?? '';
  return (
    `${method} ${o.uri ?? 'sip:127.0.0.1'} SIP/2.0\r\n` +
    `Via: ${o.via ?? `SIP/2.0/UDP 127.0.0.1:${peerPort};branch=${branch()};rport`}\r\n` +
    'Max-Forwards: 70\r\n' +
    'From: <sip:alice@127.0.0.1>;tag=pv1\r\n' +
    `To: <${o.uri ?? 'sip:127.0.0.1'}>\r\n` +
    (o.callId === null ? '' : `Call-ID: ${o.callId ?? `pv-${++seq}@test`}\r\n`) +
    `CSeq: 1 ${method}\r\n` +
    (o.contact === null ? '' : `Contact: ${o.contact ?? `<sip:alice@127.0.0.1:${peerPort}>`}\r\n`) +
    (o.extra ?? '') +
    (body.length > 0 ? 'Content-Type: application/sdp\r\n' : '') +
    `Content-Length: ${Buffer.byteLength(body, 'latin1')}\r\n\r\n${body}`
  );
}

function sdp(port: number, o: { address?: string; lines?: number; rtcp?: string } = {}): string {
  const lines = [`v=0`, `o=- 1 1 IN IP4 127.0.0.1`, `s=-`, `c=IN IP4 ${o.address ?? '127.0.0.1'}`, `t=0 0`];
  for (let i = 0; i < (o.lines ?? 1); i++) {
    lines.push(`m=audio ${port + 2 * i} RTP/AVP 0`, 'a=rtpmap:0 PCMU/8000');
    if (o.rtcp !== undefined) lines.push(`a=rtcp:${o.rtcp}`);
  }
  return `${lines.join('\r\n')}\r\n`;
}

const finalOf = (peer: RawUdpPeer, b: string, timeoutMs = 3000) => peer.waitFor((r) => r.status !== undefined && r.status >= 200 && r.text.includes(b), timeoutMs);
const branchOf = (msg: string): string => /branch=([^;\r\s]+)/.exec(msg)?.[1] ?? '';

describe('peer-supplied addresses and ports', () => {
  let t: TestServer;
  let peer: RawUdpPeer;
  let callee: RawUdpPeer;
  let udp: number;

  beforeAll(async () => {
    callee = new RawUdpPeer();
    const calleePort = await callee.open();
    t = await startTestServer({
      sip: { requestsPerSecPerSource: 10_000, burstPerSource: 10_000 },
      routes: [{ match: { userPrefix: '+1206' }, target: `sip:127.0.0.1:${calleePort};transport=udp` }],
    });
    peer = new RawUdpPeer();
    await peer.open();
    udp = t.ports.sipUdp as number;
  });

  afterAll(async () => {
    peer.close();
    callee.close();
    await t.close();
  });

  async function alive(): Promise<void> {
    const msg = request(peer.port);
    peer.send(msg, udp);
    expect((await finalOf(peer, branchOf(msg)))?.status).toBe(200);
  }

  it('a top Via with port 0 gets 400 at the address it came from, and the server stays up', async () => {
    const msg = request(peer.port, { via: `SIP/2.0/UDP 127.0.0.1:0;branch=${branch()}` });
    peer.send(msg, udp);
    const res = await finalOf(peer, branchOf(msg));
    expect(res?.status).toBe(400);
    expect(res?.text).toMatch(/\r\nWarning: 399 carillon "Bad Via header"/);
    await alive();
  });

  it('a Via port above 65535 gets 400 where it came from', async () => {
    for (const via of [`SIP/2.0/UDP 127.0.0.1:65536;branch=${branch()}`, `SIP/2.0/UDP 127.0.0.1:99999;branch=${branch()};rport=99999`]) {
      const msg = request(peer.port, { via });
      peer.send(msg, udp);
      expect((await finalOf(peer, branchOf(msg)))?.status).toBe(400);
    }
    await alive();
  });

  it('rport=0 or a rport the peer filled in itself is replaced with the source port', async () => {
    for (const rport of ['0', '70000', '1']) {
      const msg = request(peer.port, { via: `SIP/2.0/UDP 127.0.0.1:${peer.port};branch=${branch()};rport=${rport}` });
      peer.send(msg, udp);
      const res = await finalOf(peer, branchOf(msg));
      expect(res?.status, `rport=${rport}`).toBe(200);
      expect(res?.text).toContain(`;rport=${peer.port}`);
    }
  });

  it('a received= the peer wrote is not where the answer goes (no reflection)', async () => {
    for (const received of ['127.0.0.2', 'evil.example', '[::1]']) {
      const msg = request(peer.port, { via: `SIP/2.0/UDP 127.0.0.1:${peer.port};received=${received};branch=${branch()}` });
      peer.send(msg, udp);
      const res = await finalOf(peer, branchOf(msg));
      expect(res?.status, `received=${received}`).toBe(200);
      expect(res?.text).toContain(';received=127.0.0.1');
    }
  });

  it('a Contact, Route or Record-Route naming port 0 is a 400', async () => {
    const contact = request(peer.port, { method: 'INVITE', uri: 'sip:+12065550100@127.0.0.1', contact: '<sip:alice@127.0.0.1:0>' });
    const route = request(peer.port, { method: 'INVITE', uri: 'sip:+12065550100@127.0.0.1', extra: 'Record-Route: <sip:127.0.0.1:0;lr>\r\n' });
    const route2 = request(peer.port, { method: 'INVITE', uri: 'sip:+12065550100@127.0.0.1', extra: 'Route: <sip:127.0.0.1:0;lr>\r\n' });
    for (const [msg, fault] of [
      [contact, 'Bad Contact header'],
      [route, 'Bad Record-Route header'],
      [route2, 'Bad Route header'],
    ] as const) {
      peer.send(msg, udp);
      const res = await finalOf(peer, branchOf(msg));
      expect(res?.status).toBe(400);
      expect(res?.text).toContain(`"${fault}"`);
    }
    await alive();
  });

  it('an offer whose RTCP port is 0 or whose address is a host name gets 488 (nothing sent to it)', async () => {
    for (const body of [sdp(30_000, { rtcp: '0' }), sdp(30_000, { address: 'media.example' }), sdp(65_535)]) {
      const msg = request(peer.port, { method: 'INVITE', uri: 'sip:+12065550100@127.0.0.1', body });
      peer.send(msg, udp);
      const res = await finalOf(peer, branchOf(msg));
      expect(res?.status).toBe(488);
      peer.send(ackFor(msg, res?.text ?? ''), udp);
    }
    await alive();
  });

  it('a callee answer whose Contact or Record-Route names port 0 is discarded, and the call ends cleanly', async () => {
    for (const extra of ['Contact: <sip:bob@127.0.0.1:0>\r\n', `Contact: <sip:bob@127.0.0.1:${callee.port}>\r\nRecord-Route: <sip:127.0.0.1:0;lr>\r\n`]) {
      callee.replies.length = 0;
      const msg = request(peer.port, { method: 'INVITE', uri: 'sip:+12065550100@127.0.0.1', body: sdp(30_000) });
      peer.send(msg, udp);
      const invite = await callee.waitFor((r) => r.text.startsWith('INVITE '), 3000);
      expect(invite).toBeDefined();
      callee.send(responseTo(invite?.text ?? '', 200, { extra, body: sdp(31_000) }), udp);
      // Discarded: the callee leg times out (64·T1) and the caller hears 408.
      const res = await finalOf(peer, branchOf(msg), 10_000);
      expect(res?.status).toBe(408);
      peer.send(ackFor(msg, res?.text ?? ''), udp);
    }
    expect(t.server.edge.counters.parseErrors).toBeGreaterThan(0);
    await alive();
  });

  it('a callee 2xx without a To tag ends the call with 502 (no dialog can follow it; the call must not wait for ever)', async () => {
    callee.replies.length = 0;
    const msg = request(peer.port, { method: 'INVITE', uri: 'sip:+12065550100@127.0.0.1', body: sdp(30_000) });
    peer.send(msg, udp);
    const invite = await callee.waitFor((r) => r.text.startsWith('INVITE '), 3000);
    expect(invite).toBeDefined();
    const tagless = responseTo(invite?.text ?? '', 200, { extra: `Contact: <sip:bob@127.0.0.1:${callee.port}>\r\n`, body: sdp(31_000) }).replace(';tag=callee1', '');
    callee.send(tagless, udp);
    const res = await finalOf(peer, branchOf(msg));
    expect(res?.status).toBe(502);
    peer.send(ackFor(msg, res?.text ?? ''), udp);
    expect(await t.waitIdle(10_000)).toMatchObject({ calls: 0 });
  });

  it('a caller whose connection is gone before it is answered: the call ends (CANCEL or BYE to the callee) instead of waiting for ever', async () => {
    callee.replies.length = 0;
    const tcp = new RawTcpPeer();
    const local = await tcp.connect(t.ports.sipTcp as number);
    tcp.send(request(local, { method: 'INVITE', uri: 'sip:+12065550199@127.0.0.1', via: `SIP/2.0/TCP 127.0.0.1:${local};branch=${branch()}`, contact: `<sip:alice@127.0.0.1:${local};transport=tcp>`, body: sdp(30_000) }));
    const invite = await callee.waitFor((r) => r.text.startsWith('INVITE ') && r.text.includes('+12065550199'), 3000);
    expect(invite).toBeDefined();
    tcp.close();
    await new Promise((r) => setTimeout(r, 100));
    // The 180 cannot reach the caller any more; the 200 that follows must not bring up half a call.
    callee.send(responseTo(invite?.text ?? '', 180, { toTag: 'gone1' }), udp);
    callee.send(responseTo(invite?.text ?? '', 200, { toTag: 'gone1', extra: `Contact: <sip:bob@127.0.0.1:${callee.port}>\r\n`, body: sdp(31_000) }), udp);
    const ended = await callee.waitFor((r) => /^(CANCEL|BYE) /.test(r.text), 5000);
    expect(ended).toBeDefined();
    if (ended?.text.startsWith('BYE ')) callee.send(responseTo(ended.text, 200), udp);
    expect(await t.waitIdle(10_000)).toMatchObject({ calls: 0, dialogs: 0 });
  });

  it('a percent-encoded Request-URI user routes as the number it spells (RFC 3261 §19.1.4)', async () => {
    callee.replies.length = 0;
    const msg = request(peer.port, { method: 'INVITE', uri: 'sip:%2B12065550100@127.0.0.1', body: sdp(30_000) });
    peer.send(msg, udp);
    const invite = await callee.waitFor((r) => r.text.startsWith('INVITE '), 3000);
    expect(invite).toBeDefined();
    callee.send(responseTo(invite?.text ?? '', 486), udp);
    const res = await finalOf(peer, branchOf(msg));
    expect(res?.status).toBe(486);
    peer.send(ackFor(msg, res?.text ?? ''), udp);
  });

  it('a single-valued header given twice is a 400 (Max-Forwards 70 then abc)', async () => {
    const msg = request(peer.port, { extra: 'Max-Forwards: abc\r\n' });
    peer.send(msg, udp);
    const res = await finalOf(peer, branchOf(msg));
    expect(res?.status).toBe(400);
    expect(res?.text).toContain('"Multiple max-forwards headers"');
  });

  it('a NUL inside Call-ID, or a bare control character in any header, is a 400', async () => {
    for (const m of [request(peer.port, { callId: 'ab\u0000cd@x' }), request(peer.port, { extra: 'Subject: hi\u0001there\r\n' })]) {
      peer.send(m, udp);
      const res = await finalOf(peer, branchOf(m));
      expect(res?.status).toBe(400);
    }
    const cdrless = t.server.stats();
    expect(cdrless.calls).toBe(0);
  });

  it('a request without Call-ID gets 400 over UDP as over TCP', async () => {
    for (const method of ['OPTIONS', 'INVITE']) {
      const msg = request(peer.port, { method, callId: null, uri: 'sip:+12065550100@127.0.0.1' });
      peer.send(msg, udp);
      const res = await finalOf(peer, branchOf(msg));
      expect(res?.status, method).toBe(400);
      expect(res?.text).toContain('"Missing Call-ID header"');
    }
    const tcp = new RawTcpPeer();
    const local = await tcp.connect(t.ports.sipTcp as number);
    tcp.send(request(local, { callId: null, via: `SIP/2.0/TCP 127.0.0.1:${local};branch=${branch()}` }));
    expect(await tcp.waitFor(() => tcp.statuses().includes(400))).toBe(true);
    tcp.close();
  });

  it('leaves no transaction, dialog or call behind', async () => {
    expect(await t.waitIdle(20_000)).toMatchObject({ transactions: 0, dialogs: 0, calls: 0 });
  });
});

/** The ACK for a non-2xx final answer to an INVITE (RFC 3261 §17.1.1.3): same branch, the answer's To. */
function ackFor(invite: string, answer: string): string {
  const head = invite.split('\r\n\r\n')[0] ?? '';
  const lines = head.split('\r\n');
  const uri = (lines[0] ?? '').split(' ')[1] ?? '';
  const keep = lines.slice(1).filter((l) => /^(via|from|call-id|max-forwards):/i.test(l));
  const to = /\r\nTo: ([^\r]+)/i.exec(answer)?.[1] ?? '';
  const cseq = /\r\nCSeq: (\d+)/i.exec(invite)?.[1] ?? '1';
  return `ACK ${uri} SIP/2.0\r\n${keep.join('\r\n')}\r\nTo: ${to}\r\nCSeq: ${cseq} ACK\r\nContent-Length: 0\r\n\r\n`;
}

async function pairsInUseBecomes(t: TestServer, n: number, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while ((await t.server.mediaStatus()).portPairsInUse !== n) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

describe('one source cannot take the port range', () => {
  it('caps media lines per description (488) and port pairs per source (503), while another source still gets ports', async () => {
    const callee = new RawUdpPeer();
    const calleePort = await callee.open();
    // 100 port pairs: one source may hold 50; a call with 16 audio lines holds 32.
    const t = await startTestServer({
      rtpRange: '41000-41199',
      mediaWorkers: 1,
      sip: { requestsPerSecPerSource: 10_000, burstPerSource: 10_000 },
      routes: [{ match: {}, target: `sip:127.0.0.1:${calleePort};transport=udp` }],
    });
    const a = new RawUdpPeer();
    const b = new RawUdpPeer('127.0.0.2');
    await a.open();
    await b.open();
    const udp = t.ports.sipUdp as number;
    try {
      const huge = request(a.port, { method: 'INVITE', uri: 'sip:+12065550100@127.0.0.1', body: sdp(30_000, { lines: 250 }) });
      a.send(huge, udp);
      const r1 = await finalOf(a, branchOf(huge));
      expect(r1?.status).toBe(488);
      expect(r1?.text).toMatch(/^SIP\/2\.0 488 Too Many Media Lines/);
      a.send(ackFor(huge, r1?.text ?? ''), udp);

      // First call from a: 16 lines, ringing (the callee answers 180 and nothing more).
      const first = request(a.port, { method: 'INVITE', uri: 'sip:+12065550100@127.0.0.1', body: sdp(30_000, { lines: 16 }) });
      a.send(first, udp);
      const inv1 = await callee.waitFor((r) => r.text.startsWith('INVITE ') && r.text.includes('m=audio'), 3000);
      expect(inv1).toBeDefined();
      callee.send(responseTo(inv1?.text ?? '', 180, { toTag: 'ring1' }), udp);
      // Second from a: would pass the source's half of the range.
      const second = request(a.port, { method: 'INVITE', uri: 'sip:+12065550101@127.0.0.1', body: sdp(30_100, { lines: 16 }) });
      a.send(second, udp);
      const r2 = await finalOf(a, branchOf(second));
      expect(r2?.status).toBe(503);
      expect(r2?.text).toMatch(/^SIP\/2\.0 503 Media Ports Exhausted For Source/);
      a.send(ackFor(second, r2?.text ?? ''), udp);
      // The refused call's ports go back after the release delay; the ringing call keeps its 32.
      expect(await pairsInUseBecomes(t, 32)).toBe(true);
      // From another source the same call still gets its ports.
      callee.replies.length = 0;
      const other = request(b.port, { method: 'INVITE', uri: 'sip:+12065550102@127.0.0.1', via: `SIP/2.0/UDP 127.0.0.2:${b.port};branch=${branch()};rport`, contact: `<sip:b@127.0.0.2:${b.port}>`, body: sdp(30_200, { lines: 16 }) });
      b.send(other, udp);
      const inv2 = await callee.waitFor((r) => r.text.startsWith('INVITE ') && r.text.includes('+12065550102'), 3000);
      expect(inv2).toBeDefined();
      expect(await pairsInUseBecomes(t, 64)).toBe(true);
      // Hang both up: the callee refuses, the callers ACK.
      for (const [inv, caller, msg] of [
        [inv1, a, first],
        [inv2, b, other],
      ] as const) {
        callee.send(responseTo(inv?.text ?? '', 486, { toTag: 'ring1' }), udp);
        const fin = await finalOf(caller, branchOf(msg));
        expect(fin?.status).toBe(486);
        caller.send(ackFor(msg, fin?.text ?? ''), udp);
      }
      expect(await t.waitIdle(20_000)).toMatchObject({ transactions: 0, dialogs: 0, calls: 0 });
    } finally {
      a.close();
      b.close();
      callee.close();
      await t.close();
    }
  });
});
