/**
 * ALIGNED-PER encodings checked against expected octets. The X.691 text was not at hand, so every
 * expected value below is computed by hand from the clauses cited next to it (and, where noted, from
 * encodings well known from H.225 traffic such as the protocolIdentifier OID 06 00 08 91 4A 00 04).
 */
import { describe, expect, it } from 'vitest';
import {
  BitReader,
  BitWriter,
  PerError,
  UNKNOWN,
  alphabetPlan,
  bitString,
  bool,
  charString,
  choice,
  decode,
  encode,
  enumerated,
  generalString,
  utf8String,
  int,
  intMin,
  integer,
  nul,
  objectIdentifier,
  octets,
  opt,
  req,
  seq,
  seqOf,
} from '../../../../signaling/h323/per/index.ts';
import type { Codec } from '../../../../signaling/h323/per/index.ts';

const hex = (b: Buffer): string => b.toString('hex');

function roundTrip<T>(codec: Codec<T>, value: T, expected: string): void {
  const enc = encode(codec, value);
  expect(hex(enc)).toBe(expected);
  const dec = decode(codec, enc);
  expect(dec.ok).toBe(true);
  if (dec.ok) expect(dec.value).toEqual(value);
}

describe('whole numbers (§11.5.7, §11.7, §11.8)', () => {
  it('constrained: bit-field for ranges up to 255, aligned octet for 256, two octets up to 64K, length+octets above', () => {
    roundTrip(int(0, 7), 5, 'a0'); // 3 bits 101
    roundTrip(int(3, 6), 6, 'c0'); // 2 bits, offset 3 → 11
    roundTrip(int(0, 0), 0, '00'); // no bits; a complete empty encoding is one 00 octet
    roundTrip(seq({ b: req(bool), n: req(int(0, 255)) }), { b: true, n: 0x42 }, '8042'); // range 256: aligned
    roundTrip(seq({ b: req(bool), n: req(int(0, 65535)) }), { b: true, n: 0x1234 }, '801234');
    roundTrip(int(0, 4294967295), 1, '0001'); // 2-bit octet count (1..4) = 0, aligned 01
    roundTrip(int(0, 4294967295), 0x10000, '80010000'); // count 3 → 10
    roundTrip(int(1, 256), 256, 'ff');
  });

  it('semi-constrained and unconstrained: a length octet then minimal octets', () => {
    roundTrip(intMin(0), 256, '020100');
    roundTrip(intMin(1), 1, '0100');
    roundTrip(integer, -1, '01ff');
    roundTrip(integer, 128, '020080');
    roundTrip(integer, -129, '02ff7f');
    roundTrip(integer, Number.MAX_SAFE_INTEGER, '071fffffffffffff');
    roundTrip(integer, Number.MIN_SAFE_INTEGER, '07e0000000000001');
  });

  it('extensible INTEGER: 0 + root encoding, or 1 + unconstrained', () => {
    roundTrip(int(0, 7, { extensible: true }), 3, '30');
    roundTrip(int(0, 7, { extensible: true }), 8, '800108');
    roundTrip(int(0, 7, { extensible: true }), -1, '8001ff');
  });

  it('refuses values outside a non-extensible range when encoding', () => {
    expect(() => encode(int(0, 7), 8)).toThrow(PerError);
    expect(() => encode(int(0, 7), 1.5)).toThrow(PerError);
  });

  it('refuses a decoded constrained value above its upper bound', () => {
    const r = decode(int(0, 4), Buffer.from([0xe0])); // 3 bits 111 = 7 > 4
    expect(r.ok).toBe(false);
  });
});

describe('ENUMERATED and CHOICE indexes (§14, §23, normally small numbers §11.6)', () => {
  const color = enumerated(['red', 'green', 'blue'], { additions: ['cyan'] });
  it('encodes root values as an index after the extension bit and additions as normally small numbers', () => {
    roundTrip(color, 'blue', '40'); // 0 10
    roundTrip(color, 'cyan', '80'); // 1 0 000000
  });
  it('keeps an unknown extension enumeration as its index', () => {
    const dec = decode(color, Buffer.from([0x81])); // 1 0 000001 → index 1, unknown here
    expect(dec).toEqual({ ok: true, value: { unknownIndex: 1 } });
    roundTrip(color, { unknownIndex: 1 }, '81');
  });
  it('a normally small number above 63 goes as 1 + semi-constrained', () => {
    roundTrip(enumerated(['a'], { extensible: true }), { unknownIndex: 64 }, 'c00140'); // 1 1 | len 01 | 40
  });

  const body = choice(
    { setup: int(0, 255), callProceeding: bool, connect: nul },
    { additions: { empty: nul, status: int(0, 3) } },
  );
  it('root alternatives: extension bit then a constrained index; extension alternative `empty` is 80 01 00', () => {
    roundTrip(body, { choice: 'callProceeding', value: true }, '30'); // 0 01 1
    roundTrip(body, { choice: 'empty', value: null }, '800100'); // 1 0000000 | len 01 | 00
    roundTrip(body, { choice: 'status', value: 2 }, '810180'); // index 1, open type with 2 bits 10
  });
  it('keeps an unknown extension alternative as raw bytes and re-encodes it unchanged', () => {
    const wire = Buffer.from('8502abcd', 'hex'); // index 5, open type of 2 octets
    const dec = decode(body, wire);
    expect(dec).toEqual({ ok: true, value: { choice: UNKNOWN, index: 5, bytes: Buffer.from('abcd', 'hex') } });
    if (dec.ok) expect(hex(encode(body, dec.value))).toBe('8502abcd');
  });
});

describe('length determinants and fragmentation (§11.9)', () => {
  const os = octets();
  const fill = (n: number): Buffer => Buffer.alloc(n, 0x5a);
  const check = (n: number, prefix: string, parts: readonly [number, string][]): void => {
    const enc = encode(os, fill(n));
    expect(hex(enc.subarray(0, prefix.length / 2))).toBe(prefix);
    let off = prefix.length / 2;
    for (const [len, marker] of parts) {
      off += len;
      expect(hex(enc.subarray(off, off + marker.length / 2))).toBe(marker);
      off += marker.length / 2;
    }
    const dec = decode(os, enc);
    expect(dec.ok && dec.value.length === n).toBe(true);
  };
  it('one octet below 128, two octets below 16K', () => {
    expect(hex(encode(os, fill(127))).slice(0, 2)).toBe('7f');
    expect(hex(encode(os, fill(128))).slice(0, 4)).toBe('8080');
    check(16383, 'bfff', [[16383, '']]);
  });
  it('16K units at 16384, 65536 and beyond, with a final (possibly empty) length', () => {
    check(16384, 'c1', [[16384, '00']]);
    check(16385, 'c1', [[16384, '01']]);
    check(65536, 'c4', [[65536, '00']]);
    check(65537, 'c4', [[65536, '01']]);
    check(16384 * 5 + 3, 'c4', [[65536, 'c1'], [16384, '03']]);
  });
  it('a constrained size below 64K is a constrained number; fixed small sizes are not aligned', () => {
    roundTrip(seq({ b: req(bool), o: req(octets({ lb: 2, ub: 2 })) }), { b: true, o: Buffer.from('abcd', 'hex') }, 'd5e680'); // 1 then 16 bits unaligned
    roundTrip(seq({ b: req(bool), o: req(octets({ lb: 3, ub: 3 })) }), { b: true, o: Buffer.from('010203', 'hex') }, '80010203');
    roundTrip(octets({ lb: 1, ub: 4 }), Buffer.from('ff', 'hex'), '00ff'); // 2-bit length 0 then aligned octets
    roundTrip(octets({ lb: 0, ub: 4, extensible: true }), Buffer.from('0102030405', 'hex'), '80050102030405');
  });
  it('BIT STRING: fixed ≤ 16 bits unaligned, variable sizes aligned after the length', () => {
    roundTrip(bitString({ lb: 4, ub: 4 }), { length: 4, bits: Buffer.from([0xa0]) }, 'a0');
    roundTrip(bitString(), { length: 3, bits: Buffer.from([0xe0]) }, '03e0');
  });
  it('SEQUENCE OF with a size constraint: the count, then the items (no alignment of its own)', () => {
    roundTrip(seqOf(int(0, 3), { lb: 1, ub: 4 }), [1, 2, 3], '9b'); // 10 | 01 10 11
  });
});

describe('permitted-alphabet strings (§30)', () => {
  it('computes bits per character and whether indexes are used', () => {
    expect(alphabetPlan('IA5String', '0123456789#*ABCD!')).toMatchObject({ bitsPerChar: 8, indexed: false });
    expect(alphabetPlan('IA5String', '0123456789#*,')).toMatchObject({ bitsPerChar: 4, indexed: true });
    expect(alphabetPlan('NumericString')).toMatchObject({ bitsPerChar: 4, indexed: true });
    expect(alphabetPlan('IA5String')).toMatchObject({ bitsPerChar: 8, indexed: false });
    expect(alphabetPlan('BMPString')).toMatchObject({ bitsPerChar: 16, indexed: false });
  });
  it('dialedDigits: 7-bit length, aligned, 4-bit indexes into "#*,0123456789"', () => {
    roundTrip(charString('IA5String', { size: { lb: 1, ub: 128 }, from: '0123456789#*,' }), '12#', '044500');
  });
  it('UserInputIndication signalType: one raw 8-bit character, not aligned', () => {
    roundTrip(seq({ b: req(bool), s: req(charString('IA5String', { size: { lb: 1, ub: 1 }, from: '0123456789#*ABCD!' })) }), { b: true, s: 'D' }, 'a200');
  });
  it('h323-ID BMPString (SIZE(1..256)): aligned length octet then 16-bit characters', () => {
    roundTrip(charString('BMPString', { size: { lb: 1, ub: 256 } }), 'Ab', '0100410062');
  });
  it('NumericString: index with space = 0', () => {
    roundTrip(charString('NumericString'), '1 ', '0220');
  });
  it('refuses characters outside the alphabet both ways', () => {
    const digits = charString('IA5String', { size: { lb: 1, ub: 128 }, from: '0123456789#*,' });
    expect(() => encode(digits, '12A')).toThrow(PerError);
    const sig = charString('IA5String', { size: { lb: 1, ub: 1 }, from: '0123456789#*ABCD!' });
    expect(decode(sig, Buffer.from([0x45])).ok).toBe(false); // 'E' is not permitted
  });
});

describe('OBJECT IDENTIFIER, NULL, open types', () => {
  it('H.225 protocolIdentifier 0.0.8.2250.0.4 is 06 00 08 91 4A 00 04', () => {
    roundTrip(objectIdentifier, [0, 0, 8, 2250, 0, 4], '060008914a0004');
    roundTrip(objectIdentifier, [2, 100, 3], '03813403'); // 2*40+100 = 180 = 81 34
  });
  it('refuses a truncated arc', () => {
    expect(decode(objectIdentifier, Buffer.from('0281', 'hex')).ok).toBe(false);
  });
});

describe('SEQUENCE preamble and extension additions (§19, §18.9)', () => {
  const v1 = seq(
    { a: req(int(0, 7)), b: opt(bool) },
    { additions: { c: opt(int(0, 255)) } },
  );
  const v2 = seq(
    { a: req(int(0, 7)), b: opt(bool) },
    { additions: { c: opt(int(0, 255)), d: opt(octets({ lb: 0, ub: 8 })), e: opt(nul) } },
  );
  it('extension bit, presence bits, root, then count, bitmap and open types', () => {
    roundTrip(v1, { a: 5, b: true }, '6c'); // 0 | 1 | 101 | 1
    // 1 | 0 | 101 | 0 000000 (count 1) | 1 (bitmap) | pad → a8 08 | open type: 01 07
    roundTrip(v1, { a: 5, c: 7 }, 'a8080107');
  });
  it('additions unknown to an older decoder are skipped, kept, and re-encoded to the same bytes', () => {
    const value = { a: 1, b: false, c: 9, d: Buffer.from('beef', 'hex'), e: null };
    const wire = encode(v2, value);
    const old = decode(v1, wire);
    expect(old.ok).toBe(true);
    if (!old.ok) return;
    expect(old.value.a).toBe(1);
    expect(old.value.c).toBe(9);
    expect(old.value[UNKNOWN]?.map((u) => u.index)).toEqual([1, 2]);
    expect(hex(encode(v1, old.value))).toBe(hex(wire));
    const back = decode(v2, encode(v1, old.value));
    expect(back).toEqual({ ok: true, value });
  });
  it('a missing mandatory component is an encode error', () => {
    const loose: Codec<object> = v1;
    expect(() => encode(loose, { b: true })).toThrow(PerError);
  });
});

describe('bit reader bounds', () => {
  it('never reads past its buffer: overruns are PerErrors', () => {
    const r = new BitReader(Buffer.from([0xff]));
    expect(r.readBits(7)).toBe(127);
    expect(() => r.readBits(2)).toThrow(PerError);
    expect(() => r.readOctets(1)).toThrow(PerError);
  });
  it('a writer refuses to grow past its limit', () => {
    const w = new BitWriter({ maxBytes: 4, maxDepth: 8, maxElements: 100 });
    w.writeOctets(Buffer.alloc(4));
    expect(() => w.writeBit(true)).toThrow(PerError);
  });
  it('a hostile length cannot make the reader allocate: a claimed 64K octets in a 3-octet input fails at once', () => {
    expect(decode(octets(), Buffer.from('c40000', 'hex'))).toMatchObject({ ok: false });
  });
  it('a huge count of zero-bit items hits the element limit instead of looping', () => {
    const r = decode(seqOf(nul), Buffer.from('c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c400', 'hex'), { maxBytes: 1 << 20, maxDepth: 8, maxElements: 100_000 });
    expect(r).toMatchObject({ ok: false });
    if (!r.ok) expect(r.error.perCode).toBe('PER_LIMIT');
  });
});

describe('fragmentation boundaries for strings and SEQUENCE OF', () => {
  const ia5 = charString('IA5String');
  const bools = seqOf(bool);
  for (const n of [16383, 16384, 16385, 32768, 65535, 65536, 65537]) {
    it(`${n} characters and ${n} items round-trip`, () => {
      const s = 'a'.repeat(n);
      const enc = encode(ia5, s);
      expect(enc[0]).toBe(n < 16384 ? 0x80 | (n >> 8) : 0xc0 | Math.min(4, Math.floor(n / 16384)));
      expect(decode(ia5, enc)).toEqual({ ok: true, value: s });
      const items = Array.from({ length: n }, (_, i) => i % 3 === 0);
      const wire = encode(bools, items);
      expect(decode(bools, wire)).toEqual({ ok: true, value: items });
    });
  }
  it('a fragment count with a reserved multiplier (c5) is refused', () => {
    expect(decode(octets(), Buffer.from('c5', 'hex'))).toMatchObject({ ok: false });
  });
  it('BIT STRING of 65536 bits uses a 64K fragment and an empty final length', () => {
    const v = { length: 65536, bits: Buffer.alloc(8192, 0x81) };
    const enc = encode(bitString(), v);
    expect(enc[0]).toBe(0xc4);
    expect(enc[enc.length - 1]).toBe(0x00);
    expect(decode(bitString(), enc)).toEqual({ ok: true, value: v });
  });
});

describe('nesting limit', () => {
  it('nested open types and sequences deeper than maxDepth are refused, not recursed into without end', () => {
    type Nest = { readonly choice: 'leaf'; readonly value: null } | { readonly choice: 'more'; readonly value: Nest };
    const nest: Codec<Nest> = {
      write: (w, v) => inner.write(w, v),
      read: (r) => inner.read(r) as Nest,
    };
    const inner = choice({ leaf: nul, more: nest });
    let deep: Nest = { choice: 'leaf', value: null };
    for (let i = 0; i < 100; i++) deep = { choice: 'more', value: deep };
    const limits = { maxBytes: 1 << 16, maxDepth: 32, maxElements: 1 << 16 };
    expect(() => encode(nest, deep, limits)).toThrow(PerError);
    const wire = encode(nest, deep, { ...limits, maxDepth: 200 });
    expect(decode(nest, wire, limits)).toMatchObject({ ok: false });
    expect(decode(nest, wire, { ...limits, maxDepth: 200 })).toEqual({ ok: true, value: deep });
  });
});

describe('nesting through open types', () => {
  it('extension alternatives nested inside each other count against one depth limit', () => {
    type Ext = { readonly choice: 'leaf'; readonly value: null } | { readonly choice: 'more'; readonly value: Ext };
    const ext: Codec<Ext> = {
      write: (w, v) => inner.write(w, v),
      read: (r) => inner.read(r) as Ext,
    };
    const inner = choice({ leaf: nul }, { additions: { more: ext } });
    let deep: Ext = { choice: 'leaf', value: null };
    for (let i = 0; i < 300; i++) deep = { choice: 'more', value: deep };
    const roomy = { maxBytes: 1 << 20, maxDepth: 1000, maxElements: 1 << 20 };
    const wire = encode(ext, deep, roomy);
    expect(() => encode(ext, deep)).toThrow(PerError);
    const r = decode(ext, wire);
    expect(r).toMatchObject({ ok: false });
    if (!r.ok) expect(r.error.perCode).toBe('PER_LIMIT');
  });
});

describe('GeneralString and UTF8String', () => {
  it('GeneralString (UserInputIndication.alphanumeric) is a length and latin-1 octets', () => {
    roundTrip(generalString, '5#', '023523');
    expect(() => encode(generalString, '\u4e2d')).toThrow(PerError);
  });
  it('UTF8String is a length and UTF-8 octets; invalid UTF-8 is refused', () => {
    roundTrip(utf8String, 'é', '02c3a9');
    expect(decode(utf8String, Buffer.from('01ff', 'hex'))).toMatchObject({ ok: false });
  });
});
