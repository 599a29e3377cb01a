import crypto from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { answerChallenge, DigestAuth, parseDigestParams } from '../../../signaling/auth/digest.ts';
import { ha1 } from '../../../control-plane/api/chime/voice-connector-config.ts';

const realm = 'abc.voiceconnector.carillon.local';
const creds = [{ username: 'pbx', realm, ha1Md5: ha1('md5', 'pbx', realm, 'pw'), ha1Sha256: ha1('sha256', 'pbx', realm, 'pw') }];
const h = (alg: 'md5' | 'sha256', s: string): string => crypto.createHash(alg).update(s).digest('hex');

/** What a UAC computes for a challenge (RFC 7616 §3.4.1, qop=auth). */
function answer(challenge: string, alg: 'md5' | 'sha256', password: string, uri = 'sip:+14155550123@abc.voiceconnector.carillon.local'): string {
  const p = parseDigestParams(challenge);
  const nonce = p?.get('nonce') ?? '';
  const a1 = h(alg, `pbx:${realm}:${password}`);
  const a2 = h(alg, `INVITE:${uri}`);
  const response = h(alg, `${a1}:${nonce}:00000001:c0ffee:auth:${a2}`);
  return `Digest username="pbx", realm="${realm}", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=${alg === 'md5' ? 'MD5' : 'SHA-256'}, qop=auth, nc=00000001, cnonce="c0ffee"`;
}

describe('SIP digest authentication (RFC 7616)', () => {
  const auth = new DigestAuth(Buffer.alloc(32, 7));

  it('offers MD5 and SHA-256 and accepts a right answer with either', () => {
    const [md5, sha] = auth.challenge(realm, 1_000_000);
    expect(md5).toMatch(/algorithm=MD5/);
    expect(sha).toMatch(/algorithm=SHA-256/);
    expect(auth.verify(answer(md5 as string, 'md5', 'pw'), 'INVITE', realm, creds, 1_000_500)).toBe('ok');
    expect(auth.verify(answer(sha as string, 'sha256', 'pw'), 'INVITE', realm, creds, 1_000_500)).toBe('ok');
  });

  it('challenges with the configured algorithms only, in their order', () => {
    const md5Only = new DigestAuth(Buffer.alloc(32, 7), undefined, ['MD5']);
    const list = md5Only.challenge(realm, 1_000_000);
    expect(list).toHaveLength(1);
    expect(list[0]).toMatch(/algorithm=MD5/);
    expect(new DigestAuth(Buffer.alloc(32, 7), undefined, ['SHA-256', 'MD5']).challenge(realm, 1_000_000).map((c) => /algorithm=(\S+?),/.exec(c)?.[1])).toEqual(['SHA-256', 'MD5']);
    expect(md5Only.verify(answer(list[0] as string, 'md5', 'pw'), 'INVITE', realm, creds, 1_000_500)).toBe('ok');
  });

  it('tells a wrong password, a forged nonce, an old nonce and a missing header apart', () => {
    const [md5] = auth.challenge(realm, 1_000_000);
    expect(auth.verify(answer(md5 as string, 'md5', 'nope'), 'INVITE', realm, creds, 1_000_500)).toBe('wrong');
    const forged = new DigestAuth(Buffer.alloc(32, 8)).challenge(realm, 1_000_000)[0] as string;
    expect(auth.verify(answer(forged, 'md5', 'pw'), 'INVITE', realm, creds, 1_000_500)).toBe('wrong');
    expect(auth.verify(answer(md5 as string, 'md5', 'pw'), 'INVITE', realm, creds, 1_000_000 + 301_000)).toBe('stale');
    expect(auth.verify(undefined, 'INVITE', realm, creds, 1_000_500)).toBe('missing');
    expect(auth.verify(answer(md5 as string, 'md5', 'pw').replace(realm, 'other.realm'), 'INVITE', realm, creds, 1_000_500)).toBe('missing');
  });

  it('reads any header value without throwing, and never says ok to a made-up one', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (v) => {
        parseDigestParams(v);
        expect(auth.verify(v, 'INVITE', realm, creds, 1_000_000)).not.toBe('ok');
      }),
      { numRuns: 2000 },
    );
  });

  it('answers challenges the way Carillon itself verifies them, preferring SHA-256', () => {
    const challenges = auth.challenge(realm, 2_000_000);
    const uri = 'sip:+14155550123@carrier.example';
    const value = answerChallenge(challenges, 'INVITE', uri, 'pbx', 'pw', 'abcdef');
    expect(value).toMatch(/algorithm=SHA-256/);
    expect(auth.verify(value, 'INVITE', realm, creds, 2_000_100)).toBe('ok');
    const md5Only = answerChallenge([challenges[0] as string], 'INVITE', uri, 'pbx', 'pw', 'abcdef');
    expect(md5Only).toMatch(/algorithm=MD5/);
    expect(auth.verify(md5Only, 'INVITE', realm, creds, 2_000_100)).toBe('ok');
    expect(answerChallenge(['Digest realm="x", nonce="y", algorithm=SHA-512-256'], 'INVITE', uri, 'u', 'p', 'c')).toBeUndefined();
  });
});
