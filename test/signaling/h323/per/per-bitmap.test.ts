import { describe, expect, it } from 'vitest';
import { bool, decode, encode, int, opt, req, seq } from '../../../../signaling/h323/per/index.ts';

// SEQUENCE { a INTEGER (0..7), ..., b BOOLEAN OPTIONAL, c BOOLEAN OPTIONAL }
const T = seq({ a: req(int(0, 7)) }, { extensible: true, additions: { b: opt(bool), c: opt(bool) } });

describe('extension bitmaps longer than the last present addition', () => {
  it("re-encode a peer's message to its own bytes, while a value built anew stays canonical", () => {
    const canonical = encode(T, { a: 3, b: true });
    expect(canonical).toEqual(Buffer.from([0xb0, 0x10, 0x01, 0x80]));
    // The same value as a stack that sends the whole bitmap writes it: both additions in it, the second absent.
    const fromPeer = Buffer.from([0xb0, 0x30, 0x01, 0x80]); // ext 1, a 011, count 0+000001 (two), bitmap 10, then the open type 01 80
    const r = decode(T, fromPeer);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value).toEqual({ a: 3, b: true });
    expect(encode(T, r.value)).toEqual(fromPeer);
    expect(encode(T, { ...r.value })).toEqual(canonical);
  });
});
