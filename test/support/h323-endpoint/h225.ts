/**
 * The H.225.0 (v6) call-signalling types the test endpoint sends and reads, written by hand from the
 * ASN.1 module (H323-MESSAGES) with the shared PER combinators. Every root component and root alternative
 * on a decoded path is modelled (PER cannot skip them); extension additions the endpoint does not look
 * at are named with `rest` (kept as bytes) or left to the runtime's unknown-extension handling.
 */
import {
  bool,
  charString,
  choice,
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

export const h221NonStandard = seq(
  { t35CountryCode: req(int(0, 255)), t35Extension: req(int(0, 255)), manufacturerCode: req(int(0, 65535)) },
  { extensible: true },
);

export const nonStandardParameter = seq({
  nonStandardIdentifier: req(choice({ object: objectIdentifier, h221NonStandard }, { extensible: true })),
  data: req(octets()),
});

const ipv4 = octets({ lb: 4, ub: 4 });
const port = int(0, 65535);

export const transportAddress = choice(
  {
    ipAddress: seq({ ip: req(ipv4), port: req(port) }),
    ipSourceRoute: seq(
      {
        ip: req(ipv4),
        port: req(port),
        route: req(seqOf(ipv4)),
        routing: req(choice({ strict: nul, loose: nul }, { extensible: true })),
      },
      { extensible: true },
    ),
    ipxAddress: seq({
      node: req(octets({ lb: 6, ub: 6 })),
      netnum: req(octets({ lb: 4, ub: 4 })),
      port: req(octets({ lb: 2, ub: 2 })),
    }),
    ip6Address: seq({ ip: req(octets({ lb: 16, ub: 16 })), port: req(port) }, { extensible: true }),
    netBios: octets({ lb: 16, ub: 16 }),
    nsap: octets({ lb: 1, ub: 20 }),
    nonStandardAddress: nonStandardParameter,
  },
  { extensible: true },
);
export type TransportAddress = ValueOf<typeof transportAddress>;

export const aliasAddress = choice(
  {
    dialedDigits: charString('IA5String', { size: { lb: 1, ub: 128 }, from: '0123456789#*,' }),
    'h323-ID': charString('BMPString', { size: { lb: 1, ub: 256 } }),
  },
  {
    additions: {
      'url-ID': charString('IA5String', { size: { lb: 1, ub: 512 } }),
      transportID: transportAddress,
      'email-ID': charString('IA5String', { size: { lb: 1, ub: 512 } }),
    },
  },
);
export type AliasAddress = ValueOf<typeof aliasAddress>;
const aliases = seqOf(aliasAddress);

export const vendorIdentifier = seq(
  {
    vendor: req(h221NonStandard),
    productId: opt(octets({ lb: 1, ub: 256 })),
    versionId: opt(octets({ lb: 1, ub: 256 })),
  },
  { additions: { enterpriseNumber: opt(objectIdentifier) } },
);

/** GatekeeperInfo, TerminalInfo, McuInfo and the H310Caps… family share this root. */
const nonStandardOnly = seq({ nonStandardData: opt(nonStandardParameter) }, { extensible: true });

const supportedProtocols = choice(
  {
    nonStandardData: nonStandardParameter,
    h310: nonStandardOnly,
    h320: nonStandardOnly,
    h321: nonStandardOnly,
    h322: nonStandardOnly,
    h323: nonStandardOnly,
    h324: nonStandardOnly,
    voice: nonStandardOnly,
    't120-only': nonStandardOnly,
  },
  { extensible: true },
);

export const endpointType = seq(
  {
    nonStandardData: opt(nonStandardParameter),
    vendor: opt(vendorIdentifier),
    gatekeeper: opt(nonStandardOnly),
    gateway: opt(
      seq({ protocol: opt(seqOf(supportedProtocols)), nonStandardData: opt(nonStandardParameter) }, { extensible: true }),
    ),
    mcu: opt(nonStandardOnly),
    terminal: opt(nonStandardOnly),
    mc: req(bool),
    undefinedNode: req(bool),
  },
  { extensible: true },
);
export type EndpointType = ValueOf<typeof endpointType>;

export const guid = octets({ lb: 16, ub: 16 });
export const callIdentifier = seq({ guid: req(guid) }, { extensible: true });
const fastStart = seqOf(octets());

export const setupUuie = seq(
  {
    protocolIdentifier: req(objectIdentifier),
    h245Address: opt(transportAddress),
    sourceAddress: opt(aliases),
    sourceInfo: req(endpointType),
    destinationAddress: opt(aliases),
    destCallSignalAddress: opt(transportAddress),
    destExtraCallInfo: opt(aliases),
    destExtraCRV: opt(seqOf(int(0, 65535))),
    activeMC: req(bool),
    conferenceID: req(guid),
    conferenceGoal: req(
      choice(
        { create: nul, join: nul, invite: nul },
        { additions: { 'capability-negotiation': nul, callIndependentSupplementaryService: nul } },
      ),
    ),
    callServices: opt(notModelled('QseriesOptions')),
    callType: req(choice({ pointToPoint: nul, oneToN: nul, nToOne: nul, nToN: nul }, { extensible: true })),
  },
  {
    additions: {
      sourceCallSignalAddress: opt(transportAddress),
      remoteExtensionAddress: opt(aliasAddress),
      callIdentifier: opt(callIdentifier),
      h245SecurityCapability: opt(rest),
      tokens: opt(rest),
      cryptoTokens: opt(rest),
      fastStart: opt(fastStart),
      mediaWaitForConnect: opt(bool),
      canOverlapSend: opt(bool),
      endpointIdentifier: opt(rest),
      multipleCalls: opt(bool),
      maintainConnection: opt(bool),
    },
  },
);
export type SetupUuie = ValueOf<typeof setupUuie>;

/** The additions CallProceeding, Alerting and Progress share up to maintainConnection. */
const responseAdditions = {
  callIdentifier: opt(callIdentifier),
  h245SecurityMode: opt(rest),
  tokens: opt(rest),
  cryptoTokens: opt(rest),
  fastStart: opt(fastStart),
  multipleCalls: opt(bool),
  maintainConnection: opt(bool),
};

export const callProceedingUuie = seq(
  { protocolIdentifier: req(objectIdentifier), destinationInfo: req(endpointType), h245Address: opt(transportAddress) },
  { additions: { ...responseAdditions, fastConnectRefused: opt(nul) } },
);

export const alertingUuie = seq(
  { protocolIdentifier: req(objectIdentifier), destinationInfo: req(endpointType), h245Address: opt(transportAddress) },
  {
    additions: {
      ...responseAdditions,
      alertingAddress: opt(aliases),
      presentationIndicator: opt(rest),
      screeningIndicator: opt(rest),
      fastConnectRefused: opt(nul),
    },
  },
);

export const connectUuie = seq(
  {
    protocolIdentifier: req(objectIdentifier),
    h245Address: opt(transportAddress),
    destinationInfo: req(endpointType),
    conferenceID: req(guid),
  },
  {
    additions: {
      ...responseAdditions,
      language: opt(rest),
      connectedAddress: opt(aliases),
      presentationIndicator: opt(rest),
      screeningIndicator: opt(rest),
      fastConnectRefused: opt(nul),
    },
  },
);
export type ConnectUuie = ValueOf<typeof connectUuie>;

const informationUuie = seq({ protocolIdentifier: req(objectIdentifier) }, { additions: { callIdentifier: opt(callIdentifier) } });

export const releaseCompleteReason = choice(
  {
    noBandwidth: nul,
    gatekeeperResources: nul,
    unreachableDestination: nul,
    destinationRejection: nul,
    invalidRevision: nul,
    noPermission: nul,
    unreachableGatekeeper: nul,
    gatewayResources: nul,
    badFormatAddress: nul,
    adaptiveBusy: nul,
    inConf: nul,
    undefinedReason: nul,
  },
  {
    additions: {
      facilityCallDeflection: nul,
      securityDenied: nul,
      calledPartyNotRegistered: nul,
      callerNotRegistered: nul,
      newConnectionNeeded: nul,
      nonStandardReason: nonStandardParameter,
      replaceWithConferenceInvite: guid,
      genericDataReason: nul,
      neededFeatureNotSupported: nul,
      tunnelledSignallingRejected: nul,
      invalidCID: nul,
      securityError: rest,
      hopCountExceeded: nul,
    },
  },
);

export const releaseCompleteUuie = seq(
  { protocolIdentifier: req(objectIdentifier), reason: opt(releaseCompleteReason) },
  { additions: { callIdentifier: opt(callIdentifier) } },
);

export const facilityReason = choice(
  { routeCallToGatekeeper: nul, callForwarded: nul, routeCallToMC: nul, undefinedReason: nul },
  {
    additions: {
      conferenceListChoice: nul,
      startH245: nul,
      noH245: nul,
      newTokens: nul,
      featureSetUpdate: nul,
      forwardedElements: nul,
      transportedInformation: nul,
    },
  },
);

export const facilityUuie = seq(
  {
    protocolIdentifier: req(objectIdentifier),
    alternativeAddress: opt(transportAddress),
    alternativeAliasAddress: opt(aliases),
    conferenceID: opt(guid),
    reason: req(facilityReason),
  },
  {
    additions: {
      callIdentifier: opt(callIdentifier),
      destExtraCallInfo: opt(aliases),
      remoteExtensionAddress: opt(aliasAddress),
      tokens: opt(rest),
      cryptoTokens: opt(rest),
      conferences: opt(rest),
      h245Address: opt(transportAddress),
      fastStart: opt(fastStart),
      multipleCalls: opt(bool),
      maintainConnection: opt(bool),
      fastConnectRefused: opt(nul),
    },
  },
);

const tokens = seqOf(notModelled('ClearToken'));
const cryptoTokens = seqOf(notModelled('CryptoH323Token'));

/** Status-UUIE and StatusInquiry-UUIE have the same root. */
export const statusUuie = seq(
  { protocolIdentifier: req(objectIdentifier), callIdentifier: req(callIdentifier), tokens: opt(tokens), cryptoTokens: opt(cryptoTokens) },
  { extensible: true },
);

const progressUuie = seq(
  {
    protocolIdentifier: req(objectIdentifier),
    destinationInfo: req(endpointType),
    h245Address: opt(transportAddress),
    callIdentifier: req(callIdentifier),
    h245SecurityMode: opt(notModelled('H245Security')),
    tokens: opt(tokens),
    cryptoTokens: opt(cryptoTokens),
    fastStart: opt(fastStart),
  },
  { additions: { multipleCalls: opt(bool), maintainConnection: opt(bool), fastConnectRefused: opt(nul) } },
);

export const messageBody = choice(
  {
    setup: setupUuie,
    callProceeding: callProceedingUuie,
    connect: connectUuie,
    alerting: alertingUuie,
    information: informationUuie,
    releaseComplete: releaseCompleteUuie,
    facility: facilityUuie,
  },
  {
    // SetupAcknowledge and Notify bodies are kept as their bytes.
    additions: { progress: progressUuie, empty: nul, status: statusUuie, statusInquiry: statusUuie, setupAcknowledge: rest, notify: rest },
  },
);
export type MessageBody = ValueOf<typeof messageBody>;

export const h323UserInformation = seq(
  {
    'h323-uu-pdu': req(
      seq(
        { 'h323-message-body': req(messageBody), nonStandardData: opt(nonStandardParameter) },
        {
          additions: {
            h4501SupplementaryService: opt(rest),
            h245Tunneling: opt(bool),
            h245Control: opt(seqOf(octets())),
            nonStandardControl: opt(rest),
            callLinkage: opt(rest),
            tunnelledSignallingMessage: opt(rest),
            provisionalRespToH245Tunneling: opt(nul),
            stimulusControl: opt(rest),
            genericData: opt(rest),
          },
        },
      ),
    ),
    'user-data': opt(
      seq({ 'protocol-discriminator': req(int(0, 255)), 'user-information': req(octets({ lb: 1, ub: 131 })) }, { extensible: true }),
    ),
  },
  { extensible: true },
);
export type H323UserInformation = ValueOf<typeof h323UserInformation>;

/** H.225.0 protocolIdentifier {itu-t(0) recommendation(0) h(8) 2250 version(0) 4}. */
export const H225_PROTOCOL_V4: readonly number[] = [0, 0, 8, 2250, 0, 4];
