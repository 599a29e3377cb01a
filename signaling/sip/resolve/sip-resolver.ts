import { isIP } from 'node:net';
import type { Random } from '../../../common/random.ts';
import { dnsName, isUsablePort } from '../../../common/resolver.ts';
import type { AddressFamily, NaptrRecord, Resolver, SrvRecord } from '../../../common/resolver.ts';
import type { NextHop } from '../../../common/route.ts';
import { parseUri } from '../message/uri.ts';
import { requestUriOf } from './hop-uri.ts';
import type { TransportName } from '../transport/types.ts';

/**
 * RFC 3263 §4 "Client Usage": from a SIP or SIPS URI to the ordered list of (transport, address,
 * port) a request is tried at. The B2BUA walks that list on 503, 408, a timeout or a transport
 * error (§4.3); OPTIONS pings to routes and carriers walk it too.
 */
export interface SipHop {
  readonly transport: TransportName;
  readonly address: string;
  readonly port: number;
}

/** How the hops were found (STYLE.md 11: a decision says how it was made). */
export type SipLocationVia = 'literal' | 'naptr' | 'srv' | 'address';

export type SipLocation =
  | { readonly ok: true; readonly hops: readonly SipHop[]; readonly via: SipLocationVia }
  /** bad-target: not a SIP URI one can send to; no-transport: only transports Carillon does not serve; not-found: DNS gave nothing usable. */
  | { readonly ok: false; readonly reason: 'bad-target' | 'no-transport' | 'not-found' };

/** Finds where a target URI's requests go, given the transports Carillon has listeners for. */
export type SipLocate = (uri: string, transports: ReadonlySet<TransportName>) => Promise<SipLocation>;

/** Finds where requests to a routing next hop go (RFC 3263 over the hop's SIP URI, requestUriOf). */
export type SipHopLocate = (hop: NextHop, transports: ReadonlySet<TransportName>) => Promise<SipLocation>;

/** A hop locator over a URI locator (an injected one in tests, SipLocator's in production). */
export function hopLocate(locate: SipLocate): SipHopLocate {
  return (hop, transports) => locate(requestUriOf(hop), transports);
}

/** The transports Carillon can send on: those it has a listener for. */
export function servedTransports(hub: { local(transport: TransportName): unknown }): ReadonlySet<TransportName> {
  return new Set((['udp', 'tcp', 'tls'] as const).filter((t) => hub.local(t) !== undefined));
}

/** Hops one location yields at most: each may cost a Timer B (64·T1) before the next is tried. */
export const MAX_SIP_HOPS = 8;
/** NAPTR records and SRV targets looked at per name at most (bounds the queries a hostile zone can cause). */
const MAX_NAPTR = 6;
const MAX_SRV_TARGETS = 8;

export const DEFAULT_PORT: Readonly<Record<TransportName, number>> = { udp: 5060, tcp: 5060, tls: 5061 };

/** RFC 3263 §4.1 NAPTR services Carillon can use, with their transports (SCTP and WebSocket ones are not). */
const NAPTR_SERVICES: Readonly<Record<string, TransportName>> = { 'sip+d2u': 'udp', 'sip+d2t': 'tcp', 'sips+d2t': 'tls' };

/** RFC 3263 §4.2: the SRV owner name for a transport ("_sips" for TLS, whatever the URI's scheme). */
export function srvName(transport: TransportName, domain: string): string {
  switch (transport) {
    case 'udp':
      return `_sip._udp.${domain}`;
    case 'tcp':
      return `_sip._tcp.${domain}`;
    case 'tls':
      return `_sips._tcp.${domain}`;
    default: {
      const never: never = transport;
      return never;
    }
  }
}

/**
 * RFC 2782 "Usage rules": lowest priority first; within a priority, "arrange all SRV RRs (that
 * have not been ordered yet) in any order, except that all those with weight 0 are placed at the
 * beginning of the list. Compute the sum of the weights of those RRs, and with each RR associate
 * the running sum in the selected order. Then choose a uniform random number between 0 and the
 * sum computed (inclusive), and select the RR whose running sum value is the first in the
 * selected order which is greater than or equal to the random number selected."
 */
export function orderSrv(records: readonly SrvRecord[], random: Random): SrvRecord[] {
  const byPriority = new Map<number, SrvRecord[]>();
  for (const r of records) {
    const list = byPriority.get(r.priority);
    if (list === undefined) byPriority.set(r.priority, [r]);
    else list.push(r);
  }
  const out: SrvRecord[] = [];
  for (const p of [...byPriority.keys()].sort((a, b) => a - b)) {
    const pool = (byPriority.get(p) ?? []).filter((r) => r.weight === 0).concat((byPriority.get(p) ?? []).filter((r) => r.weight !== 0));
    while (pool.length > 0) {
      const sum = pool.reduce((s, r) => s + r.weight, 0);
      const pick = Math.min(sum, Math.floor(random.float() * (sum + 1)));
      let running = 0;
      let i = 0;
      for (; i < pool.length - 1; i++) {
        running += (pool[i] as SrvRecord).weight;
        if (running >= pick) break;
      }
      out.push(...pool.splice(i, 1));
    }
  }
  return out;
}

/**
 * RFC 3263 §4.1: the NAPTR records a client may follow, in order then preference: flag "s"
 * (an SRV lookup follows), a service Carillon serves (`SIPS+D2T` alone for a SIPS URI: "the
 * client MUST discard any services that do not contain SIPS"), no regexp, a replacement name.
 */
export function usableNaptr(records: readonly NaptrRecord[], sips: boolean, transports: ReadonlySet<TransportName>): { transport: TransportName; replacement: string }[] {
  return records
    .filter((r) => r.flags.toLowerCase() === 's' && r.regexp === '' && r.replacement !== '.' && dnsName(r.replacement) !== undefined)
    .filter((r) => {
      const t = NAPTR_SERVICES[r.service.toLowerCase()];
      return t !== undefined && transports.has(t) && (!sips || t === 'tls');
    })
    .sort((a, b) => a.order - b.order || a.preference - b.preference)
    .slice(0, MAX_NAPTR)
    .map((r) => ({ transport: NAPTR_SERVICES[r.service.toLowerCase()] as TransportName, replacement: r.replacement }));
}

export interface SipLocatorOptions {
  readonly resolver: Resolver;
  readonly random: Random;
  /** Address families asked for, in order (default [4]: A records). */
  readonly families?: readonly AddressFamily[] | undefined;
  readonly maxHops?: number | undefined;
}

/** The target of a URI (RFC 3263 §4: maddr when present, else the host) without IPv6 brackets. */
function targetOf(host: string, maddr: string | null | undefined): string {
  const t = typeof maddr === 'string' && maddr.length > 0 ? maddr.toLowerCase() : host;
  return t.startsWith('[') && t.endsWith(']') ? t.slice(1, -1) : t;
}

/** Locates SIP servers per RFC 3263 §4 through one Resolver; never rejects. */
export class SipLocator {
  readonly #o: SipLocatorOptions;

  constructor(opts: SipLocatorOptions) {
    this.#o = opts;
  }

  /** The function form the B2BUA and route health take. */
  get locate(): SipLocate {
    return (uri, transports) => this.#locate(uri, transports).catch(() => ({ ok: false, reason: 'not-found' }) as const);
  }

  async #locate(uriText: string, transports: ReadonlySet<TransportName>): Promise<SipLocation> {
    const uri = parseUri(uriText);
    if (uri === undefined || (uri.scheme !== 'sip' && uri.scheme !== 'sips')) return { ok: false, reason: 'bad-target' };
    const sips = uri.scheme === 'sips';
    const target = targetOf(uri.host, uri.params.get('maddr'));
    const param = uri.params.get('transport');
    if (uri.port !== undefined && !isUsablePort(uri.port)) return { ok: false, reason: 'bad-target' };
    // §4.1: "If the URI specifies a transport protocol in the transport parameter, that transport
    // protocol SHOULD be used." SIPS is TLS whatever the parameter says (RFC 3261 §26.2.2).
    let explicit: TransportName | undefined;
    if (sips) explicit = param === undefined || param === null ? undefined : 'tls';
    else if (typeof param === 'string') {
      const t = param.toLowerCase();
      if (t !== 'udp' && t !== 'tcp' && t !== 'tls') return { ok: false, reason: 'no-transport' };
      explicit = t;
    }
    // "Otherwise, if no transport protocol is specified, but the TARGET is a numeric IP address,
    // the client SHOULD use UDP for a SIP URI, and TCP for a SIPS URI" (TLS over TCP).
    const fallback = this.#fallbackTransport(sips, transports);
    if (isIP(target) !== 0) {
      const transport = explicit ?? fallback;
      if (transport === undefined || !transports.has(transport)) return { ok: false, reason: 'no-transport' };
      return { ok: true, via: 'literal', hops: [{ transport, address: target, port: uri.port ?? DEFAULT_PORT[transport] }] };
    }
    const domain = dnsName(target);
    if (domain === undefined) return { ok: false, reason: 'bad-target' };
    if (explicit !== undefined && !transports.has(explicit)) return { ok: false, reason: 'no-transport' };
    // §4.2: "If the TARGET was not a numeric IP address, but a port is present in the URI, the
    // client performs an A or AAAA record lookup of the domain name."
    if (uri.port !== undefined) {
      const transport = explicit ?? fallback;
      if (transport === undefined) return { ok: false, reason: 'no-transport' };
      return this.#done(await this.#addressHops(domain, transport, uri.port), 'address');
    }
    if (explicit !== undefined) {
      // §4.2: a transport given explicitly: "the client performs an SRV query for that specific transport".
      const viaSrv = await this.#srvHops(srvName(explicit, domain), explicit);
      if (viaSrv !== undefined) return this.#done(viaSrv, 'srv');
      return this.#done(await this.#addressHops(domain, explicit, DEFAULT_PORT[explicit]), 'address');
    }
    // §4.1: "If no transport protocol or port is specified, and the target is not a numeric IP
    // address, the client SHOULD perform a NAPTR query for the domain in the URI."
    const naptr = usableNaptr((await this.#o.resolver.naptr(domain)).records, sips, transports);
    if (naptr.length > 0) {
      const hops: SipHop[] = [];
      let srvFound = false;
      for (const n of naptr) {
        if (hops.length >= this.#maxHops) break;
        const viaSrv = await this.#srvHops(n.replacement, n.transport);
        if (viaSrv === undefined) continue;
        srvFound = true;
        hops.push(...viaSrv);
      }
      if (srvFound) return this.#done(hops, 'naptr');
      // §4.2: "If no SRV records were found, the client performs an A or AAAA record lookup of the
      // domain name", with the transport NAPTR chose.
      const first = naptr[0] as { transport: TransportName };
      return this.#done(await this.#addressHops(domain, first.transport, DEFAULT_PORT[first.transport]), 'address');
    }
    // "If no NAPTR records are found, the client constructs SRV queries for those transport
    // protocols it supports, and does a query for each. Queries are done using the service
    // identifier "_sip" for SIP URIs and "_sips" for SIPS URIs."
    const candidates: TransportName[] = sips ? ['tls'] : ['udp', 'tcp'];
    const hops: SipHop[] = [];
    let srvFound = false;
    for (const t of candidates) {
      if (!transports.has(t)) continue;
      const viaSrv = await this.#srvHops(srvName(t, domain), t);
      if (viaSrv === undefined) continue;
      srvFound = true;
      hops.push(...viaSrv);
    }
    if (srvFound) return this.#done(hops, 'srv');
    // "If no SRV records were found ... the client SHOULD use TCP for a SIPS URI, and UDP for a SIP URI."
    if (fallback === undefined) return { ok: false, reason: 'no-transport' };
    return this.#done(await this.#addressHops(domain, fallback, DEFAULT_PORT[fallback]), 'address');
  }

  get #maxHops(): number {
    return this.#o.maxHops ?? MAX_SIP_HOPS;
  }

  /** UDP for SIP (TCP when Carillon serves no UDP), TLS for SIPS; undefined when that is not served. */
  #fallbackTransport(sips: boolean, transports: ReadonlySet<TransportName>): TransportName | undefined {
    if (sips) return transports.has('tls') ? 'tls' : undefined;
    return transports.has('udp') ? 'udp' : transports.has('tcp') ? 'tcp' : undefined;
  }

  #done(hops: readonly SipHop[], via: SipLocationVia): SipLocation {
    const seen = new Set<string>();
    const out: SipHop[] = [];
    for (const h of hops) {
      const key = `${h.transport} ${h.address} ${h.port}`;
      // Nothing that is not an IP literal and a port a socket can take leaves here.
      if (seen.has(key) || isIP(h.address) === 0 || !isUsablePort(h.port)) continue;
      seen.add(key);
      out.push(h);
      if (out.length >= this.#maxHops) break;
    }
    return out.length === 0 ? { ok: false, reason: 'not-found' } : { ok: true, hops: out, via };
  }

  /**
   * The hops an SRV name yields, in RFC 2782 order, each target's addresses in turn; undefined
   * when the name has no SRV records (the caller falls back to addresses). A set holding only
   * "." targets yields [] (the service is not offered: no fallback).
   */
  async #srvHops(name: string, transport: TransportName): Promise<SipHop[] | undefined> {
    const answer = await this.#o.resolver.srv(name);
    if (answer.records.length === 0) return undefined;
    const ordered = orderSrv(answer.records, this.#o.random)
      .filter((r) => r.target !== '.' && isUsablePort(r.port))
      .slice(0, MAX_SRV_TARGETS);
    const perTarget = await Promise.all(ordered.map((r) => this.#addressHops(r.target, transport, r.port)));
    return perTarget.flat();
  }

  async #addressHops(name: string, transport: TransportName, port: number): Promise<SipHop[]> {
    const hops: SipHop[] = [];
    for (const family of this.#o.families ?? [4]) {
      const answer = await this.#o.resolver.addresses(name, family);
      for (const r of answer.records) if (isIP(r.address) === family) hops.push({ transport, address: r.address, port });
    }
    return hops;
  }
}
