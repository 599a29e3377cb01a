/**
 * The codecs the audio bridge mixes, behind one frame interface: a decoder turns one received
 * 20 ms payload into 320 samples of 16 kHz linear PCM (the bridge's common wideband rate) or
 * conceals a lost frame in the codec's own way; an encoder turns 320 samples of 16 kHz into one
 * payload. Instances hold their codec state (ADPCM predictors, resampler history, PLC history):
 * one decoder per participant, one encoder per output stream (a talker's mix-minus, or a codec's
 * shared mix). Every buffer is allocated at construction; decode, conceal and encode allocate
 * nothing (test/media/mixer/frame-codec-alloc.test.ts), except Opus's library (below).
 *
 * G.711 µ-law (PCMU) and A-law (PCMA): 8 kHz, decoded by table, concealed by G.711 Appendix I style
 * PLC at 8 kHz, resampled 8 ↔ 16 kHz by resample.ts's half-band FIR.
 *
 * G.722 (64 kbit/s, codecs/g722.ts): 16 kHz natively, no resampling; RTP clock 8000 and 160
 * timestamp units per 20 ms though it samples at 16 kHz (RFC 3551 §4.5.2); 160-byte payloads (up
 * to 320 taken, the first 20 ms played, as G.711); concealed by the same Appendix I style PLC
 * run at 16 kHz on the decoded output (the ADPCM state resumes from the last good frame). Its
 * encoders offer continueFrom (see FrameEncoder): a receiver's decoder follows the ADPCM state of
 * the encoder it hears, and a move to another encoder's stream costs some 150 ms of mismatch
 * (about 10 dB SNR, recovering) unless the new encoder continues from the old one's state.
 *
 * Opus (codecs/opus.ts, libopus through @evan/opus): mono, decoded to and encoded from 16 kHz by
 * the library; RTP clock 48000, 960 units per 20 ms (RFC 7587 §4.1); payloads up to 400 bytes;
 * concealed by libopus's own PLC (faded to silence 40–80 ms into a loss); a payload it rejects is
 * concealed and counted (`malformed`).
 * The library allocates its result per call (copied into our buffers at once): Opus frames are
 * the one place a tick allocates.
 */
import { g711EncodeTable, g711Table } from '../codecs/g711.ts';
import { G722Decoder, G722Encoder } from '../codecs/g722.ts';
import { OPUS_MAX_PAYLOAD_BYTES, OpusFrameDecoder, OpusFrameEncoder } from '../codecs/opus.ts';
import { G711Plc } from './plc.ts';
import { Downsampler, Upsampler } from './resample.ts';

/** Samples per 20 ms frame at the bridge's rate (16 kHz). */
export const BRIDGE_FRAME_SAMPLES = 320;
export const BRIDGE_RATE_HZ = 16_000;

/** Codec names as SDP rtpmap writes them (upper case). */
export type BridgeCodecName = 'PCMU' | 'PCMA' | 'G722' | 'OPUS';

export interface FrameDecoder {
  /** Payloads the codec could not decode (each concealed instead). */
  readonly malformed: number;
  /** Decodes `payload[0, length)` into `out` (BRIDGE_FRAME_SAMPLES at 16 kHz); never throws. */
  decode(payload: Uint8Array, length: number, out: Int16Array): void;
  /** One frame lost: writes the codec's concealment into `out`. */
  conceal(out: Int16Array): void;
}

export interface FrameEncoder {
  /** Encodes `pcm` (BRIDGE_FRAME_SAMPLES at 16 kHz) into `out`; answers the payload's length in bytes. */
  encode(pcm: Int16Array, out: Uint8Array): number;
  /**
   * Present where the codec's decoder tracks its encoder's state (G.722's ADPCM): takes on
   * `other`'s state (an encoder of the same codec), so a receiver whose stream moves from
   * `other`'s payloads to this encoder's decodes on without a mismatch. Call it just before the
   * first encode whose payload goes to a receiver that was hearing `other` (a participant who
   * starts talking: its mix-minus encoder continues from its codec's shared-mix encoder).
   * G.711 is stateless; Opus resynchronises within a frame by itself.
   */
  continueFrom?(other: FrameEncoder): void;
}

export interface BridgeCodec {
  readonly name: BridgeCodecName;
  /** RTP clock rate (RFC 3551: G.722's is 8000 though it samples at 16 kHz; Opus: 48000). */
  readonly rtpClockRate: number;
  /** RTP timestamp units per 20 ms frame. */
  readonly timestampPerFrame: number;
  /** Largest payload of one frame it writes or takes, bytes. */
  readonly maxPayloadBytes: number;
  createDecoder(): FrameDecoder;
  createEncoder(): FrameEncoder;
}

const N8 = 160;

class G711Decoder implements FrameDecoder {
  readonly malformed = 0;
  readonly #table: Int16Array;
  readonly #plc = new G711Plc(N8);
  readonly #up = new Upsampler(N8);
  readonly #pcm8 = new Int16Array(N8);

  constructor(table: Int16Array) {
    this.#table = table;
  }

  decode(payload: Uint8Array, length: number, out: Int16Array): void {
    const pcm8 = this.#pcm8;
    const table = this.#table;
    const len = Math.min(length, N8);
    for (let i = 0; i < len; i++) pcm8[i] = table[payload[i] ?? 0] ?? 0;
    for (let i = len; i < N8; i++) pcm8[i] = 0;
    this.#plc.good(pcm8);
    this.#up.process(pcm8, out);
  }

  conceal(out: Int16Array): void {
    this.#plc.lost(this.#pcm8);
    this.#up.process(this.#pcm8, out);
  }
}

class G711Encoder implements FrameEncoder {
  readonly #table: Uint8Array;
  readonly #down = new Downsampler(BRIDGE_FRAME_SAMPLES);
  readonly #pcm8 = new Int16Array(N8);

  constructor(table: Uint8Array) {
    this.#table = table;
  }

  encode(pcm: Int16Array, out: Uint8Array): number {
    this.#down.process(pcm, this.#pcm8);
    const t = this.#table;
    const p = this.#pcm8;
    for (let i = 0; i < N8; i++) out[i] = t[(p[i] ?? 0) + 32768] ?? 0;
    return N8;
  }
}

function g711Codec(name: 'PCMU' | 'PCMA', payloadType: number): BridgeCodec {
  const decode = g711Table(payloadType) as Int16Array;
  const encode = g711EncodeTable(payloadType) as Uint8Array;
  return {
    name,
    rtpClockRate: 8000,
    timestampPerFrame: N8,
    // Up to 40 ms is taken (only the first 20 ms of a longer frame is played).
    maxPayloadBytes: 2 * N8,
    createDecoder: () => new G711Decoder(decode),
    createEncoder: () => new G711Encoder(encode),
  };
}

/** G.722 octets per 20 ms (two 16 kHz samples per octet). */
const G722_FRAME_BYTES = BRIDGE_FRAME_SAMPLES / 2;

class G722FrameDecoder implements FrameDecoder {
  readonly malformed = 0;
  readonly #codec = new G722Decoder();
  readonly #plc = new G711Plc(BRIDGE_FRAME_SAMPLES, BRIDGE_RATE_HZ);

  decode(payload: Uint8Array, length: number, out: Int16Array): void {
    const n = this.#codec.decode(payload, Math.min(length, G722_FRAME_BYTES), out);
    for (let i = n; i < BRIDGE_FRAME_SAMPLES; i++) out[i] = 0;
    this.#plc.good(out);
  }

  conceal(out: Int16Array): void {
    this.#plc.lost(out);
  }
}

class G722FrameEncoder implements FrameEncoder {
  readonly #codec = new G722Encoder();

  encode(pcm: Int16Array, out: Uint8Array): number {
    return this.#codec.encode(pcm, out, BRIDGE_FRAME_SAMPLES);
  }

  continueFrom(other: FrameEncoder): void {
    if (other instanceof G722FrameEncoder) this.#codec.copyFrom(other.#codec);
  }
}

const G722: BridgeCodec = {
  name: 'G722',
  rtpClockRate: 8000,
  timestampPerFrame: N8,
  maxPayloadBytes: 2 * G722_FRAME_BYTES,
  createDecoder: () => new G722FrameDecoder(),
  createEncoder: () => new G722FrameEncoder(),
};

class OpusBridgeDecoder implements FrameDecoder {
  readonly #codec = new OpusFrameDecoder();

  get malformed(): number {
    return this.#codec.stats.malformed;
  }

  decode(payload: Uint8Array, length: number, out: Int16Array): void {
    this.#codec.decode(payload, length, out);
  }

  conceal(out: Int16Array): void {
    this.#codec.conceal(out);
  }
}

const OPUS: BridgeCodec = {
  name: 'OPUS',
  rtpClockRate: 48_000,
  timestampPerFrame: 960,
  maxPayloadBytes: OPUS_MAX_PAYLOAD_BYTES,
  createDecoder: () => new OpusBridgeDecoder(),
  createEncoder: () => new OpusFrameEncoder(),
};

const CODECS = new Map<string, BridgeCodec>([
  ['PCMU', g711Codec('PCMU', 0)],
  ['PCMA', g711Codec('PCMA', 8)],
  ['G722', G722],
  ['OPUS', OPUS],
]);

/** The bridge's codec of an SDP rtpmap name (any case), or undefined when the bridge cannot mix it. */
export function bridgeCodec(name: string): BridgeCodec | undefined {
  return CODECS.get(name.toUpperCase());
}
