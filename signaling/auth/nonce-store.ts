import crypto from 'node:crypto';
import type { Clock, Timers } from '../../common/clock.ts';
import type { Random } from '../../common/random.ts';
import { SweepTimer } from './sweep-timer.ts';

/** How long a nonce may be answered, from its issue (ms). */
export const NONCE_TTL_MS = 300_000;
/** Live nonces kept in all; past it the oldest is forgotten (its answer then gets a fresh challenge). */
export const MAX_NONCES = 20_000;
/** Live nonces kept per source address, so that one flooding source evicts only its own. */
export const MAX_NONCES_PER_SOURCE = 256;
/** How often expired nonces are swept while any are held (ms). */
export const NONCE_SWEEP_MS = 30_000;

/**
 * Why an answer's nonce cannot be used — the request gets a fresh challenge with `stale=true`:
 * - `expired`: issued more than the TTL ago;
 * - `evicted`: ours and young, but pushed out of the table by newer nonces;
 * - `replay`: already used (an `nc` not above the last one accepted, a second use without qop,
 *   or a nonce a wrong answer burned);
 * - `other_source`: issued to another source address;
 * - `unknown`: not one this server issued (forged, from before a restart, or for another realm or address).
 */
export type StaleReason = 'expired' | 'evicted' | 'replay' | 'other_source' | 'unknown';
export const STALE_REASONS = ['expired', 'evicted', 'replay', 'other_source', 'unknown'] as const satisfies readonly StaleReason[];

/**
 * A nonce's life: `live` until TTL or eviction (answered with qop=auth it stays live, each `nc`
 * above the last); `used` after one answer without qop; `burned` after a wrong answer.
 */
export type NonceState = 'live' | 'used' | 'burned';
export const NONCE_TRANSITIONS = { live: ['live', 'used', 'burned'], used: [], burned: [] } as const satisfies Record<NonceState, readonly NonceState[]>;

interface NonceRecord {
  readonly realm: string;
  readonly address: string;
  readonly issuedMs: number;
  /** Highest `nc` accepted with qop=auth (0 before the first). */
  lastNc: number;
  state: NonceState;
}

/**
 * The nonces Carillon's digest challenges hand out (RFC 7616 §3.3, §5.4), each bound to the
 * realm and the source address it was sent to — in its MAC and in a server-side record — so
 * that an answer is good only from that address, within the TTL, and once per `nc`.
 *
 * Nonce: `<issue ms, base 36>.<16 random chars>.<HMAC-SHA256(secret, stamp.random, realm,
 * address), 22 chars base64url>`; the random part makes nonces unguessable to an off-path
 * sender, so a spoofed source cannot answer one. Records are kept in issue order: TTL expiry
 * and eviction both take the oldest; the table never holds more than `maxNonces`, nor more than
 * `maxNoncesPerSource` for one address.
 */
export class NonceStore {
  readonly #secret: Buffer;
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #ttlMs: number;
  readonly #max: number;
  readonly #maxPerSource: number;
  /** Insertion order = issue order: the first entry is the oldest. */
  readonly #byNonce = new Map<string, NonceRecord>();
  readonly #bySource = new Map<string, Set<string>>();
  readonly #sweeper: SweepTimer;
  /** Nonces forgotten because a table was full (no label: a count for the metrics). */
  evictions = 0;

  constructor(opts: { secret: Buffer; clock: Clock; random: Random; timers?: Timers | undefined; ttlMs?: number; maxNonces?: number; maxNoncesPerSource?: number }) {
    this.#secret = opts.secret;
    this.#clock = opts.clock;
    this.#random = opts.random;
    this.#ttlMs = opts.ttlMs ?? NONCE_TTL_MS;
    this.#max = opts.maxNonces ?? MAX_NONCES;
    this.#maxPerSource = opts.maxNoncesPerSource ?? MAX_NONCES_PER_SOURCE;
    this.#sweeper = new SweepTimer(opts.timers, NONCE_SWEEP_MS, () => {
      this.sweep();
      return this.#byNonce.size > 0;
    });
  }

  get size(): number {
    return this.#byNonce.size;
  }

  #now(): number {
    return Math.floor(this.#clock.monoMs());
  }

  #mac(head: string, realm: string, address: string): string {
    return crypto.createHmac('sha256', this.#secret).update(`${head}\n${realm}\n${address}`).digest('base64url').slice(0, 22);
  }

  /** A new nonce for a challenge in `realm` sent to `address`. */
  issue(realm: string, address: string): string {
    const now = this.#now();
    this.sweep();
    let own = this.#bySource.get(address);
    if (own !== undefined && own.size >= this.#maxPerSource) {
      const oldest = own.values().next().value;
      if (oldest !== undefined) this.#delete(oldest, true);
    }
    if (this.#byNonce.size >= this.#max) {
      const oldest = this.#byNonce.keys().next().value;
      if (oldest !== undefined) this.#delete(oldest, true);
    }
    const head = `${now.toString(36)}.${this.#random.token(16)}`;
    const nonce = `${head}.${this.#mac(head, realm, address)}`;
    this.#byNonce.set(nonce, { realm, address, issuedMs: now, lastNc: 0, state: 'live' });
    own = this.#bySource.get(address);
    if (own === undefined) {
      own = new Set();
      this.#bySource.set(address, own);
    }
    own.add(nonce);
    this.#sweeper.arm();
    return nonce;
  }

  /**
   * Whether `nonce` may carry an answer from `address` in `realm` now: undefined when it is a
   * live nonce of ours for that address, else why not. Changes nothing but forgetting an
   * expired record.
   */
  check(nonce: string, realm: string, address: string): StaleReason | undefined {
    const parts = nonce.split('.');
    if (parts.length !== 3) return 'unknown';
    const [stamp = '', rand = '', mac = ''] = parts;
    const expected = this.#mac(`${stamp}.${rand}`, realm, address);
    const macOk = mac.length === expected.length && crypto.timingSafeEqual(Buffer.from(mac), Buffer.from(expected));
    const rec = this.#byNonce.get(nonce);
    const now = this.#now();
    if (rec === undefined) {
      if (!macOk) return 'unknown';
      return now - parseInt(stamp, 36) >= this.#ttlMs ? 'expired' : 'evicted';
    }
    if (rec.address !== address) return 'other_source';
    if (rec.realm !== realm || !macOk) return 'unknown';
    if (now - rec.issuedMs >= this.#ttlMs) {
      this.#delete(nonce, false);
      return 'expired';
    }
    return rec.state === 'live' ? undefined : 'replay';
  }

  /**
   * Whether a live nonce takes this use — RFC 7616 §3.4: "if the same nc value is seen twice,
   * then the request is a replay"; Carillon asks more, that each `nc` be above the last accepted
   * (PBXs that keep a nonce count up 1, 2, 3 …). Without qop (`nc` undefined, RFC 2069 style)
   * a nonce is good for one request only.
   */
  fresh(nonce: string, nc: number | undefined): boolean {
    const rec = this.#byNonce.get(nonce);
    if (rec === undefined || rec.state !== 'live') return false;
    return nc === undefined ? rec.lastNc === 0 : nc > rec.lastNc;
  }

  /** Records a use that authenticated: the `nc` taken, or (without qop) the nonce spent. */
  accept(nonce: string, nc: number | undefined): void {
    const rec = this.#byNonce.get(nonce);
    if (rec === undefined || rec.state !== 'live') return;
    if (nc === undefined) this.#transition(rec, 'used');
    else {
      this.#transition(rec, 'live');
      rec.lastNc = nc;
    }
  }

  /** A wrong answer came with this nonce: it takes no more. */
  burn(nonce: string): void {
    const rec = this.#byNonce.get(nonce);
    if (rec !== undefined) this.#transition(rec, 'burned');
  }

  #transition(rec: NonceRecord, to: NonceState): void {
    const legal: readonly NonceState[] = NONCE_TRANSITIONS[rec.state];
    if (legal.includes(to)) rec.state = to;
  }

  /** Forgets nonces past their TTL (the oldest first; issue order is expiry order). */
  sweep(): void {
    const now = this.#now();
    for (const [nonce, rec] of this.#byNonce) {
      if (now - rec.issuedMs < this.#ttlMs) break;
      this.#delete(nonce, false);
    }
  }

  #delete(nonce: string, evicted: boolean): void {
    const rec = this.#byNonce.get(nonce);
    if (rec === undefined) return;
    this.#byNonce.delete(nonce);
    const own = this.#bySource.get(rec.address);
    own?.delete(nonce);
    if (own !== undefined && own.size === 0) this.#bySource.delete(rec.address);
    if (evicted) this.evictions++;
  }

  /** Stops the sweep timer. Idempotent. */
  close(): void {
    this.#sweeper.close();
  }
}
