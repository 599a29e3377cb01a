import { getFirstListValue, getHeader, getHeaderValues } from '../message/headers.ts';
import type { SipHeader, SipRequest } from '../message/types.ts';
import { parseVia } from '../message/via.ts';
import { parseMinSe, parseSessionExpires } from '../dialog/session-timer.ts';
import { SUPPORTED_OPTION_TAGS } from './header-policy.ts';

/** A refusal computed from a request alone: status, optional reason and extra headers. */
export interface Refusal {
  readonly status: number;
  readonly reason?: string;
  readonly headers?: readonly SipHeader[];
}

/** Max-Forwards as a number; 70 when absent (RFC 3261 §8.1.1.6 default). */
export function maxForwards(req: SipRequest): number {
  const v = getHeader(req, 'max-forwards');
  if (v === undefined) return 70;
  const n = Number(v.trim());
  return Number.isFinite(n) ? n : 70;
}

/** RFC 3261 §16.3 step 2 / §8.2.2.3: Max-Forwards 0 on a request Carillon would forward → 483. */
export function checkMaxForwards(req: SipRequest): Refusal | undefined {
  return maxForwards(req) <= 0 ? { status: 483 } : undefined;
}

/**
 * RFC 3261 §8.2.2.3: a Require with option tags Carillon doesn't implement → 420 listing them
 * in Unsupported. (ACK and CANCEL are never checked.)
 */
export function checkRequire(req: SipRequest): Refusal | undefined {
  if (req.method === 'ACK' || req.method === 'CANCEL') return undefined;
  const unsupported: string[] = [];
  for (const tag of getHeaderValues(req, 'require')) {
    if (!SUPPORTED_OPTION_TAGS.has(tag.toLowerCase())) unsupported.push(tag);
  }
  if (unsupported.length === 0) return undefined;
  return { status: 420, headers: [{ name: 'unsupported', value: unsupported.join(', ') }] };
}

/**
 * A request whose topmost Via is Carillon's own sent-by has come back to it: a routing loop
 * (RFC 3261 §16.3 step 4 spirit; a B2BUA writes a fresh Via, so its own is the only trace).
 */
export function checkOwnLoop(req: SipRequest, ownSentBy: ReadonlySet<string>): Refusal | undefined {
  const top = getFirstListValue(req, 'via');
  if (top === undefined) return undefined;
  const via = parseVia(top);
  if (via === undefined) return undefined;
  const key = `${via.host}:${via.port ?? 5060}`;
  return ownSentBy.has(key) ? { status: 482 } : undefined;
}

/**
 * RFC 4028 §8.1 (UAS): Session-Expires below the minimum Carillon accepts → 422 with Min-SE.
 * Session-Expires below 90 s is always too small (§4).
 */
export function checkSessionInterval(req: SipRequest, minSeSec: number): Refusal | undefined {
  const se = parseSessionExpires(getHeader(req, 'session-expires'));
  if (se === undefined) return undefined;
  if (se.intervalSec < minSeSec) {
    return { status: 422, headers: [{ name: 'min-se', value: String(minSeSec) }] };
  }
  const theirMin = parseMinSe(getHeader(req, 'min-se'));
  if (theirMin !== undefined && se.intervalSec < theirMin) return { status: 400, reason: 'Session-Expires below Min-SE' };
  return undefined;
}
