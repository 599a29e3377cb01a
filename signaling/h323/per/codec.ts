/**
 * Typed combinators over the ALIGNED-PER rules: each returns a Codec<T> that writes/reads one ASN.1 type.
 * Generated H.225/H.245 schemas target these. Decoders throw PerError only; encode()/decode() wrap them.
 */
import { BitReader, BitWriter, DEFAULT_PER_LIMITS } from './bits.ts';
import type { PerLimits } from './bits.ts';
import { PerError } from './errors.ts';
import type { PerResult } from './errors.ts';
import {
  readConstrained,
  readFragmented,
  readNormallySmall,
  readSemiConstrained,
  readSized,
  readUnconstrainedInt,
  writeConstrained,
  writeFragmented,
  writeNormallySmall,
  writeSemiConstrained,
  writeSized,
  writeUnconstrainedInt,
} from './integers.ts';
import type { SizeConstraint } from './integers.ts';

/** One ASN.1 type's ALIGNED-PER encoder and decoder (method syntax: a Codec<T> is usable where Codec<unknown> is asked). */
export interface Codec<T> {
  write(w: BitWriter, value: T): void;
  read(r: BitReader): T;
}

export type ValueOf<C> = C extends Codec<infer T> ? T : never;

/** A complete encoding: the bits padded to an octet; an empty encoding becomes one 00 octet (§11.1). */
export function encode<T>(codec: Codec<T>, value: T, limits: PerLimits = DEFAULT_PER_LIMITS): Buffer {
  const w = new BitWriter(limits);
  codec.write(w, value);
  if (w.bitLength === 0) return Buffer.from([0]);
  return w.toBuffer();
}

/** Encodes, returning a PerError instead of throwing it. */
export function tryEncode<T>(codec: Codec<T>, value: T, limits: PerLimits = DEFAULT_PER_LIMITS): PerResult<Buffer> {
  try {
    return { ok: true, value: encode(codec, value, limits) };
  } catch (e) {
    if (e instanceof PerError) return { ok: false, error: e };
    throw e;
  }
}

/** Decodes one complete encoding; trailing octets beyond the padding are an error. */
export function decode<T>(codec: Codec<T>, buf: Buffer, limits: PerLimits = DEFAULT_PER_LIMITS): PerResult<T> {
  try {
    const r = new BitReader(buf, limits);
    const value = codec.read(r);
    if (r.remainingBits >= 8 && !(r.bitPosition === 0 && buf.length === 1 && buf[0] === 0)) {
      throw new PerError('PER_TRAILING', `${r.remainingBits >>> 3} octets after the value`);
    }
    return { ok: true, value };
  } catch (e) {
    if (e instanceof PerError) return { ok: false, error: e };
    throw e;
  }
}

// ---------------------------------------------------------------- simple types

export const bool: Codec<boolean> = {
  write: (w, v) => w.writeBit(v),
  read: (r) => r.readBit(),
};

export const nul: Codec<null> = {
  write: () => undefined,
  read: () => null,
};

export interface IntOptions {
  /** INTEGER (lb..ub, ...): values outside the root go as unconstrained numbers after a 1 bit. */
  readonly extensible?: boolean;
}

/** INTEGER (lb..ub), §13 / §11.5.7. */
export function int(lb: number, ub: number, opts: IntOptions = {}): Codec<number> {
  if (!Number.isSafeInteger(lb) || !Number.isSafeInteger(ub) || ub < lb) throw new PerError('PER_INVALID', `bad range ${lb}..${ub}`);
  const ext = opts.extensible === true;
  return {
    write: (w, v) => {
      if (ext) {
        const outside = v < lb || v > ub;
        w.writeBit(outside);
        if (outside) {
          writeUnconstrainedInt(w, v);
          return;
        }
      }
      writeConstrained(w, v, lb, ub);
    },
    read: (r) => {
      if (ext && r.readBit()) return readUnconstrainedInt(r);
      return readConstrained(r, lb, ub);
    },
  };
}

/** INTEGER (lb..MAX), §11.7. */
export function intMin(lb: number, opts: IntOptions = {}): Codec<number> {
  const ext = opts.extensible === true;
  return {
    write: (w, v) => {
      if (ext) {
        w.writeBit(v < lb);
        if (v < lb) {
          writeUnconstrainedInt(w, v);
          return;
        }
      }
      writeSemiConstrained(w, v, lb);
    },
    read: (r) => (ext && r.readBit() ? readUnconstrainedInt(r) : readSemiConstrained(r, lb)),
  };
}

/** INTEGER without bounds, §11.8. */
export const integer: Codec<number> = {
  write: (w, v) => writeUnconstrainedInt(w, v),
  read: (r) => readUnconstrainedInt(r),
};

/** An ENUMERATED value the decoder does not know: an extension index kept as a number. */
export interface UnknownEnum {
  readonly unknownIndex: number;
}

/**
 * ENUMERATED, §14: `root` in index order (the sorted order of their values; with no explicit numbers it
 * is the textual order), `additions` after `...`. Unknown extension indexes decode to { unknownIndex }.
 */
export function enumerated<const R extends string, const A extends string = never>(
  root: readonly R[],
  opts: { readonly extensible?: boolean; readonly additions?: readonly A[] } = {},
): Codec<R | A | UnknownEnum> {
  const additions: readonly A[] = opts.additions ?? [];
  const ext = opts.extensible === true || additions.length > 0;
  const rootIndex = new Map<string, number>(root.map((n, i) => [n, i]));
  const addIndex = new Map<string, number>(additions.map((n, i) => [n, i]));
  return {
    write: (w, v) => {
      if (typeof v !== 'string') {
        if (!ext) throw new PerError('PER_CONSTRAINT', 'unknown enumeration in a non-extensible ENUMERATED');
        w.writeBit(true);
        writeNormallySmall(w, v.unknownIndex);
        return;
      }
      const i = rootIndex.get(v);
      if (i !== undefined) {
        if (ext) w.writeBit(false);
        writeConstrained(w, i, 0, root.length - 1);
        return;
      }
      const j = addIndex.get(v);
      if (j === undefined) throw new PerError('PER_CONSTRAINT', `'${v}' is not an enumeration of this type`);
      w.writeBit(true);
      writeNormallySmall(w, j);
    },
    read: (r) => {
      if (ext && r.readBit()) {
        const j = readNormallySmall(r);
        return additions[j] ?? { unknownIndex: j };
      }
      const i = readConstrained(r, 0, root.length - 1);
      const name = root[i];
      if (name === undefined) throw new PerError('PER_INVALID', `enumeration index ${i}`);
      return name;
    },
  };
}

// ---------------------------------------------------------------- strings

const K64 = 65536;

/** BIT STRING value: `length` bits, most significant first in `bits` (unused trailing bits zero). */
export interface BitString {
  readonly length: number;
  readonly bits: Buffer;
}

function fixedSize(size: SizeConstraint): number | undefined {
  return size.extensible !== true && size.ub !== undefined && size.lb === size.ub ? size.lb : undefined;
}

/** BIT STRING (SIZE(...)), §16. */
export function bitString(size: SizeConstraint = { lb: 0 }): Codec<BitString> {
  const fixed = fixedSize(size);
  const writeBitsOf = (w: BitWriter, v: BitString, start: number, n: number): void => {
    for (let i = start; i < start + n; i++) w.writeBit((((v.bits[i >>> 3] ?? 0) >>> (7 - (i & 7))) & 1) === 1);
  };
  return {
    write: (w, v) => {
      if (!Number.isSafeInteger(v.length) || v.length < 0 || v.bits.length * 8 < v.length) {
        throw new PerError('PER_CONSTRAINT', 'BIT STRING length does not match its octets');
      }
      if (fixed !== undefined && fixed <= 16) {
        if (v.length !== fixed) throw new PerError('PER_CONSTRAINT', `BIT STRING must have ${fixed} bits`);
        writeBitsOf(w, v, 0, fixed);
        return;
      }
      if (fixed !== undefined && fixed < K64) {
        if (v.length !== fixed) throw new PerError('PER_CONSTRAINT', `BIT STRING must have ${fixed} bits`);
        w.align();
        writeBitsOf(w, v, 0, fixed);
        return;
      }
      writeSized(w, v.length, size, true, (start, n) => writeBitsOf(w, v, start, n));
    },
    read: (r) => {
      const parts: boolean[] = [];
      const readN = (n: number): void => {
        r.require(n);
        r.count(n);
        for (let i = 0; i < n; i++) parts.push(r.readBit());
      };
      if (fixed !== undefined && fixed <= 16) readN(fixed);
      else if (fixed !== undefined && fixed < K64) {
        r.align();
        readN(fixed);
      } else readSized(r, size, true, readN);
      const bits = Buffer.alloc((parts.length + 7) >>> 3);
      parts.forEach((b, i) => {
        if (b) bits[i >>> 3] = (bits[i >>> 3] ?? 0) | (0x80 >>> (i & 7));
      });
      return { length: parts.length, bits };
    },
  };
}

/** OCTET STRING (SIZE(...)), §17. */
export function octets(size: SizeConstraint = { lb: 0 }): Codec<Buffer> {
  const fixed = fixedSize(size);
  return {
    write: (w, v) => {
      if (fixed !== undefined && fixed < K64) {
        if (v.length !== fixed) throw new PerError('PER_CONSTRAINT', `OCTET STRING must have ${fixed} octets`);
        if (fixed > 2) w.align();
        w.writeOctets(v);
        return;
      }
      writeSized(w, v.length, size, true, (start, n) => w.writeOctets(v.subarray(start, start + n)));
    },
    read: (r) => {
      if (fixed !== undefined && fixed < K64) {
        if (fixed > 2) r.align();
        return Buffer.from(r.readOctets(fixed));
      }
      const chunks: Buffer[] = [];
      readSized(r, size, true, (n) => {
        chunks.push(r.readOctets(n));
      });
      return Buffer.concat(chunks);
    },
  };
}

/** The known-multiplier character string types of §30 this runtime carries. */
export type CharStringType = 'IA5String' | 'NumericString' | 'BMPString' | 'PrintableString' | 'VisibleString';

function fullAlphabet(t: CharStringType): number[] {
  const range = (a: number, b: number): number[] => Array.from({ length: b - a + 1 }, (_, i) => a + i);
  switch (t) {
    case 'IA5String':
      return range(0, 127);
    case 'VisibleString':
      return range(32, 126);
    case 'NumericString':
      return [32, ...range(48, 57)];
    case 'PrintableString':
      return [32, 39, 40, 41, 43, 44, 45, 46, 47, ...range(48, 57), 58, 61, 63, ...range(65, 90), ...range(97, 122)];
    case 'BMPString':
      return range(0, 65535);
  }
}

/** Character-string codec details, exported for tests and generated code. */
export interface AlphabetPlan {
  /** Bits per character in the ALIGNED variant (1, 2, 4, 8, 16). */
  readonly bitsPerChar: number;
  /** true when characters go as their index in the sorted alphabet (§30.5.4 b), false for their own code. */
  readonly indexed: boolean;
  readonly codes: readonly number[];
}

export function alphabetPlan(t: CharStringType, permitted?: string): AlphabetPlan {
  const codes =
    permitted === undefined
      ? fullAlphabet(t)
      : [...new Set(Array.from(permitted, (c) => c.charCodeAt(0)))].sort((a, b) => a - b);
  if (codes.length === 0) throw new PerError('PER_INVALID', 'empty permitted alphabet');
  let b = 0;
  while (2 ** b < codes.length) b += 1;
  let b2 = 1;
  while (b2 < b) b2 *= 2; // ALIGNED: round up to a power of two
  const max = codes[codes.length - 1] ?? 0;
  return { bitsPerChar: b2, indexed: max > 2 ** b2 - 1, codes };
}

/**
 * IA5String / NumericString / BMPString / PrintableString / VisibleString with an optional size and
 * permitted alphabet (FROM "..."), §30.5. Strings are JS strings of UTF-16 code units (BMP only).
 */
export function charString(t: CharStringType, opts: { readonly size?: SizeConstraint; readonly from?: string } = {}): Codec<string> {
  const plan = alphabetPlan(t, opts.from);
  const size = opts.size ?? { lb: 0 };
  const b = plan.bitsPerChar;
  const toIndex = new Map<number, number>(plan.codes.map((c, i) => [c, i]));
  const fixed = fixedSize(size);
  const ubBits = size.ub === undefined ? Infinity : size.ub * b;
  const writeChars = (w: BitWriter, s: string, start: number, n: number): void => {
    for (let i = start; i < start + n; i++) {
      const c = s.charCodeAt(i);
      const idx = toIndex.get(c);
      if (idx === undefined) throw new PerError('PER_CONSTRAINT', `character U+${c.toString(16)} outside the permitted alphabet`);
      w.writeBits(plan.indexed ? idx : c, b);
    }
  };
  return {
    write: (w, s) => {
      if (fixed !== undefined && fixed < K64) {
        if (s.length !== fixed) throw new PerError('PER_CONSTRAINT', `string must have ${fixed} characters`);
        if (fixed * b > 16) w.align();
        writeChars(w, s, 0, fixed);
        return;
      }
      writeSized(w, s.length, size, ubBits > 16, (start, n) => writeChars(w, s, start, n));
    },
    read: (r) => {
      const out: string[] = [];
      const readN = (n: number): void => {
        r.require(n * b);
        r.count(n);
        for (let i = 0; i < n; i++) {
          const v = r.readBits(b);
          const code = plan.indexed ? plan.codes[v] : v;
          if (code === undefined || (!plan.indexed && !toIndex.has(code))) {
            throw new PerError('PER_CONSTRAINT', `character value ${v} outside the permitted alphabet`);
          }
          out.push(String.fromCharCode(code));
        }
      };
      if (fixed !== undefined && fixed < K64) {
        if (fixed * b > 16) r.align();
        readN(fixed);
      } else readSized(r, size, ubBits > 16, readN);
      return out.join('');
    },
  };
}

// ---------------------------------------------------------------- OBJECT IDENTIFIER

/** OBJECT IDENTIFIER, §24: the BER contents octets (X.690 §8.19) behind an unconstrained length. */
export const objectIdentifier: Codec<readonly number[]> = {
  write: (w, arcs) => {
    const a0 = arcs[0];
    const a1 = arcs[1];
    if (a0 === undefined || a1 === undefined || a0 < 0 || a0 > 2 || a1 < 0 || (a0 < 2 && a1 > 39)) {
      throw new PerError('PER_CONSTRAINT', `bad OBJECT IDENTIFIER ${arcs.join('.')}`);
    }
    const bytes: number[] = [];
    const sub = (v: number): void => {
      if (!Number.isSafeInteger(v) || v < 0) throw new PerError('PER_CONSTRAINT', `bad OBJECT IDENTIFIER arc ${v}`);
      const groups: number[] = [v % 128];
      let rest = Math.floor(v / 128);
      while (rest > 0) {
        groups.unshift((rest % 128) | 0x80);
        rest = Math.floor(rest / 128);
      }
      bytes.push(...groups);
    };
    sub(a0 * 40 + a1);
    for (const arc of arcs.slice(2)) sub(arc);
    if (bytes.length > 255) throw new PerError('PER_CONSTRAINT', 'OBJECT IDENTIFIER longer than 255 octets');
    writeUnconstrained(w, Buffer.from(bytes));
  },
  read: (r) => {
    const body = readUnconstrainedOctets(r);
    const arcs: number[] = [];
    let v = 0;
    let inArc = false;
    for (const byte of body) {
      if (!inArc && byte === 0x80) throw new PerError('PER_INVALID', 'OBJECT IDENTIFIER arc with a leading 0x80');
      v = v * 128 + (byte & 0x7f);
      if (v > Number.MAX_SAFE_INTEGER) throw new PerError('PER_LIMIT', 'OBJECT IDENTIFIER arc larger than 2^53');
      inArc = (byte & 0x80) !== 0;
      if (!inArc) {
        if (arcs.length === 0) {
          const first = v < 40 ? 0 : v < 80 ? 1 : 2;
          arcs.push(first, v - first * 40);
        } else arcs.push(v);
        v = 0;
      }
    }
    if (inArc || arcs.length === 0) throw new PerError('PER_INVALID', 'truncated OBJECT IDENTIFIER');
    return arcs;
  },
};

function writeUnconstrained(w: BitWriter, data: Buffer): void {
  writeFragmented(w, data.length, (start, n) => w.writeOctets(data.subarray(start, start + n)));
}

function readUnconstrainedOctets(r: BitReader): Buffer {
  const chunks: Buffer[] = [];
  readFragmented(r, (n) => {
    chunks.push(r.readOctets(n));
  });
  return chunks.length === 1 && chunks[0] !== undefined ? chunks[0] : Buffer.concat(chunks);
}

// ---------------------------------------------------------------- open types

/** §11.2: writes a complete encoding of `value` as an open type (aligned, length-prefixed octets). */
export function writeOpen<T>(w: BitWriter, codec: Codec<T>, value: T): void {
  const inner = w.child();
  w.enter();
  codec.write(inner, value);
  w.leave();
  writeUnconstrained(w, inner.bitLength === 0 ? Buffer.from([0]) : inner.toBuffer());
}

/** Reads an open type's octets (a view into the input). */
export function readOpenBytes(r: BitReader): Buffer {
  return readUnconstrainedOctets(r);
}

/** Decodes `bytes` of an open type with `codec` (padding is allowed, the rest is not checked). */
export function readOpenWith<T>(r: BitReader, codec: Codec<T>): T {
  const bytes = readOpenBytes(r);
  const inner = r.child(bytes);
  r.enter();
  const v = codec.read(inner);
  r.leave();
  return v;
}

/** An open type (e.g. a fastStart element or an H.245 message in a tunnel) carried as raw bytes. */
export const openBytes: Codec<Buffer> = {
  write: (w, v) => writeUnconstrained(w, v.length === 0 ? Buffer.from([0]) : v),
  read: (r) => Buffer.from(readOpenBytes(r)),
};

// ---------------------------------------------------------------- SEQUENCE OF

/** SEQUENCE (SIZE(...)) OF item, §20. */
export function seqOf<T>(item: Codec<T>, size: SizeConstraint = { lb: 0 }): Codec<T[]> {
  return {
    write: (w, items) => {
      w.enter();
      writeSized(w, items.length, size, false, (start, n) => {
        for (let i = start; i < start + n; i++) {
          const it = items[i];
          if (it === undefined) throw new PerError('PER_CONSTRAINT', 'hole in SEQUENCE OF');
          item.write(w, it);
        }
      });
      w.leave();
    },
    read: (r) => {
      r.enter();
      const out: T[] = [];
      readSized(r, size, false, (n) => {
        r.count(n);
        for (let i = 0; i < n; i++) out.push(item.read(r));
      });
      r.leave();
      return out;
    },
  };
}

// ---------------------------------------------------------------- other string types

/** A codec of B carried as A (e.g. a string type whose contents are octets). */
export function mapped<A, B>(codec: Codec<A>, decodeAs: (a: A) => B, encodeAs: (b: B) => A): Codec<B> {
  return {
    write: (w, v) => codec.write(w, encodeAs(v)),
    read: (r) => decodeAs(codec.read(r)),
  };
}

/**
 * GeneralString / GraphicString (§30.6, not known-multiplier): an unconstrained length in octets and the
 * octets; here each character is one octet (ISO 8859-1), as H.245 UserInputIndication.alphanumeric uses it.
 */
export const generalString: Codec<string> = mapped(
  octets(),
  (b) => b.toString('latin1'),
  (s) => {
    for (let i = 0; i < s.length; i++) {
      if (s.charCodeAt(i) > 255) throw new PerError('PER_CONSTRAINT', 'GeneralString character above U+00FF');
    }
    return Buffer.from(s, 'latin1');
  },
);

/** UTF8String (§30.6): an unconstrained length in octets and the UTF-8 octets (invalid UTF-8 is refused). */
export const utf8String: Codec<string> = mapped(
  octets(),
  (b) => {
    const s = b.toString('utf8');
    if (!Buffer.from(s, 'utf8').equals(b)) throw new PerError('PER_INVALID', 'UTF8String is not valid UTF-8');
    return s;
  },
  (s) => Buffer.from(s, 'utf8'),
);

/** A codec made when first used: lets generated types refer to each other in any order, recursively. */
export function lazy<T>(make: () => Codec<T>): Codec<T> {
  let made: Codec<T> | undefined;
  return {
    write: (w, v) => (made ??= make()).write(w, v),
    read: (r) => (made ??= make()).read(r),
  };
}
