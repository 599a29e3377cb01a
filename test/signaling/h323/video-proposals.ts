/**
 * A caller's Fast Connect proposals as room systems send them, for the H.323 video tests: G.711
 * µ-law one channel each way (session 1), and H.264 (session 2) one channel each way.
 */
import type { OpenLogicalChannel } from '../../../signaling/h323/asn/h245.ts';
import * as h245 from '../../../signaling/h323/call/h245-messages.ts';
import { h264Capability, H264_NON_INTERLEAVED_OID, H264_SINGLE_NAL_OID } from '../../../signaling/h323/call/h264-capability.ts';
import type { Proposal } from '../../../signaling/h323/call/video-channels.ts';

export const addr = (address: string, port: number) => h245.h245Address({ address, port }) as NonNullable<ReturnType<typeof h245.h245Address>>;

/** G.711 µ-law: the caller's transmit channel 1 and its receive channel 101 on 192.0.2.20:7000. */
export function audioProposals(): OpenLogicalChannel[] {
  const audio = { choice: 'audioData' as const, value: { choice: 'g711Ulaw64k' as const, value: 20 } };
  return [
    { forwardLogicalChannelNumber: 1, forwardLogicalChannelParameters: { dataType: audio, multiplexParameters: { choice: 'h2250LogicalChannelParameters', value: { sessionID: 1, mediaControlChannel: addr('192.0.2.20', 7001) } } } },
    {
      forwardLogicalChannelNumber: 101,
      forwardLogicalChannelParameters: { dataType: { choice: 'nullData', value: null }, multiplexParameters: { choice: 'none', value: null } },
      reverseLogicalChannelParameters: { dataType: audio, multiplexParameters: { choice: 'h2250LogicalChannelParameters', value: { sessionID: 1, mediaChannel: addr('192.0.2.20', 7000), mediaControlChannel: addr('192.0.2.20', 7001) } } },
    },
  ];
}

/** A caller's H.264 proposals (session 2): its transmit channel 2 and its receive channel 102 on 192.0.2.20:7002. */
export function videoProposals(level = 71, singleNal = false): Proposal[] {
  const video = { choice: 'videoData' as const, value: { choice: 'genericVideoCapability' as const, value: { ...h264Capability(), collapsing: [
    { parameterIdentifier: { choice: 'standard' as const, value: 41 }, parameterValue: { choice: 'booleanArray' as const, value: 64 } },
    { parameterIdentifier: { choice: 'standard' as const, value: 42 }, parameterValue: { choice: 'unsignedMin' as const, value: level } },
  ], maxBitRate: 7680 } } };
  const packetization = { choice: 'rtpPayloadType' as const, value: { payloadDescriptor: { choice: 'oid' as const, value: singleNal ? H264_SINGLE_NAL_OID : H264_NON_INTERLEAVED_OID }, payloadType: 109 } };
  const toUs: OpenLogicalChannel = {
    forwardLogicalChannelNumber: 2,
    forwardLogicalChannelParameters: { dataType: video, multiplexParameters: { choice: 'h2250LogicalChannelParameters', value: { sessionID: 2, mediaControlChannel: addr('192.0.2.20', 7003), dynamicRTPPayloadType: 109, mediaPacketization: packetization } } },
  };
  const toPeer: OpenLogicalChannel = {
    forwardLogicalChannelNumber: 102,
    forwardLogicalChannelParameters: { dataType: { choice: 'nullData', value: null }, multiplexParameters: { choice: 'none', value: null } },
    reverseLogicalChannelParameters: { dataType: video, multiplexParameters: { choice: 'h2250LogicalChannelParameters', value: { sessionID: 2, mediaChannel: addr('192.0.2.20', 7002), mediaControlChannel: addr('192.0.2.20', 7003), dynamicRTPPayloadType: 109, mediaPacketization: packetization } } },
  };
  return [toUs, toPeer].map((olc, i) => ({ olc, p: h245.proposalOf(olc, i) }));
}

