/**
 * The IVR's prompts, loaded once at start from the WAV files scripts/make-prompts.sh generated
 * (media/prompts/<lang>/<name>.wav speech, media/prompts/tones/<name>.wav tones; README.md lists
 * every text). Each prompt is ready to send: 20 ms frames of 16-bit linear PCM (160 samples at
 * 8 kHz; the last frame padded with silence) and the same frames pre-encoded as G.711 µ-law and
 * A-law, all views into one buffer per prompt, so playing a prompt allocates nothing.
 *
 * A missing or malformed file is a startup error naming it (PromptLoadError); a language with no
 * prompt set falls back to en-US.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CarillonError } from '../../common/errors.ts';
import { LINEAR_TO_ALAW, LINEAR_TO_ULAW } from '../codecs/g711.ts';
import { parseWav, PROMPT_SAMPLE_RATE_HZ, type WavError } from './wav.ts';

export const PROMPT_LANGUAGES = ['en-US', 'pt-BR'] as const;
export type PromptLanguage = (typeof PROMPT_LANGUAGES)[number];
export const DEFAULT_PROMPT_LANGUAGE: PromptLanguage = 'en-US';

/** Speech prompts every language has (texts in README.md). */
export const SPEECH_PROMPTS = [
  'welcome',
  'enter-meeting-id',
  'invalid-meeting-id',
  'goodbye',
  'meeting-locked-refused',
  'joining',
  'waiting-for-host',
  'moderator',
  'muted',
  'unmuted',
  'all-others-muted',
  'locked',
  'unlocked',
  'end-confirm',
  'meeting-ending',
  'recording-started',
  'recording-stopped',
  'count-one',
  'count-before',
  'count-after',
  'help',
] as const;
export type SpeechPromptName = (typeof SPEECH_PROMPTS)[number];

/** Language-neutral audio (sox synth). */
export const TONE_PROMPTS = ['join', 'leave', 'hold'] as const;
export type TonePromptName = (typeof TONE_PROMPTS)[number];

/** Largest participant count spoken (a meeting's maximum is 250). */
export const MAX_SPOKEN_COUNT = 250;

const ONES_AND_TEENS = Array.from({ length: 20 }, (_, n) => `number-${n}`);
const TENS = [20, 30, 40, 50, 60, 70, 80, 90].map((n) => `number-${n}`);
/** The number words each language's counts are built from. */
export const NUMBER_WORDS: Record<PromptLanguage, readonly string[]> = {
  'en-US': [...ONES_AND_TEENS, ...TENS, 'number-hundred'],
  'pt-BR': [...ONES_AND_TEENS, ...TENS, 'number-100', 'number-cento', 'number-200', 'number-and'],
};

export const FRAME_MS = 20;
export const FRAME_SAMPLES = (PROMPT_SAMPLE_RATE_HZ * FRAME_MS) / 1000;

/** One prompt as 20 ms frames; every frame is FRAME_SAMPLES long. Immutable once loaded. */
export interface Prompt {
  readonly name: string;
  readonly frameCount: number;
  readonly durationMs: number;
  /** 16-bit linear PCM at 8 kHz, per frame. */
  readonly pcm: readonly Int16Array[];
  /** G.711 µ-law (PCMU), per frame. */
  readonly pcmu: readonly Uint8Array[];
  /** G.711 A-law (PCMA), per frame. */
  readonly pcma: readonly Uint8Array[];
}

export interface PromptSet {
  readonly language: PromptLanguage;
  speech(name: SpeechPromptName): Prompt;
  tone(name: TonePromptName): Prompt;
  /** "There are N participants…" as the prompts to play in order (0 ≤ n ≤ MAX_SPOKEN_COUNT). */
  participantCount(n: number): readonly Prompt[];
}

const STARTUP_FAILURE = { sipStatus: 500, httpStatus: 500, errorType: 'ServiceFailureException' } as const;

/** A prompt file that is missing or not an 8 kHz 16-bit mono PCM WAV: Carillon does not start. */
export class PromptLoadError extends CarillonError {
  readonly file: string;
  readonly wavError: WavError | undefined;

  constructor(code: 'PROMPT_MISSING' | 'PROMPT_MALFORMED', file: string, wavError?: WavError, options?: { cause?: unknown }) {
    super(code, code === 'PROMPT_MISSING' ? `prompt file ${file} is missing` : `prompt file ${file} is not an 8 kHz 16-bit mono PCM WAV (${wavError ?? 'unknown'})`, STARTUP_FAILURE, options);
    this.name = 'PromptLoadError';
    this.file = file;
    this.wavError = wavError;
  }
}

/**
 * The prompt language for a language tag: an exact match (case-insensitive), else the same
 * primary language (`pt`, `pt-PT` → pt-BR; `en-GB` → en-US), else en-US.
 */
export function resolvePromptLanguage(tag: string | undefined): { readonly language: PromptLanguage; readonly fellBack: boolean } {
  const t = (tag ?? '').trim().toLowerCase();
  for (const l of PROMPT_LANGUAGES) if (l.toLowerCase() === t) return { language: l, fellBack: false };
  const primary = t.split('-')[0];
  for (const l of PROMPT_LANGUAGES) if (l.toLowerCase().split('-')[0] === primary) return { language: l, fellBack: false };
  return { language: DEFAULT_PROMPT_LANGUAGE, fellBack: true };
}

/** The number-word file names for n, in speaking order. */
export function numberWords(language: PromptLanguage, n: number): readonly string[] {
  if (!Number.isInteger(n) || n < 0 || n > MAX_SPOKEN_COUNT) throw new RangeError(`no spoken form for ${n}`);
  return language === 'pt-BR' ? ptWords(n) : enWords(n);
}

function below100(n: number, and: readonly string[]): string[] {
  if (n < 20) return [`number-${n}`];
  const unit = n % 10;
  return unit === 0 ? [`number-${n}`] : [`number-${n - unit}`, ...and, `number-${unit}`];
}

/** American English: "one hundred twenty three". */
function enWords(n: number): string[] {
  if (n < 100) return below100(n, []);
  const rest = n % 100;
  return [`number-${Math.floor(n / 100)}`, 'number-hundred', ...(rest === 0 ? [] : below100(rest, []))];
}

/** Brazilian Portuguese: "cento e vinte e três", "cem", "duzentos e cinquenta". */
function ptWords(n: number): string[] {
  if (n < 100) return below100(n, ['number-and']);
  if (n === 100) return ['number-100'];
  if (n === 200) return ['number-200'];
  const head = n < 200 ? 'number-cento' : 'number-200';
  return [head, 'number-and', ...below100(n % 100, ['number-and'])];
}

export interface PromptLoadOptions {
  /** Folder holding `<lang>/` and `tones/` (default: this file's folder). */
  readonly dir?: string;
  /** Reads one file (default: fs.readFileSync); throws when it is missing. */
  readonly readFile?: (file: string) => Uint8Array;
}

const DEFAULT_DIR = path.dirname(fileURLToPath(import.meta.url));

/** Loads one language's prompt set (plus the tones); throws PromptLoadError naming a bad file. */
export function loadPromptSet(languageTag: string | undefined, options: PromptLoadOptions = {}): PromptSet {
  const { language } = resolvePromptLanguage(languageTag);
  const dir = options.dir ?? DEFAULT_DIR;
  const read = options.readFile ?? ((file: string) => readFileSync(file));
  const load = (sub: string, name: string): Prompt => {
    const file = path.join(dir, sub, `${name}.wav`);
    let bytes: Uint8Array;
    try {
      bytes = read(file);
    } catch (cause) {
      throw new PromptLoadError('PROMPT_MISSING', file, undefined, { cause });
    }
    const wav = parseWav(bytes);
    if (!wav.ok) throw new PromptLoadError('PROMPT_MALFORMED', file, wav.error);
    return framePrompt(name, wav.samples);
  };
  const speech = new Map<string, Prompt>();
  for (const name of [...SPEECH_PROMPTS, ...NUMBER_WORDS[language]]) speech.set(name, load(language, name));
  const tones = new Map<string, Prompt>();
  for (const name of TONE_PROMPTS) tones.set(name, load('tones', name));
  const get = (m: Map<string, Prompt>, name: string): Prompt => {
    const p = m.get(name);
    if (p === undefined) throw new RangeError(`no prompt ${name}`);
    return p;
  };
  return {
    language,
    speech: (name) => get(speech, name),
    tone: (name) => get(tones, name),
    participantCount(n) {
      if (n === 1) return [get(speech, 'count-one')];
      return [get(speech, 'count-before'), ...numberWords(language, n).map((w) => get(speech, w)), get(speech, 'count-after')];
    },
  };
}

/** Loads every language's set (a startup check that all files are good). */
export function loadAllPromptSets(options: PromptLoadOptions = {}): ReadonlyMap<PromptLanguage, PromptSet> {
  return new Map(PROMPT_LANGUAGES.map((l) => [l, loadPromptSet(l, options)] as const));
}

/** Cuts samples into 20 ms frames (the last padded with silence) and encodes each once. */
export function framePrompt(name: string, samples: Int16Array): Prompt {
  const frameCount = Math.ceil(samples.length / FRAME_SAMPLES);
  const linear = new Int16Array(frameCount * FRAME_SAMPLES);
  linear.set(samples);
  const ulaw = new Uint8Array(linear.length);
  const alaw = new Uint8Array(linear.length);
  for (let i = 0; i < linear.length; i++) {
    const k = (linear[i] as number) + 32768;
    ulaw[i] = LINEAR_TO_ULAW[k] as number;
    alaw[i] = LINEAR_TO_ALAW[k] as number;
  }
  const pcm: Int16Array[] = [];
  const pcmu: Uint8Array[] = [];
  const pcma: Uint8Array[] = [];
  for (let i = 0; i < frameCount; i++) {
    const from = i * FRAME_SAMPLES;
    const to = from + FRAME_SAMPLES;
    pcm.push(linear.subarray(from, to));
    pcmu.push(ulaw.subarray(from, to));
    pcma.push(alaw.subarray(from, to));
  }
  return { name, frameCount, durationMs: frameCount * FRAME_MS, pcm, pcmu, pcma };
}
