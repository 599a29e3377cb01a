import type { SipHeader, SipRequest, SipResponse } from '../message/types.ts';

/** Reason phrases Carillon writes (RFC 3261 §21 and extensions). */
export const REASON_PHRASES: Readonly<Record<number, string>> = {
  100: 'Trying',
  180: 'Ringing',
  181: 'Call Is Being Forwarded',
  182: 'Queued',
  183: 'Session Progress',
  200: 'OK',
  202: 'Accepted',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  407: 'Proxy Authentication Required',
  408: 'Request Timeout',
  413: 'Request Entity Too Large',
  414: 'Request-URI Too Long',
  415: 'Unsupported Media Type',
  416: 'Unsupported URI Scheme',
  420: 'Bad Extension',
  421: 'Extension Required',
  422: 'Session Interval Too Small',
  480: 'Temporarily Unavailable',
  481: 'Call/Transaction Does Not Exist',
  482: 'Loop Detected',
  483: 'Too Many Hops',
  484: 'Address Incomplete',
  486: 'Busy Here',
  487: 'Request Terminated',
  488: 'Not Acceptable Here',
  491: 'Request Pending',
  500: 'Server Internal Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Server Time-out',
  505: 'Version Not Supported',
  513: 'Message Too Large',
  600: 'Busy Everywhere',
  603: 'Decline',
  604: 'Does Not Exist Anywhere',
  606: 'Not Acceptable',
};

export function reasonPhrase(status: number): string {
  return REASON_PHRASES[status] ?? (status < 200 ? 'Session Progress' : status < 300 ? 'OK' : 'Unknown');
}

export interface ResponseOptions {
  /** Tag to add to To when the request's To has none (RFC 3261 §8.2.6.2). */
  readonly toTag?: string;
  readonly reason?: string;
  /** Extra headers appended after the copied ones. */
  readonly headers?: readonly SipHeader[];
  readonly body?: Buffer;
  /** Copy Record-Route (dialog-creating responses from a UAS, RFC 3261 §12.1.1). */
  readonly copyRecordRoute?: boolean;
}

const COPIED = new Set(['via', 'from', 'to', 'call-id', 'cseq']);

/**
 * Builds a response to `req` (RFC 3261 §8.2.6.2): Via, From, To, Call-ID and CSeq copied in
 * order; a To tag added for anything but 100 when the request had none.
 */
export function createResponse(req: SipRequest, status: number, opts: ResponseOptions = {}): SipResponse {
  const headers: SipHeader[] = [];
  for (const h of req.headers) {
    if (COPIED.has(h.name)) {
      if (h.name === 'to' && status !== 100 && opts.toTag !== undefined && !hasTagParam(h.value)) {
        headers.push({ name: 'to', value: `${h.value};tag=${opts.toTag}` });
      } else {
        headers.push({ name: h.name, value: h.value });
      }
    } else if (opts.copyRecordRoute === true && h.name === 'record-route') {
      headers.push({ name: h.name, value: h.value });
    }
  }
  if (opts.headers !== undefined) for (const h of opts.headers) headers.push(h);
  return {
    kind: 'response',
    status,
    reason: opts.reason ?? reasonPhrase(status),
    headers,
    body: opts.body ?? EMPTY_BODY,
  };
}

export const EMPTY_BODY: Buffer = Buffer.alloc(0);

/** Whether a From/To value carries a tag parameter (outside the <…> URI). */
export function hasTagParam(value: string): boolean {
  const gt = value.lastIndexOf('>');
  const tail = gt >= 0 ? value.slice(gt + 1) : value;
  return /;\s*tag\s*=/i.test(tail);
}
