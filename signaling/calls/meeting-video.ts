import type { RemoteMedia } from '../../media/protocol.ts';
import type { MediaDescription, SessionDescription } from '../sdp/anchor.ts';
import { remoteOf, sdesOf } from './meeting-sdp.ts';
import type { ParticipantAudio } from './meeting-sdp.ts';

/**
 * A meeting participant's main video (the camera): the first video line of its offer that is not
 * content (RFC 4796 `a=content:slides`) in a codec Carillon switches — H.264 whenever it is
 * offered (every room system decodes it, so everyone can see everyone), else H.263-2000,
 * H.263-1998 or H.263 for a device that offers only that (it is shown senders in the same codec).
 * Carillon forwards without transcoding, so one H.264 profile and level for a whole meeting:
 * Constrained Baseline (every H.264 decoder takes it) at the offer's level, at most
 * MEETING_H264_LEVEL; packetization mode 1 where offered.
 */

/** Highest H.264 level Carillon answers (3.1: 1280×720 at 30 frames/s). */
export const MEETING_H264_LEVEL = 0x1f;
/** What Carillon lets a participant send it (b=AS, kbit/s). */
export const MEETING_VIDEO_KBPS = 2048;
/**
 * The profile-level-id of an H.264 `a=fmtp` (RFC 6184 §8.1): profile_idc, profile-iop and
 * level_idc as one 24-bit number, or undefined when absent or not six hex digits. Without it a
 * receiver must be assumed to decode Constrained Baseline level 1.0 only (0x42E00A is what most
 * room systems write; "If the profile-level-id parameter is not present, … Baseline profile … level 1").
 */
export function profileLevelIdOf(fmtp: string | undefined): number | undefined {
  if (fmtp === undefined) return undefined;
  const m = /(?:^|;)\s*profile-level-id\s*=\s*([0-9a-fA-F]{6})\s*(?:;|$)/.exec(fmtp);
  return m === null ? undefined : Number.parseInt(m[1] as string, 16);
}

/** packetization-mode of an H.264 `a=fmtp` (0 when absent, §8.1); undefined when not 0, 1 or 2. */
export function packetizationModeOf(fmtp: string | undefined): 0 | 1 | 2 | undefined {
  if (fmtp === undefined) return 0;
  const m = /(?:^|;)\s*packetization-mode\s*=\s*(\d+)\s*(?:;|$)/.exec(fmtp);
  if (m === null) return 0;
  const v = Number(m[1]);
  return v === 0 || v === 1 || v === 2 ? v : undefined;
}

/** level_idc of a profile-level-id, with level 1b (profile-iop bit 4 set at level_idc 11 in Baseline-family profiles) as 9. */
export function levelOf(profileLevelId: number): number {
  const level = profileLevelId & 0xff;
  const iop = (profileLevelId >> 8) & 0xff;
  const profile = profileLevelId >> 16;
  if (level === 11 && (iop & 0x10) !== 0 && (profile === 66 || profile === 77 || profile === 88)) return 9;
  return level;
}

/** Codecs in Carillon's preference. */
const VIDEO_CODECS = ['H264', 'H263-2000', 'H263-1998', 'H263'] as const;

export interface ParticipantVideo {
  readonly index: number;
  /** The camera, or the presentation content line (RFC 4796 `a=content:slides`). */
  readonly role: 'camera' | 'content';
  /** The content line's `a=label` (RFC 4574), which BFCP's floorid names (RFC 8856 §5); undefined on the camera. */
  readonly label: string | undefined;
  readonly codec: (typeof VIDEO_CODECS)[number];
  readonly payloadType: number;
  /** H.264: the mode answered (0 or 1); 0 for H.263. */
  readonly packetizationMode: 0 | 1;
  /** H.264: the level_idc Carillon answered. */
  readonly h264Level: number | undefined;
  /** The fmtp Carillon answers (undefined: none). */
  readonly fmtp: string | undefined;
  /** RTCP feedback the offer listed for the payload type (and Carillon answers). */
  readonly feedback: { readonly pli: boolean; readonly fir: boolean; readonly tmmbr: boolean; readonly remb: boolean };
  /** What the participant said it can take (b=TIAS, else b=AS), bit/s; 0: not said. */
  readonly maxBitrateBps: number;
  readonly remote: RemoteMedia;
  readonly srtp: ParticipantAudio['srtp'];
}

interface ParsedMedia {
  readonly fmtp?: readonly { readonly payload: number; readonly config: string }[];
  readonly rtcpFb?: readonly { readonly payload: number | string; readonly type: string; readonly subtype?: string }[];
  readonly bandwidth?: readonly { readonly type: string; readonly limit: number | string }[];
  readonly content?: string;
  readonly label?: string | number;
}

function parsedOf(desc: SessionDescription, m: MediaDescription): ParsedMedia {
  return (desc.parsed.media[m.index] ?? {}) as ParsedMedia;
}

/** Whether a line is presentation content (RFC 4796 `slides`), not the camera. */
export function isContentLine(desc: SessionDescription, m: MediaDescription): boolean {
  const c = parsedOf(desc, m).content;
  return typeof c === 'string' && c.split(',').some((v) => v.trim() === 'slides');
}

function bandwidthOf(p: ParsedMedia): number {
  let tias = 0;
  let as = 0;
  for (const b of p.bandwidth ?? []) {
    const n = Number(b.limit);
    if (!Number.isFinite(n) || n <= 0) continue;
    if (b.type === 'TIAS') tias = n;
    if (b.type === 'AS') as = n * 1000;
  }
  return Math.floor(tias > 0 ? tias : as);
}

function feedbackOf(p: ParsedMedia, pt: number): ParticipantVideo['feedback'] {
  let pli = false;
  let fir = false;
  let tmmbr = false;
  let remb = false;
  for (const f of p.rtcpFb ?? []) {
    if (f.payload !== '*' && Number(f.payload) !== pt) continue;
    if (f.type === 'nack' && f.subtype === 'pli') pli = true;
    if (f.type === 'ccm' && f.subtype === 'fir') fir = true;
    if (f.type === 'ccm' && f.subtype === 'tmmbr') tmmbr = true;
    if (f.type === 'goog-remb') remb = true;
  }
  return { pli, fir, tmmbr, remb };
}

/**
 * The participant's camera video from its offer, or undefined when it offers none Carillon
 * switches (the line is then rejected; audio goes on). `previous`: the video agreed before (a
 * re-offer keeps the codec and payload type, and Carillon's key).
 */
export function chooseVideo(desc: SessionDescription, previous?: ParticipantVideo, role: 'camera' | 'content' = 'camera'): ParticipantVideo | undefined {
  for (const m of desc.media) {
    if (m.type !== 'video' || m.port === 0 || isContentLine(desc, m) !== (role === 'content')) continue;
    const p = parsedOf(desc, m);
    const fmtpOf = (pt: number): string | undefined => p.fmtp?.find((f) => f.payload === pt)?.config;
    for (const codec of VIDEO_CODECS) {
      if (previous !== undefined && previous.codec !== codec) continue;
      const pts = m.payloads.filter((pt) => m.codecs.get(pt)?.name === codec && m.codecs.get(pt)?.clockRateHz === 90_000 && (previous === undefined || previous.payloadType === pt));
      if (pts.length === 0) continue;
      let pt = pts[0] as number;
      let mode: 0 | 1 = 0;
      let fmtp: string | undefined;
      let h264Level: number | undefined;
      if (codec === 'H264') {
        // Mode 1 where offered (large pictures need fragments); mode 2 (interleaved) Carillon does not forward.
        const modes = pts.map((x) => packetizationModeOf(fmtpOf(x)));
        const one = modes.indexOf(1);
        const zero = modes.indexOf(0);
        if (one < 0 && zero < 0) continue;
        pt = pts[one >= 0 ? one : zero] as number;
        mode = one >= 0 ? 1 : 0;
        const offered = profileLevelIdOf(fmtpOf(pt));
        // RFC 6184 §8.1: no profile-level-id means Baseline level 1.0 (0x0a).
        const level = Math.min(offered === undefined ? 0x0a : levelOf(offered) === 9 ? 0x0a : levelOf(offered), MEETING_H264_LEVEL);
        fmtp = `profile-level-id=42e0${level.toString(16).padStart(2, '0')};packetization-mode=${mode}`;
        h264Level = level;
      } else {
        fmtp = fmtpOf(pt);
      }
      const srtp = sdesOf(m, previous?.srtp);
      if (srtp === 'none') return undefined;
      const label = p.label === undefined ? undefined : String(p.label);
      return {
        index: m.index,
        role,
        label: role === 'content' ? (label ?? String(m.index + 1)) : undefined,
        codec,
        payloadType: pt,
        packetizationMode: mode,
        h264Level,
        fmtp,
        feedback: feedbackOf(p, pt),
        maxBitrateBps: bandwidthOf(p),
        remote: remoteOf(m, undefined, srtp),
        srtp,
      };
    }
  }
  return undefined;
}

/** The answer's lines for the participant's video on Carillon's `port` (`m` the offered line). */
export function videoAnswerLines(v: ParticipantVideo, m: MediaDescription, port: number): string[] {
  const pt = v.payloadType;
  const out = [`m=video ${port} ${v.srtp === undefined ? 'RTP/AVP' : 'RTP/SAVP'} ${pt}`, `b=AS:${MEETING_VIDEO_KBPS}`, `b=TIAS:${MEETING_VIDEO_KBPS * 1000}`, `a=rtpmap:${pt} ${v.codec}/90000`];
  if (v.fmtp !== undefined) out.push(`a=fmtp:${pt} ${v.fmtp}`);
  if (v.feedback.pli) out.push(`a=rtcp-fb:${pt} nack pli`);
  if (v.feedback.fir) out.push(`a=rtcp-fb:${pt} ccm fir`);
  if (v.feedback.tmmbr) out.push(`a=rtcp-fb:${pt} ccm tmmbr`);
  if (v.feedback.remb) out.push(`a=rtcp-fb:${pt} goog-remb`);
  if (v.role === 'content') out.push('a=content:slides', `a=label:${v.label ?? ''}`);
  out.push(`a=${m.direction === 'sendonly' ? 'recvonly' : m.direction === 'recvonly' ? 'sendonly' : m.direction === 'inactive' ? 'inactive' : 'sendrecv'}`);
  out.push(m.rtcpMux ? 'a=rtcp-mux' : `a=rtcp:${port + 1}`);
  if (v.srtp !== undefined) out.push(`a=crypto:${v.srtp.tag} ${v.srtp.suite} inline:${v.srtp.ourKey}`);
  return out;
}

/** The video endpoint id of participant `id` (its audio endpoint's id is `id`): `.v` its camera, `.c` its content. */
export function videoEndpointOf(id: string, role: 'camera' | 'content' = 'camera'): string {
  return `${id}${role === 'camera' ? '.v' : '.c'}`;
}

/** The participant id of a video endpoint id, or undefined when it is not one. */
export function participantOfVideoEndpoint(endpoint: string): string | undefined {
  return endpoint.endsWith('.v') || endpoint.endsWith('.c') ? endpoint.slice(0, -2) : undefined;
}

/** RFC 5168 §3: Carillon's request to a sender for a full picture. */
export const PICTURE_FAST_UPDATE_XML =
  '<?xml version="1.0" encoding="utf-8" ?>\r\n<media_control>\r\n  <vc_primitive>\r\n    <to_encoder>\r\n      <picture_fast_update/>\r\n    </to_encoder>\r\n  </vc_primitive>\r\n</media_control>\r\n';

export const MEDIA_CONTROL_TYPE = 'application/media_control+xml';

/** Whether an INFO body asks for a full picture (RFC 5168 picture_fast_update). */
export function isPictureFastUpdate(contentType: string | undefined, body: Buffer | undefined): boolean {
  if (contentType === undefined || body === undefined || body.length > 4096) return false;
  if (contentType.split(';')[0]?.trim().toLowerCase() !== MEDIA_CONTROL_TYPE) return false;
  return /<\s*picture_fast_update\s*\/?\s*>/.test(body.toString('utf8'));
}
