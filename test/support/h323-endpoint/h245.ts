/**
 * The H.245 (v13) types the test endpoint sends and reads, written by hand from the ASN.1 module
 * (MULTIMEDIA-SYSTEM-CONTROL, AUTOMATIC TAGS) with the shared PER combinators. Root alternatives the
 * endpoint never meets are `notModelled` (a typed PerError if a peer sends one); extension alternatives
 * and additions it does not read are kept as bytes by the runtime.
 */
import {
  bool,
  charString,
  choice,
  generalString,
  int,
  nul,
  objectIdentifier,
  octets,
  opt,
  req,
  seq,
  seqOf,
} from '../../../signaling/h323/per/index.ts';
import type { ValueOf } from '../../../signaling/h323/per/index.ts';
import { notModelled, rest } from './per-extra.ts';

const lcn = int(1, 65535);
const sequenceNumber = int(0, 255);
const ext = { extensible: true } as const;

export const nonStandardParameter = seq({
  nonStandardIdentifier: req(
    choice({
      object: objectIdentifier,
      h221NonStandard: seq({ t35CountryCode: req(int(0, 255)), t35Extension: req(int(0, 255)), manufacturerCode: req(int(0, 65535)) }),
    }),
  ),
  data: req(octets()),
});
const nonStandardMessage = seq({ nonStandardData: req(nonStandardParameter) }, ext);

/** CapabilityIdentifier ::= CHOICE { standard OBJECT IDENTIFIER, h221NonStandard, uuid, domainBased, ... } */
export const capabilityIdentifier = choice(
  {
    standard: objectIdentifier,
    h221NonStandard: nonStandardParameter,
    uuid: octets({ lb: 16, ub: 16 }),
    domainBased: charString('IA5String', { size: { lb: 1, ub: 64 } }),
  },
  ext,
);
const parameterIdentifier = choice(
  {
    standard: int(0, 127),
    h221NonStandard: nonStandardParameter,
    uuid: octets({ lb: 16, ub: 16 }),
    domainBased: charString('IA5String', { size: { lb: 1, ub: 64 } }),
  },
  ext,
);
/** ParameterValue: nested parameters (genericParameter) are not modelled (H.239 messages have none). */
const parameterValue = choice(
  {
    logical: nul,
    booleanArray: int(0, 255),
    unsignedMin: int(0, 65535),
    unsignedMax: int(0, 65535),
    unsigned32Min: int(0, 4294967295),
    unsigned32Max: int(0, 4294967295),
    octetString: octets(),
    genericParameter: notModelled('GenericParameter (nested)'),
  },
  ext,
);
export const genericParameter = seq({ parameterIdentifier: req(parameterIdentifier), parameterValue: req(parameterValue), supersedes: opt(seqOf(parameterIdentifier)) }, ext);
export type GenericParameter = ValueOf<typeof genericParameter>;
/** GenericCapability (genericControlCapability, genericVideoCapability): the transport alternative is not modelled. */
const genericCapability = seq(
  {
    capabilityIdentifier: req(capabilityIdentifier),
    maxBitRate: opt(int(0, 4294967295)),
    collapsing: opt(seqOf(genericParameter)),
    nonCollapsing: opt(seqOf(genericParameter)),
    nonCollapsingRaw: opt(octets()),
    transport: opt(notModelled('DataProtocolCapability')),
  },
  ext,
);
/** GenericMessage ::= SEQUENCE { messageIdentifier, subMessageIdentifier INTEGER (0..127) OPTIONAL, messageContent OPTIONAL, ... } */
export const genericMessage = seq(
  { messageIdentifier: req(capabilityIdentifier), subMessageIdentifier: opt(int(0, 127)), messageContent: opt(seqOf(genericParameter)) },
  ext,
);
export type GenericMessage = ValueOf<typeof genericMessage>;

const ipv4 = octets({ lb: 4, ub: 4 });
const tsap = int(0, 65535);
export const unicastAddress = choice(
  {
    iPAddress: seq({ network: req(ipv4), tsapIdentifier: req(tsap) }, ext),
    iPXAddress: seq(
      { node: req(octets({ lb: 6, ub: 6 })), netnum: req(octets({ lb: 4, ub: 4 })), tsapIdentifier: req(octets({ lb: 2, ub: 2 })) },
      ext,
    ),
    iP6Address: seq({ network: req(octets({ lb: 16, ub: 16 })), tsapIdentifier: req(tsap) }, ext),
    netBios: octets({ lb: 16, ub: 16 }),
    iPSourceRouteAddress: seq(
      {
        routing: req(choice({ strict: nul, loose: nul })),
        network: req(ipv4),
        tsapIdentifier: req(tsap),
        route: req(seqOf(ipv4)),
      },
      ext,
    ),
  },
  { additions: { nsap: octets({ lb: 1, ub: 20 }), nonStandardAddress: nonStandardParameter } },
);
export const transportAddress = choice(
  {
    unicastAddress,
    multicastAddress: choice(
      {
        iPAddress: seq({ network: req(ipv4), tsapIdentifier: req(tsap) }, ext),
        iP6Address: seq({ network: req(octets({ lb: 16, ub: 16 })), tsapIdentifier: req(tsap) }, ext),
      },
      { additions: { nsap: octets({ lb: 1, ub: 20 }), nonStandardAddress: nonStandardParameter } },
    ),
  },
  ext,
);
export type H245TransportAddress = ValueOf<typeof transportAddress>;

const frames = int(1, 256);
export const audioCapability = choice(
  {
    nonStandard: nonStandardParameter,
    g711Alaw64k: frames,
    g711Alaw56k: frames,
    g711Ulaw64k: frames,
    g711Ulaw56k: frames,
    'g722-64k': frames,
    'g722-56k': frames,
    'g722-48k': frames,
    g7231: seq({ 'maxAl-sduAudioFrames': req(frames), silenceSuppression: req(bool) }),
    g728: frames,
    g729: frames,
    g729AnnexA: frames,
    is11172AudioCapability: notModelled('IS11172AudioCapability'),
    is13818AudioCapability: notModelled('IS13818AudioCapability'),
  },
  { additions: { g729wAnnexB: frames, g729AnnexAwAnnexB: frames } },
);
export type AudioCapability = ValueOf<typeof audioCapability>;

const videoCapability = choice(
  {
    nonStandard: nonStandardParameter,
    h261VideoCapability: notModelled('H261VideoCapability'),
    h262VideoCapability: notModelled('H262VideoCapability'),
    h263VideoCapability: notModelled('H263VideoCapability'),
    is11172VideoCapability: notModelled('IS11172VideoCapability'),
  },
  { additions: { genericVideoCapability: genericCapability, extendedVideoCapability: rest } },
);
export type VideoCapability = ValueOf<typeof videoCapability>;
const dataApplicationCapability = notModelled('DataApplicationCapability');

export const userInputCapability = choice(
  {
    nonStandard: seqOf(nonStandardParameter, { lb: 1, ub: 16 }),
    basicString: nul,
    iA5String: nul,
    generalString: nul,
    dtmf: nul,
    hookflash: nul,
  },
  ext,
);

export const capability = choice(
  {
    nonStandard: nonStandardParameter,
    receiveVideoCapability: videoCapability,
    transmitVideoCapability: videoCapability,
    receiveAndTransmitVideoCapability: videoCapability,
    receiveAudioCapability: audioCapability,
    transmitAudioCapability: audioCapability,
    receiveAndTransmitAudioCapability: audioCapability,
    receiveDataApplicationCapability: dataApplicationCapability,
    transmitDataApplicationCapability: dataApplicationCapability,
    receiveAndTransmitDataApplicationCapability: dataApplicationCapability,
    h233EncryptionTransmitCapability: bool,
    h233EncryptionReceiveCapability: seq({ h233IVResponseTime: req(int(0, 255)) }, ext),
  },
  {
    additions: {
      conferenceCapability: rest,
      h235SecurityCapability: rest,
      maxPendingReplacementFor: int(0, 255),
      receiveUserInputCapability: userInputCapability,
      transmitUserInputCapability: userInputCapability,
      receiveAndTransmitUserInputCapability: userInputCapability,
      genericControlCapability: genericCapability,
    },
  },
);
export type Capability = ValueOf<typeof capability>;

const mediaDistributionCapability = seq(
  {
    centralizedControl: req(bool),
    distributedControl: req(bool),
    centralizedAudio: req(bool),
    distributedAudio: req(bool),
    centralizedVideo: req(bool),
    distributedVideo: req(bool),
    centralizedData: opt(seqOf(dataApplicationCapability)),
    distributedData: opt(seqOf(dataApplicationCapability)),
  },
  ext,
);
const multipointCapability = seq(
  { multicastCapability: req(bool), multiUniCastConference: req(bool), mediaDistributionCapability: req(seqOf(mediaDistributionCapability)) },
  ext,
);
export const rtpPayloadType = seq(
  {
    payloadDescriptor: req(
      choice({ nonStandardIdentifier: nonStandardParameter, 'rfc-number': int(1, 32768, ext), oid: objectIdentifier }, ext),
    ),
    payloadType: opt(int(0, 127)),
  },
  ext,
);
const h2250Capability = seq(
  {
    maximumAudioDelayJitter: req(int(0, 1023)),
    receiveMultipointCapability: req(multipointCapability),
    transmitMultipointCapability: req(multipointCapability),
    receiveAndTransmitMultipointCapability: req(multipointCapability),
    mcCapability: req(seq({ centralizedConferenceMC: req(bool), decentralizedConferenceMC: req(bool) }, ext)),
    rtcpVideoControlCapability: req(bool),
    mediaPacketizationCapability: req(
      seq({ h261aVideoPacketization: req(bool) }, { additions: { rtpPayloadType: opt(seqOf(rtpPayloadType, { lb: 1, ub: 256 })) } }),
    ),
  },
  {
    additions: {
      transportCapability: opt(rest),
      redundancyEncodingCapability: opt(rest),
      logicalChannelSwitchingCapability: opt(bool),
      t120DynamicPortCapability: opt(bool),
    },
  },
);
const multiplexCapability = choice(
  {
    nonStandard: nonStandardParameter,
    h222Capability: notModelled('H222Capability'),
    h223Capability: notModelled('H223Capability'),
    v76Capability: notModelled('V76Capability'),
  },
  { additions: { h2250Capability } },
);

export const terminalCapabilitySet = seq(
  {
    sequenceNumber: req(sequenceNumber),
    protocolIdentifier: req(objectIdentifier),
    multiplexCapability: opt(multiplexCapability),
    capabilityTable: opt(
      seqOf(seq({ capabilityTableEntryNumber: req(int(1, 65535)), capability: opt(capability) }), { lb: 1, ub: 256 }),
    ),
    capabilityDescriptors: opt(
      seqOf(
        seq({
          capabilityDescriptorNumber: req(int(0, 255)),
          simultaneousCapabilities: opt(seqOf(seqOf(int(1, 65535), { lb: 1, ub: 256 }), { lb: 1, ub: 256 })),
        }),
        { lb: 1, ub: 256 },
      ),
    ),
  },
  ext,
);
export type TerminalCapabilitySet = ValueOf<typeof terminalCapabilitySet>;

const masterSlaveDetermination = seq({ terminalType: req(int(0, 255)), statusDeterminationNumber: req(int(0, 16777215)) }, ext);

export const dataType = choice(
  {
    nonStandard: nonStandardParameter,
    nullData: nul,
    videoData: videoCapability,
    audioData: audioCapability,
    data: dataApplicationCapability,
    encryptionData: notModelled('EncryptionMode'),
  },
  ext,
);

export const h2250LogicalChannelParameters = seq(
  {
    nonStandard: opt(seqOf(nonStandardParameter)),
    sessionID: req(int(0, 255)),
    associatedSessionID: opt(int(1, 255)),
    mediaChannel: opt(transportAddress),
    mediaGuaranteedDelivery: opt(bool),
    mediaControlChannel: opt(transportAddress),
    mediaControlGuaranteedDelivery: opt(bool),
    silenceSuppression: opt(bool),
    destination: opt(seq({ mcuNumber: req(int(0, 192)), terminalNumber: req(int(0, 192)) }, ext)),
    dynamicRTPPayloadType: opt(int(96, 127)),
    mediaPacketization: opt(choice({ h261aVideoPacketization: nul }, { additions: { rtpPayloadType } })),
  },
  ext,
);
export type H2250LogicalChannelParameters = ValueOf<typeof h2250LogicalChannelParameters>;

export const openLogicalChannel = seq(
  {
    forwardLogicalChannelNumber: req(lcn),
    forwardLogicalChannelParameters: req(
      seq(
        {
          portNumber: opt(int(0, 65535)),
          dataType: req(dataType),
          multiplexParameters: req(
            choice(
              {
                h222LogicalChannelParameters: notModelled('H222LogicalChannelParameters'),
                h223LogicalChannelParameters: notModelled('H223LogicalChannelParameters'),
                v76LogicalChannelParameters: notModelled('V76LogicalChannelParameters'),
              },
              { additions: { h2250LogicalChannelParameters, none: nul } },
            ),
          ),
        },
        { additions: { forwardLogicalChannelDependency: opt(lcn), replacementFor: opt(lcn) } },
      ),
    ),
    reverseLogicalChannelParameters: opt(
      seq(
        {
          dataType: req(dataType),
          multiplexParameters: opt(
            choice(
              {
                h223LogicalChannelParameters: notModelled('H223LogicalChannelParameters'),
                v76LogicalChannelParameters: notModelled('V76LogicalChannelParameters'),
              },
              { additions: { h2250LogicalChannelParameters } },
            ),
          ),
        },
        { additions: { reverseLogicalChannelDependency: opt(lcn), replacementFor: opt(lcn) } },
      ),
    ),
  },
  { additions: { separateStack: opt(rest), encryptionSync: opt(rest) } },
);
export type OpenLogicalChannel = ValueOf<typeof openLogicalChannel>;

export const h2250LogicalChannelAckParameters = seq(
  {
    nonStandard: opt(seqOf(nonStandardParameter)),
    sessionID: opt(int(1, 255)),
    mediaChannel: opt(transportAddress),
    mediaControlChannel: opt(transportAddress),
    dynamicRTPPayloadType: opt(int(96, 127)),
  },
  { additions: { flowControlToZero: opt(bool), portNumber: opt(int(0, 65535)) } },
);

export const openLogicalChannelAck = seq(
  {
    forwardLogicalChannelNumber: req(lcn),
    reverseLogicalChannelParameters: opt(
      seq(
        {
          reverseLogicalChannelNumber: req(lcn),
          portNumber: opt(int(0, 65535)),
          multiplexParameters: opt(
            choice(
              { h222LogicalChannelParameters: notModelled('H222LogicalChannelParameters') },
              { additions: { h2250LogicalChannelParameters } },
            ),
          ),
        },
        { additions: { replacementFor: opt(lcn) } },
      ),
    ),
  },
  {
    additions: {
      separateStack: opt(rest),
      forwardMultiplexAckParameters: opt(choice({ h2250LogicalChannelAckParameters }, ext)),
      encryptionSync: opt(rest),
    },
  },
);
export type OpenLogicalChannelAck = ValueOf<typeof openLogicalChannelAck>;

const openLogicalChannelReject = seq(
  {
    forwardLogicalChannelNumber: req(lcn),
    cause: req(
      choice(
        {
          unspecified: nul,
          unsuitableReverseParameters: nul,
          dataTypeNotSupported: nul,
          dataTypeNotAvailable: nul,
          unknownDataType: nul,
          dataTypeALCombinationNotSupported: nul,
        },
        ext,
      ),
    ),
  },
  ext,
);

const closeLogicalChannel = seq(
  { forwardLogicalChannelNumber: req(lcn), source: req(choice({ user: nul, lcse: nul })) },
  { additions: { reason: opt(choice({ unknown: nul, reopen: nul, reservationFailure: nul }, ext)) } },
);
const channelOnly = seq({ forwardLogicalChannelNumber: req(lcn) }, ext);
const requestChannelClose = seq(
  { forwardLogicalChannelNumber: req(lcn) },
  { additions: { qosCapability: opt(rest), reason: opt(choice({ unknown: nul, normal: nul, reopen: nul, reservationFailure: nul }, ext)) } },
);
const sequenceOnly = seq({ sequenceNumber: req(sequenceNumber) }, ext);
const empty = seq({}, ext);

export const requestMessage = choice(
  {
    nonStandard: nonStandardMessage,
    masterSlaveDetermination,
    terminalCapabilitySet,
    openLogicalChannel,
    closeLogicalChannel,
    requestChannelClose,
    multiplexEntrySend: notModelled('MultiplexEntrySend'),
    requestMultiplexEntry: notModelled('RequestMultiplexEntry'),
    requestMode: notModelled('RequestMode'),
    roundTripDelayRequest: sequenceOnly,
    maintenanceLoopRequest: notModelled('MaintenanceLoopRequest'),
  },
  { additions: { communicationModeRequest: rest, conferenceRequest: rest, multilinkRequest: rest, logicalChannelRateRequest: rest, genericRequest: genericMessage } },
);

export const responseMessage = choice(
  {
    nonStandard: nonStandardMessage,
    masterSlaveDeterminationAck: seq({ decision: req(choice({ master: nul, slave: nul })) }, ext),
    masterSlaveDeterminationReject: seq({ cause: req(choice({ identicalNumbers: nul }, ext)) }, ext),
    terminalCapabilitySetAck: sequenceOnly,
    terminalCapabilitySetReject: seq(
      {
        sequenceNumber: req(sequenceNumber),
        cause: req(
          choice(
            {
              unspecified: nul,
              undefinedTableEntryUsed: nul,
              descriptorCapacityExceeded: nul,
              tableEntryCapacityExceeded: choice({ highestEntryNumberProcessed: int(1, 65535), noneProcessed: nul }),
            },
            ext,
          ),
        ),
      },
      ext,
    ),
    openLogicalChannelAck,
    openLogicalChannelReject,
    closeLogicalChannelAck: channelOnly,
    requestChannelCloseAck: channelOnly,
    requestChannelCloseReject: seq({ forwardLogicalChannelNumber: req(lcn), cause: req(choice({ unspecified: nul }, ext)) }, ext),
    multiplexEntrySendAck: notModelled('MultiplexEntrySendAck'),
    multiplexEntrySendReject: notModelled('MultiplexEntrySendReject'),
    requestMultiplexEntryAck: notModelled('RequestMultiplexEntryAck'),
    requestMultiplexEntryReject: notModelled('RequestMultiplexEntryReject'),
    requestModeAck: notModelled('RequestModeAck'),
    requestModeReject: notModelled('RequestModeReject'),
    roundTripDelayResponse: sequenceOnly,
    maintenanceLoopAck: notModelled('MaintenanceLoopAck'),
    maintenanceLoopReject: notModelled('MaintenanceLoopReject'),
  },
  {
    additions: {
      communicationModeResponse: rest,
      conferenceResponse: rest,
      multilinkResponse: rest,
      logicalChannelRateAcknowledge: rest,
      logicalChannelRateReject: rest,
      genericResponse: genericMessage,
    },
  },
);

const miscellaneousCommand = seq(
  {
    logicalChannelNumber: req(lcn),
    type: req(
      choice(
        {
          equaliseDelay: nul,
          zeroDelay: nul,
          multipointModeCommand: nul,
          cancelMultipointModeCommand: nul,
          videoFreezePicture: nul,
          videoFastUpdatePicture: nul,
          videoFastUpdateGOB: seq({ firstGOB: req(int(0, 17)), numberOfGOBs: req(int(1, 18)) }),
          videoTemporalSpatialTradeOff: int(0, 31),
          videoSendSyncEveryGOB: nul,
          videoSendSyncEveryGOBCancel: nul,
        },
        ext,
      ),
    ),
  },
  ext,
);

export const endSessionCommand = choice(
  {
    nonStandard: nonStandardParameter,
    disconnect: nul,
    gstnOptions: choice({ telephonyMode: nul, v8bis: nul, v34DSVD: nul, v34DuplexFAX: nul, v34H324: nul }, ext),
  },
  ext,
);

export const commandMessage = choice(
  {
    nonStandard: nonStandardMessage,
    maintenanceLoopOffCommand: empty,
    sendTerminalCapabilitySet: notModelled('SendTerminalCapabilitySet'),
    encryptionCommand: notModelled('EncryptionCommand'),
    flowControlCommand: notModelled('FlowControlCommand'),
    endSessionCommand,
    miscellaneousCommand,
  },
  {
    additions: {
      communicationModeCommand: rest,
      conferenceCommand: rest,
      h223MultiplexReconfiguration: rest,
      newATMVCCommand: rest,
      mobileMultilinkReconfigurationCommand: rest,
      genericCommand: genericMessage,
    },
  },
);

export const userInputIndication = choice(
  { nonStandard: nonStandardParameter, alphanumeric: generalString },
  {
    additions: {
      userInputSupportIndication: rest,
      signal: seq(
        {
          signalType: req(charString('IA5String', { size: { lb: 1, ub: 1 }, from: '0123456789#*ABCD!' })),
          duration: opt(int(1, 65535)),
          rtp: opt(
            seq(
              { timestamp: opt(int(0, 4294967295)), expirationTime: opt(int(0, 4294967295)), logicalChannelNumber: req(lcn) },
              ext,
            ),
          ),
        },
        { additions: { rtpPayloadIndication: opt(nul) } },
      ),
      signalUpdate: seq({ duration: req(int(1, 65535)), rtp: opt(seq({ logicalChannelNumber: req(lcn) }, ext)) }, ext),
    },
  },
);
export type UserInputIndication = ValueOf<typeof userInputIndication>;

export const indicationMessage = choice(
  {
    nonStandard: nonStandardMessage,
    functionNotUnderstood: notModelled('FunctionNotUnderstood'),
    masterSlaveDeterminationRelease: empty,
    terminalCapabilitySetRelease: empty,
    openLogicalChannelConfirm: channelOnly,
    requestChannelCloseRelease: channelOnly,
    multiplexEntrySendRelease: notModelled('MultiplexEntrySendRelease'),
    requestMultiplexEntryRelease: notModelled('RequestMultiplexEntryRelease'),
    requestModeRelease: empty,
    miscellaneousIndication: notModelled('MiscellaneousIndication'),
    jitterIndication: notModelled('JitterIndication'),
    h223SkewIndication: notModelled('H223SkewIndication'),
    newATMVCIndication: notModelled('NewATMVCIndication'),
    userInput: userInputIndication,
  },
  {
    additions: {
      h2250MaximumSkewIndication: rest,
      mcLocationIndication: rest,
      conferenceIndication: rest,
      vendorIdentification: rest,
      functionNotSupported: rest,
      multilinkIndication: rest,
      logicalChannelRateRelease: rest,
      flowControlIndication: rest,
      mobileMultilinkReconfigurationIndication: rest,
      genericIndication: genericMessage,
    },
  },
);

export const multimediaSystemControlMessage = choice(
  { request: requestMessage, response: responseMessage, command: commandMessage, indication: indicationMessage },
  ext,
);
export type H245Message = ValueOf<typeof multimediaSystemControlMessage>;

/** H.239 Appendix I: the generic message identifier {0 0 8 239 2} and the control capability {0 0 8 239 1 1}. */
export const H239_MESSAGE: readonly number[] = [0, 0, 8, 239, 2];
export const H239_CONTROL: readonly number[] = [0, 0, 8, 239, 1, 1];

/** H.245 protocolIdentifier {itu-t(0) recommendation(0) h(8) 245 version(0) 13}. */
export const H245_PROTOCOL_V13: readonly number[] = [0, 0, 8, 245, 0, 13];
