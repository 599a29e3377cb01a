import client from 'prom-client';
import { scrapedCounter } from './registry.ts';

/**
 * The H.323 edge's series: calls in progress, Setups taken and answered, calls that ended before
 * an answer by Q.931 cause (the SRE's view of room systems that could not get in), frames Carillon
 * could not read, and the call signalling connections with why they closed. Read from the edge's
 * counters at each scrape.
 */

/** What the edge counts (plain numbers: metrics never hold the edge). */
export interface H323MetricSource {
  readonly active: number;
  readonly setups: number;
  readonly answered: number;
  readonly failures: ReadonlyMap<string, number>;
  readonly malformed: number;
  readonly connections: number;
  readonly closed: Readonly<Record<string, number>>;
  readonly refusedConnections: number;
}

export function addH323Metrics(registry: client.Registry, source: () => H323MetricSource | undefined): void {
  new client.Gauge({
    name: 'carillon_h323_calls_active',
    help: 'H.323 calls in progress or established',
    registers: [registry],
    collect() {
      this.set(source()?.active ?? 0);
    },
  });
  new client.Gauge({
    name: 'carillon_h323_connections',
    help: 'Open H.323 call signalling connections (TCP 1720)',
    registers: [registry],
    collect() {
      this.set(source()?.connections ?? 0);
    },
  });
  scrapedCounter(registry, 'carillon_h323_call_attempts_total', 'H.323 Setups taken', () => source()?.setups ?? 0);
  scrapedCounter(registry, 'carillon_h323_calls_answered_total', 'H.323 calls Carillon answered (Connect)', () => source()?.answered ?? 0);
  scrapedCounter(registry, 'carillon_h323_malformed_total', 'H.225.0/H.245 messages Carillon could not read (ignored, or the call released)', () => source()?.malformed ?? 0);
  scrapedCounter(registry, 'carillon_h323_connections_refused_total', 'H.323 connections refused at accept (over the per-source or total limit)', () => source()?.refusedConnections ?? 0);
  new client.Counter({
    name: 'carillon_h323_call_failures_total',
    help: 'H.323 calls that ended before an answer, by Q.931 cause name (refusals, timeouts, callers that gave up)',
    labelNames: ['cause'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [cause, n] of source()?.failures ?? []) this.inc({ cause }, n);
    },
  });
  new client.Counter({
    name: 'carillon_h323_connections_closed_total',
    help: 'H.323 call signalling connections closed, by reason (peer-closed, local, framing-error, frame-deadline, idle, backpressure, socket-error)',
    labelNames: ['reason'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [reason, n] of Object.entries(source()?.closed ?? {})) this.inc({ reason }, n);
    },
  });
}
