/**
 * H.239 (role management and additional media channels) control messages as H.245 carries them:
 * GenericMessages whose messageIdentifier is the H.239 message OID, in the request, response,
 * command or indication envelope H.239 gives each one, and the H.239 control capability of a
 * TerminalCapabilitySet. Pure functions over the generated H.245 types (asn/h245.ts); the readers
 * never throw and say why a message is not one Carillon can use.
 *
 * Where the values come from: H.239 Appendix I (ASN.1 OIDs defined in this Recommendation), Table 7
 * (subMessageIdentifier values, as Wireshark's H.245 dissector quotes it in
 * `h245_h239subMessageIdentifier_vals`) and §8.3 (GenericParameters used in H.239 messages: bitRate 41,
 * channelId 42, symmetryBreaking 43, terminalLabel 44, acknowledge 126, reject 127 — the same numbers
 * the vendor stacks define as 0x29…0x2C, 0x7E, 0x7F).
 *
 *     H.239 message                 H.245 envelope      parameters (§8.4, §8.5)
 *     flowControlReleaseRequest  1  genericRequest      channelId, bitRate
 *     flowControlReleaseResponse 2  genericResponse     acknowledge | reject, channelId
 *     presentationTokenRequest   3  genericRequest      terminalLabel, channelId, symmetryBreaking
 *     presentationTokenResponse  4  genericResponse     acknowledge | reject, terminalLabel, channelId
 *     presentationTokenRelease   5  genericCommand      terminalLabel, channelId
 *     presentationTokenIndicateOwner 6 genericIndication terminalLabel, channelId
 */
import type { Capability, GenericMessage, GenericParameter, MultimediaSystemControlMessage, TerminalCapabilitySet } from '../asn/h245.ts';
import { UNKNOWN } from '../per/index.ts';

/** `{itu-t(0) recommendation(0) h(8) 239 generic-message(2)}`: the messageIdentifier of every H.239 message. */
export const H239_MESSAGE_OID: readonly number[] = [0, 0, 8, 239, 2];

/** `{itu-t(0) recommendation(0) h(8) 239 generic-capabilities(1) h239ControlCapability(1)}` (genericControlCapability). */
export const H239_CONTROL_CAPABILITY_OID: readonly number[] = [0, 0, 8, 239, 1, 1];

/** H.239 Table 7: subMessageIdentifier values. */
export const H239_SUB_MESSAGE = {
  flowControlReleaseRequest: 1,
  flowControlReleaseResponse: 2,
  presentationTokenRequest: 3,
  presentationTokenResponse: 4,
  presentationTokenRelease: 5,
  presentationTokenIndicateOwner: 6,
} as const;
export type H239Kind = keyof typeof H239_SUB_MESSAGE;

/** H.239 §8.3: the standard parameterIdentifiers of H.239 messages. */
export const H239_PARAMETER = { bitRate: 41, channelId: 42, symmetryBreaking: 43, terminalLabel: 44, acknowledge: 126, reject: 127 } as const;

/** The H.245 envelope each H.239 message travels in. */
const ENVELOPE = {
  flowControlReleaseRequest: 'request',
  flowControlReleaseResponse: 'response',
  presentationTokenRequest: 'request',
  presentationTokenResponse: 'response',
  presentationTokenRelease: 'command',
  presentationTokenIndicateOwner: 'indication',
} as const satisfies Record<H239Kind, 'request' | 'response' | 'command' | 'indication'>;

/**
 * One H.239 message in neutral form. `terminalLabel` is the H.245 TerminalLabel as H.239 carries it
 * (mcuNumber × 256 + terminalNumber); `channelId` the logical channel number the token or flow
 * control is for (0 when there is none yet); `bitRate` in units of 100 bit/s (H.245 convention).
 */
export type H239Message =
  | { readonly kind: 'flowControlReleaseRequest'; readonly channelId: number; readonly bitRate?: number | undefined }
  | { readonly kind: 'flowControlReleaseResponse'; readonly acknowledge: boolean; readonly channelId: number }
  | { readonly kind: 'presentationTokenRequest'; readonly terminalLabel: number; readonly channelId: number; readonly symmetryBreaking: number }
  | { readonly kind: 'presentationTokenResponse'; readonly acknowledge: boolean; readonly terminalLabel: number; readonly channelId: number }
  | { readonly kind: 'presentationTokenRelease'; readonly terminalLabel: number; readonly channelId: number }
  | { readonly kind: 'presentationTokenIndicateOwner'; readonly terminalLabel: number; readonly channelId: number };

/** Why a message is not an H.239 message Carillon can read (a bounded set: counters and tests). */
export type H239ReadFailure = 'not-generic' | 'not-h239' | 'unknown-sub-message' | 'misplaced' | 'missing-parameter';

export type H239Read = { readonly ok: true; readonly message: H239Message } | { readonly ok: false; readonly reason: H239ReadFailure };

// ---- building ----

function unsigned(id: number, value: number): GenericParameter {
  const v = Math.max(0, Math.floor(value));
  return { parameterIdentifier: { choice: 'standard', value: id }, parameterValue: v <= 0xffff ? { choice: 'unsignedMin', value: v } : { choice: 'unsigned32Min', value: Math.min(v, 0xffff_ffff) } };
}

function logical(id: number): GenericParameter {
  return { parameterIdentifier: { choice: 'standard', value: id }, parameterValue: { choice: 'logical', value: null } };
}

function contentOf(m: H239Message): GenericParameter[] {
  const P = H239_PARAMETER;
  switch (m.kind) {
    case 'flowControlReleaseRequest':
      return m.bitRate === undefined ? [unsigned(P.channelId, m.channelId)] : [unsigned(P.channelId, m.channelId), unsigned(P.bitRate, m.bitRate)];
    case 'flowControlReleaseResponse':
      return [logical(m.acknowledge ? P.acknowledge : P.reject), unsigned(P.channelId, m.channelId)];
    case 'presentationTokenRequest':
      return [unsigned(P.terminalLabel, m.terminalLabel), unsigned(P.channelId, m.channelId), unsigned(P.symmetryBreaking, m.symmetryBreaking)];
    case 'presentationTokenResponse':
      return [logical(m.acknowledge ? P.acknowledge : P.reject), unsigned(P.terminalLabel, m.terminalLabel), unsigned(P.channelId, m.channelId)];
    case 'presentationTokenRelease':
    case 'presentationTokenIndicateOwner':
      return [unsigned(P.terminalLabel, m.terminalLabel), unsigned(P.channelId, m.channelId)];
    default: {
      const never: never = m;
      return never;
    }
  }
}

/** The GenericMessage of an H.239 message. */
export function h239Generic(m: H239Message): GenericMessage {
  return { messageIdentifier: { choice: 'standard', value: [...H239_MESSAGE_OID] }, subMessageIdentifier: H239_SUB_MESSAGE[m.kind], messageContent: contentOf(m) };
}

/** The H.245 PDU of an H.239 message, in the envelope H.239 gives it. */
export function h239Message(m: H239Message): MultimediaSystemControlMessage {
  const g = h239Generic(m);
  switch (ENVELOPE[m.kind]) {
    case 'request':
      return { choice: 'request', value: { choice: 'genericRequest', value: g } };
    case 'response':
      return { choice: 'response', value: { choice: 'genericResponse', value: g } };
    case 'command':
      return { choice: 'command', value: { choice: 'genericCommand', value: g } };
    case 'indication':
      return { choice: 'indication', value: { choice: 'genericIndication', value: g } };
  }
}

/**
 * The H.239 control capability for a TerminalCapabilitySet (H.239 §7.1: a terminal "shall signal" it
 * to take part in role management; Tandberg systems fail presentation when it is missing).
 */
export function h239ControlCapability(): Capability {
  return { choice: 'genericControlCapability', value: { capabilityIdentifier: { choice: 'standard', value: [...H239_CONTROL_CAPABILITY_OID] } } };
}

// ---- reading ----

function sameOid(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Whether a GenericMessage is an H.239 one (by its messageIdentifier). */
export function isH239(g: GenericMessage): boolean {
  const id = g.messageIdentifier;
  return id.choice === 'standard' && sameOid(id.value, H239_MESSAGE_OID);
}

/** The GenericMessage an H.245 PDU carries and its envelope, if it carries one. */
export function genericOf(m: MultimediaSystemControlMessage): { readonly envelope: 'request' | 'response' | 'command' | 'indication'; readonly generic: GenericMessage } | undefined {
  if (m.choice === UNKNOWN) return undefined;
  const v = m.value;
  if (v.choice === 'genericRequest' || v.choice === 'genericResponse' || v.choice === 'genericCommand' || v.choice === 'genericIndication') return { envelope: m.choice, generic: v.value };
  return undefined;
}

/** The first standard parameter `id` of a message's content, read as an unsigned number or a logical (true). */
function param(content: readonly GenericParameter[], id: number): number | true | undefined {
  for (const p of content) {
    if (p.parameterIdentifier.choice !== 'standard' || p.parameterIdentifier.value !== id) continue;
    const v = p.parameterValue;
    switch (v.choice) {
      case 'logical':
        return true;
      case 'booleanArray':
      case 'unsignedMin':
      case 'unsignedMax':
      case 'unsigned32Min':
      case 'unsigned32Max':
        return v.value;
      default:
        return undefined;
    }
  }
  return undefined;
}

const KIND_OF_SUB: ReadonlyMap<number, H239Kind> = new Map(Object.entries(H239_SUB_MESSAGE).map(([k, v]) => [v, k as H239Kind]));

/** An H.239 message out of a GenericMessage and its envelope; never throws. */
export function readH239Generic(envelope: 'request' | 'response' | 'command' | 'indication', g: GenericMessage): H239Read {
  if (!isH239(g)) return { ok: false, reason: 'not-h239' };
  const kind = g.subMessageIdentifier === undefined ? undefined : KIND_OF_SUB.get(g.subMessageIdentifier);
  if (kind === undefined) return { ok: false, reason: 'unknown-sub-message' };
  if (ENVELOPE[kind] !== envelope) return { ok: false, reason: 'misplaced' };
  const content = (g.messageContent ?? []).slice(0, 64);
  const P = H239_PARAMETER;
  const num = (id: number): number | undefined => {
    const v = param(content, id);
    return typeof v === 'number' ? v : undefined;
  };
  const channelId = num(P.channelId);
  const terminalLabel = num(P.terminalLabel);
  // H.239 §8.4/§8.5: a response carries acknowledge or reject (a logical parameter); take acknowledge only when it alone is there.
  const ack = param(content, P.acknowledge) === true;
  const rej = param(content, P.reject) === true;
  const missing: H239Read = { ok: false, reason: 'missing-parameter' };
  switch (kind) {
    case 'flowControlReleaseRequest':
      return channelId === undefined ? missing : { ok: true, message: { kind, channelId, bitRate: num(P.bitRate) } };
    case 'flowControlReleaseResponse':
      return channelId === undefined || ack === rej ? missing : { ok: true, message: { kind, acknowledge: ack, channelId } };
    case 'presentationTokenRequest': {
      const symmetryBreaking = num(P.symmetryBreaking);
      if (terminalLabel === undefined || channelId === undefined) return missing;
      // symmetryBreaking only matters between two terminals asking at once; an absent one is taken as 0.
      return { ok: true, message: { kind, terminalLabel, channelId, symmetryBreaking: symmetryBreaking ?? 0 } };
    }
    case 'presentationTokenResponse':
      return terminalLabel === undefined || channelId === undefined || ack === rej ? missing : { ok: true, message: { kind, acknowledge: ack, terminalLabel, channelId } };
    case 'presentationTokenRelease':
    case 'presentationTokenIndicateOwner':
      return terminalLabel === undefined || channelId === undefined ? missing : { ok: true, message: { kind, terminalLabel, channelId } };
    default: {
      const never: never = kind;
      return never;
    }
  }
}

/** An H.239 message out of an H.245 PDU; never throws. */
export function readH239(m: MultimediaSystemControlMessage): H239Read {
  const g = genericOf(m);
  return g === undefined ? { ok: false, reason: 'not-generic' } : readH239Generic(g.envelope, g.generic);
}

/** Whether a peer's TerminalCapabilitySet signals the H.239 control capability. */
export function offersH239Control(tcs: TerminalCapabilitySet): boolean {
  return (tcs.capabilityTable ?? []).some((e) => {
    const c = e.capability;
    return c?.choice === 'genericControlCapability' && c.value.capabilityIdentifier.choice === 'standard' && sameOid(c.value.capabilityIdentifier.value, H239_CONTROL_CAPABILITY_OID);
  });
}
