import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ULAW_TO_LINEAR } from '../../../media/codecs/g711.ts';
import { LINEAR_TO_ALAW, LINEAR_TO_ULAW } from '../../../media/codecs/g711.ts';

const linearToUlaw = (s: number): number => LINEAR_TO_ULAW[s + 32768] as number;
const linearToAlaw = (s: number): number => LINEAR_TO_ALAW[s + 32768] as number;
import {
  FRAME_SAMPLES,
  framePrompt,
  loadAllPromptSets,
  loadPromptSet,
  MAX_SPOKEN_COUNT,
  NUMBER_WORDS,
  numberWords,
  PROMPT_LANGUAGES,
  PromptLoadError,
  resolvePromptLanguage,
  SPEECH_PROMPTS,
  TONE_PROMPTS,
} from '../../../media/prompts/prompts.ts';
import { writeWav } from '../../../media/prompts/wav.ts';

const PROMPTS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../../media/prompts');

describe('the committed prompt files', () => {
  const sets = loadAllPromptSets();

  it('every language loads every speech prompt, number word and tone', () => {
    for (const l of PROMPT_LANGUAGES) {
      const set = sets.get(l);
      expect(set?.language).toBe(l);
      for (const name of SPEECH_PROMPTS) expect(set?.speech(name).frameCount).toBeGreaterThan(5);
      for (const name of TONE_PROMPTS) expect(set?.tone(name).frameCount).toBeGreaterThan(5);
    }
  });

  it('hold music is 10 s; the tones are short', () => {
    const set = loadPromptSet('en-US');
    expect(set.tone('hold').durationMs).toBe(10_000);
    expect(set.tone('join').durationMs).toBeLessThanOrEqual(500);
    expect(set.tone('leave').durationMs).toBeLessThanOrEqual(500);
  });

  it('speech is not silence', () => {
    for (const l of PROMPT_LANGUAGES) {
      const p = loadPromptSet(l).speech('welcome');
      let peak = 0;
      for (const f of p.pcm) for (const s of f) peak = Math.max(peak, Math.abs(s));
      expect(peak).toBeGreaterThan(4_000);
    }
  });

  it('pt-BR and en-US are different recordings', () => {
    const en = loadPromptSet('en-US').speech('goodbye');
    const pt = loadPromptSet('pt-BR').speech('goodbye');
    expect(en.frameCount === pt.frameCount && en.pcm.every((f, i) => f.every((s, j) => s === pt.pcm[i]?.[j]))).toBe(false);
  });

  it('every count 0–250 has its words in both languages', () => {
    for (const l of PROMPT_LANGUAGES) {
      const set = sets.get(l);
      for (let n = 0; n <= MAX_SPOKEN_COUNT; n++) expect(set?.participantCount(n).length).toBeGreaterThan(0);
    }
  });
});

describe('number words', () => {
  it.each([
    [0, ['number-0']],
    [7, ['number-7']],
    [19, ['number-19']],
    [40, ['number-40']],
    [23, ['number-20', 'number-3']],
    [100, ['number-1', 'number-hundred']],
    [123, ['number-1', 'number-hundred', 'number-20', 'number-3']],
    [250, ['number-2', 'number-hundred', 'number-50']],
  ])('en-US %d', (n, words) => {
    expect(numberWords('en-US', n)).toEqual(words);
  });

  it.each([
    [0, ['number-0']],
    [23, ['number-20', 'number-and', 'number-3']],
    [100, ['number-100']],
    [101, ['number-cento', 'number-and', 'number-1']],
    [123, ['number-cento', 'number-and', 'number-20', 'number-and', 'number-3']],
    [200, ['number-200']],
    [215, ['number-200', 'number-and', 'number-15']],
    [250, ['number-200', 'number-and', 'number-50']],
  ])('pt-BR %d', (n, words) => {
    expect(numberWords('pt-BR', n)).toEqual(words);
  });

  it('only words the language ships', () => {
    for (const l of PROMPT_LANGUAGES) for (let n = 0; n <= MAX_SPOKEN_COUNT; n++) for (const w of numberWords(l, n)) expect(NUMBER_WORDS[l]).toContain(w);
  });

  it('refuses what it cannot say', () => {
    for (const n of [-1, 251, 1.5, Number.NaN]) expect(() => numberWords('en-US', n)).toThrow(RangeError);
  });

  it('participant count: one is its own sentence', () => {
    const set = loadPromptSet('pt-BR');
    expect(set.participantCount(1).map((p) => p.name)).toEqual(['count-one']);
    expect(set.participantCount(23).map((p) => p.name)).toEqual(['count-before', 'number-20', 'number-and', 'number-3', 'count-after']);
  });
});

describe('languages', () => {
  it.each([
    ['en-US', 'en-US', false],
    ['pt-BR', 'pt-BR', false],
    ['PT-br', 'pt-BR', false],
    ['pt', 'pt-BR', false],
    ['pt-PT', 'pt-BR', false],
    ['en-GB', 'en-US', false],
    ['de-DE', 'en-US', true],
    ['', 'en-US', true],
    [undefined, 'en-US', true],
  ])('%j → %s', (tag, language, fellBack) => {
    expect(resolvePromptLanguage(tag)).toEqual({ language, fellBack });
  });

  it('an unknown language loads en-US', () => {
    expect(loadPromptSet('xx-YY').language).toBe('en-US');
  });
});

describe('framing', () => {
  it('cuts 20 ms frames, pads the last with silence and pre-encodes G.711', () => {
    const samples = Int16Array.from({ length: 400 }, (_, i) => Math.round(10_000 * Math.sin(i / 3)));
    const p = framePrompt('x', samples);
    expect(p.frameCount).toBe(3);
    expect(p.durationMs).toBe(60);
    for (const f of [...p.pcm, ...p.pcmu, ...p.pcma]) expect(f.length).toBe(FRAME_SAMPLES);
    expect(Array.from(p.pcm[0] ?? [])).toEqual(Array.from(samples.subarray(0, 160)));
    expect(Array.from(p.pcm[2] ?? []).slice(80)).toEqual(new Array(80).fill(0));
    expect(Array.from(p.pcmu[1] ?? [])).toEqual(Array.from(samples.subarray(160, 320), linearToUlaw));
    expect(Array.from(p.pcma[1] ?? [])).toEqual(Array.from(samples.subarray(160, 320), linearToAlaw));
    expect(ULAW_TO_LINEAR[p.pcmu[2]?.[159] ?? -1]).toBe(0);
  });
});

describe('startup errors name the file', () => {
  const fakeDir = '/prompts';
  /** Every file a small good WAV, unless `patch` gives other bytes for it. */
  const good = writeWav(new Int16Array(800).fill(100));
  const loadedReal = (): Uint8Array => good;
  const opts = (patch: (file: string) => Uint8Array | undefined) => ({ dir: fakeDir, readFile: (f: string) => patch(f) ?? good });

  it('loads from an injected reader', () => {
    expect(loadPromptSet('pt-BR', opts(() => undefined)).speech('help').frameCount).toBe(5);
  });

  it('a missing file', () => {
    const missing = path.join(fakeDir, 'pt-BR', 'number-cento.wav');
    let err: unknown;
    try {
      loadPromptSet('pt-BR', {
        dir: fakeDir,
        readFile: (f) => {
          if (f === missing) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
          return loadedReal();
        },
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PromptLoadError);
    expect(err).toMatchObject({ code: 'PROMPT_MISSING', file: missing });
  });

  it('a malformed file', () => {
    const bad = path.join(fakeDir, 'tones', 'hold.wav');
    let err: unknown;
    try {
      loadPromptSet('en-US', opts((f) => (f === bad ? Buffer.from('RIFF\u0000\u0000\u0000\u0000WAVEnope') : undefined)));
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'PROMPT_MALFORMED', file: bad, wavError: 'no-fmt' });
    expect((err as Error).message).toContain(bad);
  });

  it('a real folder with a file gone', () => {
    expect(() => loadPromptSet('en-US', { dir: path.join(PROMPTS_DIR, 'no-such-folder') })).toThrow(PromptLoadError);
  });
});
