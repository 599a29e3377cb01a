import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { NextHop, RouteDecision, RouteRequest } from '../../../../common/route.ts';
import { createCryptoRandom } from '../../../../common/random.ts';
import { DigestAuth } from '../../../../signaling/auth/digest.ts';
import type { SipHeader, SipRequest } from '../../../../signaling/sip/message/types.ts';
import { hopOfUri } from '../../../../signaling/sip/resolve/hop-uri.ts';
import type { Source } from '../../../../signaling/sip/transport/types.ts';
import { dialedTargetOf, refusalHeaders, requestUriOf, routeInvite, routeRequestOfInvite } from '../../../../signaling/sip/ua/sip-routing.ts';

const clock = { nowMs: () => 1_000_000, monoMs: () => 1_000 };
const source: Source = { transport: 'tls', address: '10.1.2.3', port: 5061, localAddress: '127.0.0.1', localPort: 5061 };
const digest = (): DigestAuth => new DigestAuth({ secret: Buffer.alloc(32, 3), clock, random: createCryptoRandom(), algorithms: ['MD5'] });

function invite(uri: string, headers: [string, string][] = [], body = ''): SipRequest {
  const hs: SipHeader[] = [{ name: 'from', value: '<sip:+12065550111@10.1.2.3>;tag=1' }, ...headers.map(([name, value]) => ({ name, value }))];
  return { kind: 'request', method: 'INVITE', uri, headers: hs, body: Buffer.from(body) };
}

const hop = (h: Partial<NextHop>): NextHop => ({ transport: undefined, host: '192.0.2.1', port: undefined, user: undefined, headers: [], ...h });

describe('an INVITE as routing’s neutral request', () => {
  it('reads the dialed user (escapes resolved) and the lower-cased host; tel: has no host; other schemes none', () => {
    expect(dialedTargetOf('sip:%2B14155550123@PBX.Example.COM;user=phone')).toEqual({ user: '+14155550123', host: 'pbx.example.com' });
    expect(dialedTargetOf('sip:pbx.example.com')).toEqual({ user: undefined, host: 'pbx.example.com' });
    expect(dialedTargetOf('tel:+14155550123')).toEqual({ user: '+14155550123', host: '' });
    expect(dialedTargetOf('mailto:a@b')).toBeUndefined();
  });

  it('takes the caller from P-Asserted-Identity, else From; Privacy id/user or an anonymous From hide it', () => {
    const r = (headers: [string, string][]): RouteRequest | undefined => routeRequestOfInvite(invite('sip:+14155550123@h', headers), source, digest());
    expect(r([])?.caller).toEqual({ user: '+12065550111', anonymous: false });
    expect(r([['p-asserted-identity', '<sip:+12065550199@pbx>, <tel:+12065550198>']])?.caller).toEqual({ user: '+12065550199', anonymous: false });
    expect(r([['privacy', 'id']])?.caller.anonymous).toBe(true);
    expect(r([['privacy', 'header;user']])?.caller.anonymous).toBe(true);
    const anon = routeRequestOfInvite({ ...invite('sip:+14155550123@h'), headers: [{ name: 'from', value: '<sip:anonymous@anonymous.invalid>;tag=1' }] }, source, digest());
    expect(anon?.caller).toEqual({ user: 'anonymous', anonymous: true });
    expect(r([])?.fromUser).toBe('+12065550111');
    expect(r([])?.source).toEqual({ address: '10.1.2.3', port: 5061, transport: 'tls' });
  });

  it('tells a recording session (siprec tag or rs-metadata) and what the offer says of its audio', () => {
    const r = (headers: [string, string][], body = ''): RouteRequest | undefined => routeRequestOfInvite(invite('sip:rec@h', headers, body), source, digest());
    expect(r([['require', 'timer, siprec']])?.recording).toBe(true);
    expect(r([['content-type', 'multipart/mixed;boundary=b']], '--b\r\nContent-Type: application/rs-metadata+xml\r\n\r\n<x/>\r\n--b--\r\n')?.recording).toBe(true);
    expect(r([])?.recording).toBe(false);
    expect(r([])?.audioOffer).toBe('none');
    expect(r([], 'v=0\r\nm=audio 4000 RTP/AVP 0\r\n')?.audioOffer).toBe('rtp');
    expect(r([], 'v=0\r\nm=audio 4000 RTP/SAVP 0\r\n')?.audioOffer).toBe('srtp');
    expect(r([], 'v=0\r\nm=audio 4000 RTP/SAVPF 0\r\n')?.audioOffer).toBe('srtp');
  });

  it('checks Proxy-Authorization against the realm’s accounts: absent, then ok for the right answer, failed for a wrong one', () => {
    const d = digest();
    const realm = 'vc.voiceconnector.carillon.test';
    const ha1 = (pw: string): string => crypto.createHash('md5').update(`pbx:${realm}:${pw}`).digest('hex');
    const accounts = [{ username: 'pbx', realm, ha1Md5: ha1('pw'), ha1Sha256: '' }];
    const ruri = `sip:+14155550123@${realm}`;
    expect(routeRequestOfInvite(invite(ruri), source, d)?.credentials(realm, accounts)).toEqual({ kind: 'absent' });
    const challenge = refusalHeaders({ kind: 'reject', status: 407, rule: 'r', challenge: { realm, stale: false } }, d, source);
    expect(challenge).toHaveLength(1);
    expect(challenge[0]?.name).toBe('proxy-authenticate');
    const nonce = /nonce="([^"]+)"/.exec(challenge[0]?.value ?? '')?.[1] ?? '';
    const md5 = (s: string): string => crypto.createHash('md5').update(s).digest('hex');
    const answer = (pw: string, nc: string): string =>
      `Digest username="pbx", realm="${realm}", nonce="${nonce}", uri="${ruri}", response="${md5(`${ha1(pw)}:${nonce}:${nc}:cafe:auth:${md5(`INVITE:${ruri}`)}`)}", algorithm=MD5, qop=auth, nc=${nc}, cnonce="cafe"`;
    expect(routeRequestOfInvite(invite(ruri, [['proxy-authorization', answer('pw', '00000001')]]), source, d)?.credentials(realm, accounts)).toEqual({ kind: 'ok', username: 'pbx' });
    expect(routeRequestOfInvite(invite(ruri, [['proxy-authorization', answer('nope', '00000002')]]), source, d)?.credentials(realm, accounts)).toMatchObject({ kind: 'failed' });
  });

  it('refuses an INVITE whose Request-URI routing cannot read with 416, before asking the router', () => {
    let asked = 0;
    const router = { decide: (): RouteDecision => (asked++, { kind: 'reject', status: 404, rule: 'x' }) };
    expect(routeInvite(router, invite('mailto:x@y'), source, digest())).toEqual({ kind: 'reject', status: 416, rule: 'bad-request-uri' });
    expect(asked).toBe(0);
    expect(routeInvite(router, invite('sip:x@y'), source, digest())).toMatchObject({ status: 404 });
    expect(asked).toBe(1);
  });
});

describe('decisions back into SIP', () => {
  it('writes a hop as its Request-URI: user, host (IPv6 in brackets), port, ;transport= only when routing chose one', () => {
    expect(requestUriOf(hop({ transport: 'udp', port: 5060, user: '+14155550123' }))).toBe('sip:+14155550123@192.0.2.1:5060;transport=udp');
    expect(requestUriOf(hop({ transport: 'tls', host: '2001:db8::1', port: 5061, user: '+1' }))).toBe('sip:+1@[2001:db8::1]:5061;transport=tls');
    expect(requestUriOf(hop({ host: 'carrier.test' }))).toBe('sip:carrier.test');
    // The dialed user goes in when the hop names none; a hop's own user wins.
    expect(requestUriOf(hop({ transport: 'tcp' }), '+1206')).toBe('sip:+1206@192.0.2.1;transport=tcp');
    expect(requestUriOf(hop({ user: 'bob' }), '+1206')).toBe('sip:bob@192.0.2.1');
    expect(requestUriOf(hop({ user: 'a b' }))).toBe('sip:a%20b@192.0.2.1');
  });

  it('reads a static route target into a hop once, refusing what a hop cannot hold', () => {
    expect(hopOfUri('sip:127.0.0.1:5080;transport=UDP')).toEqual({ ok: true, hop: hop({ transport: 'udp', host: '127.0.0.1', port: 5080 }) });
    expect(hopOfUri('sip:%2B1@[::1]:5070')).toEqual({ ok: true, hop: hop({ host: '::1', port: 5070, user: '+1' }) });
    expect(hopOfUri('sips:PBX.example.com')).toEqual({ ok: true, hop: hop({ transport: 'tls', host: 'pbx.example.com' }) });
    expect(hopOfUri('tel:+1')).toEqual({ ok: false, fault: 'not-sip' });
    expect(hopOfUri('sip:h;transport=sctp')).toEqual({ ok: false, fault: 'bad-transport' });
    expect(hopOfUri('sips:h;transport=udp')).toEqual({ ok: false, fault: 'bad-transport' });
    expect(hopOfUri('sip:h;maddr=10.0.0.1')).toEqual({ ok: false, fault: 'unsupported-part' });
    expect(hopOfUri('sip:h?subject=x')).toEqual({ ok: false, fault: 'unsupported-part' });
    for (const t of ['sip:127.0.0.1:5080;transport=udp', 'sip:bob@10.0.0.2:5090;transport=tcp', 'sip:carrier.test']) {
      const r = hopOfUri(t);
      expect(r.ok && requestUriOf(r.hop)).toBe(t);
    }
  });

  it('writes a refusal’s challenge (stale when asked) and Retry-After; a forward has none', () => {
    const d = digest();
    const stale = refusalHeaders({ kind: 'reject', status: 407, rule: 'r', challenge: { realm: 'r.test', stale: true } }, d, source);
    expect(stale[0]?.value).toMatch(/stale=true/i);
    expect(refusalHeaders({ kind: 'reject', status: 503, rule: 'throttled', retryAfterSec: 1 }, d, source)).toEqual([{ name: 'retry-after', value: '1' }]);
    expect(refusalHeaders({ kind: 'reject', status: 404, rule: 'no-route' }, d, source)).toEqual([]);
    expect(refusalHeaders({ kind: 'forward', hop: hop({}), alternates: [], rule: 'routes[0]' }, d, source)).toEqual([]);
  });
});
