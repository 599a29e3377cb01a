import client from 'prom-client';
import type { MediaQualityRecord } from '../media/quality/record.ts';
import type { TrunkCall } from '../common/route.ts';
import type { CallEvent, CallEvents } from '../signaling/calls/call-events.ts';

/**
 * Chime's Voice Connector metrics (SPEC.md §8) in Prometheus naming, labelled by
 * `voice_connector_id` and `region` (the README maps each to its Chime name). Termination calls
 * (PBX → phone network) are Outbound, origination calls Inbound, as Chime counted them.
 */
type Dir = 'inbound' | 'outbound';

/** A configured voice connector as its series are labelled. */
export interface VoiceConnectorLabels {
  readonly voice_connector_id: string;
  readonly region: string;
}

/**
 * Every configured voice connector's series exist from the first scrape, at 0: a dashboard shows
 * "0 failures", not "No data", before the first failure, and an inbound-only voice connector is
 * listed like any other. `carillon_voice_connector_info{voice_connector_id, region} 1` names the
 * configured ones (the dashboard's picker reads it). Registered before the other voice connector
 * metrics, so its scrape-time pass creates their series before they are written out.
 */
export class VoiceConnectorSeries {
  readonly #zeroers: ((l: VoiceConnectorLabels) => void)[] = [];
  readonly #done = new Set<string>();

  constructor(registry: client.Registry, configured: () => Iterable<VoiceConnectorLabels>) {
    const ensure = (l: VoiceConnectorLabels): void => this.#ensure(l);
    new client.Gauge({
      name: 'carillon_voice_connector_info',
      help: 'Configured voice connectors (1 each), with their region',
      labelNames: ['voice_connector_id', 'region'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const l of configured()) {
          this.set({ voice_connector_id: l.voice_connector_id, region: l.region }, 1);
          ensure(l);
        }
      },
    });
  }

  /**
   * Adds what creates one voice connector's series of a metric at 0; called while the registry is
   * put together, before the first scrape (each voice connector is zeroed once: a histogram's
   * zero() would otherwise wipe what it has observed).
   */
  add(zero: (l: VoiceConnectorLabels) => void): void {
    this.#zeroers.push(zero);
  }

  #ensure(l: VoiceConnectorLabels): void {
    const key = `${l.voice_connector_id}\u0000${l.region}`;
    if (this.#done.has(key)) return;
    this.#done.add(key);
    for (const z of this.#zeroers) z(l);
  }
}

const SIP_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx', '6xx'] as const;

export function addVoiceConnectorMetrics(registry: client.Registry, events: CallEvents, series?: VoiceConnectorSeries): void {
  const labelNames = ['voice_connector_id', 'region'] as const;
  const counter = (name: string, help: string): client.Counter<(typeof labelNames)[number]> => new client.Counter({ name, help, labelNames, registers: [registry] });
  const per = (dir: Dir) => ({
    attempts: counter(`carillon_voice_connector_${dir}_call_attempts_total`, `${dir === 'inbound' ? 'Origination' : 'Termination'} calls offered to the voice connector (Chime ${dir === 'inbound' ? 'Inbound' : 'Outbound'}CallAttempts)`),
    failures: counter(`carillon_voice_connector_${dir}_call_failures_total`, `${dir === 'inbound' ? 'Origination' : 'Termination'} calls that ended without an answer (Chime ${dir === 'inbound' ? 'Inbound' : 'Outbound'}CallFailures)`),
    answered: counter(`carillon_voice_connector_${dir}_calls_answered_total`, `${dir === 'inbound' ? 'Origination' : 'Termination'} calls answered (Chime ${dir === 'inbound' ? 'Inbound' : 'Outbound'}CallsAnswered)`),
    active: new client.Gauge({ name: `carillon_voice_connector_${dir}_calls_active`, help: `${dir === 'inbound' ? 'Origination' : 'Termination'} calls in progress (Chime ${dir === 'inbound' ? 'Inbound' : 'Outbound'}CallsActive)`, labelNames, registers: [registry] }),
  });
  const inbound = per('inbound');
  const outbound = per('outbound');
  const throttles = counter('carillon_voice_connector_throttles_total', 'Termination calls refused by the voice connector CpsLimit (Chime Throttles)');
  const sipCodes = new client.Counter({
    name: 'carillon_voice_connector_sip_responses_total',
    help: 'Final SIP responses the voice connector gave its calls, by class (Chime Sip1xxCodes … Sip6xxCodes)',
    labelNames: [...labelNames, 'class'] as const,
    registers: [registry],
  });
  series?.add((l) => {
    for (const d of [inbound, outbound]) {
      d.attempts.inc(l, 0);
      d.failures.inc(l, 0);
      d.answered.inc(l, 0);
      d.active.inc(l, 0);
    }
    throttles.inc(l, 0);
    for (const c of SIP_CLASSES) sipCodes.inc({ ...l, class: c }, 0);
  });
  const labels = (t: TrunkCall): { voice_connector_id: string; region: string } => ({ voice_connector_id: t.voiceConnectorId, region: t.region });
  const dir = (t: TrunkCall): ReturnType<typeof per> => (t.direction === 'Inbound' ? inbound : outbound);
  const code = (t: TrunkCall, status: number): void => {
    if (status >= 100 && status < 700) sipCodes.inc({ ...labels(t), class: `${Math.floor(status / 100)}xx` });
  };
  // The voice connector a call was counted active on (group failover may move the call to another).
  const activeOn = new Map<string, TrunkCall>();

  events.on((e: CallEvent) => {
    switch (e.type) {
      case 'refused': {
        const t = e.trunk;
        // A digest challenge is part of the exchange; the challenged request comes again.
        if (t === undefined || e.status === 407 || e.status === 401) return;
        dir(t).attempts.inc(labels(t));
        dir(t).failures.inc(labels(t));
        if (e.throttled) throttles.inc(labels(t));
        code(t, e.status);
        return;
      }
      case 'started': {
        const t = e.call.trunk;
        if (t === undefined) return;
        dir(t).attempts.inc(labels(t));
        dir(t).active.inc(labels(t));
        activeOn.set(e.call.id, t);
        return;
      }
      case 'ringing': {
        if (e.call.trunk !== undefined) code(e.call.trunk, e.status);
        return;
      }
      case 'answered': {
        const t = e.call.trunk;
        if (t !== undefined) dir(t).answered.inc(labels(t));
        return;
      }
      case 'ended': {
        const t = e.call.trunk;
        const was = activeOn.get(e.call.id);
        if (t === undefined || was === undefined) return;
        activeOn.delete(e.call.id);
        dir(was).active.dec(labels(was));
        if (e.call.answeredMs === undefined) dir(t).failures.inc(labels(t));
        if (e.status !== undefined) code(t, e.status);
        return;
      }
    }
  });
}

/** `carillon_route_up{target="host:port:PROTOCOL"}`: 1 while an origination route or carrier answers OPTIONS pings. */
export function addRouteHealthMetrics(registry: client.Registry, list: () => readonly { readonly target: string; readonly up: boolean }[]): void {
  new client.Gauge({
    name: 'carillon_route_up',
    help: 'Origination routes and carriers: 1 while they answer SIP OPTIONS pings, 0 after 3 missed pings (skipped by routing)',
    labelNames: ['target'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const r of list()) this.set({ target: r.target }, r.up ? 1 : 0);
    },
  });
}

/**
 * Chime's per voice connector media metrics from the media quality records (one per call each
 * interval and at call end): CustomerToVc/VcToCustomer/RemoteToVc/VcToRemote × RtpPackets,
 * RtpBytes, RtcpPackets, RtcpBytes, PacketsLost as counters with a `direction` label; Jitter,
 * RTTBetweenVcAnd{Customer,Remote} and MOSBetweenVcAnd{Customer,Remote} as histograms. A figure
 * the record does not know (null) is not observed.
 */
export function addVoiceConnectorMediaMetrics(registry: client.Registry, onRecord: (listener: (r: MediaQualityRecord) => void) => void, series?: VoiceConnectorSeries): void {
  const labelNames = ['voice_connector_id', 'region', 'direction'] as const;
  const counter = (name: string, help: string): client.Counter<(typeof labelNames)[number]> => new client.Counter({ name, help, labelNames, registers: [registry] });
  const rtpPackets = counter('carillon_voice_connector_rtp_packets_total', 'RTP packets by direction (Chime CustomerToVcRtpPackets, VcToCustomerRtpPackets, RemoteToVcRtpPackets, VcToRemoteRtpPackets)');
  const rtpBytes = counter('carillon_voice_connector_rtp_bytes_total', 'RTP bytes by direction (Chime …RtpBytes)');
  const rtcpPackets = counter('carillon_voice_connector_rtcp_packets_total', 'RTCP packets by direction (Chime …RtcpPackets)');
  const rtcpBytes = counter('carillon_voice_connector_rtcp_bytes_total', 'RTCP bytes by direction (Chime …RtcpBytes)');
  const lost = counter('carillon_voice_connector_packets_lost_total', 'RTP packets lost by direction, as measured (toward Carillon) or reported in RTCP (away from it) (Chime …PacketsLost)');
  const jitter = new client.Histogram({
    name: 'carillon_voice_connector_jitter_seconds',
    help: 'RFC 3550 interarrival jitter by direction, one observation per quality record (Chime …Jitter)',
    labelNames,
    buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2],
    registers: [registry],
  });
  const sideLabels = ['voice_connector_id', 'region', 'side'] as const;
  const bySide = (name: string, help: string, buckets: number[]): client.Histogram<(typeof sideLabels)[number]> => new client.Histogram({ name, help, labelNames: sideLabels, buckets, registers: [registry] });
  const rtt = bySide('carillon_voice_connector_rtt_seconds', 'Round-trip time between Carillon and the customer or the remote side (Chime RTTBetweenVcAndCustomer, RTTBetweenVcAndRemote)', [0.005, 0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 1]);
  const mosHist = bySide('carillon_voice_connector_mos', 'E-model MOS between Carillon and the customer or the remote side (Chime MOSBetweenVcAndCustomer, MOSBetweenVcAndRemote)', [1, 2, 3, 3.5, 3.8, 4, 4.2, 4.3, 4.4, 4.5]);
  type Prefix = 'cust2vc' | 'vc2cust' | 'rem2vc' | 'vc2rem';
  const DIRECTIONS: readonly [Prefix, string][] = [
    ['cust2vc', 'customer_to_vc'],
    ['vc2cust', 'vc_to_customer'],
    ['rem2vc', 'remote_to_vc'],
    ['vc2rem', 'vc_to_remote'],
  ];
  series?.add((base) => {
    for (const [, direction] of DIRECTIONS) {
      const l = { ...base, direction };
      for (const c of [rtpPackets, rtpBytes, rtcpPackets, rtcpBytes, lost]) c.inc(l, 0);
      jitter.zero(l);
    }
    for (const side of ['customer', 'remote']) {
      rtt.zero({ ...base, side });
      mosHist.zero({ ...base, side });
    }
  });
  onRecord((r) => {
    if (r.voice_connector_id === 'default') return;
    const base = { voice_connector_id: r.voice_connector_id, region: r.aws_region };
    for (const [p, direction] of DIRECTIONS) {
      const l = { ...base, direction };
      rtpPackets.inc(l, r[`${p}_rtp_packets`]);
      rtpBytes.inc(l, r[`${p}_rtp_bytes`]);
      rtcpPackets.inc(l, r[`${p}_rtcp_packets`]);
      rtcpBytes.inc(l, r[`${p}_rtcp_bytes`]);
      const lostValue = r[`${p}_packets_lost`];
      if (lostValue !== null && lostValue > 0) lost.inc(l, lostValue);
      const j = r[`${p}_jitter`];
      if (j !== null) jitter.observe(l, j / 1e6);
    }
    for (const [suffix, side] of [['cust', 'customer'], ['rem', 'remote']] as const) {
      const rttUs = r[`rtt_btwn_vc_and_${suffix}`];
      const mos = r[`mos_btwn_vc_and_${suffix}`];
      if (rttUs !== null) rtt.observe({ ...base, side }, rttUs / 1e6);
      if (mos !== null) mosHist.observe({ ...base, side }, mos);
    }
  });
}
