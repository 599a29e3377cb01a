/**
 * The worker's meeting audio commands (media-core delegates here): a participant attached to its
 * session's MeetingRoom (made with the first one), its place in the mix, prompts played to it or
 * to everyone, the meeting's recording, and the prompts themselves, loaded once per worker.
 */
import type { Clock, Timers } from '../../common/clock.ts';
import { loadAllPromptSets } from '../prompts/prompts.ts';
import type { PromptLanguage, PromptSet } from '../prompts/prompts.ts';
import type { EndpointId, MediaEvent, MediaFunctionSpec, MediaReply, ParticipantCommand, PlayCommand } from '../protocol.ts';
import type { Endpoint } from '../relay/endpoint.ts';
import { bridgeCodec } from './frame-codec.ts';
import { createBridgeTotals, MeetingRoom } from './meeting-room.ts';
import type { BridgeTotals } from './meeting-room.ts';
import { validMixFragmentMs } from './mix-recorder.ts';
import { ParticipantFunction } from './participant.ts';
import { resolvePromptItems } from './prompt-player.ts';

/** What of a media-core session the meeting commands use. */
export interface MeetingSessionView {
  readonly id: string;
  readonly endpoints: ReadonlyMap<EndpointId, Endpoint>;
  room: MeetingRoom | undefined;
}

export interface MeetingCommandDeps {
  readonly clock: Clock;
  readonly timers: Timers;
  readonly random: () => number;
  readonly emit: (e: MediaEvent) => void;
  /** The prompts' loader (default: every language from media/prompts), run once, on the first play. */
  readonly loadPrompts?: (() => ReadonlyMap<PromptLanguage, PromptSet>) | undefined;
}

export class MeetingCommands {
  /** Every meeting room's tick figures. */
  readonly totals: BridgeTotals = createBridgeTotals();
  readonly #deps: MeetingCommandDeps;
  /** The prompts, loaded on the first play ('failed': a file was missing or malformed). */
  #prompts: ReadonlyMap<PromptLanguage, PromptSet> | 'failed' | undefined;

  constructor(deps: MeetingCommandDeps) {
    this.#deps = deps;
  }

  /** The session's room, made (with `capacity`) when it has none. */
  roomOf(session: MeetingSessionView, capacity: number | undefined): MeetingRoom {
    const d = this.#deps;
    return (session.room ??= new MeetingRoom(session.id, capacity, { clock: d.clock, timers: d.timers, random: d.random }, this.totals, d.emit));
  }

  /** `attach {fn: 'participant'}` on `ep`. */
  attach(session: MeetingSessionView, ep: Endpoint, f: Extract<MediaFunctionSpec, { fn: 'participant' }>): MediaReply {
    const codec = typeof f.codec === 'string' ? bridgeCodec(f.codec) : undefined;
    const pt = f.payloadType;
    // The payload type goes into every packet's header: a 7-bit RTP one, not an RTCP-looking one (RFC 5761 §4).
    if (codec === undefined || ep.kind !== 'audio' || !Number.isInteger(pt) || pt < 0 || pt > 127 || (pt >= 64 && pt <= 95)) return { ok: false, error: 'unsupported-codec' };
    const existing = ep.functions.find((fn): fn is ParticipantFunction => fn instanceof ParticipantFunction);
    if (existing !== undefined) return existing.codec === codec && existing.payloadType === pt ? { ok: true } : { ok: false, error: 'unsupported-codec' };
    const p = this.roomOf(session, f.capacity).add(ep, codec, pt);
    if (p === 'meeting-full') return { ok: false, error: 'meeting-full' };
    ep.functions.push(p);
    return { ok: true };
  }

  /** The participant on an endpoint of a session, or why there is none. */
  participantOf(session: MeetingSessionView | undefined, endpoint: EndpointId): ParticipantFunction | 'no-such-session' | 'no-such-endpoint' | 'not-a-participant' {
    if (session === undefined) return 'no-such-session';
    if (!session.endpoints.has(endpoint)) return 'no-such-endpoint';
    return session.room?.participant(endpoint) ?? 'not-a-participant';
  }

  participant(session: MeetingSessionView | undefined, cmd: ParticipantCommand): MediaReply {
    const p = this.participantOf(session, cmd.endpoint);
    if (typeof p === 'string') return { ok: false, error: p };
    const inMeeting = typeof cmd.inMeeting === 'boolean' ? cmd.inMeeting : undefined;
    const muted = typeof cmd.muted === 'boolean' ? cmd.muted : undefined;
    const r = session?.room?.set(p, inMeeting, muted) ?? 'ok';
    return r === 'ok' ? { ok: true } : { ok: false, error: r };
  }

  play(session: MeetingSessionView | undefined, cmd: PlayCommand): MediaReply {
    let target: ParticipantFunction | undefined;
    if (cmd.endpoint !== undefined) {
      const p = this.participantOf(session, cmd.endpoint);
      if (typeof p === 'string') return { ok: false, error: p };
      target = p;
    } else if (session === undefined) return { ok: false, error: 'no-such-session' };
    const room = session?.room;
    if (room === undefined) return { ok: false, error: 'not-a-participant' };
    const sets = this.#promptSets();
    const segments = sets === undefined ? undefined : resolvePromptItems(sets, cmd.items);
    if (segments === undefined || !Number.isFinite(cmd.token)) return { ok: false, error: 'bad-prompt' };
    room.play(target, segments, cmd.loop === true, cmd.token);
    return { ok: true };
  }

  stopPlay(session: MeetingSessionView | undefined, endpoint: EndpointId): MediaReply {
    const found = this.participantOf(session, endpoint);
    if (typeof found === 'string') return { ok: false, error: found };
    session?.room?.stopPlay(found);
    return { ok: true };
  }

  record(session: MeetingSessionView | undefined, fragmentMs: number): MediaReply {
    if (session === undefined) return { ok: false, error: 'no-such-session' };
    if (typeof fragmentMs !== 'number' || (fragmentMs !== 0 && !validMixFragmentMs(fragmentMs))) return { ok: false, error: 'bad-fragment' };
    if (session.room === undefined) return fragmentMs === 0 ? { ok: true } : { ok: false, error: 'not-a-participant' };
    session.room.record(fragmentMs);
    return { ok: true };
  }

  /**
   * Loads the prompts now (the worker does at start, before it takes commands): the first play
   * of a meeting must not stall every call on the worker while ~3 MB of prompts are read.
   */
  warmPrompts(): boolean {
    return this.#promptSets() !== undefined;
  }

  /** The prompts, loaded once per worker on first use. */
  #promptSets(): ReadonlyMap<PromptLanguage, PromptSet> | undefined {
    if (this.#prompts === undefined) {
      try {
        this.#prompts = (this.#deps.loadPrompts ?? loadAllPromptSets)();
      } catch {
        this.#prompts = 'failed';
      }
    }
    return this.#prompts === 'failed' ? undefined : this.#prompts;
  }
}
