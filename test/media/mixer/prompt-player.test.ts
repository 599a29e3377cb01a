import { describe, expect, it } from 'vitest';
import { ULAW_TO_LINEAR } from '../../../media/codecs/g711.ts';
import { bridgeCodec } from '../../../media/mixer/frame-codec.ts';
import { AnnouncementPlayer, PromptCursor, PromptFrames, resolvePromptItems } from '../../../media/mixer/prompt-player.ts';
import { framePrompt, loadAllPromptSets } from '../../../media/prompts/prompts.ts';
import type { PromptItem } from '../../../media/protocol.ts';
import { goertzel } from '../../support/goertzel.ts';

const SETS = loadAllPromptSets();

/** A second of a sine at 8 kHz, as a prompt. */
function sinePrompt(hz: number, amplitude = 8000) {
  const s = new Int16Array(8000);
  for (let i = 0; i < s.length; i++) s[i] = Math.round(amplitude * Math.sin((2 * Math.PI * hz * i) / 8000));
  return framePrompt(`sine-${hz}`, s);
}

describe('resolvePromptItems', () => {
  it('resolves speech, tones, counts and pauses into frames, falling back to en-US for an unknown language', () => {
    const en = SETS.get('en-US');
    const pt = SETS.get('pt-BR');
    if (en === undefined || pt === undefined) throw new Error('no prompt sets');
    const segs = resolvePromptItems(SETS, [
      { kind: 'speech', language: 'pt-BR', name: 'welcome' },
      { kind: 'tone', name: 'leave' },
      { kind: 'count', language: 'en-US', n: 123 },
      { kind: 'pause', ms: 30 },
      { kind: 'speech', language: 'de-DE', name: 'goodbye' },
    ]);
    expect(segs?.map((s) => [s.prompt?.name, s.frames])).toEqual([
      ['welcome', pt.speech('welcome').frameCount],
      ['leave', en.tone('leave').frameCount],
      ...en.participantCount(123).map((p) => [p.name, p.frameCount]),
      [undefined, 2],
      ['goodbye', en.speech('goodbye').frameCount],
    ]);
    expect(segs?.[0]?.prompt).toBe(pt.speech('welcome'));
  });

  it('refuses what names nothing, or lasts no frame', () => {
    const bad: unknown[] = [
      [{ kind: 'speech', language: 'en-US', name: 'number-5' }],
      [{ kind: 'speech', language: 'en-US' }],
      [{ kind: 'count', language: 'en-US', n: -1 }],
      [{ kind: 'pause', ms: Number.NaN }],
      [{ kind: 'pause', ms: 600_001 }],
      [{ kind: 'beep' }],
      [null],
      'welcome',
    ];
    for (const items of bad) expect(resolvePromptItems(SETS, items as PromptItem[]), JSON.stringify(items)).toBeUndefined();
  });
});

describe('PromptCursor', () => {
  it('hands out each frame once, ends after the last, and loops without end when asked', () => {
    const p = sinePrompt(500);
    const c = new PromptCursor();
    expect(c.next()).toBe(false);
    c.start([{ prompt: p, frames: 2 }, { prompt: undefined, frames: 1 }], false, 4);
    const frames: Int16Array[] = [];
    while (c.next()) frames.push(c.pcm());
    expect(frames).toEqual([p.pcm[0], p.pcm[1], new Int16Array(160)]);
    expect(c.active).toBe(false);
    c.start([{ prompt: p, frames: 1 }, { prompt: undefined, frames: 0 }], true, 5);
    for (let i = 0; i < 5; i++) {
      expect(c.next()).toBe(true);
      expect(c.pcmu()).toBe(p.pcmu[0]);
    }
    c.stop();
    expect(c.next()).toBe(false);
  });
});

describe('PromptFrames', () => {
  it('hands G.711 receivers the pre-encoded frames, and encodes for the others (16 kHz through the codec)', () => {
    const p = sinePrompt(700);
    const codec = bridgeCodec('PCMU');
    if (codec === undefined) throw new Error('no PCMU');
    const c = new PromptCursor();
    c.start([{ prompt: p, frames: p.frameCount }], false, 1);
    const pre = new PromptFrames(codec);
    const encoded = new PromptFrames(codec, false);
    const heard: number[] = [];
    let frames = 0;
    while (c.next()) {
      expect(pre.payload(c)).toBe(p.pcmu[frames]);
      expect(pre.length).toBe(160);
      const payload = encoded.payload(c);
      expect(encoded.length).toBe(160);
      for (let i = 0; i < encoded.length; i++) heard.push(ULAW_TO_LINEAR[payload[i] ?? 0] ?? 0);
      frames++;
    }
    expect(frames).toBe(50);
    // Through the upsampler and the codec's own encoder the tone comes out whole.
    const tail = heard.slice(800);
    expect(goertzel(tail, 700, 8000)).toBeGreaterThan(7000);
    expect(goertzel(tail, 1500, 8000)).toBeLessThan(100);
  });
});

describe('AnnouncementPlayer', () => {
  it('gives the bridge 16 kHz frames of the prompt and tells its end once', () => {
    const p = sinePrompt(440);
    const ended: number[] = [];
    const a = new AnnouncementPlayer((t) => ended.push(t));
    const out = new Int16Array(320);
    expect(a.source(out)).toBe(false);
    a.start([{ prompt: p, frames: 3 }], false, 9);
    const got: number[] = [];
    for (let i = 0; i < 3; i++) {
      expect(a.source(out)).toBe(true);
      got.push(...out);
    }
    expect(a.source(out)).toBe(false);
    expect(a.source(out)).toBe(false);
    expect(ended).toEqual([9]);
    expect(goertzel(got.slice(320), 440, 16000)).toBeGreaterThan(6000);
  });
});
