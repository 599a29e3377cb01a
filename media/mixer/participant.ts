/**
 * A meeting participant as a media function on its endpoint (media-core `attach {fn:
 * 'participant'}`): what the far end sends goes into the session's bridge while it is in the
 * meeting; what it hears — its bridge frame, or a prompt playing to it — goes out as RTP of its
 * own: Carillon's SSRC toward the endpoint (the one its RTCP uses), a random initial sequence and
 * timestamp, the timestamp rising one frame per 20 ms tick and following the time through gaps
 * (the first packet after one carries the marker bit, RFC 3551 §4.1), the answered payload type.
 * Neither direction allocates per packet: the payload is copied into a scratch buffer for the
 * jitter buffer, and a few packet buffers allocated at attach are used in turn (Node sends a
 * datagram on the next turn of the loop, so a tick catching up must not overwrite one).
 */
import type { Clock } from '../../common/clock.ts';
import type { ParticipantSnapshot } from '../protocol.ts';
import type { Endpoint, MediaFunction } from '../relay/endpoint.ts';
import type { RtpHeader } from '../rtp/rtp-header.ts';
import type { Bridge } from './bridge.ts';
import type { BridgeCodec } from './frame-codec.ts';
import { PromptCursor, PromptFrames } from './prompt-player.ts';

/** Packet buffers per participant, used in turn: more than the ticks one timer callback may run. */
export const PACKET_RING = 8;

/** RFC 3551 comfort noise: not mixed, but not a stray packet either. */
const PT_COMFORT_NOISE = 13;

const FRAME_MS = 20;

/** What a participant needs of its room. */
export interface ParticipantHost {
  readonly bridge: Bridge;
  readonly clock: Clock;
  /** The participant's endpoint closed: the room forgets it. */
  removed(p: ParticipantFunction): void;
}

export class ParticipantFunction implements MediaFunction {
  readonly id: string;
  readonly endpoint: Endpoint;
  readonly codec: BridgeCodec;
  readonly payloadType: number;
  /** In the bridge's mix (hears the meeting, heard unless muted). Set by the room. */
  inMeeting = false;
  muted = false;
  /** What plays to it. */
  readonly player = new PromptCursor();
  readonly prompts: PromptFrames;
  /** RTP sent: packets and payload octets (its SR's sender counts). */
  packetsSent = 0;
  octetsSent = 0;
  #host: ParticipantHost;
  /** The next packet starts a new run (it moved to another room): marker bit, timestamp from the time. */
  #forceGap = false;
  readonly #in: Uint8Array;
  readonly #packets: Buffer[];
  #ring = 0;
  readonly #ssrc: number;
  #seq: number;
  #ts: number;
  /** The room tick and its ideal time (monotonic ms) of the last packet sent (-1: none yet). */
  #lastTick = -1;
  #lastIdealMs = 0;
  /** Jitter-buffer figures of earlier stays in the bridge (each join starts a fresh buffer). */
  #framesPlayed = 0;
  #framesConcealed = 0;
  #framesLate = 0;
  #framesDiscarded = 0;
  #closed = false;

  constructor(host: ParticipantHost, endpoint: Endpoint, codec: BridgeCodec, payloadType: number, random: () => number) {
    this.#host = host;
    this.id = endpoint.id;
    this.endpoint = endpoint;
    this.codec = codec;
    this.payloadType = payloadType;
    this.prompts = new PromptFrames(codec);
    this.#in = new Uint8Array(codec.maxPayloadBytes);
    this.#packets = Array.from({ length: PACKET_RING }, () => Buffer.alloc(12 + codec.maxPayloadBytes));
    this.#ssrc = endpoint.rtcp.ownSsrc;
    this.#seq = Math.floor(random() * 0x1_0000) & 0xffff;
    this.#ts = Math.floor(random() * 0x1_0000_0000) >>> 0;
  }

  /** RTP timestamp of the last packet sent (meaningful once one was). */
  get lastTimestamp(): number {
    return this.#ts;
  }

  /** The RTP timestamp of monotonic time `nowMs` on the timeline of what it is sent (an SR's). */
  timestampAt(nowMs: number): number {
    return (this.#ts + Math.round(((nowMs - this.#lastIdealMs) * this.codec.rtpClockRate) / 1000)) >>> 0;
  }

  /**
   * One packet from the far end (MediaFunction). Its answered payload type is mixed while it is in
   * the meeting; telephone-event is the endpoint's (digits), comfort noise is ignored; anything
   * else is not taken (the endpoint counts it dropped).
   */
  onRtp(buf: Buffer, h: RtpHeader, _ts: number, _wallMs: number): boolean {
    if (this.#closed) return false;
    const pt = h.payloadType;
    if (this.endpoint.isDtmf(pt) || pt === PT_COMFORT_NOISE) return true;
    const len = h.payloadLength;
    if (pt !== this.payloadType || len > this.#in.length) return false;
    if (!this.inMeeting) return true;
    const off = h.payloadOffset;
    buf.copy(this.#in, 0, off, off + len);
    this.#host.bridge.push(this.id, h.sequence, h.timestamp, h.ssrc, this.#in, len, this.#host.clock.monoMs());
    return true;
  }

  tick(_wallMs: number): void {
    // the room ticks it
  }

  /**
   * Sends one frame (`payload[0, length)`) as the packet of room tick `tick`, whose ideal time is
   * `idealMs`. A tick with nothing sent before it is a gap: the timestamp follows the time and the
   * marker bit is set.
   */
  send(payload: Uint8Array, length: number, tick: number, idealMs: number): void {
    // A gap: nothing sent last tick, or the room's tick skipped deadlines (a stall: its ideal time jumped).
    const gap = this.#forceGap || this.#lastTick < 0 || tick !== this.#lastTick + 1 || idealMs - this.#lastIdealMs > 1.5 * FRAME_MS;
    this.#forceGap = false;
    if (this.#lastTick >= 0) {
      const frames = gap ? Math.max(1, Math.round((idealMs - this.#lastIdealMs) / FRAME_MS)) : 1;
      this.#ts = (this.#ts + frames * this.codec.timestampPerFrame) >>> 0;
      this.#seq = (this.#seq + 1) & 0xffff;
    }
    this.#lastTick = tick;
    this.#lastIdealMs = idealMs;
    const ep = this.endpoint;
    // A far end on hold (sendonly, inactive) or with no address is sent nothing; the timeline goes on.
    if (ep.hold || ep.latch.peerAddress === undefined) return;
    const b = this.#packets[this.#ring] as Buffer;
    this.#ring = (this.#ring + 1) % PACKET_RING;
    b[0] = 0x80;
    b[1] = (gap ? 0x80 : 0) | this.payloadType;
    b.writeUInt16BE(this.#seq, 2);
    b.writeUInt32BE(this.#ts, 4);
    b.writeUInt32BE(this.#ssrc, 8);
    const n = Math.min(length, b.length - 12);
    for (let i = 0; i < n; i++) b[12 + i] = payload[i] ?? 0;
    this.packetsSent++;
    this.octetsSent += n;
    const sent = ep.stats.sent;
    sent.rtpPackets++;
    sent.rtpBytes += 12 + n;
    ep.sendRtp(b, 12 + n);
  }

  /**
   * The endpoint moved into another session: this participant belongs to `host` from now on (its
   * old room let it go, outside the mix). Its RTP stream goes on — same SSRC, the next sequence
   * number, the timestamp following the time — so the far end sees one stream.
   */
  rehome(host: ParticipantHost): void {
    this.#host = host;
    this.#forceGap = true;
  }

  /** Its jitter buffer's figures are kept across its stays in the bridge: call before it leaves. */
  keepJitterFigures(): void {
    const j = this.#host.bridge.jitterStats(this.id);
    if (j === undefined) return;
    this.#framesPlayed += j.played;
    this.#framesConcealed += j.concealed;
    this.#framesLate += j.late;
    this.#framesDiscarded += j.discarded;
  }

  snapshot(): ParticipantSnapshot {
    const bridge = this.#host.bridge;
    const j = this.inMeeting ? bridge.jitterStats(this.id) : undefined;
    return {
      codec: this.codec.name,
      inMeeting: this.inMeeting,
      muted: this.muted,
      talking: this.inMeeting && bridge.isTalking(this.id),
      playing: this.player.active,
      framesPlayed: this.#framesPlayed + (j?.played ?? 0),
      framesConcealed: this.#framesConcealed + (j?.concealed ?? 0),
      framesLate: this.#framesLate + (j?.late ?? 0),
      framesDiscarded: this.#framesDiscarded + (j?.discarded ?? 0),
    };
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The endpoint closes (idempotent): out of the bridge and the room. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#host.removed(this);
  }
}
