/**
 * The test endpoint's H.264 video (session 2), written from H.241 and RFC 6184 like the rest of the
 * endpoint: its capability (genericVideoCapability {0 0 8 241 0 0 1}, Profile 41 = Baseline, Level 42
 * = 3.1), Fast Connect proposals (one channel each way), the H.245 it takes (Carillon's video OLC,
 * the ack of its own, videoFastUpdatePicture), and an RTP pair of its own that sends a tiny
 * hand-made stream — SPS, PPS, IDR, then P slices, single NAL units on a distinct SSRC, a new key
 * frame on every VFU — and records what arrives. Real sockets and timers: test support.
 */
import { writeRtpHeader } from '../../../media/rtp/rtp-header.ts';
import type { Endpoint } from './build.ts';
import { h264VideoCapability, unicast } from './build.ts';
import { h245EndpointOf } from './fields.ts';
import type { H2250LogicalChannelParameters, H245Message, OpenLogicalChannel } from './h245.ts';
import { RtpPair } from './rtp.ts';

/** H.241 §8.1 non-interleaved packetization (mode 1). */
export const H264_MODE1_OID: readonly number[] = [0, 0, 8, 241, 0, 0, 0, 1];
export const VIDEO_PT = 109;
/** Our video channel numbers: transmit (forward) and the receive proposal. */
export const VIDEO_TX_LCN = 2;
export const VIDEO_RX_LCN = 102;

function h2250(rtp: Endpoint | undefined, rtcp: Endpoint): H2250LogicalChannelParameters {
  return {
    sessionID: 2,
    ...(rtp === undefined ? {} : { mediaChannel: unicast(rtp) }),
    mediaControlChannel: unicast(rtcp),
    dynamicRTPPayloadType: VIDEO_PT,
    mediaPacketization: { choice: 'rtpPayloadType', value: { payloadDescriptor: { choice: 'oid', value: [...H264_MODE1_OID] }, payloadType: VIDEO_PT } },
  };
}

/** Our video transmit channel: forward H.264, our RTCP. */
export function forwardVideoOlc(lcn: number, rtcp: Endpoint): OpenLogicalChannel {
  return { forwardLogicalChannelNumber: lcn, forwardLogicalChannelParameters: { dataType: { choice: 'videoData', value: h264VideoCapability() }, multiplexParameters: { choice: 'h2250LogicalChannelParameters', value: h2250(undefined, rtcp) } } };
}

/** Our video receive proposal (Fast Connect): nullData forward, H.264 and our RTP in the reverse parameters. */
export function reverseVideoOlc(lcn: number, rtp: Endpoint, rtcp: Endpoint): OpenLogicalChannel {
  return {
    forwardLogicalChannelNumber: lcn,
    forwardLogicalChannelParameters: { dataType: { choice: 'nullData', value: null }, multiplexParameters: { choice: 'none', value: null } },
    reverseLogicalChannelParameters: { dataType: { choice: 'videoData', value: h264VideoCapability() }, multiplexParameters: { choice: 'h2250LogicalChannelParameters', value: h2250(rtp, rtcp) } },
  };
}

export function videoFastUpdatePicture(lcn: number): H245Message {
  return { choice: 'command', value: { choice: 'miscellaneousCommand', value: { logicalChannelNumber: lcn, type: { choice: 'videoFastUpdatePicture', value: null } } } };
}

/** Tiny NAL units (RFC 6184 single NAL unit packets): SPS (7), PPS (8), IDR slice (5), non-IDR slice (1). */
const SPS = Buffer.from([0x67, 0x42, 0xe0, 0x1f, 0xda, 0x01, 0x40, 0x16, 0xe8, 0x06, 0xd0, 0xa1, 0x35]);
const PPS = Buffer.from([0x68, 0xce, 0x06, 0xe2]);
const IDR = Buffer.from([0x65, 0x88, 0x84, 0x00, 0x33, 0xff, 0xfe, 0xf6, 0xf0, 0xfe, 0x05, 0x36, 0x56, 0x04, 0x50]);
const P_SLICE = Buffer.from([0x41, 0x9a, 0x02, 0x04, 0x0c, 0x7f, 0xfe, 0xe1, 0x00]);

/** The NAL unit type of an RTP payload (0 when empty). */
export function nalTypeOf(payload: Buffer): number {
  return (payload[0] ?? 0) & 0x1f;
}

export class EndpointVideo {
  readonly rtp: RtpPair;
  readonly ssrc: number;
  /** Carillon's video channel to us, and where it receives ours (its RTP). */
  remoteLcn: number | undefined;
  target: { address: string; port: number } | undefined;
  /** Our own video channel (Fast Connect or H.245), once Carillon took it. */
  ownLcn: number | undefined;
  /** The logical channel numbers of every videoFastUpdatePicture Carillon sent us. */
  readonly fastUpdates: number[] = [];
  /** Why Carillon refused our video channel (OpenLogicalChannelReject cause), if it did. */
  refused: string | undefined;
  /** Key frames we sent (the first, and one per VFU). */
  keyFramesSent = 0;
  #timer: NodeJS.Timeout | undefined;
  #seq = 1;
  #ts = 0;
  #keyPending = true;

  private constructor(rtp: RtpPair, ssrc: number) {
    this.rtp = rtp;
    this.ssrc = ssrc;
  }

  static async open(address: string, ssrc: number): Promise<EndpointVideo> {
    return new EndpointVideo(await RtpPair.open(address), ssrc);
  }

  get local(): Endpoint {
    return { ip: this.rtp.rtp.address().address, port: this.rtp.rtp.address().port };
  }

  get localRtcp(): Endpoint {
    return { ip: this.local.ip, port: this.local.port + 1 };
  }

  /** Fast Connect: our transmit channel and our receive proposal. */
  proposals(): OpenLogicalChannel[] {
    return [forwardVideoOlc(VIDEO_TX_LCN, this.localRtcp), reverseVideoOlc(VIDEO_RX_LCN, this.local, this.localRtcp)];
  }

  /** A fastStart answer element: our transmit channel back with Carillon's RTP, or Carillon's channel to us. True when it was video. */
  onFastStartAnswer(olc: OpenLogicalChannel): boolean {
    const fwd = olc.forwardLogicalChannelParameters;
    if (fwd.dataType.choice === 'videoData') {
      const mp = fwd.multiplexParameters;
      const media = mp.choice === 'h2250LogicalChannelParameters' ? h245EndpointOf(mp.value.mediaChannel) : undefined;
      if (media !== undefined) this.target = { address: media.ip, port: media.port };
      this.ownLcn = olc.forwardLogicalChannelNumber;
      return true;
    }
    if (olc.reverseLogicalChannelParameters?.dataType.choice === 'videoData') {
      this.remoteLcn = olc.forwardLogicalChannelNumber;
      return true;
    }
    return false;
  }

  /** Carillon's H.245 about video: our answers, or undefined when the message is not video's. */
  onH245(m: H245Message): H245Message[] | undefined {
    if (m.choice === 'request' && m.value.choice === 'openLogicalChannel') {
      const olc = m.value.value;
      if (olc.forwardLogicalChannelParameters.dataType.choice !== 'videoData') return undefined;
      this.remoteLcn = olc.forwardLogicalChannelNumber;
      const ack: H245Message = {
        choice: 'response',
        value: {
          choice: 'openLogicalChannelAck',
          value: {
            forwardLogicalChannelNumber: olc.forwardLogicalChannelNumber,
            forwardMultiplexAckParameters: { choice: 'h2250LogicalChannelAckParameters', value: { sessionID: 2, mediaChannel: unicast(this.local), mediaControlChannel: unicast(this.localRtcp) } },
          },
        },
      };
      return [ack];
    }
    if (m.choice === 'response' && m.value.choice === 'openLogicalChannelAck' && m.value.value.forwardLogicalChannelNumber === this.ownLcn) {
      const p = m.value.value.forwardMultiplexAckParameters;
      const media = p?.choice === 'h2250LogicalChannelAckParameters' ? h245EndpointOf(p.value.mediaChannel) : undefined;
      if (media !== undefined) this.target = { address: media.ip, port: media.port };
      return [];
    }
    if (m.choice === 'response' && m.value.choice === 'openLogicalChannelReject' && m.value.value.forwardLogicalChannelNumber === this.ownLcn) {
      this.refused = m.value.value.cause.choice;
      this.ownLcn = undefined;
      return [];
    }
    if (m.choice === 'command' && m.value.choice === 'miscellaneousCommand' && m.value.value.type.choice === 'videoFastUpdatePicture') {
      this.fastUpdates.push(m.value.value.logicalChannelNumber);
      this.#keyPending = true;
      return [];
    }
    return undefined;
  }

  /** Our video channel over H.245 (slow start, or reopening after Fast Connect). */
  openChannel(lcn: number): H245Message {
    this.ownLcn = lcn;
    return { choice: 'request', value: { choice: 'openLogicalChannel', value: forwardVideoOlc(lcn, this.localRtcp) } };
  }

  /** Sends at `fps` once Carillon's address is known: SPS, PPS, IDR first and after every VFU, P slices between. */
  start(fps = 25): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => this.#frame(), Math.round(1000 / fps));
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #frame(): void {
    const to = this.target;
    if (to === undefined) return;
    this.#ts = (this.#ts + 3600) >>> 0;
    const nals = this.#keyPending ? [SPS, PPS, IDR] : [P_SLICE];
    if (this.#keyPending) this.keyFramesSent++;
    this.#keyPending = false;
    nals.forEach((nal, i) => {
      const pkt = Buffer.alloc(12 + nal.length);
      writeRtpHeader({ marker: i === nals.length - 1, payloadType: VIDEO_PT, sequence: this.#seq, timestamp: this.#ts, ssrc: this.ssrc }, pkt);
      this.#seq = (this.#seq + 1) & 0xffff;
      nal.copy(pkt, 12);
      this.rtp.rtp.send(pkt, to.port, to.address);
    });
  }

  close(): void {
    this.stop();
    this.rtp.close();
  }
}
