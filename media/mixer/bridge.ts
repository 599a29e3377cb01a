/**
 * The audio bridge of one meeting. Each tick (20 ms): every participant's jitter buffer gives one
 * frame (or a concealed one, or nothing yet), decoded to 16 kHz; the talker selector picks the K
 * loudest unmuted participants; one shared mix of the talkers is built, and for each talker the
 * mix minus itself. Summation is in 32-bit integers, saturated to 16 bits (never wraps). The
 * shared mix is encoded once per codec in use and the same payload buffer is handed to every
 * non-talking receiver of that codec; each talker gets its own mix-minus payload. Receivers add
 * their own RTP header later. After join, a tick allocates nothing of its own (the Opus library
 * hands back a fresh buffer per encode and decode, copied at once: codecs/opus.ts). A listener that
 * starts talking continues its codec's shared coder state (FrameEncoder.continueFrom), so its
 * decoder sees no jump; one that stops talking goes back to the shared stream, whose state its own
 * stream never matched (G.722: a short glitch there; Opus recovers within a frame).
 *
 * Codecs: frame-codec.ts (each decodes to and encodes from 16 kHz; each participant has its own
 * decoder and mix-minus encoder, each codec in use one shared-mix encoder). Join and leave tones
 * come in as an announcement every participant hears on top of the talkers; `mixTap` sees the
 * shared mix each tick (the meeting's recording, mix-recorder.ts).
 */
import { BRIDGE_FRAME_SAMPLES, bridgeCodec } from './frame-codec.ts';
import type { BridgeCodec, BridgeCodecName, FrameDecoder, FrameEncoder } from './frame-codec.ts';
import { JitterBuffer, type PushResult } from './jitter-buffer.ts';
import { TalkerSelector } from './talkers.ts';

const N16 = BRIDGE_FRAME_SAMPLES;

export interface BridgeOptions {
  /** Most participants at once. Default 250. */
  readonly capacity?: number;
  /** Talkers mixed. Default 3. */
  readonly talkers?: number;
  /**
   * A receiver's frame for this tick, in its codec. `payload` (first `length` bytes) belongs to
   * the bridge and is valid until the next tick; `shared` is true when other receivers get the
   * same buffer.
   */
  readonly onFrame: (id: string, payload: Uint8Array, length: number, shared: boolean) => void;
  /** Active-speaker changes. */
  readonly onSpeaker?: (id: string, talking: boolean) => void;
}

export type JoinResult = 'joined' | 'full' | 'duplicate' | 'unsupported-codec';

/**
 * Sound every participant hears on top of the talkers this tick (join and leave tones): fills
 * `out` (BRIDGE_FRAME_SAMPLES at 16 kHz) and answers true, or answers false when it has nothing.
 */
export type AnnouncementSource = (out: Int16Array) => boolean;

interface Participant {
  readonly id: string;
  readonly slot: number;
  readonly codec: BridgeCodec;
  readonly decoder: FrameDecoder;
  /** Its own mix-minus while it talks. */
  readonly encoder: FrameEncoder;
  readonly jitter: JitterBuffer;
  readonly pcm: Int16Array;
  readonly out: Uint8Array;
  muted: boolean;
  /** It was sent its own mix-minus last tick (it talks), not the shared mix. */
  ownStream: boolean;
}

/** A codec's shared mix: one encoder and one payload for every receiver of that codec who is not talking. */
interface SharedMix {
  readonly encoder: FrameEncoder;
  readonly out: Uint8Array;
  length: number;
  /** The tick it was last encoded in. */
  tick: number;
  /** Receivers using it. */
  users: number;
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
  /** One received payload, copied out of a jitter buffer (sized for the largest codec in use). */
  #in = new Uint8Array(0);
  readonly #mix = new Int32Array(N16);
  readonly #work = new Int16Array(N16);
  readonly #sharedPcm = new Int16Array(N16);
  readonly #announcement = new Int16Array(N16);
  /** Shared mixes by codec, made when a codec's first participant joins. */
  readonly #shared = new Map<BridgeCodecName, SharedMix>();
  #used = 0;
  /** Sound everyone hears on top of the talkers (join and leave tones). */
  announcement: AnnouncementSource | undefined;
  /**
   * Given the shared mix every tick (the talkers and the announcement, 16 kHz, summed but not yet
   * saturated; the bridge's buffer, valid during the call): the meeting's recording.
   */
  mixTap: ((mix: Int32Array) => void) | undefined;

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

  /** Joins a participant whose audio is in `codecName` (an SDP rtpmap name: PCMU, PCMA, …). */
  join(id: string, codecName: string): JoinResult {
    if (this.#byId.has(id)) return 'duplicate';
    const codec = bridgeCodec(codecName);
    if (codec === undefined) return 'unsupported-codec';
    const slot = this.#slots.indexOf(undefined);
    if (slot < 0) return 'full';
    const p: Participant = {
      id,
      slot,
      codec,
      decoder: codec.createDecoder(),
      encoder: codec.createEncoder(),
      jitter: new JitterBuffer({ maxPayloadBytes: codec.maxPayloadBytes, clockRate: codec.rtpClockRate }),
      pcm: new Int16Array(N16),
      out: new Uint8Array(codec.maxPayloadBytes),
      muted: false,
      ownStream: false,
    };
    if (this.#in.length < codec.maxPayloadBytes) this.#in = new Uint8Array(codec.maxPayloadBytes);
    let shared = this.#shared.get(codec.name);
    if (shared === undefined) {
      shared = { encoder: codec.createEncoder(), out: new Uint8Array(codec.maxPayloadBytes), length: 0, tick: -1, users: 0 };
      this.#shared.set(codec.name, shared);
    }
    shared.users++;
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
    const shared = this.#shared.get(p.codec.name);
    if (shared !== undefined && --shared.users === 0) this.#shared.delete(p.codec.name);
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

  /** The loudest of the mixed talkers now (smoothed energy), if anyone talks: the meeting's video follows it. */
  dominant(): string | undefined {
    const selected = this.#talkers.selected;
    const energy = this.#talkers.smoothed;
    let best = -1;
    for (let i = 0; i < this.#used; i++) if (selected[i] === 1 && (best < 0 || (energy[i] ?? 0) > (energy[best] ?? 0))) best = i;
    return best < 0 ? undefined : this.#slots[best]?.id;
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
    const tick = this.stats.ticks++;
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
    const ann = this.announcement;
    if (ann !== undefined && ann(this.#announcement)) {
      const a = this.#announcement;
      for (let i = 0; i < N16; i++) mix[i] = (mix[i] ?? 0) + (a[i] ?? 0);
    }
    this.mixTap?.(mix);
    const w = this.#work;
    // Talkers first: one starting to talk continues from its codec's shared coder state before
    // this tick's shared frame moves it on.
    for (let s = 0; s < n; s++) {
      const p = this.#slots[s];
      if (p === undefined || selected[s] !== 1 || p.muted) continue;
      // Mix minus itself, encoded for this talker alone — from the shared stream's coder state
      // when it just started talking (its decoder follows that stream: no ADPCM glitch).
      if (!p.ownStream) {
        p.ownStream = true;
        const from = this.#shared.get(p.codec.name);
        if (from !== undefined) p.encoder.continueFrom?.(from.encoder);
      }
      const pcm = p.pcm;
      for (let i = 0; i < N16; i++) w[i] = sat((mix[i] ?? 0) - (pcm[i] ?? 0));
      const len = p.encoder.encode(w, p.out);
      this.#onFrame(p.id, p.out, len, false);
    }
    let sharedPcmDone = false;
    for (let s = 0; s < n; s++) {
      const p = this.#slots[s];
      if (p === undefined || (selected[s] === 1 && !p.muted)) continue;
      p.ownStream = false;
      const shared = this.#shared.get(p.codec.name) as SharedMix;
      if (shared.tick !== tick) {
        const sp = this.#sharedPcm;
        if (!sharedPcmDone) {
          for (let i = 0; i < N16; i++) sp[i] = sat(mix[i] ?? 0);
          sharedPcmDone = true;
        }
        shared.length = shared.encoder.encode(sp, shared.out);
        shared.tick = tick;
      }
      this.#onFrame(p.id, shared.out, shared.length, true);
    }
  }

  #pull(p: Participant): void {
    const r = p.jitter.pop(this.#in);
    if (r === 'frame') {
      p.decoder.decode(this.#in, p.jitter.lastLength, p.pcm);
    } else if (r === 'lost') {
      p.decoder.conceal(p.pcm);
      this.stats.concealed++;
    } else {
      p.pcm.fill(0);
    }
  }
}

function sat(v: number): number {
  return v > 32767 ? 32767 : v < -32768 ? -32768 : v;
}
