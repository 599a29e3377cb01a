import sdpTransform from 'sdp-transform';
import { isIpLiteral, isUsablePort } from '../../common/net-values.ts';

/**
 * SDP anchoring (RFC 4566, RFC 3264): what Carillon reads from one side's session description
 * and how it rewrites it for the other side so that all media flows through Carillon's ports.
 * Pure functions over text; the media engine owns the ports.
 */

/** One media line as the peer described it. */
export interface MediaDescription {
  readonly index: number;
  readonly type: string;
  /** Where the peer wants to receive RTP (c= of the media or of the session). */
  readonly address: string | undefined;
  readonly port: number;
  /** RTCP port (a=rtcp, else port + 1); equal to `port` under rtcp-mux. */
  readonly rtcpPort: number;
  readonly rtcpMux: boolean;
  readonly direction: 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';
  /** Payload types offered, in order. */
  readonly payloads: readonly number[];
  /** payload type → encoding name (upper case) and clock rate. */
  readonly codecs: ReadonlyMap<number, { readonly name: string; readonly clockRateHz: number }>;
  /** The m= transport protocol (RTP/AVP, RTP/SAVP, …). */
  readonly protocol: string;
  /** SDES keys offered or answered (RFC 4568 a=crypto), in order. */
  readonly crypto: readonly SdesKey[];
}

/** One a=crypto line: its tag, suite and inline key (base64 of master key || salt). */
export interface SdesKey {
  readonly tag: number;
  readonly suite: string;
  readonly key: string;
}

/** How a media line's SRTP is written for the side that receives the description. */
/** How an m-line is written for its receiver: plain RTP, or SRTP with Carillon's key(s) (several only in an offer). */
export type SdesRewrite = { readonly kind: 'plain' } | { readonly kind: 'secure'; readonly keys: readonly SdesKey[] };

type ParsedSdp = ReturnType<typeof sdpTransform.parse>;

export interface SessionDescription {
  readonly media: readonly MediaDescription[];
  /** The parsed form, for rewriting without parsing the text again (rewriting consumes it). */
  readonly parsed: ParsedSdp;
}

/** Static payload types of RFC 3551 that may appear without a=rtpmap. */
const STATIC: Readonly<Record<number, { name: string; clockRateHz: number }>> = {
  0: { name: 'PCMU', clockRateHz: 8000 },
  8: { name: 'PCMA', clockRateHz: 8000 },
  9: { name: 'G722', clockRateHz: 8000 },
  18: { name: 'G729', clockRateHz: 8000 },
};

/** Reads the media lines of an SDP body; undefined when it is not a usable description. */
export function readSdp(text: string): SessionDescription | undefined {
  let parsed: ParsedSdp;
  try {
    parsed = sdpTransform.parse(text);
  } catch {
    return undefined;
  }
  if (parsed.media === undefined || parsed.media.length === 0) return undefined;
  const sessionAddress = parsed.connection?.ip;
  const media: MediaDescription[] = [];
  let invalid = false;
  parsed.media.forEach((m, index) => {
    const payloads = String(m.payloads ?? '')
      .split(' ')
      .filter((p) => p !== '')
      .map(Number)
      .filter((n) => Number.isInteger(n) && n >= 0 && n <= 127);
    const codecs = new Map<number, { name: string; clockRateHz: number }>();
    for (const p of payloads) {
      const known = STATIC[p];
      if (known !== undefined) codecs.set(p, known);
    }
    for (const r of m.rtp ?? []) {
      // sdp-transform leaves members out of lines it can't read: such an rtpmap says nothing.
      if (typeof r.codec !== 'string' || !Number.isInteger(r.payload)) continue;
      codecs.set(r.payload, { name: r.codec.toUpperCase(), clockRateHz: typeof r.rate === 'number' && r.rate > 0 ? r.rate : 8000 });
    }
    const rtcpMux = m.rtcpMux !== undefined;
    const port = m.port;
    // A rejected line (port 0) has no RTCP either.
    const rtcpPort = port === 0 ? 0 : rtcpMux ? port : (m.rtcp?.port ?? port + 1);
    // Ports reach dgram.send: an m= port is 0 (rejected line) or usable, and so is its RTCP port.
    if (!validPort(port) || (port !== 0 && !isUsablePort(rtcpPort))) {
      invalid = true;
      return;
    }
    // Media goes to an address, never to a name Carillon would have to resolve per packet.
    const address = m.connection?.ip ?? sessionAddress;
    if (port !== 0 && address !== undefined && !isIpLiteral(address)) {
      invalid = true;
      return;
    }
    const direction = m.direction ?? 'sendrecv';
    const crypto: SdesKey[] = [];
    for (const c of m.crypto ?? []) {
      const inline = /^inline:([A-Za-z0-9+/=]+)/.exec(String(c.config ?? ''));
      if (inline !== null && Number.isInteger(c.id) && typeof c.suite === 'string') crypto.push({ tag: c.id, suite: c.suite, key: inline[1] as string });
    }
    media.push({
      index,
      type: m.type,
      address: m.connection?.ip ?? sessionAddress,
      port,
      rtcpPort,
      rtcpMux,
      direction,
      payloads,
      codecs,
      protocol: String(m.protocol ?? ''),
      crypto,
    });
  });
  // A port or payload type that is not a number makes the whole description unusable (488).
  if (invalid) return undefined;
  return { media, parsed };
}

function validPort(p: unknown): p is number {
  return typeof p === 'number' && Number.isInteger(p) && p >= 0 && p <= 65535;
}

/** Carillon's own address and ports for each media line of a description it sends. */
export interface AnchorPorts {
  readonly address: string;
  /** Per media index: RTP port (0 rejects the line); RTCP is the next port unless rtcp-mux. */
  readonly ports: readonly number[];
  /** Per media index: payload types to keep (answers keep only what the offer had); undefined keeps all. */
  readonly keepPayloads?: readonly (readonly number[] | undefined)[];
  /** Per media index: SRTP Carillon terminates (its own key toward a secure side, plain RTP toward the other); undefined keeps the line's own. */
  readonly sdes?: readonly (SdesRewrite | undefined)[];
}

/**
 * Rewrites a description so the other side sends to Carillon: session and media c= lines,
 * m= ports, a=rtcp, and the origin address; everything else (codecs, direction, fmtp,
 * telephone-event, crypto for now) is kept. Returns undefined when the text does not parse.
 */
export function anchorSdp(text: string, anchor: AnchorPorts): string | undefined {
  let parsed: ParsedSdp;
  try {
    parsed = sdpTransform.parse(text);
  } catch {
    return undefined;
  }
  return anchorParsed(parsed, anchor);
}

/** anchorSdp for a description readSdp already parsed (one parse per body); consumes `desc.parsed`. */
export function anchorDescription(desc: SessionDescription, anchor: AnchorPorts): string | undefined {
  return anchorParsed(desc.parsed, anchor);
}

function anchorParsed(parsed: ParsedSdp, anchor: AnchorPorts): string | undefined {
  if (parsed.media === undefined) return undefined;
  const ipVer = anchor.address.includes(':') ? 6 : 4;
  if (parsed.origin !== undefined) {
    parsed.origin.address = anchor.address;
    parsed.origin.ipVer = ipVer;
  }
  parsed.connection = { version: ipVer, ip: anchor.address };
  parsed.media.forEach((m, i) => {
    const port = anchor.ports[i] ?? 0;
    m.port = port;
    if (m.connection !== undefined) m.connection = { version: ipVer, ip: anchor.address };
    const keep = anchor.keepPayloads?.[i];
    if (keep !== undefined && keep.length > 0) {
      const set = new Set(keep);
      m.payloads = keep.join(' ');
      m.rtp = m.rtp.filter((r) => set.has(r.payload));
      if (m.fmtp !== undefined) m.fmtp = m.fmtp.filter((f) => set.has(f.payload));
      if (m.rtcpFb !== undefined) m.rtcpFb = m.rtcpFb.filter((f) => f.payload === '*' || set.has(Number(f.payload)));
    }
    const sdes = anchor.sdes?.[i];
    if (sdes?.kind === 'plain') {
      m.protocol = m.protocol.replace('SAVP', 'AVP');
      delete m.crypto;
    } else if (sdes?.kind === 'secure') {
      m.protocol = m.protocol.includes('AVPF') ? 'RTP/SAVPF' : 'RTP/SAVP';
      m.crypto = sdes.keys.map((k) => ({ id: k.tag, suite: k.suite, config: `inline:${k.key}` }));
    }
    if (m.rtcpMux !== undefined) delete m.rtcp;
    else if (port === 0) delete m.rtcp;
    else m.rtcp = { port: port + 1, netType: 'IN', ipVer, address: anchor.address };
  });
  return sdpTransform.write(parsed);
}

/**
 * Offer/answer codec intersection (RFC 3264 §6.1): the answerer's payload types that the offer
 * also carries, matched by encoding name and clock rate, in the answerer's order.
 */
export function commonCodecs(offer: MediaDescription, answer: MediaDescription): number[] {
  const offered = new Set<string>();
  for (const p of offer.payloads) {
    const c = offer.codecs.get(p);
    if (c !== undefined) offered.add(`${c.name}/${c.clockRateHz}`);
  }
  return answer.payloads.filter((p) => {
    const c = answer.codecs.get(p);
    return c !== undefined && offered.has(`${c.name}/${c.clockRateHz}`);
  });
}
