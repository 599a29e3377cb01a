/**
 * The WAV files Carillon's prompts ship as (RIFF/WAVE, PCM, EBU and Microsoft's RIFF spec):
 *
 *   "RIFF" <u32le size> "WAVE"  then chunks: <4-byte id> <u32le size> <size bytes> [pad to even]
 *   "fmt " (at least 16 bytes): u16 format (1 = PCM), u16 channels, u32 sample rate,
 *          u32 byte rate, u16 block align, u16 bits per sample
 *   "data": the samples, little-endian
 *
 * Only what the prompts are is accepted: PCM, mono, 8000 Hz, 16-bit. Pure (STYLE.md 2); whatever
 * bytes give a value or a typed error, never an exception.
 */

export const PROMPT_SAMPLE_RATE_HZ = 8_000;
/** Longest prompt accepted, in seconds (the longest shipped is under 30). */
export const MAX_PROMPT_SECONDS = 120;

export type WavError =
  | 'not-riff'
  | 'truncated-chunk'
  | 'no-fmt'
  | 'no-data'
  | 'not-pcm'
  | 'not-mono'
  | 'not-8khz'
  | 'not-16-bit'
  | 'bad-block-align'
  | 'odd-data'
  | 'empty'
  | 'too-long';

export type WavResult = { readonly ok: true; readonly samples: Int16Array } | { readonly ok: false; readonly error: WavError };

const fail = (error: WavError): WavResult => ({ ok: false, error });

/** Parses an 8 kHz 16-bit mono PCM WAV into its samples (a copy, aligned). */
export function parseWav(buf: Uint8Array): WavResult {
  if (buf.length < 12) return fail('not-riff');
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (ascii(buf, 0) !== 'RIFF' || ascii(buf, 8) !== 'WAVE') return fail('not-riff');
  let fmt: { format: number; channels: number; rate: number; blockAlign: number; bits: number } | undefined;
  let dataStart = -1;
  let dataLength = 0;
  let pos = 12;
  while (pos + 8 <= buf.length) {
    const id = ascii(buf, pos);
    const size = view.getUint32(pos + 4, true);
    const body = pos + 8;
    if (size > buf.length - body) return fail('truncated-chunk');
    if (id === 'fmt ') {
      if (size < 16) return fail('truncated-chunk');
      fmt = {
        format: view.getUint16(body, true),
        channels: view.getUint16(body + 2, true),
        rate: view.getUint32(body + 4, true),
        blockAlign: view.getUint16(body + 12, true),
        bits: view.getUint16(body + 14, true),
      };
    } else if (id === 'data' && dataStart < 0) {
      dataStart = body;
      dataLength = size;
    }
    pos = body + size + (size & 1);
  }
  if (fmt === undefined) return fail('no-fmt');
  if (dataStart < 0) return fail('no-data');
  if (fmt.format !== 1) return fail('not-pcm');
  if (fmt.channels !== 1) return fail('not-mono');
  if (fmt.rate !== PROMPT_SAMPLE_RATE_HZ) return fail('not-8khz');
  if (fmt.bits !== 16) return fail('not-16-bit');
  if (fmt.blockAlign !== 2) return fail('bad-block-align');
  if ((dataLength & 1) !== 0) return fail('odd-data');
  const count = dataLength / 2;
  if (count === 0) return fail('empty');
  if (count > MAX_PROMPT_SECONDS * PROMPT_SAMPLE_RATE_HZ) return fail('too-long');
  const samples = new Int16Array(count);
  for (let i = 0; i < count; i++) samples[i] = view.getInt16(dataStart + 2 * i, true);
  return { ok: true, samples };
}

function ascii(buf: Uint8Array, at: number): string {
  return String.fromCharCode(buf[at] as number, buf[at + 1] as number, buf[at + 2] as number, buf[at + 3] as number);
}

/** Writes samples as an 8 kHz 16-bit mono PCM WAV (for tests and tools). */
export function writeWav(samples: Int16Array): Buffer {
  const out = Buffer.alloc(44 + samples.length * 2);
  out.write('RIFF', 0, 'latin1');
  out.writeUInt32LE(36 + samples.length * 2, 4);
  out.write('WAVEfmt ', 8, 'latin1');
  out.writeUInt32LE(16, 16);
  out.writeUInt16LE(1, 20);
  out.writeUInt16LE(1, 22);
  out.writeUInt32LE(PROMPT_SAMPLE_RATE_HZ, 24);
  out.writeUInt32LE(PROMPT_SAMPLE_RATE_HZ * 2, 28);
  out.writeUInt16LE(2, 32);
  out.writeUInt16LE(16, 34);
  out.write('data', 36, 'latin1');
  out.writeUInt32LE(samples.length * 2, 40);
  for (let i = 0; i < samples.length; i++) out.writeInt16LE(samples[i] as number, 44 + 2 * i);
  return out;
}
