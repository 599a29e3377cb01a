/**
 * 16-bit linear PCM to G.711 (ITU-T G.711) µ-law and A-law, the inverse of g711.ts's tables.
 * Segment (exponent) = the position of the sample's highest set bit; the four bits below it are
 * the mantissa; µ-law adds a bias of 0x84 first and inverts every bit, A-law inverts the even ones
 * (XOR 0x55). Pure: encoding a frame writes into a buffer the caller owns (no allocation).
 */

const ULAW_BIAS = 0x84;
/** Largest magnitude µ-law represents before the bias overflows 15 bits. */
const ULAW_CLIP = 32_635;

/** One linear sample (−32768…32767) → its µ-law byte (PCMU). */
export function linearToUlaw(sample: number): number {
  let x = sample | 0;
  const sign = x < 0 ? 0x80 : 0;
  if (x < 0) x = -x;
  if (x > ULAW_CLIP) x = ULAW_CLIP;
  x += ULAW_BIAS;
  // Exponent 0–7: the highest set bit of x is bit (exponent + 7).
  let exponent = 7;
  for (let mask = 0x4000; (x & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (x >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

/** One linear sample (−32768…32767) → its A-law byte (PCMA). */
export function linearToAlaw(sample: number): number {
  // A-law works on 13 bits: drop the three low bits (arithmetic shift keeps the sign).
  let v = (sample | 0) >> 3;
  let mask: number;
  if (v >= 0) {
    mask = 0xd5; // sign bit set (positive), then the even-bit inversion
  } else {
    mask = 0x55;
    v = -v - 1;
  }
  if (v > 0xfff) return 0x7f ^ mask;
  // Segment 0 and 1 share the step size; from segment 2 on each doubles.
  let segment = 0;
  for (let end = 0x1f; v > end; end = (end << 1) | 1) segment++;
  const mantissa = segment < 2 ? (v >> 1) & 0x0f : (v >> segment) & 0x0f;
  return ((segment << 4) | mantissa) ^ mask;
}

/** Encodes `src` into `dst` (the same length) as µ-law; returns the bytes written. */
export function encodeUlaw(src: Int16Array, dst: Uint8Array): number {
  const n = Math.min(src.length, dst.length);
  for (let i = 0; i < n; i++) dst[i] = linearToUlaw(src[i] as number);
  return n;
}

/** Encodes `src` into `dst` (the same length) as A-law; returns the bytes written. */
export function encodeAlaw(src: Int16Array, dst: Uint8Array): number {
  const n = Math.min(src.length, dst.length);
  for (let i = 0; i < n; i++) dst[i] = linearToAlaw(src[i] as number);
  return n;
}
