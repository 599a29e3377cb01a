/**
 * Packet-loss concealment in the style of ITU-T G.711 Appendix I, on decoded linear PCM: a history
 * of the last 48.75 ms of good speech; on the first lost frame the pitch period is found by
 * normalised cross-correlation (5–15 ms lags) and the last period is repeated; later lost frames
 * repeat up to two, then three periods; from 10 ms into the loss the output is attenuated 20 % per
 * 10 ms, so it is silent from 60 ms on. The first good frame after a loss is cross-faded from the
 * continued synthetic signal over a quarter period. All buffers are allocated at construction.
 *
 * Appendix I is written for G.711 at 8 kHz; the same durations serve any rate that is a multiple
 * of 8 kHz (every sample constant below is scaled by rate / 8000): G.711 uses it at 8 kHz, G.722's
 * decoded output at 16 kHz.
 */

// Sample counts at 8 kHz.
const HISTORY_8K = 390; // 48.75 ms
const PITCH_MIN_8K = 40; // 5 ms
const PITCH_MAX_8K = 120; // 15 ms
const CORR_LEN_8K = 160; // 20 ms window compared against lagged copies
const ATTENUATE_FROM_8K = 80; // samples into the loss (10 ms)
const SILENT_AT_8K = 480; // 60 ms
/** 20 % less gain per this many samples (10 ms). */
const ATTENUATE_STEP_8K = 80;

export class G711Plc {
  readonly #frame: number;
  readonly #historyLen: number;
  readonly #pitchMin: number;
  readonly #pitchMax: number;
  readonly #corrLen: number;
  readonly #attenuateFrom: number;
  readonly #attenuateStep: number;
  readonly #silentAt: number;
  readonly #history: Int16Array;
  readonly #pitchBuf: Float32Array;
  #pitch: number;
  #periods = 1;
  #pos = 0;
  /** Samples concealed in the current loss, or 0 when the last frame was good. */
  #lostSamples = 0;

  /**
   * @param frameSamples samples per frame at `sampleRateHz` (at most 48.75 ms of them)
   * @param sampleRateHz 8000 (G.711) or another multiple of 8 kHz (16000 for G.722)
   */
  constructor(frameSamples = 160, sampleRateHz = 8000) {
    const k = sampleRateHz / 8000;
    if (!Number.isInteger(k) || k < 1) throw new RangeError(`PLC sample rate ${sampleRateHz} Hz is not a multiple of 8 kHz`);
    this.#historyLen = HISTORY_8K * k;
    if (!Number.isInteger(frameSamples) || frameSamples < 1 || frameSamples > this.#historyLen) {
      throw new RangeError(`PLC frame of ${frameSamples} samples is outside 1..${this.#historyLen}`);
    }
    this.#frame = frameSamples;
    this.#pitchMin = PITCH_MIN_8K * k;
    this.#pitchMax = PITCH_MAX_8K * k;
    this.#corrLen = CORR_LEN_8K * k;
    this.#attenuateFrom = ATTENUATE_FROM_8K * k;
    this.#attenuateStep = ATTENUATE_STEP_8K * k;
    this.#silentAt = SILENT_AT_8K * k;
    this.#history = new Int16Array(this.#historyLen);
    this.#pitchBuf = new Float32Array(3 * this.#pitchMax);
    this.#pitch = this.#pitchMin;
  }

  /** Records a good frame (modified in place when it follows a loss: the cross-fade). */
  good(frame: Int16Array): void {
    const n = this.#frame;
    if (this.#lostSamples > 0) {
      if (this.#lostSamples < this.#silentAt) {
        const fade = Math.max(1, Math.min(n, this.#pitch >> 2));
        for (let i = 0; i < fade; i++) {
          const w = (i + 1) / (fade + 1);
          const synth = this.#synthSample(this.#lostSamples + i);
          frame[i] = clamp16(Math.round(w * (frame[i] ?? 0) + (1 - w) * synth));
        }
      }
      this.#lostSamples = 0;
    }
    this.#remember(frame);
  }

  /** Fills `out` with one concealed frame. */
  lost(out: Int16Array): void {
    const n = this.#frame;
    if (this.#lostSamples === 0) {
      this.#pitch = this.#findPitch();
      this.#periods = 1;
      this.#pos = 0;
      this.#loadPitchBuffer();
    } else if (this.#periods < 3) {
      this.#periods++;
      this.#pos %= this.#periods * this.#pitch;
    }
    for (let i = 0; i < n; i++) out[i] = clamp16(Math.round(this.#synthSample(this.#lostSamples + i)));
    this.#lostSamples += n;
    this.#pos = (this.#pos + n) % (this.#periods * this.#pitch);
    this.#remember(out);
  }

  /** The synthetic sample at `t` samples into the loss (attenuated), without advancing. */
  #synthSample(t: number): number {
    if (t >= this.#silentAt) return 0;
    const len = this.#periods * this.#pitch;
    const offset = t - this.#lostSamples;
    const base = 3 * this.#pitch - len;
    const v = this.#pitchBuf[base + ((this.#pos + offset) % len)] ?? 0;
    const from = this.#attenuateFrom;
    const gain = t < from ? 1 : Math.max(0, 1 - (0.2 * (t - from)) / this.#attenuateStep);
    return v * gain;
  }

  #remember(frame: Int16Array): void {
    const n = this.#frame;
    const len = this.#historyLen;
    this.#history.copyWithin(0, n);
    for (let i = 0; i < n; i++) this.#history[len - n + i] = frame[i] ?? 0;
  }

  /** The last three periods of good speech (the loss repeats the last one, two or three). */
  #loadPitchBuffer(): void {
    const len = 3 * this.#pitch;
    const end = this.#historyLen;
    for (let i = 0; i < len; i++) this.#pitchBuf[i] = this.#history[end - len + i] ?? 0;
  }

  /** Lag of 5–15 ms maximising the normalised correlation of the last 20 ms. */
  #findPitch(): number {
    const h = this.#history;
    const end = this.#historyLen;
    const max = this.#pitchMax;
    let best = this.#pitchMin;
    let bestScore = -Infinity;
    for (let lag = this.#pitchMin; lag <= max; lag++) {
      let cross = 0;
      let energy = 0;
      for (let i = end - this.#corrLen; i < end; i++) {
        const a = h[i] ?? 0;
        const b = h[i - lag] ?? 0;
        cross += a * b;
        energy += b * b;
      }
      const score = energy > 0 ? cross / Math.sqrt(energy) : 0;
      if (score > bestScore) {
        bestScore = score;
        best = lag;
      }
    }
    return best;
  }
}

export function clamp16(v: number): number {
  return v > 32767 ? 32767 : v < -32768 ? -32768 : v;
}
