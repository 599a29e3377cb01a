/**
 * An H.323 call's main video (H.264, session 2) in the call model's terms, beside the leg's audio.
 *
 * Fast Connect: the caller's H.264 proposals (one each way) add an `m=video` line to the leg's SDP
 * offer, on the address the caller receives at; the call layer's answer line (its port) picks them
 * and they go back in the fastStart answer with Carillon's addresses (H.323 §8.1.7). An answer
 * without video (no line, or port 0) leaves the video proposals unanswered: by Fast Connect's rules
 * a proposal not returned is refused.
 *
 * Slow start: when Carillon's offer (the call layer's answer to a call without fastStart) has an
 * H.264 line, H.245 realises it beside audio: Carillon opens its video channel once the peer's TCS
 * says it receives H.264 (none: the SDP answer's video line is port 0), the peer's video OLC is
 * acked with Carillon's video RTP and RTCP, and the peer's OLCAck address is the answer's video line.
 *
 * H.245: a video OLC of the peer's is taken onto the video the call agreed (it reopens its channel,
 * e.g. after a change of picture size) and refused otherwise (OpenLogicalChannelReject), never
 * thrown on. Key frames: the call layer's RFC 5168 picture_fast_update INFO becomes
 * MiscellaneousCommand videoFastUpdatePicture on the peer's channel; the peer's, about Carillon's
 * channel, becomes such an INFO toward the call, at most one per KEY_FRAME_REQUEST_GAP_MS.
 *
 * The video line claims no `a=rtcp-fb`: H.323 endpoints take key frame requests through H.245, so
 * the meeting asks by INFO and this module turns that into H.245.
 */
import type { PeerRequest, SessionBody } from '../../../common/call-leg.ts';
import type { TimerHandle, Timers } from '../../../common/clock.ts';
import { isIpLiteral, isUsablePort } from '../../../common/net-values.ts';
import { readSdp } from '../../sdp/anchor.ts';
import type { OpenLogicalChannel } from '../asn/h245.ts';
import type { FastStartProposal, TransportAddr } from './fast-connect.ts';
import { fastStartAnswer, h245Address } from './h245-messages.ts';
import { h264Capability, h264Fmtp, H264_DEFAULT_PAYLOAD_TYPE, mediaPacketizationOf, packetizationModeOf, readH264 } from './h264-capability.ts';
import type { H264Params } from './h264-capability.ts';

/** The video session of H.245 (H.245 §7.4.5: 1 audio, 2 video, 3 data). */
export const VIDEO_SESSION_ID = 2;
/** The logical channel number Carillon gives its own fast-started video channel (audio is 1). */
export const OWN_VIDEO_LCN = 2;
/** Slow start: how long Carillon's video OLC may wait for the peer's answer before the call goes on without video. */
export const VIDEO_OPEN_WAIT_MS = 5000;
/** The least time between two key frame requests of the peer passed to the call. */
export const KEY_FRAME_REQUEST_GAP_MS = 500;

/** RFC 5168 §3 picture_fast_update. */
export const MEDIA_CONTROL_TYPE = 'application/media_control+xml';
export const PICTURE_FAST_UPDATE_XML =
  '<?xml version="1.0" encoding="utf-8" ?>\r\n<media_control>\r\n  <vc_primitive>\r\n    <to_encoder>\r\n      <picture_fast_update/>\r\n    </to_encoder>\r\n  </vc_primitive>\r\n</media_control>\r\n';

/** Whether a body asks for a full picture (RFC 5168 picture_fast_update). */
export function isPictureFastUpdate(body: SessionBody | undefined): boolean {
  if (body === undefined || body.bytes.length > 4096) return false;
  if (body.contentType.split(';')[0]?.trim().toLowerCase() !== MEDIA_CONTROL_TYPE) return false;
  return /<\s*picture_fast_update\s*\/?\s*>/.test(body.bytes.toString('utf8'));
}

/** A fastStart element with its decoded form. */
export interface Proposal {
  readonly olc: OpenLogicalChannel;
  readonly p: FastStartProposal;
}

function usable(a: TransportAddr | undefined): a is TransportAddr {
  return a !== undefined && isIpLiteral(a.address) && !a.address.includes(':') && isUsablePort(a.port);
}

function h2250Of(x: Proposal): Extract<OpenLogicalChannel['forwardLogicalChannelParameters']['multiplexParameters'], { choice: 'h2250LogicalChannelParameters' }>['value'] | undefined {
  const mp = x.p.direction === 'to-us' ? x.olc.forwardLogicalChannelParameters.multiplexParameters : x.olc.reverseLogicalChannelParameters?.multiplexParameters;
  return mp?.choice === 'h2250LogicalChannelParameters' ? mp.value : undefined;
}

function h264Of(x: Proposal): H264Params | undefined {
  const dt = x.p.direction === 'to-us' ? x.olc.forwardLogicalChannelParameters.dataType : x.olc.reverseLogicalChannelParameters?.dataType;
  return dt?.choice === 'videoData' ? readH264(dt.value) : undefined;
}

/** The first H.264 proposal of a direction Carillon can take (video session, one direction, readable). */
function videoProposal(proposals: readonly Proposal[], direction: FastStartProposal['direction']): { readonly x: Proposal; readonly h264: H264Params } | undefined {
  for (const x of proposals) {
    if (x.p.kind !== 'video' || x.p.direction !== direction || x.p.bidirectional || x.p.sessionId === 1) continue;
    if (direction === 'to-peer' && !usable(x.p.mediaChannel)) continue;
    const h264 = h264Of(x);
    if (h264 !== undefined) return { x, h264 };
  }
  return undefined;
}

/** The payload type the caller names for its H.264 (dynamicRTPPayloadType or the packetization's), else Carillon's. */
function payloadTypeOf(x: Proposal | undefined): number | undefined {
  const h = x === undefined ? undefined : h2250Of(x);
  const mp = h?.mediaPacketization;
  const pt = h?.dynamicRTPPayloadType ?? (mp?.choice === 'rtpPayloadType' ? mp.value.payloadType : undefined);
  return pt !== undefined && pt >= 96 && pt <= 127 ? pt : undefined;
}

/**
 * The SDP lines of the caller's H.264 proposals (one each way): an `m=video` line on where it
 * receives, Constrained Baseline at its level (at most 3.1), its packetization mode. Empty when
 * it proposes no video Carillon takes.
 */
export function videoOfferLines(proposals: readonly Proposal[]): string[] {
  const rx = videoProposal(proposals, 'to-peer');
  const tx = videoProposal(proposals, 'to-us');
  if (rx === undefined || tx === undefined || !usable(rx.x.p.mediaChannel)) return [];
  const media = rx.x.p.mediaChannel;
  const rtcp = rx.x.p.mediaControlChannel;
  const pt = payloadTypeOf(rx.x) ?? payloadTypeOf(tx.x) ?? H264_DEFAULT_PAYLOAD_TYPE;
  const mode = packetizationModeOf(h2250Of(rx.x));
  const kbps = rx.h264.maxBitRateBps === undefined ? undefined : Math.floor(rx.h264.maxBitRateBps / 1000);
  return [
    `m=video ${media.port} RTP/AVP ${pt}`,
    `c=IN IP4 ${media.address}`,
    ...(kbps === undefined || kbps <= 0 ? [] : [`b=AS:${kbps}`]),
    `a=rtpmap:${pt} H264/90000`,
    `a=fmtp:${pt} ${h264Fmtp(Math.min(rx.h264.levelIdc, tx.h264.levelIdc), mode)}`,
    ...(usable(rtcp) ? [`a=rtcp:${rtcp.port} IN IP4 ${rtcp.address}`] : []),
    'a=sendrecv',
  ];
}

/** Where Carillon receives video, from an SDP answer's (or offer's) H.264 video line; undefined when it has none with a port. */
export function localVideoOf(sdp: string): { readonly rtp: TransportAddr; readonly rtcp: TransportAddr; readonly payloadType: number } | undefined {
  const line = readSdp(sdp)?.media.find((m) => m.type === 'video' && m.port > 0);
  if (line === undefined || line.address === undefined) return undefined;
  const pt = line.payloads.find((x) => line.codecs.get(x)?.name === 'H264');
  if (pt === undefined) return undefined;
  return { rtp: { address: line.address, port: line.port }, rtcp: { address: line.address, port: line.rtcpPort }, payloadType: pt };
}

/** Why a peer's video OLC is refused (OpenLogicalChannelReject causes). */
export type VideoRefusal = 'dataTypeNotSupported' | 'unsuitableReverseParameters' | 'invalidSessionID';

/** What the video channels need of the leg. */
export interface VideoChannelsDeps {
  readonly timers: Timers;
  /** Sends videoFastUpdatePicture for the peer's channel `lcn`. */
  requestKeyFrame(lcn: number): void;
  /** A request toward the call layer (the peer's key frame request as INFO). */
  request(req: PeerRequest): void;
  /** Slow start: Carillon's video channel was settled by the wait running out (the answer may go). */
  settled(): void;
}

export class VideoChannels {
  readonly #deps: VideoChannelsDeps;
  /** Where Carillon receives the peer's video (the agreed video line); undefined: no video agreed. */
  #local: ReturnType<typeof localVideoOf>;
  /** The peer's transmit channel (Carillon asks it for key frames) and Carillon's own. */
  peerLcn: number | undefined;
  ownLcn: number | undefined;
  #hold: TimerHandle | undefined;
  #openWait: TimerHandle | undefined;
  #over = false;
  /** Slow start: where Carillon's own video channel stands, and where the peer receives it. */
  #slow: 'none' | 'offered' | 'opening' | 'open' | 'refused' = 'none';
  #peerRx: { readonly rtp: TransportAddr; readonly rtcp: TransportAddr | undefined; readonly levelIdc: number } | undefined;
  #peerLevel = 0;
  /** Counters: key frame requests asked of the peer, taken from it, and dropped by the bound. */
  keyFramesAsked = 0;
  keyFramesTaken = 0;
  keyFramesDropped = 0;

  constructor(deps: VideoChannelsDeps) {
    this.#deps = deps;
  }

  get agreed(): boolean {
    return this.#local !== undefined;
  }

  /**
   * The fastStart answer elements for the video proposals the call layer's answer takes (the
   * caller's channel to Carillon with Carillon's RTP and RTCP; the caller's receive channel with
   * OWN_VIDEO_LCN); empty when the answer has no video.
   */
  fastStartAnswers(proposals: readonly Proposal[], answerSdp: string): OpenLogicalChannel[] {
    const local = localVideoOf(answerSdp);
    const rx = videoProposal(proposals, 'to-peer');
    const tx = videoProposal(proposals, 'to-us');
    if (local === undefined || rx === undefined || tx === undefined) return [];
    this.#local = local;
    this.peerLcn = tx.x.olc.forwardLogicalChannelNumber;
    this.ownLcn = OWN_VIDEO_LCN;
    const toUs = fastStartAnswer(tx.x.olc, tx.x.p, local, OWN_VIDEO_LCN);
    const toPeer = fastStartAnswer(rx.x.olc, rx.x.p, local, OWN_VIDEO_LCN);
    const rev = toPeer.reverseLogicalChannelParameters;
    const mp = rev?.multiplexParameters;
    if (rev !== undefined && mp?.choice === 'h2250LogicalChannelParameters') {
      // The payload type and packetization Carillon sends with (the answer's), said outright.
      const mode = packetizationModeOf(mp.value);
      const withPt = { ...mp.value, dynamicRTPPayloadType: local.payloadType, mediaPacketization: mediaPacketizationOf(mode, local.payloadType) };
      return [toUs, { ...toPeer, reverseLogicalChannelParameters: { ...rev, multiplexParameters: { choice: 'h2250LogicalChannelParameters', value: withPt } } }];
    }
    return [toUs, toPeer];
  }

  /** Slow start: Carillon's offer, as the call layer gave it; its H.264 line (if any) is to be realised over H.245. */
  offered(sdp: string): void {
    const local = localVideoOf(sdp);
    if (local === undefined) return;
    this.#local = local;
    this.#slow = 'offered';
  }

  /**
   * Slow start, H.245 ready: Carillon's video OLC (H.264 at the lower of the two levels, its RTCP)
   * when the peer receives H.264; undefined when there is nothing to open (the answer's video is
   * then refused).
   */
  channelToOpen(peer: H264Params | undefined): OpenLogicalChannel | undefined {
    const local = this.#local;
    if (this.#slow !== 'offered' || local === undefined) return undefined;
    if (peer === undefined) {
      this.#slow = 'refused';
      return undefined;
    }
    this.#slow = 'opening';
    // A peer that never answers the OLC must not hold the call's media: without video after the wait.
    this.#openWait = this.#deps.timers.setTimeout(() => {
      this.#openWait = undefined;
      if (this.#slow !== 'opening' || this.#over) return;
      this.ownRefused();
      this.#deps.settled();
    }, VIDEO_OPEN_WAIT_MS);
    this.#peerLevel = Math.min(peer.levelIdc, 31);
    this.ownLcn = OWN_VIDEO_LCN;
    const pt = local.payloadType;
    const rtcp = h245Address(local.rtcp);
    return {
      forwardLogicalChannelNumber: OWN_VIDEO_LCN,
      forwardLogicalChannelParameters: {
        dataType: { choice: 'videoData', value: { choice: 'genericVideoCapability', value: h264Capability(this.#peerLevel) } },
        multiplexParameters: { choice: 'h2250LogicalChannelParameters', value: { sessionID: VIDEO_SESSION_ID, ...(rtcp === undefined ? {} : { mediaControlChannel: rtcp }), dynamicRTPPayloadType: pt, mediaPacketization: mediaPacketizationOf(1, pt) } },
      },
    };
  }

  /** The peer took Carillon's video channel (where it receives), or refused it. */
  ownAccepted(media: TransportAddr | undefined, rtcp: TransportAddr | undefined): void {
    if (this.#slow !== 'opening') return;
    this.#deps.timers.clearTimeout(this.#openWait);
    if (media === undefined) return this.ownRefused();
    this.#slow = 'open';
    this.#peerRx = { rtp: media, rtcp, levelIdc: this.#peerLevel };
  }

  ownRefused(): void {
    this.#deps.timers.clearTimeout(this.#openWait);
    this.#slow = 'refused';
    this.ownLcn = undefined;
  }

  /**
   * Slow start: the SDP answer's video lines once the video is settled (undefined while Carillon's
   * channel waits for the peer; none when Carillon offered no video; port 0 when the peer refused it).
   */
  answerLines(): string[] | undefined {
    const local = this.#local;
    switch (this.#slow) {
      case 'none':
        return [];
      case 'offered':
      case 'opening':
        return undefined;
      case 'refused':
        return local === undefined ? [] : [`m=video 0 RTP/AVP ${local.payloadType}`];
      case 'open': {
        const rx = this.#peerRx;
        if (rx === undefined || local === undefined) return [];
        const pt = local.payloadType;
        return [
          `m=video ${rx.rtp.port} RTP/AVP ${pt}`,
          `c=IN IP4 ${rx.rtp.address}`,
          `a=rtpmap:${pt} H264/90000`,
          `a=fmtp:${pt} ${h264Fmtp(rx.levelIdc, 1)}`,
          ...(rx.rtcp === undefined ? [] : [`a=rtcp:${rx.rtcp.port} IN IP4 ${rx.rtcp.address}`]),
          'a=sendrecv',
        ];
      }
      default: {
        const never: never = this.#slow;
        return never;
      }
    }
  }

  /** A video OLC of the peer's (H.245): where Carillon receives it, or why it is refused. */
  peerOpens(olc: OpenLogicalChannel): { readonly rtp: TransportAddr; readonly rtcp: TransportAddr; readonly sessionId: number } | VideoRefusal {
    const fwd = olc.forwardLogicalChannelParameters;
    const rev = olc.reverseLogicalChannelParameters;
    if (rev !== undefined && rev.dataType.choice !== 'nullData') return 'unsuitableReverseParameters';
    if (fwd.dataType.choice !== 'videoData' || readH264(fwd.dataType.value) === undefined) return 'dataTypeNotSupported';
    const mp = fwd.multiplexParameters;
    if (mp.choice !== 'h2250LogicalChannelParameters') return 'dataTypeNotSupported';
    const session = mp.value.sessionID;
    if (session !== 0 && session !== VIDEO_SESSION_ID) return 'invalidSessionID';
    const local = this.#local;
    if (local === undefined || this.#over) return 'dataTypeNotSupported';
    this.peerLcn = olc.forwardLogicalChannelNumber;
    return { rtp: local.rtp, rtcp: local.rtcp, sessionId: VIDEO_SESSION_ID };
  }

  /** The peer closed a channel (its video one, or another). */
  peerClosed(lcn: number): void {
    if (lcn === this.peerLcn) this.peerLcn = undefined;
  }

  /** The call layer's RFC 5168 request for a key frame: videoFastUpdatePicture on the peer's channel; false when it has none. */
  askKeyFrame(): boolean {
    const lcn = this.peerLcn;
    if (lcn === undefined || this.#over) return false;
    this.keyFramesAsked++;
    this.#deps.requestKeyFrame(lcn);
    return true;
  }

  /** The peer's videoFastUpdatePicture on `lcn`: an INFO picture_fast_update toward the call, bounded. */
  peerAsksKeyFrame(lcn: number): void {
    if (this.#over || this.ownLcn === undefined || lcn !== this.ownLcn) return;
    if (this.#hold !== undefined) {
      this.keyFramesDropped++;
      return;
    }
    this.keyFramesTaken++;
    this.#hold = this.#deps.timers.setTimeout(() => {
      this.#hold = undefined;
    }, KEY_FRAME_REQUEST_GAP_MS);
    this.#deps.request({
      method: 'INFO',
      body: { contentType: MEDIA_CONTROL_TYPE, bytes: Buffer.from(PICTURE_FAST_UPDATE_XML, 'utf8') },
      crossing: [],
      hopsLeft: 69,
      respond: () => undefined,
    });
  }

  close(): void {
    this.#over = true;
    this.#deps.timers.clearTimeout(this.#hold);
    this.#deps.timers.clearTimeout(this.#openWait);
    this.#hold = undefined;
  }
}
