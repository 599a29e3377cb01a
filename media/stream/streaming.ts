import crypto from 'node:crypto';
import type { Logger } from 'pino';
import type { MediaSideName } from '../protocol.ts';
import { mkvFragment, mkvHeader } from './mkv.ts';
import type { StatusEvents, StreamingDetail, StreamingStatus } from './status-events.ts';
import { streamingEnvelope } from './status-events.ts';

/**
 * Call audio streaming (Chime Voice Connector's "stream to Kinesis"): each leg of a streamed call
 * becomes one live MKV stream of what that party says (one PCM track, audio/L16), fragment by
 * fragment as the media plane hands them up, written to the deployment's sink, with STARTED /
 * ENDED / FAILED status events per leg. A sink that falls behind or fails loses that leg's
 * stream (FAILED), never the call: nothing here is awaited by signaling or the relay. A recorded
 * meeting's mix is one more such stream (meeting-recorder.ts), its metadata naming the meeting.
 */

/** A recorded meeting's stream: which meeting (a meeting's recording is on no voice connector). */
export interface StreamMeetingMeta {
  /** The Chime SDK MeetingId (a personal room: `personal:<userId>`). */
  readonly meetingId: string;
  /** The 10-digit meeting ID dialed (Chime's ConferencePin). */
  readonly meetingPin: string;
  readonly externalMeetingId?: string | undefined;
  readonly organizerUserId?: string | undefined;
  readonly organizerEmail?: string | undefined;
}

/**
 * What one leg's stream says about itself (tags, events). A recorded meeting's mix is one such
 * stream with `meeting` set: its voiceConnectorId and callId are empty, direction and isCaller
 * mean nothing and are left out of its events.
 */
export interface StreamLegMeta {
  readonly voiceConnectorId: string;
  readonly transactionId: string;
  /** The SIP Call-ID of this leg. */
  readonly callId: string;
  readonly direction: 'Inbound' | 'Outbound';
  /** The leg of the party that placed the call. */
  readonly isCaller: boolean;
  readonly fromNumber?: string | undefined;
  readonly toNumber?: string | undefined;
  readonly inviteHeaders?: Readonly<Record<string, string>> | undefined;
  readonly region: string;
  /** The voice connector's DataRetentionInHours (0: the stream keeps nothing). */
  readonly retentionHours?: number | undefined;
  /** A recording session's (SIPREC) metadata and the media line this leg is. */
  readonly siprecMetadata?: string | undefined;
  readonly sdp?: { readonly mediaIndex: number; readonly mediaLabel: string } | undefined;
  /** The stream is a recorded meeting's mix. */
  readonly meeting?: StreamMeetingMeta | undefined;
}

/** The name a leg's stream goes by in a sink (a Kinesis Video stream's name prefix, a stream ARN's). */
export function streamOwnerName(leg: Pick<StreamLegMeta, 'voiceConnectorId' | 'meeting'>): string {
  return leg.meeting === undefined ? `ChimeVoiceConnector-${leg.voiceConnectorId}` : `CarillonMeeting-${leg.meeting.meetingPin.replace(/[^A-Za-z0-9_.-]/g, '_')}`;
}

/** One fragment for a sink: its MKV bytes (Cluster + Tags) and the PCM inside them. */
export interface StreamFragment {
  readonly timecodeMs: number;
  readonly mkv: Buffer;
  readonly pcm: Int16Array;
}

/** What a sink tells the leg's stream about itself. */
export interface SinkHooks {
  /** The first fragment is stored and numbered: the leg's stream has STARTED. */
  started(info: { readonly streamArn: string; readonly startFragmentNumber: string }): void;
  /** The sink gave up on this leg (it could not write, or fell too far behind). */
  failed(reason: string): void;
}

export interface SinkLeg {
  /** Queues a fragment; false when the sink is too far behind to take it. */
  write(fragment: StreamFragment): boolean;
  /** Finishes the leg's stream (everything queued first). */
  close(): Promise<void>;
  /** Gives the leg up at once: what is queued is dropped, connections closed. */
  abort(): void;
}

/**
 * A leg's fragments on their way into a sink, one at a time and in order: at most `max` waiting
 * (push says false past that), the first failure stops the rest and is reported once.
 */
export class FragmentQueue {
  readonly #max: number;
  readonly #run: (f: StreamFragment) => Promise<void>;
  readonly #onError: (err: unknown) => void;
  #chain: Promise<void>;
  #queued = 0;
  #stopped = false;

  constructor(max: number, run: (f: StreamFragment) => Promise<void>, onError: (err: unknown) => void, first: Promise<void> = Promise.resolve()) {
    this.#max = max;
    this.#run = run;
    this.#onError = onError;
    this.#chain = first.catch((err: unknown) => this.#fail(err));
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  push(f: StreamFragment): boolean {
    if (this.#stopped) return true;
    if (this.#queued >= this.#max) return false;
    this.#queued++;
    this.#chain = this.#chain.then(async () => {
      this.#queued--;
      if (this.#stopped) return;
      await this.#run(f).catch((err: unknown) => this.#fail(err));
    });
    return true;
  }

  /** Resolves once everything pushed so far is through. */
  drained(): Promise<void> {
    return this.#chain;
  }

  /** Drops what waits; nothing more is run. */
  stop(): void {
    this.#stopped = true;
  }

  #fail(err: unknown): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#onError(err);
  }
}

export interface StreamSink {
  readonly name: string;
  /** Opens one leg's stream, beginning with the MKV `header` (EBML, Segment, Info, Tracks). */
  open(leg: StreamLegMeta, header: Buffer, hooks: SinkHooks): SinkLeg;
}

export interface StreamingCounters {
  legsStarted: number;
  legsFailed: number;
  fragments: number;
  fragmentsDropped: number;
}

export interface StreamingOptions {
  readonly sink: StreamSink;
  readonly events: StatusEvents;
  readonly accountId: string;
  readonly logger: Logger;
  readonly nowMs: () => number;
}

interface LegStream {
  readonly meta: StreamLegMeta;
  /** Told when the leg's stream fails (the sink gave up or fell behind). */
  readonly onFailed: ((reason: string) => void) | undefined;
  sink: SinkLeg;
  started: { streamArn: string; startFragmentNumber: string; startTimeMs: number } | undefined;
  failed: boolean;
  /** Timecode of the first fragment (the leg's startTime). */
  firstTimecodeMs: number;
}

interface CallStream {
  readonly metaOf: (leg: string) => StreamLegMeta | undefined;
  readonly onFailed: ((leg: string, reason: string) => void) | undefined;
  readonly legs: Map<string, LegStream>;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** The name of what one side sends on one media line. */
export const legKey = (index: number, side: MediaSideName): string => `${index}:${side}`;

/** A leg's sink before the sink has opened it: takes nothing. */
const NOT_OPEN: SinkLeg = { write: () => false, close: () => Promise.resolve(), abort: () => undefined };

export class StreamingService {
  readonly counters: StreamingCounters = { legsStarted: 0, legsFailed: 0, fragments: 0, fragmentsDropped: 0 };
  readonly #opts: StreamingOptions;
  readonly #calls = new Map<string, CallStream>();
  readonly #ending = new Set<Promise<void>>();

  constructor(opts: StreamingOptions) {
    this.#opts = opts;
  }

  get sinkName(): string {
    return this.#opts.sink.name;
  }

  /**
   * A streamed call (or recording session) began on media session `session`; `metaOf` describes a
   * leg when its audio first comes. A leg is named `<media line>:<side>` (see legKey). `onFailed`
   * hears of a leg whose stream FAILED (after its event).
   */
  begin(session: string, metaOf: (leg: string) => StreamLegMeta | undefined, onFailed?: (leg: string, reason: string) => void): void {
    this.#calls.set(session, { metaOf, onFailed, legs: new Map() });
  }

  /** One leg's fragment of audio (from the media plane). */
  audio(session: string, legName: string, timecodeMs: number, pcm: Int16Array): void {
    const call = this.#calls.get(session);
    if (call === undefined) return;
    let leg = call.legs.get(legName);
    if (leg === undefined) {
      const meta = call.metaOf(legName);
      if (meta === undefined) return;
      const onFailed = call.onFailed;
      leg = this.#open(meta, timecodeMs, onFailed === undefined ? undefined : (reason) => onFailed(legName, reason));
      call.legs.set(legName, leg);
    }
    if (leg.failed) return;
    const tags = fragmentTags(leg.meta);
    if (leg.sink.write({ timecodeMs, mkv: mkvFragment(timecodeMs, pcm, tags), pcm })) {
      this.counters.fragments++;
      return;
    }
    this.counters.fragmentsDropped++;
    this.#fail(leg, `${this.#opts.sink.name} sink fell behind: fragments dropped`);
    leg.sink.abort();
  }

  /** A re-INVITE changed the session (new recording metadata): UPDATED for every leg streaming. */
  update(session: string, updateHeaders: Readonly<Record<string, string>>, siprecMetadata?: string): void {
    for (const leg of this.#calls.get(session)?.legs.values() ?? []) {
      if (leg.started !== undefined && !leg.failed) this.#emit('UPDATED', leg, { updateHeaders, siprecMetadata });
    }
  }

  /** The call ended and its media is closed (every fragment came): each leg's stream ENDS. */
  end(session: string): Promise<void> {
    const call = this.#calls.get(session);
    if (call === undefined) return Promise.resolve();
    this.#calls.delete(session);
    const p = this.#endLegs(call);
    this.#ending.add(p);
    void p.finally(() => this.#ending.delete(p));
    return p;
  }

  /** Resolves once every leg whose call ended has finished with its sink (shutdown, tests). */
  async drain(): Promise<void> {
    while (this.#ending.size > 0) await Promise.all([...this.#ending]);
  }

  async #endLegs(call: CallStream): Promise<void> {
    await Promise.all(
      [...call.legs.values()].map(async (leg) => {
        await leg.sink.close().catch((err: unknown) => this.#fail(leg, err instanceof Error ? err.message : String(err)));
        if (leg.started !== undefined && !leg.failed) this.#emit('ENDED', leg, { endTime: iso(this.#opts.nowMs()) });
      }),
    );
  }

  get active(): number {
    return this.#calls.size;
  }

  #open(meta: StreamLegMeta, firstTimecodeMs: number, onFailed: ((reason: string) => void) | undefined): LegStream {
    const which = meta.meeting !== undefined ? `meeting ${meta.meeting.meetingPin} mix` : meta.isCaller ? 'caller' : 'callee';
    const header = mkvHeader({ segmentUid: crypto.randomBytes(16), title: `${meta.transactionId} ${which}`, trackName: 'AUDIO', app: 'Carillon' });
    const leg: LegStream = { meta, onFailed, sink: NOT_OPEN, started: undefined, failed: false, firstTimecodeMs };
    leg.sink = this.#opts.sink.open(meta, header, {
      started: (info) => {
        if (leg.started !== undefined || leg.failed) return;
        leg.started = { ...info, startTimeMs: leg.firstTimecodeMs };
        this.counters.legsStarted++;
        this.#emit('STARTED', leg, {});
      },
      failed: (reason) => this.#fail(leg, reason),
    });
    return leg;
  }

  #fail(leg: LegStream, reason: string): void {
    if (leg.failed) return;
    leg.failed = true;
    this.counters.legsFailed++;
    const m = leg.meta;
    if (m.meeting === undefined) this.#opts.logger.warn({ transactionId: m.transactionId, callId: m.callId, reason }, 'call audio stream failed');
    else this.#opts.logger.warn({ transactionId: m.transactionId, meetingId: m.meeting.meetingId, reason }, 'meeting recording stream failed');
    this.#emit('FAILED', leg, { failTime: iso(this.#opts.nowMs()), failureReason: reason });
    leg.onFailed?.(reason);
  }

  #emit(status: StreamingStatus, leg: LegStream, extra: Partial<StreamingDetail>): void {
    const m = leg.meta;
    const s = leg.started;
    const described = status === 'STARTED' || status === 'ENDED';
    const mtg = m.meeting;
    const detail: StreamingDetail = {
      streamingStatus: status,
      transactionId: m.transactionId,
      ...(mtg === undefined
        ? { voiceConnectorId: m.voiceConnectorId, callId: m.callId, direction: status === 'UPDATED' ? undefined : m.direction }
        : { meetingId: mtg.meetingId, meetingPin: mtg.meetingPin, externalMeetingId: mtg.externalMeetingId, organizerUserId: mtg.organizerUserId, organizerEmail: mtg.organizerEmail }),
      ...(described
        ? {
            mediaType: 'audio/L16',
            startFragmentNumber: s?.startFragmentNumber,
            startTime: s === undefined ? undefined : iso(s.startTimeMs),
            streamArn: s?.streamArn,
            fromNumber: m.fromNumber,
            toNumber: m.toNumber,
            isCaller: mtg === undefined ? m.isCaller : undefined,
            inviteHeaders: m.inviteHeaders,
            siprecMetadata: m.siprecMetadata,
            sdp: m.sdp,
          }
        : {}),
      ...extra,
    };
    this.#opts.events.emit(streamingEnvelope(detail, this.#opts.accountId, m.region, this.#opts.nowMs()));
  }
}

/** The Tags a leg's every fragment carries (a call leg's as Chime's; a recorded meeting's name the meeting). */
function fragmentTags(m: StreamLegMeta): [string, string][] {
  const mtg = m.meeting;
  if (mtg !== undefined) {
    const tags: [string, string][] = [
      ['TransactionId', m.transactionId],
      ['MeetingId', mtg.meetingId],
      ['MeetingPin', mtg.meetingPin],
    ];
    if (mtg.externalMeetingId !== undefined) tags.push(['ExternalMeetingId', mtg.externalMeetingId]);
    if (mtg.organizerUserId !== undefined) tags.push(['OrganizerUserId', mtg.organizerUserId]);
    return tags;
  }
  const tags: [string, string][] = [
    ['TransactionId', m.transactionId],
    ['VoiceConnectorId', m.voiceConnectorId],
    ['CallId', m.callId],
    ['IsCaller', String(m.isCaller)],
    ['Direction', m.direction],
  ];
  if (m.fromNumber !== undefined) tags.push(['FromNumber', m.fromNumber]);
  if (m.toNumber !== undefined) tags.push(['ToNumber', m.toNumber]);
  return tags;
}
