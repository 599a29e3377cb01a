import type { EndpointSnapshot, MediaSideName, SessionSnapshot, SideSnapshot } from '../protocol.ts';
import { impairmentOf, mos } from './mos.ts';

/**
 * Media quality records in Chime's layout (SPEC.md §3): one per call every minute and one at call
 * end, for the call's audio. "cust" is the customer's side (the PBX or room system; for calls
 * without a voice connector, the side that called in), "rem" the other side. Counts cover the
 * interval since the previous record; jitter is the RFC 3550 running estimate in µs; RTT in µs is
 * the latest measured; a figure Carillon cannot know (the far end sent no RTCP) is null, never a
 * made-up 0.
 */
export interface MediaQualityRecord {
  voice_connector_id: string;
  event_timestamp: number;
  call_id: string;
  from_sip_user: string;
  from_country: string | null;
  to_sip_user: string;
  to_country: string | null;
  endpoint_id: string;
  aws_region: string;
  cust2vc_rtp_packets: number;
  cust2vc_rtp_bytes: number;
  cust2vc_rtcp_packets: number;
  cust2vc_rtcp_bytes: number;
  cust2vc_packets_lost: number;
  cust2vc_jitter: number;
  vc2cust_rtp_packets: number;
  vc2cust_rtp_bytes: number;
  vc2cust_rtcp_packets: number;
  vc2cust_rtcp_bytes: number;
  vc2cust_packets_lost: number | null;
  vc2cust_jitter: number | null;
  rtt_btwn_vc_and_cust: number | null;
  mos_btwn_vc_and_cust: number | null;
  rem2vc_rtp_packets: number;
  rem2vc_rtp_bytes: number;
  rem2vc_rtcp_packets: number;
  rem2vc_rtcp_bytes: number;
  rem2vc_packets_lost: number;
  rem2vc_jitter: number;
  vc2rem_rtp_packets: number;
  vc2rem_rtp_bytes: number;
  vc2rem_rtcp_packets: number;
  vc2rem_rtcp_bytes: number;
  vc2rem_packets_lost: number | null;
  vc2rem_jitter: number | null;
  rtt_btwn_vc_and_rem: number | null;
  mos_btwn_vc_and_rem: number | null;
  /** Carillon's addition: true on the record written when the call ended. */
  call_ended: boolean;
  /** Carillon's additions on a meeting participant's video record (absent on audio records): the stream is video, and over the interval its key frames, key-frame requests it made and Carillon made of it, picture switches. */
  media_type?: 'video';
  video_key_frames?: number;
  video_key_frame_requests_received?: number;
  video_key_frame_requests_sent?: number;
  video_switches?: number;
  video_invalid_packets?: number;
}

export interface QualityContext {
  readonly voiceConnectorId: string;
  readonly callId: string;
  readonly fromUser: string;
  readonly fromCountry: string | null;
  readonly toUser: string;
  readonly toCountry: string | null;
  readonly endpointId: string;
  readonly region: string;
  readonly custSide: MediaSideName;
}

/** The two connected endpoints of one stream, `a` and `b` as they were connected. */
export interface ConnectedPair {
  readonly a: EndpointSnapshot;
  readonly b: EndpointSnapshot;
}

/**
 * The stream a record describes (Chime's records were per call, for its audio): the first
 * connection of two audio endpoints, else the first connection.
 */
export function audioStream(s: SessionSnapshot | undefined): ConnectedPair | undefined {
  if (s === undefined) return undefined;
  let first: ConnectedPair | undefined;
  for (const c of s.connections) {
    const a = s.endpoints.find((e) => e.id === c.a);
    const b = s.endpoints.find((e) => e.id === c.b);
    if (a === undefined || b === undefined) continue;
    if (a.kind === 'audio' && b.kind === 'audio') return { a, b };
    first ??= { a, b };
  }
  return first;
}

const ZERO: SideSnapshot = {
  rtpPackets: 0,
  rtpBytes: 0,
  rtcpPackets: 0,
  rtcpBytes: 0,
  packetsExpected: 0,
  packetsLost: 0,
  jitterUs: 0,
  sentRtpPackets: 0,
  sentRtpBytes: 0,
  sentRtcpPackets: 0,
  sentRtcpBytes: 0,
  reportedLost: null,
  reportedFractionLost: null,
  reportedJitterUs: null,
  rttUs: null,
  dropped: 0,
  unobserved: 0,
  latched: false,
  relatches: 0,
  duplicates: 0,
};

interface LegFigures {
  in_packets: number;
  in_bytes: number;
  in_rtcp_packets: number;
  in_rtcp_bytes: number;
  in_lost: number;
  in_jitter: number;
  out_packets: number;
  out_bytes: number;
  out_rtcp_packets: number;
  out_rtcp_bytes: number;
  out_lost: number | null;
  out_jitter: number | null;
  rtt: number | null;
  mos: number | null;
}

/**
 * One leg's figures over the interval from `prev` to `cur` (both cumulative). The MOS scores the
 * leg's codec (`codec`, from the endpoint's SDP; G.711 when unknown).
 */
export function legFigures(cur: SideSnapshot & { readonly codec?: string | null }, prev: SideSnapshot = ZERO): LegFigures {
  const expected = cur.packetsExpected - prev.packetsExpected;
  const lost = Math.max(0, cur.packetsLost - prev.packetsLost);
  const outLost = cur.reportedLost === null ? null : Math.max(0, cur.reportedLost - (prev.reportedLost ?? 0));
  // Loss toward Carillon is measured; loss away from it only when the endpoint reports it.
  const inLossPct = expected > 0 ? (100 * lost) / expected : 0;
  const outLossPct = cur.reportedFractionLost === null ? 0 : (100 * cur.reportedFractionLost) / 256;
  const jitter = Math.max(cur.jitterUs, cur.reportedJitterUs ?? 0);
  const measured = expected > 0 || cur.reportedFractionLost !== null;
  return {
    in_packets: cur.rtpPackets - prev.rtpPackets,
    in_bytes: cur.rtpBytes - prev.rtpBytes,
    in_rtcp_packets: cur.rtcpPackets - prev.rtcpPackets,
    in_rtcp_bytes: cur.rtcpBytes - prev.rtcpBytes,
    in_lost: lost,
    in_jitter: cur.jitterUs,
    out_packets: cur.sentRtpPackets - prev.sentRtpPackets,
    out_bytes: cur.sentRtpBytes - prev.sentRtpBytes,
    out_rtcp_packets: cur.sentRtcpPackets - prev.sentRtcpPackets,
    out_rtcp_bytes: cur.sentRtcpBytes - prev.sentRtcpBytes,
    out_lost: outLost,
    out_jitter: cur.reportedJitterUs,
    rtt: cur.rttUs,
    mos: measured ? mos({ lossPct: Math.max(inLossPct, outLossPct), jitterUs: jitter, rttUs: cur.rttUs ?? 0 }, impairmentOf(cur.codec ?? undefined)) : null,
  };
}

export function qualityRecord(ctx: QualityContext, nowMs: number, cur: SessionSnapshot | undefined, prev: SessionSnapshot | undefined, ended: boolean): MediaQualityRecord {
  const c = audioStream(cur);
  const p = audioStream(prev);
  const remSide: MediaSideName = ctx.custSide === 'a' ? 'b' : 'a';
  return recordOf(ctx, nowMs, legFigures(c?.[ctx.custSide] ?? ZERO, p?.[ctx.custSide]), legFigures(c?.[remSide] ?? ZERO, p?.[remSide]), ended);
}

/**
 * A meeting participant's record: the participant is the customer side ("cust", its endpoint's
 * figures); the remote side is the meeting itself — Carillon — so its fields are zero.
 */
export function participantQualityRecord(ctx: QualityContext, nowMs: number, cur: EndpointSnapshot, prev: EndpointSnapshot | undefined, ended: boolean): MediaQualityRecord {
  return recordOf(ctx, nowMs, legFigures(cur, prev), legFigures(ZERO), ended);
}

/**
 * A meeting participant's video record: the same fields as its audio record for its video
 * endpoint (no MOS: the E-model scores speech), with the video figures over the interval.
 */
export function videoQualityRecord(ctx: QualityContext, nowMs: number, cur: EndpointSnapshot, prev: EndpointSnapshot | undefined, ended: boolean): MediaQualityRecord {
  const base = recordOf(ctx, nowMs, { ...legFigures(cur, prev), mos: null }, legFigures(ZERO), ended);
  const v = cur.video;
  const w = prev?.video;
  const d = (k: 'keyFrames' | 'keyFrameRequestsReceived' | 'keyFrameRequestsSent' | 'switches' | 'invalidPackets'): number => Math.max(0, (v?.[k] ?? 0) - (w?.[k] ?? 0));
  return {
    ...base,
    media_type: 'video',
    video_key_frames: d('keyFrames'),
    video_key_frame_requests_received: d('keyFrameRequestsReceived'),
    video_key_frame_requests_sent: d('keyFrameRequestsSent'),
    video_switches: d('switches'),
    video_invalid_packets: d('invalidPackets'),
  };
}

function recordOf(ctx: QualityContext, nowMs: number, cust: LegFigures, rem: LegFigures, ended: boolean): MediaQualityRecord {
  return {
    voice_connector_id: ctx.voiceConnectorId,
    event_timestamp: nowMs,
    call_id: ctx.callId,
    from_sip_user: ctx.fromUser,
    from_country: ctx.fromCountry,
    to_sip_user: ctx.toUser,
    to_country: ctx.toCountry,
    endpoint_id: ctx.endpointId,
    aws_region: ctx.region,
    cust2vc_rtp_packets: cust.in_packets,
    cust2vc_rtp_bytes: cust.in_bytes,
    cust2vc_rtcp_packets: cust.in_rtcp_packets,
    cust2vc_rtcp_bytes: cust.in_rtcp_bytes,
    cust2vc_packets_lost: cust.in_lost,
    cust2vc_jitter: cust.in_jitter,
    vc2cust_rtp_packets: cust.out_packets,
    vc2cust_rtp_bytes: cust.out_bytes,
    vc2cust_rtcp_packets: cust.out_rtcp_packets,
    vc2cust_rtcp_bytes: cust.out_rtcp_bytes,
    vc2cust_packets_lost: cust.out_lost,
    vc2cust_jitter: cust.out_jitter,
    rtt_btwn_vc_and_cust: cust.rtt,
    mos_btwn_vc_and_cust: cust.mos,
    rem2vc_rtp_packets: rem.in_packets,
    rem2vc_rtp_bytes: rem.in_bytes,
    rem2vc_rtcp_packets: rem.in_rtcp_packets,
    rem2vc_rtcp_bytes: rem.in_rtcp_bytes,
    rem2vc_packets_lost: rem.in_lost,
    rem2vc_jitter: rem.in_jitter,
    vc2rem_rtp_packets: rem.out_packets,
    vc2rem_rtp_bytes: rem.out_bytes,
    vc2rem_rtcp_packets: rem.out_rtcp_packets,
    vc2rem_rtcp_bytes: rem.out_rtcp_bytes,
    vc2rem_packets_lost: rem.out_lost,
    vc2rem_jitter: rem.out_jitter,
    rtt_btwn_vc_and_rem: rem.rtt,
    mos_btwn_vc_and_rem: rem.mos,
    call_ended: ended,
  };
}

