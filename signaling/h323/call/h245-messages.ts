/**
 * The H.245 messages Carillon sends, built from the generated types (asn/h245.ts), and the
 * readers that turn the peer's into the neutral forms the call layer uses (fast-connect.ts):
 * addresses, audio capabilities, logical channels, user input. Pure functions: no state.
 */
import { isIpLiteral, isUsablePort } from '../../../common/net-values.ts';
import type {
  AudioCapability,
  CapabilityTableEntry,
  MultimediaSystemControlMessage,
  OpenLogicalChannel,
  TerminalCapabilitySet,
  TransportAddress,
  UserInputIndication,
} from '../asn/h245.ts';
import { UNKNOWN } from '../per/index.ts';
import type { FastStartProposal, H323AudioCapability, TransportAddr } from './fast-connect.ts';
import { isAudioCapability } from './fast-connect.ts';
import { h239ControlCapability } from './h239.ts';
import { h264Capability } from './h264-capability.ts';
import { CARILLON_TERMINAL_TYPE } from './master-slave.ts';

/** H.245 v13 (`{itu-t(0) recommendation(0) h(8) 245 version(0) 13}`). */
export const H245_PROTOCOL_ID: readonly number[] = [0, 0, 8, 245, 0, 13];

/** Milliseconds per packet Carillon asks for and sends (G.711, G.722). */
export const FRAMES_PER_PACKET = 20;

// ---- addresses ----

/** An IPv4 address and port as H.245 carries it; undefined for an address Carillon cannot write. */
export function h245Address(a: TransportAddr): TransportAddress | undefined {
  if (!isIpLiteral(a.address) || a.address.includes(':') || !isUsablePort(a.port)) return undefined;
  return { choice: 'unicastAddress', value: { choice: 'iPAddress', value: { network: Buffer.from(a.address.split('.').map(Number)), tsapIdentifier: a.port } } };
}

/** The IPv4 unicast address a peer's H.245 address names, if usable. */
export function readH245Address(t: TransportAddress | undefined): TransportAddr | undefined {
  if (t?.choice !== 'unicastAddress' || t.value.choice !== 'iPAddress') return undefined;
  const ip = t.value.value.network;
  if (ip.length !== 4) return undefined;
  const a = { address: [...ip].join('.'), port: t.value.value.tsapIdentifier };
  return isUsablePort(a.port) && a.address !== '0.0.0.0' ? a : undefined;
}

// ---- audio capabilities ----

/** The audio capability of a codec name Carillon takes, with frames per packet. */
export function audioCapability(c: H323AudioCapability, framesPerPacket = FRAMES_PER_PACKET): AudioCapability {
  return { choice: c, value: framesPerPacket };
}

/** The capability name and frames per packet of an AudioCapability, if it is one Carillon takes. */
export function readAudioCapability(a: AudioCapability): { readonly capability: H323AudioCapability; readonly framesPerPacket: number } | undefined {
  if (a.choice === UNKNOWN || !isAudioCapability(a.choice)) return undefined;
  return typeof a.value === 'number' ? { capability: a.choice, framesPerPacket: a.value } : undefined;
}

// ---- messages ----

/**
 * Carillon's TerminalCapabilitySet: receive audio in `audio`'s order, user input as digits and
 * strings, the H.239 control capability (H.239 §7.1), without which room systems offer no
 * presentation token exchange (Tandberg errors when the H.239 fields are missing from the TCS), and
 * (with `video`) H.264 receive and transmit (H.241: Baseline, level 3.1), each its own alternative
 * set of the descriptor beside audio, so a peer may send and receive video while it talks.
 */
export function terminalCapabilitySet(sequenceNumber: number, audio: readonly H323AudioCapability[], video = true): MultimediaSystemControlMessage {
  const table: CapabilityTableEntry[] = audio.map((c, i) => ({ capabilityTableEntryNumber: i + 1, capability: { choice: 'receiveAudioCapability', value: audioCapability(c) } }));
  const uii = audio.length + 1;
  table.push({ capabilityTableEntryNumber: uii, capability: { choice: 'receiveUserInputCapability', value: { choice: 'basicString', value: null } } });
  table.push({ capabilityTableEntryNumber: uii + 1, capability: { choice: 'receiveUserInputCapability', value: { choice: 'dtmf', value: null } } });
  const h239 = uii + 2;
  table.push({ capabilityTableEntryNumber: h239, capability: h239ControlCapability() });
  const videoRx = h239 + 1;
  if (video) {
    table.push({ capabilityTableEntryNumber: videoRx, capability: { choice: 'receiveVideoCapability', value: { choice: 'genericVideoCapability', value: h264Capability() } } });
    table.push({ capabilityTableEntryNumber: videoRx + 1, capability: { choice: 'transmitVideoCapability', value: { choice: 'genericVideoCapability', value: h264Capability() } } });
  }
  const none = { multicastCapability: false, multiUniCastConference: false, mediaDistributionCapability: [] };
  const tcs: TerminalCapabilitySet = {
    sequenceNumber,
    protocolIdentifier: H245_PROTOCOL_ID,
    multiplexCapability: {
      choice: 'h2250Capability',
      value: {
        maximumAudioDelayJitter: 60,
        receiveMultipointCapability: none,
        transmitMultipointCapability: none,
        receiveAndTransmitMultipointCapability: none,
        mcCapability: { centralizedConferenceMC: false, decentralizedConferenceMC: false },
        rtcpVideoControlCapability: false,
        mediaPacketizationCapability: { h261aVideoPacketization: false },
      },
    },
    capabilityTable: table,
    capabilityDescriptors: [{ capabilityDescriptorNumber: 0, simultaneousCapabilities: [audio.map((_, i) => i + 1), ...(video ? [[videoRx], [videoRx + 1]] : []), [uii, uii + 1], [h239]] }],
  };
  return { choice: 'request', value: { choice: 'terminalCapabilitySet', value: tcs } };
}

export function terminalCapabilitySetAck(sequenceNumber: number): MultimediaSystemControlMessage {
  return { choice: 'response', value: { choice: 'terminalCapabilitySetAck', value: { sequenceNumber } } };
}

export function terminalCapabilitySetReject(sequenceNumber: number): MultimediaSystemControlMessage {
  return { choice: 'response', value: { choice: 'terminalCapabilitySetReject', value: { sequenceNumber, cause: { choice: 'unspecified', value: null } } } };
}

export function masterSlaveDetermination(statusDeterminationNumber: number): MultimediaSystemControlMessage {
  return { choice: 'request', value: { choice: 'masterSlaveDetermination', value: { terminalType: CARILLON_TERMINAL_TYPE, statusDeterminationNumber } } };
}

/** `decision` is the receiver's role. */
export function masterSlaveDeterminationAck(decision: 'master' | 'slave'): MultimediaSystemControlMessage {
  return { choice: 'response', value: { choice: 'masterSlaveDeterminationAck', value: { decision: { choice: decision, value: null } } } };
}

export function masterSlaveDeterminationReject(): MultimediaSystemControlMessage {
  return { choice: 'response', value: { choice: 'masterSlaveDeterminationReject', value: { cause: { choice: 'identicalNumbers', value: null } } } };
}

/** Carillon's transmit channel (slow start): the codec and Carillon's RTCP. */
export function openLogicalChannel(lcn: number, c: H323AudioCapability, rtcp: TransportAddr, sessionId = 1): MultimediaSystemControlMessage {
  return { choice: 'request', value: { choice: 'openLogicalChannel', value: transmitChannel(lcn, c, rtcp, sessionId) } };
}

/** An OLC for a channel Carillon transmits on. */
export function transmitChannel(lcn: number, c: H323AudioCapability, rtcp: TransportAddr, sessionId = 1, media?: TransportAddr): OpenLogicalChannel {
  const control = h245Address(rtcp);
  const mediaAddr = media === undefined ? undefined : h245Address(media);
  return {
    forwardLogicalChannelNumber: lcn,
    forwardLogicalChannelParameters: {
      dataType: { choice: 'audioData', value: audioCapability(c) },
      multiplexParameters: {
        choice: 'h2250LogicalChannelParameters',
        value: { sessionID: sessionId, ...(mediaAddr === undefined ? {} : { mediaChannel: mediaAddr }), ...(control === undefined ? {} : { mediaControlChannel: control }) },
      },
    },
  };
}

/** The answer to the peer's transmit channel: where Carillon receives its RTP and RTCP. */
export function openLogicalChannelAck(lcn: number, rtp: TransportAddr, rtcp: TransportAddr, sessionId = 1): MultimediaSystemControlMessage {
  // H.245 §7.4.5: a session ID the master assigned (the slave's OLC said 0) goes in the ack.
  const media = h245Address(rtp);
  const control = h245Address(rtcp);
  return {
    choice: 'response',
    value: {
      choice: 'openLogicalChannelAck',
      value: {
        forwardLogicalChannelNumber: lcn,
        forwardMultiplexAckParameters: {
          choice: 'h2250LogicalChannelAckParameters',
          value: { sessionID: sessionId, ...(media === undefined ? {} : { mediaChannel: media }), ...(control === undefined ? {} : { mediaControlChannel: control }) },
        },
      },
    },
  };
}

export function openLogicalChannelReject(lcn: number, cause: 'dataTypeNotSupported' | 'unspecified' | 'invalidSessionID' | 'unsuitableReverseParameters' = 'dataTypeNotSupported'): MultimediaSystemControlMessage {
  return { choice: 'response', value: { choice: 'openLogicalChannelReject', value: { forwardLogicalChannelNumber: lcn, cause: { choice: cause, value: null } } } };
}

export function closeLogicalChannel(lcn: number): MultimediaSystemControlMessage {
  return { choice: 'request', value: { choice: 'closeLogicalChannel', value: { forwardLogicalChannelNumber: lcn, source: { choice: 'user', value: null } } } };
}

export function closeLogicalChannelAck(lcn: number): MultimediaSystemControlMessage {
  return { choice: 'response', value: { choice: 'closeLogicalChannelAck', value: { forwardLogicalChannelNumber: lcn } } };
}

export function requestChannelCloseAck(lcn: number): MultimediaSystemControlMessage {
  return { choice: 'response', value: { choice: 'requestChannelCloseAck', value: { forwardLogicalChannelNumber: lcn } } };
}

export function roundTripDelayResponse(sequenceNumber: number): MultimediaSystemControlMessage {
  return { choice: 'response', value: { choice: 'roundTripDelayResponse', value: { sequenceNumber } } };
}

export function endSessionCommand(): MultimediaSystemControlMessage {
  return { choice: 'command', value: { choice: 'endSessionCommand', value: { choice: 'disconnect', value: null } } };
}

/** A key press toward the peer (UserInputIndication.signal with its duration). */
export function userInputSignal(digit: string, durationMs: number): MultimediaSystemControlMessage {
  return { choice: 'indication', value: { choice: 'userInput', value: { choice: 'signal', value: { signalType: digit, duration: Math.min(65_535, Math.max(1, Math.round(durationMs))) } } } };
}

/** A key frame request for the peer's video channel (the H.245 form of RTCP FIR/PLI). */
export function videoFastUpdatePicture(lcn: number): MultimediaSystemControlMessage {
  return { choice: 'command', value: { choice: 'miscellaneousCommand', value: { logicalChannelNumber: lcn, type: { choice: 'videoFastUpdatePicture', value: null } } } };
}

/** A Function Not Understood indication quoting a request Carillon does not do. */
export function functionNotUnderstood(m: MultimediaSystemControlMessage): MultimediaSystemControlMessage | undefined {
  if (m.choice === 'request' && m.value.choice !== UNKNOWN) return { choice: 'indication', value: { choice: 'functionNotUnderstood', value: { choice: 'request', value: m.value } } };
  if (m.choice === 'command' && m.value.choice !== UNKNOWN) return { choice: 'indication', value: { choice: 'functionNotUnderstood', value: { choice: 'command', value: m.value } } };
  return undefined;
}

// ---- reading the peer's ----

/** The key presses a UserInputIndication carries ('' when none: a signalUpdate refreshes a press already taken). */
export function userInputDigits(u: UserInputIndication): { readonly digits: string; readonly durationMs: number } {
  switch (u.choice) {
    case 'alphanumeric':
      return { digits: u.value, durationMs: 100 };
    case 'signal':
      return { digits: u.value.signalType, durationMs: u.value.duration ?? 100 };
    case 'extendedAlphanumeric':
      return { digits: u.value.alphanumeric, durationMs: 100 };
    default:
      return { digits: '', durationMs: 0 };
  }
}

/** The audio capabilities a TerminalCapabilitySet says the peer can receive, in its table's order. */
export function receiveAudioOf(tcs: TerminalCapabilitySet): H323AudioCapability[] {
  const out: H323AudioCapability[] = [];
  for (const e of tcs.capabilityTable ?? []) {
    const c = e.capability;
    if (c === undefined || (c.choice !== 'receiveAudioCapability' && c.choice !== 'receiveAndTransmitAudioCapability')) continue;
    const a = readAudioCapability(c.value);
    if (a !== undefined && !out.includes(a.capability)) out.push(a.capability);
  }
  return out;
}

/** One fastStart element (or a slow-start OLC) in the neutral form Fast Connect chooses from. */
export function proposalOf(olc: OpenLogicalChannel, index: number): FastStartProposal {
  const fwd = olc.forwardLogicalChannelParameters;
  const rev = olc.reverseLogicalChannelParameters;
  const fwdMedia = fwd.dataType.choice !== 'nullData';
  const revMedia = rev !== undefined && rev.dataType.choice !== 'nullData';
  const direction = fwdMedia ? 'to-us' : 'to-peer';
  const dataType = fwdMedia ? fwd.dataType : (rev?.dataType ?? fwd.dataType);
  const mp = fwdMedia ? fwd.multiplexParameters : rev?.multiplexParameters;
  const h2250 = mp?.choice === 'h2250LogicalChannelParameters' ? mp.value : undefined;
  let kind: FastStartProposal['kind'] = 'other';
  let capability = dataType.choice === UNKNOWN ? 'unknown' : dataType.choice;
  let framesPerPacket: number | undefined;
  if (dataType.choice === 'audioData') {
    kind = 'audio';
    const a = dataType.value;
    capability = a.choice === UNKNOWN ? 'unknown' : a.choice;
    framesPerPacket = a.choice !== UNKNOWN && typeof a.value === 'number' ? a.value : undefined;
  } else if (dataType.choice === 'videoData') {
    kind = 'video';
    capability = dataType.value.choice === UNKNOWN ? 'unknown' : dataType.value.choice;
  } else if (dataType.choice === 'data') kind = 'data';
  return {
    index,
    sessionId: h2250?.sessionID ?? 0,
    direction,
    kind,
    capability,
    framesPerPacket,
    forwardLogicalChannelNumber: olc.forwardLogicalChannelNumber,
    mediaChannel: readH245Address(h2250?.mediaChannel),
    mediaControlChannel: readH245Address(h2250?.mediaControlChannel),
    bidirectional: fwdMedia && revMedia,
  };
}

/** The fastStart answer element for a proposal Carillon takes: the proposal returned with Carillon's addresses. */
export function fastStartAnswer(olc: OpenLogicalChannel, p: FastStartProposal, local: { readonly rtp: TransportAddr; readonly rtcp: TransportAddr }, ownLcn: number): OpenLogicalChannel {
  const rtp = h245Address(local.rtp);
  const rtcp = h245Address(local.rtcp);
  if (p.direction === 'to-us') {
    const mp = olc.forwardLogicalChannelParameters.multiplexParameters;
    const h2250 = mp.choice === 'h2250LogicalChannelParameters' ? mp.value : { sessionID: p.sessionId };
    return {
      forwardLogicalChannelNumber: olc.forwardLogicalChannelNumber,
      forwardLogicalChannelParameters: {
        dataType: olc.forwardLogicalChannelParameters.dataType,
        multiplexParameters: { choice: 'h2250LogicalChannelParameters', value: { ...h2250, ...(rtp === undefined ? {} : { mediaChannel: rtp }), ...(rtcp === undefined ? {} : { mediaControlChannel: rtcp }) } },
      },
    };
  }
  const rev = olc.reverseLogicalChannelParameters;
  const mp = rev?.multiplexParameters;
  const h2250 = mp?.choice === 'h2250LogicalChannelParameters' ? mp.value : { sessionID: p.sessionId };
  return {
    forwardLogicalChannelNumber: ownLcn,
    forwardLogicalChannelParameters: { dataType: { choice: 'nullData', value: null }, multiplexParameters: { choice: 'none', value: null } },
    reverseLogicalChannelParameters: {
      dataType: rev?.dataType ?? { choice: 'nullData', value: null },
      multiplexParameters: { choice: 'h2250LogicalChannelParameters', value: { ...h2250, ...(rtcp === undefined ? {} : { mediaControlChannel: rtcp }) } },
    },
  };
}

/** A short name of a message for logs, metrics and tests ('request.terminalCapabilitySet'). */
export function h245Name(m: MultimediaSystemControlMessage): string {
  if (m.choice === UNKNOWN) return 'unknown';
  return `${m.choice}.${m.value.choice === UNKNOWN ? 'unknown' : m.value.choice}`;
}
