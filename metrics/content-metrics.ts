import client from 'prom-client';
import { scrapedCounter } from './registry.ts';

/** What the meetings' presentation content counts (signaling/calls/meeting-content.ts), read at scrape time. */
export interface ContentMetricSource {
  readonly conferences: number;
  readonly counters: {
    readonly floorGrants: number;
    readonly presenterChanges: number;
    readonly bfcpLinesAnswered: number;
    readonly bfcpLinesRefused: number;
    readonly h239Requests: number;
    readonly h239Denied: number;
  };
  /** BFCP connections open (TCP). */
  readonly bfcpConnections: number;
}

/** Presentation content: floors, grants, BFCP lines answered and refused, H.239 token requests. */
export function addContentMetrics(registry: client.Registry, source: () => ContentMetricSource | undefined): void {
  new client.Gauge({
    name: 'carillon_meeting_content_floors',
    help: "Meetings with a content floor (BFCP conference or H.239 token manager)",
    registers: [registry],
    collect() {
      this.set(source()?.conferences ?? 0);
    },
  });
  new client.Gauge({
    name: 'carillon_bfcp_connections',
    help: 'Open BFCP connections (TCP)',
    registers: [registry],
    collect() {
      this.set(source()?.bfcpConnections ?? 0);
    },
  });
  scrapedCounter(registry, 'carillon_meeting_content_grants_total', 'Times the content floor was granted (a participant began presenting)', () => source()?.counters.floorGrants ?? 0);
  scrapedCounter(registry, 'carillon_meeting_presenter_changes_total', 'Changes of presenter, nobody included', () => source()?.counters.presenterChanges ?? 0);
  scrapedCounter(registry, 'carillon_bfcp_lines_answered_total', "BFCP lines of participants' offers Carillon answered as floor control server", () => source()?.counters.bfcpLinesAnswered ?? 0);
  scrapedCounter(registry, 'carillon_bfcp_lines_refused_total', 'BFCP lines refused (port 0: TLS, no client role, no content line, through the IVR)', () => source()?.counters.bfcpLinesRefused ?? 0);
  scrapedCounter(registry, 'carillon_h239_token_requests_total', 'H.239 presentation-token requests from H.323 room systems', () => source()?.counters.h239Requests ?? 0);
  scrapedCounter(registry, 'carillon_h239_token_rejects_total', 'H.239 presentation-token requests rejected (someone else presented)', () => source()?.counters.h239Denied ?? 0);
}
