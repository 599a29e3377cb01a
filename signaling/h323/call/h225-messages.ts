/**
 * The H.225.0 call signalling messages Carillon sends as the called side (flag set): Q.931
 * messages with their IEs and the H323-UserInformation in the User-user IE, built from the
 * generated types (asn/h225.ts). Carillon names itself an MCU (`destinationInfo.mcu`), echoes the
 * caller's callIdentifier and conferenceID, and marks the v4+ extension additions that are not
 * optional (callIdentifier, multipleCalls, maintainConnection, h245Tunneling) as present.
 */
import type { AliasAddress, EndpointType, H323_UU_PDU, ReleaseCompleteReason, TransportAddress } from '../asn/h225.ts';
import { H323_UserInformation } from '../asn/h225.ts';
import { encode } from '../per/index.ts';
import { CAUSE } from '../q931/causes.ts';
import { progressIndicatorIe } from '../q931/ies.ts';
import { causeIe, displayIe, encodeQ931, Q931_TYPE, userUserIe } from '../q931/q931.ts';
import type { Q931Ie } from '../q931/q931.ts';
import type { TransportAddr } from './fast-connect.ts';

/** H.225.0 v4 (`{itu-t(0) recommendation(0) h(8) 2250 version(0) 4}`): the version every peer since 2000 takes. */
export const H225_PROTOCOL_ID: readonly number[] = [0, 0, 8, 2250, 0, 4];

/** Carillon as an endpoint: a multipoint control unit (a meeting bridge). */
export const CARILLON_ENDPOINT: EndpointType = { mcu: {}, mc: false, undefinedNode: false };

/** What every message of one call carries. */
export interface CallIds {
  readonly callReference: number;
  readonly callIdentifier: Buffer;
  readonly conferenceId: Buffer;
}

/** How H.245 travels with a message: tunnelled PDUs, whether tunnelling is on, and Carillon's own H.245 address. */
export interface H245Carriage {
  readonly tunnelling: boolean;
  readonly h245Control?: readonly Buffer[];
  readonly h245Address?: TransportAddr | undefined;
}

/** An IPv4 transport address in H.225.0 terms; undefined for one Carillon cannot write. */
export function h225Address(a: TransportAddr | undefined): TransportAddress | undefined {
  if (a === undefined || !/^\d{1,3}(\.\d{1,3}){3}$/.test(a.address)) return undefined;
  return { choice: 'ipAddress', value: { ip: Buffer.from(a.address.split('.').map(Number)), port: a.port } };
}

/** The IPv4 address an H.225.0 TransportAddress names, if it is one. */
export function readH225Address(t: TransportAddress | undefined): TransportAddr | undefined {
  if (t?.choice !== 'ipAddress' || t.value.ip.length !== 4) return undefined;
  const address = [...t.value.ip].join('.');
  return t.value.port > 0 && address !== '0.0.0.0' ? { address, port: t.value.port } : undefined;
}

function pdu(body: H323_UU_PDU['h323-message-body'], h: H245Carriage): Buffer {
  const p: H323_UU_PDU = {
    'h323-message-body': body,
    h245Tunneling: h.tunnelling,
    ...(h.h245Control !== undefined && h.h245Control.length > 0 ? { h245Control: [...h.h245Control] } : {}),
  };
  return encode(H323_UserInformation, { 'h323-uu-pdu': p });
}

function q931(type: number, ids: CallIds, ies: readonly Q931Ie[], uu: Buffer): Buffer {
  return encodeQ931({ callReference: ids.callReference, fromDestination: true, type, ies: [...ies, userUserIe(uu)] });
}

/** Fields the responses to Setup share. */
interface ResponseFields {
  readonly fastStart?: readonly Buffer[] | undefined;
  readonly fastConnectRefused?: boolean;
}

function common(ids: CallIds, h: H245Carriage, f: ResponseFields) {
  const addr = h225Address(h.h245Address);
  return {
    protocolIdentifier: H225_PROTOCOL_ID,
    destinationInfo: CARILLON_ENDPOINT,
    ...(addr === undefined ? {} : { h245Address: addr }),
    callIdentifier: { guid: ids.callIdentifier },
    ...(f.fastStart !== undefined && f.fastStart.length > 0 ? { fastStart: [...f.fastStart] } : {}),
    multipleCalls: false,
    maintainConnection: false,
    ...(f.fastConnectRefused === true ? { fastConnectRefused: null } : {}),
  };
}

export function callProceeding(ids: CallIds, h: H245Carriage, f: ResponseFields = {}): Buffer {
  return q931(Q931_TYPE.callProceeding, ids, [], pdu({ choice: 'callProceeding', value: common(ids, h, f) }, h));
}

export function alerting(ids: CallIds, h: H245Carriage, f: ResponseFields = {}): Buffer {
  return q931(Q931_TYPE.alerting, ids, [progressIndicatorIe()], pdu({ choice: 'alerting', value: common(ids, h, f) }, h));
}

export function progress(ids: CallIds, h: H245Carriage, f: ResponseFields = {}): Buffer {
  return q931(Q931_TYPE.progress, ids, [progressIndicatorIe()], pdu({ choice: 'progress', value: { ...common(ids, h, f), callIdentifier: { guid: ids.callIdentifier } } }, h));
}

/** Connect: no Bearer capability (Codian-style peers refuse one in Connect), the caller's conferenceID echoed. */
export function connect(ids: CallIds, h: H245Carriage, f: ResponseFields & { readonly display?: string; readonly connectedAddress?: readonly AliasAddress[] } = {}): Buffer {
  const ies = f.display === undefined ? [] : [displayIe(f.display)];
  const value = { ...common(ids, h, f), conferenceID: ids.conferenceId, ...(f.connectedAddress === undefined ? {} : { connectedAddress: [...f.connectedAddress] }) };
  return q931(Q931_TYPE.connect, ids, ies, pdu({ choice: 'connect', value }, h));
}

/** A Facility carrying only tunnelled H.245 (`h323-message-body` empty, v4+). */
export function facilityTunnel(ids: CallIds, h245Control: readonly Buffer[]): Buffer {
  return q931(Q931_TYPE.facility, ids, [], pdu({ choice: 'empty', value: null }, { tunnelling: true, h245Control }));
}

/** A Facility asking the caller to open H.245 to Carillon's address (reason startH245). */
export function facilityStartH245(ids: CallIds, h245Address: TransportAddr): Buffer {
  const addr = h225Address(h245Address);
  const value = {
    protocolIdentifier: H225_PROTOCOL_ID,
    conferenceID: ids.conferenceId,
    reason: { choice: 'startH245', value: null } as const,
    callIdentifier: { guid: ids.callIdentifier },
    ...(addr === undefined ? {} : { h245Address: addr }),
    multipleCalls: false,
    maintainConnection: false,
  };
  return q931(Q931_TYPE.facility, ids, [], pdu({ choice: 'facility', value }, { tunnelling: false }));
}

/** Status (the answer to StatusEnquiry, or to a message out of place). */
export function status(ids: CallIds, ies: readonly Q931Ie[], tunnelling: boolean): Buffer {
  return q931(Q931_TYPE.status, ids, ies, pdu({ choice: 'status', value: { protocolIdentifier: H225_PROTOCOL_ID, callIdentifier: { guid: ids.callIdentifier } } }, { tunnelling }));
}

/** The UUIE reason that goes with a Q.931 cause. */
export function releaseReasonOf(cause: number): ReleaseCompleteReason {
  switch (cause) {
    case CAUSE.unallocatedNumber:
    case CAUSE.noRouteToDestination:
      return { choice: 'unreachableDestination', value: null };
    case CAUSE.userBusy:
      return { choice: 'inConf', value: null };
    case CAUSE.callRejected:
      return { choice: 'destinationRejection', value: null };
    case CAUSE.invalidNumberFormat:
      return { choice: 'badFormatAddress', value: null };
    case CAUSE.noCircuitAvailable:
    case CAUSE.resourceUnavailable:
    case CAUSE.temporaryFailure:
    case CAUSE.switchingEquipmentCongestion:
      return { choice: 'gatewayResources', value: null };
    default:
      return { choice: 'undefinedReason', value: null };
  }
}

/** ReleaseComplete with the Cause IE and the UUIE reason (h323plus reads either; both go). */
export function releaseComplete(ids: CallIds, cause: number, tunnelling: boolean): Buffer {
  const value = { protocolIdentifier: H225_PROTOCOL_ID, reason: releaseReasonOf(cause), callIdentifier: { guid: ids.callIdentifier } };
  return q931(Q931_TYPE.releaseComplete, ids, [causeIe(cause)], pdu({ choice: 'releaseComplete', value }, { tunnelling }));
}

/** The cause Carillon gives when a connection's bytes cannot be a call (Q.931 §5.8: invalid message). */
export const MALFORMED_CAUSE = CAUSE.invalidMessage;

/** The H.225.0 fields of a message the leg reads (fastStart, h245Address, the tunnelled PDUs). */
export function bodyFields(p: H323_UU_PDU): { readonly fastStart?: readonly Buffer[]; readonly h245Address?: TransportAddr | undefined } {
  const b = p['h323-message-body'];
  switch (b.choice) {
    case 'setup':
    case 'facility':
    case 'callProceeding':
    case 'alerting':
    case 'connect':
    case 'progress':
      return { ...(b.value.fastStart === undefined ? {} : { fastStart: b.value.fastStart }), h245Address: readH225Address(b.value.h245Address) };
    default:
      return {};
  }
}
