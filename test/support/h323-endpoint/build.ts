/**
 * Builders of the messages the test endpoint sends: H.225.0 UUIEs (Setup, Facility, ReleaseComplete)
 * and H.245 PDUs (TCS, MSD and its answer, OLC/OLCAck, CLCAck, RTD response, UII, EndSession), with the
 * field values of H.225.0/H.245 §1.3–1.6 of the reference notes.
 */
import type { AliasAddress, EndpointType, H323UserInformation, SetupUuie } from './h225.ts';
import { H225_PROTOCOL_V4 } from './h225.ts';
import type { AudioCapability, GenericMessage, GenericParameter, H245Message, H245TransportAddress, OpenLogicalChannel, TerminalCapabilitySet, VideoCapability } from './h245.ts';
import { H239_CONTROL, H239_MESSAGE, H245_PROTOCOL_V13 } from './h245.ts';

export type AudioCodecName = 'g711Ulaw64k' | 'g711Alaw64k' | 'g722-64k';

/** Static RTP payload types (RFC 3551) of the audio the endpoint offers. */
export const PAYLOAD_TYPE: Readonly<Record<AudioCodecName, number>> = { g711Ulaw64k: 0, g711Alaw64k: 8, 'g722-64k': 9 };

export type Destination = { readonly dialedDigits: string } | { readonly h323Id: string } | { readonly url: string } | { readonly email: string };

export interface Endpoint {
  readonly ip: string;
  readonly port: number;
}

export function ipv4Bytes(ip: string): Buffer {
  const parts = ip.split('.').map((p) => Number(p));
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new RangeError(`not an IPv4 address: ${ip}`);
  return Buffer.from(parts);
}

export function aliasOf(d: Destination): AliasAddress {
  if ('dialedDigits' in d) return { choice: 'dialedDigits', value: d.dialedDigits };
  if ('h323Id' in d) return { choice: 'h323-ID', value: d.h323Id };
  if ('url' in d) return { choice: 'url-ID', value: d.url };
  return { choice: 'email-ID', value: d.email };
}

export const VENDOR: EndpointType = {
  vendor: {
    vendor: { t35CountryCode: 181, t35Extension: 0, manufacturerCode: 0x4354 },
    productId: Buffer.from('Carillon test room', 'latin1'),
    versionId: Buffer.from('1.0', 'latin1'),
  },
  terminal: {},
  mc: false,
  undefinedNode: false,
};

function uu(body: H323UserInformation['h323-uu-pdu']['h323-message-body'], tunneling: boolean, control: readonly Buffer[]): H323UserInformation {
  return {
    'h323-uu-pdu': {
      'h323-message-body': body,
      h245Tunneling: tunneling,
      ...(control.length > 0 ? { h245Control: [...control] } : {}),
    },
  };
}

export interface SetupFields {
  readonly name: string;
  readonly destination: readonly Destination[];
  readonly conferenceId: Buffer;
  readonly callId: Buffer;
  readonly fastStart: readonly Buffer[];
  readonly mediaWaitForConnect: boolean;
  readonly tunneling: boolean;
  readonly h245Address?: Endpoint | undefined;
  readonly h245Control: readonly Buffer[];
}

export function setupUuie(f: SetupFields): H323UserInformation {
  const setup: SetupUuie = {
    protocolIdentifier: [...H225_PROTOCOL_V4],
    ...(f.h245Address !== undefined ? { h245Address: { choice: 'ipAddress', value: { ip: ipv4Bytes(f.h245Address.ip), port: f.h245Address.port } } } : {}),
    sourceAddress: [{ choice: 'h323-ID', value: f.name }],
    sourceInfo: VENDOR,
    ...(f.destination.length > 0 ? { destinationAddress: f.destination.map(aliasOf) } : {}),
    activeMC: false,
    conferenceID: f.conferenceId,
    conferenceGoal: { choice: 'create', value: null },
    callType: { choice: 'pointToPoint', value: null },
    callIdentifier: { guid: f.callId },
    ...(f.fastStart.length > 0 ? { fastStart: [...f.fastStart] } : {}),
    mediaWaitForConnect: f.mediaWaitForConnect,
    canOverlapSend: false,
    multipleCalls: false,
    maintainConnection: false,
  };
  return uu({ choice: 'setup', value: setup }, f.tunneling, f.h245Control);
}

/** Facility with an empty body: the carrier of tunnelled H.245 (v4+). */
export function facilityEmpty(tunneling: boolean, control: readonly Buffer[]): H323UserInformation {
  return uu({ choice: 'empty', value: null }, tunneling, control);
}

export function releaseCompleteUuie(callId: Buffer, tunneling: boolean): H323UserInformation {
  return uu(
    {
      choice: 'releaseComplete',
      value: { protocolIdentifier: [...H225_PROTOCOL_V4], reason: { choice: 'undefinedReason', value: null }, callIdentifier: { guid: callId } },
    },
    tunneling,
    [],
  );
}

// ---------------------------------------------------------------- H.245

export function unicast(e: Endpoint): H245TransportAddress {
  return { choice: 'unicastAddress', value: { choice: 'iPAddress', value: { network: ipv4Bytes(e.ip), tsapIdentifier: e.port } } };
}

export function audioCapability(name: AudioCodecName, frames = 20): AudioCapability {
  return { choice: name, value: frames };
}

/** H.264 generic capabilities (H.241 §8.3.1). */
export const H264_OID: readonly number[] = [0, 0, 8, 241, 0, 0, 1];

/** H.264 Baseline at level 3.1 (H.241 Level 71), 2 Mbit/s (units of 100 bit/s); parameters 41 then 42. */
export function h264VideoCapability(): VideoCapability {
  const collapsing: GenericParameter[] = [
    { parameterIdentifier: { choice: 'standard', value: 41 }, parameterValue: { choice: 'booleanArray', value: 64 } },
    { parameterIdentifier: { choice: 'standard', value: 42 }, parameterValue: { choice: 'unsignedMin', value: 71 } },
  ];
  return { choice: 'genericVideoCapability', value: { capabilityIdentifier: { choice: 'standard', value: [...H264_OID] }, maxBitRate: 20_000, collapsing } };
}

/**
 * Our TCS: receive audio in preference order, then UII basicString and dtmf (and, with `h239`, the
 * H.239 control capability; with `video`, H.264 receive and transmit, each its own alternative set); one descriptor.
 */
export function terminalCapabilitySet(sequenceNumber: number, audio: readonly AudioCodecName[], h239 = false, video = false): H245Message {
  const mp = { multicastCapability: false, multiUniCastConference: false, mediaDistributionCapability: [] };
  const audioEntries = audio.map((a, i) => ({
    capabilityTableEntryNumber: i + 1,
    capability: { choice: 'receiveAudioCapability' as const, value: audioCapability(a) },
  }));
  const uiiBase = audio.length + 1;
  const videoBase = uiiBase + 3;
  const tcs: TerminalCapabilitySet = {
    sequenceNumber,
    protocolIdentifier: [...H245_PROTOCOL_V13],
    multiplexCapability: {
      choice: 'h2250Capability',
      value: {
        maximumAudioDelayJitter: 60,
        receiveMultipointCapability: mp,
        transmitMultipointCapability: mp,
        receiveAndTransmitMultipointCapability: mp,
        mcCapability: { centralizedConferenceMC: false, decentralizedConferenceMC: false },
        rtcpVideoControlCapability: false,
        mediaPacketizationCapability: { h261aVideoPacketization: false },
      },
    },
    capabilityTable: [
      ...audioEntries,
      { capabilityTableEntryNumber: uiiBase, capability: { choice: 'receiveUserInputCapability', value: { choice: 'basicString', value: null } } },
      { capabilityTableEntryNumber: uiiBase + 1, capability: { choice: 'receiveUserInputCapability', value: { choice: 'dtmf', value: null } } },
      ...(h239 ? [{ capabilityTableEntryNumber: uiiBase + 2, capability: { choice: 'genericControlCapability' as const, value: { capabilityIdentifier: { choice: 'standard' as const, value: [...H239_CONTROL] } } } }] : []),
      ...(video
        ? [
            { capabilityTableEntryNumber: videoBase, capability: { choice: 'receiveVideoCapability' as const, value: h264VideoCapability() } },
            { capabilityTableEntryNumber: videoBase + 1, capability: { choice: 'transmitVideoCapability' as const, value: h264VideoCapability() } },
          ]
        : []),
    ],
    capabilityDescriptors: [
      {
        capabilityDescriptorNumber: 0,
        simultaneousCapabilities: [audioEntries.map((e) => e.capabilityTableEntryNumber), [uiiBase, uiiBase + 1], h239 ? [uiiBase + 2] : [], video ? [videoBase] : [], video ? [videoBase + 1] : []].filter((s) => s.length > 0),
      },
    ],
  };
  return { choice: 'request', value: { choice: 'terminalCapabilitySet', value: tcs } };
}

export const TERMINAL_TYPE = 50;

export function masterSlaveDetermination(statusDeterminationNumber: number): H245Message {
  return { choice: 'request', value: { choice: 'masterSlaveDetermination', value: { terminalType: TERMINAL_TYPE, statusDeterminationNumber } } };
}

/**
 * Our answer to the peer's MSD (§1.6, ooh323c's rule): the higher terminalType is master; on equal
 * types the SDN difference decides, 0 or 2^23 is a Reject (identicalNumbers). The Ack's decision is
 * what the *receiver* is.
 */
export function answerMasterSlave(remoteType: number, remoteSdn: number, localSdn: number): H245Message {
  let weAreMaster: boolean;
  if (remoteType !== TERMINAL_TYPE) weAreMaster = TERMINAL_TYPE > remoteType;
  else {
    const diff = (((remoteSdn - localSdn) % 0x1000000) + 0x1000000) % 0x1000000;
    if (diff === 0 || diff === 0x800000) {
      return { choice: 'response', value: { choice: 'masterSlaveDeterminationReject', value: { cause: { choice: 'identicalNumbers', value: null } } } };
    }
    weAreMaster = diff < 0x800000;
  }
  return {
    choice: 'response',
    value: { choice: 'masterSlaveDeterminationAck', value: { decision: weAreMaster ? { choice: 'slave', value: null } : { choice: 'master', value: null } } },
  };
}

export function terminalCapabilitySetAck(sequenceNumber: number): H245Message {
  return { choice: 'response', value: { choice: 'terminalCapabilitySetAck', value: { sequenceNumber } } };
}

/** A transmit channel of ours (caller→callee in Fast Connect, or slow start): our RTCP only. */
export function forwardOlc(lcn: number, codec: AudioCodecName, rtcp: Endpoint): OpenLogicalChannel {
  return {
    forwardLogicalChannelNumber: lcn,
    forwardLogicalChannelParameters: {
      dataType: { choice: 'audioData', value: audioCapability(codec) },
      multiplexParameters: { choice: 'h2250LogicalChannelParameters', value: { sessionID: 1, mediaControlChannel: unicast(rtcp) } },
    },
  };
}

/** A receive channel proposal (callee→caller, Fast Connect): nullData forward, our RTP in the reverse params. */
export function reverseOlc(lcn: number, codec: AudioCodecName, rtp: Endpoint, rtcp: Endpoint): OpenLogicalChannel {
  return {
    forwardLogicalChannelNumber: lcn,
    forwardLogicalChannelParameters: { dataType: { choice: 'nullData', value: null }, multiplexParameters: { choice: 'none', value: null } },
    reverseLogicalChannelParameters: {
      dataType: { choice: 'audioData', value: audioCapability(codec) },
      multiplexParameters: {
        choice: 'h2250LogicalChannelParameters',
        value: { sessionID: 1, mediaChannel: unicast(rtp), mediaControlChannel: unicast(rtcp) },
      },
    },
  };
}

export function openLogicalChannel(olc: OpenLogicalChannel): H245Message {
  return { choice: 'request', value: { choice: 'openLogicalChannel', value: olc } };
}

export function openLogicalChannelAck(lcn: number, rtp: Endpoint, rtcp: Endpoint): H245Message {
  return {
    choice: 'response',
    value: {
      choice: 'openLogicalChannelAck',
      value: {
        forwardLogicalChannelNumber: lcn,
        forwardMultiplexAckParameters: {
          choice: 'h2250LogicalChannelAckParameters',
          value: { sessionID: 1, mediaChannel: unicast(rtp), mediaControlChannel: unicast(rtcp) },
        },
      },
    },
  };
}

export function closeLogicalChannelAck(lcn: number): H245Message {
  return { choice: 'response', value: { choice: 'closeLogicalChannelAck', value: { forwardLogicalChannelNumber: lcn } } };
}

export function roundTripDelayResponse(sequenceNumber: number): H245Message {
  return { choice: 'response', value: { choice: 'roundTripDelayResponse', value: { sequenceNumber } } };
}

export function endSessionCommand(): H245Message {
  return { choice: 'command', value: { choice: 'endSessionCommand', value: { choice: 'disconnect', value: null } } };
}

export function userInputSignal(digit: string, duration = 100): H245Message {
  return { choice: 'indication', value: { choice: 'userInput', value: { choice: 'signal', value: { signalType: digit, duration } } } };
}

export function userInputAlphanumeric(text: string): H245Message {
  return { choice: 'indication', value: { choice: 'userInput', value: { choice: 'alphanumeric', value: text } } };
}

/** Status Enquiry / Status contents (same root). */
export function statusUuie(kind: 'status' | 'statusInquiry', callId: Buffer, tunneling: boolean): H323UserInformation {
  return uu({ choice: kind, value: { protocolIdentifier: [...H225_PROTOCOL_V4], callIdentifier: { guid: callId } } }, tunneling, []);
}

/** The endpoint is audio-only: a channel of any other data type is refused. */
export function openLogicalChannelReject(lcn: number): H245Message {
  return {
    choice: 'response',
    value: { choice: 'openLogicalChannelReject', value: { forwardLogicalChannelNumber: lcn, cause: { choice: 'dataTypeNotSupported', value: null } } },
  };
}

// ---------------------------------------------------------------- H.239 (role management)

/** H.239 Table 7 subMessageIdentifiers and §8.3 parameter identifiers, as the endpoint writes them. */
export const H239_SUB = { flowControlReleaseRequest: 1, flowControlReleaseResponse: 2, presentationTokenRequest: 3, presentationTokenResponse: 4, presentationTokenRelease: 5, presentationTokenIndicateOwner: 6 } as const;
export const H239_PARAM = { bitRate: 41, channelId: 42, symmetryBreaking: 43, terminalLabel: 44, acknowledge: 126, reject: 127 } as const;

function h239Generic(sub: number, params: readonly (readonly [number, number | true])[]): GenericMessage {
  const content: GenericParameter[] = params.map(([id, v]) => ({
    parameterIdentifier: { choice: 'standard', value: id },
    parameterValue: v === true ? { choice: 'logical', value: null } : { choice: 'unsignedMin', value: v },
  }));
  return { messageIdentifier: { choice: 'standard', value: [...H239_MESSAGE] }, subMessageIdentifier: sub, messageContent: content };
}

/** presentationTokenRequest (genericRequest): terminalLabel, channelId, symmetryBreaking (H.239 §8.5). */
export function presentationTokenRequest(terminalLabel: number, channelId: number, symmetryBreaking: number): H245Message {
  const g = h239Generic(H239_SUB.presentationTokenRequest, [[H239_PARAM.terminalLabel, terminalLabel], [H239_PARAM.channelId, channelId], [H239_PARAM.symmetryBreaking, symmetryBreaking]]);
  return { choice: 'request', value: { choice: 'genericRequest', value: g } };
}

/** presentationTokenResponse (genericResponse): acknowledge or reject, terminalLabel, channelId. */
export function presentationTokenResponse(acknowledge: boolean, terminalLabel: number, channelId: number): H245Message {
  const g = h239Generic(H239_SUB.presentationTokenResponse, [[acknowledge ? H239_PARAM.acknowledge : H239_PARAM.reject, true], [H239_PARAM.terminalLabel, terminalLabel], [H239_PARAM.channelId, channelId]]);
  return { choice: 'response', value: { choice: 'genericResponse', value: g } };
}

/** presentationTokenRelease (genericCommand): terminalLabel, channelId. */
export function presentationTokenRelease(terminalLabel: number, channelId: number): H245Message {
  const g = h239Generic(H239_SUB.presentationTokenRelease, [[H239_PARAM.terminalLabel, terminalLabel], [H239_PARAM.channelId, channelId]]);
  return { choice: 'command', value: { choice: 'genericCommand', value: g } };
}

/** flowControlReleaseRequest (genericRequest): channelId, bitRate (units of 100 bit/s). */
export function flowControlReleaseRequest(channelId: number, bitRate: number): H245Message {
  const g = h239Generic(H239_SUB.flowControlReleaseRequest, [[H239_PARAM.channelId, channelId], [H239_PARAM.bitRate, bitRate]]);
  return { choice: 'request', value: { choice: 'genericRequest', value: g } };
}
