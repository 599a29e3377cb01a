/**
 * BFCP attributes (RFC 8855 §5.2): the TLV header with its M bit, padding to 4 octets, the
 * eighteen attributes of Table 2 and the grouped ones nested inside each other. Pure: parse
 * returns a value or a typed error and never throws; write returns octets written.
 *
 * Attribute format (RFC 8855 §5.2, Figure 3):
 *
 *      0                   1                   2                   3
 *      0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *     |    Type     |M|    Length     |                               |
 *     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
 *     |                                                               |
 *     /                       Attribute Contents                      /
 *     /                                                               /
 *     |                                                               |
 *     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * "Length: This 8-bit field contains the length of the attribute in octets, excluding any
 * padding defined for specific attributes." "M: ... If the M bit is set, the attribute is
 * mandatory" — a receiver that does not understand it answers Error code 4 (§5.2.6, §13.7).
 * Padding: "attributes ... MUST be padded to a 32-bit boundary" (contents not checked).
 */
import type { BfcpParseErrorCode } from './common-header.ts';

/** RFC 8855 §5.2 Table 2: the attribute types, by name. */
export const ATTR = {
  BeneficiaryId: 1,
  FloorId: 2,
  FloorRequestId: 3,
  Priority: 4,
  RequestStatus: 5,
  ErrorCode: 6,
  ErrorInfo: 7,
  ParticipantProvidedInfo: 8,
  StatusInfo: 9,
  SupportedAttributes: 10,
  SupportedPrimitives: 11,
  UserDisplayName: 12,
  UserUri: 13,
  BeneficiaryInformation: 14,
  FloorRequestInformation: 15,
  RequestedByInformation: 16,
  FloorRequestStatus: 17,
  OverallRequestStatus: 18,
} as const;

export type AttrName = keyof typeof ATTR;
export type AttrType = (typeof ATTR)[AttrName];
/** Unsigned16 attributes. */
export type U16AttrType = typeof ATTR.BeneficiaryId | typeof ATTR.FloorId | typeof ATTR.FloorRequestId;
/** OctetString attributes holding UTF-8 text. */
export type TextAttrType = typeof ATTR.ErrorInfo | typeof ATTR.ParticipantProvidedInfo | typeof ATTR.StatusInfo | typeof ATTR.UserDisplayName | typeof ATTR.UserUri;
/** OctetString attributes holding one value per octet. */
export type ListAttrType = typeof ATTR.SupportedAttributes | typeof ATTR.SupportedPrimitives;
/** Grouped attributes: a 16-bit id, then attributes. */
export type GroupAttrType =
  | typeof ATTR.BeneficiaryInformation
  | typeof ATTR.FloorRequestInformation
  | typeof ATTR.RequestedByInformation
  | typeof ATTR.FloorRequestStatus
  | typeof ATTR.OverallRequestStatus;

/** RFC 8855 §5.2.5 Table 4: REQUEST-STATUS values. */
export const REQUEST_STATUS = { Pending: 1, Accepted: 2, Granted: 3, Denied: 4, Cancelled: 5, Released: 6, Revoked: 7 } as const;
export type RequestStatusName = keyof typeof REQUEST_STATUS;

/** One attribute as read or to be written. Unknown types are kept (`kind: 'unknown'`) so an M=0 extension is skipped, not refused. */
export type BfcpAttribute =
  | { readonly kind: 'u16'; readonly type: U16AttrType; readonly mandatory: boolean; readonly value: number }
  | { readonly kind: 'priority'; readonly type: typeof ATTR.Priority; readonly mandatory: boolean; readonly priority: number }
  | { readonly kind: 'request-status'; readonly type: typeof ATTR.RequestStatus; readonly mandatory: boolean; readonly status: number; readonly queuePosition: number }
  | { readonly kind: 'error-code'; readonly type: typeof ATTR.ErrorCode; readonly mandatory: boolean; readonly code: number; readonly details: Buffer }
  | { readonly kind: 'text'; readonly type: TextAttrType; readonly mandatory: boolean; readonly text: string }
  | { readonly kind: 'list'; readonly type: ListAttrType; readonly mandatory: boolean; readonly values: readonly number[] }
  | { readonly kind: 'group'; readonly type: GroupAttrType; readonly mandatory: boolean; readonly id: number; readonly children: readonly BfcpAttribute[] }
  | { readonly kind: 'unknown'; readonly type: number; readonly mandatory: boolean; readonly data: Buffer };

/** The attribute kind of each known type. */
const KIND_OF: Readonly<Record<AttrType, BfcpAttribute['kind']>> = {
  1: 'u16',
  2: 'u16',
  3: 'u16',
  4: 'priority',
  5: 'request-status',
  6: 'error-code',
  7: 'text',
  8: 'text',
  9: 'text',
  10: 'list',
  11: 'list',
  12: 'text',
  13: 'text',
  14: 'group',
  15: 'group',
  16: 'group',
  17: 'group',
  18: 'group',
};

export function isKnownAttrType(type: number): type is AttrType {
  return type >= 1 && type <= 18;
}

/** The 8-bit Length field bounds an attribute, grouped ones with all they hold, to 255 octets. */
export const BFCP_MAX_ATTRIBUTE_BYTES = 255;
/**
 * Grouped attributes nest at most two deep in RFC 8855's grammar (FLOOR-REQUEST-INFORMATION ⊃
 * FLOOR-REQUEST-STATUS); deeper is refused ('too-deep') so a crafted nest costs nothing.
 */
export const BFCP_MAX_NESTING = 4;
/** Attributes in one message, all levels counted. */
export const BFCP_MAX_ATTRIBUTES = 512;

/** What reading a run of attributes shares: the unknown mandatory types found and the count so far. */
export interface AttrReadState {
  readonly unknownMandatory: number[];
  count: number;
}

const pad4 = (n: number): number => (n + 3) & ~3;

/**
 * Reads the attributes in `buf[start, end)` (each padded to 4 octets; the last one's padding may
 * be cut by `end` only where the caller allows — never here). Returns the list or the first
 * structural error; unknown attributes with M set are collected in `state.unknownMandatory`
 * and reading goes on, so Error code 4 can list them all.
 */
export function parseAttributes(buf: Buffer, start: number, end: number, depth: number, state: AttrReadState): BfcpAttribute[] | BfcpParseErrorCode {
  const out: BfcpAttribute[] = [];
  let at = start;
  while (at < end) {
    if (end - at < 2) return 'malformed-attribute';
    if (++state.count > BFCP_MAX_ATTRIBUTES) return 'too-large';
    const type = (buf[at] as number) >>> 1;
    const mandatory = ((buf[at] as number) & 1) !== 0;
    const length = buf[at + 1] as number;
    if (length < 2) return 'malformed-attribute';
    const padded = pad4(length);
    if (at + padded > end) return 'malformed-attribute';
    const attr = parseOne(buf, at, type, mandatory, length, depth, state);
    if (typeof attr === 'string') return attr;
    out.push(attr);
    at += padded;
  }
  return out;
}

function parseOne(buf: Buffer, at: number, type: number, mandatory: boolean, length: number, depth: number, state: AttrReadState): BfcpAttribute | BfcpParseErrorCode {
  const body = at + 2;
  const end = at + length;
  if (!isKnownAttrType(type)) {
    if (mandatory) state.unknownMandatory.push(type);
    return { kind: 'unknown', type, mandatory, data: Buffer.from(buf.subarray(body, end)) };
  }
  const kind = KIND_OF[type];
  switch (kind) {
    case 'u16':
      // Unsigned16 (§5.2.1–5.2.3): "Length ... 4", the value in the two octets after it.
      if (length !== 4) return 'malformed-attribute';
      return { kind, type: type as U16AttrType, mandatory, value: buf.readUInt16BE(body) };
    case 'priority':
      // §5.2.4: | Prio| Reserved | — Prio the 3 most significant bits, 0 (Lowest) … 4 (Highest).
      if (length !== 4) return 'malformed-attribute';
      return { kind, type: ATTR.Priority, mandatory, priority: (buf[body] as number) >>> 5 };
    case 'request-status':
      // §5.2.5: | Request Status | Queue Position |, one octet each.
      if (length !== 4) return 'malformed-attribute';
      return { kind, type: ATTR.RequestStatus, mandatory, status: buf[body] as number, queuePosition: buf[body + 1] as number };
    case 'error-code':
      // §5.2.6: | Error Code | Error Specific Details … |
      if (length < 3) return 'malformed-attribute';
      return { kind, type: ATTR.ErrorCode, mandatory, code: buf[body] as number, details: Buffer.from(buf.subarray(body + 1, end)) };
    case 'text':
      return { kind, type: type as TextAttrType, mandatory, text: buf.toString('utf8', body, end) };
    case 'list': {
      // §5.2.10: each octet | Supported Attr |R| (type in the 7 high bits); §5.2.11: each octet a primitive.
      const values: number[] = [];
      for (let p = body; p < end; p++) values.push(type === ATTR.SupportedAttributes ? (buf[p] as number) >>> 1 : (buf[p] as number));
      return { kind, type: type as ListAttrType, mandatory, values };
    }
    case 'group': {
      // §5.2.14–5.2.18: the 16-bit id (Beneficiary ID, Floor Request ID, Requested-by ID, Floor ID) then attributes.
      if (length < 4) return 'malformed-attribute';
      // Nested attributes are padded inside the grouped one: its Length is a multiple of 4.
      if ((length & 3) !== 0) return 'malformed-attribute';
      if (depth + 1 > BFCP_MAX_NESTING) return 'too-deep';
      const children = parseAttributes(buf, body + 2, end, depth + 1, state);
      if (typeof children === 'string') return children;
      return { kind, type: type as GroupAttrType, mandatory, id: buf.readUInt16BE(body), children };
    }
    case 'unknown':
      return { kind, type, mandatory, data: Buffer.from(buf.subarray(body, end)) };
    default: {
      const never: never = kind;
      return never;
    }
  }
}

/** The attribute's Length field value (padding excluded), octets. */
export function attributeLength(attr: BfcpAttribute): number {
  switch (attr.kind) {
    case 'u16':
    case 'priority':
    case 'request-status':
      return 4;
    case 'error-code':
      return 3 + attr.details.length;
    case 'text':
      return 2 + Buffer.byteLength(attr.text, 'utf8');
    case 'list':
      return 2 + attr.values.length;
    case 'group': {
      let n = 4;
      for (const c of attr.children) n += pad4(attributeLength(c));
      return n;
    }
    case 'unknown':
      return 2 + attr.data.length;
    default: {
      const never: never = attr;
      return never;
    }
  }
}

/** The octets the attribute takes on the wire, padding included. */
export function encodedAttributeBytes(attr: BfcpAttribute): number {
  return pad4(attributeLength(attr));
}

/** Our own value does not fit its field (a programming error, never a peer's input). */
export class BfcpEncodeError extends RangeError {
  readonly code = 'BFCP_ENCODE';
}

/**
 * Writes one attribute at `offset`, zero padding included; returns the octets written.
 * Throws BfcpEncodeError when an attribute is longer than its 8-bit Length allows (texts are
 * cut to fit by the builders in messages.ts before this).
 */
export function writeAttribute(attr: BfcpAttribute, buf: Buffer, offset: number): number {
  const length = attributeLength(attr);
  if (length > BFCP_MAX_ATTRIBUTE_BYTES) throw new BfcpEncodeError(`BFCP attribute ${attr.type} of ${length} octets`);
  const padded = pad4(length);
  buf[offset] = ((attr.type & 0x7f) << 1) | (attr.mandatory ? 1 : 0);
  buf[offset + 1] = length;
  const body = offset + 2;
  switch (attr.kind) {
    case 'u16':
      buf.writeUInt16BE(attr.value & 0xffff, body);
      break;
    case 'priority':
      buf[body] = (attr.priority & 0x07) << 5;
      buf[body + 1] = 0;
      break;
    case 'request-status':
      buf[body] = attr.status & 0xff;
      buf[body + 1] = attr.queuePosition & 0xff;
      break;
    case 'error-code':
      buf[body] = attr.code & 0xff;
      attr.details.copy(buf, body + 1);
      break;
    case 'text':
      buf.write(attr.text, body, 'utf8');
      break;
    case 'list':
      attr.values.forEach((v, i) => {
        buf[body + i] = attr.type === ATTR.SupportedAttributes ? (v & 0x7f) << 1 : v & 0xff;
      });
      break;
    case 'group': {
      buf.writeUInt16BE(attr.id & 0xffff, body);
      let at = body + 2;
      for (const c of attr.children) at += writeAttribute(c, buf, at);
      break;
    }
    case 'unknown':
      attr.data.copy(buf, body);
      break;
    default: {
      const never: never = attr;
      return never;
    }
  }
  buf.fill(0, offset + length, offset + padded);
  return padded;
}

/** The unknown attribute types as ERROR-CODE 4's Error Specific Details (§5.2.6.1: | Unknown Type |R| per octet). */
export function unknownTypesDetails(types: readonly number[]): Buffer {
  const out = Buffer.alloc(types.length);
  types.forEach((t, i) => {
    out[i] = (t & 0x7f) << 1;
  });
  return out;
}

/** The types listed in ERROR-CODE 4's details. */
export function readUnknownTypesDetails(details: Buffer): number[] {
  return [...details].map((b) => b >>> 1);
}
