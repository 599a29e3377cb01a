import type { CSeq } from './types.ts';

/** RFC 3261 §20.16: `CSeq = 1*DIGIT LWS Method`; the number is below 2^31. */
export function parseCSeq(value: string): CSeq | undefined {
  const m = /^\s*(\d{1,10})\s+([A-Za-z0-9.!%*_+`'~-]+)\s*$/.exec(value);
  if (m === null) return undefined;
  const seq = Number(m[1]);
  if (seq > 2147483647) return undefined;
  return { seq, method: m[2] as string };
}

export function writeCSeq(c: CSeq): string {
  return `${c.seq} ${c.method}`;
}
