/**
 * Active-talker selection for one bridge: per participant slot a smoothed frame energy (fast
 * attack, slow release), the K loudest above a floor are the talkers. Hysteresis: a candidate
 * replaces the weakest talker only when louder by `switchRatio`, at most once per update; a talker
 * whose energy falls under the floor stays for `hangoverFrames` before leaving. Changes are
 * reported through `onChange`. All state is in typed arrays sized at construction.
 */

export interface TalkerOptions {
  readonly capacity: number;
  readonly k?: number;
  /** Smoothing per frame when the energy rises / falls (0..1). Defaults 0.5 and 0.1. */
  readonly attack?: number;
  readonly release?: number;
  /** Smoothed mean-square energy below which a slot is silent. Default 1e4 (rms 100, about −50 dBFS). */
  readonly floor?: number;
  readonly hangoverFrames?: number;
  /** Energy ratio a candidate needs over the weakest talker to replace it. Default 2 (3 dB). */
  readonly switchRatio?: number;
  readonly onChange?: (slot: number, talking: boolean) => void;
}

export class TalkerSelector {
  readonly k: number;
  readonly smoothed: Float64Array;
  readonly selected: Uint8Array;
  readonly #hang: Int32Array;
  readonly #attack: number;
  readonly #release: number;
  readonly #floor: number;
  readonly #hangover: number;
  readonly #ratio: number;
  readonly #onChange: ((slot: number, talking: boolean) => void) | undefined;
  #count = 0;

  constructor(o: TalkerOptions) {
    this.k = Math.max(1, Math.floor(o.k ?? 3));
    this.smoothed = new Float64Array(o.capacity);
    this.selected = new Uint8Array(o.capacity);
    this.#hang = new Int32Array(o.capacity);
    this.#attack = o.attack ?? 0.5;
    this.#release = o.release ?? 0.1;
    this.#floor = o.floor ?? 1e4;
    this.#hangover = Math.max(0, Math.floor(o.hangoverFrames ?? 10));
    this.#ratio = o.switchRatio ?? 2;
    this.#onChange = o.onChange;
  }

  /** Number of slots selected. */
  get count(): number {
    return this.#count;
  }

  /**
   * One frame: energies[i] is slot i's mean-square energy, eligible[i] 0 for slots that may not
   * talk (muted, empty). Slots 0..n-1 are considered.
   */
  update(energies: Float64Array, eligible: Uint8Array, n: number): void {
    const s = this.smoothed;
    for (let i = 0; i < n; i++) {
      const e = eligible[i] === 1 ? (energies[i] ?? 0) : 0;
      const prev = s[i] ?? 0;
      s[i] = prev + (e > prev ? this.#attack : this.#release) * (e - prev);
    }
    for (let i = 0; i < n; i++) {
      if (this.selected[i] !== 1) continue;
      if (eligible[i] !== 1) {
        this.#set(i, false);
      } else if ((s[i] ?? 0) >= this.#floor) {
        this.#hang[i] = this.#hangover;
      } else if ((this.#hang[i] = (this.#hang[i] ?? 0) - 1) < 0) {
        this.#set(i, false);
      }
    }
    while (this.#count < this.k) {
      const c = this.#loudestCandidate(eligible, n);
      if (c < 0) break;
      this.#set(c, true);
    }
    if (this.#count === this.k) {
      const c = this.#loudestCandidate(eligible, n);
      if (c >= 0) {
        let weakest = -1;
        for (let i = 0; i < n; i++) if (this.selected[i] === 1 && (weakest < 0 || (s[i] ?? 0) < (s[weakest] ?? 0))) weakest = i;
        if (weakest >= 0 && (s[c] ?? 0) > this.#ratio * (s[weakest] ?? 0)) {
          this.#set(weakest, false);
          this.#set(c, true);
        }
      }
    }
  }

  /** Forgets a slot (participant left): deselected without an event if it was not talking. */
  clear(slot: number): void {
    if (this.selected[slot] === 1) this.#set(slot, false);
    this.smoothed[slot] = 0;
    this.#hang[slot] = 0;
  }

  #loudestCandidate(eligible: Uint8Array, n: number): number {
    let best = -1;
    for (let i = 0; i < n; i++) {
      if (this.selected[i] === 1 || eligible[i] !== 1 || (this.smoothed[i] ?? 0) < this.#floor) continue;
      if (best < 0 || (this.smoothed[i] ?? 0) > (this.smoothed[best] ?? 0)) best = i;
    }
    return best;
  }

  #set(slot: number, on: boolean): void {
    this.selected[slot] = on ? 1 : 0;
    this.#count += on ? 1 : -1;
    if (on) this.#hang[slot] = this.#hangover;
    this.#onChange?.(slot, on);
  }
}
