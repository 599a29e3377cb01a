/**
 * Opus (RFC 6716) for the audio bridge through @evan/opus (libopus bindings: a prebuilt native
 * module in the npm tarball, wasm fallback). Mono, 16 kHz on our side of the codec (libopus
 * resamples internally; RTP still counts 48 kHz, RFC 7587 §4.1), 20 ms frames.
 *
 * Allocation: the library answers every encode and decode with a fresh Uint8Array (it slices its
 * own scratch buffer), and a payload shorter than its buffer is handed over as a subarray view.
 * We copy the result into the caller's buffers at once, so callers still own fixed buffers; the
 * two short-lived objects per frame are the library's, not ours, and are the one exception to
 * "a tick allocates nothing" in the bridge.
 *
 * Loss concealment is the library's own: libopus conceals when it is given a frame of length 0,
 * and a packet made of a TOC byte alone (code 0: one frame, N − 1 = 0 bytes, RFC 6716 §3.2.1–3.2.2)
 * is exactly that. The binding refuses an empty buffer, so a lost frame is decoded as a one-byte
 * packet whose TOC says "20 ms" in the mode of the last good packet. libopus's SILK concealment
 * never falls silent by itself (a steady voice goes on at about −7 dB for as long as it is asked),
 * and the bridge asks for up to a second when a sender stops (Opus DTX does exactly that), so its
 * output is taken as it is for the first 40 ms of a loss and then faded linearly to silence at
 * 80 ms, in the spirit of G.711 Appendix I (silent from 60 ms). libopus is still asked every frame
 * so its own state knows the time lost.
 *
 * A payload libopus rejects (malformed, or longer than the bridge takes) never throws out of
 * decode: it is concealed instead and counted in `stats.malformed`.
 */
import { Decoder, Encoder } from '@evan/opus';

/** Samples of one 20 ms frame at 16 kHz. */
export const OPUS_FRAME_SAMPLES = 320;
export const OPUS_SAMPLE_RATE_HZ = 16_000;
/** Default bitrate: wideband speech at 28 kbit/s. */
export const OPUS_DEFAULT_BITRATE_BPS = 28_000;
/** Default encoder complexity (0–10): 5 halves the cost of the default 9 for little loss on speech. */
export const OPUS_DEFAULT_COMPLEXITY = 5;
/** Samples into a loss (at 16 kHz) from which the concealment fades, and at which it is silent. */
const FADE_FROM = 640; // 40 ms
const SILENT_AT = 1280; // 80 ms

/** Largest payload taken or written (RFC 7587 leaves it to the session; 400 B is 160 kbit/s at 20 ms). */
export const OPUS_MAX_PAYLOAD_BYTES = 400;

type Complexity = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10;

export interface OpusEncoderOptions {
  /** Target bitrate, bit/s (500–512000). Default OPUS_DEFAULT_BITRATE_BPS. */
  readonly bitrateBps?: number;
  /** Encoder complexity 0–10. Default OPUS_DEFAULT_COMPLEXITY. */
  readonly complexity?: number;
}

export interface OpusEncoderStats {
  /** Frames whose packet did not fit the output buffer (sent as a TOC-only packet: concealed). */
  oversize: number;
}

/**
 * TOC byte (RFC 6716 §3.1, Table 2) for one 20 ms frame, code 0, in the mode family of `toc`:
 * SILK configs 0–11 (frame size is config & 3: 1 = 20 ms), hybrid 12–15 (config & 1: 1 = 20 ms),
 * CELT 16–31 (config & 3: 3 = 20 ms). The stereo flag is kept.
 */
export function opusLossToc(toc: number): number {
  const config = (toc >> 3) & 0x1f;
  const stereo = toc & 0x04;
  const c20 = config < 12 ? (config & ~3) | 1 : config < 16 ? config | 1 : (config & ~3) | 3;
  return (c20 << 3) | stereo;
}

/** 20 ms mono frames of 16 kHz PCM → Opus packets (application VoIP, constrained VBR, no in-band FEC, no DTX). */
export class OpusFrameEncoder {
  readonly stats: OpusEncoderStats = { oversize: 0 };
  readonly #enc: Encoder;

  constructor(options: OpusEncoderOptions = {}) {
    const bitrate = options.bitrateBps ?? OPUS_DEFAULT_BITRATE_BPS;
    const complexity = options.complexity ?? OPUS_DEFAULT_COMPLEXITY;
    if (!Number.isInteger(bitrate) || bitrate < 500 || bitrate > 512_000) throw new RangeError(`Opus bitrate ${bitrate} bit/s is outside 500..512000`);
    if (!isComplexity(complexity)) throw new RangeError(`Opus complexity ${complexity} is outside 0..10`);
    this.#enc = new Encoder({ channels: 1, sample_rate: OPUS_SAMPLE_RATE_HZ, application: 'voip' });
    this.#enc.bitrate = bitrate;
    this.#enc.complexity = complexity;
    this.#enc.vbr = true;
    this.#enc.vbr_constraint = true;
    // FEC would cost bitrate for receivers that may not use it; our own decoder cannot (the binding
    // has no decode_fec), and the bridge's jitter buffer conceals instead.
    this.#enc.inband_fec = false;
    this.#enc.dtx = false;
  }

  /**
   * Encodes one frame (`pcm`: OPUS_FRAME_SAMPLES at 16 kHz) into `out`; answers the payload length.
   * A packet that would not fit `out` is replaced by a one-byte TOC-only packet (a lost frame).
   */
  encode(pcm: Int16Array, out: Uint8Array): number {
    let packet: Uint8Array;
    try {
      packet = this.#enc.encode(pcm);
    } catch {
      packet = EMPTY;
    }
    const n = packet.length;
    if (n === 0 || n > out.length) {
      this.stats.oversize++;
      out[0] = opusLossToc(0x48);
      return 1;
    }
    out.set(packet);
    return n;
  }
}

export interface OpusDecoderStats {
  /** Payloads libopus refused (concealed instead). */
  malformed: number;
  /** Frames concealed by libopus's PLC (lost or malformed). */
  concealed: number;
}

/** Opus packets → 20 ms mono frames of 16 kHz PCM, libopus PLC for lost frames. */
export class OpusFrameDecoder {
  readonly stats: OpusDecoderStats = { malformed: 0, concealed: 0 };
  readonly #dec = new Decoder({ channels: 1, sample_rate: OPUS_SAMPLE_RATE_HZ });
  /** The one-byte packet that makes libopus conceal one 20 ms frame. */
  readonly #loss = Uint8Array.of(opusLossToc(0x48));
  #decodedAny = false;
  /** Samples concealed since the last good packet. */
  #lostSamples = 0;

  /**
   * Decodes `payload[0, length)` into `out` (OPUS_FRAME_SAMPLES; a longer packet's first 20 ms, a
   * shorter one padded with silence). A payload libopus refuses is concealed and counted.
   */
  decode(payload: Uint8Array, length: number, out: Int16Array): void {
    if (length < 1 || length > OPUS_MAX_PAYLOAD_BYTES || length > payload.length) {
      this.stats.malformed++;
      this.conceal(out);
      return;
    }
    let pcm: Uint8Array;
    try {
      pcm = this.#dec.decode(length === payload.length ? payload : payload.subarray(0, length));
    } catch {
      this.stats.malformed++;
      this.conceal(out);
      return;
    }
    this.#decodedAny = true;
    this.#lostSamples = 0;
    this.#loss[0] = opusLossToc(payload[0] ?? 0);
    copyPcm(pcm, out);
  }

  /** One frame lost: libopus's concealment, faded out from 40 ms (silence before the first good packet). */
  conceal(out: Int16Array): void {
    if (!this.#decodedAny) {
      out.fill(0);
      return;
    }
    this.stats.concealed++;
    const t0 = this.#lostSamples;
    this.#lostSamples += out.length;
    let pcm: Uint8Array;
    try {
      pcm = this.#dec.decode(this.#loss);
    } catch {
      out.fill(0);
      return;
    }
    copyPcm(pcm, out);
    if (t0 + out.length <= FADE_FROM) return;
    for (let i = 0; i < out.length; i++) {
      const t = t0 + i;
      if (t >= SILENT_AT) out[i] = 0;
      else if (t >= FADE_FROM) out[i] = Math.round(((out[i] ?? 0) * (SILENT_AT - t)) / (SILENT_AT - FADE_FROM));
    }
  }
}

const EMPTY = new Uint8Array(0);

/** Little-endian 16-bit samples (the binding's native order on the platforms it ships) into `out`. */
function copyPcm(bytes: Uint8Array, out: Int16Array): void {
  const n = Math.min(out.length, bytes.length >> 1);
  for (let i = 0; i < n; i++) out[i] = (((bytes[2 * i] ?? 0) | ((bytes[2 * i + 1] ?? 0) << 8)) << 16) >> 16;
  for (let i = n; i < out.length; i++) out[i] = 0;
}

function isComplexity(v: number): v is Complexity {
  return Number.isInteger(v) && v >= 0 && v <= 10;
}
