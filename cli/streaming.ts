import path from 'node:path';
import client from 'prom-client';
import { scrapedCounter } from '../metrics/registry.ts';
import type { Logger } from 'pino';
import type { Clock } from '../common/clock.ts';
import { AppendFiles } from '../common/append-files.ts';
import type { ConfigSnapshot } from '../common/config-snapshot.ts';
import type { QualityContext } from '../media/quality/record.ts';
import { FileStreamSink } from '../media/stream/file-sink.ts';
import { fileEventTarget, StatusEvents, webhookTarget } from '../media/stream/status-events.ts';
import type { EventTarget } from '../media/stream/status-events.ts';
import { legKey, StreamingService } from '../media/stream/streaming.ts';
import type { RecordingSession } from '../signaling/calls/recording-call.ts';
import type { StreamLegMeta, StreamSink } from '../media/stream/streaming.ts';
import { KdsStreamSink, kinesisEventTarget } from '../media/stream/kds-sink.ts';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { KinesisVideoClient } from '@aws-sdk/client-kinesis-video';
import { KvsStreamSink } from '../media/stream/kvs-sink.ts';
import { MeetingRecorder } from '../media/stream/meeting-recorder.ts';
import type { MediaControl } from '../media/engine.ts';
import { isIP } from 'node:net';
import { awsRequestHandler } from '../common/aws-http.ts';
import type { NodeHttpHandler } from '@smithy/node-http-handler';
import type { NodeLookup, Resolver } from '../common/resolver.ts';
import { ConfigError } from '../common/errors.ts';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { connect as connectNats } from 'nats';
import type { NatsConnection } from 'nats';
import { eventBridgeTarget, natsTarget, snsTarget, sqsTarget } from '../media/stream/notify-targets.ts';
import type { StreamingEnvelope } from '../media/stream/status-events.ts';
import type { MediaSideName } from '../media/protocol.ts';
import type { CallSummary, HeaderField } from '../signaling/calls/call-summary.ts';
import { inviteHeadersOf, notificationAsked, retentionHoursOf, streamsCalls } from '../media/stream/voice-connector-streaming.ts';
import { streamLegMetaOf } from '../metrics/stream-meta.ts';
import type { CallEvents } from '../signaling/calls/call-events.ts';
import type { StreamingConfig } from './config.ts';

/**
 * Call audio streaming wired into the server: which calls stream (their voice connector's
 * streaming configuration, not Disabled), where (the configured sink: local files by default),
 * and where the status events go (`<data>/streams/events.jsonl`, signed webhooks).
 */
export interface CallStreaming {
  readonly service: StreamingService;
  readonly events: StatusEvents;
  /** For media anchoring: the fragment length of a call that streams, else undefined. */
  fragmentMsFor(ctx: QualityContext): number | undefined;
  /** The fragment length a voice connector streams in, undefined while its streaming is off. */
  fragmentMsOf(voiceConnectorId: string): number | undefined;
  onAudio(session: string, index: number, side: MediaSideName, timecodeMs: number, pcm: Int16Array): void;
  /** What the SIPREC recorder tells streaming. */
  readonly recording: {
    begin(s: RecordingSession): void;
    update(s: RecordingSession, fields: readonly HeaderField[]): void;
    end(s: RecordingSession): void;
  };
  /**
   * The meetings' recording (MeetingCalls' `recording`) over this service and sink, in the
   * streaming fragment length; its onMediaEvent takes the recorded mixes' audio events.
   */
  meetingRecorder(control: Pick<MediaControl, 'record'>, region: string): MeetingRecorder;
  /** Puts the events written to the events file so far on disk. */
  flush(): Promise<void>;
  /** Waits for every delivery under way, then flushes (shutdown). */
  close(): Promise<void>;
}

export interface CallStreamingDeps {
  readonly dataDir: string;
  readonly accountId: string;
  readonly config: StreamingConfig;
  readonly snapshot: () => ConfigSnapshot;
  readonly calls: CallEvents;
  readonly logger: Logger;
  readonly clock: Clock;
  /** How sink, webhook and AWS endpoint host names resolve (the process's Resolver); absent: the system's. */
  readonly lookup?: NodeLookup | undefined;
  /** Resolves NATS server names before connecting (nats.js takes no lookup); absent: nats.js asks the system. */
  readonly resolver?: Resolver | undefined;
}

/** Endpoint override, static credentials when given, and HTTP/1.1 (Kinesis-compatible servers often speak nothing else) resolving through `lookup`. */
function awsClientConfig(o: { readonly endpoint?: string | undefined; readonly accessKeyId?: string | undefined; readonly secretAccessKey?: string | undefined }, lookup: NodeLookup | undefined): {
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  requestHandler: NodeHttpHandler;
} {
  return {
    ...(o.endpoint === undefined ? {} : { endpoint: o.endpoint }),
    ...(o.accessKeyId === undefined || o.secretAccessKey === undefined ? {} : { credentials: { accessKeyId: o.accessKeyId, secretAccessKey: o.secretAccessKey } }),
    requestHandler: awsRequestHandler(lookup),
  };
}

export function createCallStreaming(d: CallStreamingDeps): CallStreaming {
  const dir = path.join(d.dataDir, 'streams');
  const files = new AppendFiles();
  const targets: EventTarget[] = [fileEventTarget(files, dir), ...d.config.webhooks.map((w) => webhookTarget({ url: w.url, secret: w.secret, lookup: d.lookup }))];
  const kds = d.config.kinesisData;
  let sink: StreamSink = new FileStreamSink({ dir, accountId: d.accountId, maxQueued: d.config.maxQueuedFragments });
  let kinesis: KinesisClient | undefined;
  let video: KinesisVideoClient | undefined;
  const kvs = d.config.kinesisVideo;
  if (d.config.sink === 'kinesis-video') {
    const client = new KinesisVideoClient({ region: kvs?.region ?? 'us-east-1', ...awsClientConfig(kvs ?? {}, d.lookup) });
    video = client;
    sink = new KvsStreamSink({ control: client, region: kvs?.region ?? 'us-east-1', credentials: () => client.config.credentials(), dataEndpoint: kvs?.dataEndpoint, maxQueued: d.config.maxQueuedFragments, lookup: d.lookup });
  }
  if (d.config.sink === 'kinesis-data') {
    if (kds === undefined) throw new ConfigError('invalid configuration: /streaming/sink kinesis-data needs /streaming/kinesisData');
    const client = new KinesisClient({ region: kds.region, ...awsClientConfig(kds, d.lookup) });
    kinesis = client;
    const base = { client, region: kds.region, accountId: d.accountId, maxQueued: d.config.maxQueuedFragments };
    sink = new KdsStreamSink({ ...base, streamName: kds.streamName });
    if (kds.eventsStreamName !== undefined) targets.push(kinesisEventTarget({ ...base, streamName: kds.eventsStreamName }));
  }
  // The voice connector's StreamingNotificationTargets pick among EventBridge, SNS and SQS for its
  // streaming events; meeting events go to every one configured (Chime sent them to the account's).
  const asked =
    (kind: 'EventBridge' | 'SNS' | 'SQS') =>
    (event: StreamingEnvelope): boolean =>
      event['detail-type'] === 'Chime Meeting State Change' || notificationAsked(d.snapshot(), String(event.detail.voiceConnectorId), kind);
  const clients: { destroy(): void }[] = [];
  const eb = d.config.eventBridge;
  if (eb !== undefined) {
    const client = new EventBridgeClient({ region: eb.region, ...awsClientConfig(eb, d.lookup) });
    clients.push(client);
    targets.push(eventBridgeTarget(client, eb.eventBusName, asked('EventBridge')));
  }
  const sns = d.config.sns;
  if (sns !== undefined) {
    const client = new SNSClient({ region: sns.region, ...awsClientConfig(sns, d.lookup) });
    clients.push(client);
    targets.push(snsTarget(client, sns.topicArn, asked('SNS')));
  }
  const sqs = d.config.sqs;
  if (sqs !== undefined) {
    const client = new SQSClient({ region: sqs.region, ...awsClientConfig(sqs, d.lookup) });
    clients.push(client);
    targets.push(sqsTarget(client, sqs.queueUrl, asked('SQS')));
  }
  let nats: NatsConnection | undefined;
  const natsReady =
    d.config.nats === undefined
      ? Promise.resolve()
      : connectNatsThrough(d.config.nats.servers, d.resolver).then(
          (nc) => void (nats = nc),
          (err: unknown) => d.logger.warn({ err }, 'NATS unreachable: streaming events not published there'),
        );
  if (d.config.nats !== undefined) targets.push(natsTarget(() => nats, d.config.nats.subject));
  const events = new StatusEvents(targets, (target, err) => d.logger.warn({ target, err }, 'streaming status event not delivered'));
  const service = new StreamingService({
    sink,
    events,
    accountId: d.accountId,
    logger: d.logger,
    nowMs: () => d.clock.nowMs(),
  });
  const fragmentMsOf = (vcId: string): number | undefined => (streamsCalls(d.snapshot(), vcId) ? d.config.fragmentMs : undefined);
  const retentionOf = (vcId: string): number => retentionHoursOf(d.snapshot(), vcId);
  // The latest summary of each streamed call: a leg's metadata is read when its first fragment is
  // stored, by then the callee's leg (after any failover) is the one that answered.
  const latest = new Map<string, CallSummary>();
  const metaOf = (callId: string, side: MediaSideName): StreamLegMeta | undefined => {
    const call = latest.get(callId);
    return call === undefined ? undefined : streamLegMetaOf(call, side, retentionOf);
  };
  d.calls.on((e) => {
    if (e.type === 'refused') return;
    if (latest.has(e.call.id)) latest.set(e.call.id, e.call);
    if (e.type === 'started') {
      const vc = e.call.trunk?.voiceConnectorId;
      if (vc === undefined || !streamsCalls(d.snapshot(), vc)) return;
      latest.set(e.call.id, e.call);
      const id = e.call.id;
      service.begin(id, (leg) => metaOf(id, leg.endsWith(':a') ? 'a' : 'b'));
    } else if (e.type === 'updated') {
      // A re-INVITE or UPDATE: UPDATED with its headers for each leg streaming.
      service.update(e.call.id, inviteHeadersOf(e.headers));
    } else if (e.type === 'quality') {
      // After the media session closed: every fragment has come.
      latest.delete(e.call.id);
      void service.end(e.call.id);
    }
  });
  return {
    service,
    events,
    fragmentMsFor: (ctx) => fragmentMsOf(ctx.voiceConnectorId),
    fragmentMsOf,
    onAudio: (session, index, side, timecodeMs, pcm) => service.audio(session, legKey(index, side), timecodeMs, pcm),
    recording: {
      begin(s) {
        const first = s.streams[0]?.index;
        service.begin(s.id, (leg) => {
          const st = s.streams.find((x) => legKey(x.index, 'a') === leg);
          if (st === undefined) return undefined;
          return {
            voiceConnectorId: s.trunk.voiceConnectorId,
            transactionId: s.transactionId,
            callId: s.callId,
            direction: s.trunk.direction,
            // The recorded call's first stream is taken for its caller's.
            isCaller: st.index === first,
            fromNumber: s.trunk.fromNumber,
            toNumber: s.trunk.toNumber,
            inviteHeaders: inviteHeadersOf(s.setupHeaders),
            region: s.trunk.region,
            retentionHours: retentionOf(s.trunk.voiceConnectorId),
            siprecMetadata: s.metadata,
            sdp: { mediaIndex: st.index, mediaLabel: st.label },
          };
        });
      },
      update: (s, fields) => service.update(s.id, inviteHeadersOf(fields), s.metadata),
      end: (s) => void service.end(s.id),
    },
    meetingRecorder: (control, region) => new MeetingRecorder({ service, control, fragmentMs: d.config.fragmentMs, region, logger: d.logger }),
    flush: () => files.flush(),
    async close() {
      await service.drain();
      await events.settled();
      await files.flush();
      kinesis?.destroy();
      video?.destroy();
      for (const c of clients) c.destroy();
      await natsReady;
      await nats?.drain().catch(() => undefined);
    },
  };
}

/** Streaming figures on /metrics. */
export function addStreamingMetrics(registry: client.Registry, s: CallStreaming): void {
  const c = s.service.counters;
  const counter = (name: string, help: string, value: () => number): void => scrapedCounter(registry, name, help, value);
  counter('carillon_streaming_legs_started_total', 'call legs whose audio stream STARTED', () => c.legsStarted);
  counter('carillon_streaming_legs_failed_total', 'call legs whose audio stream FAILED (sink error or back-pressure)', () => c.legsFailed);
  counter('carillon_streaming_fragments_total', 'audio fragments handed to the streaming sink', () => c.fragments);
  counter('carillon_streaming_fragments_dropped_total', 'audio fragments dropped because the sink fell behind', () => c.fragmentsDropped);
  new client.Counter({
    name: 'carillon_streaming_events_total',
    help: 'streaming status events by target and outcome (delivered, failed)',
    labelNames: ['target', 'outcome'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [target, n] of s.events.counters) {
        this.inc({ target, outcome: 'delivered' }, n.delivered);
        this.inc({ target, outcome: 'failed' }, n.failed);
      }
    },
  });
}

/** Connects to NATS at the servers' addresses as `resolver` finds them (the system's DNS when absent). */
async function connectNatsThrough(servers: string, resolver: Resolver | undefined): Promise<NatsConnection> {
  const addresses = await natsServers(servers, resolver);
  // nats.js given no server at all would try 127.0.0.1:4222: a list that resolved to nothing is a failure.
  if (addresses.length === 0) throw new Error(`no address for NATS servers ${servers}`);
  return connectNats({ servers: addresses, maxReconnectAttempts: -1, reconnectTimeWait: 1000, ...(resolver === undefined ? {} : { resolve: false, ignoreClusterUpdates: true }) });
}

/**
 * The NATS server list with every host name resolved through `resolver` (nats.js takes no
 * lookup and would ask the system's DNS itself): `nats://name:4222` becomes one entry per
 * address. A name that does not resolve is left out. The client then keeps to these addresses:
 * servers a cluster announces are not followed (they could name hosts the resolver never saw),
 * and a name's new addresses are seen at the next start.
 */
export async function natsServers(servers: string, resolver: Resolver | undefined): Promise<string[]> {
  const list = servers.split(',').map((x) => x.trim()).filter((x) => x.length > 0);
  if (resolver === undefined) return list;
  const out: string[] = [];
  for (const entry of list) {
    let url: URL;
    try {
      url = new URL(entry.includes('://') ? entry : `nats://${entry}`);
    } catch {
      continue;
    }
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const port = url.port === '' ? '4222' : url.port;
    const addresses = isIP(host) !== 0 ? [host] : (await Promise.all([resolver.addresses(host, 4), resolver.addresses(host, 6)])).flatMap((a) => a.records.map((r) => r.address));
    for (const a of addresses) out.push(`${url.protocol}//${a.includes(':') ? `[${a}]` : a}:${port}`);
  }
  return out;
}
