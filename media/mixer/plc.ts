/**
 * Packet-loss concealment for G.711 at 8 kHz in the style of ITU-T G.711 Appendix I: a history of
 * the last 48.75 ms of good speech; on the first lost frame the pitch period is found by
 * normalised cross-correlation (5–15 ms lags) and the last period is repeated; later lost frames
 * repeat up to two, then three periods; from 10 ms into the loss the output is attenuated 20 % per
 * 10 ms, so it is silent from 60 ms on. The first good frame after a loss is cross-faded from the
 * continued synthetic signal over a quarter period. All buffers are allocated at construction.
 */

const HISTORY = 390; // 48.75 ms
const PITCH_MIN = 40; // 5 ms
const PITCH_MAX = 120; // 15 ms
const CORR_LEN = 160; // 20 ms window compared against lagged copies
const ATTENUATE_FROM = 80; // samples into the loss (10 ms)
const SILENT_AT = 480; // 60 ms

export class G711Plc {
  readonly #frame: number;
  readonly #history = new Int16Array(HISTORY);
  readonly #pitchBuf = new Float32Array(3 * PITCH_MAX);
  #pitch = PITCH_MIN;
  #periods = 1;
  #pos = 0;
  /** Samples concealed in the current loss, or 0 when the last frame was good. */
  #lostSamples = 0;

  constructor(frameSamples = 160) {
    this.#frame = frameSamples;
  }

  /** Records a good frame (modified in place when it follows a loss: the cross-fade). */
  good(frame: Int16Array): void {
    const n = this.#frame;
    if (this.#lostSamples > 0) {
      if (this.#lostSamples < SILENT_AT) {
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
    if (t >= SILENT_AT) return 0;
    const len = this.#periods * this.#pitch;
    const offset = t - this.#lostSamples;
    const base = 3 * this.#pitch - len;
    const v = this.#pitchBuf[base + ((this.#pos + offset) % len)] ?? 0;
    const gain = t < ATTENUATE_FROM ? 1 : Math.max(0, 1 - (0.2 * (t - ATTENUATE_FROM)) / 80);
    return v * gain;
  }

  #remember(frame: Int16Array): void {
    const n = this.#frame;
    this.#history.copyWithin(0, n);
    for (let i = 0; i < n; i++) this.#history[HISTORY - n + i] = frame[i] ?? 0;
  }

  /** The last three periods of good speech (the loss repeats the last one, two or three). */
  #loadPitchBuffer(): void {
    const len = 3 * this.#pitch;
    for (let i = 0; i < len; i++) this.#pitchBuf[i] = this.#history[HISTORY - len + i] ?? 0;
  }

  /** Lag in PITCH_MIN..PITCH_MAX maximising the normalised correlation of the last 20 ms. */
  #findPitch(): number {
    const h = this.#history;
    const end = HISTORY;
    let best = PITCH_MIN;
    let bestScore = -Infinity;
    for (let lag = PITCH_MIN; lag <= PITCH_MAX; lag++) {
      let cross = 0;
      let energy = 0;
      for (let i = end - CORR_LEN; i < end; i++) {
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
