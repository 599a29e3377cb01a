/**
 * DTMF digit collection for the IVR and the meeting's moderator controls, protocol-neutral: digits
 * arrive from RFC 4733 telephone-events (media/dtmf) or SIP INFO (signaling/sip/ua/sip-info-dtmf.ts)
 * through the same `digit()` call. Timers are injected (STYLE.md 6).
 *
 * Rules:
 * - An entry (`collect()`) ends with `#`, or when no digit arrives within the inter-digit timeout
 *   after the last one; no digit at all within the first-digit timeout (counted once no prompt is
 *   playing) is `no-input`. An entry longer than its maximum is refused whole (`too-long`, never
 *   truncated): the extra digits are swallowed until `#` or the timeout so they do not start a new
 *   entry.
 * - Barge-in: a digit typed while a prompt plays stops the prompt (`bargeIn`) and counts.
 * - `*` starts a control sequence at any time, even inside an entry (meeting IDs and passcodes are
 *   digits only): `*6` `*7` `*5` `*9` `*#` `**`, and `*8` followed by `1` (anything else cancels).
 * - With no `collect()` running, digits ended by `#` are still reported (`solicited: false`): the
 *   moderator passcode can be typed at any time.
 * - Flood guard: a digit beyond 20 in any one second (monotonic clock) is dropped and counted.
 */
import type { Clock, TimerHandle, Timers } from '../../common/clock.ts';
import { isDtmfDigit, type DtmfDigit } from '../../common/dtmf-digit.ts';

/** Moderator controls, each one key sequence (the key map in media/prompts/README.md). */
export type DtmfControl =
  | 'toggle-mute-self' // *6
  | 'mute-all-others' // *7
  | 'toggle-lock' // *5
  | 'end-for-all' // *8 then 1
  | 'toggle-recording' // *9
  | 'participant-count' // *#
  | 'help'; // **

/** The key after `*` for each one-step control. */
export const CONTROL_KEYS = {
  '6': 'toggle-mute-self',
  '7': 'mute-all-others',
  '5': 'toggle-lock',
  '9': 'toggle-recording',
  '#': 'participant-count',
  '*': 'help',
} as const satisfies Partial<Record<DtmfDigit, DtmfControl>>;

/** `*8` waits for this key to end the meeting for all. */
export const END_CONFIRM_KEY: DtmfDigit = '1';

export type DtmfEntry =
  /** Digits ended by `#` or by the inter-digit timeout. */
  | { readonly kind: 'digits'; readonly digits: string; readonly endedBy: 'hash' | 'timeout'; readonly solicited: boolean }
  /** `#` with no digit before it. */
  | { readonly kind: 'empty'; readonly solicited: boolean }
  /** More digits than the entry's maximum: refused whole. */
  | { readonly kind: 'too-long'; readonly maxDigits: number; readonly solicited: boolean }
  /** No digit within the first-digit timeout (solicited entries only). */
  | { readonly kind: 'no-input' };

export interface DtmfCollectorEvents {
  entry(entry: DtmfEntry): void;
  control(control: DtmfControl): void;
  /** A digit arrived while a prompt played: stop it (the digit counts). */
  bargeIn(): void;
}

export interface CollectOptions {
  /** Longest entry accepted; one more digit refuses it. */
  readonly maxDigits: number;
  readonly firstDigitTimeoutMs?: number;
  readonly interDigitTimeoutMs?: number;
}

export const DEFAULT_INTER_DIGIT_TIMEOUT_MS = 5_000;
export const DEFAULT_FIRST_DIGIT_TIMEOUT_MS = 10_000;
/** Longest unsolicited entry (the moderator passcode is 4–8 digits). */
export const DEFAULT_UNSOLICITED_MAX_DIGITS = 8;
export const FLOOD_LIMIT_DIGITS_PER_SECOND = 20;
const FLOOD_WINDOW_MS = 1_000;

export interface DtmfCollectorOptions {
  readonly clock: Clock;
  readonly timers: Timers;
  readonly events: DtmfCollectorEvents;
  readonly interDigitTimeoutMs?: number;
  readonly firstDigitTimeoutMs?: number;
  readonly unsolicitedMaxDigits?: number;
}

/** Counters, read at scrape time (STYLE.md 13). */
export interface DtmfCollectorStats {
  accepted: number;
  /** Dropped by the flood guard. */
  flooded: number;
  /** Not a DTMF digit at all (a refused call of digit()). */
  invalid: number;
  /** A, B, C, D: valid events with no meaning here. */
  ignored: number;
  controls: number;
  /** `*` then an unknown key, `*8` then not 1, or a sequence left unfinished. */
  abandonedSequences: number;
  tooLong: number;
}

type Sequence = 'none' | 'star' | 'star8';

export class DtmfCollector {
  readonly stats: DtmfCollectorStats = { accepted: 0, flooded: 0, invalid: 0, ignored: 0, controls: 0, abandonedSequences: 0, tooLong: 0 };
  readonly #clock: Clock;
  readonly #timers: Timers;
  readonly #events: DtmfCollectorEvents;
  readonly #defaultInterMs: number;
  readonly #defaultFirstMs: number;
  readonly #unsolicitedMax: number;
  /** Monotonic times of the last accepted digits, a ring of FLOOD_LIMIT entries. */
  readonly #recent = new Float64Array(FLOOD_LIMIT_DIGITS_PER_SECOND).fill(Number.NEGATIVE_INFINITY);
  #recentNext = 0;

  #solicited: CollectOptions | undefined;
  #digits = '';
  #overflow = false;
  #entryTimer: TimerHandle | undefined;
  #promptPlaying = false;
  #sequence: Sequence = 'none';
  #sequenceTimer: TimerHandle | undefined;
  #closed = false;

  constructor(options: DtmfCollectorOptions) {
    this.#clock = options.clock;
    this.#timers = options.timers;
    this.#events = options.events;
    this.#defaultInterMs = options.interDigitTimeoutMs ?? DEFAULT_INTER_DIGIT_TIMEOUT_MS;
    this.#defaultFirstMs = options.firstDigitTimeoutMs ?? DEFAULT_FIRST_DIGIT_TIMEOUT_MS;
    this.#unsolicitedMax = options.unsolicitedMaxDigits ?? DEFAULT_UNSOLICITED_MAX_DIGITS;
  }

  /** True while a solicited entry is being collected. */
  get collecting(): boolean {
    return this.#solicited !== undefined;
  }

  /**
   * Starts a solicited entry (dropping any partial one). The first-digit timeout runs once no
   * prompt is playing.
   */
  collect(options: CollectOptions): void {
    if (this.#closed) return;
    if (!Number.isInteger(options.maxDigits) || options.maxDigits < 1) throw new RangeError('maxDigits must be a positive integer');
    this.#resetEntry();
    this.#solicited = options;
    if (!this.#promptPlaying) this.#armFirstDigit();
  }

  /** Drops the running entry without reporting it. */
  cancel(): void {
    this.#resetEntry();
    this.#solicited = undefined;
  }

  /** The IVR tells the collector when a prompt starts and stops (barge-in, first-digit timer). */
  setPromptPlaying(playing: boolean): void {
    if (this.#closed || playing === this.#promptPlaying) return;
    this.#promptPlaying = playing;
    if (playing) {
      if (this.#solicited !== undefined && this.#digits.length === 0 && !this.#overflow) this.#clearEntryTimer();
    } else if (this.#solicited !== undefined && this.#digits.length === 0 && !this.#overflow && this.#entryTimer === undefined) {
      this.#armFirstDigit();
    }
  }

  /**
   * One digit from either DTMF transport. Returns false when it is refused (not a DTMF digit,
   * flood guard, closed); A–D are accepted and ignored.
   */
  digit(d: string): boolean {
    if (this.#closed) return false;
    if (!isDtmfDigit(d)) {
      this.stats.invalid++;
      return false;
    }
    const now = this.#clock.monoMs();
    if (now - (this.#recent[this.#recentNext] as number) < FLOOD_WINDOW_MS) {
      this.stats.flooded++;
      return false;
    }
    this.#recent[this.#recentNext] = now;
    this.#recentNext = (this.#recentNext + 1) % FLOOD_LIMIT_DIGITS_PER_SECOND;
    this.stats.accepted++;

    if (this.#promptPlaying) {
      this.#promptPlaying = false;
      this.#events.bargeIn();
    }
    if (d === 'A' || d === 'B' || d === 'C' || d === 'D') {
      this.stats.ignored++;
      return true;
    }
    if (this.#sequence !== 'none') {
      this.#sequenceKey(d);
      return true;
    }
    if (d === '*') {
      this.#sequence = 'star';
      this.#armSequence();
      return true;
    }
    this.#entryKey(d);
    return true;
  }

  /** Stops every timer; later digits are refused. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#resetEntry();
    this.#solicited = undefined;
    this.#endSequence();
  }

  #sequenceKey(d: DtmfDigit): void {
    if (this.#sequence === 'star8') {
      this.#endSequence();
      if (d === END_CONFIRM_KEY) this.#control('end-for-all');
      else this.stats.abandonedSequences++;
      return;
    }
    if (d === '8') {
      this.#sequence = 'star8';
      this.#armSequence();
      return;
    }
    this.#endSequence();
    const control = (CONTROL_KEYS as Partial<Record<DtmfDigit, DtmfControl>>)[d];
    if (control === undefined) this.stats.abandonedSequences++;
    else this.#control(control);
  }

  #control(control: DtmfControl): void {
    this.stats.controls++;
    this.#events.control(control);
  }

  #entryKey(d: DtmfDigit): void {
    const max = this.#solicited?.maxDigits ?? this.#unsolicitedMax;
    if (d === '#') {
      this.#finishEntry('hash');
      return;
    }
    if (this.#digits.length >= max) this.#overflow = true;
    else if (!this.#overflow) this.#digits += d;
    this.#clearEntryTimer();
    const interMs = this.#solicited?.interDigitTimeoutMs ?? this.#defaultInterMs;
    this.#entryTimer = this.#timers.setTimeout(() => {
      this.#entryTimer = undefined;
      this.#finishEntry('timeout');
    }, interMs);
  }

  #finishEntry(endedBy: 'hash' | 'timeout'): void {
    const solicited = this.#solicited !== undefined;
    const max = this.#solicited?.maxDigits ?? this.#unsolicitedMax;
    const digits = this.#digits;
    const overflow = this.#overflow;
    this.#resetEntry();
    // An unsolicited entry ended by the timeout is stray digits, not a passcode: only `#` submits it.
    if (!solicited && endedBy === 'timeout') return;
    this.#solicited = undefined;
    let entry: DtmfEntry;
    if (overflow) {
      this.stats.tooLong++;
      entry = { kind: 'too-long', maxDigits: max, solicited };
    } else if (digits.length === 0) {
      entry = { kind: 'empty', solicited };
    } else {
      entry = { kind: 'digits', digits, endedBy, solicited };
    }
    this.#events.entry(entry);
  }

  #armFirstDigit(): void {
    const options = this.#solicited;
    if (options === undefined) return;
    this.#clearEntryTimer();
    this.#entryTimer = this.#timers.setTimeout(() => {
      this.#entryTimer = undefined;
      if (this.#digits.length > 0 || this.#overflow) return;
      this.#solicited = undefined;
      this.#events.entry({ kind: 'no-input' });
    }, options.firstDigitTimeoutMs ?? this.#defaultFirstMs);
  }

  #armSequence(): void {
    this.#timers.clearTimeout(this.#sequenceTimer);
    this.#sequenceTimer = this.#timers.setTimeout(() => {
      this.#sequenceTimer = undefined;
      this.#sequence = 'none';
      this.stats.abandonedSequences++;
    }, this.#defaultInterMs);
  }

  #endSequence(): void {
    this.#sequence = 'none';
    this.#timers.clearTimeout(this.#sequenceTimer);
    this.#sequenceTimer = undefined;
  }

  #clearEntryTimer(): void {
    this.#timers.clearTimeout(this.#entryTimer);
    this.#entryTimer = undefined;
  }

  #resetEntry(): void {
    this.#clearEntryTimer();
    this.#digits = '';
    this.#overflow = false;
  }
}
