import { isIP } from 'node:net';
import type { Clock } from './clock.ts';
import { dnsName, FAILED, isLocalhostName, isUsablePort, NOT_FOUND } from './resolver.ts';
import type { AddressFamily, AddressRecord, DnsAnswer, NaptrRecord, Resolver, SrvRecord } from './resolver.ts';

/** Entries the per-process cache holds at most (the oldest used goes first). */
export const DEFAULT_DNS_CACHE_ENTRIES = 4096;
/** Longest any answer is kept, seconds, whatever its TTL says. */
export const DEFAULT_DNS_MAX_TTL_SEC = 3600;
/** How long an answer is kept whose TTL the resolver could not give (node:dns SRV and NAPTR), seconds. */
export const DEFAULT_DNS_UNKNOWN_TTL_SEC = 60;
/** How long "no such name / no such record" is kept, seconds (RFC 2308 negative caching, without the SOA). */
export const DEFAULT_DNS_NEGATIVE_TTL_SEC = 30;
/** How long a failure (timeout, SERVFAIL, refused) is kept, seconds: long enough to spare a storm of calls. */
export const DEFAULT_DNS_FAILURE_TTL_SEC = 5;
/** Records kept of one answer at most: more would only lengthen a failover list nobody walks. */
export const MAX_DNS_RECORDS = 32;

export interface ResolverCacheOptions {
  readonly clock: Clock;
  readonly maxEntries?: number | undefined;
  readonly maxTtlSec?: number | undefined;
  readonly unknownTtlSec?: number | undefined;
  readonly negativeTtlSec?: number | undefined;
  readonly failureTtlSec?: number | undefined;
}

interface Entry {
  /** An answer, or the query under way (concurrent askers share it). */
  answer: DnsAnswer<unknown> | undefined;
  pending: Promise<DnsAnswer<unknown>> | undefined;
  expiresMs: number;
}

/**
 * The process's front to a Resolver: answers IP literals and localhost names itself, refuses
 * names that are not domain names, drops records no socket could use (an address that is not an
 * IP literal of the family asked, a port outside 1–65535, a malformed SRV target), and keeps
 * answers for their TTL (RFC 1035 §3.2.1; a TTL of 0 is not cached) in a cache of bounded size.
 * A name being asked about is asked once however many callers wait for it.
 */
export class CachingResolver implements Resolver {
  readonly #backend: Resolver;
  readonly #clock: Clock;
  readonly #max: number;
  readonly #maxTtlSec: number;
  readonly #unknownTtlSec: number;
  readonly #negativeTtlSec: number;
  readonly #failureTtlSec: number;
  readonly #entries = new Map<string, Entry>();
  /** hits: answered from the cache; queries: asked of the backend; evictions: dropped for room. */
  readonly counters = { hits: 0, queries: 0, evictions: 0 };

  constructor(backend: Resolver, opts: ResolverCacheOptions) {
    this.#backend = backend;
    this.#clock = opts.clock;
    this.#max = Math.max(1, opts.maxEntries ?? DEFAULT_DNS_CACHE_ENTRIES);
    this.#maxTtlSec = opts.maxTtlSec ?? DEFAULT_DNS_MAX_TTL_SEC;
    this.#unknownTtlSec = opts.unknownTtlSec ?? DEFAULT_DNS_UNKNOWN_TTL_SEC;
    this.#negativeTtlSec = opts.negativeTtlSec ?? DEFAULT_DNS_NEGATIVE_TTL_SEC;
    this.#failureTtlSec = opts.failureTtlSec ?? DEFAULT_DNS_FAILURE_TTL_SEC;
  }

  /** Answers held now (for tests and metrics). */
  get size(): number {
    return this.#entries.size;
  }

  addresses(name: string, family: AddressFamily): Promise<DnsAnswer<AddressRecord>> {
    const literal = isIP(name.startsWith('[') && name.endsWith(']') ? name.slice(1, -1) : name);
    if (literal !== 0) return Promise.resolve(literal === family ? { status: 'ok', records: [{ address: name.replace(/^\[|\]$/g, ''), family }] } : NOT_FOUND);
    const n = dnsName(name);
    if (n === undefined) return Promise.resolve(NOT_FOUND);
    // RFC 6761 §6.3: "Name resolution APIs SHOULD NOT send queries for localhost names to their configured caching DNS server(s)."
    if (isLocalhostName(n)) return Promise.resolve({ status: 'ok', records: [{ address: family === 4 ? '127.0.0.1' : '::1', family }] });
    return this.#ask(`${family === 4 ? 'A' : 'AAAA'} ${n}`, () => this.#backend.addresses(n, family), (r) => saneAddress(r, family));
  }

  srv(name: string): Promise<DnsAnswer<SrvRecord>> {
    const n = dnsName(name);
    if (n === undefined || isLocalhostName(n)) return Promise.resolve(NOT_FOUND);
    return this.#ask(`SRV ${n}`, () => this.#backend.srv(n), saneSrv);
  }

  naptr(name: string): Promise<DnsAnswer<NaptrRecord>> {
    const n = dnsName(name);
    if (n === undefined || isLocalhostName(n)) return Promise.resolve(NOT_FOUND);
    return this.#ask(`NAPTR ${n}`, () => this.#backend.naptr(n), saneNaptr);
  }

  close(): void {
    this.#backend.close?.();
    this.#entries.clear();
  }

  #ask<T>(key: string, query: () => Promise<DnsAnswer<T>>, sane: (r: unknown) => T | undefined): Promise<DnsAnswer<T>> {
    const now = this.#clock.monoMs();
    const hit = this.#entries.get(key);
    if (hit !== undefined) {
      if (hit.pending !== undefined) return hit.pending as Promise<DnsAnswer<T>>;
      if (hit.answer !== undefined && hit.expiresMs > now) {
        this.counters.hits++;
        // Most recently used goes to the end: eviction takes from the front.
        this.#entries.delete(key);
        this.#entries.set(key, hit);
        return Promise.resolve(hit.answer as DnsAnswer<T>);
      }
      this.#entries.delete(key);
    }
    this.counters.queries++;
    const entry: Entry = { answer: undefined, pending: undefined, expiresMs: 0 };
    const pending = safely(query).then((raw) => {
      const answer = sanitize(raw, sane);
      const ttlSec = this.#ttlOf(answer);
      if (this.#entries.get(key) === entry) {
        if (ttlSec > 0) {
          entry.answer = answer;
          entry.pending = undefined;
          entry.expiresMs = this.#clock.monoMs() + ttlSec * 1000;
        } else {
          this.#entries.delete(key);
        }
      }
      return answer;
    });
    entry.pending = pending as Promise<DnsAnswer<unknown>>;
    this.#entries.set(key, entry);
    while (this.#entries.size > this.#max) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
      this.counters.evictions++;
    }
    return pending;
  }

  #ttlOf(answer: DnsAnswer<unknown>): number {
    if (answer.status === 'failed') return this.#failureTtlSec;
    if (answer.status === 'not-found') return this.#negativeTtlSec;
    const ttl = answer.ttlSec;
    if (ttl === undefined || !Number.isFinite(ttl) || ttl < 0) return Math.min(this.#unknownTtlSec, this.#maxTtlSec);
    return Math.min(ttl, this.#maxTtlSec);
  }
}

async function safely<T>(query: () => Promise<DnsAnswer<T>>): Promise<DnsAnswer<T>> {
  try {
    return await query();
  } catch {
    return FAILED;
  }
}

/** Keeps the records `sane` accepts (at most MAX_DNS_RECORDS); an 'ok' answer left with none is 'not-found'. */
function sanitize<T>(raw: unknown, sane: (r: unknown) => T | undefined): DnsAnswer<T> {
  const a = raw as Partial<DnsAnswer<unknown>> | null | undefined;
  if (a === null || typeof a !== 'object' || a.status !== 'ok') return a?.status === 'not-found' ? NOT_FOUND : FAILED;
  const records: T[] = [];
  for (const r of Array.isArray(a.records) ? (a.records as unknown[]) : []) {
    const ok = sane(r);
    if (ok !== undefined) records.push(ok);
    if (records.length >= MAX_DNS_RECORDS) break;
  }
  if (records.length === 0) return NOT_FOUND;
  return { status: 'ok', records, ttlSec: typeof a.ttlSec === 'number' ? a.ttlSec : undefined };
}

const u16 = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 65_535;
const str = (s: unknown): s is string => typeof s === 'string' && s.length <= 255;

function saneAddress(r: unknown, family: AddressFamily): AddressRecord | undefined {
  const address = (r as { address?: unknown } | null)?.address;
  return typeof address === 'string' && isIP(address) === family ? { address, family } : undefined;
}

function saneSrv(r: unknown): SrvRecord | undefined {
  const s = r as Partial<SrvRecord> | null;
  if (s === null || typeof s !== 'object' || !u16(s.priority) || !u16(s.weight) || typeof s.target !== 'string') return undefined;
  // RFC 2782: a Target of "." means the service is decidedly not available; it keeps its place (and no port).
  if (s.target === '.' || s.target === '') return { priority: s.priority, weight: s.weight, port: 0, target: '.' };
  const target = dnsName(s.target) ?? (isIP(s.target) !== 0 ? s.target : undefined);
  if (target === undefined || !isUsablePort(s.port)) return undefined;
  return { priority: s.priority, weight: s.weight, port: s.port, target };
}

function saneNaptr(r: unknown): NaptrRecord | undefined {
  const n = r as Partial<NaptrRecord> | null;
  if (n === null || typeof n !== 'object' || !u16(n.order) || !u16(n.preference) || !str(n.flags) || !str(n.service) || !str(n.regexp) || typeof n.replacement !== 'string') return undefined;
  const replacement = n.replacement === '' || n.replacement === '.' ? '.' : dnsName(n.replacement);
  if (replacement === undefined) return undefined;
  return { order: n.order, preference: n.preference, flags: n.flags, service: n.service, regexp: n.regexp, replacement };
}
