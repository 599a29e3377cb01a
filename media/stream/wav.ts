/**
 * RIFF/WAVE for one leg's PCM (format 1, mono, 8 kHz, 16-bit): the header is written first with
 * its sizes at 0 — a file cut short by a crash still opens — and fixed when the leg ends.
 */
import { SAMPLE_RATE } from './mkv.ts';

export const WAV_HEADER_BYTES = 44;

/** The 44-byte header for `dataBytes` of PCM (0 while the leg is still being written). */
export function wavHeader(dataBytes: number): Buffer {
  const h = Buffer.alloc(WAV_HEADER_BYTES);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(dataBytes === 0 ? 0 : 36 + dataBytes, 4);
  h.write('WAVE', 8, 'latin1');
  h.write('fmt ', 12, 'latin1');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20); // PCM
  h.writeUInt16LE(1, 22); // mono
  h.writeUInt32LE(SAMPLE_RATE, 24);
  h.writeUInt32LE(SAMPLE_RATE * 2, 28); // byte rate
  h.writeUInt16LE(2, 32); // block align
  h.writeUInt16LE(16, 34); // bits per sample
  h.write('data', 36, 'latin1');
  h.writeUInt32LE(dataBytes, 40);
  return h;
}

/** PCM samples as little-endian bytes (a WAV data chunk's layout). */
export function pcmBytes(pcm: Int16Array): Buffer {
  const b = Buffer.alloc(pcm.length * 2);
  for (let i = 0; i < pcm.length; i++) b.writeInt16LE(pcm[i] ?? 0, 2 * i);
  return b;
}
