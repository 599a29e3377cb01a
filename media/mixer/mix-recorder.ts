/**
 * A meeting's recording tap: the bridge's shared mix (what a listener who is not talking hears —
 * the K talkers and the announcements), 16 kHz each tick, saturated to 16 bits as the listeners
 * get it, downsampled to 8 kHz (resample.ts) and cut into fragments of `fragmentMs`. The first
 * fragment's timecode is the wall clock at the first tick; every next one is exactly one fragment
 * later (the tick does not drift, and a silent tick is a tick: silence keeps the timeline). Per
 * tick it only copies into preallocated buffers; a finished fragment's PCM is handed over and a
 * fresh buffer takes its place (one allocation per fragment, as the audio tap does).
 */
import { SAMPLE_RATE } from '../stream/mkv.ts';
import { BRIDGE_FRAME_SAMPLES } from './frame-codec.ts';
import { Downsampler } from './resample.ts';

/** A finished fragment of the mix: epoch-ms timecode of its first sample and its 8 kHz PCM. */
export type MixFragmentListener = (timecodeMs: number, pcm: Int16Array) => void;

/** The bridge's tick in ms (BRIDGE_FRAME_SAMPLES at 16 kHz). */
const TICK_MS = 20;
/** Samples of one tick at 8 kHz. */
const TICK_SAMPLES_8K = BRIDGE_FRAME_SAMPLES / 2;
/** Longest fragment a recording may ask for. */
export const MAX_MIX_FRAGMENT_MS = 10_000;

/** Whether `fragmentMs` is a fragment length the mix recorder takes: a whole number of ticks, 20 ms – 10 s. */
export function validMixFragmentMs(fragmentMs: number): boolean {
  return Number.isInteger(fragmentMs) && fragmentMs >= TICK_MS && fragmentMs <= MAX_MIX_FRAGMENT_MS && fragmentMs % TICK_MS === 0;
}

export class MixRecorder {
  readonly fragmentMs: number;
  readonly #samples: number;
  readonly #onFragment: MixFragmentListener;
  readonly #down = new Downsampler(BRIDGE_FRAME_SAMPLES);
  readonly #sat = new Int16Array(BRIDGE_FRAME_SAMPLES);
  readonly #tick8k = new Int16Array(TICK_SAMPLES_8K);
  #pcm: Int16Array;
  #filled = 0;
  #timecodeMs = 0;
  #started = false;
  #closed = false;

  /** `fragmentMs` must pass validMixFragmentMs. */
  constructor(fragmentMs: number, onFragment: MixFragmentListener) {
    if (!validMixFragmentMs(fragmentMs)) throw new RangeError(`mix fragment of ${fragmentMs} ms`);
    this.fragmentMs = fragmentMs;
    this.#samples = (SAMPLE_RATE * fragmentMs) / 1000;
    this.#onFragment = onFragment;
    this.#pcm = new Int16Array(this.#samples);
  }

  /** One tick's mix (BRIDGE_FRAME_SAMPLES at 16 kHz, unsaturated sums), at wall time `wallMs` on the first. */
  push(mix: Int32Array, wallMs: number): void {
    if (this.#closed) return;
    if (!this.#started) {
      this.#started = true;
      this.#timecodeMs = wallMs;
    }
    const s = this.#sat;
    for (let i = 0; i < BRIDGE_FRAME_SAMPLES; i++) {
      const v = mix[i] ?? 0;
      s[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
    }
    this.#down.process(s, this.#tick8k);
    this.#pcm.set(this.#tick8k, this.#filled);
    this.#filled += TICK_SAMPLES_8K;
    if (this.#filled >= this.#samples) this.#flush();
  }

  /** Recording stops: what is left of the current fragment goes out, cut at the last tick. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#filled > 0) this.#flush();
  }

  #flush(): void {
    const n = this.#filled;
    const out = n === this.#samples ? this.#pcm : this.#pcm.slice(0, n);
    const timecode = this.#timecodeMs;
    if (n === this.#samples) this.#pcm = new Int16Array(this.#samples);
    this.#timecodeMs += this.fragmentMs;
    this.#filled = 0;
    this.#onFragment(timecode, out);
  }
}
