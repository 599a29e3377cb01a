/**
 * The audio bridge of one meeting. Each tick (20 ms): every participant's jitter buffer gives one
 * frame (or a concealed one, or nothing yet), decoded to 16 kHz; the talker selector picks the K
 * loudest unmuted participants; one shared mix of the talkers is built, and for each talker the
 * mix minus itself. Summation is in 32-bit integers, saturated to 16 bits (never wraps). The
 * shared mix is encoded once per codec in use and the same payload buffer is handed to every
 * non-talking receiver of that codec; each talker gets its own mix-minus payload. Receivers add
 * their own RTP header later. After join, a tick allocates nothing.
 *
 * Codecs here: G.711 µ-law (payload type 0) and A-law (8), 8 kHz, 20 ms frames, upsampled to
 * 16 kHz and back by resample.ts's half-band FIR.
 */
import { g711EncodeTable, g711Table } from '../codecs/g711.ts';
import { JitterBuffer, type PushResult } from './jitter-buffer.ts';
import { G711Plc } from './plc.ts';
import { Downsampler, Upsampler } from './resample.ts';
import { TalkerSelector } from './talkers.ts';

const N8 = 160;
const N16 = 320;
/** 20 ms of G.711 is 160 bytes; up to 40 ms is kept (only the first 20 ms of a frame is played). */
const MAX_PAYLOAD = 320;

export interface BridgeOptions {
  /** Most participants at once. Default 250. */
  readonly capacity?: number;
  /** Talkers mixed. Default 3. */
  readonly talkers?: number;
  /**
   * A receiver's frame for this tick. `payload` (first `length` bytes) belongs to the bridge and
   * is valid until the next tick; `shared` is true when other receivers get the same buffer.
   */
  readonly onFrame: (id: string, payloadType: number, payload: Uint8Array, length: number, shared: boolean) => void;
  /** Active-speaker changes. */
  readonly onSpeaker?: (id: string, talking: boolean) => void;
}

export type JoinResult = 'joined' | 'full' | 'duplicate' | 'unsupported-codec';

interface Participant {
  readonly id: string;
  readonly slot: number;
  readonly payloadType: number;
  readonly decode: Int16Array;
  readonly encode: Uint8Array;
  readonly jitter: JitterBuffer;
  readonly plc: G711Plc;
  readonly up: Upsampler;
  readonly down: Downsampler;
  readonly pcm: Int16Array;
  readonly out: Uint8Array;
  muted: boolean;
}

export interface BridgeStats {
  ticks: number;
  /** Frames concealed by PLC across participants. */
  concealed: number;
}

export class Bridge {
  readonly stats: BridgeStats = { ticks: 0, concealed: 0 };
  readonly #capacity: number;
  readonly #slots: (Participant | undefined)[];
  readonly #byId = new Map<string, Participant>();
  readonly #talkers: TalkerSelector;
  readonly #energy: Float64Array;
  readonly #eligible: Uint8Array;
  readonly #onFrame: BridgeOptions['onFrame'];
  readonly #onSpeaker: BridgeOptions['onSpeaker'];
  readonly #in = new Uint8Array(MAX_PAYLOAD);
  readonly #pcm8 = new Int16Array(N8);
  readonly #mix = new Int32Array(N16);
  readonly #work = new Int16Array(N16);
  readonly #mix8 = new Int16Array(N8);
  readonly #sharedDown = new Downsampler(N16);
  /** Shared mix payload per G.711 payload type (0 and 8) and whether it is encoded this tick. */
  readonly #shared = [new Uint8Array(N8), new Uint8Array(N8)] as const;
  readonly #sharedReady = new Uint8Array(2);
  #used = 0;

  constructor(options: BridgeOptions) {
    this.#capacity = Math.max(1, Math.floor(options.capacity ?? 250));
    this.#slots = new Array<Participant | undefined>(this.#capacity).fill(undefined);
    this.#energy = new Float64Array(this.#capacity);
    this.#eligible = new Uint8Array(this.#capacity);
    this.#onFrame = options.onFrame;
    this.#onSpeaker = options.onSpeaker;
    this.#talkers = new TalkerSelector({
      capacity: this.#capacity,
      k: options.talkers ?? 3,
      onChange: (slot, talking) => {
        const p = this.#slots[slot];
        if (p !== undefined) this.#onSpeaker?.(p.id, talking);
      },
    });
  }

  get size(): number {
    return this.#byId.size;
  }

  join(id: string, payloadType: number): JoinResult {
    if (this.#byId.has(id)) return 'duplicate';
    const decode = g711Table(payloadType);
    const encode = g711EncodeTable(payloadType);
    if (decode === undefined || encode === undefined) return 'unsupported-codec';
    const slot = this.#slots.indexOf(undefined);
    if (slot < 0) return 'full';
    const p: Participant = {
      id,
      slot,
      payloadType,
      decode,
      encode,
      jitter: new JitterBuffer({ maxPayloadBytes: MAX_PAYLOAD }),
      plc: new G711Plc(N8),
      up: new Upsampler(N8),
      down: new Downsampler(N16),
      pcm: new Int16Array(N16),
      out: new Uint8Array(N8),
      muted: false,
    };
    this.#slots[slot] = p;
    this.#byId.set(id, p);
    if (slot + 1 > this.#used) this.#used = slot + 1;
    return 'joined';
  }

  leave(id: string): boolean {
    const p = this.#byId.get(id);
    if (p === undefined) return false;
    this.#talkers.clear(p.slot);
    this.#slots[p.slot] = undefined;
    this.#byId.delete(id);
    while (this.#used > 0 && this.#slots[this.#used - 1] === undefined) this.#used--;
    return true;
  }

  /** Mutes or unmutes; a muted participant is never mixed (it still hears the meeting). */
  mute(id: string, muted: boolean): boolean {
    const p = this.#byId.get(id);
    if (p === undefined) return false;
    p.muted = muted;
    return true;
  }

  isMuted(id: string): boolean | undefined {
    return this.#byId.get(id)?.muted;
  }

  /** Whether the participant is currently one of the mixed talkers. */
  isTalking(id: string): boolean {
    const p = this.#byId.get(id);
    return p !== undefined && this.#talkers.selected[p.slot] === 1;
  }

  /** One received RTP payload of a participant. */
  push(id: string, seq: number, timestamp: number, ssrc: number, payload: Uint8Array, length: number, arrivalMs: number): PushResult | 'unknown' {
    const p = this.#byId.get(id);
    if (p === undefined) return 'unknown';
    return p.jitter.push(seq, timestamp, ssrc, payload, length, arrivalMs);
  }

  jitterStats(id: string): Readonly<JitterBuffer['stats']> | undefined {
    return this.#byId.get(id)?.jitter.stats;
  }

  /** One 20 ms tick: pull, select, mix, encode, hand out. */
  tick(): void {
    this.stats.ticks++;
    const n = this.#used;
    for (let s = 0; s < n; s++) {
      const p = this.#slots[s];
      if (p === undefined) {
        this.#eligible[s] = 0;
        this.#energy[s] = 0;
        continue;
      }
      this.#pull(p);
      let e = 0;
      const pcm = p.pcm;
      for (let i = 0; i < N16; i++) {
        const v = pcm[i] ?? 0;
        e += v * v;
      }
      this.#energy[s] = e / N16;
      this.#eligible[s] = p.muted ? 0 : 1;
    }
    const selected = this.#talkers.selected;
    this.#talkers.update(this.#energy, this.#eligible, n);

    const mix = this.#mix;
    mix.fill(0);
    for (let s = 0; s < n; s++) {
      const p = this.#slots[s];
      if (p === undefined || selected[s] !== 1 || p.muted) continue;
      const pcm = p.pcm;
      for (let i = 0; i < N16; i++) mix[i] = (mix[i] ?? 0) + (pcm[i] ?? 0);
    }
    this.#sharedReady.fill(0);
    let sharedDownDone = false;
    for (let s = 0; s < n; s++) {
      const p = this.#slots[s];
      if (p === undefined) continue;
      const k = p.payloadType === 0 ? 0 : 1;
      if (selected[s] === 1 && !p.muted) {
        // Mix minus itself, encoded for this talker alone.
        const w = this.#work;
        const pcm = p.pcm;
        for (let i = 0; i < N16; i++) w[i] = sat((mix[i] ?? 0) - (pcm[i] ?? 0));
        p.down.process(w, this.#mix8);
        encode(this.#mix8, p.encode, p.out);
        this.#onFrame(p.id, p.payloadType, p.out, N8, false);
        continue;
      }
      if (!sharedDownDone) {
        const w = this.#work;
        for (let i = 0; i < N16; i++) w[i] = sat(mix[i] ?? 0);
        this.#sharedDown.process(w, this.#mix8);
        sharedDownDone = true;
      }
      const buf = this.#shared[k];
      if (this.#sharedReady[k] !== 1) {
        encode(this.#mix8, p.encode, buf);
        this.#sharedReady[k] = 1;
      }
      this.#onFrame(p.id, p.payloadType, buf, N8, true);
    }
  }

  #pull(p: Participant): void {
    const r = p.jitter.pop(this.#in);
    const pcm8 = this.#pcm8;
    if (r === 'frame') {
      const len = Math.min(p.jitter.lastLength, N8);
      const table = p.decode;
      for (let i = 0; i < len; i++) pcm8[i] = table[this.#in[i] ?? 0] ?? 0;
      for (let i = len; i < N8; i++) pcm8[i] = 0;
      p.plc.good(pcm8);
    } else if (r === 'lost') {
      p.plc.lost(pcm8);
      this.stats.concealed++;
    } else {
      pcm8.fill(0);
    }
    p.up.process(pcm8, p.pcm);
  }
}

function sat(v: number): number {
  return v > 32767 ? 32767 : v < -32768 ? -32768 : v;
}

function encode(pcm8: Int16Array, table: Uint8Array, out: Uint8Array): void {
  for (let i = 0; i < N8; i++) out[i] = table[(pcm8[i] ?? 0) + 32768] ?? 0;
}
