/**
 * The BFCP COMMON-HEADER (RFC 8855 §5.1), the primitives (§5.1 Table 1), the error codes
 * (§5.2.6 Table 5) and the typed parse error every BFCP parser returns. Pure: no sockets, timers
 * or logs. Version 2 is RFC 8855; version 1 (RFC 4582) has the same layout without the F bit and
 * is accepted on reliable transports (RFC 8855 §5.1: "ver ... 1 ... MUST only be used over
 * reliable transports").
 */

/** The COMMON-HEADER without fragment fields, octets. */
export const BFCP_HEADER_BYTES = 12;
/** The COMMON-HEADER with Fragment Offset/Length (F set), octets. */
export const BFCP_FRAGMENT_HEADER_BYTES = 16;
/** Payload Length is 16 bits of 4-octet units: the largest payload a header can announce. */
export const BFCP_MAX_PAYLOAD_BYTES = 0xffff * 4;
/** Default bound on one message, octets: a UDP datagram (or a TCP frame) is never taken larger. */
export const BFCP_DEFAULT_MAX_MESSAGE_BYTES = 65_507;

/** RFC 8855 §5.1 Table 1: the primitives, by name. */
export const PRIMITIVE = {
  FloorRequest: 1,
  FloorRelease: 2,
  FloorRequestQuery: 3,
  FloorRequestStatus: 4,
  UserQuery: 5,
  UserStatus: 6,
  FloorQuery: 7,
  FloorStatus: 8,
  ChairAction: 9,
  ChairActionAck: 10,
  Hello: 11,
  HelloAck: 12,
  Error: 13,
  FloorRequestStatusAck: 14,
  FloorStatusAck: 15,
  Goodbye: 16,
  GoodbyeAck: 17,
} as const;

export type PrimitiveName = keyof typeof PRIMITIVE;
export type Primitive = (typeof PRIMITIVE)[PrimitiveName];

const PRIMITIVE_NAMES: readonly (PrimitiveName | undefined)[] = (() => {
  const names: (PrimitiveName | undefined)[] = [];
  for (const [name, value] of Object.entries(PRIMITIVE)) names[value] = name as PrimitiveName;
  return names;
})();

/** The primitive's name, or undefined for a value RFC 8855 does not define. */
export function primitiveName(value: number): PrimitiveName | undefined {
  return PRIMITIVE_NAMES[value];
}

export function isPrimitive(value: number): value is Primitive {
  return PRIMITIVE_NAMES[value] !== undefined;
}

/** RFC 8855 §5.2.6 Table 5: the ERROR-CODE values. */
export const ERROR_CODE = {
  ConferenceDoesNotExist: 1,
  UserDoesNotExist: 2,
  UnknownPrimitive: 3,
  UnknownMandatoryAttribute: 4,
  UnauthorizedOperation: 5,
  InvalidFloorId: 6,
  FloorRequestIdDoesNotExist: 7,
  MaxFloorRequestsReached: 8,
  UseTls: 9,
  UnableToParseMessage: 10,
  UseDtls: 11,
  UnsupportedVersion: 12,
  IncorrectMessageLength: 13,
  GenericError: 14,
} as const;

export type ErrorCodeValue = (typeof ERROR_CODE)[keyof typeof ERROR_CODE];

/**
 * COMMON-HEADER (RFC 8855 §5.1, Figure 2):
 *
 *      0                   1                   2                   3
 *      0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *     | Ver |R|F| Res |  Primitive    |        Payload Length         |
 *     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *     |                         Conference ID                         |
 *     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *     |         Transaction ID        |            User ID            |
 *     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *     | Fragment Offset (if F is set) | Fragment Length (if F is set) |
 *     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * "Payload Length: ... the length of the message in 4-octet units, excluding the COMMON-HEADER."
 * When F is set the Payload Length is the whole message's, "Fragment Offset: ... the number of
 * 4-octet units contained in previous fragments, excluding the COMMON-HEADER" and "Fragment
 * Length: ... the number of 4-octet units contained in this fragment".
 */
export interface CommonHeader {
  /** 1 (RFC 4582) or 2 (RFC 8855). */
  readonly version: number;
  /** R: "the message is a response to a previous request" (meaningful over unreliable transports only). */
  readonly responder: boolean;
  /** F: the message is a fragment (unreliable transports only). */
  readonly fragmented: boolean;
  /** The primitive value as sent (may be one RFC 8855 does not define). */
  readonly primitive: number;
  /** Payload length in 4-octet units, the COMMON-HEADER excluded. */
  readonly payloadWords: number;
  readonly conferenceId: number;
  readonly transactionId: number;
  readonly userId: number;
  /** 4-octet units in earlier fragments (0 unless fragmented). */
  readonly fragmentOffsetWords: number;
  /** 4-octet units in this fragment (0 unless fragmented). */
  readonly fragmentWords: number;
}

/** Why bytes are not a BFCP message; each maps to the ERROR-CODE a server answers with. */
export type BfcpParseErrorCode =
  | 'truncated'
  | 'incorrect-length'
  | 'unsupported-version'
  | 'unknown-primitive'
  | 'unknown-mandatory-attribute'
  | 'malformed-attribute'
  | 'missing-attribute'
  | 'too-deep'
  | 'too-large'
  | 'fragment';

/** The ERROR-CODE (RFC 8855 §5.2.6) a floor control server answers each parse error with. */
export const ERROR_CODE_OF_PARSE_ERROR = {
  truncated: ERROR_CODE.IncorrectMessageLength,
  'incorrect-length': ERROR_CODE.IncorrectMessageLength,
  'unsupported-version': ERROR_CODE.UnsupportedVersion,
  'unknown-primitive': ERROR_CODE.UnknownPrimitive,
  'unknown-mandatory-attribute': ERROR_CODE.UnknownMandatoryAttribute,
  'malformed-attribute': ERROR_CODE.UnableToParseMessage,
  'missing-attribute': ERROR_CODE.UnableToParseMessage,
  'too-deep': ERROR_CODE.UnableToParseMessage,
  'too-large': ERROR_CODE.IncorrectMessageLength,
  fragment: ERROR_CODE.UnableToParseMessage,
} as const satisfies Record<BfcpParseErrorCode, ErrorCodeValue>;

/** A parse failure: a value, never thrown. */
export interface BfcpParseError {
  readonly ok: false;
  readonly code: BfcpParseErrorCode;
  /** The ERROR-CODE to answer with (ERROR_CODE_OF_PARSE_ERROR[code]). */
  readonly errorCode: ErrorCodeValue;
  /** The header when it could be read (an Error answer needs its ids); undefined otherwise. */
  readonly header: CommonHeader | undefined;
  /** For 'unknown-mandatory-attribute': the attribute types not understood, in order (§5.2.6). */
  readonly unknownTypes: readonly number[];
}

export type BfcpResult<T> = { readonly ok: true; readonly value: T } | BfcpParseError;

export function parseError(code: BfcpParseErrorCode, header: CommonHeader | undefined, unknownTypes: readonly number[] = []): BfcpParseError {
  return { ok: false, code, errorCode: ERROR_CODE_OF_PARSE_ERROR[code], header, unknownTypes };
}

/**
 * Reads the COMMON-HEADER at `offset`. Checks only the header: version 1 or 2, room for the
 * fragment fields when F is set, and F never with version 1 (RFC 4582 has no F bit). The payload
 * is not looked at; the primitive may be undefined (the message parser answers that).
 * An unsupported version still returns the header read, so the Error can carry its ids.
 */
export function parseCommonHeader(buf: Buffer, offset = 0): BfcpResult<CommonHeader> {
  if (offset < 0 || buf.length - offset < BFCP_HEADER_BYTES) return parseError('truncated', undefined);
  const b0 = buf[offset] as number;
  const version = b0 >>> 5;
  const fragmented = (b0 & 0x08) !== 0;
  const base = {
    version,
    responder: (b0 & 0x10) !== 0,
    fragmented,
    primitive: buf[offset + 1] as number,
    payloadWords: buf.readUInt16BE(offset + 2),
    conferenceId: buf.readUInt32BE(offset + 4),
    transactionId: buf.readUInt16BE(offset + 8),
    userId: buf.readUInt16BE(offset + 10),
  };
  if (!fragmented) {
    const header: CommonHeader = { ...base, fragmentOffsetWords: 0, fragmentWords: 0 };
    if (version !== 1 && version !== 2) return parseError('unsupported-version', header);
    return { ok: true, value: header };
  }
  if (buf.length - offset < BFCP_FRAGMENT_HEADER_BYTES) return parseError('truncated', { ...base, fragmentOffsetWords: 0, fragmentWords: 0 });
  const header: CommonHeader = { ...base, fragmentOffsetWords: buf.readUInt16BE(offset + 12), fragmentWords: buf.readUInt16BE(offset + 14) };
  if (version !== 2) return parseError('unsupported-version', header);
  return { ok: true, value: header };
}

/** The octets of the header (12, or 16 with F). */
export function commonHeaderBytes(header: Pick<CommonHeader, 'fragmented'>): number {
  return header.fragmented ? BFCP_FRAGMENT_HEADER_BYTES : BFCP_HEADER_BYTES;
}

/**
 * Writes the COMMON-HEADER at `offset` (Res bits zero); returns the octets written (12 or 16).
 * `buf` must have room: the caller sized it (messages.ts encodedMessageBytes).
 */
export function writeCommonHeader(header: CommonHeader, buf: Buffer, offset: number): number {
  buf[offset] = ((header.version & 0x07) << 5) | (header.responder ? 0x10 : 0) | (header.fragmented ? 0x08 : 0);
  buf[offset + 1] = header.primitive & 0xff;
  buf.writeUInt16BE(header.payloadWords & 0xffff, offset + 2);
  buf.writeUInt32BE(header.conferenceId >>> 0, offset + 4);
  buf.writeUInt16BE(header.transactionId & 0xffff, offset + 8);
  buf.writeUInt16BE(header.userId & 0xffff, offset + 10);
  if (!header.fragmented) return BFCP_HEADER_BYTES;
  buf.writeUInt16BE(header.fragmentOffsetWords & 0xffff, offset + 12);
  buf.writeUInt16BE(header.fragmentWords & 0xffff, offset + 14);
  return BFCP_FRAGMENT_HEADER_BYTES;
}
