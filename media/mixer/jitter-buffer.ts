/**
 * One participant's adaptive jitter buffer: RTP payloads go in as they arrive (any order,
 * duplicated, lost), one frame per 20 ms tick comes out in sequence order. Memory is a fixed ring
 * of `capacity` slots whose payload bytes are copied into buffers allocated at construction:
 * nothing is allocated per packet or per pop.
 *
 * Sequence numbers are extended to 32 bits around the highest seen (wrap at 65,536); timestamps
 * only feed the RFC 3550 §6.4.1 interarrival jitter estimate, taken modulo 2^32. The target depth
 * follows that estimate (3 J plus one frame, bounded by minDepth..maxDepth frames). A new SSRC
 * resets the buffer.
 */

export interface JitterBufferOptions {
  /** Ring slots (frames held at most); default 64 (1.28 s of 20 ms frames). */
  readonly capacity?: number;
  /** Largest payload kept, in bytes; larger packets are refused. Default 1500. */
  readonly maxPayloadBytes?: number;
  /** RTP clock rate of the payload, Hz. Default 8000. */
  readonly clockRate?: number;
  /** Frame duration, ms. Default 20. */
  readonly frameMs?: number;
  /** Bounds of the target depth, frames. Defaults 1 and 10. */
  readonly minDepth?: number;
  readonly maxDepth?: number;
}

export type PushResult = 'accepted' | 'late' | 'duplicate' | 'refused';
/** 'frame': a payload was copied out; 'lost': conceal one frame; 'idle': nothing to play yet. */
export type PopResult = 'frame' | 'lost' | 'idle';

export interface JitterBufferStats {
  received: number;
  played: number;
  concealed: number;
  late: number;
  duplicate: number;
  refused: number;
  /** Frames discarded to shrink the depth toward the target, or pushed out by a far-ahead packet. */
  discarded: number;
  resets: number;
}

/** Consecutive lost pops with nothing buffered after which the buffer waits to refill. */
const STARVED_LIMIT = 50;

export class JitterBuffer {
  readonly stats: JitterBufferStats = { received: 0, played: 0, concealed: 0, late: 0, duplicate: 0, refused: 0, discarded: 0, resets: 0 };
  readonly #capacity: number;
  readonly #maxPayload: number;
  readonly #clockRate: number;
  readonly #frameMs: number;
  readonly #minDepth: number;
  readonly #maxDepth: number;
  readonly #payloads: Uint8Array[];
  readonly #lengths: Int32Array;
  /** Extended sequence held by each slot, or -1 when empty. */
  readonly #seqOf: Float64Array;
  #ssrc = -1;
  #started = false;
  #playing = false;
  #highest = 0;
  #next = 0;
  #held = 0;
  #starved = 0;
  #jitterMs = 0;
  #prevTransit = 0;
  #haveTransit = false;
  #lastSeq = -1;
  #lastLength = 0;

  constructor(options: JitterBufferOptions = {}) {
    this.#capacity = Math.max(4, Math.floor(options.capacity ?? 64));
    this.#maxPayload = Math.max(1, Math.floor(options.maxPayloadBytes ?? 1500));
    this.#clockRate = options.clockRate ?? 8000;
    this.#frameMs = options.frameMs ?? 20;
    this.#minDepth = Math.max(1, Math.floor(options.minDepth ?? 1));
    this.#maxDepth = Math.min(this.#capacity - 2, Math.max(this.#minDepth, Math.floor(options.maxDepth ?? 10)));
    this.#payloads = Array.from({ length: this.#capacity }, () => new Uint8Array(this.#maxPayload));
    this.#lengths = new Int32Array(this.#capacity);
    this.#seqOf = new Float64Array(this.#capacity).fill(-1);
  }

  /** Interarrival jitter estimate, ms (RFC 3550 §6.4.1). */
  get jitterMs(): number {
    return this.#jitterMs;
  }

  /** Frames the buffer aims to hold before playing. */
  get targetDepth(): number {
    const frames = Math.ceil((3 * this.#jitterMs) / this.#frameMs) + 1;
    return Math.min(this.#maxDepth, Math.max(this.#minDepth, frames));
  }

  /** Frames currently held. */
  get depth(): number {
    return this.#held;
  }

  /** Extended sequence number of the frame the last 'frame' pop returned. */
  get lastSeq(): number {
    return this.#lastSeq;
  }

  /** Byte length of the payload the last 'frame' pop copied out. */
  get lastLength(): number {
    return this.#lastLength;
  }

  /** Empties the buffer and forgets the stream (also done on an SSRC change). */
  reset(): void {
    this.#seqOf.fill(-1);
    this.#started = false;
    this.#playing = false;
    this.#held = 0;
    this.#starved = 0;
    this.#haveTransit = false;
    this.#jitterMs = 0;
  }

  /**
   * Takes one RTP payload. seq and timestamp are the header's 16- and 32-bit fields, arrivalMs a
   * monotonic arrival time. The payload bytes are copied (the caller may reuse its buffer).
   */
  push(seq: number, timestamp: number, ssrc: number, payload: Uint8Array, length: number, arrivalMs: number): PushResult {
    if (length < 0 || length > this.#maxPayload || length > payload.length || !Number.isInteger(seq) || seq < 0 || seq > 0xffff) {
      this.stats.refused++;
      return 'refused';
    }
    if (ssrc !== this.#ssrc) {
      if (this.#ssrc !== -1) this.stats.resets++;
      this.reset();
      this.#ssrc = ssrc;
    }
    let ext: number;
    if (!this.#started) {
      this.#started = true;
      ext = seq + 65536; // room below for reordered early packets
      this.#highest = ext;
      this.#next = ext;
    } else {
      const delta = ((seq - (this.#highest % 65536) + 32768 + 65536) % 65536) - 32768;
      ext = this.#highest + delta;
    }
    if (ext < this.#next) {
      if (!this.#playing && this.#highest - ext < this.#capacity - 1) {
        this.#next = ext; // an earlier packet before play-out began: start from it
      } else {
        this.stats.late++;
        return 'late';
      }
    }
    if (ext - this.#next >= this.#capacity) {
      // Far ahead: move the play-out point so the ring holds it, dropping what falls behind.
      const newNext = ext - this.#capacity + 1;
      const before = this.#held;
      if (newNext - this.#next >= this.#capacity) {
        this.#seqOf.fill(-1);
        this.#held = 0;
      } else {
        for (let s = this.#next; s < newNext; s++) this.#drop(s);
      }
      this.stats.discarded += before - this.#held;
      this.#next = newNext;
    }
    const slot = ext % this.#capacity;
    if (this.#seqOf[slot] === ext) {
      this.stats.duplicate++;
      return 'duplicate';
    }
    this.#seqOf[slot] = ext;
    this.#lengths[slot] = length;
    const dst = this.#payloads[slot];
    if (dst !== undefined) for (let i = 0; i < length; i++) dst[i] = payload[i] ?? 0;
    this.#held++;
    if (ext > this.#highest) this.#highest = ext;
    this.stats.received++;
    this.#updateJitter(timestamp, arrivalMs);
    return 'accepted';
  }

  /**
   * One tick's frame: copies the next payload into `out` ('frame', length in lastLength), or says
   * to conceal ('lost') or that nothing plays yet ('idle').
   */
  pop(out: Uint8Array): PopResult {
    if (!this.#started) return 'idle';
    if (!this.#playing) {
      if (this.#held < this.targetDepth) return 'idle';
      this.#playing = true;
    }
    // Shrink toward the target: skip a frame when clearly over it.
    if (this.#held > this.targetDepth + 2) {
      if (this.#drop(this.#next)) this.stats.discarded++;
      this.#next++;
    }
    const slot = this.#next % this.#capacity;
    if (this.#seqOf[slot] === this.#next) {
      const len = this.#lengths[slot] ?? 0;
      const src = this.#payloads[slot];
      const n = Math.min(len, out.length);
      if (src !== undefined) for (let i = 0; i < n; i++) out[i] = src[i] ?? 0;
      this.#seqOf[slot] = -1;
      this.#held--;
      this.#lastSeq = this.#next;
      this.#lastLength = n;
      this.#next++;
      this.#starved = 0;
      this.stats.played++;
      return 'frame';
    }
    this.stats.concealed++;
    if (this.#held > 0) {
      this.#next++; // the frame is missing but later ones are here: it is lost
      return 'lost';
    }
    // Nothing buffered: stretch (do not advance) so a late frame still plays; after a long
    // silence wait to refill to the target.
    if (++this.#starved >= STARVED_LIMIT) {
      this.#playing = false;
      this.#starved = 0;
    }
    return 'lost';
  }

  #drop(ext: number): boolean {
    const slot = ext % this.#capacity;
    if (this.#seqOf[slot] !== ext) return false;
    this.#seqOf[slot] = -1;
    this.#held--;
    return true;
  }

  #updateJitter(timestamp: number, arrivalMs: number): void {
    // Transit in RTP units modulo 2^32; differences are taken as signed 32-bit.
    const transit = (Math.round((arrivalMs * this.#clockRate) / 1000) - timestamp) | 0;
    if (this.#haveTransit) {
      const d = Math.abs((transit - this.#prevTransit) | 0);
      const dMs = Math.min((d * 1000) / this.#clockRate, 10_000);
      this.#jitterMs += (dMs - this.#jitterMs) / 16;
    }
    this.#prevTransit = transit;
    this.#haveTransit = true;
  }
}
