import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import type { Clock } from '../../common/clock.ts';
import type { Random } from '../../common/random.ts';
import { TokenBuckets } from '../../common/token-bucket.ts';
import type { TerminationDocument } from '../../common/config-documents.ts';
import type { ConfigSnapshot, VoiceConnectorConfig } from '../../common/config-snapshot.ts';
import type { CallRouter, NextHop, RouteDecision, RouteRequest, TrunkCall } from '../../common/route.ts';
import type { AuthGuard } from '../auth/auth-guard.ts';
import { AUTH_FAILURE_REASONS } from '../auth/digest.ts';
import { routeStatic } from './static-routes.ts';
import type { StaticRoute } from './static-routes.ts';
import { emergencyRoute } from './emergency.ts';
import { hopTransportOf, originationRoutes } from './route-health.ts';
import type { RouteHealthView } from './route-health.ts';
import { voiceConnectorHost, voiceConnectorIdOfHost } from './voice-connector-host.ts';

/**
 * Voice Connector call classification and routing over the control plane's configuration
 * snapshot (SPEC.md §4):
 * - termination: a request addressed to `<voiceConnectorId>.voiceconnector.<domain>` from a PBX —
 *   source CIDRs, digest credentials, Disabled, calling regions, CpsLimit, caller ID — leaves
 *   through the carriers (priority, weighted among equals);
 * - origination: a request from a carrier to a number associated with a voice connector (or a
 *   group) goes to that voice connector's origination routes (priority, weight; group members by
 *   their priority), skipping routes the OPTIONS pings found down;
 * - anything else falls to the config file's static routes, or is refused and counted.
 */
export interface RouterCounters {
  /** Refusals by rule (`termination-cidr`, `termination-throttled`, …). */
  readonly refused: Map<string, number>;
}

export interface VoiceConnectorRouterOptions {
  readonly domain: string;
  readonly snapshot: () => ConfigSnapshot;
  readonly staticRoutes: readonly StaticRoute[];
  /** Counts failed answers and bans sources that keep failing (auth-guard.ts). */
  readonly authGuard: AuthGuard;
  readonly clock: Clock;
  readonly random: Random;
  readonly health?: RouteHealthView | undefined;
}

/** A dialed or calling number as E.164 with its country, or undefined when it is not a phone number. */
export function e164Of(user: string | undefined): { e164: string; country: string | undefined } | undefined {
  if (user === undefined) return undefined;
  const digits = user.replace(/[-.() ]/g, '').replace(/;.*$/, '');
  if (!/^\+?\d{3,15}$/.test(digits)) return undefined;
  const p = parsePhoneNumberFromString(digits.startsWith('+') ? digits : `+${digits}`);
  if (p === undefined) return undefined;
  return { e164: p.number, country: p.country };
}

/**
 * Whether a source address lies in any of a termination's allowed CIDRs (net.BlockList: IPv4,
 * IPv6, and IPv4-mapped IPv6 matched against IPv4 ranges and the other way round). The list of a
 * configuration snapshot is read into a BlockList once.
 */
const blockLists = new WeakMap<readonly string[], BlockList>();
function inCidrs(address: string, cidrs: readonly string[]): boolean {
  let list = blockLists.get(cidrs);
  if (list === undefined) {
    list = new BlockList();
    for (const c of cidrs) {
      const [net, bits] = c.split('/');
      const family = net !== undefined && isIPv4(net) ? 'ipv4' : net !== undefined && isIPv6(net) ? 'ipv6' : undefined;
      const prefix = Number(bits);
      if (family === undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 'ipv4' ? 32 : 128)) continue;
      list.addSubnet(net as string, prefix, family);
    }
    blockLists.set(cidrs, list);
  }
  const family = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : undefined;
  return family !== undefined && list.check(address, family);
}

/** Items ordered by priority (low first), weighted random without replacement among equals. */
export function orderByPriorityWeight<T extends { readonly priority: number; readonly weight: number }>(items: readonly T[], random: Random): T[] {
  const byPriority = new Map<number, T[]>();
  for (const it of items) byPriority.set(it.priority, [...(byPriority.get(it.priority) ?? []), it]);
  const out: T[] = [];
  for (const p of [...byPriority.keys()].sort((a, b) => a - b)) {
    const pool = [...(byPriority.get(p) ?? [])];
    while (pool.length > 0) {
      let pick = random.float() * pool.reduce((s, x) => s + x.weight, 0);
      let i = 0;
      for (; i < pool.length - 1; i++) {
        pick -= (pool[i] as T).weight;
        if (pick < 0) break;
      }
      out.push(...pool.splice(i, 1));
    }
  }
  return out;
}

/** A hop to a carrier or origination route for the number `e164`. */
function hopTo(e164: string, host: string, port: number, protocol: string, extra: Pick<NextHop, 'credentials' | 'trunk'> = {}): NextHop {
  return { transport: hopTransportOf(protocol), host, port, user: e164, headers: [], ...extra };
}

export class VoiceConnectorRouter implements CallRouter {
  readonly counters: RouterCounters = { refused: new Map() };
  readonly #opts: VoiceConnectorRouterOptions;
  readonly #cps = new Map<string, { limit: number; buckets: TokenBuckets }>();

  constructor(opts: VoiceConnectorRouterOptions) {
    this.#opts = opts;
  }

  #refuse(rule: string, status: number, extra: Partial<Extract<RouteDecision, { kind: 'reject' }>> = {}): RouteDecision {
    this.counters.refused.set(rule, (this.counters.refused.get(rule) ?? 0) + 1);
    return { kind: 'reject', status, rule, ...extra };
  }

  decide(req: RouteRequest): RouteDecision {
    const r = req.dialed;
    const source = req.source;
    const snap = this.#opts.snapshot();
    const id = voiceConnectorIdOfHost(r.host, this.#opts.domain);
    if (id !== undefined) {
      const vc = snap.voiceConnectors.get(id);
      if (vc === undefined) return this.#refuse('unknown-voice-connector', 404);
      return this.#termination(req, vc, r.user, snap);
    }
    const carrier = snap.carriers.find((c) => c.host === source.address || c.host === source.address.replace(/^::ffff:/, ''));
    const dialed = e164Of(r.user);
    if (carrier !== undefined && dialed !== undefined) {
      const owner = snap.numbers.get(dialed.e164);
      if (owner !== undefined) return this.#origination(req, dialed.e164, owner, snap);
    }
    // Recording sessions are taken only for a voice connector.
    if (req.recording) return this.#refuse('recording-no-voice-connector', 404);
    const fallback = routeStatic(this.#opts.staticRoutes, r);
    if (fallback.kind === 'reject') return this.#refuse(carrier === undefined ? 'no-route' : 'origination-unknown-number', 404);
    return fallback;
  }

  #termination(req: RouteRequest, vc: VoiceConnectorConfig, user: string | undefined, snap: ConfigSnapshot): RouteDecision {
    const source = req.source;
    const doc = vc.documents.termination;
    const dialed = e164Of(user);
    const who = req.caller;
    const calling = e164Of(who.user);
    const trunk: TrunkCall = { voiceConnectorId: vc.id, region: vc.awsRegion, direction: 'Outbound', fromNumber: calling?.e164, toNumber: dialed?.e164 ?? user ?? '', fromCountry: calling?.country, toCountry: dialed?.country, encrypted: vc.requireEncryption };
    if (doc === undefined) return this.#refuse('termination-not-configured', 403, { trunk, reason: 'Termination Not Configured' });
    const cidrs = doc.CidrAllowedList ?? [];
    if (cidrs.length > 0 ? !inCidrs(source.address, cidrs) : vc.credentials.length === 0) return this.#refuse('termination-source', 403, { trunk, reason: 'Source Not Allowed' });
    if (vc.credentials.length > 0) {
      const realm = voiceConnectorHost(vc.id, this.#opts.domain);
      // A banned source is refused before any challenge, the right password included.
      if (this.#opts.authGuard.refusal(source.address, vc.id) !== undefined) return this.#refuse('termination-auth-banned', 403, { trunk, reason: 'Too Many Authentication Failures' });
      const verdict = req.credentials(realm, vc.credentials);
      switch (verdict.kind) {
        case 'ok':
          break;
        case 'absent':
        case 'stale':
          // A challenge is part of the exchange, not a failure: it is not counted as a refusal.
          return { kind: 'reject', status: 407, rule: 'termination-challenge', trunk, challenge: { realm, stale: verdict.kind === 'stale' } };
        case 'failed':
          this.#opts.authGuard.failed(source.address, vc.id, AUTH_FAILURE_REASONS.find((r) => r === verdict.reason) ?? 'malformed');
          return this.#refuse('termination-auth', 403, { trunk, reason: 'Authentication Failed' });
        default: {
          const never: never = verdict;
          return never;
        }
      }
    }
    // Emergency calls from an authenticated PBX go out ahead of every other rule: Disabled, calling regions, CpsLimit.
    const emergency = emergencyRoute(vc.documents.emergency?.DNIS ?? [], user, calling?.country);
    if (emergency !== undefined) {
      this.#takeCps(vc.id, doc.CpsLimit ?? 1);
      // Not even encryption holds an emergency call back: its media is SRTP only if the PBX offered it.
      return this.#viaCarriers(snap, vc, doc, emergency.e164, { ...trunk, toNumber: emergency.e164, toCountry: emergency.country, encrypted: false }, calling, who.anonymous, emergency.test ? 'emergency-test' : 'emergency');
    }
    // RequireEncryption: signaling over TLS and media as SRTP (an RTP/SAVP offer), or no call.
    if (vc.requireEncryption) {
      if (source.transport !== 'tls') return this.#refuse('termination-encryption', 403, { trunk, reason: 'Encryption Required' });
      if (req.audioOffer === 'rtp') return this.#refuse('termination-srtp', 488, { trunk, reason: 'SRTP Required' });
    }
    // A recording session (SIPREC) from an allowed, authenticated client is recorded, not called through.
    if (req.recording) return { kind: 'record', rule: `recording:${vc.id}`, trunk };
    if (doc.Disabled === true) return this.#refuse('termination-disabled', 403, { trunk, reason: 'Termination Disabled' });
    if (dialed === undefined) return this.#refuse('termination-bad-number', 484, { trunk });
    if (dialed.country === undefined || !(doc.CallingRegions ?? []).includes(dialed.country)) return this.#refuse('termination-calling-region', 403, { trunk, reason: 'Calling Region Not Allowed' });
    if (!this.#takeCps(vc.id, doc.CpsLimit ?? 1)) return this.#refuse('termination-throttled', 503, { trunk, retryAfterSec: 1, throttled: true });
    return this.#viaCarriers(snap, vc, doc, dialed.e164, trunk, calling, who.anonymous, 'termination');
  }

  /** A termination call out through the carriers that take `e164`, with the voice connector's caller ID. */
  #viaCarriers(snap: ConfigSnapshot, vc: VoiceConnectorConfig, doc: Pick<TerminationDocument, 'DefaultPhoneNumber'>, e164: string, trunk: TrunkCall, calling: { e164: string } | undefined, anonymous: boolean, kind: string): RouteDecision {
    // Caller ID: the PBX's own number when it is one of this voice connector's, else the default.
    const owned = calling !== undefined && this.#belongsTo(snap, calling.e164, vc.id);
    const callerNumber = owned ? calling.e164 : (doc.DefaultPhoneNumber ?? calling?.e164);
    const callerName = callerNumber === undefined ? undefined : (snap.numbers.get(callerNumber)?.callingName ?? snap.defaultCallingName);
    const [first, ...rest] = this.#carrierHops(snap, e164);
    if (first === undefined) return this.#refuse('termination-no-carrier', 503, { trunk, reason: 'No Carrier Available' });
    return {
      kind: 'forward',
      hop: first,
      alternates: rest,
      rule: `${kind}:${vc.id}`,
      trunk: { ...trunk, fromNumber: callerNumber },
      ...(callerNumber === undefined ? {} : { caller: { user: callerNumber, anonymous, ...(callerName === undefined ? {} : { displayName: callerName }) } }),
    };
  }

  /** Hops to the carriers that take `e164` and answer OPTIONS pings (a silent one is skipped until it answers), by priority and weight. */
  #carrierHops(snap: ConfigSnapshot, e164: string): NextHop[] {
    const carriers = orderByPriorityWeight(
      snap.carriers.filter((c) => (c.prefixes.length === 0 || c.prefixes.some((p) => e164.startsWith(p))) && (this.#opts.health?.isUp(c.host, c.port, c.protocol) ?? true)),
      this.#opts.random,
    );
    return carriers.map((c) => hopTo(e164, c.host, c.port, c.protocol, c.credentials === undefined ? {} : { credentials: c.credentials }));
  }

  /**
   * A meeting's dial-out (Chime's "call me"): out through the carriers that take the number, as a
   * termination call goes; the caller ID is `fromNumber` when it is one of the account's numbers
   * (a number the store knows), else none is asserted (the carrier's own default applies).
   */
  dialOut(toNumber: string, fromNumber: string | undefined): RouteDecision {
    const snap = this.#opts.snapshot();
    const dialed = e164Of(toNumber);
    if (dialed === undefined) return this.#refuse('dial-out-bad-number', 484);
    const calling = e164Of(fromNumber);
    const callerNumber = calling !== undefined && snap.numbers.has(calling.e164) ? calling.e164 : undefined;
    const [first, ...rest] = this.#carrierHops(snap, dialed.e164);
    if (first === undefined) return this.#refuse('dial-out-no-carrier', 503, { reason: 'No Carrier Available' });
    const callerName = callerNumber === undefined ? undefined : (snap.numbers.get(callerNumber)?.callingName ?? snap.defaultCallingName);
    return {
      kind: 'forward',
      hop: first,
      alternates: rest,
      rule: 'dial-out',
      ...(callerNumber === undefined ? {} : { caller: { user: callerNumber, anonymous: false, ...(callerName === undefined ? {} : { displayName: callerName }) } }),
    };
  }

  #belongsTo(snap: ConfigSnapshot, e164: string, vcId: string): boolean {
    const n = snap.numbers.get(e164);
    if (n === undefined) return false;
    if (n.kind === 'VoiceConnectorId') return n.id === vcId;
    return (snap.groups.get(n.id) ?? []).some((i) => i.voiceConnectorId === vcId);
  }

  #takeCps(vcId: string, limit: number): boolean {
    let b = this.#cps.get(vcId);
    if (b === undefined || b.limit !== limit) {
      b = { limit, buckets: new TokenBuckets(limit, limit) };
      this.#cps.set(vcId, b);
    }
    return b.buckets.take(vcId, this.#opts.clock.monoMs());
  }

  #origination(req: RouteRequest, e164: string, owner: { kind: 'VoiceConnectorId' | 'VoiceConnectorGroupId'; id: string }, snap: ConfigSnapshot): RouteDecision {
    const members = owner.kind === 'VoiceConnectorId' ? [owner.id] : (snap.groups.get(owner.id) ?? []).map((i) => i.voiceConnectorId);
    const calling = e164Of(req.fromUser);
    const targets: { route: { host: string; port: number; protocol: string }; vc: VoiceConnectorConfig }[] = [];
    for (const id of members) {
      const vc = snap.voiceConnectors.get(id);
      if (vc === undefined) continue;
      const routes = originationRoutes(vc).filter((rt) => this.#opts.health?.isUp(rt.host, rt.port, rt.protocol) ?? true);
      for (const rt of orderByPriorityWeight(routes, this.#opts.random)) {
        targets.push({ vc, route: rt });
      }
    }
    const first = targets[0];
    const firstVc = snap.voiceConnectors.get(members[0] ?? '');
    const trunkOf = (vc: VoiceConnectorConfig | undefined): TrunkCall => ({
      voiceConnectorId: vc?.id ?? owner.id,
      region: vc?.awsRegion ?? 'us-east-1',
      direction: 'Inbound',
      fromNumber: calling?.e164,
      toNumber: e164,
      fromCountry: calling?.country,
      toCountry: e164Of(e164)?.country,
      encrypted: vc?.requireEncryption === true,
    });
    if (first === undefined) return this.#refuse('origination-no-route', 480, { trunk: trunkOf(firstVc), reason: 'No Origination Route Available' });
    const hopOf = (t: (typeof targets)[number], trunk?: TrunkCall): NextHop => hopTo(e164, t.route.host, t.route.port, t.route.protocol, trunk === undefined ? {} : { trunk });
    return { kind: 'forward', hop: hopOf(first), alternates: targets.slice(1).map((t) => hopOf(t, trunkOf(t.vc))), rule: `origination:${first.vc.id}`, trunk: trunkOf(first.vc) };
  }
}
