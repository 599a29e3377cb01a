/**
 * Whole numbers and length determinants of X.691 (ALIGNED variant), §11.5–§11.9.
 * Values are JavaScript safe integers; anything past 2^53 is refused with a PerError.
 */
import type { BitReader, BitWriter } from './bits.ts';
import { PerError } from './errors.ts';

const K16 = 16384;
const K64 = 65536;

function bitsFor(range: number): number {
  // smallest b with 2^b >= range
  let b = 0;
  while (2 ** b < range) b += 1;
  return b;
}

function octetsFor(value: number): number {
  let n = 1;
  while (value >= 2 ** (8 * n)) n += 1;
  return n;
}

function checkInt(v: number, what: string): void {
  if (!Number.isSafeInteger(v)) throw new PerError('PER_CONSTRAINT', `${what}: ${v} is not a safe integer`);
}

/** §11.5.7: a constrained whole number lb ≤ n ≤ ub. */
export function writeConstrained(w: BitWriter, n: number, lb: number, ub: number): void {
  checkInt(n, 'constrained whole number');
  if (n < lb || n > ub) throw new PerError('PER_CONSTRAINT', `${n} outside ${lb}..${ub}`);
  const range = ub - lb + 1;
  const v = n - lb;
  if (range === 1) return;
  if (range <= 255) {
    w.writeBits(v, bitsFor(range));
  } else if (range === 256) {
    w.align();
    w.writeBits(v, 8);
  } else if (range <= K64) {
    w.align();
    w.writeBits(v, 16);
  } else {
    // §11.5.7.4: indefinite-length case, octet count as a constrained length 1..octets(range-1)
    const len = octetsFor(v);
    writeConstrained(w, len, 1, octetsFor(range - 1));
    w.align();
    w.writeUnsignedOctets(v, len);
  }
}

export function readConstrained(r: BitReader, lb: number, ub: number): number {
  const range = ub - lb + 1;
  if (range === 1) return lb;
  let v: number;
  if (range <= 255) {
    v = r.readBits(bitsFor(range));
  } else if (range === 256) {
    r.align();
    v = r.readBits(8);
  } else if (range <= K64) {
    r.align();
    v = r.readBits(16);
  } else {
    const len = readConstrained(r, 1, octetsFor(range - 1));
    r.align();
    v = r.readUnsignedOctets(len);
  }
  const n = lb + v;
  if (n > ub) throw new PerError('PER_CONSTRAINT', `decoded ${n} above ${ub}`);
  return n;
}

/** §11.6: normally small non-negative whole number (CHOICE / ENUMERATED extension indexes). */
export function writeNormallySmall(w: BitWriter, n: number): void {
  checkInt(n, 'normally small number');
  if (n < 0) throw new PerError('PER_CONSTRAINT', `normally small number ${n} is negative`);
  if (n <= 63) {
    w.writeBit(false);
    w.writeBits(n, 6);
    return;
  }
  w.writeBit(true);
  writeSemiConstrained(w, n, 0);
}

export function readNormallySmall(r: BitReader): number {
  if (!r.readBit()) return r.readBits(6);
  return readSemiConstrained(r, 0);
}

/** §11.9.3.4: normally small length (the count of extension additions), 1 ≤ n. */
export function writeNormallySmallLength(w: BitWriter, n: number): void {
  if (n < 1) throw new PerError('PER_CONSTRAINT', `normally small length ${n} below 1`);
  if (n <= 64) {
    w.writeBit(false);
    w.writeBits(n - 1, 6);
    return;
  }
  w.writeBit(true);
  writeUnconstrainedLength(w, n);
}

export function readNormallySmallLength(r: BitReader): number {
  if (!r.readBit()) return r.readBits(6) + 1;
  return readUnconstrainedLength(r);
}

/**
 * §11.9.3.6–7: an unconstrained length below 16K (one or two octets, aligned). Larger lengths must go
 * through writeFragmented; this helper refuses them.
 */
export function writeUnconstrainedLength(w: BitWriter, n: number): void {
  checkInt(n, 'length');
  w.align();
  if (n < 0 || n >= K16) throw new PerError('PER_CONSTRAINT', `length ${n} needs fragmentation`);
  if (n < 128) w.writeBits(n, 8);
  else w.writeBits(0x8000 | n, 16);
}

/** Reads a one/two-octet length; a fragment marker (11xxxxxx) is refused here. */
export function readUnconstrainedLength(r: BitReader): number {
  const frag = readLengthOrFragment(r);
  if (frag.fragment) throw new PerError('PER_INVALID', 'fragmented length where none is allowed');
  return frag.n;
}

interface LengthPart {
  readonly n: number;
  readonly fragment: boolean;
}

function readLengthOrFragment(r: BitReader): LengthPart {
  r.align();
  const first = r.readBits(8);
  if ((first & 0x80) === 0) return { n: first, fragment: false };
  if ((first & 0x40) === 0) return { n: ((first & 0x3f) << 8) | r.readBits(8), fragment: false };
  const m = first & 0x3f;
  if (m < 1 || m > 4) throw new PerError('PER_INVALID', `fragment multiplier ${m} not in 1..4`);
  return { n: m * K16, fragment: true };
}

/**
 * §11.9.3.8: `count` units (octets, bits, characters or items) behind an unconstrained length, fragmented
 * in 16K units (64K, 48K, 32K, 16K) with a final (possibly zero) length.
 */
export function writeFragmented(w: BitWriter, count: number, writeUnits: (start: number, n: number) => void): void {
  checkInt(count, 'length');
  let done = 0;
  for (;;) {
    const left = count - done;
    if (left < K16) {
      writeUnconstrainedLength(w, left);
      writeUnits(done, left);
      return;
    }
    const m = Math.min(4, Math.floor(left / K16));
    w.align();
    w.writeBits(0xc0 | m, 8);
    writeUnits(done, m * K16);
    done += m * K16;
  }
}

/** Reads fragments until the final part; `readUnits(n)` consumes n units. Returns the total. */
export function readFragmented(r: BitReader, readUnits: (n: number) => void): number {
  let total = 0;
  for (;;) {
    const part = readLengthOrFragment(r);
    readUnits(part.n);
    total += part.n;
    if (!part.fragment) return total;
  }
}

/** Size constraint of a string or SEQUENCE OF: lb..ub (ub undefined = MAX) and whether `...` follows. */
export interface SizeConstraint {
  readonly lb: number;
  readonly ub?: number | undefined;
  readonly extensible?: boolean | undefined;
}

export const UNBOUNDED: SizeConstraint = { lb: 0 };

/**
 * §11.9.4 with fragmentation: writes the length `n` under `size` and calls writeUnits. `alignUnits` says
 * whether the units start octet-aligned (asked by the type's clause); it is applied only when n > 0.
 * Returns nothing; a fixed size below 64K writes no length.
 */
export function writeSized(
  w: BitWriter,
  n: number,
  size: SizeConstraint,
  alignUnits: boolean,
  writeUnits: (start: number, n: number) => void,
): void {
  const inRoot = n >= size.lb && (size.ub === undefined || n <= size.ub);
  if (size.extensible === true) w.writeBit(!inRoot);
  else if (!inRoot) throw new PerError('PER_CONSTRAINT', `size ${n} outside ${size.lb}..${size.ub ?? 'MAX'}`);
  if (inRoot && size.ub !== undefined && size.ub < K64) {
    if (size.lb !== size.ub) writeConstrained(w, n, size.lb, size.ub);
    if (alignUnits && n > 0) w.align();
    writeUnits(0, n);
    return;
  }
  writeFragmented(w, n, (start, k) => {
    if (k > 0) w.align();
    writeUnits(start, k);
  });
}

export function readSized(r: BitReader, size: SizeConstraint, alignUnits: boolean, readUnits: (n: number) => void): number {
  const ext = size.extensible === true ? r.readBit() : false;
  if (!ext && size.ub !== undefined && size.ub < K64) {
    const n = size.lb === size.ub ? size.lb : readConstrained(r, size.lb, size.ub);
    if (alignUnits && n > 0) r.align();
    readUnits(n);
    return n;
  }
  const n = readFragmented(r, (k) => {
    if (k > 0) r.align();
    readUnits(k);
  });
  if (!ext && (n < size.lb || (size.ub !== undefined && n > size.ub))) {
    throw new PerError('PER_CONSTRAINT', `size ${n} outside ${size.lb}..${size.ub ?? 'MAX'}`);
  }
  return n;
}

/** §11.7 / §10.6: semi-constrained whole number n ≥ lb as length-prefixed minimal octets. */
export function writeSemiConstrained(w: BitWriter, n: number, lb: number): void {
  checkInt(n, 'semi-constrained whole number');
  if (n < lb) throw new PerError('PER_CONSTRAINT', `${n} below ${lb}`);
  const v = n - lb;
  checkInt(v, 'semi-constrained offset');
  const len = octetsFor(v);
  writeUnconstrainedLength(w, len);
  w.writeUnsignedOctets(v, len);
}

export function readSemiConstrained(r: BitReader, lb: number): number {
  const len = readUnconstrainedLength(r);
  if (len === 0) throw new PerError('PER_INVALID', 'zero-length integer');
  if (len > 7) throw new PerError('PER_LIMIT', `integer of ${len} octets is larger than 2^53`);
  const n = lb + r.readUnsignedOctets(len);
  checkInt(n, 'semi-constrained whole number');
  return n;
}

/** §11.8 / §10.8: unconstrained whole number as length-prefixed minimal two's complement. */
export function writeUnconstrainedInt(w: BitWriter, n: number): void {
  checkInt(n, 'unconstrained whole number');
  let len = 1;
  while (n < -(2 ** (8 * len - 1)) || n >= 2 ** (8 * len - 1)) len += 1;
  writeUnconstrainedLength(w, len);
  // first octet carries the sign; the rest are plain bits (keeps every step exact in a double)
  const restBits = (len - 1) * 8;
  const high = Math.floor(n / 2 ** restBits);
  w.writeBits(high < 0 ? high + 256 : high, 8);
  w.writeBits(n - high * 2 ** restBits, restBits);
}

export function readUnconstrainedInt(r: BitReader): number {
  const len = readUnconstrainedLength(r);
  if (len === 0) throw new PerError('PER_INVALID', 'zero-length integer');
  if (len > 7) throw new PerError('PER_LIMIT', `integer of ${len} octets is larger than 2^53`);
  const first = r.readBits(8);
  const high = first >= 128 ? first - 256 : first;
  const restBits = (len - 1) * 8;
  const n = high * 2 ** restBits + r.readBits(restBits);
  checkInt(n, 'unconstrained whole number');
  return n;
}
