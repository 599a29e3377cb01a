import { canonicalHeaderName, getFirstListValue, getHeader, getHeaderValues, splitList } from './headers.ts';
import { parseCSeq } from './cseq.ts';
import { parseNameAddr } from './name-addr.ts';
import type { SipHeader, SipMessage, SipParseResult, SipRequest } from './types.ts';
import { parseUri } from './uri.ts';
import { parseVia } from './via.ts';

export const DEFAULT_MAX_MESSAGE_BYTES = 65_536;

const TOKEN = /^[A-Za-z0-9.!%*_+`'~-]+$/;

function fail(status: number, reason: string, partial?: SipRequest): SipParseResult {
  return partial === undefined ? { ok: false, status, reason } : { ok: false, status, reason, partial };
}

/**
 * Parses one whole SIP message (a datagram or a framed stream message), RFC 3261 §7:
 *
 *   generic-message = start-line *message-header CRLF [ message-body ]
 *   start-line      = Request-Line / Status-Line
 *
 * Never throws. Header bytes are read as latin1 so they round-trip exactly. Folded lines
 * (continuations starting with SP/HT) collapse to one SP (§7.3.1). Bare LF line ends are
 * tolerated. A request that fails validation comes back with `partial` so it can be answered.
 */
export function parseMessage(buf: Buffer, opts: { maxBytes?: number } = {}): SipParseResult {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  // Leading CRLFs before a message are ignored (§7.5).
  let start = 0;
  while (start < buf.length && (buf[start] === 0x0d || buf[start] === 0x0a)) start++;
  if (start >= buf.length) return fail(400, 'Empty message');
  let headEnd = buf.indexOf('\r\n\r\n', start, 'latin1');
  let sepLen = 4;
  const lfEnd = buf.indexOf('\n\n', start, 'latin1');
  if (headEnd < 0 || (lfEnd >= 0 && lfEnd < headEnd)) {
    headEnd = lfEnd;
    sepLen = 2;
  }
  let headText: string;
  let bodyStart: number;
  if (headEnd < 0) {
    // No blank line: the whole datagram is headers (some senders omit it when there is no body).
    headText = buf.toString('latin1', start);
    bodyStart = buf.length;
  } else {
    headText = buf.toString('latin1', start, headEnd);
    bodyStart = headEnd + sepLen;
  }
  const lines = headText.split(/\r?\n/);
  const startLine = lines[0] ?? '';
  let msg: SipMessage;
  let partialReq: SipRequest | undefined;
  if (startLine.startsWith('SIP/')) {
    const m = /^SIP\/(\d+\.\d+) ([1-6]\d\d)(?: (.*))?$/.exec(startLine);
    if (m === null) return fail(400, 'Bad Status-Line');
    if (m[1] !== '2.0') return fail(505, 'Version Not Supported');
    msg = { kind: 'response', status: Number(m[2]), reason: m[3] ?? '', headers: [], body: EMPTY };
  } else {
    const sp1 = startLine.indexOf(' ');
    const sp2 = startLine.lastIndexOf(' ');
    if (sp1 <= 0 || sp2 <= sp1) return fail(400, 'Bad Request-Line');
    const method = startLine.slice(0, sp1);
    const uri = startLine.slice(sp1 + 1, sp2);
    const version = startLine.slice(sp2 + 1);
    if (!TOKEN.test(method)) return fail(400, 'Bad Method');
    const req: SipRequest = { kind: 'request', method, uri, headers: [], body: EMPTY };
    msg = req;
    partialReq = req;
    if (!/^SIP\/\d+\.\d+$/i.test(version) || uri.length === 0 || uri.includes(' ')) {
      readHeaders(lines, req.headers);
      return fail(400, 'Bad Request-Line', req);
    }
    if (version.toUpperCase() !== 'SIP/2.0') {
      readHeaders(lines, req.headers);
      return fail(505, 'Version Not Supported', req);
    }
  }
  const headerFault = readHeaders(lines, msg.headers);
  if (buf.length > maxBytes) return fail(413, 'Message Too Large', partialReq);
  if (headerFault !== undefined) return fail(400, headerFault, partialReq);
  // Body and Content-Length (§20.14; for datagrams the length may be shorter than what came).
  const cl = getHeader(msg, 'content-length');
  let bodyEnd = buf.length;
  if (cl !== undefined) {
    const t = cl.trim();
    if (!/^\d{1,9}$/.test(t)) return fail(400, 'Bad Content-Length', partialReq);
    const n = Number(t);
    if (bodyStart + n > buf.length) return fail(400, 'Content-Length mismatch', partialReq);
    bodyEnd = bodyStart + n;
  }
  msg.body = bodyEnd > bodyStart ? buf.subarray(bodyStart, bodyEnd) : EMPTY;
  const fault = msg.kind === 'request' ? validateRequest(msg) : validateResponse(msg);
  if (fault !== undefined) return fail(fault.status, fault.reason, partialReq);
  return { ok: true, message: msg };
}

const EMPTY: Buffer = Buffer.alloc(0);

/**
 * Control characters in the header section: only HTAB may appear bare inside a field (RFC 3261
 * §25.1: TEXT-UTF8 and LWS carry no other control octets); a NUL or a bare CR would otherwise
 * travel on into logs, CDRs and the other leg. Inside a quoted string a quoted-pair may escape
 * one (`quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F)`, RFC 4475 §3.1.1.3 uses it).
 */
// eslint-disable-next-line no-control-regex -- control characters are what this looks for
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/g;

// eslint-disable-next-line no-control-regex -- control characters are what this looks for
const ANY_CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;

function hasBareControl(line: string): boolean {
  // Almost every line has none: one scan decides, the escape check below is for the rest.
  if (!ANY_CONTROL.test(line)) return false;
  CONTROL.lastIndex = 0;
  for (let m = CONTROL.exec(line); m !== null; m = CONTROL.exec(line)) {
    const c = line.charCodeAt(m.index);
    // CR and LF can't be quoted-pairs; anything else may be, right after a backslash.
    if (c === 0x0d || c === 0x0a || line.charCodeAt(m.index - 1) !== 0x5c) return true;
  }
  return false;
}

/** Reads header lines (after the start line) into `out`; returns a fault phrase or undefined. */
function readHeaders(lines: string[], out: SipHeader[]): string | undefined {
  let fault: string | undefined;
  for (let i = 1; i < lines.length; i++) {
    let line = lines[i] as string;
    if (line.length === 0) continue;
    // Unfold continuation lines.
    while (i + 1 < lines.length) {
      const next = lines[i + 1] as string;
      const c = next.charCodeAt(0);
      if (c !== 0x20 && c !== 0x09) break;
      line = `${line.trimEnd()} ${next.trim()}`;
      i++;
    }
    if (hasBareControl(line)) {
      fault ??= 'Control character in header';
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) {
      fault ??= 'Bad Header Line';
      continue;
    }
    const rawName = line.slice(0, colon).trimEnd();
    if (!TOKEN.test(rawName)) {
      fault ??= 'Bad Header Name';
      continue;
    }
    out.push({ name: canonicalHeaderName(rawName), value: line.slice(colon + 1).trim() });
  }
  return fault;
}

/**
 * Headers whose grammar allows one value (RFC 3261 §7.3.1: only comma-list headers may appear
 * more than once): given twice, the request is ambiguous — which Max-Forwards, which Expires? —
 * and is refused with 400 rather than guessed at. The first four must be there (§8.1.1).
 */
const SINGLE_VALUED: readonly string[] = [
  'to', 'from', 'call-id', 'cseq', 'max-forwards', 'content-length', 'content-type', 'content-disposition',
  'expires', 'min-expires', 'mime-version', 'session-expires', 'min-se', 'rseq', 'rack', 'refer-to',
  'referred-by', 'replaces', 'event', 'subscription-state', 'date', 'timestamp', 'priority', 'retry-after', 'subject',
];
const REQUIRED_ONCE = 4;
const DISPLAY: readonly string[] = ['To', 'From', 'Call-ID', 'CSeq'];
/** Header name → its slot in SINGLE_VALUED. */
const SLOT = new Map(SINGLE_VALUED.map((n, i) => [n, i]));
/** Per-request counts, reused (one request is validated at a time; nothing is allocated for them). */
const seen = new Uint8Array(SINGLE_VALUED.length);

/**
 * callid = word [ "@" word ] (RFC 3261 §25.1); word is visible ASCII except the separators
 * it leaves out. Checked as visible ASCII without whitespace, at most 256 characters long.
 */
const CALL_ID = /^[\x21-\x7e]{1,256}$/;

/** A Contact/Route/Record-Route URI a dialog could send to: a SIP URI must parse and name a usable port. */
function usableAddress(value: string): boolean {
  const na = parseNameAddr(value);
  if (na === undefined) return false;
  if (!/^sips?:/i.test(na.uri)) return true;
  const uri = parseUri(na.uri);
  return uri !== undefined && uri.scheme !== 'other' && uri.scheme !== 'tel' && (uri.port === undefined || uri.port >= 1);
}

/** Every address in a Contact (`*` allowed), Route or Record-Route line; the fault when one is unusable. */
function addressFault(name: string, value: string): string | undefined {
  for (const v of value.indexOf(',') < 0 ? [value] : splitList(value)) {
    if (name === 'contact' ? v !== '*' && !usableAddress(v) : !usableAddress(v)) return name === 'contact' ? 'Bad Contact header' : name === 'route' ? 'Bad Route header' : 'Bad Record-Route header';
  }
  return undefined;
}

function validateRequest(req: SipRequest): { status: number; reason: string } | undefined {
  // One pass: counts of single-valued headers, and every Contact/Route/Record-Route address.
  seen.fill(0);
  let addressBad: string | undefined;
  for (const h of req.headers) {
    const slot = SLOT.get(h.name);
    if (slot !== undefined) seen[slot] = Math.min(2, (seen[slot] ?? 0) + 1);
    else if (addressBad === undefined && (h.name === 'contact' || h.name === 'route' || h.name === 'record-route')) addressBad = addressFault(h.name, h.value);
  }
  if ((seen[SLOT.get('content-length') ?? 0] ?? 0) > 1) return { status: 400, reason: 'Multiple Content-Length headers' };
  for (let i = 0; i < REQUIRED_ONCE; i++) if (seen[i] === 0) return { status: 400, reason: `Missing ${DISPLAY[i] ?? ''} header` };
  for (let i = 0; i < SINGLE_VALUED.length; i++) if ((seen[i] ?? 0) > 1) return { status: 400, reason: `Multiple ${SINGLE_VALUED[i] ?? ''} headers` };
  const vias = getHeaderValues(req, 'via');
  if (vias.length === 0) return { status: 400, reason: 'Missing Via header' };
  for (const v of vias) if (parseVia(v) === undefined) return { status: 400, reason: 'Bad Via header' };
  const cseq = parseCSeq(getHeader(req, 'cseq') ?? '');
  if (cseq === undefined) return { status: 400, reason: 'Bad CSeq header' };
  if (cseq.method !== req.method) return { status: 400, reason: 'CSeq method does not match' };
  if (!CALL_ID.test(getHeader(req, 'call-id') ?? '')) return { status: 400, reason: 'Bad Call-ID header' };
  if (parseNameAddr(getHeader(req, 'from') ?? '') === undefined) return { status: 400, reason: 'Bad From header' };
  if (parseNameAddr(getHeader(req, 'to') ?? '') === undefined) return { status: 400, reason: 'Bad To header' };
  const mf = getHeader(req, 'max-forwards');
  if (mf !== undefined && !/^\d{1,9}$/.test(mf.trim())) return { status: 400, reason: 'Bad Max-Forwards header' };
  if (addressBad !== undefined) return { status: 400, reason: addressBad };
  const uri = parseUri(req.uri);
  if (uri === undefined) return { status: 400, reason: 'Bad Request-URI' };
  if (uri.scheme === 'other') return { status: 416, reason: 'Unsupported URI Scheme' };
  // RFC 3261 §19.1.1: headers are not allowed in a Request-URI.
  if (uri.scheme !== 'tel' && uri.headers !== undefined) return { status: 400, reason: 'Headers in Request-URI' };
  return undefined;
}

function validateResponse(res: SipMessage): { status: number; reason: string } | undefined {
  if (getFirstListValue(res, 'via') === undefined) return { status: 400, reason: 'Missing Via header' };
  if (parseCSeq(getHeader(res, 'cseq') ?? '') === undefined) return { status: 400, reason: 'Bad CSeq header' };
  if (getHeader(res, 'call-id') === undefined) return { status: 400, reason: 'Missing Call-ID header' };
  if (getHeader(res, 'from') === undefined || getHeader(res, 'to') === undefined) return { status: 400, reason: 'Missing From/To header' };
  // A dialog learns its target and route set from these: one Carillon could not send to is no answer it can act on.
  for (const h of res.headers) {
    if (h.name !== 'contact' && h.name !== 'record-route') continue;
    const fault = addressFault(h.name, h.value);
    if (fault !== undefined) return { status: 400, reason: fault };
  }
  return undefined;
}
