/**
 * The codecs the audio bridge mixes, behind one frame interface: a decoder turns one received
 * 20 ms payload into 320 samples of 16 kHz linear PCM (the bridge's common wideband rate) or
 * conceals a lost frame in the codec's own way; an encoder turns 320 samples of 16 kHz into one
 * payload. Instances hold their codec state (ADPCM predictors, resampler history, PLC history):
 * one decoder per participant, one encoder per output stream (a talker's mix-minus, or a codec's
 * shared mix). Every buffer is allocated at construction; decode, conceal and encode allocate
 * nothing.
 *
 * G.711 µ-law (PCMU) and A-law (PCMA): 8 kHz, decoded by table, concealed by G.711 Appendix I style
 * PLC at 8 kHz, resampled 8 ↔ 16 kHz by resample.ts's half-band FIR.
 */
import { g711EncodeTable, g711Table } from '../codecs/g711.ts';
import { G711Plc } from './plc.ts';
import { Downsampler, Upsampler } from './resample.ts';

/** Samples per 20 ms frame at the bridge's rate (16 kHz). */
export const BRIDGE_FRAME_SAMPLES = 320;
export const BRIDGE_RATE_HZ = 16_000;

/** Codec names as SDP rtpmap writes them (upper case). */
export type BridgeCodecName = 'PCMU' | 'PCMA' | 'G722' | 'OPUS';

export interface FrameDecoder {
  /** Decodes `payload[0, length)` into `out` (BRIDGE_FRAME_SAMPLES at 16 kHz). */
  decode(payload: Uint8Array, length: number, out: Int16Array): void;
  /** One frame lost: writes the codec's concealment into `out`. */
  conceal(out: Int16Array): void;
}

export interface FrameEncoder {
  /** Encodes `pcm` (BRIDGE_FRAME_SAMPLES at 16 kHz) into `out`; answers the payload's length in bytes. */
  encode(pcm: Int16Array, out: Uint8Array): number;
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

const CODECS = new Map<string, BridgeCodec>([
  ['PCMU', g711Codec('PCMU', 0)],
  ['PCMA', g711Codec('PCMA', 8)],
]);

/** The bridge's codec of an SDP rtpmap name (any case), or undefined when the bridge cannot mix it. */
export function bridgeCodec(name: string): BridgeCodec | undefined {
  return CODECS.get(name.toUpperCase());
}
