import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createCryptoRandom } from '../../../common/random.ts';
import { e164Of, orderByPriorityWeight, VoiceConnectorRouter } from '../../../signaling/routing/voice-connector-router.ts';
import type { ConfigSnapshot } from '../../../common/config-snapshot.ts';
import { AuthGuard } from '../../../signaling/auth/auth-guard.ts';
import { DigestAuth } from '../../../signaling/auth/digest.ts';
import type { SipRequest } from '../../../signaling/sip/message/types.ts';
import type { Source } from '../../../signaling/sip/transport/types.ts';
import type { RouteDecision } from '../../../signaling/routing/route.ts';
import { refusalHeaders, requestUriOf, routeInvite } from '../../../signaling/sip/ua/sip-routing.ts';
import { ha1 } from '../../../control-plane/api/chime/voice-connector-config.ts';
import { ManualTimers } from '../../support/manual-timers.ts';

describe('voice connector routing helpers', () => {
  it('orders by priority, and splits equal priorities by weight', () => {
    const random = createCryptoRandom();
    const routes = [
      { id: 'backup', priority: 2, weight: 1 },
      { id: 'a', priority: 1, weight: 3 },
      { id: 'b', priority: 1, weight: 1 },
    ];
    let aFirst = 0;
    const n = 4000;
    for (let i = 0; i < n; i++) {
      const order = orderByPriorityWeight(routes, random).map((r) => r.id);
      expect(order[2]).toBe('backup');
      if (order[0] === 'a') aFirst++;
    }
    // Weight 3 against 1: a first in 75 % of calls (binomial sd ≈ 0.7 % at n = 4000).
    expect(Math.abs(aFirst / n - 0.75)).toBeLessThan(0.04);
  });

  it('reads dialed numbers as E.164 with their country, and nothing else as a number', () => {
    expect(e164Of('+14155550123')).toEqual({ e164: '+14155550123', country: 'US' });
    expect(e164Of('442071838750')).toEqual({ e164: '+442071838750', country: 'GB' });
    expect(e164Of('alice')).toBeUndefined();
    expect(e164Of(undefined)).toBeUndefined();
  });
});

describe('voice connector classification and termination decisions', () => {
  const clock = { nowMs: () => 1_000_000, monoMs: () => 1_000 };
  const digest = new DigestAuth({ secret: Buffer.alloc(32, 1), clock, random: createCryptoRandom() });
  const decideOf = (r: VoiceConnectorRouter, req: SipRequest, source: Source): RouteDecision => routeInvite(r, req, source, digest);
  /** A forward decision's next hops as the Request-URIs the SIP side sends to. */
  const uris = (d: RouteDecision): string[] => (d.kind === 'forward' ? [d.hop, ...d.alternates].map((h) => requestUriOf(h)) : []);
  const vc = {
    id: 'abcdefghijklmnopqrstuv',
    name: 'pbx',
    awsRegion: 'us-east-1',
    requireEncryption: false,
    documents: { termination: { CallingRegions: ['US'], CidrAllowedList: ['10.0.0.0/8'], CpsLimit: 2 } },
    credentials: [],
  };
  const carrier = (id: string, priority: number, host: string): ConfigSnapshot['carriers'][number] => ({ id, name: id, host, port: 5060, protocol: 'UDP', priority, weight: 1, prefixes: [], credentials: undefined });
  const snapshot: ConfigSnapshot = {
    generation: 1,
    voiceConnectors: new Map([[vc.id, vc]]),
    groups: new Map(),
    numbers: new Map(),
    carriers: [carrier('first', 1, '192.0.2.1'), carrier('second', 2, '192.0.2.2')],
    defaultCallingName: undefined,
    cdrBucket: undefined,
  };
  const down = new Set<string>();
  const router = new VoiceConnectorRouter({
    domain: 'carillon.test',
    snapshot: () => snapshot,
    staticRoutes: [],
    authGuard: new AuthGuard({ failuresPerSource: 5, failuresPerVoiceConnector: 10, windowMs: 60_000, banMs: 300_000 }, { clock }),
    clock,
    random: createCryptoRandom(),
    health: { isUp: (host) => !down.has(host) },
  });
  const invite = (to: string): SipRequest => ({
    kind: 'request',
    method: 'INVITE',
    uri: `sip:${to}@${vc.id}.voiceconnector.carillon.test`,
    headers: [{ name: 'from', value: '<sip:+12065550111@10.1.2.3>;tag=1' }],
    body: Buffer.alloc(0),
  });
  const from = (address: string): Source => ({ transport: 'udp', address, port: 5060, localAddress: '127.0.0.1', localPort: 5060 });

  it('sends a termination call to the carriers in priority order, skipping one that stopped answering pings', () => {
    const d = decideOf(router, invite('+14155550123'), from('10.1.2.3'));
    expect(d).toMatchObject({ kind: 'forward', hop: { transport: 'udp', host: '192.0.2.1', port: 5060, user: '+14155550123' }, alternates: [{ host: '192.0.2.2' }] });
    expect(uris(d)).toEqual(['sip:+14155550123@192.0.2.1:5060;transport=udp', 'sip:+14155550123@192.0.2.2:5060;transport=udp']);
    down.add('192.0.2.1');
    expect(uris(decideOf(router, invite('+14155550123'), from('10.1.2.3')))).toEqual(['sip:+14155550123@192.0.2.2:5060;transport=udp']);
    down.clear();
  });

  it('refuses strangers, other countries, and calls past CpsLimit, each by its rule', () => {
    expect(decideOf(router, invite('+14155550123'), from('192.168.1.1'))).toMatchObject({ kind: 'reject', status: 403, rule: 'termination-source' });
    expect(decideOf(router, invite('+442071838750'), from('10.1.2.3'))).toMatchObject({ kind: 'reject', status: 403, rule: 'termination-calling-region' });
    expect(decideOf(router, invite('not-a-number'), from('10.1.2.3'))).toMatchObject({ kind: 'reject', status: 484 });
    // The bucket holds CpsLimit (2) tokens and the clock stands still: the third call in the same instant is throttled.
    const fresh = new VoiceConnectorRouter({ domain: 'carillon.test', snapshot: () => snapshot, staticRoutes: [], authGuard: new AuthGuard({ failuresPerSource: 5, failuresPerVoiceConnector: 10, windowMs: 60_000, banMs: 300_000 }, { clock }), clock, random: createCryptoRandom() });
    expect(decideOf(fresh, invite('+14155550123'), from('10.1.2.3')).kind).toBe('forward');
    expect(decideOf(fresh, invite('+14155550123'), from('10.1.2.3')).kind).toBe('forward');
    expect(decideOf(fresh, invite('+14155550123'), from('10.1.2.3'))).toMatchObject({ kind: 'reject', status: 503, throttled: true });
    expect(fresh.counters.refused.get('termination-throttled')).toBe(1);
  });

  it('takes a SIPREC recording session from an allowed source for recording, past calling regions; refuses one from a stranger or to no voice connector', () => {
    const siprec = { ...invite('recorder'), headers: [...invite('recorder').headers, { name: 'require', value: 'siprec' }] };
    expect(decideOf(router, siprec, from('10.1.2.3'))).toMatchObject({ kind: 'record', rule: `recording:${vc.id}`, trunk: { voiceConnectorId: vc.id } });
    expect(decideOf(router, siprec, from('192.168.1.1'))).toMatchObject({ kind: 'reject', status: 403, rule: 'termination-source' });
    expect(decideOf(router, { ...siprec, uri: 'sip:recorder@198.51.100.7' }, from('10.1.2.3'))).toMatchObject({ kind: 'reject', status: 404, rule: 'recording-no-voice-connector' });
    // Recognised by its rs-metadata too, without the option tag.
    const body = Buffer.from('--b\r\nContent-Type: application/sdp\r\n\r\nv=0\r\n--b\r\nContent-Type: application/rs-metadata+xml\r\n\r\n<recording/>\r\n--b--\r\n');
    const byBody = { ...invite('recorder'), headers: [...invite('recorder').headers, { name: 'content-type', value: 'multipart/mixed;boundary=b' }], body };
    expect(decideOf(router, byBody, from('10.1.2.3')).kind).toBe('record');
  });

  it('matches sources against CidrAllowedList with IPv4-mapped IPv6 either way round', () => {
    const mapped = { ...vc, id: 'mappedmappedmappedmapp', documents: { termination: { CallingRegions: ['US'], CidrAllowedList: ['::ffff:10.0.0.0/104', '2001:db8::/32', '192.0.2.0/24'], CpsLimit: 100 } } };
    const snap: ConfigSnapshot = { ...snapshot, voiceConnectors: new Map([[mapped.id, mapped]]) };
    const r = new VoiceConnectorRouter({ domain: 'carillon.test', snapshot: () => snap, staticRoutes: [], authGuard: new AuthGuard({ failuresPerSource: 5, failuresPerVoiceConnector: 10, windowMs: 60_000, banMs: 300_000 }, { clock }), clock, random: createCryptoRandom() });
    const to = { ...invite('+14155550123'), uri: `sip:+14155550123@${mapped.id}.voiceconnector.carillon.test` };
    expect(decideOf(r, to, from('10.9.8.7')).kind).toBe('forward');
    expect(decideOf(r, to, from('::ffff:10.9.8.7')).kind).toBe('forward');
    expect(decideOf(r, to, from('2001:db8::5')).kind).toBe('forward');
    expect(decideOf(r, to, from('11.0.0.1'))).toMatchObject({ kind: 'reject', rule: 'termination-source' });
    expect(decideOf(r, to, from('fe80::1'))).toMatchObject({ kind: 'reject', rule: 'termination-source' });
    // An IPv4 range takes the IPv4-mapped form of its addresses too.
    expect(decideOf(r, to, from('::ffff:192.0.2.9')).kind).toBe('forward');
  });

  it('refuses a voice connector host that does not exist, and an ordinary call from nowhere', () => {
    const r = decideOf(router, { ...invite('+14155550123'), uri: 'sip:+14155550123@zzzzzzzzzzzzzzzzzzzzzz.voiceconnector.carillon.test' }, from('10.1.2.3'));
    expect(r).toMatchObject({ kind: 'reject', status: 404, rule: 'unknown-voice-connector' });
    expect(decideOf(router, { ...invite('+14155550123'), uri: 'sip:+14155550123@198.51.100.7' }, from('203.0.113.9'))).toMatchObject({ kind: 'reject', status: 404, rule: 'no-route' });
  });
});

describe('termination credentials: challenge, verify, ban (router with its digest and guard)', () => {
  const clock = new ManualTimers();
  const digest = new DigestAuth({ secret: Buffer.alloc(32, 2), clock, random: createCryptoRandom() });
  const decideOf = (r: VoiceConnectorRouter, req: SipRequest, source: Source): RouteDecision => routeInvite(r, req, source, digest);
  const id = 'abcdefghijklmnopqrstuv';
  const realm = `${id}.voiceconnector.carillon.test`;
  const vc = {
    id,
    name: 'pbx',
    awsRegion: 'us-east-1',
    requireEncryption: false,
    documents: { termination: { CallingRegions: ['US'], CidrAllowedList: ['10.0.0.0/8'], CpsLimit: 100 } },
    credentials: [{ username: 'pbx', realm, ha1Md5: ha1('md5', 'pbx', realm, 'pw'), ha1Sha256: ha1('sha256', 'pbx', realm, 'pw') }],
  };
  const snapshot: ConfigSnapshot = {
    generation: 1,
    voiceConnectors: new Map([[vc.id, vc]]),
    groups: new Map(),
    numbers: new Map(),
    carriers: [{ id: 'c', name: 'c', host: '192.0.2.1', port: 5060, protocol: 'UDP', priority: 1, weight: 1, prefixes: [], credentials: undefined }],
    defaultCallingName: undefined,
    cdrBucket: undefined,
  };
  const guard = new AuthGuard({ failuresPerSource: 5, failuresPerVoiceConnector: 100, windowMs: 60_000, banMs: 300_000 }, { clock });
  const router = new VoiceConnectorRouter({ domain: 'carillon.test', snapshot: () => snapshot, staticRoutes: [], authGuard: guard, clock, random: createCryptoRandom() });
  const ruri = `sip:+14155550123@${realm}`;
  const md5 = (s: string): string => crypto.createHash('md5').update(s).digest('hex');
  const invite = (proxyAuthorization?: string): SipRequest => ({
    kind: 'request',
    method: 'INVITE',
    uri: ruri,
    headers: [{ name: 'from', value: '<sip:+12065550111@10.1.2.3>;tag=1' }, ...(proxyAuthorization === undefined ? [] : [{ name: 'proxy-authorization', value: proxyAuthorization }])],
    body: Buffer.alloc(0),
  });
  const from: Source = { transport: 'udp', address: '10.1.2.3', port: 5060, localAddress: '127.0.0.1', localPort: 5060 };
  /** Asks for a challenge and answers it with `password`. */
  const call = (password: string): RouteDecision => {
    const challenge = decideOf(router, invite(), from);
    if (challenge.kind !== 'reject' || challenge.status !== 407) return challenge;
    const nonce = /nonce="([^"]+)"/.exec(refusalHeaders(challenge, digest, from)[0]?.value ?? '')?.[1] ?? '';
    const response = md5(`${md5(`pbx:${realm}:${password}`)}:${nonce}:00000001:cafe:auth:${md5(`INVITE:${ruri}`)}`);
    return decideOf(router, invite(`Digest username="pbx", realm="${realm}", nonce="${nonce}", uri="${ruri}", response="${response}", algorithm=MD5, qop=auth, nc=00000001, cnonce="cafe"`), from);
  };

  it('challenges, takes the right password, refuses a wrong one; five wrong ones ban the source — the right password included — until the ban ends', () => {
    expect(decideOf(router, invite(), from)).toMatchObject({ kind: 'reject', status: 407, rule: 'termination-challenge' });
    expect(call('pw')).toMatchObject({ kind: 'forward', rule: `termination:${id}` });
    for (let i = 0; i < 4; i++) expect(call(`guess${i}`)).toMatchObject({ kind: 'reject', status: 403, rule: 'termination-auth' });
    expect(call('pw').kind).toBe('forward');
    expect(call('guess4')).toMatchObject({ kind: 'reject', status: 403, rule: 'termination-auth' });
    // Banned: refused before any challenge.
    expect(decideOf(router, invite(), from)).toMatchObject({ kind: 'reject', status: 403, rule: 'termination-auth-banned', reason: 'Too Many Authentication Failures' });
    expect(call('pw')).toMatchObject({ kind: 'reject', status: 403, rule: 'termination-auth-banned' });
    clock.advance(300_000);
    expect(call('pw').kind).toBe('forward');
    expect(router.counters.refused.get('termination-auth')).toBe(5);
    expect(router.counters.refused.get('termination-auth-banned')).toBe(2);
    expect(guard.counters.bans.source).toBe(1);
  });
});
