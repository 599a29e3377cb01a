/**
 * A meeting's video inside its worker: switched, not transcoded. Each participant in the meeting
 * is sent one picture — the current speaker's, or, while it speaks itself, the previous speaker's
 * — chosen from the audio bridge's loudest talker held for SPEAKER_HOLD_MS so the picture does
 * not flicker, and among the recent speakers the first whose measured rate fits what the receiver
 * asked for (b=TIAS/b=AS, REMB, TMMBR): a room system that takes less is shown another sender, it
 * does not make anyone else's picture worse. A receiver moves to a new sender only at that
 * sender's key frame, asked for when the switch is decided (RTCP PLI or FIR, or through
 * signaling — SIP INFO picture_fast_update, H.245 videoFastUpdatePicture — as the sender speaks),
 * and never more often than once per KEY_REQUEST_INTERVAL_MS per sender whoever asks: a PLI storm
 * from one receiver costs the sender one key frame per interval.
 *
 * A `content` room is the same switch for the meeting's presentation streams (RFC 4796
 * `a=content:slides`, H.239's presentation role): everyone but the presenter — the holder of the
 * content floor (BFCP, H.239), set by `setPresenter` — is sent the presenter's stream; nobody
 * while no one presents.
 */
import type { Clock } from '../../common/clock.ts';
import type { EndpointId, MediaEvent } from '../protocol.ts';
import { writeEmptyRr, writeSdesCname } from '../rtcp/compound.ts';
import { writeFir, writePli, writeTmmbn } from '../rtcp/feedback.ts';
import type { FeedbackSummary } from '../rtcp/feedback.ts';
import type { RtpHeader } from '../rtp/rtp-header.ts';
import type { VideoPacketClass } from './h264.ts';
import { VideoParticipant } from './video-participant.ts';
import type { VideoHost } from './video-participant.ts';

/** A new loudest talker is shown once it has been the loudest this long. */
export const SPEAKER_HOLD_MS = 600;
/** At most one key-frame request to a sender per this interval. */
export const KEY_REQUEST_INTERVAL_MS = 500;
/** A receiver still waiting for a key frame asks again after this long. */
export const KEY_REREQUEST_MS = 1000;
/** A shown sender silent this long has no picture left to finish: a switch need not wait for its marker bit. */
const MID_FRAME_MS = 200;
/** Smoothing of a sender's measured rate per worker tick. */
const RATE_SMOOTHING = 0.3;

export interface VideoRoomDeps {
  readonly clock: Clock;
  readonly cname: string;
  readonly emit: (e: MediaEvent) => void;
  /** The audio bridge's loudest talker now (an audio participant's endpoint id), if any. */
  readonly dominant: () => EndpointId | undefined;
}

/** Whole-worker video figures every room adds to (read at status time). */
export interface VideoTotals {
  packetsForwarded: number;
  switches: number;
  keyFrameRequests: number;
  keyFrameRequestsSuppressed: number;
  invalidPackets: number;
}

export function createVideoTotals(): VideoTotals {
  return { packetsForwarded: 0, switches: 0, keyFrameRequests: 0, keyFrameRequestsSuppressed: 0, invalidPackets: 0 };
}

/** What a room switches: the cameras (following the talker) or the presentation content (following the floor). */
export type VideoRoomKind = 'camera' | 'content';

/**
 * Whether `r` can decode what `s` sends as it comes: the same codec (and payload format); for
 * H.264 a mode 0 receiver takes single NAL units only (RFC 6184 §6.2), and a receiver answered
 * at a lower level than the sender cannot be sure to decode its pictures.
 */
export function decodable(s: VideoParticipant, r: VideoParticipant): boolean {
  if (s.codec !== r.codec) return false;
  if (s.codec !== 'H264') return true;
  if (r.mode0 && !s.mode0) return false;
  return s.h264Level === 0 || r.h264Level === 0 || s.h264Level <= r.h264Level;
}

const NAL_SPS = 7;
const NAL_PPS = 8;

/** A sender's SPS or PPS sent as a single NAL unit packet: kept (copied) for runs that start without one. */
function keepParameterSet(s: VideoParticipant, buf: Buffer, h: RtpHeader): void {
  const off = h.payloadOffset;
  const n = h.payloadLength;
  const type = (buf[off] as number) & 0x1f;
  if ((type !== NAL_SPS && type !== NAL_PPS) || n > s.sps.length) return;
  if (type === NAL_SPS) {
    buf.copy(s.sps, 0, off, off + n);
    s.spsLength = n;
  } else {
    buf.copy(s.pps, 0, off, off + n);
    s.ppsLength = n;
  }
}

export class VideoRoom implements VideoHost {
  readonly session: string;
  readonly kind: VideoRoomKind;
  /** The content room's presenter (the floor holder), if any. */
  #presenter: VideoParticipant | undefined;
  readonly #deps: VideoRoomDeps;
  readonly #totals: VideoTotals;
  /** Participants, most recent speaker first (a newcomer goes last). */
  readonly #recent: VideoParticipant[] = [];
  #candidate: VideoParticipant | undefined;
  #candidateSinceMs = 0;
  #lastTickMs = -1;
  /** Feedback compounds, used in turn (Node sends on the next turn of the loop; one tick may ask several senders). */
  readonly #rtcp: Buffer[] = Array.from({ length: 8 }, () => Buffer.alloc(128));
  #rtcpAt = 0;

  constructor(session: string, deps: VideoRoomDeps, totals: VideoTotals, kind: VideoRoomKind = 'camera') {
    this.session = session;
    this.kind = kind;
    this.#deps = deps;
    this.#totals = totals;
  }

  get size(): number {
    return this.#recent.length;
  }

  /** The sender shown to most (the speaker; in a content room the presenter), if any. */
  get speaker(): VideoParticipant | undefined {
    return this.kind === 'content' ? this.#presenter : this.#recent[0];
  }

  /** A content room's presenter from now on (undefined: nobody presents; everyone's content stream pauses). */
  setPresenter(p: VideoParticipant | undefined): void {
    this.#presenter = p;
    if (p === undefined) for (const r of this.#recent) r.showing = undefined;
    this.evaluate(this.#deps.clock.monoMs());
  }

  participant(id: EndpointId): VideoParticipant | undefined {
    for (const p of this.#recent) if (p.id === id) return p;
    return undefined;
  }

  add(p: VideoParticipant): void {
    if (this.#recent.includes(p)) return;
    this.#recent.push(p);
    this.evaluate(this.#deps.clock.monoMs());
  }

  adopt(p: VideoParticipant): void {
    p.rehome(this);
    this.add(p);
  }

  /** VideoHost: its endpoint closed (or it moved away): nobody is shown it any more. */
  removed(p: VideoParticipant): void {
    const i = this.#recent.indexOf(p);
    if (i < 0) return;
    this.#recent.splice(i, 1);
    if (this.#candidate === p) this.#candidate = undefined;
    if (this.#presenter === p) this.#presenter = undefined;
    for (const r of this.#recent) {
      if (r.showing === p) r.showing = undefined;
      if (r.pending === p) r.pending = undefined;
    }
    this.evaluate(this.#deps.clock.monoMs());
  }

  /** VideoHost: one packet from a sender, classified. */
  fromSender(s: VideoParticipant, buf: Buffer, h: RtpHeader, cls: VideoPacketClass): void {
    if (cls === 'invalid') {
      s.invalid++;
      this.#totals.invalidPackets++;
      return;
    }
    const now = this.#deps.clock.monoMs();
    s.ssrc = h.ssrc;
    s.packetsIn++;
    s.bytesIn += h.payloadLength;
    s.bytesSinceTick += h.payloadLength;
    s.lastPacketMs = now;
    if (cls === 'key') {
      if (!s.inKey) s.keyFrames++;
      s.inKey = true;
      if (s.codec === 'H264') keepParameterSet(s, buf, h);
    } else {
      s.inKey = false;
    }
    if (!s.inMeeting) return;
    const list = this.#recent;
    const totals = this.#totals;
    for (let i = 0; i < list.length; i++) {
      const r = list[i] as VideoParticipant;
      if (r === s || !r.inMeeting) continue;
      if (r.pending === s && cls === 'key') {
        // A switch in the middle of the shown sender's picture would hand the decoder half a frame
        // (a broken slice): it waits for that picture's end; this key frame is missed and the
        // next one asked for at once (within the per-sender limit). A shown sender gone quiet has no picture to finish.
        const old = r.showing;
        if (old === undefined || !r.midFrame || now - old.lastPacketMs > MID_FRAME_MS) {
          // A key frame that does not begin with the sender's SPS gets its latest SPS and PPS first.
          const sets = s.codec === 'H264' && s.spsLength > 0 && s.ppsLength > 0 && ((buf[h.payloadOffset] as number) & 0x1f) !== NAL_SPS;
          r.startRun(s, h, now, sets ? 2 : 0);
          if (sets) r.sendParameterSets(s, h, now);
          totals.switches++;
        } else {
          r.lastAskMs = Number.NEGATIVE_INFINITY;
        }
      }
      if (r.showing === s) {
        r.forward(buf, h, now);
        totals.packetsForwarded++;
      }
    }
  }

  /** VideoHost: RTCP feedback from a receiver: key-frame requests go to what it is shown; limits are kept; TMMBR is answered. */
  feedback(r: VideoParticipant, fb: FeedbackSummary): void {
    const now = this.#deps.clock.monoMs();
    if (fb.pli > 0 || fb.fir > 0) this.keyFrameWanted(r, now);
    if (fb.rembBps >= 0) r.feedbackLimitBps = fb.rembBps;
    if (fb.tmmbrBps >= 0) {
      r.feedbackLimitBps = fb.tmmbrBps;
      // RFC 5104 §4.2.2.1: "the media sender … SHALL respond with a TMMBN" naming the bounding set.
      this.#sendRtcp(r, 'tmmbn', fb.tmmbrSsrc, fb.tmmbrBps, fb.tmmbrOverhead);
    }
  }

  /** A receiver asked for a key frame (PLI, FIR, or through signaling): its sender is asked, within the rate limit. */
  keyFrameWanted(r: VideoParticipant, nowMs: number): void {
    r.keyRequestsReceived++;
    const s = r.pending ?? r.showing;
    if (s !== undefined) this.#askKeyFrame(s, nowMs);
  }

  /** The worker's housekeeping tick: senders' rates, the speaker, and every receiver's choice. */
  tick(nowMs: number): void {
    const dt = this.#lastTickMs < 0 ? 0 : nowMs - this.#lastTickMs;
    this.#lastTickMs = nowMs;
    if (dt > 0) {
      for (const p of this.#recent) {
        const bps = (p.bytesSinceTick * 8 * 1000) / dt;
        p.bitrateBps = p.bitrateBps === 0 ? bps : p.bitrateBps + RATE_SMOOTHING * (bps - p.bitrateBps);
        p.bytesSinceTick = 0;
      }
    }
    this.evaluate(nowMs);
  }

  /** Follows the loudest talker (after the hold time) and moves each receiver toward the sender it should see. */
  evaluate(nowMs: number): void {
    const list = this.#recent;
    const loudId = this.kind === 'camera' ? this.#deps.dominant() : undefined;
    let loud: VideoParticipant | undefined;
    if (loudId !== undefined) for (const p of list) if (p.audio.id === loudId && p.inMeeting) loud = p;
    if (loud !== undefined && loud !== list[0]) {
      if (this.#candidate !== loud) {
        this.#candidate = loud;
        this.#candidateSinceMs = nowMs;
      } else if (nowMs - this.#candidateSinceMs >= SPEAKER_HOLD_MS) {
        list.splice(list.indexOf(loud), 1);
        list.unshift(loud);
        this.#candidate = undefined;
      }
    } else {
      this.#candidate = undefined;
    }
    for (const r of list) {
      if (!r.inMeeting) continue;
      const w = this.#wantedFor(r, nowMs);
      if (w === r.showing) {
        r.pending = undefined;
        continue;
      }
      if (w === undefined) continue;
      if (r.pending !== w) {
        r.pending = w;
        r.pendingSinceMs = nowMs;
        r.lastAskMs = nowMs;
        this.#askKeyFrame(w, nowMs);
      } else if (nowMs - r.lastAskMs >= KEY_REREQUEST_MS) {
        r.lastAskMs = nowMs;
        this.#askKeyFrame(w, nowMs);
      }
    }
  }

  /** The sender `r` should see: the most recent speaker (not itself, in its codec) that sends and fits its limit, else the most recent that sends. */
  #wantedFor(r: VideoParticipant, nowMs: number): VideoParticipant | undefined {
    if (this.kind === 'content') {
      const s = this.#presenter;
      return s !== undefined && s !== r && decodable(s, r) && s.inMeeting ? s : undefined;
    }
    const limit = r.limitBps;
    let first: VideoParticipant | undefined;
    for (const s of this.#recent) {
      // Forwarded as it came: only a sender in the receiver's own codec (and payload format) is one it can decode.
      // A packetization-mode 0 receiver takes single NAL units only: not a mode 1 sender's fragments (RFC 6184 §6.2).
      if (s === r || !decodable(s, r) || !s.inMeeting || s.lastPacketMs < 0 || nowMs - s.lastPacketMs > 5_000) continue;
      if (limit <= 0 || s.bitrateBps <= limit) return s;
      first ??= s;
    }
    return first;
  }

  #askKeyFrame(s: VideoParticipant, nowMs: number): void {
    if (nowMs - s.lastKeyRequestMs < KEY_REQUEST_INTERVAL_MS) {
      s.keyRequestsSuppressed++;
      this.#totals.keyFrameRequestsSuppressed++;
      return;
    }
    s.lastKeyRequestMs = nowMs;
    s.keyRequestsSent++;
    this.#totals.keyFrameRequests++;
    const m = s.keyFrame;
    if (m.pli || m.fir) this.#sendRtcp(s, m.pli ? 'pli' : 'fir', 0, 0, 0);
    if (m.signaling || (!m.pli && !m.fir)) this.#deps.emit({ ev: 'key-frame', session: this.session, endpoint: s.id });
  }

  /** A feedback compound to one participant's endpoint: an empty RR, SDES CNAME, then the message. */
  #sendRtcp(p: VideoParticipant, kind: 'pli' | 'fir' | 'tmmbn', ssrc: number, bps: number, overhead: number): void {
    const ep = p.endpoint;
    const l = ep.latch;
    if (l.peerAddress === undefined || (l.peerRtcpPort === 0 && !l.rtcpMux)) return;
    const buf = this.#rtcp[this.#rtcpAt] as Buffer;
    this.#rtcpAt = (this.#rtcpAt + 1) % this.#rtcp.length;
    const own = ep.rtcp.ownSsrc;
    let n = writeEmptyRr(own, buf, 0);
    n = writeSdesCname(own, this.#deps.cname.slice(0, 64), buf, n);
    const media = p.ssrc < 0 ? 0 : p.ssrc;
    if (kind === 'pli') n += writePli(own, media, buf, n);
    else if (kind === 'fir') n += writeFir(own, media, p.firSeq++ & 0xff, buf, n);
    else n += writeTmmbn(own, ssrc, bps, overhead, buf, n);
    ep.rtcp.ownPackets++;
    ep.rtcp.ownBytes += n;
    ep.sendFrom(buf, n, !l.rtcpMux, l.rtcpMux ? l.peerPort : l.peerRtcpPort, l.peerAddress);
  }

  close(): void {
    for (const p of [...this.#recent]) p.close();
  }
}
