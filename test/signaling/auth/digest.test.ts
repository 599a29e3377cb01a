import crypto from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { answerChallenge, DigestAuth, parseDigestParams } from '../../../signaling/auth/digest.ts';
import type { DigestAuthOptions } from '../../../signaling/auth/digest.ts';
import { ha1 } from '../../../control-plane/api/chime/voice-connector-config.ts';
import { createCryptoRandom } from '../../../common/random.ts';
import { ManualTimers } from '../../support/manual-timers.ts';

const realm = 'abc.voiceconnector.carillon.local';
const creds = [{ username: 'pbx', realm, ha1Md5: ha1('md5', 'pbx', realm, 'pw'), ha1Sha256: ha1('sha256', 'pbx', realm, 'pw') }];
const h = (alg: 'md5' | 'sha256', s: string): string => crypto.createHash(alg).update(s).digest('hex');
const RURI = 'sip:+14155550123@abc.voiceconnector.carillon.local';
const PBX = '10.1.2.3';
const invite = (uri = RURI): { method: string; uri: string } => ({ method: 'INVITE', uri });

interface AnswerOptions {
  readonly alg?: 'md5' | 'sha256';
  readonly password?: string;
  readonly uri?: string;
  /** nonce count; null = no qop (RFC 2069 style). */
  readonly nc?: number | null;
  readonly username?: string;
}

/** What a UAC computes for a challenge (RFC 7616 §3.4.1). */
function answer(challenge: string, o: AnswerOptions = {}): string {
  const { alg = 'md5', password = 'pw', uri = RURI, nc = 1, username = 'pbx' } = o;
  const p = parseDigestParams(challenge);
  const nonce = p?.get('nonce') ?? '';
  const a1 = h(alg, `${username}:${realm}:${password}`);
  const a2 = h(alg, `INVITE:${uri}`);
  const algorithm = alg === 'md5' ? 'MD5' : 'SHA-256';
  if (nc === null) return `Digest username="${username}", realm="${realm}", nonce="${nonce}", uri="${uri}", response="${h(alg, `${a1}:${nonce}:${a2}`)}", algorithm=${algorithm}`;
  const ncHex = nc.toString(16).padStart(8, '0');
  const response = h(alg, `${a1}:${nonce}:${ncHex}:c0ffee:auth:${a2}`);
  return `Digest username="${username}", realm="${realm}", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=${algorithm}, qop=auth, nc=${ncHex}, cnonce="c0ffee"`;
}

function setup(opts: Partial<DigestAuthOptions> = {}): { auth: DigestAuth; clock: ManualTimers } {
  const clock = new ManualTimers();
  return { clock, auth: new DigestAuth({ secret: Buffer.alloc(32, 7), clock, random: createCryptoRandom(), ...opts }) };
}

describe('SIP digest authentication (RFC 7616)', () => {
  it('offers MD5 and SHA-256 with one nonce and accepts a right answer with either', () => {
    const { auth } = setup();
    const [md5, sha] = auth.challenge(realm, PBX);
    expect(md5).toMatch(/algorithm=MD5/);
    expect(sha).toMatch(/algorithm=SHA-256/);
    expect(parseDigestParams(md5 as string)?.get('nonce')).toBe(parseDigestParams(sha as string)?.get('nonce'));
    expect(auth.verify([answer(md5 as string)], invite(), realm, PBX, creds)).toEqual({ kind: 'ok', username: 'pbx' });
    const [, sha2] = auth.challenge(realm, PBX);
    expect(auth.verify([answer(sha2 as string, { alg: 'sha256' })], invite(), realm, PBX, creds).kind).toBe('ok');
  });

  it('challenges with the configured algorithms only, in their order', () => {
    const list = setup({ algorithms: ['MD5'] }).auth.challenge(realm, PBX);
    expect(list).toHaveLength(1);
    expect(list[0]).toMatch(/algorithm=MD5/);
    expect(setup({ algorithms: ['SHA-256', 'MD5'] }).auth.challenge(realm, PBX).map((c) => /algorithm=(\S+?),/.exec(c)?.[1])).toEqual(['SHA-256', 'MD5']);
    const { auth } = setup({ algorithms: ['MD5'] });
    expect(auth.verify([answer(auth.challenge(realm, PBX)[0] as string)], invite(), realm, PBX, creds).kind).toBe('ok');
  });

  it('says stale=true only on the challenge that follows an unusable nonce', () => {
    const { auth } = setup();
    expect(auth.challenge(realm, PBX).every((c) => !c.includes('stale'))).toBe(true);
    expect(auth.challenge(realm, PBX, true).every((c) => c.endsWith('qop="auth", stale=true'))).toBe(true);
  });

  it('no credentials for this realm: a plain challenge, not a failure (RFC 3261 §22.3)', () => {
    const { auth } = setup();
    const [c] = auth.challenge(realm, PBX);
    expect(auth.verify([], invite(), realm, PBX, creds)).toEqual({ kind: 'challenge' });
    expect(auth.verify(['Basic cGJ4OnB3'], invite(), realm, PBX, creds)).toEqual({ kind: 'challenge' });
    expect(auth.verify([answer(c as string).replace(realm, 'other.realm')], invite(), realm, PBX, creds)).toEqual({ kind: 'challenge' });
    expect(auth.verify(['Digest username="pbx", realm="abc.voiceconnector.carillon.local", response="00"'], invite(), realm, PBX, creds)).toEqual({ kind: 'challenge' });
    // Another proxy's value first, ours second: ours is the one read.
    expect(auth.verify([answer(c as string).replace(realm, 'other.realm'), answer(c as string)], invite(), realm, PBX, creds).kind).toBe('ok');
  });

  it('a wrong password is a failure and burns the nonce: the right answer on it afterwards is stale', () => {
    const { auth } = setup();
    const [c] = auth.challenge(realm, PBX);
    expect(auth.verify([answer(c as string, { password: 'nope' })], invite(), realm, PBX, creds)).toEqual({ kind: 'failed', reason: 'wrong_response' });
    expect(auth.verify([answer(c as string, { nc: 2 })], invite(), realm, PBX, creds)).toEqual({ kind: 'stale', reason: 'replay' });
  });

  it('an unknown username is a failure', () => {
    const { auth } = setup();
    const [c] = auth.challenge(realm, PBX);
    expect(auth.verify([answer(c as string, { username: 'admin' })], invite(), realm, PBX, creds)).toEqual({ kind: 'failed', reason: 'unknown_user' });
  });

  it('an answer whose uri is not the Request-URI is a failure, though its response is right for that uri', () => {
    const { auth } = setup();
    const [c] = auth.challenge(realm, PBX);
    const forOtherNumber = answer(c as string, { uri: 'sip:+14155550199@abc.voiceconnector.carillon.local' });
    expect(auth.verify([forOtherNumber], invite(), realm, PBX, creds)).toEqual({ kind: 'failed', reason: 'uri_mismatch' });
    // Compared as URIs: host case and a transport parameter on one side do not matter.
    const [d] = auth.challenge(realm, PBX);
    expect(auth.verify([answer(d as string, { uri: 'sip:+14155550123@ABC.voiceconnector.carillon.local;transport=udp' })], invite(), realm, PBX, creds).kind).toBe('ok');
  });

  it('each nc is taken once, only increasing: a replay is stale (no failure), a PBX counting up on one nonce keeps working', () => {
    const { auth } = setup();
    const [c] = auth.challenge(realm, PBX);
    expect(auth.verify([answer(c as string)], invite(), realm, PBX, creds).kind).toBe('ok');
    // The same answer again (a captured header on a new call).
    expect(auth.verify([answer(c as string)], invite(), realm, PBX, creds)).toEqual({ kind: 'stale', reason: 'replay' });
    // Asterisk-style reuse: nc 2, then 3, each for its own call and Request-URI.
    const other = 'sip:+14155550177@abc.voiceconnector.carillon.local';
    expect(auth.verify([answer(c as string, { nc: 2, uri: other })], invite(other), realm, PBX, creds).kind).toBe('ok');
    expect(auth.verify([answer(c as string, { nc: 3 })], invite(), realm, PBX, creds).kind).toBe('ok');
    // An nc below the last accepted (a raced or replayed request), and one skipped ahead.
    expect(auth.verify([answer(c as string, { nc: 2 })], invite(), realm, PBX, creds)).toEqual({ kind: 'stale', reason: 'replay' });
    expect(auth.verify([answer(c as string, { nc: 9 })], invite(), realm, PBX, creds).kind).toBe('ok');
    expect(auth.counters.stale.replay).toBe(2);
  });

  it('without qop (RFC 2069 style) a nonce is good for one request', () => {
    const { auth } = setup();
    const [c] = auth.challenge(realm, PBX);
    expect(auth.verify([answer(c as string, { nc: null })], invite(), realm, PBX, creds).kind).toBe('ok');
    expect(auth.verify([answer(c as string, { nc: null })], invite(), realm, PBX, creds)).toEqual({ kind: 'stale', reason: 'replay' });
    expect(auth.verify([answer(c as string, { nc: 1 })], invite(), realm, PBX, creds)).toEqual({ kind: 'stale', reason: 'replay' });
    // And a nonce once used with qop takes no answer without it.
    const [d] = auth.challenge(realm, PBX);
    expect(auth.verify([answer(d as string)], invite(), realm, PBX, creds).kind).toBe('ok');
    expect(auth.verify([answer(d as string, { nc: null })], invite(), realm, PBX, creds)).toEqual({ kind: 'stale', reason: 'replay' });
  });

  it('a nonce sent to another source is stale from here, whatever the response', () => {
    const { auth } = setup();
    const [c] = auth.challenge(realm, PBX);
    expect(auth.verify([answer(c as string)], invite(), realm, '10.9.9.9', creds)).toEqual({ kind: 'stale', reason: 'other_source' });
    expect(auth.verify([answer(c as string, { password: 'guess' })], invite(), realm, '10.9.9.9', creds)).toEqual({ kind: 'stale', reason: 'other_source' });
    // Not burned by the stranger: the PBX it was sent to still answers it.
    expect(auth.verify([answer(c as string)], invite(), realm, PBX, creds).kind).toBe('ok');
  });

  it('a nonce is stale after the TTL (5 min), and one this server never issued is stale too', () => {
    const { auth, clock } = setup();
    const [c] = auth.challenge(realm, PBX);
    clock.advance(299_999);
    const [young] = auth.challenge(realm, PBX);
    expect(auth.verify([answer(young as string)], invite(), realm, PBX, creds).kind).toBe('ok');
    clock.advance(1);
    expect(auth.verify([answer(c as string)], invite(), realm, PBX, creds)).toEqual({ kind: 'stale', reason: 'expired' });
    // Another server's (another secret's) nonce.
    const forged = setup({ secret: Buffer.alloc(32, 8) }).auth.challenge(realm, PBX)[0] as string;
    expect(auth.verify([answer(forged)], invite(), realm, PBX, creds)).toEqual({ kind: 'stale', reason: 'unknown' });
    expect(auth.verify([answer(c as string).replace(/nonce="[^"]+"/, 'nonce="abc"')], invite(), realm, PBX, creds)).toEqual({ kind: 'stale', reason: 'unknown' });
    expect(auth.counters.stale).toMatchObject({ expired: 1, unknown: 2 });
  });

  it('answers to a live nonce that are not well formed are failures: another qop, a bad nc, no cnonce, no uri, an unknown algorithm', () => {
    const { auth } = setup();
    const cases = [
      (c: string) => answer(c).replace('qop=auth', 'qop=auth-int'),
      (c: string) => answer(c).replace('nc=00000001', 'nc=1'),
      (c: string) => answer(c).replace(', cnonce="c0ffee"', ''),
      (c: string) => answer(c).replace(/uri="[^"]+", /, ''),
      (c: string) => answer(c).replace('algorithm=MD5', 'algorithm=SHA-512-256'),
    ];
    for (const make of cases) {
      const [c] = auth.challenge(realm, PBX);
      expect(auth.verify([make(c as string)], invite(), realm, PBX, creds)).toEqual({ kind: 'failed', reason: 'malformed' });
    }
  });

  it('reads any header value without throwing, and never says ok to a made-up one', () => {
    const { auth } = setup();
    const [c] = auth.challenge(realm, PBX);
    const nonce = parseDigestParams(c as string)?.get('nonce') ?? '';
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (v) => {
        parseDigestParams(v);
        expect(auth.verify([v], invite(), realm, PBX, creds).kind).not.toBe('ok');
      }),
      { numRuns: 2000 },
    );
    // Digest-shaped values with our realm and a live nonce, every other parameter random.
    const value = fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('auth', 'MD5', 'SHA-256', '00000001', 'pbx', RURI, nonce, ''));
    const params = fc.dictionary(fc.constantFrom('username', 'uri', 'response', 'algorithm', 'qop', 'nc', 'cnonce', 'opaque', 'userhash', 'x'), value, { maxKeys: 9 });
    fc.assert(
      fc.property(params, fc.boolean(), (p, quoted) => {
        const v = `Digest realm="${realm}", nonce="${nonce}", ${Object.entries(p).map(([k, x]) => (quoted ? `${k}="${x.replace(/["\\]/g, '\\$&')}"` : `${k}=${x}`)).join(', ')}`;
        expect(auth.verify([v], invite(), realm, PBX, creds).kind).not.toBe('ok');
      }),
      { numRuns: 2000 },
    );
  });

  it('answers challenges the way Carillon itself verifies them, preferring SHA-256', () => {
    const { auth } = setup();
    const uri = 'sip:+14155550123@carrier.example';
    const value = answerChallenge(auth.challenge(realm, PBX), 'INVITE', uri, 'pbx', 'pw', 'abcdef');
    expect(value).toMatch(/algorithm=SHA-256/);
    expect(auth.verify([value as string], invite(uri), realm, PBX, creds).kind).toBe('ok');
    const md5Only = answerChallenge([auth.challenge(realm, PBX)[0] as string], 'INVITE', uri, 'pbx', 'pw', 'abcdef');
    expect(md5Only).toMatch(/algorithm=MD5/);
    expect(auth.verify([md5Only as string], invite(uri), realm, PBX, creds).kind).toBe('ok');
    expect(answerChallenge(['Digest realm="x", nonce="y", algorithm=SHA-512-256'], 'INVITE', uri, 'u', 'p', 'c')).toBeUndefined();
  });
});
