/**
 * Fragmentation over unreliable transports (RFC 8855 §6.2.3, "Fragmentation Handling"): a
 * message larger than the path allows is sent as fragments, each a COMMON-HEADER with F set,
 * the whole message's Payload Length, and its own Fragment Offset / Fragment Length (4-octet
 * units, the header excluded); the receiver puts the pieces back together. Pure: time is a
 * parameter, bounds are constructor options.
 */
import {
  BFCP_FRAGMENT_HEADER_BYTES,
  BFCP_HEADER_BYTES,
  type BfcpParseError,
  type CommonHeader,
  parseCommonHeader,
  parseError,
  writeCommonHeader,
} from './common-header.ts';

/**
 * Splits an encoded (unfragmented) message into datagrams of at most `maxDatagramBytes`;
 * one datagram, the message itself, when it fits. Fragment payloads are whole 4-octet units.
 */
export function fragmentMessage(encoded: Buffer, maxDatagramBytes: number): Buffer[] {
  if (encoded.length <= maxDatagramBytes) return [encoded];
  const h = parseCommonHeader(encoded, 0);
  if (!h.ok) return [encoded];
  const perFragmentWords = Math.floor((maxDatagramBytes - BFCP_FRAGMENT_HEADER_BYTES) / 4);
  if (perFragmentWords < 1) return [encoded];
  const out: Buffer[] = [];
  const totalWords = h.value.payloadWords;
  for (let offsetWords = 0; offsetWords < totalWords; offsetWords += perFragmentWords) {
    const words = Math.min(perFragmentWords, totalWords - offsetWords);
    const frag = Buffer.alloc(BFCP_FRAGMENT_HEADER_BYTES + words * 4);
    const header: CommonHeader = { ...h.value, version: 2, fragmented: true, fragmentOffsetWords: offsetWords, fragmentWords: words };
    writeCommonHeader(header, frag, 0);
    encoded.copy(frag, BFCP_FRAGMENT_HEADER_BYTES, BFCP_HEADER_BYTES + offsetWords * 4, BFCP_HEADER_BYTES + (offsetWords + words) * 4);
    out.push(frag);
  }
  return out;
}

export interface ReassemblyLimits {
  /** Largest reassembled message, octets. */
  readonly maxMessageBytes: number;
  /** Messages being reassembled at once (per remote: the transport keeps one reassembler per remote). */
  readonly maxPartial: number;
  /** A partial message older than this is dropped, ms. */
  readonly timeoutMs: number;
}

interface Partial {
  readonly header: CommonHeader;
  readonly payload: Buffer;
  /** One flag per 4-octet unit received. */
  readonly have: Uint8Array;
  missing: number;
  readonly startedMs: number;
}

/** What one fragment led to. */
export type ReassemblyOutcome =
  /** More fragments are needed. */
  | { readonly kind: 'partial' }
  /** The whole message, as an unfragmented encoding parseMessage reads. */
  | { readonly kind: 'complete'; readonly message: Buffer }
  /** The fragment is refused (inconsistent with its siblings or over a bound). */
  | { readonly kind: 'refused'; readonly error: BfcpParseError };

/** Puts fragments of one remote's messages back together, within bounds. */
export class FragmentReassembler {
  readonly #limits: ReassemblyLimits;
  readonly #partials = new Map<string, Partial>();

  constructor(limits: ReassemblyLimits) {
    this.#limits = limits;
  }

  get partialCount(): number {
    return this.#partials.size;
  }

  /** Takes one datagram whose header has F set; `nowMs` is a monotonic time. */
  push(datagram: Buffer, nowMs: number): ReassemblyOutcome {
    this.expire(nowMs);
    const h = parseCommonHeader(datagram, 0);
    if (!h.ok) return { kind: 'refused', error: h };
    const header = h.value;
    const totalBytes = header.payloadWords * 4;
    if (BFCP_HEADER_BYTES + totalBytes > this.#limits.maxMessageBytes) return { kind: 'refused', error: parseError('too-large', header) };
    if (datagram.length !== BFCP_FRAGMENT_HEADER_BYTES + header.fragmentWords * 4) return { kind: 'refused', error: parseError('incorrect-length', header) };
    if (header.fragmentWords === 0 || header.fragmentOffsetWords + header.fragmentWords > header.payloadWords) return { kind: 'refused', error: parseError('fragment', header) };
    // Fragments of one message share the transaction (and its direction) and the primitive.
    const key = `${header.transactionId}/${header.responder ? 1 : 0}/${header.primitive}`;
    let p = this.#partials.get(key);
    if (p !== undefined && (p.header.payloadWords !== header.payloadWords || p.header.conferenceId !== header.conferenceId || p.header.userId !== header.userId)) {
      this.#partials.delete(key);
      return { kind: 'refused', error: parseError('fragment', header) };
    }
    if (p === undefined) {
      if (this.#partials.size >= this.#limits.maxPartial) {
        // The oldest partial message gives way (Map keeps insertion order).
        const oldest = this.#partials.keys().next();
        if (!oldest.done) this.#partials.delete(oldest.value);
      }
      p = { header, payload: Buffer.alloc(totalBytes), have: new Uint8Array(header.payloadWords), missing: header.payloadWords, startedMs: nowMs };
      this.#partials.set(key, p);
    }
    datagram.copy(p.payload, header.fragmentOffsetWords * 4, BFCP_FRAGMENT_HEADER_BYTES);
    for (let w = header.fragmentOffsetWords; w < header.fragmentOffsetWords + header.fragmentWords; w++) {
      if (p.have[w] === 0) {
        p.have[w] = 1;
        p.missing--;
      }
    }
    if (p.missing > 0) return { kind: 'partial' };
    this.#partials.delete(key);
    const message = Buffer.alloc(BFCP_HEADER_BYTES + totalBytes);
    writeCommonHeader({ ...p.header, fragmented: false, fragmentOffsetWords: 0, fragmentWords: 0 }, message, 0);
    p.payload.copy(message, BFCP_HEADER_BYTES);
    return { kind: 'complete', message };
  }

  /** Drops partial messages older than the timeout. */
  expire(nowMs: number): void {
    for (const [k, p] of this.#partials) if (nowMs - p.startedMs >= this.#limits.timeoutMs) this.#partials.delete(k);
  }
}
