import { describe, expect, it } from 'vitest';
import type { OfferOutcome } from '../../../../common/call-leg.ts';
import type { SipHeader } from '../../../../signaling/sip/message/types.ts';
import { CalleePeer, CallerPeer, cseqNumber, header, SDP_ANSWER, SDP_OFFER, SDP_REOFFER, sdp, tagOf, UaHarness } from '../../../support/sip-ua-harness.ts';

/** A caller's leg answered and ACKed. */
function established(h: UaHarness, extra: readonly SipHeader[] = [], transport: 'udp' | 'tcp' = 'udp'): CallerPeer {
  const c = new CallerPeer(h, { extra, transport });
  c.leg.answer(200, undefined, sdp(SDP_ANSWER), []);
  c.ack();
  c.events.log.length = 0;
  h.hub.clear();
  return c;
}

/** A callee's leg answered and ACKed. */
function establishedCallee(h: UaHarness, headers: readonly SipHeader[] = []): CalleePeer {
  const c = new CalleePeer(h);
  c.reply(200, { body: SDP_ANSWER, headers });
  c.leg.confirm(undefined);
  c.events.log.length = 0;
  h.hub.clear();
  return c;
}

function outcomes(): { list: OfferOutcome[]; done: (o: OfferOutcome) => void } {
  const list: OfferOutcome[] = [];
  return { list, done: (o) => void list.push(o) };
}

describe('SipLeg: requests from the peer inside the dialog', () => {
  describe('re-INVITE', () => {
    it('crosses to the call as reoffer (body, crossing, fields, hops left) and nothing is answered until the call answers', () => {
      const h = new UaHarness();
      const c = established(h);
      c.send('INVITE', [{ name: 'x-hold', value: '1' }, { name: 'max-forwards', value: '12' }], SDP_REOFFER);
      expect(h.hub.trace).toEqual(['100']);
      const { offer } = c.events.last('reoffer');
      expect(offer.method).toBe('INVITE');
      expect(offer.body?.bytes.equals(SDP_REOFFER)).toBe(true);
      expect(offer.body?.contentType).toBe('application/sdp');
      expect(offer.crossing).toContainEqual({ name: 'x-hold', value: '1' });
      expect(offer.crossing.find((f) => f.name === 'contact' || f.name === 'content-type')).toBeUndefined();
      expect(offer.fields.find((f) => f.name === 'cseq')?.value).toBe('2 INVITE');
      expect(offer.hopsLeft).toBe(11);
      expect(c.leg.negotiating).toBe(true);
    });

    it('is answered exactly once: the 2xx has Contact, Allow, Supported and Session-Expires, is resent until its ACK, which confirms', () => {
      const h = new UaHarness();
      const c = established(h);
      c.send('INVITE', [], SDP_REOFFER);
      const { offer } = c.events.last('reoffer');
      offer.answer(200, undefined, sdp(SDP_ANSWER), [{ name: 'x-far', value: 'y' }]);
      offer.answer(200, undefined, sdp(SDP_OFFER), []);
      offer.refuse({ status: 488 });
      const oks = h.hub.responses(200);
      expect(oks).toHaveLength(1);
      const ok = oks[0]!;
      expect(header(ok, 'cseq')).toBe('2 INVITE');
      expect(header(ok, 'contact')).toBe(c.leg.contact);
      expect(header(ok, 'supported')).toBe('timer');
      expect(header(ok, 'session-expires')).toBe('1800;refresher=uas');
      expect(header(ok, 'x-far')).toBe('y');
      expect(ok.body.equals(SDP_ANSWER)).toBe(true);
      expect(h.hub.responses(488)).toHaveLength(0);
      expect(c.leg.negotiating).toBe(false);
      expect(c.leg.lastSdp?.equals(SDP_ANSWER)).toBe(true);
      h.advance(1500);
      expect(h.hub.responses(200)).toHaveLength(3);
      c.ack(2);
      expect(c.events.kinds).toEqual(['reoffer', 'confirmed']);
      h.advance(60_000);
      expect(h.hub.responses(200)).toHaveLength(3);
    });

    it('a provisional may come first, then the answer', () => {
      const h = new UaHarness();
      const c = established(h);
      c.send('INVITE', [], SDP_REOFFER);
      const { offer } = c.events.last('reoffer');
      offer.answer(180, undefined, undefined, []);
      expect(c.leg.negotiating).toBe(true);
      offer.answer(200, undefined, sdp(SDP_ANSWER), []);
      expect(h.hub.trace).toEqual(['100', '180', '200']);
      expect(header(h.hub.lastResponse(180), 'contact')).toBeUndefined();
    });

    it('a refusal (with its fields) is sent once; nothing waits for an ACK', () => {
      const h = new UaHarness();
      const c = established(h);
      c.send('INVITE', [], SDP_REOFFER);
      const { offer } = c.events.last('reoffer');
      offer.refuse({ status: 488, reason: 'Not Here', headers: [{ name: 'warning', value: '304 carillon "codec"' }] });
      offer.refuse({ status: 500 });
      offer.answer(200, undefined, sdp(SDP_ANSWER), []);
      expect(h.hub.trace).toEqual(['100', '488']);
      expect(h.hub.lastResponse().reason).toBe('Not Here');
      expect(header(h.hub.lastResponse(), 'warning')).toBe('304 carillon "codec"');
      expect(h.uaTimers.pendingCount).toBe(0);
    });

    it('no ACK for a re-INVITE’s 2xx ends the leg (ack-timeout)', () => {
      const h = new UaHarness();
      const c = established(h);
      c.send('INVITE', [], SDP_REOFFER);
      c.events.last('reoffer').offer.answer(200, undefined, sdp(SDP_ANSWER), []);
      h.advance(32_000);
      expect(c.events.last('ended').reason).toBe('ack-timeout');
    });

    it('a second re-INVITE before the first is answered: 500 with Retry-After (RFC 3261 §14.2)', () => {
      const h = new UaHarness();
      const c = established(h);
      c.send('INVITE', [], SDP_REOFFER);
      c.send('INVITE', [], SDP_REOFFER);
      const r = h.hub.lastResponse();
      expect(r.status).toBe(500);
      expect(r.reason).toBe('Request Pending');
      expect(header(r, 'retry-after')).toBe('1');
      expect(c.events.of('reoffer')).toHaveLength(1);
    });

    it('glare: a re-INVITE crossing Carillon’s own is refused 491', () => {
      const h = new UaHarness();
      const c = established(h);
      const { done } = outcomes();
      c.leg.reoffer('INVITE', sdp(SDP_OFFER), [], 70, done);
      expect(c.leg.negotiating).toBe(true);
      c.send('INVITE', [], SDP_REOFFER);
      expect(h.hub.lastResponse().status).toBe(491);
      expect(c.events.kinds).toEqual([]);
    });
  });

  describe('UPDATE', () => {
    it('an UPDATE crossing Carillon\'s own UPDATE offer gets 491; one while the peer\'s last waits gets 500 with Retry-After (RFC 3311 §5.2)', () => {
      const h = new UaHarness();
      const c = established(h);
      c.leg.reoffer('UPDATE', sdp(SDP_REOFFER), [], 70, () => undefined);
      c.send('UPDATE', [], SDP_REOFFER);
      expect(h.hub.lastResponse(491)).toBeDefined();
      const h2 = new UaHarness();
      const c2 = established(h2);
      c2.send('UPDATE', [], SDP_REOFFER);
      c2.send('UPDATE', [], SDP_REOFFER);
      const pending = h2.hub.lastResponse(500);
      expect(header(pending, 'retry-after')).toBe('1');
    });

    it('crosses as reoffer and its 2xx (no ACK) carries Contact and Session-Expires', () => {
      const h = new UaHarness();
      const c = established(h);
      c.send('UPDATE', [], SDP_REOFFER);
      const { offer } = c.events.last('reoffer');
      expect(offer.method).toBe('UPDATE');
      // The peer's offer waits for its answer: another now would cross it (RFC 3311 §5.2).
      expect(c.leg.negotiating).toBe(true);
      offer.answer(200, undefined, sdp(SDP_ANSWER), []);
      expect(c.leg.negotiating).toBe(false);
      const ok = h.hub.lastResponse(200);
      expect(header(ok, 'cseq')).toBe('2 UPDATE');
      expect(header(ok, 'contact')).toBe(c.leg.contact);
      expect(header(ok, 'session-expires')).toBe('1800;refresher=uas');
      expect(h.uaTimers.pendingCount).toBe(0);
    });

    it('with Max-Forwards 0: 483', () => {
      const h = new UaHarness();
      const c = established(h);
      c.send('UPDATE', [{ name: 'max-forwards', value: '0' }], SDP_REOFFER);
      expect(h.hub.lastResponse().status).toBe(483);
      expect(c.events.kinds).toEqual([]);
    });
  });

  describe('requests passed on', () => {
    it.each(['INFO', 'MESSAGE', 'NOTIFY', 'REFER'])('%s crosses to the call as request() and its answer is sent once', (method) => {
      const h = new UaHarness();
      const c = established(h);
      const body = Buffer.from('Signal=5\r\nDuration=160\r\n');
      c.send(method, [{ name: 'x-info', value: 'dtmf' }, { name: 'max-forwards', value: '5' }], body);
      const { request } = c.events.last('request');
      expect(request.method).toBe(method);
      expect(request.body?.bytes.equals(body)).toBe(true);
      expect(request.crossing).toContainEqual({ name: 'x-info', value: 'dtmf' });
      expect(request.hopsLeft).toBe(4);
      request.respond(202, 'Accepted Here', undefined, [{ name: 'x-seen', value: '1' }]);
      request.respond(500, undefined, undefined, []);
      const r = h.hub.lastResponse();
      expect(r.status).toBe(202);
      expect(r.reason).toBe('Accepted Here');
      expect(header(r, 'x-seen')).toBe('1');
      expect(header(r, 'contact')).toBeUndefined();
      expect(h.hub.responses(500)).toHaveLength(0);
    });

    it('an INFO carrying a key press tells it beside the request (dtmf-relay and dtmf); a malformed one crosses without it', () => {
      const h = new UaHarness();
      const c = established(h);
      c.send('INFO', [{ name: 'content-type', value: 'application/dtmf-relay' }], Buffer.from('Signal=5\r\nDuration=160\r\n'));
      expect(c.events.last('request').request.dtmf).toEqual({ digit: '5', durationMs: 160 });
      c.send('INFO', [{ name: 'content-type', value: 'application/dtmf' }], Buffer.from('#'), 3);
      expect(c.events.last('request').request.dtmf).toMatchObject({ digit: '#' });
      c.send('INFO', [{ name: 'content-type', value: 'application/dtmf-relay' }], Buffer.from('Signal=Z\r\n'), 4);
      const bad = c.events.last('request').request;
      expect(bad.method).toBe('INFO');
      expect(bad.dtmf).toBeUndefined();
    });

    it('with Max-Forwards 0: 483, not passed on', () => {
      const h = new UaHarness();
      const c = established(h);
      c.send('INFO', [{ name: 'max-forwards', value: '0' }]);
      expect(h.hub.lastResponse().status).toBe(483);
      expect(c.events.kinds).toEqual([]);
    });

    it('a CSeq lower than the last seen: 500 CSeq Out of Order with Retry-After', () => {
      const h = new UaHarness();
      const c = established(h);
      c.send('INFO', [], Buffer.alloc(0), 5);
      c.events.last('request').request.respond(200, undefined, undefined, []);
      c.send('INFO', [], Buffer.alloc(0), 4);
      const r = h.hub.lastResponse();
      expect(r.status).toBe(500);
      expect(r.reason).toBe('CSeq Out of Order');
      expect(header(r, 'retry-after')).toBe('1');
      expect(c.events.of('request')).toHaveLength(1);
    });
  });

  describe('BYE', () => {
    it('is answered 200 and ends the leg (peer-hangup)', () => {
      const h = new UaHarness();
      const c = established(h);
      c.send('BYE');
      expect(h.hub.lastResponse().status).toBe(200);
      expect(header(h.hub.lastResponse(), 'cseq')).toBe('2 BYE');
      expect(c.events.kinds).toEqual(['ended']);
      expect(c.events.last('ended').reason).toBe('peer-hangup');
    });

    it('from the callee too', () => {
      const h = new UaHarness();
      const c = establishedCallee(h);
      c.send('BYE');
      expect(h.hub.lastResponse().status).toBe(200);
      expect(c.events.last('ended').reason).toBe('peer-hangup');
    });
  });
});

describe('SipLeg: requests Carillon sends on the leg for the call', () => {
  it('reoffer(): a re-INVITE with the call’s offer, timers and hops; its 2xx answers through done, once; confirm() ACKs it, again for each 2xx resend', () => {
    const h = new UaHarness();
    const c = established(h);
    const { list, done } = outcomes();
    c.leg.reoffer('INVITE', sdp(SDP_REOFFER), [{ name: 'x-hold', value: '1' }], 9, done);
    const inv = h.hub.lastRequest('INVITE');
    expect(header(inv, 'cseq')).toBe('1 INVITE');
    expect(tagOf(header(inv, 'from'))).toBe(c.carillonTag);
    expect(tagOf(header(inv, 'to'))).toBe('alice1');
    expect(header(inv, 'max-forwards')).toBe('9');
    expect(header(inv, 'x-hold')).toBe('1');
    expect(header(inv, 'supported')).toBe('timer');
    expect(header(inv, 'min-se')).toBe('90');
    expect(header(inv, 'session-expires')).toBe('1800;refresher=uac');
    expect(header(inv, 'content-type')).toBe('application/sdp');
    expect(inv.body.equals(SDP_REOFFER)).toBe(true);
    expect(c.leg.lastSdp?.equals(SDP_REOFFER)).toBe(true);
    expect(h.hub.sent[0]?.dest).toEqual({ transport: 'udp', address: '127.0.0.2', port: 5070 });
    const ok = c.peer.answer(inv, 200, { body: SDP_ANSWER, headers: [{ name: 'x-far', value: 'z' }] });
    h.deliver(ok, c.peer.source);
    expect(list).toHaveLength(1);
    expect(list[0]?.status).toBe(200);
    expect(list[0]?.body?.bytes.equals(SDP_ANSWER)).toBe(true);
    expect(list[0]?.crossing).toContainEqual({ name: 'x-far', value: 'z' });
    expect(list[0]?.failure).toBeUndefined();
    expect(c.leg.negotiating).toBe(false);
    expect(h.hub.requests('ACK')).toHaveLength(0);
    c.leg.confirm(undefined);
    const ack = h.hub.lastRequest('ACK');
    expect(header(ack, 'cseq')).toBe('1 ACK');
    h.deliver(ok, c.peer.source);
    expect(h.hub.requests('ACK')).toHaveLength(2);
    expect(list).toHaveLength(1);
  });

  it('reoffer(): a refusal answers through done; the transaction ACKs it', () => {
    const h = new UaHarness();
    const c = established(h);
    const { list, done } = outcomes();
    c.leg.reoffer('INVITE', sdp(SDP_REOFFER), [], 70, done);
    c.answer(h.hub.lastRequest('INVITE'), 491);
    expect(list.map((o) => o.status)).toEqual([491]);
    expect(c.leg.negotiating).toBe(false);
    expect(header(h.hub.lastRequest('ACK'), 'cseq')).toBe('1 ACK');
    c.leg.confirm(undefined);
    expect(h.hub.requests('ACK')).toHaveLength(1);
  });

  it('reoffer() provisionals are not told; UPDATE goes as UPDATE', () => {
    const h = new UaHarness();
    const c = established(h);
    const { list, done } = outcomes();
    c.leg.reoffer('UPDATE', sdp(SDP_REOFFER), [], 70, done);
    const up = h.hub.lastRequest('UPDATE');
    expect(header(up, 'session-expires')).toBe('1800;refresher=uac');
    // Carillon's UPDATE offer is out: another offer now would cross it.
    expect(c.leg.negotiating).toBe(true);
    c.answer(up, 200, { body: SDP_ANSWER, headers: [{ name: 'session-expires', value: '1200;refresher=uac' }] });
    expect(list.map((o) => o.status)).toEqual([200]);
    expect(c.leg.negotiating).toBe(false);
    expect(c.leg.sessionIntervalSec).toBe(1200);
    expect(c.leg.localRefresher).toBe(true);
  });

  it('reoffer(): no answer → 408 (timeout); not sent → 503 (transport)', async () => {
    const h = new UaHarness();
    const c = established(h);
    const { list, done } = outcomes();
    c.leg.reoffer('INVITE', sdp(SDP_REOFFER), [], 70, done);
    h.advance(32_000);
    expect(list).toEqual([{ status: 408, reason: undefined, body: undefined, crossing: [], failure: 'timeout' }]);
    expect(c.leg.negotiating).toBe(false);
    const h2 = new UaHarness();
    const c2 = established(h2, [], 'tcp');
    const o2 = outcomes();
    h2.hub.failNext = { code: 'CONNECTION_CLOSED' };
    c2.leg.relay('INFO', undefined, [], 70, o2.done);
    await h2.settle();
    expect(o2.list).toEqual([{ status: 503, reason: undefined, body: undefined, crossing: [], failure: 'transport' }]);
  });

  it('relay(): passes a request on with its body and fields; its answer through done; no session-timer fields', () => {
    const h = new UaHarness();
    const c = established(h);
    const { list, done } = outcomes();
    const body = Buffer.from('Signal=1\r\n');
    c.leg.relay('INFO', { contentType: 'application/dtmf-relay', bytes: body }, [{ name: 'x-info', value: 'a' }], 3, done);
    const info = h.hub.lastRequest('INFO');
    expect(header(info, 'content-type')).toBe('application/dtmf-relay');
    expect(header(info, 'max-forwards')).toBe('3');
    expect(header(info, 'x-info')).toBe('a');
    expect(header(info, 'session-expires')).toBeUndefined();
    expect(info.body.equals(body)).toBe(true);
    c.answer(info, 200, { headers: [{ name: 'x-ok', value: '1' }] });
    expect(list).toHaveLength(1);
    expect(list[0]?.status).toBe(200);
    expect(list[0]?.crossing).toContainEqual({ name: 'x-ok', value: '1' });
    // An SDP-less request does not replace the last session description.
    expect(c.leg.lastSdp?.equals(SDP_ANSWER)).toBe(true);
  });

  it('on a leg whose dialog is over: 481 at once, nothing sent', () => {
    const h = new UaHarness();
    const c = established(h);
    c.leg.close();
    const { list, done } = outcomes();
    c.leg.reoffer('INVITE', sdp(SDP_REOFFER), [], 70, done);
    c.leg.relay('INFO', undefined, [], 70, done);
    expect(list.map((o) => o.status)).toEqual([481, 481]);
    expect(h.hub.sent).toHaveLength(0);
  });

  it('on the callee’s leg: requests go to its Contact with the callee’s tag', () => {
    const h = new UaHarness();
    const c = establishedCallee(h);
    const { list, done } = outcomes();
    c.leg.relay('MESSAGE', { contentType: 'text/plain', bytes: Buffer.from('hi') }, [], 70, done);
    const m = h.hub.lastRequest('MESSAGE');
    expect(m.uri).toBe('sip:bob@127.0.0.3:5080;transport=udp');
    expect(tagOf(header(m, 'to'))).toBe('bob1');
    expect(cseqNumber(m)).toBe(2);
    c.answer(m, 200);
    expect(list.map((o) => o.status)).toEqual([200]);
  });
});

describe('SipLeg: session timers (RFC 4028)', () => {
  it('Carillon refreshes at half the interval with a re-INVITE carrying the last SDP; the 2xx is ACKed, its body told as refreshed, and the timer restarts', () => {
    const h = new UaHarness();
    const c = established(h);
    expect(c.leg.localRefresher).toBe(true);
    c.leg.sessionUpdated();
    h.advance(899_999);
    expect(h.hub.requests('INVITE')).toHaveLength(0);
    h.advance(1);
    const inv = h.hub.lastRequest('INVITE');
    expect(inv.body.equals(SDP_ANSWER)).toBe(true);
    expect(header(inv, 'content-type')).toBe('application/sdp');
    // Carillon is the UAC of the refresh and the refresher (RFC 4028 §7.4).
    expect(header(inv, 'session-expires')).toBe('1800;refresher=uac');
    expect(c.leg.negotiating).toBe(true);
    c.answer(inv, 200, { body: SDP_REOFFER, headers: [{ name: 'session-expires', value: '1800;refresher=uac' }] });
    expect(c.leg.negotiating).toBe(false);
    const ack = h.hub.lastRequest('ACK');
    expect(header(ack, 'cseq')).toBe(`${cseqNumber(inv)} ACK`);
    expect(c.events.kinds).toEqual(['refreshed']);
    expect(c.events.last('refreshed').body.bytes.equals(SDP_REOFFER)).toBe(true);
    expect(c.leg.localRefresher).toBe(true);
    h.advance(900_000);
    expect(h.hub.requests('INVITE')).toHaveLength(2);
    expect(c.events.of('ended')).toHaveLength(0);
  });

  it('a refresh’s 2xx resent by the peer gets the same ACK again and nothing else', () => {
    const h = new UaHarness();
    const c = established(h);
    c.leg.sessionUpdated();
    h.advance(900_000);
    const ok = c.peer.answer(h.hub.lastRequest('INVITE'), 200, { body: SDP_REOFFER });
    h.deliver(ok, c.peer.source);
    h.deliver(ok, c.peer.source);
    const acks = h.hub.requests('ACK');
    expect(acks).toHaveLength(2);
    expect(acks[1]).toEqual(acks[0]);
    expect(c.events.kinds).toEqual(['refreshed']);
    expect(h.uaTimers.pendingCount).toBe(1);
  });

  it('refreshes with UPDATE when the peer allows it (no SDP, no ACK)', () => {
    const h = new UaHarness();
    const c = established(h, [{ name: 'allow', value: 'INVITE, ACK, BYE, CANCEL, UPDATE' }]);
    c.leg.sessionUpdated();
    h.advance(900_000);
    const up = h.hub.lastRequest('UPDATE');
    expect(up.body.length).toBe(0);
    expect(c.leg.negotiating).toBe(false);
    c.answer(up, 200, { headers: [{ name: 'session-expires', value: '1800;refresher=uac' }] });
    expect(h.hub.requests('ACK')).toHaveLength(0);
    expect(c.events.kinds).toEqual([]);
    expect(h.uaTimers.pendingCount).toBe(1);
  });

  it('a refresh answered 481 or 408 ends the leg (refresh-failed); another refusal keeps the session and its timer', () => {
    for (const status of [481, 408]) {
      const h = new UaHarness();
      const c = established(h);
      c.leg.sessionUpdated();
      h.advance(900_000);
      c.answer(h.hub.lastRequest('INVITE'), status);
      expect(c.events.kinds).toEqual(['ended']);
      expect(c.events.last('ended').reason).toBe('refresh-failed');
    }
    const h = new UaHarness();
    const c = established(h);
    c.leg.sessionUpdated();
    h.advance(900_000);
    c.answer(h.hub.lastRequest('INVITE'), 491);
    expect(c.events.kinds).toEqual([]);
    expect(c.leg.negotiating).toBe(false);
    h.advance(900_000);
    expect(h.hub.requests('INVITE')).toHaveLength(2);
  });

  it('a refresh with no answer ends the leg (refresh-failed)', () => {
    const h = new UaHarness();
    const c = established(h);
    c.leg.sessionUpdated();
    h.advance(900_000);
    h.advance(32_000);
    expect(c.events.last('ended').reason).toBe('refresh-failed');
    expect(c.leg.negotiating).toBe(false);
  });

  it('while an INVITE is already in progress the refresh waits for it', () => {
    const h = new UaHarness({ sessionExpiresSec: 90 });
    const c = established(h);
    c.leg.sessionUpdated();
    c.leg.reoffer('INVITE', sdp(SDP_REOFFER), [], 70, () => undefined);
    const inv = h.hub.lastRequest('INVITE');
    c.answer(inv, 180);
    h.advance(60_000);
    expect(new Set(h.hub.requests('INVITE').map((r) => header(r, 'via'))).size).toBe(1);
    expect(h.hub.requests('UPDATE')).toHaveLength(0);
    c.answer(inv, 200, { body: SDP_ANSWER });
    c.leg.confirm(undefined);
    h.advance(45_000);
    expect(new Set(h.hub.requests('INVITE').map((r) => header(r, 'via'))).size).toBe(2);
  });

  it('a refresh resends the last session description, not the body of a request passed on', () => {
    const h = new UaHarness();
    const c = established(h);
    c.leg.sessionUpdated();
    c.leg.relay('INFO', { contentType: 'application/dtmf-relay', bytes: Buffer.from('Signal=1\r\n') }, [], 70, () => undefined);
    c.answer(h.hub.lastRequest('INFO'), 200);
    c.send('MESSAGE', [], Buffer.from('hello'));
    c.events.last('request').request.respond(200, undefined, { contentType: 'text/plain', bytes: Buffer.from('ok') }, []);
    h.advance(900_000);
    const inv = h.hub.lastRequest('INVITE');
    expect(inv.body.equals(SDP_ANSWER)).toBe(true);
    expect(header(inv, 'content-type')).toBe('application/sdp');
  });

  it('the peer refreshes: no refresh by interval − 32 s ends the leg (session-expired); its refresh restarts the timer', () => {
    const h = new UaHarness();
    const c = established(h, [{ name: 'supported', value: 'timer' }, { name: 'session-expires', value: '600;refresher=uac' }]);
    expect(c.leg.localRefresher).toBe(false);
    c.leg.sessionUpdated();
    h.advance(500_000);
    c.send('UPDATE', [{ name: 'session-expires', value: '600;refresher=uac' }]);
    const { offer } = c.events.last('reoffer');
    offer.answer(200, undefined, undefined, []);
    expect(header(h.hub.lastResponse(200), 'session-expires')).toBe('600;refresher=uac');
    expect(header(h.hub.lastResponse(200), 'require')).toBe('timer');
    c.leg.sessionUpdated();
    h.advance(567_999);
    expect(c.events.of('ended')).toHaveLength(0);
    h.advance(1);
    expect(c.events.last('ended').reason).toBe('session-expired');
  });

  it('on the callee’s leg Carillon refreshes when its 2xx said refresher=uac, and answers the callee’s re-INVITE naming itself the refresher', () => {
    const h = new UaHarness();
    const c = establishedCallee(h, [{ name: 'session-expires', value: '1200;refresher=uac' }, { name: 'supported', value: 'timer' }]);
    c.send('INVITE', [], SDP_REOFFER);
    c.events.last('reoffer').offer.answer(200, undefined, sdp(SDP_ANSWER), []);
    // Carillon is the UAS of this re-INVITE and still the refresher.
    expect(header(h.hub.lastResponse(200), 'session-expires')).toBe('1200;refresher=uas');
    c.send('ACK', [], Buffer.alloc(0), 101);
    c.leg.sessionUpdated();
    h.advance(600_000);
    const inv = h.hub.lastRequest('INVITE');
    expect(header(inv, 'session-expires')).toBe('1200;refresher=uac');
  });
});
