/**
 * What a meeting plays: PromptItems (speech in a language, a tone, a spoken participant count, a
 * pause) resolved once, at the play command, into segments of 20 ms frames of the prompts loaded
 * by media/prompts; then a cursor that hands out one frame per bridge tick, starting over at the
 * end when the play loops. Playing allocates nothing: G.711 receivers get the prompt's
 * pre-encoded frames as they are; other codecs get the 8 kHz PCM upsampled to the bridge's 16 kHz
 * and encoded by a FrameEncoder of their own (PromptFrames); an announcement to everyone is the
 * 16 kHz PCM the bridge adds on top of its mix.
 */
import { LINEAR_TO_ALAW, LINEAR_TO_ULAW } from '../codecs/g711.ts';
import { FRAME_MS, FRAME_SAMPLES, MAX_SPOKEN_COUNT, resolvePromptLanguage, SPEECH_PROMPTS, TONE_PROMPTS } from '../prompts/prompts.ts';
import type { Prompt, PromptLanguage, PromptSet, SpeechPromptName, TonePromptName } from '../prompts/prompts.ts';
import type { PromptItem } from '../protocol.ts';
import { BRIDGE_FRAME_SAMPLES } from './frame-codec.ts';
import type { BridgeCodec, FrameEncoder } from './frame-codec.ts';
import { Upsampler } from './resample.ts';

/** Longest pause one item may ask for (10 minutes, a moderated meeting's longest wait). */
export const MAX_PAUSE_MS = 600_000;

/** One piece of a play: `frames` frames of `prompt`, or of silence when it is undefined. */
export interface PromptSegment {
  readonly prompt: Prompt | undefined;
  readonly frames: number;
}

const SILENT_PCM = new Int16Array(FRAME_SAMPLES);
const SILENT_PCMU = new Uint8Array(FRAME_SAMPLES).fill(LINEAR_TO_ULAW[32768] ?? 0xff);
const SILENT_PCMA = new Uint8Array(FRAME_SAMPLES).fill(LINEAR_TO_ALAW[32768] ?? 0xd5);

/** Array.isArray as a plain boolean test (its own narrowing would widen the value to an untyped array). */
const isList = (v: unknown): boolean => Array.isArray(v);
const isSpeech = (name: string): name is SpeechPromptName => SPEECH_PROMPTS.some((n) => n === name);
const isTone = (name: string): name is TonePromptName => TONE_PROMPTS.some((n) => n === name);

/**
 * The segments of a play, or undefined when an item names nothing the worker has (an unknown
 * prompt, a count outside 0–MAX_SPOKEN_COUNT, a pause that is not a finite 0–MAX_PAUSE_MS) or the
 * whole play would last no frame at all. A language with no prompt set falls back as
 * resolvePromptLanguage says (en-US), as the prompt loader does.
 */
export function resolvePromptItems(sets: ReadonlyMap<PromptLanguage, PromptSet>, items: readonly PromptItem[]): readonly PromptSegment[] | undefined {
  // The items crossed a worker boundary: a list of objects is checked, not assumed.
  if (!isList(items)) return undefined;
  const out: PromptSegment[] = [];
  const setOf = (language: unknown): PromptSet | undefined => (typeof language === 'string' ? sets.get(resolvePromptLanguage(language).language) : undefined);
  for (const item of items) {
    if (typeof item !== 'object' || item === null) return undefined;
    switch (item.kind) {
      case 'speech': {
        const set = setOf(item.language);
        if (set === undefined || typeof item.name !== 'string' || !isSpeech(item.name)) return undefined;
        const p = set.speech(item.name);
        out.push({ prompt: p, frames: p.frameCount });
        break;
      }
      case 'tone': {
        const set = sets.values().next().value;
        if (set === undefined || typeof item.name !== 'string' || !isTone(item.name)) return undefined;
        const p = set.tone(item.name);
        out.push({ prompt: p, frames: p.frameCount });
        break;
      }
      case 'count': {
        const set = setOf(item.language);
        if (set === undefined || !Number.isInteger(item.n) || item.n < 0 || item.n > MAX_SPOKEN_COUNT) return undefined;
        for (const p of set.participantCount(item.n)) out.push({ prompt: p, frames: p.frameCount });
        break;
      }
      case 'pause': {
        if (typeof item.ms !== 'number' || !Number.isFinite(item.ms) || item.ms < 0 || item.ms > MAX_PAUSE_MS) return undefined;
        out.push({ prompt: undefined, frames: Math.ceil(item.ms / FRAME_MS) });
        break;
      }
      default: {
        const never: never = item;
        void never;
        return undefined;
      }
    }
  }
  return out.some((s) => s.frames > 0) ? out : undefined;
}

/**
 * Where a play is: one frame per `next()`. Written by the meeting room only (commands start and
 * stop it, ticks advance it).
 */
export class PromptCursor {
  #segments: readonly PromptSegment[] = [];
  #seg = 0;
  #frame = 0;
  #loop = false;
  #prompt: Prompt | undefined;
  #index = 0;
  /** Something plays. */
  active = false;
  /** The play's token (its `played` event names it). */
  token = 0;

  /** Plays `segments` from the start (replacing what played); they last at least one frame. */
  start(segments: readonly PromptSegment[], loop: boolean, token: number): void {
    this.#segments = segments;
    this.#seg = 0;
    this.#frame = 0;
    this.#loop = loop;
    this.token = token;
    this.active = true;
  }

  stop(): void {
    this.active = false;
    this.#segments = [];
    this.#prompt = undefined;
  }

  /**
   * Moves to the next frame; false when the play has just ended (the last frame was the one
   * before) or nothing plays. A looping play never ends.
   */
  next(): boolean {
    if (!this.active) return false;
    for (;;) {
      const s = this.#segments[this.#seg];
      if (s === undefined) {
        if (this.#loop && this.#seg > 0) {
          this.#seg = 0;
          continue;
        }
        this.stop();
        return false;
      }
      if (this.#frame < s.frames) {
        this.#prompt = s.prompt;
        this.#index = this.#frame++;
        return true;
      }
      this.#seg++;
      this.#frame = 0;
    }
  }

  /** The current frame as 8 kHz PCM (FRAME_SAMPLES). */
  pcm(): Int16Array {
    return this.#prompt?.pcm[this.#index] ?? SILENT_PCM;
  }

  /** The current frame pre-encoded as G.711 µ-law. */
  pcmu(): Uint8Array {
    return this.#prompt?.pcmu[this.#index] ?? SILENT_PCMU;
  }

  /** The current frame pre-encoded as G.711 A-law. */
  pcma(): Uint8Array {
    return this.#prompt?.pcma[this.#index] ?? SILENT_PCMA;
  }
}

/**
 * A receiver's prompt frames in its codec. PCMU and PCMA take the prompts' pre-encoded frames (no
 * work per frame); any other codec upsamples the 8 kHz PCM to 16 kHz and encodes it with an
 * encoder of its own, made on first need.
 */
export class PromptFrames {
  readonly #codec: BridgeCodec;
  readonly #mode: 'pcmu' | 'pcma' | 'encode';
  #up: Upsampler | undefined;
  #encoder: FrameEncoder | undefined;
  #pcm16: Int16Array | undefined;
  #out: Uint8Array | undefined;

  /** `preEncoded`: whether G.711 receivers take the pre-encoded frames (false: always encode; a test's lever). */
  constructor(codec: BridgeCodec, preEncoded = true) {
    this.#codec = codec;
    this.#mode = preEncoded && codec.name === 'PCMU' ? 'pcmu' : preEncoded && codec.name === 'PCMA' ? 'pcma' : 'encode';
  }

  /** Byte length of the payload `payload` answered last. */
  length = 0;

  /** The cursor's current frame as a payload (its first `length` bytes); valid until the next call. */
  payload(c: PromptCursor): Uint8Array {
    if (this.#mode === 'pcmu') {
      this.length = FRAME_SAMPLES;
      return c.pcmu();
    }
    if (this.#mode === 'pcma') {
      this.length = FRAME_SAMPLES;
      return c.pcma();
    }
    if (this.#encoder === undefined || this.#up === undefined || this.#pcm16 === undefined || this.#out === undefined) {
      this.#up = new Upsampler(FRAME_SAMPLES);
      this.#encoder = this.#codec.createEncoder();
      this.#pcm16 = new Int16Array(BRIDGE_FRAME_SAMPLES);
      this.#out = new Uint8Array(this.#codec.maxPayloadBytes);
    }
    this.#up.process(c.pcm(), this.#pcm16);
    this.length = this.#encoder.encode(this.#pcm16, this.#out);
    return this.#out;
  }
}

/**
 * An announcement everyone in the bridge hears on top of the talkers (join and leave tones): the
 * bridge's AnnouncementSource, the prompt's 8 kHz PCM upsampled to 16 kHz at its own level.
 * `onEnd` runs in the tick its play ends.
 */
export class AnnouncementPlayer {
  readonly cursor = new PromptCursor();
  readonly #up = new Upsampler(FRAME_SAMPLES);
  readonly #onEnd: (token: number) => void;
  /** The bridge's source (bound once). */
  readonly source = (out: Int16Array): boolean => {
    const c = this.cursor;
    if (!c.active) return false;
    if (!c.next()) {
      this.#onEnd(c.token);
      return false;
    }
    this.#up.process(c.pcm(), out);
    return true;
  };

  constructor(onEnd: (token: number) => void) {
    this.#onEnd = onEnd;
  }

  start(segments: readonly PromptSegment[], loop: boolean, token: number): void {
    this.#up.reset();
    this.cursor.start(segments, loop, token);
  }
}
