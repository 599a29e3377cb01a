import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { G722Decoder, G722Encoder } from '../../../media/codecs/g722.ts';

// Oracle: ffmpeg's adpcm_g722 (raw format "g722", 16 kHz), run on files in a temp dir.
const dir = mkdtempSync(join(tmpdir(), 'carillon-g722-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function ffmpegDecode(octets: Uint8Array): Int16Array {
  const src = join(dir, 'in.g722');
  const dst = join(dir, 'out.raw');
  writeFileSync(src, octets);
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'g722', '-i', src, '-f', 's16le', '-c:a', 'pcm_s16le', dst]);
  return int16(readFileSync(dst));
}

function ffmpegEncode(pcm: Int16Array): Uint8Array {
  const src = join(dir, 'in.raw');
  const dst = join(dir, 'out.g722');
  writeFileSync(src, new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength));
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 's16le', '-ar', '16000', '-ac', '1', '-i', src, '-c:a', 'g722', '-f', 'g722', dst]);
  return new Uint8Array(readFileSync(dst));
}

function int16(b: Buffer): Int16Array {
  const out = new Int16Array(b.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = b.readInt16LE(2 * i);
  return out;
}

function decodeOurs(octets: Uint8Array): Int16Array {
  const out = new Int16Array(2 * octets.length);
  expect(new G722Decoder().decode(octets, octets.length, out)).toBe(out.length);
  return out;
}

function encodeOurs(pcm: Int16Array): Uint8Array {
  const out = new Uint8Array(pcm.length >> 1);
  expect(new G722Encoder().encode(pcm, out)).toBe(out.length);
  return out;
}

const RATE = 16_000;

/** 3 s: 440 + 1700 + 5200 Hz tones over a 100 Hz → 7 kHz chirp, peaks near 21,000. */
function tonesAndChirp(): Int16Array {
  const n = 3 * RATE;
  const pcm = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    const t = i / RATE;
    const chirp = Math.sin(2 * Math.PI * (100 * t + ((7000 - 100) / 6) * t * t));
    pcm[i] = Math.round(6000 * Math.sin(2 * Math.PI * 440 * t) + 4000 * Math.sin(2 * Math.PI * 1700 * t) + 3000 * Math.sin(2 * Math.PI * 5200 * t) + 8000 * chirp);
  }
  return pcm;
}

/** 2 s of speech-like sound: a gliding 110–190 Hz voice with formant-weighted harmonics and syllables. */
function speechLike(): Int16Array {
  const n = 2 * RATE;
  const pcm = new Int16Array(n);
  let phase = 0;
  for (let i = 0; i < n; i++) {
    const t = i / RATE;
    const f0 = 150 + 40 * Math.sin(2 * Math.PI * 1.3 * t);
    phase += (2 * Math.PI * f0) / RATE;
    let v = 0;
    for (let h = 1; h * f0 < 7000; h++) {
      const f = h * f0;
      const formants = 1 / (1 + ((f - 700) / 300) ** 2) + 0.6 / (1 + ((f - 1800) / 400) ** 2) + 0.3 / (1 + ((f - 3000) / 500) ** 2);
      v += (formants / Math.sqrt(h)) * Math.sin(h * phase);
    }
    const syllable = 0.55 + 0.45 * Math.sin(2 * Math.PI * 4 * t);
    pcm[i] = Math.round(5000 * syllable * v);
  }
  return pcm;
}

/** Deterministic bytes (LCG), with runs that drive the scale factors and predictors to their limits. */
function hostileOctets(): Uint8Array {
  let seed = 12345;
  const b = new Uint8Array(200_000);
  for (let i = 0; i < b.length; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    b[i] = seed >>> 24;
  }
  for (let i = 0; i < 20_000; i++) b[50_000 + i] = (i >> 7) & 1 ? 0x20 : 0x04; // largest steps, alternating in blocks
  b.fill(0x20, 100_000, 120_000); // largest positive step, held
  for (let i = 0; i < 20_000; i++) b[130_000 + i] = i & 1 ? 0x20 : 0x04; // largest steps, alternating every sample
  return b;
}

/** Full-scale input: square waves, noise, Nyquist, clipped sines, silence, spikes. */
function hostilePcm(): Int16Array {
  let seed = 777;
  const rnd = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  const pcm = new Int16Array(160_000);
  for (let i = 0; i < pcm.length; i++) {
    const seg = Math.floor(i / 20_000);
    const v = [
      (i >> 4) & 1 ? 32767 : -32768,
      (rnd() * 2 - 1) * 32767,
      i & 1 ? 32767 : -32768,
      32767 * Math.sin(i * 0.9),
      0,
      rnd() < 0.01 ? 32767 : -32768,
      32767 * Math.sin(i * 0.05),
      20000 * Math.sin(i * 2.9),
    ][seg];
    pcm[i] = Math.round(v ?? 0);
  }
  return pcm;
}

/** SNR (dB) of `out` against `ref` delayed by the codec; the delay is searched over 0..40 samples. */
function snrDb(ref: Int16Array, out: Int16Array): { db: number; lag: number } {
  let best = { db: -Infinity, lag: -1 };
  for (let lag = 0; lag <= 40; lag++) {
    let s = 0;
    let e = 0;
    for (let i = 1000; i < ref.length - 1000; i++) {
      const r = ref[i] ?? 0;
      const d = r - (out[i + lag] ?? 0);
      s += r * r;
      e += d * d;
    }
    const db = 10 * Math.log10(s / Math.max(e, 1));
    if (db > best.db) best = { db, lag };
  }
  return best;
}

function firstDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

describe('G.722 decoder against ffmpeg', () => {
  it('tones and a chirp encoded by ffmpeg decode sample for sample as ffmpeg decodes them', () => {
    const octets = ffmpegEncode(tonesAndChirp());
    expect(octets.length).toBe((3 * RATE) / 2);
    expect(firstDifference(decodeOurs(octets), ffmpegDecode(octets))).toBe(-1);
  });

  it('random and extreme octet streams (scale factors and predictors at their limits) decode as ffmpeg decodes them', () => {
    const octets = hostileOctets();
    expect(firstDifference(decodeOurs(octets), ffmpegDecode(octets))).toBe(-1);
  });
});

describe('G.722 encoder against ffmpeg', () => {
  it('writes the octets ffmpeg writes, for tones and a chirp and for full-scale input', () => {
    for (const pcm of [tonesAndChirp(), hostilePcm()]) expect(firstDifference(encodeOurs(pcm), ffmpegEncode(pcm))).toBe(-1);
  });

  it('speech-like sound, and tones up to 7 kHz: ours → ffmpeg and ours → ours reach > 20 dB SNR at the codec delay', () => {
    // The tones and chirp put a third of their energy above 4 kHz: a codec that lost the higher
    // band would score near 5 dB on them.
    for (const pcm of [speechLike(), tonesAndChirp()]) {
      const octets = encodeOurs(pcm);
      const viaFfmpeg = snrDb(pcm, ffmpegDecode(octets));
      const viaOurs = snrDb(pcm, decodeOurs(octets));
      expect(viaFfmpeg.db).toBeGreaterThan(20);
      expect(viaOurs.db).toBeGreaterThan(20);
      expect(viaOurs.lag).toBe(viaFfmpeg.lag);
    }
    // The measure itself: silence in place of the decoded signal scores 0 dB.
    expect(snrDb(speechLike(), new Int16Array(2 * RATE)).db).toBeLessThan(1);
  });
});

describe('G.722 codec properties', () => {
  it('20 ms: 320 samples → 160 octets → 320 samples', () => {
    const pcm = speechLike().subarray(0, 320);
    const octets = new Uint8Array(160);
    expect(new G722Encoder().encode(pcm, octets)).toBe(160);
    const out = new Int16Array(320);
    expect(new G722Decoder().decode(octets, 160, out)).toBe(320);
  });

  it('decodes only what the length, the payload and the output hold', () => {
    const out = new Int16Array(320).fill(7);
    expect(new G722Decoder().decode(new Uint8Array(10), 4, out)).toBe(8);
    expect(out[8]).toBe(7);
    expect(new G722Decoder().decode(new Uint8Array(3), 100, out)).toBe(6);
    expect(new G722Decoder().decode(new Uint8Array(400), 400, out)).toBe(320);
  });

  it('random bytes never throw, and decoding in pieces equals decoding at once', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 800 }), fc.nat(), (bytes, cut) => {
        const whole = new Int16Array(2 * bytes.length);
        new G722Decoder().decode(bytes, bytes.length, whole);
        const k = bytes.length === 0 ? 0 : cut % bytes.length;
        const dec = new G722Decoder();
        const a = new Int16Array(2 * k);
        const b = new Int16Array(2 * (bytes.length - k));
        dec.decode(bytes.subarray(0, k), k, a);
        dec.decode(bytes.subarray(k), bytes.length - k, b);
        expect(firstDifference(whole, Int16Array.from([...a, ...b]))).toBe(-1);
      }),
    );
  });

  it('random PCM never throws, writes one octet per sample pair, and encodes in pieces as at once', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -32768, max: 32767 }), { maxLength: 1200 }), fc.nat(), (samples, cut) => {
        const pcm = Int16Array.from(samples.length % 2 === 0 ? samples : samples.slice(1));
        const whole = new Uint8Array(pcm.length >> 1);
        expect(new G722Encoder().encode(pcm, whole)).toBe(whole.length);
        const k = pcm.length === 0 ? 0 : 2 * (cut % (pcm.length >> 1 || 1));
        const enc = new G722Encoder();
        const a = new Uint8Array(k >> 1);
        const b = new Uint8Array((pcm.length - k) >> 1);
        enc.encode(pcm.subarray(0, k), a);
        enc.encode(pcm.subarray(k), b);
        expect(firstDifference(whole, Uint8Array.from([...a, ...b]))).toBe(-1);
      }),
    );
  });
});

describe('G.722 encoder state hand-over', () => {
  it('an encoder that takes on another one\'s state writes what the other would have written', () => {
    const speech = speechLike();
    const tones = tonesAndChirp();
    const frame = (src: Int16Array, k: number): Int16Array => src.subarray(320 * k, 320 * (k + 1));
    const shared = new G722Encoder();
    const own = new G722Encoder();
    const reference = new G722Encoder();
    const a = new Uint8Array(160);
    for (let k = 0; k < 40; k++) {
      shared.encode(frame(speech, k), a);
      reference.encode(frame(speech, k), a);
      own.encode(frame(tones, k), a); // a different history
    }
    own.copyFrom(shared);
    const b = new Uint8Array(160);
    for (let k = 40; k < 60; k++) {
      own.encode(frame(tones, k), a);
      reference.encode(frame(tones, k), b);
      expect(firstDifference(a, b)).toBe(-1);
    }
  });
});
