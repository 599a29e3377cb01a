/**
 * A meeting participant's video as a media function on its video endpoint (media-core `attach
 * {fn: 'video'}`). As a sender, what its far end sends is classified (key frame, part of a
 * picture, malformed) and offered to its room, which forwards it to whoever is shown it; as a
 * receiver it is sent one stream — the room's choice of sender, switched only at a key frame —
 * under Carillon's SSRC toward the endpoint, with sequence numbers and timestamps that run on
 * across switches. Nothing is allocated per packet: forwarded packets are written into a ring of
 * buffers made at attach (Node sends a datagram on the next turn of the loop).
 */
import type { ParticipantFunction } from '../mixer/participant.ts';
import type { VideoSnapshot } from '../protocol.ts';
import type { FeedbackSummary } from '../rtcp/feedback.ts';
import type { Endpoint, MediaFunction } from '../relay/endpoint.ts';
import type { RtpHeader } from '../rtp/rtp-header.ts';
import { classifyH263, classifyH263Plus } from './h263.ts';
import { classifyH264 } from './h264.ts';
import type { VideoPacketClass } from './h264.ts';

/** Video codecs the switch forwards (rtpmap names, upper case). */
export type VideoCodecName = 'H264' | 'H263' | 'H263-1998' | 'H263-2000';

export function isVideoCodec(name: string): name is VideoCodecName {
  return name === 'H264' || name === 'H263' || name === 'H263-1998' || name === 'H263-2000';
}

/** How a sender is asked for a key frame: RTCP PLI (RFC 4585), FIR (RFC 5104), or through signaling (SIP INFO, H.245). */
export interface KeyFrameMethods {
  readonly pli: boolean;
  readonly fir: boolean;
  readonly signaling: boolean;
}

/** Packet buffers per receiver, used in turn: more than one burst of a key frame per loop turn. */
export const VIDEO_PACKET_RING = 32;
/** The largest video packet forwarded (bytes, header included); larger ones are not taken. */
export const MAX_VIDEO_PACKET = 1500;
/** Largest H.264 parameter set (SPS, PPS) kept per sender, bytes. */
const MAX_PARAMETER_SET = 256;
/** RTP clock of every video codec here (RFC 6184 §8.2.1, RFC 4629 §8.1.1, RFC 2190). */
export const VIDEO_CLOCK_HZ = 90_000;

/** What a video participant needs of its room. */
export interface VideoHost {
  fromSender(p: VideoParticipant, buf: Buffer, h: RtpHeader, cls: VideoPacketClass): void;
  feedback(p: VideoParticipant, fb: FeedbackSummary): void;
  removed(p: VideoParticipant): void;
}

export class VideoParticipant implements MediaFunction {
  readonly id: string;
  readonly endpoint: Endpoint;
  readonly codec: VideoCodecName;
  readonly payloadType: number;
  readonly mode0: boolean;
  readonly keyFrame: KeyFrameMethods;
  /** The audio participant it belongs to (in the meeting, talking: the picture follows it). */
  readonly audio: ParticipantFunction;
  /** What its SDP allows it to be sent (b=TIAS or b=AS), bit/s; 0: no limit said. */
  readonly sdpLimitBps: number;
  /** H.264 level_idc answered (0: not H.264 or not said): it sends at most, and decodes at least, this level. */
  readonly h264Level: number;
  /** Its camera, or its presentation content stream. */
  readonly role: 'camera' | 'content';
  #host: VideoHost;
  #closed = false;

  // ---- As a sender ----
  /** The SSRC it sends with (-1: nothing yet). */
  ssrc = -1;
  packetsIn = 0;
  bytesIn = 0;
  invalid = 0;
  keyFrames = 0;
  /** The last packet began or continued a key frame (SPS, PPS, IDR). */
  inKey = false;
  lastPacketMs = -1;
  /** Key-frame requests Carillon sent it, and those it held back (one per KEY_REQUEST_INTERVAL_MS). */
  keyRequestsSent = 0;
  keyRequestsSuppressed = 0;
  lastKeyRequestMs = Number.NEGATIVE_INFINITY;
  firSeq = 0;
  /** Its latest H.264 SPS and PPS (single NAL unit packets), to start a receiver's run with when its key frame carries none. */
  readonly sps = Buffer.alloc(MAX_PARAMETER_SET);
  spsLength = 0;
  readonly pps = Buffer.alloc(MAX_PARAMETER_SET);
  ppsLength = 0;
  /** Measured send rate, bit/s (smoothed over the worker's ticks), and the bytes since the last. */
  bitrateBps = 0;
  bytesSinceTick = 0;

  // ---- As a receiver ----
  /** The sender whose video it is sent, and the one it will switch to at that sender's next key frame. */
  showing: VideoParticipant | undefined;
  pending: VideoParticipant | undefined;
  pendingSinceMs = 0;
  lastAskMs = 0;
  /** Sequence number (of the shown sender) the current run began with: older ones are not sent. */
  startSeq = 0;
  seqDelta = 0;
  tsDelta = 0;
  outSeq: number;
  outTs: number;
  lastOutMs = -1;
  /** The last packet sent ended no picture (no marker bit): the shown sender is in the middle of a frame. */
  midFrame = false;
  packetsSent = 0;
  octetsSent = 0;
  switches = 0;
  keyRequestsReceived = 0;
  /** The latest REMB/TMMBR limit it asked for, bit/s (-1: none). */
  feedbackLimitBps = -1;
  readonly #ring: Buffer[];
  #ringAt = 0;

  constructor(
    host: VideoHost,
    endpoint: Endpoint,
    spec: { readonly codec: VideoCodecName; readonly payloadType: number; readonly mode0: boolean; readonly keyFrame: KeyFrameMethods; readonly maxBitrateBps: number; readonly role?: 'camera' | 'content'; readonly h264Level?: number },
    audio: ParticipantFunction,
    random: () => number,
  ) {
    this.#host = host;
    this.id = endpoint.id;
    this.endpoint = endpoint;
    this.codec = spec.codec;
    this.payloadType = spec.payloadType;
    this.mode0 = spec.mode0;
    this.keyFrame = spec.keyFrame;
    this.sdpLimitBps = spec.maxBitrateBps;
    this.role = spec.role ?? 'camera';
    this.h264Level = spec.h264Level ?? 0;
    this.audio = audio;
    this.outSeq = Math.floor(random() * 0x1_0000) & 0xffff;
    this.outTs = Math.floor(random() * 0x1_0000_0000) >>> 0;
    this.#ring = Array.from({ length: VIDEO_PACKET_RING }, () => Buffer.alloc(MAX_VIDEO_PACKET));
  }

  /** In the meeting (its audio participant is in the mix): it is shown and sent video. */
  get inMeeting(): boolean {
    return this.audio.inMeeting && !this.audio.closed;
  }

  /** The limit it can take, bit/s (0: none known): the lower of its SDP's and its latest feedback's. */
  get limitBps(): number {
    const fb = this.feedbackLimitBps;
    if (fb < 0) return this.sdpLimitBps;
    return this.sdpLimitBps > 0 ? Math.min(this.sdpLimitBps, fb) : fb;
  }

  /** The RTP timestamp of monotonic time `nowMs` on the stream it is sent (for its SR). */
  timestampAt(nowMs: number): number {
    if (this.lastOutMs < 0) return this.outTs;
    return (this.outTs + Math.round((nowMs - this.lastOutMs) * (VIDEO_CLOCK_HZ / 1000))) >>> 0;
  }

  onRtp(buf: Buffer, h: RtpHeader, _ts: number, _wallMs: number): boolean {
    if (this.#closed || h.payloadType !== this.payloadType || 12 + h.payloadLength > MAX_VIDEO_PACKET) return false;
    const off = h.payloadOffset;
    const len = h.payloadLength;
    let cls: VideoPacketClass;
    switch (this.codec) {
      case 'H264':
        cls = classifyH264(buf, off, len, this.mode0);
        break;
      case 'H263':
        cls = classifyH263(buf, off, len);
        break;
      case 'H263-1998':
      case 'H263-2000':
        cls = classifyH263Plus(buf, off, len);
        break;
      default: {
        const never: never = this.codec;
        return never;
      }
    }
    this.#host.fromSender(this, buf, h, cls);
    return true;
  }

  onFeedback(fb: FeedbackSummary): void {
    if (!this.#closed) this.#host.feedback(this, fb);
  }

  tick(_wallMs: number): void {
    // the room ticks it
  }

  /**
   * Sends the packet `buf` (header `h`) of the sender it is shown, re-stamped onto its own
   * stream: Carillon's SSRC, its payload type, the sequence and timestamp moved by the run's
   * deltas; the marker bit and payload as they came (CSRCs, header extensions and padding dropped).
   */
  forward(buf: Buffer, h: RtpHeader, nowMs: number): void {
    const ep = this.endpoint;
    if (ep.hold || ep.latch.peerAddress === undefined) return;
    // A packet older than the key frame the run began with belongs to before the switch.
    if (((h.sequence - this.startSeq) & 0x8000) !== 0) return;
    const b = this.#ring[this.#ringAt] as Buffer;
    this.#ringAt = (this.#ringAt + 1) % VIDEO_PACKET_RING;
    const seq = (h.sequence + this.seqDelta) & 0xffff;
    const ts = (h.timestamp + this.tsDelta) >>> 0;
    b[0] = 0x80;
    b[1] = (h.marker ? 0x80 : 0) | this.payloadType;
    b.writeUInt16BE(seq, 2);
    b.writeUInt32BE(ts, 4);
    b.writeUInt32BE(ep.rtcp.ownSsrc >>> 0, 8);
    const n = h.payloadLength;
    buf.copy(b, 12, h.payloadOffset, h.payloadOffset + n);
    this.outSeq = seq;
    this.outTs = ts;
    this.lastOutMs = nowMs;
    this.midFrame = !h.marker;
    this.packetsSent++;
    this.octetsSent += n;
    const sent = ep.stats.sent;
    sent.rtpPackets++;
    sent.rtpBytes += 12 + n;
    ep.sendRtp(b, 12 + n);
  }

  /**
   * Begins a run of `from` at its packet `h` (a key frame): the sequence number goes on from the
   * last one sent, the timestamp from the last one plus the time since (at least one tick of the
   * clock), so the receiver sees one stream whoever it shows.
   */
  startRun(from: VideoParticipant, h: RtpHeader, nowMs: number, before = 0): void {
    const fresh = this.lastOutMs < 0;
    const nextSeq = ((fresh ? this.outSeq : this.outSeq + 1) + before) & 0xffff;
    const ts = fresh ? this.outTs : (this.outTs + Math.max(1, Math.round((nowMs - this.lastOutMs) * (VIDEO_CLOCK_HZ / 1000)))) >>> 0;
    this.seqDelta = (nextSeq - h.sequence) & 0xffff;
    this.tsDelta = (ts - h.timestamp) >>> 0;
    this.startSeq = h.sequence;
    if (this.showing !== undefined && this.showing !== from) this.switches++;
    else if (this.showing === undefined && !fresh) this.switches++;
    this.showing = from;
    this.pending = undefined;
  }

  /**
   * Sends the sender's SPS and PPS ahead of the key frame a run begins with (RFC 6184 §8.4: a
   * decoder needs the parameter sets before an IDR; a sender that sends them once, at the start of
   * its stream, would leave a receiver switched to it later decoding with another sender's). Uses
   * the two sequence numbers `startRun(…, 2)` left free before `h`.
   */
  sendParameterSets(from: VideoParticipant, h: RtpHeader, nowMs: number): void {
    const ep = this.endpoint;
    if (ep.hold || ep.latch.peerAddress === undefined) return;
    const ts = (h.timestamp + this.tsDelta) >>> 0;
    const first = (h.sequence + this.seqDelta - 2) & 0xffff;
    for (let k = 0; k < 2; k++) {
      const src = k === 0 ? from.sps : from.pps;
      const n = k === 0 ? from.spsLength : from.ppsLength;
      const b = this.#ring[this.#ringAt] as Buffer;
      this.#ringAt = (this.#ringAt + 1) % VIDEO_PACKET_RING;
      b[0] = 0x80;
      b[1] = this.payloadType;
      b.writeUInt16BE((first + k) & 0xffff, 2);
      b.writeUInt32BE(ts, 4);
      b.writeUInt32BE(ep.rtcp.ownSsrc >>> 0, 8);
      src.copy(b, 12, 0, n);
      this.packetsSent++;
      this.octetsSent += n;
      ep.stats.sent.rtpPackets++;
      ep.stats.sent.rtpBytes += 12 + n;
      ep.sendRtp(b, 12 + n);
    }
    this.lastOutMs = nowMs;
  }

  /** The room it belongs to from now on (its endpoint moved into another session). */
  rehome(host: VideoHost): void {
    this.#host = host;
    this.showing = undefined;
    this.pending = undefined;
  }

  snapshot(): VideoSnapshot {
    return {
      codec: this.codec,
      role: this.role,
      sending: this.packetsIn > 0,
      showing: this.showing?.id ?? null,
      packetsIn: this.packetsIn,
      invalidPackets: this.invalid,
      keyFrames: this.keyFrames,
      keyFrameRequestsSent: this.keyRequestsSent,
      keyFrameRequestsSuppressed: this.keyRequestsSuppressed,
      keyFrameRequestsReceived: this.keyRequestsReceived,
      packetsSent: this.packetsSent,
      switches: this.switches,
      bitrateBps: Math.round(this.bitrateBps),
      limitBps: this.limitBps > 0 ? this.limitBps : null,
    };
  }

  get closed(): boolean {
    return this.#closed;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#host.removed(this);
  }
}
