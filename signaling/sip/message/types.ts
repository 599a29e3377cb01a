/**
 * SIP message model (RFC 3261 §7). A message is its start line, an ordered header list and a
 * body kept byte-exact. Header values are stored unfolded (RFC 3261 §7.3.1: LWS that contains a
 * line break collapses to one SP) but otherwise verbatim; structured views (Via, name-addr, CSeq,
 * URIs) are parsed on demand by the functions in via.ts, name-addr.ts, uri.ts and headers.ts.
 */

/** One header field line. `name` is the canonical lower-case long name ('via', 'call-id', 'x-foo'). */
export interface SipHeader {
  /** Canonical lower-case long form: compact names are expanded ('v' → 'via', 'i' → 'call-id'). */
  readonly name: string;
  /** The field value with folding collapsed and surrounding whitespace trimmed. */
  value: string;
}

export interface SipRequest {
  readonly kind: 'request';
  /** Method token exactly as received (methods are case-sensitive, RFC 3261 §7.1). */
  method: string;
  /** Request-URI text exactly as received. */
  uri: string;
  headers: SipHeader[];
  body: Buffer;
}

export interface SipResponse {
  readonly kind: 'response';
  status: number;
  reason: string;
  headers: SipHeader[];
  body: Buffer;
}

export type SipMessage = SipRequest | SipResponse;

/** A parsed SIP or SIPS URI (RFC 3261 §19.1). Escaped characters in user/password stay escaped. */
export interface SipUri {
  readonly scheme: 'sip' | 'sips';
  user?: string;
  password?: string;
  /** Host as written; IPv6 references keep their brackets ('[::1]'). Lower-cased. */
  host: string;
  port?: number;
  /** uri-parameters; a parameter without a value maps to null. Names lower-cased. */
  params: Map<string, string | null>;
  /** The '?' headers part, raw (without the '?'), when present. */
  headers?: string;
}

/** A tel URI (RFC 3966). */
export interface TelUri {
  readonly scheme: 'tel';
  /** The number as written, e.g. '+1-201-555-0123' or '7042'. */
  number: string;
  params: Map<string, string | null>;
}

/** Any other absolute URI kept as text (RFC 3261 §19.1.6 allows other schemes in most places). */
export interface OtherUri {
  readonly scheme: 'other';
  raw: string;
}

export type Uri = SipUri | TelUri | OtherUri;

/** name-addr / addr-spec with header parameters (From, To, Contact, Route, Record-Route, …). */
export interface NameAddr {
  /** Display name without surrounding quotes and with escapes resolved, when present. */
  displayName?: string;
  /** The URI text between '<' and '>' (or the bare addr-spec). */
  uri: string;
  /** Header parameters after the URI (tag, expires, q, lr when outside <>, …). Names lower-cased. */
  params: Map<string, string | null>;
}

export type ViaTransport = 'UDP' | 'TCP' | 'TLS' | 'SCTP' | 'WS' | 'WSS' | string;

/** One Via value (RFC 3261 §20.42, RFC 3581 rport). */
export interface Via {
  /** 'SIP/2.0' protocol name/version as written. */
  protocol: string;
  /** Upper-cased transport token. */
  transport: ViaTransport;
  host: string;
  port?: number;
  /** Parameters, names lower-cased; branch, received, rport, maddr, ttl included. */
  params: Map<string, string | null>;
}

export interface CSeq {
  seq: number;
  method: string;
}

/** Why parsing failed. `reason` is a short phrase for a 400's reason/Warning ("Bad Via", …). */
export interface SipParseError {
  readonly ok: false;
  /** Status a request with this fault is answered with: 400, or 413/414/416/505 where those fit. */
  readonly status: number;
  readonly reason: string;
  /** When the start line parsed as a request, enough to answer it with a 400. */
  readonly partial?: SipRequest;
}

export type SipParseResult =
  | { readonly ok: true; readonly message: SipMessage }
  | SipParseError;
