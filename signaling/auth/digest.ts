import crypto from 'node:crypto';
import type { Clock, Timers } from '../../common/clock.ts';
import type { Random } from '../../common/random.ts';
import { sameRequestUri } from '../sip/message/uri-equal.ts';
import { NonceStore } from './nonce-store.ts';
import type { StaleReason } from './nonce-store.ts';
import { STALE_REASONS } from './nonce-store.ts';

/**
 * SIP digest authentication (RFC 3261 §22, RFC 7616, RFC 8760) for trunks that have termination
 * credentials: Carillon challenges with MD5 and SHA-256 (a PBX answers with what it supports)
 * with nonces bound to the source address they were sent to (nonce-store.ts). An answer is
 * good once per `nc`, for the Request-URI it names, from that address, within the nonce's TTL.
 */
export type DigestAlgorithm = 'MD5' | 'SHA-256';

export interface DigestCredential {
  readonly username: string;
  readonly realm: string;
  readonly ha1Md5: string;
  readonly ha1Sha256: string;
}

/** Why an answer to a live challenge failed (a closed set: metric labels). */
export type AuthFailureReason = 'unknown_user' | 'wrong_response' | 'uri_mismatch' | 'malformed';
export const AUTH_FAILURE_REASONS = ['unknown_user', 'wrong_response', 'uri_mismatch', 'malformed'] as const satisfies readonly AuthFailureReason[];

/**
 * - `ok`: authenticated as `username`;
 * - `challenge`: no credentials for this realm — challenge (407);
 * - `stale`: credentials whose nonce cannot be used (expired, replayed, another source's, not
 *   ours) — challenge again with `stale=true`; the response is not even looked at, so this
 *   tells a guesser nothing and is no failure;
 * - `failed`: a wrong answer to a live challenge this source was sent — 403, counted.
 */
export type DigestVerdict =
  | { readonly kind: 'ok'; readonly username: string }
  | { readonly kind: 'challenge' }
  | { readonly kind: 'stale'; readonly reason: StaleReason }
  | { readonly kind: 'failed'; readonly reason: AuthFailureReason };

/** The request an answer came with. */
export interface DigestRequest {
  readonly method: string;
  /** The Request-URI, as on the request line. */
  readonly uri: string;
}

export interface DigestCounters {
  /** Challenges sent (407s), fresh and stale. */
  challenges: number;
  /** Answers whose nonce could not be used, by why. */
  readonly stale: Record<StaleReason, number>;
}

/** `key="value"` / `key=token` pairs of a Digest credentials or challenge value. */
export function parseDigestParams(value: string): Map<string, string> | undefined {
  const m = /^\s*Digest\s+/i.exec(value);
  if (m === null) return undefined;
  const out = new Map<string, string>();
  const re = /\s*([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))\s*(?:,|$)/gy;
  re.lastIndex = m[0].length;
  let p: RegExpExecArray | null;
  while ((p = re.exec(value)) !== null) {
    out.set((p[1] as string).toLowerCase(), p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : (p[3] ?? ''));
    if (re.lastIndex >= value.length) break;
  }
  return out;
}

const hash = (alg: DigestAlgorithm, s: string): string => crypto.createHash(alg === 'MD5' ? 'md5' : 'sha256').update(s).digest('hex');

const algorithmOf = (raw: string | undefined): DigestAlgorithm | undefined => {
  const a = (raw ?? 'MD5').toUpperCase();
  return a === 'MD5' ? 'MD5' : a === 'SHA-256' ? 'SHA-256' : undefined;
};

/** RFC 7616 §3.4: nc-value = 8LHEX. */
const NC = /^[0-9A-Fa-f]{8}$/;

export interface DigestAuthOptions {
  /** MAC key for nonces (random per process). */
  readonly secret: Buffer;
  readonly clock: Clock;
  readonly random: Random;
  /** Sweeps expired nonces while any are held; without it they are swept as new ones are issued. */
  readonly timers?: Timers | undefined;
  /** What challenges name, in order (answers in either are verified whatever the list). Default MD5, SHA-256. */
  readonly algorithms?: readonly DigestAlgorithm[];
  /** Nonce lifetime from issue, ms (default NONCE_TTL_MS, 5 min). */
  readonly nonceTtlMs?: number;
  readonly maxNonces?: number;
  readonly maxNoncesPerSource?: number;
}

export class DigestAuth {
  readonly counters: DigestCounters = { challenges: 0, stale: Object.fromEntries(STALE_REASONS.map((r) => [r, 0])) as Record<StaleReason, number> };
  readonly #algorithms: readonly DigestAlgorithm[];
  readonly #nonces: NonceStore;

  constructor(opts: DigestAuthOptions) {
    this.#algorithms = opts.algorithms ?? ['MD5', 'SHA-256'];
    this.#nonces = new NonceStore({
      secret: opts.secret,
      clock: opts.clock,
      random: opts.random,
      timers: opts.timers,
      ...(opts.nonceTtlMs === undefined ? {} : { ttlMs: opts.nonceTtlMs }),
      ...(opts.maxNonces === undefined ? {} : { maxNonces: opts.maxNonces }),
      ...(opts.maxNoncesPerSource === undefined ? {} : { maxNoncesPerSource: opts.maxNoncesPerSource }),
    });
  }

  /** Live nonces held, and how many were forgotten early because the table was full. */
  get nonces(): { readonly live: number; readonly evicted: number } {
    return { live: this.#nonces.size, evicted: this.#nonces.evictions };
  }

  /**
   * `Proxy-Authenticate` values for a challenge sent to `address`, one per configured
   * algorithm, sharing one new nonce — by default MD5 first, then SHA-256 (RFC 7616). RFC 8760
   * §2.4 would put the preferred SHA-256 on top, but many PBXs and test tools answer only the
   * topmost challenge and give up when it is not MD5; a SHA-256-capable client still finds it
   * and is accepted. Some (libre-based: baresip 1.x) fail on any algorithm they lack, wherever
   * it stands: `sip.digestAlgorithms: [MD5]` serves them.
   *
   * RFC 7616 §3.3: "The server SHOULD only set stale to true if it receives a request for which
   * the nonce is invalid."
   */
  challenge(realm: string, address: string, stale = false): string[] {
    this.counters.challenges++;
    const nonce = this.#nonces.issue(realm, address);
    const tail = `, qop="auth"${stale ? ', stale=true' : ''}`;
    return this.#algorithms.map((alg) => `Digest realm="${realm}", nonce="${nonce}", algorithm=${alg}${tail}`);
  }

  /**
   * Checks the `Proxy-Authorization` values of `request` from `address` against a trunk's
   * credentials in `realm`. In order:
   * 1. RFC 3261 §22.3: a value for another realm is not ours ("MUST NOT be consumed by any proxy
   *    whose realm does not match"); none for ours, or one without a nonce → `challenge`.
   * 2. The nonce must be live, ours, for this realm and this address → else `stale`. Nothing
   *    of the answer is evaluated before this, so only a source that received the challenge
   *    (not one spoofing its address) can earn a failure.
   * 3. qop=auth needs an 8-hex `nc` and a `cnonce`; any other qop is not offered → `failed`
   *    (malformed). The nonce must take this `nc` (or, without qop, its one use) → else `stale`
   *    (a replay).
   * 4. `uri` equal to the Request-URI (sip/message/uri-equal.ts) → else `failed` (uri_mismatch);
   *    the algorithm MD5 or SHA-256 → else malformed; the username known → else unknown_user;
   *    the response right → else wrong_response.
   * Every `failed` burns the nonce; `ok` records the `nc` (or spends the nonce without qop).
   */
  verify(values: readonly string[], request: DigestRequest, realm: string, address: string, creds: readonly DigestCredential[]): DigestVerdict {
    let p: Map<string, string> | undefined;
    for (const v of values) {
      const q = parseDigestParams(v);
      if (q !== undefined && q.get('realm') === realm) {
        p = q;
        break;
      }
    }
    const nonce = p?.get('nonce');
    if (p === undefined || nonce === undefined || nonce === '') return { kind: 'challenge' };
    const stale = this.#nonces.check(nonce, realm, address);
    if (stale !== undefined) {
      this.counters.stale[stale]++;
      return { kind: 'stale', reason: stale };
    }
    const fail = (reason: AuthFailureReason): DigestVerdict => {
      this.#nonces.burn(nonce);
      return { kind: 'failed', reason };
    };
    const qop = p.get('qop');
    const ncRaw = p.get('nc') ?? '';
    const cnonce = p.get('cnonce') ?? '';
    if (qop !== undefined && (qop.toLowerCase() !== 'auth' || !NC.test(ncRaw) || cnonce === '')) return fail('malformed');
    const nc = qop === undefined ? undefined : parseInt(ncRaw, 16);
    if (!this.#nonces.fresh(nonce, nc)) {
      this.counters.stale.replay++;
      return { kind: 'stale', reason: 'replay' };
    }
    const uri = p.get('uri');
    if (uri === undefined) return fail('malformed');
    if (!sameRequestUri(uri, request.uri)) return fail('uri_mismatch');
    const alg = algorithmOf(p.get('algorithm'));
    if (alg === undefined) return fail('malformed');
    const username = p.get('username');
    const cred = creds.find((c) => c.username === username);
    if (cred === undefined) return fail('unknown_user');
    const ha1 = alg === 'MD5' ? cred.ha1Md5 : cred.ha1Sha256;
    // RFC 7616 §3.4.3: A2 = Method ":" request-uri, with the uri as the client sent it.
    const ha2 = hash(alg, `${request.method}:${uri}`);
    // RFC 7616 §3.4.1 (qop=auth); RFC 2069 without qop.
    const expected = qop === undefined ? hash(alg, `${ha1}:${nonce}:${ha2}`) : hash(alg, `${ha1}:${nonce}:${ncRaw}:${cnonce}:${qop}:${ha2}`);
    const given = (p.get('response') ?? '').toLowerCase();
    if (given.length !== expected.length || !crypto.timingSafeEqual(Buffer.from(given), Buffer.from(expected))) return fail('wrong_response');
    this.#nonces.accept(nonce, nc);
    return { kind: 'ok', username: cred.username };
  }

  /** Stops the nonce sweep. Idempotent. */
  close(): void {
    this.#nonces.close();
  }
}

/**
 * Carillon's answer to a carrier's challenge (`WWW-Authenticate` or `Proxy-Authenticate`
 * values): picks SHA-256 over MD5 when both are offered, `qop=auth` when offered, and echoes
 * `opaque`. Returns the header value, or undefined when no challenge uses an algorithm it knows.
 */
export function answerChallenge(challenges: readonly string[], method: string, uri: string, username: string, password: string, cnonce: string): string | undefined {
  const parsed = challenges.map(parseDigestParams).filter((p): p is Map<string, string> => p !== undefined);
  const algOf = (p: Map<string, string>): DigestAlgorithm | undefined => algorithmOf(p.get('algorithm'));
  const chosen = parsed.find((p) => algOf(p) === 'SHA-256') ?? parsed.find((p) => algOf(p) === 'MD5');
  if (chosen === undefined) return undefined;
  const alg = algOf(chosen) as DigestAlgorithm;
  const realm = chosen.get('realm') ?? '';
  const nonce = chosen.get('nonce') ?? '';
  const qops = (chosen.get('qop') ?? '').split(',').map((q) => q.trim());
  const ha1 = hash(alg, `${username}:${realm}:${password}`);
  const ha2 = hash(alg, `${method}:${uri}`);
  const nc = '00000001';
  const withQop = qops.includes('auth');
  const response = withQop ? hash(alg, `${ha1}:${nonce}:${nc}:${cnonce}:auth:${ha2}`) : hash(alg, `${ha1}:${nonce}:${ha2}`);
  const opaque = chosen.get('opaque');
  return [
    `Digest username="${username}"`,
    `realm="${realm}"`,
    `nonce="${nonce}"`,
    `uri="${uri}"`,
    `response="${response}"`,
    `algorithm=${alg}`,
    ...(withQop ? ['qop=auth', `nc=${nc}`, `cnonce="${cnonce}"`] : []),
    ...(opaque === undefined ? [] : [`opaque="${opaque}"`]),
  ].join(', ');
}
