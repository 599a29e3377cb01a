import { describe, expect, it } from 'vitest';
import { CALLEE_DEST, CalleePeer, cseqNumber, header, SDP_ANSWER, SDP_OFFER, sdp, tagOf, UaHarness } from '../../../support/sip-ua-harness.ts';

const CHALLENGE = 'Digest realm="carrier.invalid", nonce="n0nce", qop="auth", algorithm=MD5';
const CREDS = { username: 'acct', password: 'secret' };

describe('SipCalleeLeg: the INVITE Carillon places, as its UAC', () => {
  describe('place()', () => {
    it('sends the INVITE from the placement: its URI, a hidden From host with Carillon’s tag, To, the leg’s Call-ID, offer, timers, crossing fields', () => {
      const h = new UaHarness();
      const c = new CalleePeer(h);
      expect(h.hub.trace).toEqual(['INVITE']);
      expect(h.hub.sent[0]?.dest).toEqual(CALLEE_DEST);
      const inv = c.invite;
      expect(inv.uri).toBe('sip:+15550100@127.0.0.3:5080');
      expect(header(inv, 'from')).toBe(`"Alice" <sip:alice@127.0.0.1>;tag=${c.carillonTag}`);
      expect(header(inv, 'to')).toBe('<sip:+15550100@127.0.0.1>');
      expect(header(inv, 'call-id')).toBe('callee-call-1');
      expect(header(inv, 'cseq')).toBe('1 INVITE');
      expect(header(inv, 'max-forwards')).toBe('69');
      expect(header(inv, 'contact')).toBe('<sip:127.0.0.1:5060;transport=udp>');
      expect(header(inv, 'supported')).toBe('timer, 100rel');
      expect(header(inv, 'session-expires')).toBe('1800');
      expect(header(inv, 'min-se')).toBe('90');
      expect(header(inv, 'x-account')).toBe('42');
      expect(header(inv, 'content-type')).toBe('application/sdp');
      expect(inv.body.equals(SDP_OFFER)).toBe(true);
      expect(header(inv, 'via')).toMatch(/^SIP\/2\.0\/UDP 127\.0\.0\.1:5060;branch=z9hG4bK/);
      const leg = c.leg;
      expect(leg.role).toBe('uac');
      expect(leg.wireCallId).toBe('callee-call-1');
      expect(leg.negotiating).toBe(true);
      expect(leg.confirmed).toBe(false);
      expect(leg.dialog?.state).toBe('early');
      expect(h.ua.dialogCount).toBe(1);
      expect(leg.setupHeaders.find((f) => f.name === 'via')).toBeDefined();
      expect(leg.setupHeaders.find((f) => f.name === 'content-length')?.value).toBe(String(SDP_OFFER.length));
    });

    it('asserts the caller’s identity (RFC 3325), anonymous in From when it asks for privacy', () => {
      const h = new UaHarness();
      const c = new CalleePeer(h, { caller: { user: '+15550111', displayName: 'Trunk', anonymous: false } });
      expect(header(c.invite, 'from')).toBe(`"Trunk" <sip:+15550111@127.0.0.1;user=phone>;tag=${c.carillonTag}`);
      expect(header(c.invite, 'p-asserted-identity')).toBe('"Trunk" <sip:+15550111@127.0.0.1;user=phone>');
      const h2 = new UaHarness();
      const c2 = new CalleePeer(h2, { caller: { user: '+15550111', anonymous: true } });
      expect(header(c2.invite, 'from')).toMatch(/^"Anonymous" <sip:anonymous@anonymous\.invalid>;tag=/);
      expect(header(c2.invite, 'p-asserted-identity')).toBe('<sip:+15550111@127.0.0.1;user=phone>');
    });

    it('a late offer has no body; without 100rel on the caller’s side, Supported is timer only', () => {
      const h = new UaHarness();
      const c = new CalleePeer(h, { offer: undefined, offerReliable: false });
      expect(c.invite.body.length).toBe(0);
      expect(header(c.invite, 'content-type')).toBeUndefined();
      expect(header(c.invite, 'supported')).toBe('timer');
    });

    it('over TCP: its contact and its flow', () => {
      const h = new UaHarness();
      const c = new CalleePeer(h, {}, { transport: 'tcp' });
      expect(header(c.invite, 'contact')).toBe('<sip:127.0.0.1:5060;transport=tcp>');
      expect(h.hub.sent[0]?.dest.transport).toBe('tcp');
      expect(c.leg.secureSignaling).toBe(false);
    });

    it('there is no callee leg on a transport Carillon has no address on', async () => {
      const { FakeTransportHub } = await import('../../../support/sip-ua-harness.ts');
      const h = new UaHarness({ hub: new FakeTransportHub({ udp: { address: '127.0.0.1', port: 5060 } }) });
      expect(h.ua.calleeLeg('tls', 'x')).toBeUndefined();
    });
  });

  describe('provisionals and PRACK', () => {
    it('tells the call of a provisional with its body and crossing fields; 100 is not told', () => {
      const h = new UaHarness();
      const c = new CalleePeer(h);
      c.reply(100, { toTag: null });
      expect(c.events.kinds).toEqual([]);
      c.reply(180, { headers: [{ name: 'x-carrier', value: 'ring' }] });
      const p = c.events.last('progress');
      expect(p.status).toBe(180);
      expect(p.reason).toBe('Ringing');
      expect(p.reliably).toBe(false);
      expect(p.body).toBeUndefined();
      expect(p.crossing).toContainEqual({ name: 'x-carrier', value: 'ring' });
      expect(p.crossing.find((f) => f.name === 'contact')).toBeUndefined();
      expect(c.leg.dialog?.remoteTag).toBe('bob1');
      expect(c.leg.dialog?.state).toBe('early');
      expect(h.hub.requests('PRACK')).toHaveLength(0);
    });

    it('PRACKs a reliable provisional (RFC 3262 §4): RAck names its RSeq and the INVITE’s CSeq; progress is reliable', () => {
      const h = new UaHarness();
      const c = new CalleePeer(h);
      c.reply(183, { headers: [{ name: 'require', value: '100rel' }, { name: 'rseq', value: '77' }], body: SDP_ANSWER });
      const prack = h.hub.lastRequest('PRACK');
      expect(header(prack, 'rack')).toBe('77 1 INVITE');
      expect(header(prack, 'cseq')).toBe('2 PRACK');
      expect(tagOf(header(prack, 'to'))).toBe('bob1');
      expect(prack.uri).toBe('sip:bob@127.0.0.3:5080;transport=udp');
      const p = c.events.last('progress');
      expect(p.reliably).toBe(true);
      expect(p.body?.bytes.equals(SDP_ANSWER)).toBe(true);
      c.answer(prack, 200);
      expect(c.events.kinds).toEqual(['progress']);
    });

    it('a reliable provisional resent (same RSeq) is neither PRACKed again nor told again; the next RSeq is', () => {
      const h = new UaHarness();
      const c = new CalleePeer(h);
      const rel = (rseq: string): { headers: { name: string; value: string }[]; body: Buffer } => ({ headers: [{ name: 'require', value: '100rel' }, { name: 'rseq', value: rseq }], body: SDP_ANSWER });
      c.reply(183, rel('1'));
      c.reply(183, rel('1'));
      expect(h.hub.requests('PRACK')).toHaveLength(1);
      expect(c.events.kinds).toEqual(['progress']);
      c.reply(180, rel('2'));
      expect(h.hub.requests('PRACK')).toHaveLength(2);
      expect(header(h.hub.lastRequest('PRACK'), 'rack')).toBe('2 1 INVITE');
      // Another fork numbers its own.
      c.reply(183, { ...rel('1'), toTag: 'fork2' });
      expect(h.hub.requests('PRACK')).toHaveLength(3);
      expect(c.events.kinds).toEqual(['progress', 'progress', 'progress']);
    });

    it('a reliable provisional without a usable RSeq is not PRACKed', () => {
      const h = new UaHarness();
      const c = new CalleePeer(h);
      c.reply(183, { headers: [{ name: 'require', value: '100rel' }, { name: 'rseq', value: 'x' }] });
      expect(h.hub.requests('PRACK')).toHaveLength(0);
      expect(c.events.kinds).toEqual(['progress']);
    });
  });

  describe('the answer', () => {
    it('2xx: answered with the callee’s answer; the dialog is confirmed; confirm() sends the owed ACK, resent for each 2xx retransmission', () => {
      const h = new UaHarness();
      const c = new CalleePeer(h);
      c.reply(180);
      const ok = c.reply(200, { body: SDP_ANSWER, headers: [{ name: 'record-route', value: '<sip:127.0.0.9:5090;lr>' }, { name: 'x-carrier', value: 'ok' }] });
      const a = c.events.last('answered');
      expect(a.status).toBe(200);
      expect(a.body?.bytes.equals(SDP_ANSWER)).toBe(true);
      expect(a.crossing).toContainEqual({ name: 'x-carrier', value: 'ok' });
      expect(c.leg.confirmed).toBe(true);
      expect(c.leg.negotiating).toBe(false);
      expect(c.leg.dialog?.remoteTarget).toBe('sip:bob@127.0.0.3:5080;transport=udp');
      expect(c.leg.dialog?.routeSet).toEqual(['<sip:127.0.0.9:5090;lr>']);
      expect(h.hub.requests('ACK')).toHaveLength(0);
      c.leg.confirm(undefined);
      const ack = h.hub.lastRequest('ACK');
      expect(header(ack, 'cseq')).toBe('1 ACK');
      expect(header(ack, 'route')).toBe('<sip:127.0.0.9:5090;lr>');
      expect(h.hub.sent[h.hub.sent.length - 1]?.dest).toEqual({ transport: 'udp', address: '127.0.0.9', port: 5090 });
      // Only one ACK is owed.
      c.leg.confirm(undefined);
      expect(h.hub.requests('ACK')).toHaveLength(1);
      c.resend(ok);
      expect(h.hub.requests('ACK')).toHaveLength(2);
      expect(h.hub.requests('ACK')[1]).toEqual(ack);
      expect(c.events.kinds).toEqual(['progress', 'answered']);
    });

    it('a late offer: the ACK carries the call’s answer', () => {
      const h = new UaHarness();
      const c = new CalleePeer(h, { offer: undefined });
      c.reply(200, { body: SDP_OFFER });
      c.leg.confirm(sdp(SDP_ANSWER));
      const ack = h.hub.lastRequest('ACK');
      expect(ack.body.equals(SDP_ANSWER)).toBe(true);
      expect(header(ack, 'content-type')).toBe('application/sdp');
      expect(c.leg.lastSdp?.equals(SDP_ANSWER)).toBe(true);
    });

    it('a 2xx without a To tag fails the leg (502): there is no dialog to go on with', () => {
      const h = new UaHarness();
      const c = new CalleePeer(h);
      c.reply(200, { toTag: null, body: SDP_ANSWER });
      expect(c.events.last('failed').failure).toEqual({ kind: 'unusable', status: 502, reason: 'Callee Answer Without To Tag', crossing: [] });
    });

    it('the session timer follows the callee’s 2xx: refresher=uac is Carillon; none without Session-Expires', () => {
      const h = new UaHarness();
      const c = new CalleePeer(h);
      c.reply(200, { body: SDP_ANSWER, headers: [{ name: 'session-expires', value: '1200;refresher=uac' }, { name: 'supported', value: 'timer' }] });
      expect(c.leg.sessionIntervalSec).toBe(1200);
      expect(c.leg.localRefresher).toBe(true);
      expect(c.leg.supportsTimer).toBe(true);
      const h2 = new UaHarness();
      const c2 = new CalleePeer(h2);
      c2.reply(200, { body: SDP_ANSWER, headers: [{ name: 'session-expires', value: '1200;refresher=uas' }] });
      expect(c2.leg.localRefresher).toBe(false);
      const h3 = new UaHarness();
      const c3 = new CalleePeer(h3);
      c3.reply(200, { body: SDP_ANSWER });
      expect(c3.leg.sessionIntervalSec).toBe(0);
      c3.leg.confirm(undefined);
      c3.leg.sessionUpdated();
      expect(h3.uaTimers.pendingCount).toBe(0);
    });

    it('a second fork’s 2xx after the answer gets ACK and BYE (RFC 3261 §13.2.2.4); the answer stands', () => {
      const h = new UaHarness();
      const c = new CalleePeer(h);
      c.reply(200, { body: SDP_ANSWER });
      c.leg.confirm(undefined);
      c.reply(200, { toTag: 'fork2', body: SDP_ANSWER });
      const acks = h.hub.requests('ACK');
      expect(acks).toHaveLength(2);
      expect(tagOf(header(acks[1]!, 'to'))).toBe('fork2');
      const bye = h.hub.lastRequest('BYE');
      expect(tagOf(header(bye, 'to'))).toBe('fork2');
      expect(tagOf(header(bye, 'from'))).toBe(c.carillonTag);
      expect(header(bye, 'call-id')).toBe('callee-call-1');
      expect(c.leg.dialog?.remoteTag).toBe('bob1');
      expect(c.events.kinds).toEqual(['answered']);
    });
  });

  describe('failures', () => {
    it('a refusal: failed(rejected) with its status, reason and crossing fields; the transaction ACKs it', () => {
      const h = new UaHarness();
      const c = new CalleePeer(h);
      c.reply(486, { headers: [{ name: 'x-cause', value: '17' }] });
      const f = c.events.last('failed').failure;
      expect(f.kind).toBe('rejected');
      expect(f.status).toBe(486);
      expect(f.reason).toBe('Busy Here');
      expect(f.crossing).toContainEqual({ name: 'x-cause', value: '17' });
      expect(header(h.hub.lastRequest('ACK'), 'cseq')).toBe('1 ACK');
      expect(c.leg.negotiating).toBe(false);
    });

    it('no answer: failed(timeout, 408) at Timer B', () => {
      const h = new UaHarness();
      const c = new CalleePeer(h);
      h.advance(31_999);
      expect(c.events.kinds).toEqual([]);
      h.advance(1);
      expect(c.events.last('failed').failure).toEqual({ kind: 'timeout', status: 408, reason: undefined, crossing: [] });
    });

    it('the INVITE could not be sent: failed(transport, 503)', async () => {
      const h = new UaHarness();
      h.hub.failNext = { code: 'CONNECT_FAILED' };
      const c = new CalleePeer(h, {}, { transport: 'tcp' });
      await h.settle();
      expect(c.events.last('failed').failure).toEqual({ kind: 'transport', status: 503, reason: undefined, crossing: [] });
    });
  });

  describe('422 Session Interval Too Small (RFC 4028 §7.4)', () => {
    it('retries once with the Min-SE named: same Call-ID and From tag, next CSeq, fresh branch', () => {
      const h = new UaHarness();
      const c = new CalleePeer(h);
      const first = c.invite;
      c.reply(422, { headers: [{ name: 'min-se', value: '1900' }] });
      const invites = h.hub.requests('INVITE');
      expect(invites).toHaveLength(2);
      const second = invites[1]!;
      expect(header(second, 'session-expires')).toBe('1900');
      expect(cseqNumber(second)).toBe(2);
      expect(header(second, 'call-id')).toBe(header(first, 'call-id'));
      expect(tagOf(header(second, 'from'))).toBe(tagOf(header(first, 'from')));
      expect(header(second, 'via')).not.toBe(header(first, 'via'));
      expect(second.body.equals(SDP_OFFER)).toBe(true);
      expect(c.events.kinds).toEqual([]);
      expect(h.ua.dialogCount).toBe(1);
      c.reply(200, { body: SDP_ANSWER });
      expect(c.events.kinds).toEqual(['answered']);
      c.leg.confirm(undefined);
      expect(header(h.hub.lastRequest('ACK'), 'cseq')).toBe('2 ACK');
    });

    it('a second 422, or one naming no larger Min-SE, fails the leg with it', () => {
      const h = new UaHarness();
      const c = new CalleePeer(h);
      c.reply(422, { headers: [{ name: 'min-se', value: '1900' }] });
      c.reply(422, { headers: [{ name: 'min-se', value: '1900' }] });
      expect(h.hub.requests('INVITE')).toHaveLength(2);
      expect(c.events.last('failed').failure.status).toBe(422);
      const h2 = new UaHarness();
      const c2 = new CalleePeer(h2);
      c2.reply(422, { headers: [{ name: 'min-se', value: '600' }] });
      expect(h2.hub.requests('INVITE')).toHaveLength(1);
      expect(c2.events.last('failed').failure.status).toBe(422);
    });

    it('a 2xx to the replaced INVITE is absorbed by its completed transaction: nothing reaches the call, the retry goes on', () => {
      const h = new UaHarness();
      const c = new CalleePeer(h);
      const first = c.invite;
      c.reply(422, { headers: [{ name: 'min-se', value: '1900' }] });
      const n = h.hub.sent.length;
      c.reply(200, { to: first, toTag: 'other', body: SDP_ANSWER });
      expect(h.hub.sent).toHaveLength(n);
      expect(c.events.kinds).toEqual([]);
      c.reply(200, { body: SDP_ANSWER });
      expect(c.events.kinds).toEqual(['answered']);
    });
  });

  describe('digest challenges (401/407)', () => {
    it('answers a 407 once with Proxy-Authorization: next CSeq, same Call-ID and From tag', () => {
      const h = new UaHarness();
      const c = new CalleePeer(h, { credentials: CREDS });
      const first = c.invite;
      c.reply(407, { headers: [{ name: 'proxy-authenticate', value: CHALLENGE }] });
      const second = c.invite;
      expect(second).not.toBe(first);
      expect(h.hub.requests('INVITE')).toHaveLength(2);
      expect(cseqNumber(second)).toBe(2);
      expect(header(second, 'call-id')).toBe('callee-call-1');
      expect(tagOf(header(second, 'from'))).toBe(tagOf(header(first, 'from')));
      expect(header(second, 'session-expires')).toBe('1800');
      const auth = header(second, 'proxy-authorization') ?? '';
      expect(auth).toMatch(/^Digest username="acct", realm="carrier\.invalid", nonce="n0nce", uri="sip:\+15550100@127\.0\.0\.3:5080", response="[0-9a-f]{32}", algorithm=MD5, qop=auth/);
      expect(header(second, 'authorization')).toBeUndefined();
      // A second challenge is not answered again: the call hears 403.
      c.reply(407, { headers: [{ name: 'proxy-authenticate', value: CHALLENGE }] });
      expect(h.hub.requests('INVITE')).toHaveLength(2);
      expect(c.events.last('failed').failure).toMatchObject({ kind: 'rejected', status: 403, reason: undefined });
    });

    it('answers a 401 with Authorization, keeping a 422’s interval', () => {
      const h = new UaHarness();
      const c = new CalleePeer(h, { credentials: CREDS });
      c.reply(422, { headers: [{ name: 'min-se', value: '1900' }] });
      c.reply(401, { headers: [{ name: 'www-authenticate', value: CHALLENGE }] });
      const third = c.invite;
      expect(cseqNumber(third)).toBe(3);
      expect(header(third, 'authorization')).toMatch(/^Digest username="acct"/);
      expect(header(third, 'session-expires')).toBe('1900');
    });

    it('without credentials, or with a challenge it cannot answer, the call hears 403', () => {
      const h = new UaHarness();
      const c = new CalleePeer(h);
      c.reply(407, { headers: [{ name: 'proxy-authenticate', value: CHALLENGE }] });
      expect(c.events.last('failed').failure.status).toBe(403);
      const h2 = new UaHarness();
      const c2 = new CalleePeer(h2, { credentials: CREDS });
      c2.reply(401, { headers: [{ name: 'www-authenticate', value: 'Basic realm="x"' }] });
      expect(h2.hub.requests('INVITE')).toHaveLength(1);
      expect(c2.events.last('failed').failure.status).toBe(403);
    });
  });

  describe('hangup', () => {
    it('while ringing: CANCEL with the Reason (RFC 3326); the callee’s 487 fails the leg if it is still open', () => {
      const h = new UaHarness();
      const c = new CalleePeer(h);
      c.reply(180);
      c.leg.hangup({ status: 487, text: 'Caller Cancelled' });
      const cancel = h.hub.lastRequest('CANCEL');
      expect(header(cancel, 'reason')).toBe('SIP;cause=487;text="Caller Cancelled"');
      expect(header(cancel, 'cseq')).toBe('1 CANCEL');
      expect(header(cancel, 'via')).toBe(header(c.invite, 'via'));
      expect(header(cancel, 'to')).toBe(header(c.invite, 'to'));
      c.answer(cancel, 200);
      c.reply(487);
      expect(c.events.last('failed').failure.status).toBe(487);
    });

    it('before any provisional: the CANCEL waits for one (RFC 3261 §9.1)', () => {
      const h = new UaHarness();
      const c = new CalleePeer(h);
      c.leg.hangup(undefined);
      expect(h.hub.requests('CANCEL')).toHaveLength(0);
      c.reply(100, { toTag: null });
      const cancel = h.hub.lastRequest('CANCEL');
      expect(header(cancel, 'reason')).toBeUndefined();
    });

    it('before any provisional, with a cause: the CANCEL that waited carries the Reason', () => {
      const h = new UaHarness();
      const c = new CalleePeer(h);
      c.leg.hangup({ status: 480, text: 'No Answer' });
      c.reply(180);
      expect(header(h.hub.lastRequest('CANCEL'), 'reason')).toBe('SIP;cause=480;text="No Answer"');
    });

    it('before a tagged provisional, reoffer() and relay() have no dialog to use: 481', () => {
      const h = new UaHarness();
      const c = new CalleePeer(h);
      const got: number[] = [];
      c.leg.relay('INFO', undefined, [], 70, (o) => void got.push(o.status));
      c.leg.reoffer('UPDATE', undefined, [], 70, (o) => void got.push(o.status));
      expect(got).toEqual([481, 481]);
      expect(h.hub.trace).toEqual(['INVITE']);
    });

    it('a 200 that crosses the CANCEL is answered for the call (answered), and its hangup then sends ACK and BYE', () => {
      const h = new UaHarness();
      const c = new CalleePeer(h);
      c.reply(180);
      c.leg.hangup({ status: 487, text: 'Caller Cancelled' });
      c.reply(200, { body: SDP_ANSWER });
      expect(c.events.kinds).toEqual(['progress', 'answered']);
      c.leg.hangup({ status: 487, text: 'Caller Cancelled' });
      expect(h.hub.trace.slice(-2)).toEqual(['ACK', 'BYE']);
      expect(header(h.hub.lastRequest('BYE'), 'reason')).toBe('SIP;cause=487;text="Caller Cancelled"');
    });

    it('a stray 2xx after CANCEL and close: ACK and BYE (RFC 3261 §15); its retransmission again', () => {
      const h = new UaHarness();
      const c = new CalleePeer(h);
      c.reply(180);
      c.leg.hangup({ status: 487, text: 'Caller Cancelled' });
      c.leg.close();
      expect(h.ua.dialogCount).toBe(0);
      const ok = c.reply(200, { body: SDP_ANSWER });
      expect(h.hub.trace.slice(-2)).toEqual(['ACK', 'BYE']);
      const ack = h.hub.lastRequest('ACK');
      const bye = h.hub.lastRequest('BYE');
      expect(header(ack, 'cseq')).toBe('1 ACK');
      expect(header(bye, 'cseq')).toBe('2 BYE');
      expect(tagOf(header(bye, 'to'))).toBe('bob1');
      expect(tagOf(header(bye, 'from'))).toBe(c.carillonTag);
      expect(ack.uri).toBe('sip:bob@127.0.0.3:5080;transport=udp');
      expect(c.events.kinds).toEqual(['progress']);
      c.resend(ok);
      expect(h.hub.requests('ACK')).toHaveLength(2);
    });

    it('once answered: the owed ACK first, then BYE with the Reason', () => {
      const h = new UaHarness();
      const c = new CalleePeer(h);
      c.reply(200, { body: SDP_ANSWER });
      c.leg.hangup({ status: 500, text: 'Media Failure' });
      expect(h.hub.trace.slice(-2)).toEqual(['ACK', 'BYE']);
      const bye = h.hub.lastRequest('BYE');
      expect(header(bye, 'reason')).toBe('SIP;cause=500;text="Media Failure"');
      expect(header(bye, 'cseq')).toBe('2 BYE');
      expect(bye.uri).toBe('sip:bob@127.0.0.3:5080;transport=udp');
    });

    it('once ACKed: BYE only', () => {
      const h = new UaHarness();
      const c = new CalleePeer(h);
      c.reply(200, { body: SDP_ANSWER });
      c.leg.confirm(undefined);
      c.leg.hangup(undefined);
      expect(h.hub.trace.slice(-2)).toEqual(['ACK', 'BYE']);
      expect(h.hub.requests('ACK')).toHaveLength(1);
    });

    it('after a refusal, or after close: nothing', () => {
      const h = new UaHarness();
      const c = new CalleePeer(h);
      c.reply(486);
      const n = h.hub.sent.length;
      c.leg.hangup(undefined);
      expect(h.hub.sent).toHaveLength(n);
      const h2 = new UaHarness();
      const c2 = new CalleePeer(h2);
      c2.reply(180);
      c2.leg.close();
      c2.leg.hangup(undefined);
      expect(h2.hub.requests('CANCEL')).toHaveLength(0);
    });

    it('progress() and answer() do nothing on a leg Carillon placed', () => {
      const h = new UaHarness();
      const c = new CalleePeer(h);
      c.leg.progress();
      c.leg.answer();
      expect(h.hub.trace).toEqual(['INVITE']);
    });
  });

  describe('close()', () => {
    it('releases every timer and the dialog-table entry; idempotent; nothing told after', () => {
      const h = new UaHarness();
      const c = new CalleePeer(h);
      c.reply(200, { body: SDP_ANSWER, headers: [{ name: 'session-expires', value: '1200;refresher=uac' }] });
      c.leg.confirm(undefined);
      c.leg.sessionUpdated();
      expect(h.uaTimers.pendingCount).toBe(1);
      c.leg.close();
      c.leg.close();
      expect(h.uaTimers.pendingCount).toBe(0);
      expect(h.ua.dialogCount).toBe(0);
      expect(c.leg.closed).toBe(true);
      h.advance(2_000_000);
      expect(h.hub.requests('UPDATE')).toHaveLength(0);
      expect(h.hub.requests('INVITE')).toHaveLength(1);
    });

    it('a closed leg’s timeout tells nobody', () => {
      const h = new UaHarness();
      const c = new CalleePeer(h);
      c.leg.close();
      h.advance(40_000);
      expect(c.events.kinds).toEqual([]);
    });

    it('a leg closed before it was answered: the callee’s in-dialog requests get 481', () => {
      const h = new UaHarness();
      const c = new CalleePeer(h);
      c.reply(180);
      c.leg.close();
      c.send('BYE');
      expect(h.hub.lastResponse().status).toBe(481);
    });
  });

  it('a PRACK from the callee (Carillon sends no reliable provisionals on this leg) gets 481', () => {
    const h = new UaHarness();
    const c = new CalleePeer(h);
    c.reply(200, { body: SDP_ANSWER });
    c.leg.confirm(undefined);
    c.send('PRACK', [{ name: 'rack', value: '1 1 INVITE' }]);
    expect(h.hub.lastResponse().status).toBe(481);
  });
});
