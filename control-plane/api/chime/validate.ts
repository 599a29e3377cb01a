import { badRequest } from '../errors.ts';

/**
 * Server-side validation of every input member (reference §1.2: the SDK validates nothing).
 * Each check throws BadRequestException naming the member and the rule.
 */
export type Body = Record<string, unknown>;

export function bodyOf(v: unknown): Body {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw badRequest('The request body must be a JSON object');
  return v as Body;
}

export function reqString(b: Body, name: string, min: number, max: number, pattern?: RegExp): string {
  const v = b[name];
  if (v === undefined) throw badRequest(`${name} is required`);
  return checkString(name, v, min, max, pattern);
}

export function checkString(name: string, v: unknown, min: number, max: number, pattern?: RegExp): string {
  if (typeof v !== 'string') throw badRequest(`${name} must be a string`);
  if (v.length < min || v.length > max) throw badRequest(`${name} must be ${min}..${max} characters long`);
  if (pattern !== undefined && !pattern.test(v)) throw badRequest(`${name} does not match ${pattern.source}`);
  return v;
}

export function reqBoolean(b: Body, name: string): boolean {
  const v = b[name];
  if (v === undefined) throw badRequest(`${name} is required`);
  if (typeof v !== 'boolean') throw badRequest(`${name} must be a boolean`);
  return v;
}

export function optEnum<T extends string>(b: Body, name: string, values: readonly T[]): T | undefined {
  const v = b[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) throw badRequest(`${name} must be one of ${values.join(', ')}`);
  return v as T;
}

export interface Tag {
  readonly Key: string;
  readonly Value: string;
}

export function optTags(b: Body, name: string): Tag[] | undefined {
  const v = b[name];
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.length < 1 || v.length > 50) throw badRequest(`${name} must be a list of 1..50 tags`);
  return v.map((t: unknown, i) => {
    const o = bodyOf(t);
    return { Key: reqString(o, 'Key', 1, 128), Value: checkString(`${name}[${i}].Value`, o.Value ?? '', 0, 256) };
  });
}

/** `\S`: at least one non-whitespace character (Smithy patterns are not anchored). */
export const NON_EMPTY = /\S/;

/** `max-results` within `max`, default `max`. */
export function maxResults(q: Record<string, string | undefined>, max: number): number {
  const raw = q['max-results'];
  if (raw === undefined) return max;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1 || n > max) throw badRequest(`max-results must be an integer 1..${max}`);
  return n;
}

/** Opaque page cursor (base64url JSON). */
export function encodeToken(after: string): string {
  return Buffer.from(JSON.stringify({ after }), 'utf8').toString('base64url');
}

export function decodeToken(token: string | undefined): string | undefined {
  if (token === undefined || token === '') return undefined;
  try {
    const v = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { after?: unknown };
    if (typeof v.after === 'string') return v.after;
  } catch {
    // fall through
  }
  throw badRequest('next-token is not valid');
}

/**
 * One page of a list answer: `rows` were fetched with `limit + 1` so a further page shows itself;
 * the page's items go under `member`, and `NextToken` names the last one's cursor.
 */
export function listPage<T>(rows: readonly T[], limit: number, member: string, wire: (r: T) => unknown, cursor: (r: T) => string): Record<string, unknown> {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { [member]: page.map(wire), ...(rows.length > limit && last !== undefined ? { NextToken: encodeToken(cursor(last)) } : {}) };
}
