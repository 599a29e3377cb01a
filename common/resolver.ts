import dns from 'node:dns';
import type { LookupAddress, LookupOptions } from 'node:dns';
import { isIP } from 'node:net';

/**
 * Name resolution is injected like clocks and sockets (STYLE.md 6): every lookup Carillon makes
 * — SIP next hops, OPTIONS pings, the CDR bucket, streaming sinks, webhooks, NATS — goes through
 * one `Resolver`. Production builds a `DnsResolver` (node:dns, c-ares) behind a `CachingResolver`
 * (resolver-cache.ts); tests inject one that answers from a table or asks a DNS server they run
 * on loopback, so no test ever reaches the machine's resolver.
 */

/** Why an answer holds no records: the name or record type does not exist, or DNS failed. */
export type DnsStatus = 'ok' | 'not-found' | 'failed';

/** One DNS answer. `records` is empty unless `status` is 'ok'. */
export interface DnsAnswer<T> {
  readonly status: DnsStatus;
  readonly records: readonly T[];
  /** Seconds the answer may be kept (the smallest record TTL); undefined when the resolver cannot tell. */
  readonly ttlSec?: number | undefined;
}

export type AddressFamily = 4 | 6;

export interface AddressRecord {
  readonly address: string;
  readonly family: AddressFamily;
}

/** RFC 2782 SRV RDATA; `target` '.' means the service is decidedly not available at this domain. */
export interface SrvRecord {
  readonly priority: number;
  readonly weight: number;
  readonly port: number;
  readonly target: string;
}

/** RFC 3403 NAPTR RDATA. */
export interface NaptrRecord {
  readonly order: number;
  readonly preference: number;
  readonly flags: string;
  readonly service: string;
  readonly regexp: string;
  readonly replacement: string;
}

export interface Resolver {
  /** A (family 4) or AAAA (family 6) records of `name`. Never rejects. */
  addresses(name: string, family: AddressFamily): Promise<DnsAnswer<AddressRecord>>;
  /** SRV records of `name` (e.g. `_sip._udp.example.com`). Never rejects. */
  srv(name: string): Promise<DnsAnswer<SrvRecord>>;
  /** NAPTR records of `name`. Never rejects. */
  naptr(name: string): Promise<DnsAnswer<NaptrRecord>>;
  /** Cancels queries under way (they answer 'failed'). Idempotent. */
  close?(): void;
}

export const NOT_FOUND: DnsAnswer<never> = { status: 'not-found', records: [] };
export const FAILED: DnsAnswer<never> = { status: 'failed', records: [] };

const LABEL = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;

/**
 * A name in the form DNS is asked about: lower case, no trailing dot; undefined when it is not a
 * domain name (RFC 1035 §2.3.4: labels of 63 octets or less, 255 octets in all; `_` allowed for
 * SRV owner names). Nothing that fails this is ever sent to a DNS server.
 */
export function dnsName(name: string): string | undefined {
  const n = (name.endsWith('.') ? name.slice(0, -1) : name).toLowerCase();
  if (n.length === 0 || n.length > 253) return undefined;
  for (const label of n.split('.')) if (!LABEL.test(label)) return undefined;
  return n;
}

/** RFC 6761 §6.3: "localhost." and names under it are the loopback address, never a DNS query. */
export function isLocalhostName(name: string): boolean {
  return name === 'localhost' || name.endsWith('.localhost');
}

/** A port a socket can be pointed at: an integer 1–65535. */
export function isUsablePort(port: unknown): port is number {
  return typeof port === 'number' && Number.isInteger(port) && port >= 1 && port <= 65_535;
}

// ---- Production: node:dns (c-ares) ----

export interface DnsResolverOptions {
  /** DNS servers ("192.0.2.53", "192.0.2.53:5353", "[2001:db8::53]:53"); absent: the system's (/etc/resolv.conf). */
  readonly servers?: readonly string[] | undefined;
  /** Per-try timeout, ms (default 1500). */
  readonly timeoutMs?: number | undefined;
  /** Tries per server (default 2). */
  readonly tries?: number | undefined;
  /**
   * Also ask the system's getaddrinfo for address records DNS did not have (hosts file, search
   * domains). Default: on when no `servers` are given, off when they are.
   */
  readonly systemLookup?: boolean | undefined;
}

const NOT_FOUND_CODES = new Set<string>([dns.NOTFOUND, dns.NODATA, dns.NONAME]);

function statusOf(err: unknown): DnsStatus {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && NOT_FOUND_CODES.has(code) ? 'not-found' : 'failed';
}

/**
 * Queries DNS through node:dns's own Resolver (c-ares, promises API). A and AAAA answers carry
 * their TTLs; node:dns gives none for SRV and NAPTR (the cache keeps those a fixed time).
 */
export class DnsResolver implements Resolver {
  readonly #r: dns.promises.Resolver;
  readonly #systemLookup: boolean;

  /** Throws (a TypeError from node:dns) when a server is not an IP address with an optional port. */
  constructor(opts: DnsResolverOptions = {}) {
    this.#r = new dns.promises.Resolver({ timeout: opts.timeoutMs ?? 1500, tries: opts.tries ?? 2 });
    if (opts.servers !== undefined) this.#r.setServers([...opts.servers]);
    this.#systemLookup = opts.systemLookup ?? opts.servers === undefined;
  }

  async addresses(name: string, family: AddressFamily): Promise<DnsAnswer<AddressRecord>> {
    let answer: DnsAnswer<AddressRecord>;
    try {
      const rs = family === 4 ? await this.#r.resolve4(name, { ttl: true }) : await this.#r.resolve6(name, { ttl: true });
      answer = { status: 'ok', records: rs.map((r) => ({ address: r.address, family })), ttlSec: Math.min(...rs.map((r) => r.ttl)) };
    } catch (err) {
      answer = { status: statusOf(err), records: [] };
    }
    if (answer.status !== 'not-found' || !this.#systemLookup) return answer;
    try {
      const rs = await dns.promises.lookup(name, { family, all: true });
      return { status: 'ok', records: rs.map((r) => ({ address: r.address, family })) };
    } catch (err) {
      return { status: statusOf(err), records: [] };
    }
  }

  async srv(name: string): Promise<DnsAnswer<SrvRecord>> {
    try {
      const rs = await this.#r.resolveSrv(name);
      return { status: 'ok', records: rs.map((r) => ({ priority: r.priority, weight: r.weight, port: r.port, target: r.name === '' ? '.' : r.name })) };
    } catch (err) {
      return { status: statusOf(err), records: [] };
    }
  }

  async naptr(name: string): Promise<DnsAnswer<NaptrRecord>> {
    try {
      const rs = await this.#r.resolveNaptr(name);
      return { status: 'ok', records: rs.map((r) => ({ order: r.order, preference: r.preference, flags: r.flags, service: r.service, regexp: r.regexp, replacement: r.replacement })) };
    } catch (err) {
      return { status: statusOf(err), records: [] };
    }
  }

  close(): void {
    this.#r.cancel();
  }
}

// ---- Node's `lookup` hook (sockets, http/https agents) ----

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` with the signature of dns.lookup, built on a Resolver, for every Node client that
 * takes one: `net.connect`, `tls.connect`, `dgram.createSocket`, `http(s).Agent`/`request`
 * (and through them the AWS SDK's NodeHttpHandler). IP literals answer at once (dgram asks for
 * every datagram); names ask the resolver (A, then AAAA when the family allows), and only
 * addresses that are IP literals of the family asked are handed on — anything else fails with
 * ENOTFOUND and never reaches a socket.
 */
export type NodeLookup = (hostname: string, options: LookupOptions | number | LookupCallback, callback?: LookupCallback) => void;

export function lookupFunction(resolver: Resolver): NodeLookup {
  return (hostname, optionsOrFamily, maybeCallback) => {
    const callback = typeof optionsOrFamily === 'function' ? optionsOrFamily : maybeCallback;
    if (callback === undefined) return;
    const options: LookupOptions = typeof optionsOrFamily === 'number' ? { family: optionsOrFamily } : typeof optionsOrFamily === 'object' ? optionsOrFamily : {};
    const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : (options.family ?? 0);
    const all = options.all === true;
    const literal = isIP(hostname);
    if (literal !== 0) {
      if (family !== 0 && family !== literal) return callback(notFound(hostname), all ? [] : '', 0);
      return all ? callback(null, [{ address: hostname, family: literal }]) : callback(null, hostname, literal);
    }
    const families: AddressFamily[] = family === 4 ? [4] : family === 6 ? [6] : options.order === 'ipv6first' ? [6, 4] : [4, 6];
    void Promise.all(families.map((f) => resolver.addresses(hostname, f).catch(() => FAILED))).then((answers) => {
      const found: LookupAddress[] = [];
      for (const a of answers) for (const r of a.records) if (isIP(r.address) === r.family) found.push({ address: r.address, family: r.family });
      // Called outside the promise chain, as dns.lookup would be: a throwing callback is not swallowed.
      process.nextTick(() => {
        const first = found[0];
        if (first === undefined) callback(notFound(hostname), all ? [] : '', 0);
        else if (all) callback(null, found);
        else callback(null, first.address, first.family);
      });
    });
  };
}

/** A lookup that answers IP literals and fails every name without asking anyone. */
export const literalOnlyLookup: NodeLookup = lookupFunction({
  addresses: () => Promise.resolve(NOT_FOUND),
  srv: () => Promise.resolve(NOT_FOUND),
  naptr: () => Promise.resolve(NOT_FOUND),
});

function notFound(hostname: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException & { hostname?: string } = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
  err.code = 'ENOTFOUND';
  err.syscall = 'getaddrinfo';
  err.hostname = hostname;
  return err;
}
