import crypto from 'node:crypto';

/**
 * SIP digest authentication (RFC 3261 §22, RFC 7616, RFC 8760) for trunks that have termination
 * credentials: Carillon challenges with MD5 and SHA-256 (a PBX answers with what it supports),
 * nonces are self-validating (time + HMAC, no per-call state) and expire after `nonceTtlMs`; a
 * stale nonce gets a fresh challenge with `stale=true` rather than a refusal.
 */
export type DigestAlgorithm = 'MD5' | 'SHA-256';

export interface DigestCredential {
  readonly username: string;
  readonly realm: string;
  readonly ha1Md5: string;
  readonly ha1Sha256: string;
}

export type DigestVerdict = 'ok' | 'missing' | 'stale' | 'wrong';

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

export class DigestAuth {
  readonly #secret: Buffer;
  readonly #ttlMs: number;
  readonly #algorithms: readonly DigestAlgorithm[];

  /** `algorithms`: what challenges name, in order (answers in either are verified whatever the list). */
  constructor(secret: Buffer, nonceTtlMs = 300_000, algorithms: readonly DigestAlgorithm[] = ['MD5', 'SHA-256']) {
    this.#secret = secret;
    this.#ttlMs = nonceTtlMs;
    this.#algorithms = algorithms;
  }

  #mac(stamp: string, realm: string): string {
    return crypto.createHmac('sha256', this.#secret).update(`${stamp}:${realm}`).digest('base64url').slice(0, 22);
  }

  nonce(realm: string, nowMs: number): string {
    const stamp = nowMs.toString(36);
    return `${stamp}.${this.#mac(stamp, realm)}`;
  }

  /**
   * `Proxy-Authenticate` values, one per configured algorithm — by default MD5 first, then SHA-256
   * (RFC 7616). RFC 8760 §2.4 would put the preferred SHA-256 on top, but many PBXs and test tools
   * answer only the topmost challenge and give up when it is not MD5; a SHA-256-capable client
   * still finds it and is accepted. Some (libre-based: baresip 1.x) fail on any algorithm they
   * lack, wherever it stands: `sip.digestAlgorithms: [MD5]` serves them.
   */
  challenge(realm: string, nowMs: number, stale = false): string[] {
    const nonce = this.nonce(realm, nowMs);
    const tail = `, qop="auth"${stale ? ', stale=true' : ''}`;
    return this.#algorithms.map((alg) => `Digest realm="${realm}", nonce="${nonce}", algorithm=${alg}${tail}`);
  }

  /** Checks one `Proxy-Authorization`/`Authorization` value for `method` against the trunk's credentials. */
  verify(value: string | undefined, method: string, realm: string, creds: readonly DigestCredential[], nowMs: number): DigestVerdict {
    if (value === undefined) return 'missing';
    const p = parseDigestParams(value);
    if (p === undefined) return 'missing';
    if ((p.get('realm') ?? '') !== realm) return 'missing';
    const nonce = p.get('nonce') ?? '';
    const [stamp, mac] = nonce.split('.');
    if (stamp === undefined || mac === undefined || mac !== this.#mac(stamp, realm)) return 'wrong';
    const issued = parseInt(stamp, 36);
    if (!Number.isFinite(issued) || nowMs - issued > this.#ttlMs || issued - nowMs > 60_000) return 'stale';
    const algRaw = (p.get('algorithm') ?? 'MD5').toUpperCase();
    const alg: DigestAlgorithm | undefined = algRaw === 'MD5' ? 'MD5' : algRaw === 'SHA-256' ? 'SHA-256' : undefined;
    if (alg === undefined) return 'wrong';
    const cred = creds.find((c) => c.username === p.get('username'));
    if (cred === undefined) return 'wrong';
    const ha1 = alg === 'MD5' ? cred.ha1Md5 : cred.ha1Sha256;
    const ha2 = hash(alg, `${method}:${p.get('uri') ?? ''}`);
    const qop = p.get('qop');
    const expected = qop === undefined ? hash(alg, `${ha1}:${nonce}:${ha2}`) : hash(alg, `${ha1}:${nonce}:${p.get('nc') ?? ''}:${p.get('cnonce') ?? ''}:${qop}:${ha2}`);
    const given = (p.get('response') ?? '').toLowerCase();
    return given.length === expected.length && crypto.timingSafeEqual(Buffer.from(given), Buffer.from(expected)) ? 'ok' : 'wrong';
  }
}

/**
 * Carillon's answer to a carrier's challenge (`WWW-Authenticate` or `Proxy-Authenticate`
 * values): picks SHA-256 over MD5 when both are offered, `qop=auth` when offered, and echoes
 * `opaque`. Returns the header value, or undefined when no challenge uses an algorithm it knows.
 */
export function answerChallenge(challenges: readonly string[], method: string, uri: string, username: string, password: string, cnonce: string): string | undefined {
  const parsed = challenges.map(parseDigestParams).filter((p): p is Map<string, string> => p !== undefined);
  const algOf = (p: Map<string, string>): DigestAlgorithm | undefined => {
    const a = (p.get('algorithm') ?? 'MD5').toUpperCase();
    return a === 'MD5' ? 'MD5' : a === 'SHA-256' ? 'SHA-256' : undefined;
  };
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
