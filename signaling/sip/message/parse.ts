import { canonicalHeaderName, getFirstListValue, getHeader, getHeaderValues } from './headers.ts';
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

const SINGLE = ['to', 'from', 'call-id', 'cseq'] as const;

function validateRequest(req: SipRequest): { status: number; reason: string } | undefined {
  let contentLengths = 0;
  for (const h of req.headers) if (h.name === 'content-length') contentLengths++;
  if (contentLengths > 1) return { status: 400, reason: 'Multiple Content-Length headers' };
  for (const name of SINGLE) {
    let n = 0;
    for (const h of req.headers) if (h.name === name) n++;
    if (n === 0) return { status: 400, reason: `Missing ${name === 'cseq' ? 'CSeq' : name === 'call-id' ? 'Call-ID' : name === 'to' ? 'To' : 'From'} header` };
    if (n > 1) return { status: 400, reason: `Multiple ${name} headers` };
  }
  const vias = getHeaderValues(req, 'via');
  if (vias.length === 0) return { status: 400, reason: 'Missing Via header' };
  for (const v of vias) if (parseVia(v) === undefined) return { status: 400, reason: 'Bad Via header' };
  const cseq = parseCSeq(getHeader(req, 'cseq') ?? '');
  if (cseq === undefined) return { status: 400, reason: 'Bad CSeq header' };
  if (cseq.method !== req.method) return { status: 400, reason: 'CSeq method does not match' };
  if ((getHeader(req, 'call-id') ?? '').length === 0 || /\s/.test(getHeader(req, 'call-id') ?? '')) return { status: 400, reason: 'Bad Call-ID header' };
  if (parseNameAddr(getHeader(req, 'from') ?? '') === undefined) return { status: 400, reason: 'Bad From header' };
  if (parseNameAddr(getHeader(req, 'to') ?? '') === undefined) return { status: 400, reason: 'Bad To header' };
  const mf = getHeader(req, 'max-forwards');
  if (mf !== undefined && !/^\d{1,9}$/.test(mf.trim())) return { status: 400, reason: 'Bad Max-Forwards header' };
  for (const c of getHeaderValues(req, 'contact')) {
    if (c !== '*' && parseNameAddr(c) === undefined) return { status: 400, reason: 'Bad Contact header' };
  }
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
  return undefined;
}
