import { PerError } from './errors.ts';

/** Bounds that keep hostile input from making the runtime allocate or loop without end. */
export interface PerLimits {
  /** Largest encoding, in octets, a writer produces or a reader accepts. */
  readonly maxBytes: number;
  /** Deepest nesting of constructed types and open types. */
  readonly maxDepth: number;
  /** Most components, items and characters one decode may produce (guards against SEQUENCE OF NULL with a huge count). */
  readonly maxElements: number;
}

export const DEFAULT_PER_LIMITS: PerLimits = { maxBytes: 1 << 20, maxDepth: 64, maxElements: 1 << 20 };

/** Nesting depth and element count shared by a reader/writer and the ones it opens for open types. */
interface Budget {
  depth: number;
  elements: number;
}


/** Accumulates an ALIGNED-PER bit stream; grows its buffer up to limits.maxBytes. */
export class BitWriter {
  private buf: Buffer;
  private pos = 0; // in bits
  private readonly budget: Budget;
  readonly limits: PerLimits;

  constructor(limits: PerLimits = DEFAULT_PER_LIMITS, budget: Budget = { depth: 0, elements: 0 }) {
    this.limits = limits;
    this.budget = budget;
    this.buf = Buffer.alloc(Math.min(64, limits.maxBytes));
  }

  /** A writer for an open type's contents that shares this writer's nesting depth. */
  child(): BitWriter {
    return new BitWriter(this.limits, this.budget);
  }

  get bitLength(): number {
    return this.pos;
  }

  private ensure(bits: number): void {
    const needBytes = (this.pos + bits + 7) >>> 3;
    if (needBytes > this.limits.maxBytes) {
      throw new PerError('PER_LIMIT', `encoding exceeds ${this.limits.maxBytes} octets`);
    }
    if (needBytes <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < needBytes) size *= 2;
    const next = Buffer.alloc(Math.min(size, this.limits.maxBytes));
    this.buf.copy(next, 0, 0, (this.pos + 7) >>> 3);
    this.buf = next;
  }

  writeBit(bit: boolean): void {
    this.ensure(1);
    if (bit) {
      const i = this.pos >>> 3;
      this.buf[i] = (this.buf[i] ?? 0) | (0x80 >>> (this.pos & 7));
    }
    this.pos += 1;
  }

  /** Writes the low `n` bits of a non-negative integer `value` (n ≤ 53), most significant first. */
  writeBits(value: number, n: number): void {
    if (n === 0) return;
    if (!Number.isSafeInteger(value) || value < 0 || n > 53 || (n < 53 && value >= 2 ** n)) {
      throw new PerError('PER_CONSTRAINT', `value ${value} does not fit in ${n} bits`);
    }
    this.ensure(n);
    let rest = value;
    for (let k = n - 1; k >= 0; k--) {
      const weight = 2 ** k;
      const bit = rest >= weight;
      if (bit) rest -= weight;
      if (bit) {
        const i = this.pos >>> 3;
        this.buf[i] = (this.buf[i] ?? 0) | (0x80 >>> (this.pos & 7));
      }
      this.pos += 1;
    }
  }

  /** Pads with zero bits to the next octet boundary. */
  align(): void {
    const pad = (8 - (this.pos & 7)) & 7;
    this.ensure(pad);
    this.pos += pad;
  }

  /** Writes whole octets at the current position (the caller aligns first when X.691 asks). */
  writeOctets(data: Uint8Array): void {
    if ((this.pos & 7) === 0) {
      this.ensure(data.length * 8);
      this.buf.set(data, this.pos >>> 3);
      this.pos += data.length * 8;
      return;
    }
    for (const byte of data) this.writeBits(byte, 8);
  }

  /** Writes `nOctets` octets holding `value` big-endian. */
  writeUnsignedOctets(value: number, nOctets: number): void {
    if (nOctets > 6) {
      const high = Math.floor(value / 2 ** 48);
      this.writeBits(high, (nOctets - 6) * 8);
      this.writeBits(value - high * 2 ** 48, 48);
      return;
    }
    this.writeBits(value, nOctets * 8);
  }

  enter(): void {
    this.budget.depth += 1;
    if (this.budget.depth > this.limits.maxDepth) throw new PerError('PER_LIMIT', `nesting deeper than ${this.limits.maxDepth}`);
  }

  leave(): void {
    this.budget.depth -= 1;
  }

  /** The encoding, padded with zero bits to a whole octet (a copy). */
  toBuffer(): Buffer {
    return Buffer.from(this.buf.subarray(0, (this.pos + 7) >>> 3));
  }
}

/** Reads an ALIGNED-PER bit stream; never reads past its buffer (every overrun is a PerError). */
export class BitReader {
  private readonly buf: Buffer;
  private pos = 0; // in bits
  private readonly endBits: number;
  private readonly budget: Budget;
  readonly limits: PerLimits;

  constructor(buf: Buffer, limits: PerLimits = DEFAULT_PER_LIMITS, budget: Budget = { depth: 0, elements: 0 }) {
    if (buf.length > limits.maxBytes) throw new PerError('PER_LIMIT', `input exceeds ${limits.maxBytes} octets`);
    this.buf = buf;
    this.endBits = buf.length * 8;
    this.limits = limits;
    this.budget = budget;
  }

  /** A reader over an open type's octets that shares this reader's depth and element budget. */
  child(bytes: Buffer): BitReader {
    return new BitReader(bytes, this.limits, this.budget);
  }

  get bitPosition(): number {
    return this.pos;
  }

  get remainingBits(): number {
    return this.endBits - this.pos;
  }

  private need(bits: number): void {
    if (bits > this.endBits - this.pos) {
      throw new PerError('PER_TRUNCATED', `needs ${bits} bits at bit ${this.pos}, ${this.endBits - this.pos} left`);
    }
  }

  readBit(): boolean {
    this.need(1);
    const byte = this.buf[this.pos >>> 3] ?? 0;
    const bit = (byte & (0x80 >>> (this.pos & 7))) !== 0;
    this.pos += 1;
    return bit;
  }

  /** Reads `n` bits (n ≤ 53) as a non-negative integer. */
  readBits(n: number): number {
    if (n > 53) throw new PerError('PER_LIMIT', `a ${n}-bit field is wider than this runtime reads`);
    this.need(n);
    let v = 0;
    for (let k = 0; k < n; k++) {
      const byte = this.buf[this.pos >>> 3] ?? 0;
      v = v * 2 + ((byte >>> (7 - (this.pos & 7))) & 1);
      this.pos += 1;
    }
    return v;
  }

  align(): void {
    const pad = (8 - (this.pos & 7)) & 7;
    this.need(pad);
    this.pos += pad;
  }

  /** Reads `n` whole octets (a view when aligned, else a copy). */
  readOctets(n: number): Buffer {
    this.need(n * 8);
    if ((this.pos & 7) === 0) {
      const start = this.pos >>> 3;
      this.pos += n * 8;
      return this.buf.subarray(start, start + n);
    }
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) out[i] = this.readBits(8);
    return out;
  }

  /** Reads `nOctets` octets as a big-endian unsigned integer; refuses values past 2^53. */
  readUnsignedOctets(nOctets: number): number {
    this.need(nOctets * 8);
    let v = 0;
    for (let i = 0; i < nOctets; i++) {
      v = v * 256 + this.readBits(8);
      if (v > Number.MAX_SAFE_INTEGER) throw new PerError('PER_LIMIT', 'integer larger than 2^53');
    }
    return v;
  }

  /** Checks that `bits` more bits exist before a decoder allocates for them. */
  require(bits: number): void {
    this.need(bits);
  }

  /** Counts produced elements against limits.maxElements. */
  count(n: number): void {
    this.budget.elements += n;
    if (this.budget.elements > this.limits.maxElements) {
      throw new PerError('PER_LIMIT', `more than ${this.limits.maxElements} elements`);
    }
  }

  enter(): void {
    this.budget.depth += 1;
    if (this.budget.depth > this.limits.maxDepth) throw new PerError('PER_LIMIT', `nesting deeper than ${this.limits.maxDepth}`);
  }

  leave(): void {
    this.budget.depth -= 1;
  }
}

