/**
 * DTMF carried in SIP INFO requests (the RFC 6086 INFO method; the bodies are de-facto formats,
 * not RFCs), for devices that do not send RFC 4733 telephone-events:
 *
 *   Content-Type: application/dtmf-relay        Content-Type: application/dtmf
 *
 *   Signal=5                                    5
 *   Duration=160
 *
 * dtmf-relay: one `key=value` per line (CRLF or LF; spaces around `=` allowed; key names are
 * case-insensitive). `Signal` is required, once; `Duration` (milliseconds) is optional, once;
 * other keys are ignored. A signal is one of 0–9 * # A–D (a–d accepted), or its RFC 4733 event
 * number 10–15 (10 = *, 11 = #, 12–15 = A–D), which some phones send. dtmf: the body is one such
 * signal, whitespace around it allowed.
 *
 * A pure function (STYLE.md 2); every byte string gives a value, never an exception. A type other than
 * these two is refused 415 (send SIP_INFO_DTMF_ACCEPT in the Accept header, RFC 3261 §21.4.13);
 * a malformed body 400.
 *
 * sip-leg.ts reads every in-dialog INFO of these types through here: a readable key press rides
 * on the LegEvents.request it becomes (PeerRequest.dtmf), so a call that collects digits (the
 * meeting IVR, signaling/calls/dtmf-collector.ts) takes it, while two joined legs still pass the
 * INFO on untouched.
 */
import { isDtmfDigit, DTMF_DIGIT_ORDER, type DtmfDigit } from '../../../common/dtmf-digit.ts';

/** Value of the Accept header of a 415 answer to an INFO this parser refuses. */
export const SIP_INFO_DTMF_ACCEPT = 'application/dtmf-relay, application/dtmf';

/** Duration reported when the body names none (a typical key press). */
export const DEFAULT_SIP_INFO_DTMF_DURATION_MS = 250;
/** Longest duration accepted, in milliseconds. */
export const MAX_SIP_INFO_DTMF_DURATION_MS = 60_000;
/** Longest body accepted, in bytes (a real one is under 40). */
export const MAX_SIP_INFO_DTMF_BODY_BYTES = 512;

/** Why a body was refused: a closed set (usable as a metric label). */
export type SipInfoDtmfRefusal =
  | 'unsupported-type'
  | 'body-too-long'
  | 'not-text'
  | 'malformed-line'
  | 'duplicate-field'
  | 'no-signal'
  | 'bad-signal'
  | 'bad-duration';

export type SipInfoDtmfResult =
  | { readonly ok: true; readonly digit: DtmfDigit; readonly durationMs: number }
  | { readonly ok: false; readonly status: 400 | 415; readonly refusal: SipInfoDtmfRefusal };

type DtmfBodyType = 'application/dtmf-relay' | 'application/dtmf';

/**
 * The media type of a Content-Type value (RFC 3261 §20.15: `type/subtype *(;param)`, case-
 * insensitive) when it is one of the two DTMF types, else undefined.
 */
export function sipInfoDtmfType(contentType: string | undefined): DtmfBodyType | undefined {
  if (contentType === undefined) return undefined;
  const semi = contentType.indexOf(';');
  const media = (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
  return media === 'application/dtmf-relay' || media === 'application/dtmf' ? media : undefined;
}

/** True when an INFO with this Content-Type carries DTMF (and so is answered by this parser). */
export function isSipInfoDtmfType(contentType: string | undefined): boolean {
  return sipInfoDtmfType(contentType) !== undefined;
}

const refuse = (status: 400 | 415, refusal: SipInfoDtmfRefusal): SipInfoDtmfResult => ({ ok: false, status, refusal });

/** Parses an INFO's DTMF body; `contentType` is the request's Content-Type header value. */
export function parseSipInfoDtmf(contentType: string | undefined, body: Uint8Array): SipInfoDtmfResult {
  const type = sipInfoDtmfType(contentType);
  if (type === undefined) return refuse(415, 'unsupported-type');
  if (body.length > MAX_SIP_INFO_DTMF_BODY_BYTES) return refuse(400, 'body-too-long');
  // Printable ASCII, tab, CR and LF only.
  let text = '';
  for (let i = 0; i < body.length; i++) {
    const b = body[i] as number;
    if (!((b >= 0x20 && b <= 0x7e) || b === 0x09 || b === 0x0a || b === 0x0d)) return refuse(400, 'not-text');
    text += String.fromCharCode(b);
  }
  if (type === 'application/dtmf') {
    const digit = signalDigit(text.trim());
    return digit === undefined ? refuse(400, 'bad-signal') : { ok: true, digit, durationMs: DEFAULT_SIP_INFO_DTMF_DURATION_MS };
  }
  return parseDtmfRelay(text);
}

function parseDtmfRelay(text: string): SipInfoDtmfResult {
  let signal: string | undefined;
  let duration: string | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') continue;
    const eq = line.indexOf('=');
    if (eq <= 0) return refuse(400, 'malformed-line');
    const key = line.slice(0, eq).trim().toLowerCase();
    const value = line.slice(eq + 1).trim();
    if (key === '' || /[\s=]/.test(key)) return refuse(400, 'malformed-line');
    if (key === 'signal') {
      if (signal !== undefined) return refuse(400, 'duplicate-field');
      signal = value;
    } else if (key === 'duration') {
      if (duration !== undefined) return refuse(400, 'duplicate-field');
      duration = value;
    }
  }
  if (signal === undefined) return refuse(400, 'no-signal');
  const digit = signalDigit(signal);
  if (digit === undefined) return refuse(400, 'bad-signal');
  let durationMs = DEFAULT_SIP_INFO_DTMF_DURATION_MS;
  if (duration !== undefined) {
    if (!/^[0-9]{1,5}$/.test(duration)) return refuse(400, 'bad-duration');
    durationMs = Number(duration);
    if (durationMs > MAX_SIP_INFO_DTMF_DURATION_MS) return refuse(400, 'bad-duration');
  }
  return { ok: true, digit, durationMs };
}

/** One signal: a DTMF character (a–d folded to A–D) or an RFC 4733 event number 10–15. */
function signalDigit(s: string): DtmfDigit | undefined {
  if (s.length === 1) {
    const upper = s.toUpperCase();
    return isDtmfDigit(upper) ? upper : undefined;
  }
  if (s.length === 2 && s[0] === '1' && s[1] !== undefined && s[1] >= '0' && s[1] <= '5') {
    const d = DTMF_DIGIT_ORDER[10 + Number(s[1])];
    return d !== undefined && isDtmfDigit(d) ? d : undefined;
  }
  return undefined;
}
