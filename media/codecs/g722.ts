/**
 * ITU-T G.722 (7 kHz audio coding within 64 kbit/s), mode 1 (64 kbit/s), written from the
 * Recommendation's block descriptions (Section 6, "computational details"). Sub-band ADPCM:
 *
 *   16 kHz PCM → transmit QMF (24 taps) → lower band xL and higher band xH at 8 kHz each
 *   lower band: 6-bit ADPCM (QUANTL, 60 levels; the predictor adapts on the 4-bit truncated code)
 *   higher band: 2-bit ADPCM (QUANTH)
 *   one octet per 8 kHz sample pair: IH in bits 7–6, IL in bits 5–0
 *
 * The decoder mirrors it: INVQBL (6-bit) for the output of the lower band, INVQAL (4-bit) for its
 * predictor, INVQAH for the higher band, then the receive QMF back to 16 kHz. Each band has a
 * logarithmic scale factor (LOGSCL/LOGSCH, SCALEL/SCALEH), a two-pole predictor (UPPOL1/UPPOL2,
 * FILTEP) and a six-zero predictor (UPZERO, FILTEZ); every quantity is an integer of the
 * Recommendation's word length, so encoder and decoder track each other exactly.
 *
 * Linear PCM is 16-bit here (the Recommendation's 14-bit uniform codes are its upper 14 bits).
 * State lives in the instance; encode and decode allocate nothing. 20 ms = 320 samples = 160 octets.
 */

/** QMF coefficients h0…h23 in units of 2^-13 (Table 3/G.722: h0 = h23 = 0.366211E-3 = 3/8192, …). */
const QMF = Int32Array.of(3, -11, -11, 53, 12, -156, 32, 362, -210, -805, 951, 3876, 3876, 951, -805, -210, 362, 32, -156, 12, 53, -11, -11, 3);

/** QUANTL decision levels Q6(1…29) (Table 6/G.722; index 0 and 30 unused). */
const Q6 = Int32Array.of(0, 35, 72, 110, 150, 190, 233, 276, 323, 370, 422, 473, 530, 587, 650, 714, 786, 858, 940, 1023, 1121, 1219, 1339, 1458, 1612, 1765, 1980, 2195, 2557, 2919, 0);
/** QUANTL output code of interval MIL (1…30) for a negative (ILN) and a non-negative (ILP) difference. */
const ILN = Int32Array.of(0, 63, 62, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4);
const ILP = Int32Array.of(0, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45, 44, 43, 42, 41, 40, 39, 38, 37, 36, 35, 34, 33, 32);

/** INVQBL, 6-bit lower-band inverse quantiser output QQ6 · 2^? by code IL (Table 7/G.722, mode 1). */
const QM6 = Int32Array.of(
  -136, -136, -136, -136, -24808, -21904, -19008, -16704, -14984, -13512, -12280, -11192, -10232, -9360, -8576, -7856, -7192, -6576,
  -6000, -5456, -4944, -4464, -4008, -3576, -3168, -2776, -2400, -2032, -1688, -1360, -1040, -728, 24808, 21904, 19008, 16704, 14984,
  13512, 12280, 11192, 10232, 9360, 8576, 7856, 7192, 6576, 6000, 5456, 4944, 4464, 4008, 3576, 3168, 2776, 2400, 2032, 1688, 1360,
  1040, 728, 432, 136, -432, -136,
);
/** INVQAL, 4-bit inverse quantiser (the predictor's view of the lower band) by code IL >> 2. */
const QM4 = Int32Array.of(0, -20456, -12896, -8968, -6288, -4240, -2584, -1200, 20456, 12896, 8968, 6288, 4240, 2584, 1200, 0);
/** LOGSCL: the 4-bit code's magnitude class (RIL → IL4) and its scale-factor multiplier WL. */
const RL42 = Int32Array.of(0, 7, 6, 5, 4, 3, 2, 1, 7, 6, 5, 4, 3, 2, 1, 0);
const WL = Int32Array.of(-60, -30, 58, 172, 334, 538, 1198, 3042);
/** SCALEL/SCALEH: the inverse-log table ILB (2048 · 2^(i/32), rounded). */
const ILB = Int32Array.of(
  2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383, 2435, 2489, 2543, 2599, 2656, 2714, 2774, 2834, 2896, 2960, 3025, 3091, 3158, 3228,
  3298, 3371, 3444, 3520, 3597, 3676, 3756, 3838, 3922, 4008,
);
/** QUANTH decision level Q2 and codes; INVQAH output QM2; LOGSCH magnitude class RH2 and multiplier WH. */
const Q2 = 564;
const IHN = Int32Array.of(0, 1, 0);
const IHP = Int32Array.of(0, 3, 2);
const QM2 = Int32Array.of(-7408, -1616, 7408, 1616);
const RH2 = Int32Array.of(2, 1, 2, 1);
const WH = Int32Array.of(0, -214, 798);

/** Upper limits of the logarithmic scale factors NBL and NBH. */
const NBL_MAX = 18432;
const NBH_MAX = 22528;

function sat16(v: number): number {
  return v > 32767 ? 32767 : v < -32768 ? -32768 : v;
}

/** The "LIMIT" block: reconstructed sub-band signals are held to 15 bits. */
function limit15(v: number): number {
  return v > 16383 ? 16383 : v < -16384 ? -16384 : v;
}

/**
 * One sub-band's adaptive predictor and scale factor (the blocks common to encoder and decoder).
 * `s` is the signal estimate for the next sample (SL/SH), `det` the quantiser scale (DETL/DETH).
 */
class Band {
  /** Signal estimate s = sp + sz for the coming sample. */
  s = 0;
  /** Zero-section estimate SZ. */
  sz = 0;
  /** Logarithmic scale factor NB and the linear one DET. */
  nb = 0;
  det: number;
  /** Pole coefficients A1, A2 and the delayed reconstructed (R) and partial reconstructed (P) signals. */
  a1 = 0;
  a2 = 0;
  r1 = 0;
  r2 = 0;
  p1 = 0;
  p2 = 0;
  /** Zero coefficients B1…B6 and the delayed quantised differences D1…D6 (scalars: this is the hot loop). */
  b1 = 0;
  b2 = 0;
  b3 = 0;
  b4 = 0;
  b5 = 0;
  b6 = 0;
  d1 = 0;
  d2 = 0;
  d3 = 0;
  d4 = 0;
  d5 = 0;
  d6 = 0;

  constructor(det: number) {
    this.det = det;
  }

  copyFrom(o: Band): void {
    this.s = o.s;
    this.sz = o.sz;
    this.nb = o.nb;
    this.det = o.det;
    this.a1 = o.a1;
    this.a2 = o.a2;
    this.r1 = o.r1;
    this.r2 = o.r2;
    this.p1 = o.p1;
    this.p2 = o.p2;
    this.b1 = o.b1;
    this.b2 = o.b2;
    this.b3 = o.b3;
    this.b4 = o.b4;
    this.b5 = o.b5;
    this.b6 = o.b6;
    this.d1 = o.d1;
    this.d2 = o.d2;
    this.d3 = o.d3;
    this.d4 = o.d4;
    this.d5 = o.d5;
    this.d6 = o.d6;
  }

  /**
   * Adapts the predictor to the quantised difference `dq` (DLT/DH) of this sample and computes
   * the estimate of the next: ADDA, ADDB, UPZERO, UPPOL2, UPPOL1, DELAYA, FILTEZ, FILTEP, ADDC.
   */
  predict(dq: number): void {
    const p = sat16(dq + this.sz);
    const r = sat16(this.s + dq);

    // UPZERO: B(i) ← B(i)·(1 − 2^-8) ± 2^-7 by whether sgn D(i) agrees with sgn DQ (nothing when DQ is 0).
    const up = dq === 0 ? 0 : 128;
    const down = -up;
    const neg0 = dq < 0;
    const b1 = (this.d1 < 0 === neg0 ? up : down) + ((this.b1 * 32640) >> 15);
    const b2 = (this.d2 < 0 === neg0 ? up : down) + ((this.b2 * 32640) >> 15);
    const b3 = (this.d3 < 0 === neg0 ? up : down) + ((this.b3 * 32640) >> 15);
    const b4 = (this.d4 < 0 === neg0 ? up : down) + ((this.b4 * 32640) >> 15);
    const b5 = (this.d5 < 0 === neg0 ? up : down) + ((this.b5 * 32640) >> 15);
    const b6 = (this.d6 < 0 === neg0 ? up : down) + ((this.b6 * 32640) >> 15);

    // UPPOL2 and UPPOL1 on the signs of the partial reconstructed signal P, P1, P2.
    const pn = p < 0;
    const pn1 = this.p1 < 0;
    const pn2 = this.p2 < 0;
    const a1x4 = sat16(this.a1 * 4);
    let w2 = pn === pn1 ? -a1x4 : a1x4;
    if (w2 > 32767) w2 = 32767;
    let a2 = (w2 >> 7) + (pn === pn2 ? 128 : -128) + ((this.a2 * 32512) >> 15);
    a2 = a2 > 12288 ? 12288 : a2 < -12288 ? -12288 : a2;
    let a1 = (pn === pn1 ? 192 : -192) + ((this.a1 * 32640) >> 15);
    const lim = 15360 - a2;
    a1 = a1 > lim ? lim : a1 < -lim ? -lim : a1;

    // DELAYA.
    const d1 = dq;
    const d2 = this.d1;
    const d3 = this.d2;
    const d4 = this.d3;
    const d5 = this.d4;
    const d6 = this.d5;
    this.d1 = d1;
    this.d2 = d2;
    this.d3 = d3;
    this.d4 = d4;
    this.d5 = d5;
    this.d6 = d6;
    this.b1 = b1;
    this.b2 = b2;
    this.b3 = b3;
    this.b4 = b4;
    this.b5 = b5;
    this.b6 = b6;
    const r1 = r;
    const r2 = this.r1;
    this.r2 = r2;
    this.r1 = r1;
    this.p2 = this.p1;
    this.p1 = p;
    this.a1 = a1;
    this.a2 = a2;

    // FILTEZ and FILTEP, then ADDC.
    const sz = sat16(
      ((b1 * sat16(2 * d1)) >> 15) + ((b2 * sat16(2 * d2)) >> 15) + ((b3 * sat16(2 * d3)) >> 15) + ((b4 * sat16(2 * d4)) >> 15) + ((b5 * sat16(2 * d5)) >> 15) + ((b6 * sat16(2 * d6)) >> 15),
    );
    this.sz = sz;
    const sp = sat16(((a1 * sat16(2 * r1)) >> 15) + ((a2 * sat16(2 * r2)) >> 15));
    this.s = sat16(sp + sz);
  }

  /** LOGSCL then SCALEL (lower band). */
  adaptLow(il: number): void {
    let nb = ((this.nb * 32512) >> 15) + (WL[RL42[il >> 2] ?? 0] ?? 0);
    nb = nb < 0 ? 0 : nb > NBL_MAX ? NBL_MAX : nb;
    this.nb = nb;
    this.det = scale(nb, 8);
  }

  /** LOGSCH then SCALEH (higher band). */
  adaptHigh(ih: number): void {
    let nb = ((this.nb * 32512) >> 15) + (WH[RH2[ih] ?? 0] ?? 0);
    nb = nb < 0 ? 0 : nb > NBH_MAX ? NBH_MAX : nb;
    this.nb = nb;
    this.det = scale(nb, 10);
  }
}

/** SCALEL/SCALEH: DET = ILB((NB >> 6) & 31) · 2^((NB >> 11) − base), times 4. */
function scale(nb: number, base: number): number {
  const mant = ILB[(nb >> 6) & 31] ?? 0;
  const shift = base - (nb >> 11);
  return (shift >= 0 ? mant >> shift : mant << -shift) << 2;
}

/** The magnitude the quantisers compare: |e| for e ≥ 0, |e| − 1 below (the 1's complement of the 16-bit word). */
function magnitude(e: number): number {
  return e >= 0 ? e : -e - 1;
}

/** G.722 mode 1 encoder: 16 kHz linear PCM → 64 kbit/s octets. */
export class G722Encoder {
  readonly #low = new Band(32);
  readonly #high = new Band(8);
  /**
   * Transmit QMF delay line, 24 taps, kept twice over (a ring of 24 mirrored at +24) so the
   * window newest-first is always x[w .. w + 23] without shifting.
   */
  readonly #x = new Int32Array(48);
  #w = 0;

  /**
   * Takes on `other`'s whole state. A decoder that has followed `other`'s octets then decodes
   * this encoder's next octets as if they had come from `other`: the ADPCM has no mismatch to
   * recover from (which takes some 150 ms otherwise) when a receiver's stream moves between encoders.
   */
  copyFrom(other: G722Encoder): void {
    this.#low.copyFrom(other.#low);
    this.#high.copyFrom(other.#high);
    this.#x.set(other.#x);
    this.#w = other.#w;
  }

  /**
   * Encodes `pcm[0, samples)` (16 kHz; `samples` even, default the whole array) into `out`;
   * answers the octets written (samples / 2).
   */
  encode(pcm: Int16Array, out: Uint8Array, samples = pcm.length): number {
    const x = this.#x;
    const low = this.#low;
    const high = this.#high;
    const pairs = samples >> 1;
    let w = this.#w;
    for (let n = 0; n < pairs; n++) {
      // Transmit QMF: xA on the even taps (newest sample at h0), xB on the odd taps.
      w = w === 0 ? 22 : w - 2;
      const older = pcm[2 * n] ?? 0;
      const newer = pcm[2 * n + 1] ?? 0;
      x[w] = newer;
      x[w + 24] = newer;
      x[w + 1] = older;
      x[w + 25] = older;
      let xa = 0;
      let xb = 0;
      for (let i = 0; i < 24; i += 2) {
        xa += (x[w + i] ?? 0) * (QMF[i] ?? 0);
        xb += (x[w + i + 1] ?? 0) * (QMF[i + 1] ?? 0);
      }
      const xl = (xa + xb) >> 14;
      const xh = (xa - xb) >> 14;

      // Lower band: SUBTRA, QUANTL, INVQAL, LOGSCL/SCALEL, predictor.
      const el = sat16(xl - low.s);
      const wd = magnitude(el);
      const detl = low.det;
      let mil = 1;
      while (mil < 30 && wd >= ((Q6[mil] ?? 0) * detl) >> 12) mil++;
      const il = (el < 0 ? ILN[mil] : ILP[mil]) ?? 0;
      const dlt = ((QM4[il >> 2] ?? 0) * detl) >> 15;
      low.adaptLow(il);
      low.predict(dlt);

      // Higher band: SUBTRA, QUANTH, INVQAH, LOGSCH/SCALEH, predictor.
      const eh = sat16(xh - high.s);
      const deth = high.det;
      const mih = magnitude(eh) >= (Q2 * deth) >> 12 ? 2 : 1;
      const ih = (eh < 0 ? IHN[mih] : IHP[mih]) ?? 0;
      const dh = ((QM2[ih] ?? 0) * deth) >> 15;
      high.adaptHigh(ih);
      high.predict(dh);

      out[n] = (ih << 6) | il;
    }
    this.#w = w;
    return pairs;
  }
}

/** G.722 mode 1 decoder: 64 kbit/s octets → 16 kHz linear PCM. */
export class G722Decoder {
  readonly #low = new Band(32);
  readonly #high = new Band(8);
  /** Receive QMF delay lines of xd = rL − rH and xs = rL + rH, 12 each, mirrored rings as the encoder's. */
  readonly #xd = new Int32Array(24);
  readonly #xs = new Int32Array(24);
  #w = 0;

  /** Decodes `data[0, length)` into `out` (two samples per octet); answers the samples written. */
  decode(data: Uint8Array, length: number, out: Int16Array): number {
    const low = this.#low;
    const high = this.#high;
    const xd = this.#xd;
    const xs = this.#xs;
    const n = Math.min(length, data.length, out.length >> 1);
    let w = this.#w;
    for (let k = 0; k < n; k++) {
      const octet = data[k] ?? 0;
      const il = octet & 0x3f;
      const ih = octet >> 6;

      // Lower band: INVQBL for the output, INVQAL for the predictor.
      const detl = low.det;
      const rl = limit15(low.s + (((QM6[il] ?? 0) * detl) >> 15));
      const dlt = ((QM4[il >> 2] ?? 0) * detl) >> 15;
      low.adaptLow(il);
      low.predict(dlt);

      // Higher band.
      const dh = ((QM2[ih] ?? 0) * high.det) >> 15;
      const rh = limit15(high.s + dh);
      high.adaptHigh(ih);
      high.predict(dh);

      // Receive QMF.
      w = w === 0 ? 11 : w - 1;
      xd[w] = xd[w + 12] = rl - rh;
      xs[w] = xs[w + 12] = rl + rh;
      let y1 = 0;
      let y2 = 0;
      for (let i = 0; i < 12; i++) {
        y1 += (xd[w + i] ?? 0) * (QMF[2 * i] ?? 0);
        y2 += (xs[w + i] ?? 0) * (QMF[2 * i + 1] ?? 0);
      }
      out[2 * k] = sat16(y1 >> 11);
      out[2 * k + 1] = sat16(y2 >> 11);
    }
    this.#w = w;
    return 2 * n;
  }
}
