/**
 * BFCP messages (RFC 8855 §5.3): a COMMON-HEADER and the attributes its primitive's grammar
 * names. `parseMessage` checks the header, the exact length, the primitive, every attribute
 * (nesting and count bounded) and the attributes the grammar requires; it returns a value or a
 * BfcpParseError whose `errorCode` is the ERROR-CODE to answer with, and never throws.
 * `writeMessage` / `encodeMessage` compute the Payload Length themselves.
 */
import {
  ATTR,
  type AttrType,
  type BfcpAttribute,
  type GroupAttrType,
  type ListAttrType,
  type TextAttrType,
  type U16AttrType,
  attributeLength,
  BFCP_MAX_ATTRIBUTE_BYTES,
  encodedAttributeBytes,
  parseAttributes,
  unknownTypesDetails,
  writeAttribute,
} from './attributes.ts';
import {
  BFCP_DEFAULT_MAX_MESSAGE_BYTES,
  BFCP_HEADER_BYTES,
  BFCP_MAX_PAYLOAD_BYTES,
  type BfcpResult,
  type CommonHeader,
  commonHeaderBytes,
  isPrimitive,
  parseCommonHeader,
  parseError,
  PRIMITIVE,
  type Primitive,
  writeCommonHeader,
} from './common-header.ts';

/** A message read from the wire. */
export interface BfcpMessage {
  readonly header: CommonHeader;
  /** header.primitive, known to be one RFC 8855 defines. */
  readonly primitive: Primitive;
  readonly attributes: readonly BfcpAttribute[];
}

/** A message to send; the Payload Length is computed, F is never set (fragments.ts splits). */
export interface OutgoingMessage {
  readonly version: 1 | 2;
  readonly responder: boolean;
  readonly primitive: Primitive;
  readonly conferenceId: number;
  readonly transactionId: number;
  readonly userId: number;
  readonly attributes: readonly BfcpAttribute[];
}

export interface ParseMessageOptions {
  /** Largest message taken, octets (default BFCP_DEFAULT_MAX_MESSAGE_BYTES, one UDP datagram). */
  readonly maxBytes?: number;
}

/**
 * The attributes each primitive's grammar requires (RFC 8855 §5.3.1–5.3.17), with their least
 * count; the others in the grammar are optional, and "*EXTENSION-ATTRIBUTE" lets any follow.
 *
 *     FloorRequest       = COMMON-HEADER 1*FLOOR-ID [BENEFICIARY-ID] [PARTICIPANT-PROVIDED-INFO] [PRIORITY]
 *     FloorRelease       = COMMON-HEADER FLOOR-REQUEST-ID
 *     FloorRequestQuery  = COMMON-HEADER FLOOR-REQUEST-ID
 *     FloorRequestStatus = COMMON-HEADER FLOOR-REQUEST-INFORMATION
 *     ChairAction        = COMMON-HEADER FLOOR-REQUEST-INFORMATION
 *     HelloAck           = COMMON-HEADER SUPPORTED-PRIMITIVES SUPPORTED-ATTRIBUTES
 *     Error              = COMMON-HEADER ERROR-CODE [ERROR-INFO]
 */
const REQUIRED = {
  1: [ATTR.FloorId],
  2: [ATTR.FloorRequestId],
  3: [ATTR.FloorRequestId],
  4: [ATTR.FloorRequestInformation],
  5: [],
  6: [],
  7: [],
  8: [],
  9: [ATTR.FloorRequestInformation],
  10: [],
  11: [],
  12: [ATTR.SupportedPrimitives, ATTR.SupportedAttributes],
  13: [ATTR.ErrorCode],
  14: [],
  15: [],
  16: [],
  17: [],
} as const satisfies Record<Primitive, readonly AttrType[]>;

/**
 * Reads one whole message: exactly `buf` (a datagram, or a frame the TCP framer cut).
 *
 *     message = COMMON-HEADER *ATTRIBUTE     ; 12 + 4 × Payload Length octets
 *
 * A fragment (F set) is refused ('fragment') unless it holds the whole message; fragments are
 * reassembled first (fragments.ts).
 */
export function parseMessage(buf: Buffer, opts: ParseMessageOptions = {}): BfcpResult<BfcpMessage> {
  const h = parseCommonHeader(buf, 0);
  if (!h.ok) return h;
  const header = h.value;
  const maxBytes = opts.maxBytes ?? BFCP_DEFAULT_MAX_MESSAGE_BYTES;
  if (buf.length > maxBytes) return parseError('too-large', header);
  const start = commonHeaderBytes(header);
  if (header.fragmented && (header.fragmentOffsetWords !== 0 || header.fragmentWords !== header.payloadWords)) return parseError('fragment', header);
  // "Payload Length: ... in 4-octet units, excluding the COMMON-HEADER": the message ends there exactly.
  const end = start + header.payloadWords * 4;
  if (buf.length !== end) return parseError('incorrect-length', header);
  if (!isPrimitive(header.primitive)) return parseError('unknown-primitive', header);
  const state = { unknownMandatory: [] as number[], count: 0 };
  const attributes = parseAttributes(buf, start, end, 0, state);
  if (typeof attributes === 'string') return parseError(attributes, header);
  // §13.7 / §5.2: an attribute with M set that is not understood is refused, all of them listed.
  if (state.unknownMandatory.length > 0) return parseError('unknown-mandatory-attribute', header, state.unknownMandatory);
  for (const type of REQUIRED[header.primitive]) {
    if (!attributes.some((a) => a.type === type)) return parseError('missing-attribute', header);
  }
  return { ok: true, value: { header, primitive: header.primitive, attributes } };
}

/** The octets the message takes, header included (unfragmented). */
export function encodedMessageBytes(m: OutgoingMessage): number {
  let n = BFCP_HEADER_BYTES;
  for (const a of m.attributes) n += encodedAttributeBytes(a);
  return n;
}

/** Writes the message at `offset` (the buffer sized by encodedMessageBytes); returns octets written. */
export function writeMessage(m: OutgoingMessage, buf: Buffer, offset: number): number {
  const payload = encodedMessageBytes(m) - BFCP_HEADER_BYTES;
  if (payload > BFCP_MAX_PAYLOAD_BYTES) throw new RangeError(`BFCP payload of ${payload} octets`);
  const header: CommonHeader = {
    version: m.version,
    responder: m.responder,
    fragmented: false,
    primitive: m.primitive,
    payloadWords: payload / 4,
    conferenceId: m.conferenceId,
    transactionId: m.transactionId,
    userId: m.userId,
    fragmentOffsetWords: 0,
    fragmentWords: 0,
  };
  let at = offset + writeCommonHeader(header, buf, offset);
  for (const a of m.attributes) at += writeAttribute(a, buf, at);
  return at - offset;
}

/** The message's octets in a new Buffer. */
export function encodeMessage(m: OutgoingMessage): Buffer {
  const buf = Buffer.alloc(encodedMessageBytes(m));
  writeMessage(m, buf, 0);
  return buf;
}

// ---- Reading attributes out of a message ----

/** The first attribute of `type` at this level. */
export function findAttr(attrs: readonly BfcpAttribute[], type: AttrType): BfcpAttribute | undefined {
  return attrs.find((a) => a.type === type);
}

/** Every attribute of `type` at this level, in order. */
export function allAttrs(attrs: readonly BfcpAttribute[], type: AttrType): BfcpAttribute[] {
  return attrs.filter((a) => a.type === type);
}

/** The value of the first Unsigned16 attribute of `type`. */
export function u16Of(attrs: readonly BfcpAttribute[], type: U16AttrType): number | undefined {
  const a = findAttr(attrs, type);
  return a?.kind === 'u16' ? a.value : undefined;
}

/** The values of every Unsigned16 attribute of `type`. */
export function u16sOf(attrs: readonly BfcpAttribute[], type: U16AttrType): number[] {
  const out: number[] = [];
  for (const a of attrs) if (a.kind === 'u16' && a.type === type) out.push(a.value);
  return out;
}

// ---- Building attributes (M set: Carillon sends only attributes RFC 8855 defines) ----

export function u16Attr(type: U16AttrType, value: number): BfcpAttribute {
  return { kind: 'u16', type, mandatory: true, value };
}

export function priorityAttr(priority: number): BfcpAttribute {
  return { kind: 'priority', type: ATTR.Priority, mandatory: true, priority };
}

export function requestStatusAttr(status: number, queuePosition = 0): BfcpAttribute {
  return { kind: 'request-status', type: ATTR.RequestStatus, mandatory: true, status, queuePosition };
}

/** ERROR-CODE; for code 4 pass the unknown types (listed in the details, §5.2.6.1). */
export function errorCodeAttr(code: number, unknownTypes: readonly number[] = []): BfcpAttribute {
  return { kind: 'error-code', type: ATTR.ErrorCode, mandatory: true, code, details: unknownTypesDetails(unknownTypes.slice(0, BFCP_MAX_ATTRIBUTE_BYTES - 3)) };
}

/** A text attribute, cut (at a character boundary) to `maxBytes` octets of UTF-8, at most what the 8-bit Length allows. */
export function textAttr(type: TextAttrType, text: string, maxBytes = BFCP_MAX_ATTRIBUTE_BYTES - 2): BfcpAttribute {
  const limit = Math.min(maxBytes, BFCP_MAX_ATTRIBUTE_BYTES - 2);
  let t = text.length > limit ? text.slice(0, limit) : text;
  while (Buffer.byteLength(t, 'utf8') > limit) t = t.slice(0, -1);
  return { kind: 'text', type, mandatory: true, text: t };
}

export function listAttr(type: ListAttrType, values: readonly number[]): BfcpAttribute {
  return { kind: 'list', type, mandatory: true, values };
}

export function groupAttr(type: GroupAttrType, id: number, children: readonly BfcpAttribute[]): BfcpAttribute {
  const a: BfcpAttribute = { kind: 'group', type, mandatory: true, id, children };
  if (attributeLength(a) > BFCP_MAX_ATTRIBUTE_BYTES) throw new RangeError(`BFCP grouped attribute ${type} over ${BFCP_MAX_ATTRIBUTE_BYTES} octets`);
  return a;
}

/** The primitives Carillon's server understands (HelloAck SUPPORTED-PRIMITIVES). */
export const SERVER_SUPPORTED_PRIMITIVES: readonly Primitive[] = [
  PRIMITIVE.FloorRequest,
  PRIMITIVE.FloorRelease,
  PRIMITIVE.FloorRequestQuery,
  PRIMITIVE.FloorRequestStatus,
  PRIMITIVE.UserQuery,
  PRIMITIVE.UserStatus,
  PRIMITIVE.FloorQuery,
  PRIMITIVE.FloorStatus,
  PRIMITIVE.Hello,
  PRIMITIVE.HelloAck,
  PRIMITIVE.Error,
  PRIMITIVE.FloorRequestStatusAck,
  PRIMITIVE.FloorStatusAck,
  PRIMITIVE.Goodbye,
  PRIMITIVE.GoodbyeAck,
];

/** Every attribute RFC 8855 defines (HelloAck SUPPORTED-ATTRIBUTES). */
export const SERVER_SUPPORTED_ATTRIBUTES: readonly AttrType[] = Object.values(ATTR);
