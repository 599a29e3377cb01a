import { badRequest } from '../errors.ts';

/*
 * Paging of list operations: opaque cursors and the page's answer (the query itself is checked by the route's schema).
 */

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
