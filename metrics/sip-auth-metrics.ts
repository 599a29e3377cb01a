import client from 'prom-client';
import type { AuthGuardCounters } from '../signaling/auth/auth-guard.ts';
import { BAN_SCOPES } from '../signaling/auth/auth-guard.ts';
import { AUTH_FAILURE_REASONS } from '../signaling/auth/digest.ts';
import type { DigestCounters } from '../signaling/auth/digest.ts';
import { STALE_REASONS } from '../signaling/auth/nonce-store.ts';

/** What the termination digest metrics read at scrape time (STYLE.md 13: counters in objects; labels from closed sets, never an address). */
export interface SipAuthMetricsSource {
  readonly digest: { readonly counters: DigestCounters; readonly nonces: { readonly live: number; readonly evicted: number } };
  readonly guard: { readonly counters: AuthGuardCounters; bannedSources(): number; guardedVoiceConnectors(): number };
}

/**
 * Termination digest authentication: failed answers by reason, stale nonces by reason, bans by
 * scope and the requests they refused, what is banned now, and the nonce table.
 */
export function addSipAuthMetrics(registry: client.Registry, source: SipAuthMetricsSource): void {
  const labelled = <K extends string>(name: string, help: string, label: string, keys: readonly K[], read: () => Record<K, number>): void => {
    new client.Counter<string>({
      name,
      help,
      labelNames: [label],
      registers: [registry],
      collect() {
        this.reset();
        const values = read();
        for (const k of keys) this.inc({ [label]: k }, values[k]);
      },
    });
  };
  const gauge = (name: string, help: string, read: () => number): void => {
    new client.Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  };
  labelled('carillon_sip_auth_failures_total', 'Failed answers to termination digest challenges (each counts toward bans)', 'reason', AUTH_FAILURE_REASONS, () => source.guard.counters.failures);
  labelled('carillon_sip_auth_stale_total', 'Termination digest answers whose nonce could not be used, challenged again with stale=true (not failures)', 'reason', STALE_REASONS, () => source.digest.counters.stale);
  labelled('carillon_sip_auth_bans_total', 'Authentication bans begun: a source after repeated failures, or a voice connector guarded against sources that failed', 'scope', BAN_SCOPES, () => source.guard.counters.bans);
  labelled('carillon_sip_auth_banned_requests_total', 'Termination requests refused with 403 because of an authentication ban', 'scope', BAN_SCOPES, () => source.guard.counters.refused);
  gauge('carillon_sip_auth_banned_sources', 'Source addresses (IPv6: /64s) banned now after repeated authentication failures', () => source.guard.bannedSources());
  gauge('carillon_sip_auth_guarded_voice_connectors', 'Voice connectors refusing the sources that failed against them now', () => source.guard.guardedVoiceConnectors());
  gauge('carillon_sip_auth_nonces', 'Live digest nonces held', () => source.digest.nonces.live);
  new client.Counter({
    name: 'carillon_sip_auth_nonces_evicted_total',
    help: 'Digest nonces forgotten before their TTL because the nonce table (or one source’s share) was full',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(source.digest.nonces.evicted);
    },
  });
}
