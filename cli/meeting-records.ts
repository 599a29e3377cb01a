import path from 'node:path';
import type client from 'prom-client';
import type { Logger } from 'pino';
import type { Clock, Timers } from '../common/clock.ts';
import type { NodeLookup } from '../common/resolver.ts';
import type { StatusEvents } from '../media/stream/status-events.ts';
import { CdrUploader } from '../metrics/cdr-upload.ts';
import { participantJournal, writeMeetingCdrs } from '../metrics/meeting-cdrs.ts';
import type { MeetingCdrWriter } from '../metrics/meeting-cdrs.ts';
import { addMeetingMetrics } from '../metrics/meeting-metrics.ts';
import { publishMeetingEvents } from '../metrics/meeting-notify.ts';
import { UsageReports } from '../metrics/usage-report.ts';
import type { UsageDirectory } from '../metrics/usage-report.ts';
import type { MeetingEvents } from '../signaling/calls/meeting-events.ts';

/**
 * Meeting records wired over one meeting event bus: a CDR per participant into the CDR spool
 * (`<data>/cdrs`, with its own crash journal `<data>/journal/meeting-cdrs.jsonl`), the meeting
 * metrics on the registry, meeting events on the streaming event targets, and the weekly usage
 * reports under `<data>/reports` (journal `<data>/journal/usage.jsonl`), put to a bucket when one
 * is set. The bridge's own metrics come with the registry (metrics/registry.ts, from MediaStatus).
 */
export interface MeetingRecordsDeps {
  readonly events: MeetingEvents;
  readonly dataDir: string;
  /** The AWS account id (12 digits) records are filed under. */
  readonly accountId: string;
  /** The region written in records and events (the media region). */
  readonly region: string;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly logger: Logger;
  /** The streaming status events' delivery (CallStreaming.events): its targets get the meeting events. */
  readonly statusEvents: StatusEvents;
  /** Told of each participant CDR once whole on disk (the CDR uploader's enqueue). */
  readonly onCdrWritten?: ((file: string) => void) | undefined;
  readonly usage: {
    /** Every account with its users (the store's). */
    readonly directory: UsageDirectory;
    /** The bucket the reports go to now; undefined: they stay under `<data>/reports`. */
    readonly bucket: () => string | undefined;
    readonly endpoint?: string | undefined;
    readonly lookup?: NodeLookup | undefined;
  };
}

export interface MeetingRecords {
  readonly cdrs: MeetingCdrWriter;
  readonly usage: UsageReports;
  /** Writes the CDRs of participants a crash interrupted, then journals anew: call before SIP listens. */
  startCdrs(): number;
  /** Makes any missed usage reports (the directory must answer by then) and starts their uploads; resolves once made. */
  startReports(): Promise<void>;
  /** The meeting metrics on /metrics (once per registry). */
  addMetrics(registry: client.Registry): void;
  close(): Promise<void>;
}

export function createMeetingRecords(d: MeetingRecordsDeps): MeetingRecords {
  const cdrs = writeMeetingCdrs(d.events, {
    dir: path.join(d.dataDir, 'cdrs'),
    accountId: d.accountId,
    region: d.region,
    clock: d.clock,
    logger: d.logger,
    onWritten: d.onCdrWritten,
    journal: participantJournal({ file: path.join(d.dataDir, 'journal', 'meeting-cdrs.jsonl'), clock: d.clock, timers: d.timers, logger: d.logger }),
  });
  const unpublish = publishMeetingEvents(d.events, d.statusEvents, { accountId: d.accountId, region: d.region, clock: d.clock });
  const reportsDir = path.join(d.dataDir, 'reports');
  const uploader = new CdrUploader({
    spool: reportsDir,
    bucket: d.usage.bucket,
    endpoint: d.usage.endpoint,
    lookup: d.usage.lookup,
    logger: d.logger,
    timers: d.timers,
    matches: (rel) => rel.endsWith('.csv'),
    contentType: 'text/csv',
  });
  const usage = new UsageReports(d.events, {
    dir: reportsDir,
    journalFile: path.join(d.dataDir, 'journal', 'usage.jsonl'),
    awsAccountId: d.accountId,
    directory: d.usage.directory,
    clock: d.clock,
    timers: d.timers,
    logger: d.logger,
    onWritten: (f) => uploader.enqueue(f),
  });
  return {
    cdrs,
    usage,
    startCdrs: () => cdrs.start(),
    async startReports() {
      uploader.start();
      await usage.start();
    },
    addMetrics(registry) {
      addMeetingMetrics(registry, d.events);
    },
    async close() {
      unpublish();
      cdrs.close();
      await usage.close();
      await uploader.close();
    },
  };
}
