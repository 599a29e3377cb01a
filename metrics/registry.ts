import client from 'prom-client';
import type { MediaStatus } from '../media/protocol.ts';
import { BRIDGE_TICK_LAG_BUCKETS_MS } from '../media/protocol.ts';

/**
 * The signaling edge's message counters, as metrics reads them (the edge's own counters object
 * has these and more; metrics names only what it reads, never the edge or a live call).
 */
export interface EdgeMessageCounters {
  readonly messagesReceived: number;
  readonly parseErrors: number;
  readonly unanswerable: number;
  readonly badRequestsAnswered: number;
  readonly rateLimited: number;
  readonly misroutedResponses: number;
}

/** The call layer's call counters, as metrics reads them. */
export interface CallCounters {
  readonly callsStarted: number;
  readonly callsAnswered: number;
  readonly callsFailed: number;
  readonly rejectedRequests: number;
}

/** What is in progress right now (gauges). */
export interface SignalingGauges {
  readonly calls: number;
  readonly dialogs: number;
  readonly transactions: number;
  readonly connections: number;
}

/** What the signaling metrics read at scrape time (STYLE.md 13: counters in objects, no labels from ids). */
export interface SignalingMetricsSource {
  readonly edge: EdgeMessageCounters;
  readonly calls: CallCounters;
  stats(): SignalingGauges;
  /** Stream transport counters (TCP and TLS summed). */
  streams(): { readonly refused: number; readonly deadlinesMissed: number };
  /** Messages never sent: their destination was no IP literal or had an unusable port. */
  unroutable(): number;
  /** Media refusals of signaling's own: descriptions with too many media lines, lines past a source's port share. */
  mediaRefusals(): { readonly tooManyMediaLines: number; readonly sourcePortLimit: number };
  /** Faults nothing handled where they happened (an unhandled rejection), logged and counted. */
  internalErrors(): number;
  /** The media workers' counters (asked of the workers at scrape time). */
  media?: () => Promise<MediaStatus>;
}

/**
 * A registry with process/event-loop metrics and Carillon's signaling metrics. One per server, so
 * several servers in one test process don't collide.
 */
/** A counter whose value is read from a source's own count at each scrape. */
export function scrapedCounter(registry: client.Registry, name: string, help: string, read: () => number): void {
  new client.Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

export function createMetricsRegistry(source: () => SignalingMetricsSource | undefined): client.Registry {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: 'carillon_' });
  const counter = (name: string, help: string, read: (s: SignalingMetricsSource) => number): void => {
    new client.Counter({
      name,
      help,
      registers: [registry],
      collect() {
        const s = source();
        if (s === undefined) return;
        this.reset();
        this.inc(read(s));
      },
    });
  };
  const gauge = (name: string, help: string, read: (s: SignalingMetricsSource) => number): void => {
    new client.Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        const s = source();
        if (s !== undefined) this.set(read(s));
      },
    });
  };
  counter('carillon_sip_messages_received_total', 'SIP messages received on every transport', (s) => s.edge.messagesReceived);
  counter('carillon_sip_parse_errors_total', 'SIP messages that failed to parse', (s) => s.edge.parseErrors);
  counter('carillon_sip_unanswerable_total', 'Unparseable messages dropped without an answer', (s) => s.edge.unanswerable);
  counter('carillon_sip_bad_requests_answered_total', 'Malformed requests answered with 4xx', (s) => s.edge.badRequestsAnswered);
  counter('carillon_sip_rate_limited_total', 'Requests refused by the per-source rate limit', (s) => s.edge.rateLimited);
  counter('carillon_sip_misrouted_responses_total', 'Responses dropped because their top Via was not ours', (s) => s.edge.misroutedResponses);
  counter('carillon_sip_connections_refused_total', 'TCP/TLS connections refused (per-source limit, failed TLS handshakes)', (s) => s.streams().refused);
  counter('carillon_sip_slow_connections_closed_total', 'TCP/TLS connections closed for not sending a whole message within sip.messageDeadlineSec', (s) => s.streams().deadlinesMissed);
  counter('carillon_sip_unroutable_total', 'SIP messages not sent because the destination a peer named was no IP address or had a port outside 1-65535', (s) => s.unroutable());
  counter('carillon_media_descriptions_refused_total', 'Session descriptions refused for carrying more than media.maxMediaLines media lines', (s) => s.mediaRefusals().tooManyMediaLines);
  counter('carillon_media_source_port_limit_total', 'Media lines refused because their source already held media.maxPortPairsPerSource port pairs', (s) => s.mediaRefusals().sourcePortLimit);
  counter('carillon_internal_errors_total', 'Faults no code handled where they happened (logged with their stack); 0 in a healthy server', (s) => s.internalErrors());
  counter('carillon_calls_started_total', 'Inbound calls accepted for routing', (s) => s.calls.callsStarted);
  counter('carillon_calls_answered_total', 'Calls answered by the callee', (s) => s.calls.callsAnswered);
  counter('carillon_calls_failed_total', 'Calls that ended with a failure final response to the caller', (s) => s.calls.callsFailed);
  counter('carillon_sip_requests_rejected_total', 'Requests Carillon answered with an error itself', (s) => s.calls.rejectedRequests);
  gauge('carillon_calls_active', 'Calls in progress', (s) => s.stats().calls);
  gauge('carillon_sip_dialogs_active', 'SIP dialogs in progress', (s) => s.stats().dialogs);
  gauge('carillon_sip_transactions_active', 'SIP transactions in progress', (s) => s.stats().transactions);
  gauge('carillon_sip_connections_active', 'Open TCP/TLS connections', (s) => s.stats().connections);
  addMediaMetrics(registry, () => source()?.media?.());
  return registry;
}

type MediaRead = (m: MediaStatus) => number;

/** A count as a number: anything else (absent, NaN) is 0. */
const finite = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/**
 * Media-plane metrics. The workers are asked once per scrape (the first metric's collect starts
 * the question; the others reuse the answer).
 */
function addMediaMetrics(registry: client.Registry, ask: () => Promise<MediaStatus> | undefined): void {
  let pending: Promise<MediaStatus | undefined> | undefined;
  const status = (): Promise<MediaStatus | undefined> => {
    pending ??= (ask() ?? Promise.resolve(undefined)).finally(() => {
      setImmediate(() => {
        pending = undefined;
      });
    });
    return pending;
  };
  const def = (kind: 'counter' | 'gauge', name: string, help: string, read: MediaRead): void => {
    if (kind === 'counter') {
      new client.Counter({
        name,
        help,
        registers: [registry],
        async collect() {
          const m = await status();
          if (m === undefined) return;
          this.reset();
          this.inc(read(m));
        },
      });
    } else {
      new client.Gauge({
        name,
        help,
        registers: [registry],
        async collect() {
          const m = await status();
          if (m !== undefined) this.set(read(m));
        },
      });
    }
  };
  def('gauge', 'carillon_media_port_pairs_in_use', 'RTP/RTCP port pairs held by calls', (m) => m.portPairsInUse);
  def('gauge', 'carillon_media_port_pairs_capacity', 'RTP/RTCP port pairs in the configured range', (m) => m.portPairsCapacity);
  def('counter', 'carillon_media_ports_skipped_total', 'Port pairs skipped because another process held them', (m) => m.portsSkipped);
  def('gauge', 'carillon_media_sessions_active', 'Calls with anchored media', (m) => m.sessions);
  def('gauge', 'carillon_media_streams_active', 'Anchored media streams (m-lines)', (m) => m.streams);
  def('counter', 'carillon_media_packets_relayed_total', 'RTP packets relayed', (m) => m.packetsRelayed);
  def('counter', 'carillon_media_bytes_relayed_total', 'RTP bytes relayed', (m) => m.bytesRelayed);
  def('counter', 'carillon_media_packets_dropped_total', 'Datagrams dropped (not RTP/RTCP, from a stranger, or no destination yet)', (m) => m.packetsDropped);
  def('counter', 'carillon_media_packets_unobserved_total', 'RTP packets the native mover forwarded while its header ring was full (moved, not counted in loss or jitter)', (m) => m.packetsUnobserved);
  def('counter', 'carillon_media_latch_events_total', 'Endpoints whose media source was learnt or relearnt (symmetric RTP)', (m) => m.latchEvents);
  def('counter', 'carillon_media_timeouts_total', 'Calls ended because no RTP flowed for the media timeout', (m) => m.mediaTimeouts);
  def('counter', 'carillon_media_dtmf_events_total', 'RFC 4733 DTMF digits detected', (m) => m.dtmfEvents);
  def('counter', 'carillon_media_rtcp_reports_sent_total', "Carillon's own RTCP reports sent", (m) => m.rtcpSent);
  // Bridge figures read as 0 where a worker's status has none (a media engine that sums no bridge counters).
  def('gauge', 'carillon_media_bridges_active', 'Audio bridges (meetings) with participants, on every media worker', (m) => finite(m.bridges));
  def('gauge', 'carillon_media_bridge_participants', "Participants in the audio bridges' mixes", (m) => finite(m.bridgeParticipants));
  def('counter', 'carillon_media_bridge_tick_cpu_seconds_total', "CPU time the bridges' 20 ms ticks took (decode, mix, encode, send): the mixer's CPU", (m) => finite(m.bridgeTickUs) / 1e6);
  def('gauge', 'carillon_media_video_participants', "Meeting participants with video in the switch, on every media worker", (m) => finite(m.videoParticipants));
  def('counter', 'carillon_media_video_packets_forwarded_total', 'Video packets the meeting switch forwarded to receivers', (m) => finite(m.videoPacketsForwarded));
  def('counter', 'carillon_media_video_switches_total', "Times a receiver's picture moved to another sender (at a key frame)", (m) => finite(m.videoSwitches));
  def('counter', 'carillon_media_video_key_frame_requests_total', 'Key-frame requests Carillon sent video senders (RTCP PLI/FIR or SIP INFO)', (m) => finite(m.videoKeyFrameRequests));
  def('counter', 'carillon_media_video_key_frame_requests_suppressed_total', 'Key-frame requests held back by the per-sender rate limit (PLI storms)', (m) => finite(m.videoKeyFrameRequestsSuppressed));
  def('counter', 'carillon_media_video_invalid_packets_total', 'Video packets not forwarded because their payload was malformed (broken NAL units)', (m) => finite(m.videoInvalidPackets));
  registry.registerMetric(
    new CountsHistogram({
      name: 'carillon_media_bridge_tick_lag_seconds',
      help: 'How late each audio bridge tick ran after its due time (the 20 ms mixing clock)',
      boundsSeconds: BRIDGE_TICK_LAG_BUCKETS_MS.map((ms) => ms / 1000),
      read: async () => {
        const m = await status();
        const counts: unknown = m?.bridgeTickLag;
        return m === undefined ? undefined : { counts: Array.isArray(counts) ? counts.map(finite) : [], sum: finite(m.bridgeTickLagSumMs) / 1000 };
      },
    }),
  );
}

/** Per-bucket counts (not cumulative: one per bound, then the rest above the last) and their sum. */
export interface BucketCounts {
  readonly counts: readonly number[];
  readonly sum: number;
}

/**
 * A histogram whose buckets are counted elsewhere (the media workers count their ticks per
 * bucket; prom-client can't be told a count, only observations): each scrape reads the counts and
 * writes them out cumulative, with `+Inf`, `_sum` and `_count`. Counts it is given past the
 * bounds' number (plus the rest) are folded into `+Inf`; fewer are taken as 0.
 */
export class CountsHistogram extends client.Histogram {
  readonly #name: string;
  readonly #bounds: readonly number[];
  readonly #read: () => Promise<BucketCounts | undefined>;
  /** An empty histogram of the same name: the metric object's shape (its type, aggregator) as prom-client makes it. */
  readonly #shape: client.Histogram;

  constructor(o: { readonly name: string; readonly help: string; readonly boundsSeconds: readonly number[]; readonly read: () => Promise<BucketCounts | undefined> }) {
    super({ name: o.name, help: o.help, buckets: [...o.boundsSeconds], registers: [] });
    this.#name = o.name;
    this.#bounds = o.boundsSeconds;
    this.#read = o.read;
    this.#shape = new client.Histogram({ name: o.name, help: o.help, buckets: [...o.boundsSeconds], registers: [] });
  }

  override async get(): Promise<client.MetricObjectWithValues<client.MetricValueWithName<string>>> {
    const c = await this.#read();
    const values: client.MetricValueWithName<string>[] = [];
    if (c !== undefined) {
      let acc = 0;
      for (let i = 0; i < this.#bounds.length; i++) {
        acc += c.counts[i] ?? 0;
        values.push({ metricName: `${this.#name}_bucket`, labels: { le: this.#bounds[i] as number }, value: acc });
      }
      for (let i = this.#bounds.length; i < c.counts.length; i++) acc += c.counts[i] ?? 0;
      values.push({ metricName: `${this.#name}_bucket`, labels: { le: '+Inf' }, value: acc });
      values.push({ metricName: `${this.#name}_sum`, labels: {}, value: c.sum });
      values.push({ metricName: `${this.#name}_count`, labels: {}, value: acc });
    }
    return { ...(await this.#shape.get()), values };
  }

  /** What the registry's text output reads (prom-client prefers it to get()). */
  getForPromString(): Promise<client.MetricObjectWithValues<client.MetricValueWithName<string>>> {
    return this.get();
  }
}
