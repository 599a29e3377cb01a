/**
 * The sixteen DTMF events (RFC 4733 §3.2, events 0–15: 0–9, *, #, A–D), shared by every DTMF
 * transport (RTP telephone-events, SIP INFO) and the call layer that collects them.
 */
export type DtmfDigit = '0' | '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9' | '*' | '#' | 'A' | 'B' | 'C' | 'D';

/** Digits in RFC 4733 event-code order: DTMF_DIGIT_ORDER[code] is the digit of event `code`. */
export const DTMF_DIGIT_ORDER = '0123456789*#ABCD';

/** Narrows a string to a DTMF digit (the one constructor at the boundary). */
export function isDtmfDigit(s: string): s is DtmfDigit {
  return s.length === 1 && DTMF_DIGIT_ORDER.includes(s);
}
