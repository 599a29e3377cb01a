/**
 * H.264 over H.323 (ITU-T H.241 §8): the genericVideoCapability Carillon advertises and reads, and
 * its SDP form (RFC 6184). Pure functions: no state, no PER.
 *
 * H.241 §8.3.1: "capabilityIdentifier … standard {itu-t (0) recommendation (0) h (8) 241
 * specificVideoCodecCapabilities (0) h264 (0) generic-capabilities (1)}", with the collapsing
 * parameters Profile (ParameterIdentifier 41, a booleanArray: Baseline 64, Main 32, Extended 16,
 * High 8, …) and Level (42, unsignedMin: the H.241 level value, 15 for level 1 … 71 for 3.1, 113 for
 * 5.1), then optional CustomMaxMBPS (3), CustomMaxFS (4), … Peers (h323plus `capabilityReorder`)
 * expect 41 and 42 first, in that order. maxBitRate is in units of 100 bit/s.
 */
import type { GenericCapability, GenericParameter, H2250LogicalChannelParameters, TerminalCapabilitySet, VideoCapability } from '../asn/h245.ts';
import { UNKNOWN } from '../per/index.ts';

/** {0 0 8 241 0 0 1}: H.264 generic capabilities (H.241 §8.3.1). */
export const H264_CAPABILITY_OID: readonly number[] = [0, 0, 8, 241, 0, 0, 1];
/** RTP payload descriptors of H.241 §8.1 (mediaPacketization.rtpPayloadType): single NAL unit mode, non-interleaved mode. */
export const H264_SINGLE_NAL_OID: readonly number[] = [0, 0, 8, 241, 0, 0, 0, 0];
export const H264_NON_INTERLEAVED_OID: readonly number[] = [0, 0, 8, 241, 0, 0, 0, 1];

/** H.241 Table 8-2 parameter identifiers. */
export const H241_PARAMETER = { profile: 41, level: 42, customMaxMbps: 3, customMaxFs: 4 } as const;
/** H.241 Profile booleanArray bits. */
export const H241_PROFILE = { baseline: 64, main: 32, extended: 16, high: 8 } as const;

/** level_idc (H.264 Table A-1; 9 stands for level 1b) ↔ the H.241 Level value (Table 8-4). */
const LEVELS: readonly (readonly [levelIdc: number, h241: number])[] = [
  [10, 15],
  [9, 19],
  [11, 22],
  [12, 29],
  [13, 36],
  [20, 43],
  [21, 50],
  [22, 57],
  [30, 64],
  [31, 71],
  [32, 78],
  [40, 85],
  [41, 92],
  [42, 99],
  [50, 106],
  [51, 113],
];

/** Highest level Carillon takes and advertises: 3.1 (1280×720 at 30 frames/s), the meetings' own ceiling. */
export const CARILLON_H264_LEVEL_IDC = 31;
/** What Carillon advertises it receives: 2048 kbit/s, in H.245 units of 100 bit/s. */
export const CARILLON_VIDEO_MAX_BITRATE = 20_480;
/** The dynamic RTP payload type Carillon uses for H.264 when the peer names none. */
export const H264_DEFAULT_PAYLOAD_TYPE = 109;

/** The H.241 Level value of a level_idc (rounded down to a level H.241 names). */
export function h241LevelOf(levelIdc: number): number {
  let out = 15;
  for (const [idc, h241] of LEVELS) if (idc !== 9 && idc <= levelIdc) out = Math.max(out, h241);
  return out;
}

/** The level_idc of an H.241 Level value: the highest level at or below it (H.241 §8.3.2.2: unsignedMin). */
export function levelIdcOf(h241Level: number): number | undefined {
  let out: number | undefined;
  let best = 0;
  for (const [idc, h241] of LEVELS) {
    if (h241 <= h241Level && h241 > best) {
      best = h241;
      out = idc === 9 ? 10 : idc;
    }
  }
  return out;
}

/** Carillon's H.264 capability: Baseline (Constrained Baseline streams) at level 3.1, parameters 41 then 42. */
export function h264Capability(levelIdc = CARILLON_H264_LEVEL_IDC, maxBitRate = CARILLON_VIDEO_MAX_BITRATE): GenericCapability {
  const collapsing: GenericParameter[] = [
    { parameterIdentifier: { choice: 'standard', value: H241_PARAMETER.profile }, parameterValue: { choice: 'booleanArray', value: H241_PROFILE.baseline } },
    { parameterIdentifier: { choice: 'standard', value: H241_PARAMETER.level }, parameterValue: { choice: 'unsignedMin', value: h241LevelOf(levelIdc) } },
  ];
  return { capabilityIdentifier: { choice: 'standard', value: H264_CAPABILITY_OID }, maxBitRate, collapsing };
}

/** A peer's H.264 capability in SDP terms. */
export interface H264Params {
  /** The Profile booleanArray (H241_PROFILE bits). */
  readonly profiles: number;
  /** level_idc. */
  readonly levelIdc: number;
  /** bit/s; undefined when not said. */
  readonly maxBitRateBps: number | undefined;
}

function sameOid(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * The H.264 parameters of a VideoCapability, or undefined when it is not H.264 or names no
 * profile Carillon forwards (Baseline, or Main/High streams the peer also decodes as Baseline:
 * Carillon only ever sends it Constrained Baseline) or no readable level.
 */
export function readH264(v: VideoCapability): H264Params | undefined {
  if (v.choice !== 'genericVideoCapability') return undefined;
  const g = v.value;
  if (g.capabilityIdentifier.choice !== 'standard' || !sameOid(g.capabilityIdentifier.value, H264_CAPABILITY_OID)) return undefined;
  let profiles: number | undefined;
  let level: number | undefined;
  for (const p of (g.collapsing ?? []).slice(0, 32)) {
    if (p.parameterIdentifier.choice !== 'standard') continue;
    const id = p.parameterIdentifier.value;
    const val = p.parameterValue;
    if (id === H241_PARAMETER.profile && val.choice === 'booleanArray') profiles = val.value;
    if (id === H241_PARAMETER.level && (val.choice === 'unsignedMin' || val.choice === 'unsignedMax')) level = val.value;
  }
  if (profiles === undefined || level === undefined) return undefined;
  // Every H.264 decoder profile (Baseline, Main, High) takes Constrained Baseline.
  if ((profiles & (H241_PROFILE.baseline | H241_PROFILE.main | H241_PROFILE.high)) === 0) return undefined;
  const levelIdc = levelIdcOf(level);
  if (levelIdc === undefined) return undefined;
  return { profiles, levelIdc, maxBitRateBps: g.maxBitRate === undefined ? undefined : g.maxBitRate * 100 };
}

/** The H.264 a TerminalCapabilitySet says the peer receives (its first readable entry), or undefined. */
export function receiveH264Of(tcs: TerminalCapabilitySet): H264Params | undefined {
  for (const e of (tcs.capabilityTable ?? []).slice(0, 256)) {
    const c = e.capability;
    if (c === undefined || (c.choice !== 'receiveVideoCapability' && c.choice !== 'receiveAndTransmitVideoCapability')) continue;
    const h = readH264(c.value);
    if (h !== undefined) return h;
  }
  return undefined;
}

/** The H.264 packetization mode an OLC's H.2250 parameters name: 0 for single NAL unit mode, else 1 (H.241 §8.1). */
export function packetizationModeOf(h2250: H2250LogicalChannelParameters | undefined): 0 | 1 {
  const mp = h2250?.mediaPacketization;
  if (mp?.choice !== 'rtpPayloadType' || mp.value.payloadDescriptor.choice !== 'oid') return 1;
  return sameOid(mp.value.payloadDescriptor.value, H264_SINGLE_NAL_OID) ? 0 : 1;
}

/** The mediaPacketization an OLC Carillon writes carries for `mode` on payload type `pt`. */
export function mediaPacketizationOf(mode: 0 | 1, pt: number): NonNullable<H2250LogicalChannelParameters['mediaPacketization']> {
  return { choice: 'rtpPayloadType', value: { payloadDescriptor: { choice: 'oid', value: mode === 0 ? H264_SINGLE_NAL_OID : H264_NON_INTERLEAVED_OID }, payloadType: pt } };
}

/** RFC 6184 §8.1: Constrained Baseline (42e0) at `levelIdc` (at most Carillon's), in `mode`. */
export function h264Fmtp(levelIdc: number, mode: 0 | 1): string {
  const level = Math.min(levelIdc, CARILLON_H264_LEVEL_IDC);
  return `profile-level-id=42e0${level.toString(16).padStart(2, '0')};packetization-mode=${mode}`;
}

/** Whether a DataType names H.264 video at all (for choosing the OLC refusal's cause). */
export function isGenericVideo(v: VideoCapability): boolean {
  return v.choice !== UNKNOWN && v.choice === 'genericVideoCapability';
}
