import crypto from 'node:crypto';
import { Sha256 } from '../../common/sha256.ts';

export { Sha256 };

/**
 * AWS Signature Version 4 verification (reference §1.1; AWS General Reference, "Create a signed
 * AWS API request"): the canonical request is rebuilt from the request as received — method,
 * path, query, exactly the headers the client listed in SignedHeaders, and the SHA-256 of the body
 * bytes that arrived — signed with the caller's secret, and compared in constant time. Any region
 * is accepted; the service must be the expected one (`chime`); the request time must be within
 * 15 minutes of ours and on the day the credential scope names.
 */
const ALGORITHM = 'AWS4-HMAC-SHA256';
/** AWS refuses a signature more than 15 minutes from its own clock ("Signature expired"), either way. */
export const MAX_SKEW_MS = 15 * 60 * 1000;
const AMZ_DATE = /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/;
/** A header name as RFC 9110 §5.1 tokens allow, already lower-case as SignedHeaders carries it. */
const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;
const SIGNATURE = /^[0-9a-f]{64}$/;

export type SigV4Failure =
  /** No Authorization header. */
  | 'missing'
  /** Authorization, SignedHeaders or the request date is not in SigV4's form. */
  | 'malformed'
  /** The path has empty, `.` or `..` segments: the canonical URI would name another path than the one routed. */
  | 'path'
  | 'unknown-key'
  | 'expired'
  | 'service'
  /** The credential scope's date is not the request date's day. */
  | 'scope-date'
  /** `x-amz-content-sha256` is not the hash of the body received. */
  | 'body-hash'
  | 'signature';

export interface SignedRequest {
  readonly method: string;
  /** Path and query exactly as received (still percent-encoded). */
  readonly url: string;
  /** Header names and values as received, in order (Node's `IncomingMessage.rawHeaders`). */
  readonly rawHeaders: readonly string[];
  /** The body bytes as received (a string is taken as its UTF-8 bytes). */
  readonly body: Buffer | string;
}

/** Bytes RFC 3986 §2.3 calls unreserved: `A-Z a-z 0-9 - . _ ~`. */
function unreserved(b: number): boolean {
  return (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || (b >= 0x30 && b <= 0x39) || b === 0x2d || b === 0x2e || b === 0x5f || b === 0x7e;
}

const PERCENT = Array.from({ length: 256 }, (_, b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`);

/**
 * AWS's UriEncode: "URI encode every byte. UriEncode() must enforce the following rules: … Do not
 * URI-encode any of the unreserved characters … Percent-encode all other characters with %XY,
 * where X and Y are hexadecimal characters (0-9 and uppercase A-F)"; `/` stays in paths.
 */
export function awsUriEncode(bytes: Uint8Array, keepSlash: boolean): string {
  let out = '';
  for (const b of bytes) {
    if (unreserved(b) || (keepSlash && b === 0x2f)) out += String.fromCharCode(b);
    else out += PERCENT[b] ?? '';
  }
  return out;
}

function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** The bytes a query component stands for: `%XY` is that byte, `+` a space, anything else its UTF-8 bytes. */
function decodeComponent(s: string): Buffer {
  const raw = Buffer.from(s, 'utf8');
  const out = Buffer.alloc(raw.length);
  let n = 0;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i] ?? 0;
    if (c === 0x25 && i + 2 < raw.length && hexDigit(raw[i + 1] ?? 0) >= 0 && hexDigit(raw[i + 2] ?? 0) >= 0) {
      out[n++] = hexDigit(raw[i + 1] ?? 0) * 16 + hexDigit(raw[i + 2] ?? 0);
      i += 2;
    } else out[n++] = c === 0x2b ? 0x20 : c;
  }
  return out.subarray(0, n);
}

/**
 * The path with empty, `.` and `..` segments removed (AWS test suite `get-slashes`: `//example//`
 * → `/example/`; `get-relative-relative`: `/example1/example2/../..` → `/`).
 */
export function normalizePath(path: string): string {
  const segments: string[] = [];
  for (const s of path.split('/')) {
    if (s === '' || s === '.') continue;
    if (s === '..') segments.pop();
    else segments.push(s);
  }
  const joined = `/${segments.join('/')}`;
  return segments.length > 0 && path.endsWith('/') ? `${joined}/` : joined;
}

/**
 * CanonicalURI for every service but S3: "Normalize URI paths according to RFC 3986 … each path
 * segment must be URI-encoded twice" — the path arrives encoded once, so it is encoded once more
 * (`%2B` → `%252B`), as the JS SDK (`uriEscapePath`) and botocore sign it.
 */
export function canonicalUri(rawPath: string): string {
  return awsUriEncode(Buffer.from(normalizePath(rawPath), 'utf8'), true);
}

/**
 * CanonicalQueryString: every name and value decoded and UriEncoded again, "sorted by parameter
 * name … Parameters with duplicate names should be sorted by value". A `+` is a space, as the
 * query parser the routes read through takes it.
 */
export function canonicalQuery(rawQuery: string): string {
  const pairs: [string, string][] = [];
  for (const part of rawQuery.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const k = eq < 0 ? part : part.slice(0, eq);
    const v = eq < 0 ? '' : part.slice(eq + 1);
    pairs.push([awsUriEncode(decodeComponent(k), false), awsUriEncode(decodeComponent(v), false)]);
  }
  // Encoded names and values are ASCII, so UTF-16 order is byte order.
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

/** Header values by lower-case name, each name's values in the order received. */
export type HeaderValues = ReadonlyMap<string, readonly string[]>;

/** Groups Node's `rawHeaders` (name, value, name, value, …) by lower-case name. */
export function headerValues(rawHeaders: readonly string[]): HeaderValues {
  const out = new Map<string, string[]>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] ?? '').toLowerCase();
    const list = out.get(name);
    if (list === undefined) out.set(name, [rawHeaders[i + 1] ?? '']);
    else list.push(rawHeaders[i + 1] ?? '');
  }
  return out;
}

/**
 * CanonicalHeaders over exactly the signed names: "Lowercase(<HeaderName>)+':'+Trim(<value>)+'\n'",
 * sequential spaces converted to one (AWS test suite `get-header-value-trim`), several values of one
 * header joined by ',' in the order received (`get-header-key-duplicate`). Undefined if a signed
 * header is not in the request.
 */
export function canonicalHeaders(headers: HeaderValues, signedNames: readonly string[]): string | undefined {
  let out = '';
  for (const name of signedNames) {
    const values = headers.get(name);
    if (values === undefined) return undefined;
    out += `${name}:${values.map((v) => v.trim().replace(/\s+/g, ' ')).join(',')}\n`;
  }
  return out;
}

export interface CanonicalParts {
  readonly method: string;
  readonly url: string;
  readonly headers: HeaderValues;
  readonly signedHeaders: readonly string[];
  /** Hex SHA-256 of the body. */
  readonly payloadHash: string;
}

/** The canonical request (method, URI, query, headers, signed header list, payload hash); undefined if a signed header is absent. */
export function canonicalRequest(p: CanonicalParts): string | undefined {
  const q = p.url.indexOf('?');
  const path = q < 0 ? p.url : p.url.slice(0, q);
  const query = q < 0 ? '' : p.url.slice(q + 1);
  const headers = canonicalHeaders(p.headers, p.signedHeaders);
  if (headers === undefined) return undefined;
  return [p.method, canonicalUri(path), canonicalQuery(query), headers, p.signedHeaders.join(';'), p.payloadHash].join('\n');
}

const sha256Hex = (d: Uint8Array | string): string => crypto.createHash('sha256').update(d).digest('hex');
const hmac = (key: Uint8Array | string, d: string): Buffer => crypto.createHmac('sha256', key).update(d, 'utf8').digest();

/** kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request"). */
export function signatureOf(secret: string, amzDate: string, region: string, service: string, creq: string): string {
  const day = amzDate.slice(0, 8);
  const scope = `${day}/${region}/${service}/aws4_request`;
  const stringToSign = `${ALGORITHM}\n${amzDate}\n${scope}\n${sha256Hex(creq)}`;
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, day), region), service), 'aws4_request');
  return crypto.createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');
}

interface Authorization {
  readonly accessKeyId: string;
  readonly day: string;
  readonly region: string;
  readonly service: string;
  readonly signedHeaders: readonly string[];
  readonly signature: string;
}

/** `AWS4-HMAC-SHA256 Credential=<akid>/<yyyymmdd>/<region>/<service>/aws4_request, SignedHeaders=<a;b>, Signature=<64 hex>`. */
function parseAuthorization(value: string): Authorization | undefined {
  if (!value.startsWith(`${ALGORITHM} `)) return undefined;
  const fields = new Map<string, string>();
  for (const part of value.slice(ALGORITHM.length + 1).split(',')) {
    const eq = part.indexOf('=');
    const k = part.slice(0, eq).trim();
    if (eq < 0 || fields.has(k)) return undefined;
    fields.set(k, part.slice(eq + 1).trim());
  }
  const credential = fields.get('Credential')?.split('/');
  const signedHeaders = fields.get('SignedHeaders')?.split(';');
  const signature = fields.get('Signature');
  if (fields.size !== 3 || credential?.length !== 5 || signedHeaders === undefined || signature === undefined) return undefined;
  const [accessKeyId, day, region, service, terminal] = credential as [string, string, string, string, string];
  if (accessKeyId === '' || !/^\d{8}$/.test(day) || region === '' || service === '' || terminal !== 'aws4_request' || !SIGNATURE.test(signature)) return undefined;
  // "The signed headers list … sorted by header name", each once, lower-case.
  for (let i = 0; i < signedHeaders.length; i++) {
    const h = signedHeaders[i] ?? '';
    if (!HEADER_NAME.test(h) || (i > 0 && h <= (signedHeaders[i - 1] ?? ''))) return undefined;
  }
  return { accessKeyId, day, region, service, signedHeaders, signature };
}

/** `yyyymmddThhmmssZ` as ms, or NaN unless it is a real UTC time in that exact form. */
export function parseAmzDate(v: string): number {
  const m = AMZ_DATE.exec(v);
  if (m === null) return NaN;
  const iso = `${m[1] ?? ''}-${m[2] ?? ''}-${m[3] ?? ''}T${m[4] ?? ''}:${m[5] ?? ''}:${m[6] ?? ''}.000Z`;
  const at = Date.parse(iso);
  return Number.isFinite(at) && new Date(at).toISOString() === iso ? at : NaN;
}

/**
 * Verifies a request signed for `expectedService` (Chime's `chime`); returns the access key id, or
 * why it failed. The request time is `x-amz-date`, or failing that the `date` header in the same
 * ISO 8601 basic form ("AWS first checks the x-amz-date header … If AWS can't find a value for
 * x-amz-date, it looks for the date header"); whichever carries it, and `host`, must be signed.
 */
export async function verifySigV4(req: SignedRequest, secretFor: (akid: string) => Promise<string | undefined>, nowMs: number, expectedService = 'chime'): Promise<{ accessKeyId: string } | { failure: SigV4Failure }> {
  const headers = headerValues(req.rawHeaders);
  const authValues = headers.get('authorization');
  if (authValues === undefined) return { failure: 'missing' };
  const auth = authValues.length === 1 ? parseAuthorization(authValues[0] ?? '') : undefined;
  if (auth === undefined) return { failure: 'malformed' };
  if (auth.service !== expectedService) return { failure: 'service' };
  const dateHeader = headers.has('x-amz-date') ? 'x-amz-date' : 'date';
  const dates = headers.get(dateHeader);
  const amzDate = dates?.length === 1 ? dates[0] : undefined;
  if (amzDate === undefined || !auth.signedHeaders.includes('host') || !auth.signedHeaders.includes(dateHeader)) return { failure: 'malformed' };
  const at = parseAmzDate(amzDate);
  if (Number.isNaN(at)) return { failure: 'malformed' };
  // "If the dates don't match, AWS rejects the request, even if the time stamp is only seconds away."
  if (amzDate.slice(0, 8) !== auth.day) return { failure: 'scope-date' };
  if (Math.abs(nowMs - at) > MAX_SKEW_MS) return { failure: 'expired' };
  const q = req.url.indexOf('?');
  const path = q < 0 ? req.url : req.url.slice(0, q);
  if (!path.startsWith('/') || normalizePath(path) !== path) return { failure: 'path' };
  const payloadHash = sha256Hex(typeof req.body === 'string' ? Buffer.from(req.body, 'utf8') : req.body);
  const claimed = headers.get('x-amz-content-sha256');
  if (claimed !== undefined && (claimed.length > 1 || claimed[0] !== payloadHash)) return { failure: 'body-hash' };
  const secret = await secretFor(auth.accessKeyId);
  if (secret === undefined) return { failure: 'unknown-key' };
  const creq = canonicalRequest({ method: req.method, url: req.url, headers, signedHeaders: auth.signedHeaders, payloadHash });
  if (creq === undefined) return { failure: 'signature' };
  const expected = Buffer.from(signatureOf(secret, amzDate, auth.region, auth.service, creq), 'latin1');
  return crypto.timingSafeEqual(expected, Buffer.from(auth.signature, 'latin1')) ? { accessKeyId: auth.accessKeyId } : { failure: 'signature' };
}
