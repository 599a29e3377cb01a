import { describe, expect, it } from 'vitest';
import type { SipHeader, SipRequest } from '../../../../signaling/sip/message/types.ts';
import type { Source } from '../../../../signaling/sip/transport/types.ts';
import { CalleePeer, CallerPeer, FakeTransportHub, header, SDP_ANSWER, sdp, SipPeer, tagOf, UaHarness } from '../../../support/sip-ua-harness.ts';

/** An out-of-dialog request from a peer (no To tag). */
function outOfDialog(peer: SipPeer, method: string, extra: readonly SipHeader[] = [], body: Buffer = Buffer.alloc(0)): SipRequest {
  const fields: SipHeader[] = [
    { name: 'max-forwards', value: '70' },
    { name: 'from', value: '<sip:alice@127.0.0.2>;tag=ood1' },
    { name: 'to', value: '<sip:carillon@127.0.0.1>' },
    { name: 'call-id', value: `ood-${method}` },
    { name: 'cseq', value: `1 ${method}` },
  ];
  const own = fields.filter((f) => !extra.some((x) => x.name === f.name));
  return peer.request(method, 'sip:carillon@127.0.0.1', [...own, ...extra], body);
}

describe('SipUserAgent: requests outside any dialog', () => {
  it('answers OPTIONS itself with its capabilities (no version banner) and tells the keepalive listener', () => {
    const seen: { req: SipRequest; source: Source }[] = [];
    const h = new UaHarness({ onOptions: (req, source) => void seen.push({ req, source }) });
    const peer = new SipPeer();
    h.deliver(outOfDialog(peer, 'OPTIONS'), peer.source);
    const r = h.hub.lastResponse();
    expect(r.status).toBe(200);
    expect(header(r, 'allow')).toContain('INVITE');
    expect(header(r, 'accept')).toBe('application/sdp');
    expect(header(r, 'supported')).toBe('timer, 100rel');
    expect(header(r, 'server')).toBeUndefined();
    expect(header(r, 'user-agent')).toBeUndefined();
    expect(tagOf(header(r, 'to'))).toBeDefined();
    expect(seen).toHaveLength(1);
    expect(seen[0]?.source).toEqual(peer.source);
    expect(h.ua.counters.rejectedRequests).toBe(0);
  });

  it.each(['BYE', 'PRACK', 'UPDATE', 'INFO', 'NOTIFY'])('%s without a dialog: 481', (method) => {
    const h = new UaHarness();
    const peer = new SipPeer();
    h.deliver(outOfDialog(peer, method), peer.source);
    expect(h.hub.lastResponse().status).toBe(481);
    expect(h.ua.counters.rejectedRequests).toBe(1);
  });

  it.each(['REGISTER', 'SUBSCRIBE', 'PUBLISH', 'REFER', 'MESSAGE'])('%s (known, not served here): 405 with Allow', (method) => {
    const h = new UaHarness();
    const peer = new SipPeer();
    h.deliver(outOfDialog(peer, method), peer.source);
    const r = h.hub.lastResponse();
    expect(r.status).toBe(405);
    expect(header(r, 'allow')).toContain('INVITE');
  });

  it('an unknown method: 501 with Allow (RFC 3261 §21.5.2)', () => {
    const h = new UaHarness();
    const peer = new SipPeer();
    h.deliver(outOfDialog(peer, 'FROBNICATE'), peer.source);
    expect(h.hub.lastResponse().status).toBe(501);
    expect(header(h.hub.lastResponse(), 'allow')).toBeDefined();
  });

  it('a Require Carillon does not implement: 420 listing it in Unsupported', () => {
    const h = new UaHarness();
    const peer = new SipPeer();
    h.deliver(outOfDialog(peer, 'OPTIONS', [{ name: 'require', value: 'foo, timer' }]), peer.source);
    const r = h.hub.lastResponse();
    expect(r.status).toBe(420);
    expect(header(r, 'unsupported')).toBe('foo');
  });

  it('an in-dialog request for no dialog it knows: 481', () => {
    const h = new UaHarness();
    const peer = new SipPeer();
    h.deliver(outOfDialog(peer, 'BYE', [{ name: 'to', value: '<sip:carillon@127.0.0.1>;tag=nobody' }]), peer.source);
    expect(h.hub.lastResponse().status).toBe(481);
  });
});

describe('SipUserAgent: new INVITEs', () => {
  const refusals: [string, readonly SipHeader[], number, string | undefined][] = [
    ['Max-Forwards 0', [{ name: 'max-forwards', value: '0' }], 483, undefined],
    ['a Session-Expires below Min-SE', [{ name: 'session-expires', value: '60' }], 422, undefined],
    ['an unsupported Require', [{ name: 'require', value: 'precondition' }], 420, undefined],
    ['a body that is no session description', [{ name: 'content-type', value: 'text/plain' }], 415, undefined],
  ];
  it.each(refusals)('refuses %s', (_what, extra, status, reason) => {
    const h = new UaHarness();
    const peer = new SipPeer();
    const fields: SipHeader[] = [{ name: 'contact', value: peer.contact }, ...extra];
    h.deliver(outOfDialog(peer, 'INVITE', fields, Buffer.from('v=0\r\n')), peer.source);
    const r = h.hub.lastResponse();
    expect(r.status).toBe(status);
    if (reason !== undefined) expect(r.reason).toBe(reason);
    if (status === 422) expect(header(r, 'min-se')).toBe('90');
    if (status === 415) expect(header(r, 'accept')).toBe('application/sdp');
    expect(h.incoming).toHaveLength(0);
    expect(h.ua.dialogCount).toBe(0);
  });

  it('refuses an INVITE without Contact (400)', () => {
    const h = new UaHarness();
    const peer = new SipPeer();
    h.deliver(outOfDialog(peer, 'INVITE'), peer.source);
    expect(h.hub.lastResponse().status).toBe(400);
    expect(h.hub.lastResponse().reason).toBe('Missing Contact');
  });

  it('refuses an INVITE that came back to Carillon (its own Via on top): 482', () => {
    const h = new UaHarness();
    h.ua.ownSentBy.add('127.0.0.2:5070');
    const c = new CallerPeer(h);
    expect(c.incoming).toBeUndefined();
    expect(h.hub.lastResponse().status).toBe(482);
  });

  it('refuses every INVITE with 503 while nobody takes calls, or on a transport it has no address for', () => {
    const h = new UaHarness({ takeCalls: false });
    new CallerPeer(h);
    expect(h.hub.lastResponse().status).toBe(503);
    expect(h.ua.dialogCount).toBe(0);
    const h2 = new UaHarness({ hub: new FakeTransportHub({ udp: { address: '127.0.0.1', port: 5060 } }) });
    new CallerPeer(h2, { transport: 'tcp' });
    expect(h2.hub.lastResponse().status).toBe(503);
  });

  it('hands each acceptable INVITE to whoever takes calls, as a caller’s leg with its request and source', () => {
    const h = new UaHarness();
    const c = new CallerPeer(h);
    expect(h.incoming).toHaveLength(1);
    expect(c.incoming?.leg.wireCallId).toBe('caller-call-1');
    expect(c.incoming?.request.uri).toBe('sip:+15550100@127.0.0.1');
    expect(h.ua.dialogCount).toBe(1);
  });

  it('an INVITE retransmission is absorbed by its transaction (one leg)', () => {
    const h = new UaHarness();
    const c = new CallerPeer(h);
    h.deliver(SipPeer.retransmission(c.invite), c.peer.source);
    expect(h.incoming).toHaveLength(1);
    expect(h.hub.trace).toEqual(['100', '100']);
  });
});

describe('SipUserAgent: dispatch to legs', () => {
  it('in-dialog requests go to the leg of their dialog (Call-ID and Carillon’s tag), for caller and callee legs alike', () => {
    const h = new UaHarness();
    const a = new CallerPeer(h);
    a.leg.answer(200, undefined, sdp(SDP_ANSWER), []);
    a.ack();
    const b = new CalleePeer(h);
    b.reply(200, { body: SDP_ANSWER });
    b.leg.confirm(undefined);
    expect(h.ua.dialogCount).toBe(2);
    a.send('INFO');
    b.send('INFO');
    expect(a.events.kinds).toEqual(['confirmed', 'request']);
    expect(b.events.kinds).toEqual(['answered', 'request']);
  });

  it('an ACK goes to its leg; one for no known dialog is dropped', () => {
    const h = new UaHarness();
    const c = new CallerPeer(h);
    c.leg.answer(200, undefined, sdp(SDP_ANSWER), []);
    const peer = new SipPeer();
    h.deliver(outOfDialog(peer, 'ACK', [{ name: 'to', value: '<sip:carillon@127.0.0.1>;tag=nobody' }]), peer.source);
    h.deliver(outOfDialog(peer, 'ACK'), peer.source);
    expect(c.events.kinds).toEqual([]);
    c.ack();
    expect(c.events.kinds).toEqual(['confirmed']);
  });

  it('a response that matches no transaction is counted as stray', () => {
    const h = new UaHarness();
    const c = new CalleePeer(h);
    c.reply(200, { body: SDP_ANSWER });
    const res = c.peer.answer(c.invite, 200, { toTag: 'x' });
    res.headers[0] = { name: 'via', value: 'SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKnobody' };
    h.deliver(res, c.peer.source);
    expect(h.ua.counters.strayResponses).toBe(1);
  });

  it('a caller’s INVITE transaction that cannot reach the caller any more ends its leg (transport-error)', async () => {
    const h = new UaHarness();
    const c = new CallerPeer(h, { transport: 'tcp' });
    h.hub.failNext = { code: 'CONNECTION_CLOSED' };
    c.leg.progress(180, undefined, undefined, []);
    await h.settle();
    expect(c.events.kinds).toEqual(['ended']);
    expect(c.events.last('ended').reason).toBe('transport-error');
    c.leg.close();
    expect(h.ua.dialogCount).toBe(0);
    expect(h.uaTimers.pendingCount).toBe(0);
  });

  it('sendRequest() sends a request outside any dialog and forgets its answer', () => {
    const h = new UaHarness();
    const req: SipRequest = {
      kind: 'request',
      method: 'BYE',
      uri: 'sip:rec@127.0.0.4:5090',
      headers: [
        { name: 'max-forwards', value: '70' },
        { name: 'from', value: '<sip:carillon@127.0.0.1>;tag=r1' },
        { name: 'to', value: '<sip:rec@127.0.0.4>;tag=r2' },
        { name: 'call-id', value: 'rec-1' },
        { name: 'cseq', value: '2 BYE' },
      ],
      body: Buffer.alloc(0),
    };
    h.ua.sendRequest(req, { transport: 'udp', address: '127.0.0.4', port: 5090 });
    const sent = h.hub.lastRequest('BYE');
    expect(header(sent, 'via')).toMatch(/branch=z9hG4bK/);
    h.deliver(new SipPeer('udp', '127.0.0.4', 5090).answer(sent, 200), { transport: 'udp', address: '127.0.0.4', port: 5090, localAddress: '127.0.0.1', localPort: 5060 });
    expect(h.ua.counters.strayResponses).toBe(0);
  });

  it('newCallId() gives a fresh Call-ID each time; contactFor() names each transport Carillon listens on', () => {
    const h = new UaHarness();
    expect(h.ua.newCallId()).not.toBe(h.ua.newCallId());
    expect(h.ua.contactFor('udp')).toBe('<sip:127.0.0.1:5060;transport=udp>');
    expect(h.ua.contactFor('tls')).toBe('<sip:127.0.0.1:5061;transport=tls>');
    const h2 = new UaHarness({ hub: new FakeTransportHub({ udp: { address: '127.0.0.1', port: 5060 } }) });
    expect(h2.ua.contactFor('tcp')).toBeUndefined();
  });

  it('is unusable before attach()', async () => {
    const { SipUserAgent } = await import('../../../../signaling/sip/ua/sip-user-agent.ts');
    const h = new UaHarness();
    const ua = new SipUserAgent(h.ua.opts);
    expect(() => ua.tx).toThrow(/attach/);
  });

  it('every leg closed: no dialog and no user-agent timer left', () => {
    const h = new UaHarness();
    const a = new CallerPeer(h, { extra: [{ name: 'supported', value: '100rel' }] });
    a.leg.progress(183, undefined, sdp(SDP_ANSWER), []);
    const b = new CalleePeer(h);
    b.reply(180);
    const a2 = new CallerPeer(h, { callId: 'caller-call-2', peer: new SipPeer('udp', '127.0.0.5', 5070) });
    a2.leg.answer(200, undefined, sdp(SDP_ANSWER), []);
    a2.ack();
    a2.leg.sessionUpdated();
    expect(h.ua.dialogCount).toBe(3);
    expect(h.uaTimers.pendingCount).toBeGreaterThan(0);
    for (const leg of [a.leg, b.leg, a2.leg]) leg.close();
    expect(h.ua.dialogCount).toBe(0);
    expect(h.uaTimers.pendingCount).toBe(0);
  });
});
