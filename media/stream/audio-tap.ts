import { g711Table } from '../codecs/g711.ts';
import type { MediaFunction } from '../relay/endpoint.ts';
import type { RtpHeader } from '../rtp/rtp-header.ts';
import { SAMPLE_RATE } from './mkv.ts';

/** A finished fragment of one side's audio: epoch-ms timecode of its first sample and its PCM. */
export type FragmentListener = (timecodeMs: number, pcm: Int16Array) => void;

/** A timestamp jump larger than this (a new source, a clock reset) starts the timeline afresh. */
const MAX_JUMP_FRAGMENTS = 10;

/**
 * One side's audio as it arrives, decoded (G.711) into fixed-length fragments placed by RTP
 * timestamp — not by arrival, so jitter never moves a sample, reordered packets land where they
 * belong, and a gap (loss, silence suppression, a stall) stays as silence. Fragment timecodes are
 * the wall clock of the first packet plus the RTP time since: rising by exactly one fragment each.
 * Per packet it only writes samples into the current fragment's buffer.
 */
export class AudioTap {
  readonly #samples: number;
  readonly #fragmentMs: number;
  readonly #onFragment: FragmentListener;
  #pcm: Int16Array;
  /** RTP timestamp of the current fragment's first sample. */
  #baseTs = 0;
  #timecodeMs = 0;
  #started = false;
  /** Samples written into the current fragment (its highest index + 1). */
  #filled = 0;
  #lastWallMs = 0;

  constructor(fragmentMs: number, onFragment: FragmentListener) {
    this.#fragmentMs = fragmentMs;
    this.#samples = (SAMPLE_RATE * fragmentMs) / 1000;
    this.#onFragment = onFragment;
    this.#pcm = new Int16Array(this.#samples);
  }

  /** An RTP packet's payload (`buf[off, off + len)`), payload type and timestamp, at wall time `wallMs`. */
  write(buf: Buffer, off: number, len: number, payloadType: number, ts: number, wallMs: number): void {
    const table = g711Table(payloadType);
    if (table === undefined) return; // telephone-event, comfort noise, other codecs: silence here
    this.#lastWallMs = wallMs;
    if (!this.#started) {
      this.#started = true;
      this.#baseTs = ts;
      this.#timecodeMs = wallMs;
    }
    let at = (ts - this.#baseTs) | 0;
    if (at < 0 && at > -this.#samples * MAX_JUMP_FRAGMENTS) return; // late: its fragment went on already
    if (at < 0 || at >= this.#samples * MAX_JUMP_FRAGMENTS) {
      // The timeline jumped: end this fragment and start again at this packet, keeping timecodes rising.
      const next = this.#timecodeMs + this.#fragmentMs;
      this.#flush(this.#filled);
      this.#baseTs = ts;
      this.#timecodeMs = Math.max(wallMs, next);
      at = 0;
    }
    for (let i = 0; i < len; i++, at++) {
      while (at >= this.#samples) {
        this.#flush(this.#samples);
        at -= this.#samples;
      }
      this.#pcm[at] = table[buf[off + i] as number] as number;
      if (at + 1 > this.#filled) this.#filled = at + 1;
    }
  }

  /**
   * Housekeeping at wall time `wallMs`: a fragment that should have ended a fragment's length ago
   * (the sender went quiet) is sent on with silence where nothing came.
   */
  tick(wallMs: number): void {
    if (this.#started && this.#filled > 0 && wallMs - this.#lastWallMs > this.#fragmentMs) this.#flush(this.#samples);
  }

  /** The leg ended: what is left goes out, cut at the last sample received. */
  close(): void {
    if (this.#started && this.#filled > 0) this.#flush(this.#filled);
  }

  #flush(samples: number): void {
    const out = samples === this.#samples ? this.#pcm : this.#pcm.slice(0, samples);
    const timecode = this.#timecodeMs;
    this.#pcm = new Int16Array(this.#samples);
    this.#baseTs = (this.#baseTs + this.#samples) >>> 0;
    this.#timecodeMs += this.#fragmentMs;
    this.#filled = 0;
    if (samples > 0) this.#onFragment(timecode, out);
  }
}

/** The tap as a media function attached to an endpoint (media-core `attach`): what its far end sends, fragment by fragment. */
export class TapFunction implements MediaFunction {
  readonly #tap: AudioTap;
  #closed = false;

  constructor(fragmentMs: number, onFragment: FragmentListener) {
    this.#tap = new AudioTap(fragmentMs, onFragment);
  }

  /** Every packet is the recording's (telephone-event and other codecs are silence in it). */
  onRtp(buf: Buffer, h: RtpHeader, ts: number, wallMs: number): boolean {
    this.#tap.write(buf, h.payloadOffset, h.payloadLength, h.payloadType, ts, wallMs);
    return true;
  }

  tick(wallMs: number): void {
    this.#tap.tick(wallMs);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#tap.close();
  }
}
