import { isIPv4, isIPv6 } from 'node:net';
import type { Logger } from 'pino';
import type { Clock, Timers } from '../../common/clock.ts';
import { AUTH_FAILURE_REASONS } from './digest.ts';
import type { AuthFailureReason } from './digest.ts';
import { SweepTimer } from './sweep-timer.ts';

/** Defaults of the `sip.auth*` keys (cli/config.ts). */
export const DEFAULT_AUTH_FAILURES_PER_SOURCE = 5;
export const DEFAULT_AUTH_FAILURES_PER_VOICE_CONNECTOR = 10;
export const DEFAULT_AUTH_FAILURE_WINDOW_SEC = 60;
export const DEFAULT_AUTH_BAN_SEC = 300;
/** Sources tracked at once; past it the one that failed longest ago is forgotten. */
export const MAX_GUARDED_SOURCES = 10_000;
/** Voice connectors tracked at once (each with its failing sources, at most MAX_FAILING_SOURCES_PER_VOICE_CONNECTOR). */
export const MAX_GUARDED_VOICE_CONNECTORS = 10_000;
export const MAX_FAILING_SOURCES_PER_VOICE_CONNECTOR = 1_000;
/** How often quiet records are swept while any are held (ms). */
export const GUARD_SWEEP_MS = 15_000;

export type BanScope = 'source' | 'voice_connector';
export const BAN_SCOPES = ['source', 'voice_connector'] as const satisfies readonly BanScope[];

export interface AuthGuardLimits {
  /** Failures from one source (IPv6: its /64) within the window that ban it from every termination request; 0 = off. */
  readonly failuresPerSource: number;
  /** Failures against one voice connector, from all sources, within the window that start its guard; 0 = off. */
  readonly failuresPerVoiceConnector: number;
  readonly windowMs: number;
  /** How long a ban lasts, from the failure that set it off (ms). */
  readonly banMs: number;
  readonly maxSources?: number;
  readonly maxVoiceConnectors?: number;
  readonly maxFailingSourcesPerVoiceConnector?: number;
}

export interface AuthGuardCounters {
  readonly failures: Record<AuthFailureReason, number>;
  /** Bans begun. */
  readonly bans: Record<BanScope, number>;
  /** Termination requests refused because of a ban, by the ban's scope. */
  readonly refused: Record<BanScope, number>;
}

interface SourceRecord {
  /** monoMs of the latest failures, oldest first, at most failuresPerSource. */
  readonly fails: number[];
  bannedUntilMs: number;
}

interface VoiceConnectorRecord {
  readonly fails: number[];
  bannedUntilMs: number;
  banStartMs: number;
  /** Source key → monoMs of its latest failure against this voice connector; oldest first. */
  readonly failing: Map<string, number>;
}

/**
 * What a source IP is tracked as: IPv4 (IPv4-mapped IPv6 included) as itself, IPv6 by its /64 —
 * one host holds a whole /64, and banning single addresses in it would stop nobody.
 */
export function sourceKey(address: string): string {
  const bare = address.replace(/%.*$/, '');
  const v4 = bare.toLowerCase().startsWith('::ffff:') ? bare.slice(7) : bare;
  if (isIPv4(v4)) return v4;
  if (!isIPv6(bare)) return bare;
  let text = bare.toLowerCase();
  // A dotted IPv4 tail (::ffff:1.2.3.4 was handled above; others such as 64:ff9b::1.2.3.4) as two groups.
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted !== null) {
    const o = (dotted[1] as string).split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((o[0] << 8) | o[1]).toString(16)}:${((o[2] << 8) | o[3]).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? h : [...h, ...Array<string>(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t];
  return `${groups.slice(0, 4).map((g) => parseInt(g, 16).toString(16)).join(':')}::/64`;
}

/**
 * Limits on guessing termination credentials, in the manner of Kamailio's pike/htable recipes:
 * - per source: `failuresPerSource` failed answers within `windowMs` (to any voice connector)
 *   ban the source for `banMs` — every termination request from it gets 403, the right
 *   password included, and is not even challenged;
 * - per voice connector: `failuresPerVoiceConnector` failures against it from all sources
 *   within the window (guessing spread over many addresses) start a guard of `banMs` during
 *   which it refuses every source that failed against it in the window before or during the
 *   guard. A source that has not failed — the real PBX — keeps working, so a guesser cannot lock
 *   the trunk's owner out; each new address a guesser brings gets at most one try.
 * Only answers to a live challenge the source was sent count (digest.ts), so a sender spoofing
 * the PBX's address cannot get it banned. A ban is not extended by the refused requests; it is
 * logged once (warn) and counted. Tables are bounded (oldest forgotten first) and swept.
 */
export class AuthGuard {
  readonly counters: AuthGuardCounters = {
    failures: Object.fromEntries(AUTH_FAILURE_REASONS.map((r) => [r, 0])) as Record<AuthFailureReason, number>,
    bans: { source: 0, voice_connector: 0 },
    refused: { source: 0, voice_connector: 0 },
  };
  readonly #limits: Required<AuthGuardLimits>;
  readonly #clock: Clock;
  readonly #logger: Logger | undefined;
  /** Least recently failed first. */
  readonly #sources = new Map<string, SourceRecord>();
  readonly #vcs = new Map<string, VoiceConnectorRecord>();
  readonly #sweeper: SweepTimer;

  constructor(limits: AuthGuardLimits, deps: { readonly clock: Clock; readonly timers?: Timers | undefined; readonly logger?: Logger | undefined }) {
    this.#limits = {
      maxSources: MAX_GUARDED_SOURCES,
      maxVoiceConnectors: MAX_GUARDED_VOICE_CONNECTORS,
      maxFailingSourcesPerVoiceConnector: MAX_FAILING_SOURCES_PER_VOICE_CONNECTOR,
      ...limits,
    };
    this.#clock = deps.clock;
    this.#logger = deps.logger;
    this.#sweeper = new SweepTimer(deps.timers, GUARD_SWEEP_MS, () => {
      this.sweep();
      return this.#sources.size + this.#vcs.size > 0;
    });
  }

  #now(): number {
    return this.#clock.monoMs();
  }

  /**
   * Whether a termination request from `address` to voice connector `vcId` is refused outright
   * (403 before any challenge), and by which ban; counts the refusal.
   */
  refusal(address: string, vcId: string): BanScope | undefined {
    const key = sourceKey(address);
    const now = this.#now();
    if ((this.#sources.get(key)?.bannedUntilMs ?? 0) > now) {
      this.counters.refused.source++;
      return 'source';
    }
    const vc = this.#vcs.get(vcId);
    if (vc !== undefined && vc.bannedUntilMs > now) {
      const last = vc.failing.get(key);
      if (last !== undefined && last >= vc.banStartMs - this.#limits.windowMs) {
        this.counters.refused.voice_connector++;
        return 'voice_connector';
      }
    }
    return undefined;
  }

  /** A failed answer from `address` to voice connector `vcId`'s challenge. */
  failed(address: string, vcId: string, reason: AuthFailureReason): void {
    this.counters.failures[reason]++;
    const { failuresPerSource, failuresPerVoiceConnector, windowMs, banMs } = this.#limits;
    const key = sourceKey(address);
    const now = this.#now();

    let src = this.#sources.get(key);
    if (src === undefined) {
      if (this.#sources.size >= this.#limits.maxSources) this.#dropOldest(this.#sources);
      src = { fails: [], bannedUntilMs: 0 };
    }
    // Re-inserted: the map stays in order of last failure.
    this.#sources.delete(key);
    this.#sources.set(key, src);
    record(src.fails, now, windowMs, failuresPerSource);
    if (failuresPerSource > 0 && src.fails.length >= failuresPerSource && src.bannedUntilMs <= now) {
      src.bannedUntilMs = now + banMs;
      this.counters.bans.source++;
      this.#logger?.warn(
        { source: key, voiceConnectorId: vcId, failures: failuresPerSource, windowSec: windowMs / 1000, banSec: banMs / 1000 },
        'termination digest authentication: source banned after repeated failures',
      );
    }

    let vc = this.#vcs.get(vcId);
    if (vc === undefined) {
      if (this.#vcs.size >= this.#limits.maxVoiceConnectors) this.#dropOldest(this.#vcs);
      vc = { fails: [], bannedUntilMs: 0, banStartMs: 0, failing: new Map() };
    }
    this.#vcs.delete(vcId);
    this.#vcs.set(vcId, vc);
    record(vc.fails, now, windowMs, failuresPerVoiceConnector);
    vc.failing.delete(key);
    if (vc.failing.size >= this.#limits.maxFailingSourcesPerVoiceConnector) this.#dropOldest(vc.failing);
    vc.failing.set(key, now);
    if (failuresPerVoiceConnector > 0 && vc.fails.length >= failuresPerVoiceConnector && vc.bannedUntilMs <= now) {
      vc.banStartMs = now;
      vc.bannedUntilMs = now + banMs;
      this.counters.bans.voice_connector++;
      const failingSources = [...vc.failing.values()].filter((t) => t >= now - windowMs).length;
      this.#logger?.warn(
        { voiceConnectorId: vcId, failures: failuresPerVoiceConnector, windowSec: windowMs / 1000, banSec: banMs / 1000, failingSources },
        'termination digest authentication: voice connector guarded after repeated failures; sources that failed are refused',
      );
    }
    this.#sweeper.arm();
  }

  #dropOldest<V>(map: Map<string, V>): void {
    const oldest = map.keys().next().value;
    if (oldest !== undefined) map.delete(oldest);
  }

  /** Sources banned right now. */
  bannedSources(): number {
    const now = this.#now();
    let n = 0;
    for (const s of this.#sources.values()) if (s.bannedUntilMs > now) n++;
    return n;
  }

  /** Voice connectors guarded right now. */
  guardedVoiceConnectors(): number {
    const now = this.#now();
    let n = 0;
    for (const v of this.#vcs.values()) if (v.bannedUntilMs > now) n++;
    return n;
  }

  /** Records held (sources, voice connectors), for tests of the bounds. */
  get size(): { readonly sources: number; readonly voiceConnectors: number } {
    return { sources: this.#sources.size, voiceConnectors: this.#vcs.size };
  }

  /** Forgets records with no ban running and no failure inside the window. */
  sweep(): void {
    const now = this.#now();
    const { windowMs } = this.#limits;
    for (const [key, s] of this.#sources) {
      if (s.bannedUntilMs <= now && (s.fails.at(-1) ?? -Infinity) <= now - windowMs) this.#sources.delete(key);
    }
    for (const [id, v] of this.#vcs) {
      if (v.bannedUntilMs > now) continue;
      for (const [key, t] of v.failing) if (t <= now - windowMs) v.failing.delete(key);
      if (v.failing.size === 0 && (v.fails.at(-1) ?? -Infinity) <= now - windowMs) this.#vcs.delete(id);
    }
  }

  /** Stops the sweep timer. Idempotent. */
  close(): void {
    this.#sweeper.close();
  }
}

/** Appends a failure at `now`, keeping those inside the window and at most `keep` (≥ 1). */
function record(fails: number[], now: number, windowMs: number, keep: number): void {
  fails.push(now);
  while (fails.length > 0 && (fails[0] as number) <= now - windowMs) fails.shift();
  while (fails.length > Math.max(1, keep)) fails.shift();
}
