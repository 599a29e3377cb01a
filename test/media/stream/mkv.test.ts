import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { mkvFragment, mkvHeader } from '../../../media/stream/mkv.ts';
import { pcmBytes, wavHeader } from '../../../media/stream/wav.ts';
import { ebmlFragments, ffmpegPcm, ffprobeAudio, mkvinfo } from '../../support/mkv-check.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'carillon-mkv-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const HEADER = { segmentUid: Buffer.alloc(16, 7), title: 'tx caller', trackName: 'AUDIO', app: 'Carillon' };
const TAGS: [string, string][] = [
  ['TransactionId', 'b3b6c2a0-1111-2222-3333-444455556666'],
  ['VoiceConnectorId', 'abcdef1ghij2klmno3pqr4'],
  ['CallId', 'call-1@pbx'],
];

function tone(samples: number, seed: number): Int16Array {
  return Int16Array.from({ length: samples }, (_, i) => Math.round(8000 * Math.sin((i + seed) / 7)));
}

describe('live MKV as Kinesis Video takes it', () => {
  it('mkvinfo reads it without a warning, ffprobe sees pcm_s16le 8 kHz mono, ffmpeg decodes the exact PCM, and every fragment carries the tags', async () => {
    const t0 = 1_764_000_000_000;
    const frags = [tone(8000, 0), tone(8000, 8000), tone(4000, 16000)];
    const bytes = Buffer.concat([mkvHeader(HEADER), ...frags.map((pcm, i) => mkvFragment(t0 + 1000 * i, pcm, TAGS))]);
    const file = path.join(dir, 'leg.mkv');
    writeFileSync(file, bytes);
    const info = mkvinfo(file);
    expect(info.problems).toEqual([]);
    expect(info.simpleBlocks).toBe(50 + 50 + 25);
    expect(info.transactionIdTags).toBe(3);
    expect(info.text).toMatch(/Codec ID: A_PCM\/INT\/LIT/);
    expect(info.text).toMatch(/Sampling frequency: 8000/);
    expect(info.text).toMatch(/Bit depth: 16/);
    expect(ffprobeAudio(file)).toEqual({ codec_name: 'pcm_s16le', sample_rate: '8000', channels: 1, bits_per_sample: 16 });
    const all = Buffer.concat(frags.map((f) => pcmBytes(f)));
    expect(ffmpegPcm(file).equals(all)).toBe(true);
    const decoded = await ebmlFragments(bytes);
    expect(decoded.map((f) => f.timecodeMs)).toEqual([t0, t0 + 1000, t0 + 2000]);
    expect(decoded.map((f) => f.blocks)).toEqual([50, 50, 25]);
    for (const f of decoded) expect(f.tags).toEqual(Object.fromEntries(TAGS));
    expect(Buffer.concat(decoded.map((f) => f.pcm)).equals(all)).toBe(true);
  });

  it('any fragment length and content round-trips through an independent EBML decoder', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 2000 }), { minLength: 1, maxLength: 4 }), fc.integer({ min: 0, max: 2 ** 40 }), async (lengths, t0) => {
        const frags = lengths.map((n, i) => tone(n, i * 97));
        const bytes = Buffer.concat([mkvHeader(HEADER), ...frags.map((pcm, i) => mkvFragment(t0 + 1000 * i, pcm, TAGS))]);
        const decoded = await ebmlFragments(bytes);
        expect(decoded.map((f) => f.timecodeMs)).toEqual(frags.map((_, i) => t0 + 1000 * i));
        expect(decoded.map((f) => f.pcm.toString('hex'))).toEqual(frags.map((f) => pcmBytes(f).toString('hex')));
      }),
      { numRuns: 40 },
    );
  });

  it('a WAV whose header was fixed at close reads as pcm_s16le 8 kHz mono with the exact samples; one cut short still opens', () => {
    const pcm = tone(16000, 3);
    const file = path.join(dir, 'leg.wav');
    writeFileSync(file, Buffer.concat([wavHeader(pcm.length * 2), pcmBytes(pcm)]));
    expect(ffprobeAudio(file)).toEqual({ codec_name: 'pcm_s16le', sample_rate: '8000', channels: 1, bits_per_sample: 16 });
    expect(ffmpegPcm(file).equals(pcmBytes(pcm))).toBe(true);
    const cut = path.join(dir, 'cut.wav');
    writeFileSync(cut, Buffer.concat([wavHeader(0), pcmBytes(pcm)]));
    expect(ffprobeAudio(cut)?.codec_name).toBe('pcm_s16le');
  });
});
