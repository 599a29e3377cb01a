import crypto from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '../../common/sha256.ts';

export { Sha256 };

/**
 * AWS Signature Version 4 verification (reference §1.1): recompute the signature the client made
 * over the same canonical request with the caller's secret, and compare in constant time. Any
 * region is accepted; the service must be `chime`; the request time must be within 15 minutes.
 */
const AUTH = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/;
const MAX_SKEW_MS = 15 * 60 * 1000;

export type SigV4Failure = 'missing' | 'malformed' | 'unknown-key' | 'expired' | 'service' | 'signature';

export interface SignedRequest {
  readonly method: string;
  /** Path and query exactly as received (still percent-encoded). */
  readonly url: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
}

function header(h: SignedRequest['headers'], name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/** Verifies a request signed for `expectedService` (Chime's `chime`); returns the access key id, or why it failed. */
export async function verifySigV4(req: SignedRequest, secretFor: (akid: string) => Promise<string | undefined>, nowMs: number, expectedService = 'chime'): Promise<{ accessKeyId: string } | { failure: SigV4Failure }> {
  const auth = header(req.headers, 'authorization');
  if (auth === undefined) return { failure: 'missing' };
  const m = AUTH.exec(auth);
  const date = header(req.headers, 'x-amz-date');
  if (m === null || date === undefined) return { failure: 'malformed' };
  const [, akid, , region, service, signedHeaders, signature] = m as unknown as [string, string, string, string, string, string, string];
  if (service !== expectedService) return { failure: 'service' };
  const iso = date.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, '$1-$2-$3T$4:$5:$6Z');
  const at = Date.parse(iso);
  if (!Number.isFinite(at)) return { failure: 'malformed' };
  if (Math.abs(nowMs - at) > MAX_SKEW_MS) return { failure: 'expired' };
  const secret = await secretFor(akid);
  if (secret === undefined) return { failure: 'unknown-key' };
  const url = new URL(req.url, 'http://placeholder');
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of url.searchParams) {
    const prev = query[k];
    query[k] = prev === undefined ? v : ([] as string[]).concat(prev, v);
  }
  const names = signedHeaders.split(';');
  const headers: Record<string, string> = {};
  for (const h of names) headers[h] = header(req.headers, h) ?? '';
  const signer = new SignatureV4({ service, region, sha256: Sha256, uriEscapePath: true, applyChecksum: true, credentials: { accessKeyId: akid, secretAccessKey: secret } });
  const signed = await signer.sign(
    { method: req.method, protocol: 'http:', hostname: headers.host ?? '', path: url.pathname, query, headers, body: req.body },
    { signingDate: new Date(at), signableHeaders: new Set(names) },
  );
  const expected = /Signature=([0-9a-f]{64})/.exec(String(signed.headers.authorization ?? ''))?.[1] ?? '';
  const ok = expected.length === 64 && crypto.timingSafeEqual(Buffer.from(expected), Buffer.from(signature));
  return ok ? { accessKeyId: akid } : { failure: 'signature' };
}
