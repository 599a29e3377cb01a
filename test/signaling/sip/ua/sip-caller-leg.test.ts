import { describe, expect, it } from 'vitest';
import { CallerPeer, cseqNumber, header, SDP_ANSWER, SDP_OFFER, sdp, SipPeer, tagOf, UaHarness } from '../../../support/sip-ua-harness.ts';

const RELIABLE = [{ name: 'supported', value: '100rel, timer' }];

describe('SipCallerLeg: the caller’s INVITE, as its UAS', () => {
  it('takes a new INVITE as a caller’s leg: 100 Trying, an early dialog in the table, the offer and setup fields', () => {
    const h = new UaHarness();
    const c = new CallerPeer(h);
    expect(h.hub.trace).toEqual(['100']);
    expect(c.incoming?.request.method).toBe('INVITE');
    expect(c.incoming?.source).toEqual(c.peer.source);
    const leg = c.leg;
    expect(leg.protocol).toBe('sip');
    expect(leg.role).toBe('uas');
    expect(leg.wireCallId).toBe('caller-call-1');
    expect(leg.secureSignaling).toBe(false);
    expect(leg.confirmed).toBe(false);
    expect(leg.negotiating).toBe(true);
    expect(leg.answered).toBe(false);
    expect(leg.offer?.bytes.equals(SDP_OFFER)).toBe(true);
    expect(leg.offer?.contentType).toBe('application/sdp');
    expect(leg.dialog?.state).toBe('early');
    expect(leg.dialog?.remoteTag).toBe('alice1');
    expect(h.ua.dialogCount).toBe(1);
    expect(leg.setupHeaders.find((f) => f.name === 'call-id')?.value).toBe('caller-call-1');
    expect(leg.setupHeaders.find((f) => f.name === 'content-length')?.value).toBe(String(SDP_OFFER.length));
    expect(Object.isFrozen(leg.setupHeaders)).toBe(true);
  });

  it('a caller over TLS is on secure signaling; a late offer has no offer', () => {
    const h = new UaHarness();
    const c = new CallerPeer(h, { transport: 'tls', body: null });
    expect(c.leg.secureSignaling).toBe(true);
    expect(c.leg.offer).toBeUndefined();
    expect(c.leg.contact).toBe('<sip:127.0.0.1:5061;transport=tls>');
  });

  describe('provisionals', () => {
    it('sends an unreliable provisional with Carillon’s tag, Contact and the crossing fields', () => {
      const h = new UaHarness();
      const c = new CallerPeer(h);
      c.leg.progress(180, undefined, undefined, [{ name: 'x-carrier', value: 'a' }]);
      const r = h.hub.lastResponse(180);
      expect(r.reason).toBe('Ringing');
      expect(tagOf(header(r, 'to'))).toBe(c.carillonTag);
      expect(header(r, 'contact')).toBe(c.leg.contact);
      expect(header(r, 'x-carrier')).toBe('a');
      expect(header(r, 'require')).toBeUndefined();
      expect(header(r, 'rseq')).toBeUndefined();
      // Unreliable: nothing is resent.
      h.advance(10_000);
      expect(h.hub.responses(180)).toHaveLength(1);
    });

    it('stays unreliable when the caller does not support 100rel, even when asked', () => {
      const h = new UaHarness();
      const c = new CallerPeer(h);
      c.leg.progress(183, 'Session Progress', sdp(SDP_ANSWER), [], true);
      const r = h.hub.lastResponse(183);
      expect(header(r, 'require')).toBeUndefined();
      expect(r.body.equals(SDP_ANSWER)).toBe(true);
      expect(header(r, 'content-type')).toBe('application/sdp');
    });

    it('sends a provisional with SDP reliably (RFC 3262): Require 100rel, RSeq, resent on T1 doubling until the PRACK', () => {
      const h = new UaHarness();
      const c = new CallerPeer(h, { extra: RELIABLE });
      c.leg.progress(183, undefined, sdp(SDP_ANSWER), []);
      const r = h.hub.lastResponse(183);
      expect(header(r, 'require')).toBe('100rel');
      expect(header(r, 'rseq')).toBe('1');
      h.advance(1500);
      expect(h.hub.responses(183)).toHaveLength(3);
      c.send('PRACK', [{ name: 'rack', value: `1 ${cseqNumber(c.invite)} INVITE` }]);
      expect(h.hub.lastResponse().status).toBe(200);
      expect(header(h.hub.lastResponse(), 'cseq')).toMatch(/PRACK$/);
      h.advance(30_000);
      expect(h.hub.responses(183)).toHaveLength(3);
    });

    it('sends an SDP-less provisional reliably only when asked or required', () => {
      const h = new UaHarness();
      const c = new CallerPeer(h, { extra: RELIABLE });
      c.leg.progress(180, undefined, undefined, []);
      expect(header(h.hub.lastResponse(180), 'require')).toBeUndefined();
      c.leg.progress(180, undefined, undefined, [], true);
      expect(header(h.hub.lastResponse(180), 'rseq')).toBe('1');
      // Only one reliable provisional at a time: the next goes unreliably.
      c.leg.progress(180, undefined, undefined, [], true);
      expect(header(h.hub.lastResponse(180), 'rseq')).toBeUndefined();
      const h2 = new UaHarness();
      const c2 = new CallerPeer(h2, { extra: [{ name: 'require', value: '100rel' }] });
      c2.leg.progress(180, undefined, undefined, []);
      expect(header(h2.hub.lastResponse(180), 'rseq')).toBe('1');
      c2.send('PRACK', [{ name: 'rack', value: '1 1 INVITE' }]);
      c2.leg.progress(180, undefined, undefined, []);
      expect(header(h2.hub.lastResponse(180), 'rseq')).toBe('2');
    });

    it('refuses a PRACK matching no unacknowledged provisional (481), and keeps resending', () => {
      const h = new UaHarness();
      const c = new CallerPeer(h, { extra: RELIABLE });
      c.send('PRACK', [{ name: 'rack', value: '1 1 INVITE' }]);
      expect(h.hub.lastResponse().status).toBe(481);
      c.leg.progress(183, undefined, sdp(SDP_ANSWER), []);
      c.send('PRACK', [{ name: 'rack', value: '7 1 INVITE' }]);
      expect(h.hub.lastResponse().status).toBe(481);
      h.advance(500);
      expect(h.hub.responses(183)).toHaveLength(2);
    });

    it('sends nothing once the final answer is out, or once closed', () => {
      const h = new UaHarness();
      const c = new CallerPeer(h);
      c.leg.answer(486, undefined, undefined, []);
      const n = h.hub.sent.length;
      c.leg.progress(180, undefined, undefined, []);
      expect(h.hub.sent).toHaveLength(n);
      const h2 = new UaHarness();
      const c2 = new CallerPeer(h2);
      c2.leg.close();
      c2.leg.progress(180, undefined, undefined, []);
      expect(h2.hub.trace).toEqual(['100']);
    });
  });

  describe('the final answer', () => {
    it('2xx: Contact, Allow, Supported, Session-Expires; dialog confirmed; resent on T1 doubling until the ACK, which confirms', () => {
      const h = new UaHarness();
      const c = new CallerPeer(h, { extra: [{ name: 'record-route', value: '<sip:proxy.invalid;lr>' }] });
      c.leg.answer(200, undefined, sdp(SDP_ANSWER), [{ name: 'x-carrier', value: 'b' }]);
      const ok = h.hub.lastResponse(200);
      expect(tagOf(header(ok, 'to'))).toBe(c.carillonTag);
      expect(header(ok, 'contact')).toBe(c.leg.contact);
      expect(header(ok, 'allow')).toContain('UPDATE');
      expect(header(ok, 'supported')).toBe('timer, 100rel');
      expect(header(ok, 'session-expires')).toBe('1800;refresher=uas');
      expect(header(ok, 'record-route')).toBe('<sip:proxy.invalid;lr>');
      expect(header(ok, 'x-carrier')).toBe('b');
      expect(ok.body.equals(SDP_ANSWER)).toBe(true);
      expect(c.leg.confirmed).toBe(true);
      expect(c.leg.answered).toBe(true);
      expect(c.leg.finalStatus).toBe(200);
      expect(c.leg.negotiating).toBe(false);
      h.advance(3500);
      expect(h.hub.responses(200)).toHaveLength(4);
      c.ack();
      expect(c.events.kinds).toEqual(['confirmed']);
      expect(c.events.last('confirmed').body).toBeUndefined();
      h.advance(60_000);
      expect(h.hub.responses(200)).toHaveLength(4);
      expect(c.events.kinds).toEqual(['confirmed']);
    });

    it('a late offer’s answer comes in the ACK: confirmed(body)', () => {
      const h = new UaHarness();
      const c = new CallerPeer(h, { body: null });
      c.leg.answer(200, undefined, sdp(SDP_ANSWER), []);
      c.ack(1, SDP_OFFER);
      const e = c.events.last('confirmed');
      expect(e.body?.bytes.equals(SDP_OFFER)).toBe(true);
      expect(e.body?.contentType).toBe('application/sdp');
    });

    it('an ACK for another CSeq confirms nothing', () => {
      const h = new UaHarness();
      const c = new CallerPeer(h);
      c.leg.answer(200, undefined, sdp(SDP_ANSWER), []);
      c.ack(5);
      expect(c.events.kinds).toEqual([]);
      expect(c.leg.onAck(c.request('ACK', [], Buffer.alloc(0), 1))).toBe(true);
      expect(c.leg.onAck(c.request('ACK', [], Buffer.alloc(0), 1))).toBe(false);
    });

    it('no ACK within 64·T1 ends the leg (ack-timeout); on TCP nothing is resent but the wait still ends', () => {
      for (const transport of ['udp', 'tcp'] as const) {
        const h = new UaHarness();
        const c = new CallerPeer(h, { transport });
        c.leg.answer(200, undefined, sdp(SDP_ANSWER), []);
        h.advance(31_999);
        expect(c.events.kinds).toEqual([]);
        h.advance(1);
        expect(c.events.kinds).toEqual(['ended']);
        expect(c.events.last('ended').reason).toBe('ack-timeout');
        expect(h.hub.responses(200).length).toBe(transport === 'udp' ? 11 : 1);
        c.ack();
        expect(c.events.kinds).toEqual(['ended']);
      }
    });

    it('a refusal: its status, reason and crossing fields with Carillon’s tag; the transaction absorbs its ACK', () => {
      const h = new UaHarness();
      const c = new CallerPeer(h);
      c.leg.answer(486, 'Busy Here Now', undefined, [{ name: 'x-cause', value: '17' }]);
      const r = h.hub.lastResponse(486);
      expect(r.reason).toBe('Busy Here Now');
      expect(tagOf(header(r, 'to'))).toBe(c.carillonTag);
      expect(header(r, 'x-cause')).toBe('17');
      expect(header(r, 'contact')).toBeUndefined();
      expect(c.leg.finalStatus).toBe(486);
      expect(c.leg.confirmed).toBe(false);
      expect(c.leg.answered).toBe(true);
      // The ACK for a non-2xx reuses the INVITE's branch: the transaction takes it.
      const ackHeaders = c.invite.headers.filter((x) => x.name === 'via' || x.name === 'from' || x.name === 'call-id').map((x) => ({ ...x }));
      ackHeaders.push({ name: 'to', value: header(r, 'to') ?? '' }, { name: 'cseq', value: '1 ACK' }, { name: 'max-forwards', value: '70' });
      h.deliver({ kind: 'request', method: 'ACK', uri: c.invite.uri, headers: ackHeaders, body: Buffer.alloc(0) }, c.peer.source);
      expect(c.events.kinds).toEqual([]);
      // A second answer goes nowhere.
      c.leg.answer(200, undefined, sdp(SDP_ANSWER), []);
      expect(h.hub.responses(200)).toHaveLength(0);
    });

    it('answers once: a second 2xx is not sent', () => {
      const h = new UaHarness();
      const c = new CallerPeer(h);
      c.leg.answer(200, undefined, sdp(SDP_ANSWER), []);
      c.leg.answer(200, undefined, sdp(SDP_ANSWER), []);
      c.leg.answer(603, undefined, undefined, []);
      expect(h.hub.trace).toEqual(['100', '200']);
    });

    it('holds a 2xx while a reliable provisional with SDP waits for its PRACK, and sends it when the PRACK comes', () => {
      const h = new UaHarness();
      const c = new CallerPeer(h, { extra: RELIABLE });
      c.leg.progress(183, undefined, sdp(SDP_ANSWER), []);
      c.leg.answer(200, undefined, sdp(SDP_ANSWER), []);
      expect(h.hub.responses(200)).toHaveLength(0);
      expect(c.leg.confirmed).toBe(false);
      c.send('PRACK', [{ name: 'rack', value: '1 1 INVITE' }]);
      // 200 to the PRACK, then the INVITE's 200.
      expect(h.hub.trace.slice(-2)).toEqual(['200', '200']);
      expect(header(h.hub.lastResponse(200), 'cseq')).toBe('1 INVITE');
      expect(c.leg.confirmed).toBe(true);
    });

    it('sends the held 2xx when no PRACK came within 64·T1', () => {
      const h = new UaHarness();
      const c = new CallerPeer(h, { extra: RELIABLE });
      c.leg.progress(183, undefined, sdp(SDP_ANSWER), []);
      c.leg.answer(200, undefined, sdp(SDP_ANSWER), []);
      h.advance(31_999);
      expect(h.hub.responses(200)).toHaveLength(0);
      h.advance(1);
      expect(h.hub.responses(200)).toHaveLength(1);
      expect(c.leg.confirmed).toBe(true);
      c.ack();
      expect(c.events.kinds).toEqual(['confirmed']);
    });

    it('does not hold a 2xx for an SDP-less reliable provisional', () => {
      const h = new UaHarness();
      const c = new CallerPeer(h, { extra: RELIABLE });
      c.leg.progress(180, undefined, undefined, [], true);
      c.leg.answer(200, undefined, sdp(SDP_ANSWER), []);
      expect(h.hub.responses(200)).toHaveLength(1);
      // The reliable provisional is no longer resent.
      h.advance(10_000);
      expect(h.hub.responses(180)).toHaveLength(1);
    });

    it('a refusal is not held for a PRACK', () => {
      const h = new UaHarness();
      const c = new CallerPeer(h, { extra: RELIABLE });
      c.leg.progress(183, undefined, sdp(SDP_ANSWER), []);
      c.leg.answer(480, undefined, undefined, []);
      expect(h.hub.responses(480)).toHaveLength(1);
    });
  });

  describe('other controls in each state', () => {
    it('confirm() on the caller’s leg owes nothing: nothing is sent', () => {
      const h = new UaHarness();
      const c = new CallerPeer(h);
      c.leg.confirm(sdp(SDP_ANSWER));
      c.leg.answer(200, undefined, sdp(SDP_ANSWER), []);
      c.leg.confirm(undefined);
      expect(h.hub.trace).toEqual(['100', '200']);
    });

    it('answer() after close sends nothing and leaves no timer', () => {
      const h = new UaHarness();
      const c = new CallerPeer(h);
      c.leg.close();
      c.leg.answer(200, undefined, sdp(SDP_ANSWER), []);
      c.leg.answer(486, undefined, undefined, []);
      expect(h.hub.trace).toEqual(['100']);
      expect(h.uaTimers.pendingCount).toBe(0);
    });

    it('reoffer() and relay() in the early dialog before the answer go to the caller (UPDATE, RFC 3311)', () => {
      const h = new UaHarness();
      const c = new CallerPeer(h);
      const got: number[] = [];
      c.leg.reoffer('UPDATE', sdp(SDP_ANSWER), [], 70, (o) => void got.push(o.status));
      const up = h.hub.lastRequest('UPDATE');
      expect(tagOf(header(up, 'to'))).toBe('alice1');
      c.answer(up, 200);
      expect(got).toEqual([200]);
    });
  });

  describe('CANCEL', () => {
    it('a CANCEL before the answer ends the leg (peer-cancel); the call’s 487 goes to the INVITE', () => {
      const h = new UaHarness();
      const c = new CallerPeer(h);
      c.leg.progress(180, undefined, undefined, []);
      c.cancel();
      expect(header(h.hub.lastResponse(), 'cseq')).toBe('1 CANCEL');
      expect(h.hub.lastResponse().status).toBe(200);
      expect(c.events.kinds).toEqual(['ended']);
      expect(c.events.last('ended').reason).toBe('peer-cancel');
      c.leg.answer(487, undefined, undefined, []);
      expect(h.hub.lastResponse().status).toBe(487);
      expect(tagOf(header(h.hub.lastResponse(), 'to'))).toBe(c.carillonTag);
    });

    it('a CANCEL that crosses Carillon’s 200 is answered 200 and changes nothing (RFC 3261 §9.2)', () => {
      const h = new UaHarness();
      const c = new CallerPeer(h);
      c.leg.answer(200, undefined, sdp(SDP_ANSWER), []);
      c.cancel();
      expect(h.hub.trace).toEqual(['100', '200', '200']);
      expect(header(h.hub.lastResponse(), 'cseq')).toBe('1 CANCEL');
      expect(c.events.kinds).toEqual([]);
      expect(c.leg.confirmed).toBe(true);
      c.ack();
      expect(c.events.kinds).toEqual(['confirmed']);
    });

    it('a CANCEL for a closed leg gets the INVITE a 487 from the user agent', () => {
      const h = new UaHarness();
      const c = new CallerPeer(h);
      c.leg.close();
      c.cancel();
      expect(h.hub.lastResponse().status).toBe(487);
      expect(c.events.kinds).toEqual([]);
    });
  });

  describe('hangup', () => {
    it('before the answer: a 500 to the caller, no BYE', () => {
      const h = new UaHarness();
      const c = new CallerPeer(h);
      c.leg.hangup({ status: 503, text: 'Media Unavailable' });
      expect(h.hub.trace).toEqual(['100', '500']);
      expect(c.leg.finalStatus).toBe(500);
    });

    it('once answered: BYE in the dialog with the Reason of Carillon’s cause (RFC 3326)', () => {
      const h = new UaHarness();
      const c = new CallerPeer(h);
      c.leg.answer(200, undefined, sdp(SDP_ANSWER), []);
      c.ack();
      c.leg.hangup({ status: 408, text: 'Session "Timer" Expired' });
      const bye = h.hub.lastRequest('BYE');
      expect(header(bye, 'reason')).toBe('SIP;cause=408;text="Session Timer Expired"');
      expect(tagOf(header(bye, 'from'))).toBe(c.carillonTag);
      expect(tagOf(header(bye, 'to'))).toBe('alice1');
      expect(header(bye, 'call-id')).toBe('caller-call-1');
      expect(bye.uri).toBe('sip:peer@127.0.0.2:5070;transport=udp');
      expect(h.hub.sent[h.hub.sent.length - 1]?.dest).toEqual({ transport: 'udp', address: '127.0.0.2', port: 5070 });
    });

    it('once answered, without a cause: BYE with no Reason', () => {
      const h = new UaHarness();
      const c = new CallerPeer(h);
      c.leg.answer(200, undefined, sdp(SDP_ANSWER), []);
      c.leg.hangup(undefined);
      expect(header(h.hub.lastRequest('BYE'), 'reason')).toBeUndefined();
    });

    it('after a refusal: nothing', () => {
      const h = new UaHarness();
      const c = new CallerPeer(h);
      c.leg.answer(404, undefined, undefined, []);
      c.leg.hangup(undefined);
      expect(h.hub.trace).toEqual(['100', '404']);
    });

    it('after close: nothing', () => {
      const h = new UaHarness();
      const c = new CallerPeer(h);
      c.leg.answer(200, undefined, sdp(SDP_ANSWER), []);
      c.leg.close();
      c.leg.hangup({ status: 500, text: 'x' });
      expect(h.hub.requests('BYE')).toHaveLength(0);
    });
  });

  describe('close()', () => {
    it('releases every timer (2xx resend, PRACK wait, session timer) and the dialog-table entry; idempotent', () => {
      const h = new UaHarness();
      const c = new CallerPeer(h, { extra: RELIABLE });
      c.leg.progress(183, undefined, sdp(SDP_ANSWER), []);
      expect(h.uaTimers.pendingCount).toBeGreaterThan(0);
      c.leg.close();
      expect(h.uaTimers.pendingCount).toBe(0);
      expect(h.ua.dialogCount).toBe(0);
      c.leg.close();
      expect(c.leg.closed).toBe(true);

      const h2 = new UaHarness();
      const c2 = new CallerPeer(h2);
      c2.leg.answer(200, undefined, sdp(SDP_ANSWER), []);
      c2.ack();
      c2.leg.sessionUpdated();
      const h3 = new UaHarness();
      const c3 = new CallerPeer(h3);
      c3.leg.answer(200, undefined, sdp(SDP_ANSWER), []);
      expect(h3.uaTimers.pendingCount).toBeGreaterThan(0);
      c3.leg.close();
      expect(h3.uaTimers.pendingCount).toBe(0);
      expect(h2.uaTimers.pendingCount).toBe(1);
      c2.leg.close();
      expect(h2.uaTimers.pendingCount).toBe(0);
      expect(h2.ua.dialogCount).toBe(0);
      expect(c2.leg.dialog?.state).toBe('terminated');
      // Nothing runs any more.
      h2.advance(4_000_000);
      expect(c2.events.kinds).toEqual(['confirmed']);
    });

    it('a closed leg’s dialog is gone: its BYE gets 481, its ACK and the held 2xx go nowhere', () => {
      const h = new UaHarness();
      const c = new CallerPeer(h, { extra: RELIABLE });
      c.leg.progress(183, undefined, sdp(SDP_ANSWER), []);
      c.leg.answer(200, undefined, sdp(SDP_ANSWER), []);
      c.leg.close();
      c.send('PRACK', [{ name: 'rack', value: '1 1 INVITE' }]);
      expect(h.hub.lastResponse().status).toBe(481);
      expect(h.hub.responses(200)).toHaveLength(0);
      c.send('BYE');
      expect(h.hub.lastResponse().status).toBe(481);
      expect(c.events.kinds).toEqual([]);
      h.advance(100_000);
      expect(h.hub.responses(200)).toHaveLength(0);
    });

    it('frees the INVITE’s merge key, when answered and when closed unanswered', () => {
      const h = new UaHarness();
      const peer = new SipPeer();
      const c = new CallerPeer(h, { peer });
      // The same request by another path (another branch) while the first is pending: 482 (RFC 3261 §8.2.2.2).
      new CallerPeer(h, { peer });
      expect(h.hub.lastResponse().status).toBe(482);
      expect(h.incoming).toHaveLength(1);
      expect(h.ua.counters.rejectedRequests).toBe(1);
      c.leg.close();
      new CallerPeer(h, { peer });
      expect(h.incoming).toHaveLength(2);
      h.incoming[1]?.leg.answer(200, undefined, sdp(SDP_ANSWER), []);
      new CallerPeer(h, { peer });
      expect(h.incoming).toHaveLength(3);
    });
  });

  describe('session timer (RFC 4028) as UAS', () => {
    it('grants the caller’s interval and refresher with Require: timer when it supports timers', () => {
      const h = new UaHarness();
      const c = new CallerPeer(h, { extra: [{ name: 'supported', value: 'timer' }, { name: 'session-expires', value: '1200;refresher=uac' }] });
      c.leg.answer(200, undefined, sdp(SDP_ANSWER), []);
      const ok = h.hub.lastResponse(200);
      expect(header(ok, 'session-expires')).toBe('1200;refresher=uac');
      expect(header(ok, 'require')).toBe('timer');
      expect(c.leg.localRefresher).toBe(false);
    });

    it('caps the interval at Carillon’s and lifts it to the larger Min-SE', () => {
      const h = new UaHarness({ sessionExpiresSec: 600 });
      const c = new CallerPeer(h, { extra: [{ name: 'supported', value: 'timer' }, { name: 'session-expires', value: '3600' }] });
      expect(c.leg.sessionIntervalSec).toBe(600);
      const h2 = new UaHarness({ sessionExpiresSec: 600 });
      const c2 = new CallerPeer(h2, { extra: [{ name: 'session-expires', value: '3600' }, { name: 'min-se', value: '900' }] });
      expect(c2.leg.sessionIntervalSec).toBe(900);
    });

    it('the caller refreshes: no refresh by interval − 32 s ends the leg (session-expired)', () => {
      const h = new UaHarness();
      const c = new CallerPeer(h, { extra: [{ name: 'supported', value: 'timer' }, { name: 'session-expires', value: '1800;refresher=uac' }] });
      c.leg.answer(200, undefined, sdp(SDP_ANSWER), []);
      c.ack();
      c.leg.sessionUpdated();
      h.advance(1_767_999);
      expect(c.events.kinds).toEqual(['confirmed']);
      h.advance(1);
      expect(c.events.kinds).toEqual(['confirmed', 'ended']);
      expect(c.events.last('ended').reason).toBe('session-expired');
    });

    it('sessionUpdated() before the dialog is confirmed, or after close, starts nothing', () => {
      const h = new UaHarness();
      const c = new CallerPeer(h);
      c.leg.sessionUpdated();
      expect(h.uaTimers.pendingCount).toBe(0);
      c.leg.answer(200, undefined, sdp(SDP_ANSWER), []);
      c.ack();
      c.leg.close();
      c.leg.sessionUpdated();
      expect(h.uaTimers.pendingCount).toBe(0);
    });
  });
});
