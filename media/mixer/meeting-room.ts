/**
 * A meeting's media inside its worker: one per session with participants. It holds the session's
 * Bridge and a Ticker (20 ms, drift-free) that runs only while someone is in the mix, a prompt
 * plays to someone, an announcement plays, or the meeting is recorded (mix-recorder.ts: the
 * shared mix, silence included, up as `audio` events of endpoint MIX_ENDPOINT): an idle meeting
 * (everyone in the IVR between prompts, or nobody) costs no timer at all. Each tick: every participant a prompt plays to
 * moves one frame on; the bridge ticks (jitter buffers, talkers, mixes, encoding); then every
 * participant gets exactly one frame — its prompt's if one plays to it, else its bridge frame if
 * it is in the meeting, else nothing.
 */
import type { Clock, Timers } from '../../common/clock.ts';
import { BRIDGE_TICK_LAG_BUCKETS_MS, MIX_ENDPOINT } from '../protocol.ts';
import type { EndpointId, MediaEvent } from '../protocol.ts';
import type { Endpoint } from '../relay/endpoint.ts';
import { Bridge } from './bridge.ts';
import type { BridgeCodec } from './frame-codec.ts';
import { MixRecorder } from './mix-recorder.ts';
import { ParticipantFunction } from './participant.ts';
import type { ParticipantHost } from './participant.ts';
import { AnnouncementPlayer } from './prompt-player.ts';
import type { PromptSegment } from './prompt-player.ts';
import { Ticker } from './tick.ts';

/** A meeting's most participants when its first one does not say (Chime Pro's limit). */
export const DEFAULT_MEETING_CAPACITY = 250;
/** The largest capacity a participant spec may ask for. */
export const MAX_MEETING_CAPACITY = 1000;
/** Ticks one late timer callback may run to catch up (fewer than the participants' packet buffers). */
const MAX_CATCH_UP = 5;

/** Whole-worker bridge figures every room adds to (read at status time). */
export interface BridgeTotals {
  /** Ticks by lag: one count per bound of BRIDGE_TICK_LAG_BUCKETS_MS (≤ bound), then the rest. */
  readonly tickLag: Float64Array;
  tickLagSumMs: number;
  /** Monotonic time spent inside room ticks, µs. */
  tickUs: number;
}

export function createBridgeTotals(): BridgeTotals {
  return { tickLag: new Float64Array(BRIDGE_TICK_LAG_BUCKETS_MS.length + 1), tickLagSumMs: 0, tickUs: 0 };
}

export interface MeetingRoomDeps {
  readonly clock: Clock;
  readonly timers: Timers;
  /** Uniform [0, 1): initial RTP sequence numbers and timestamps. */
  readonly random: () => number;
}

export class MeetingRoom implements ParticipantHost {
  readonly session: string;
  readonly capacity: number;
  readonly bridge: Bridge;
  readonly clock: Clock;
  readonly #deps: MeetingRoomDeps;
  readonly #ticker: Ticker;
  readonly #totals: BridgeTotals;
  readonly #emit: (e: MediaEvent) => void;
  readonly #byId = new Map<EndpointId, ParticipantFunction>();
  /** Participants in the order they were attached (iterated every tick). */
  readonly #list: ParticipantFunction[] = [];
  readonly #announcement: AnnouncementPlayer;
  /** The meeting's recording tap while recording is on. */
  #recorder: MixRecorder | undefined;
  #running = false;
  #inTick = false;
  #closed = false;
  /** Ticks run so far (across restarts of the ticker): participants tell gaps by it. */
  #tick = 0;
  #idealMs = 0;

  constructor(session: string, capacity: number | undefined, deps: MeetingRoomDeps, totals: BridgeTotals, emit: (e: MediaEvent) => void) {
    this.session = session;
    this.capacity = meetingCapacity(capacity);
    this.clock = deps.clock;
    this.#deps = deps;
    this.#totals = totals;
    this.#emit = emit;
    this.bridge = new Bridge({
      capacity: this.capacity,
      onFrame: (id, payload, length) => this.#onBridgeFrame(id, payload, length),
      onSpeaker: (id, talking) => this.#emit({ ev: 'speaker', session, endpoint: id, talking }),
    });
    this.#announcement = new AnnouncementPlayer((token) => this.#emit({ ev: 'played', session, endpoint: undefined, token }));
    this.bridge.announcement = this.#announcement.source;
    this.bridge.mixTap = (mix) => this.#recorder?.push(mix, this.clock.nowMs());
    this.#ticker = new Ticker({ clock: deps.clock, timers: deps.timers, maxCatchUp: MAX_CATCH_UP, onTick: (idealMs, lagMs) => this.#onTick(idealMs, lagMs) });
  }

  /** Participants attached (in the meeting or not). */
  get size(): number {
    return this.#list.length;
  }

  /** Participants in the bridge's mix. */
  get mixing(): number {
    return this.bridge.size;
  }

  /** The ticker runs (someone is mixed or played to). */
  get ticking(): boolean {
    return this.#running;
  }

  /** Recording is on: the mix goes up as `audio` events of endpoint MIX_ENDPOINT. */
  get recording(): boolean {
    return this.#recorder !== undefined;
  }

  /**
   * Starts recording the mix in fragments of `fragmentMs` (validMixFragmentMs), or stops it (0):
   * what is left of the last fragment goes up at once. Starting again while recording keeps the
   * recording as it is when the length is the same, else ends it and begins a new one.
   */
  record(fragmentMs: number): void {
    const r = this.#recorder;
    if (r !== undefined && r.fragmentMs === fragmentMs) return;
    this.#recorder = undefined;
    r?.close();
    if (fragmentMs > 0 && !this.#closed) {
      const session = this.session;
      this.#recorder = new MixRecorder(fragmentMs, (timecodeMs, pcm) => this.#emit({ ev: 'audio', session, endpoint: MIX_ENDPOINT, timecodeMs, pcm }));
    }
    this.#refresh();
  }

  participant(id: EndpointId): ParticipantFunction | undefined {
    return this.#byId.get(id);
  }

  /** A new participant on `ep` (outside the mix, hearing nothing yet), or 'meeting-full'. */
  add(ep: Endpoint, codec: BridgeCodec, payloadType: number): ParticipantFunction | 'meeting-full' {
    const existing = this.#byId.get(ep.id);
    if (existing !== undefined) return existing;
    if (this.#list.length >= this.capacity) return 'meeting-full';
    const p = new ParticipantFunction(this, ep, codec, payloadType, this.#deps.random);
    this.#byId.set(p.id, p);
    this.#list.push(p);
    return p;
  }

  /** Takes in a participant whose endpoint moved here from another session (its old room let it go), or 'meeting-full'. */
  adopt(p: ParticipantFunction): 'ok' | 'meeting-full' {
    if (this.#byId.get(p.id) === p) return 'ok';
    if (this.#byId.has(p.id) || this.#list.length >= this.capacity) return 'meeting-full';
    p.rehome(this);
    this.#byId.set(p.id, p);
    this.#list.push(p);
    return 'ok';
  }

  /** Into or out of the mix, muted or not. */
  set(p: ParticipantFunction, inMeeting: boolean | undefined, muted: boolean | undefined): 'ok' | 'meeting-full' {
    if (muted !== undefined) p.muted = muted;
    if (inMeeting === true && !p.inMeeting) {
      const r = this.bridge.join(p.id, p.codec.name);
      if (r === 'full') return 'meeting-full';
      p.inMeeting = true;
    } else if (inMeeting === false && p.inMeeting) {
      this.#leave(p);
    }
    if (p.inMeeting) this.bridge.mute(p.id, p.muted);
    this.#refresh();
    return 'ok';
  }

  /** Plays to one participant (replacing what played to it), or to everyone in the mix (`p` undefined). */
  play(p: ParticipantFunction | undefined, segments: readonly PromptSegment[], loop: boolean, token: number): void {
    if (p === undefined) this.#announcement.start(segments, loop, token);
    else p.player.start(segments, loop, token);
    this.#refresh();
  }

  stopPlay(p: ParticipantFunction): void {
    p.player.stop();
    this.#refresh();
  }

  /** ParticipantHost: its endpoint closed. */
  removed(p: ParticipantFunction): void {
    if (this.#byId.get(p.id) !== p) return;
    if (p.inMeeting) this.#leave(p);
    p.player.stop();
    this.#byId.delete(p.id);
    const i = this.#list.indexOf(p);
    if (i >= 0) this.#list.splice(i, 1);
    this.#refresh();
  }

  /** The session ends: no tick, no announcement (participants close with their endpoints). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const r = this.#recorder;
    this.#recorder = undefined;
    r?.close();
    this.#announcement.cursor.stop();
    for (const p of [...this.#list]) p.close();
    this.#ticker.stop();
    this.#running = false;
  }

  #leave(p: ParticipantFunction): void {
    p.keepJitterFigures();
    this.bridge.leave(p.id);
    p.inMeeting = false;
  }

  #wanted(): boolean {
    if (this.#closed) return false;
    if (this.bridge.size > 0 || this.#announcement.cursor.active || this.#recorder !== undefined) return true;
    for (let i = 0; i < this.#list.length; i++) if ((this.#list[i] as ParticipantFunction).player.active) return true;
    return false;
  }

  /** Starts or stops the ticker as the room needs it (at the end of a tick when inside one). */
  #refresh(): void {
    if (this.#inTick) return;
    const want = this.#wanted();
    if (want && !this.#running) {
      this.#running = true;
      this.#ticker.start();
    } else if (!want && this.#running) {
      this.#running = false;
      this.#ticker.stop();
    }
  }

  #onTick(idealMs: number, lagMs: number): void {
    const clock = this.#deps.clock;
    const t0 = clock.monoMs();
    this.#inTick = true;
    const tick = ++this.#tick;
    this.#idealMs = idealMs;
    const list = this.#list;
    // Prompts first: a play that has just ended gives its participant back to the bridge this tick.
    for (let i = 0; i < list.length; i++) {
      const p = list[i] as ParticipantFunction;
      const c = p.player;
      if (!c.active) continue;
      if (c.next()) {
        const payload = p.prompts.payload(c);
        p.send(payload, p.prompts.length, tick, idealMs);
      } else {
        this.#emit({ ev: 'played', session: this.session, endpoint: p.id, token: c.token });
      }
    }
    this.bridge.tick();
    this.#inTick = false;
    const totals = this.#totals;
    const bucket = lagBucket(lagMs);
    totals.tickLag[bucket] = (totals.tickLag[bucket] ?? 0) + 1;
    totals.tickLagSumMs += lagMs;
    if (!this.#wanted()) {
      this.#running = false;
      this.#ticker.stop();
    }
    totals.tickUs += (clock.monoMs() - t0) * 1000;
  }

  /** The bridge's frame for one mixed participant: sent unless a prompt plays to it. */
  #onBridgeFrame(id: string, payload: Uint8Array, length: number): void {
    const p = this.#byId.get(id);
    if (p === undefined || p.player.active) return;
    p.send(payload, length, this.#tick, this.#idealMs);
  }
}

/** The bucket of BRIDGE_TICK_LAG_BUCKETS_MS a lag falls in (the last index: over every bound). */
export function lagBucket(lagMs: number): number {
  const b = BRIDGE_TICK_LAG_BUCKETS_MS;
  for (let i = 0; i < b.length; i++) if (lagMs <= (b[i] as number)) return i;
  return b.length;
}

/** A participant spec's capacity as the bridge takes it: an integer 1–MAX_MEETING_CAPACITY, default 250. */
export function meetingCapacity(capacity: number | undefined): number {
  if (capacity === undefined || !Number.isFinite(capacity)) return DEFAULT_MEETING_CAPACITY;
  return Math.min(MAX_MEETING_CAPACITY, Math.max(1, Math.floor(capacity)));
}
