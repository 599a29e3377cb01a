import { randomBytes } from 'node:crypto';
import type { TrunkCall } from '../routing/route.ts';
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import type { Logger } from 'pino';
import type { Clock, TimerHandle, Timers } from '../../common/clock.ts';
import { audioStream, legFigures, qualityRecord, SrtpUnavailableError } from '../../media/engine.ts';
import type { MediaControl, MediaQualityRecord, QualityContext, QualityLog } from '../../media/engine.ts';
import type { EndpointId, EndpointOptions, MediaEvent, MediaSideName, PortRangeName, RemoteMedia, SessionSnapshot } from '../../media/protocol.ts';
import { anchorDescription, commonCodecs, readSdp } from '../sdp/anchor.ts';
import type { SdesKey, SdesRewrite } from '../sdp/anchor.ts';
import type { MediaDescription, SessionDescription } from '../sdp/anchor.ts';

/** Offer or answer (RFC 3264) — answers keep only codecs the offer had. */
export type SdpRole = 'offer' | 'answer';

export type Translation = { readonly ok: true; readonly body: Buffer } | { readonly ok: false; readonly status: number; readonly reason: string };

export interface MediaAnchoringOptions {
  readonly control: MediaControl;
  /** Address written into c= lines (Carillon's advertised media address). */
  readonly address: string;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly logger: Logger;
  readonly qualityLog: QualityLog;
  /** Quality record interval (Chime: 60 s). */
  readonly qualityIntervalMs: number;
  readonly region: string;
  /** Whether a call's audio is streamed, as fragments of how many ms (undefined: not streamed). */
  readonly streamFragmentMs?: (ctx: QualityContext) => number | undefined;
  /**
   * An event of a media session no call here owns: a recording session's media timeout (the
   * recorder ends it), a meeting's DTMF, speakers, finished prompts and timeouts (the meetings),
   * and `audio` of an endpoint that is no media line (a recorded meeting's mix).
   */
  readonly onOtherEvent?: (e: MediaEvent) => void;
  /** A streamed call's audio, one side's fragment at a time (epoch-ms timecode, 8 kHz PCM). */
  readonly onAudio?: (session: string, index: number, side: MediaSideName, timecodeMs: number, pcm: Int16Array) => void;
  /** Most media lines one description may carry; more → 488 (default DEFAULT_MAX_MEDIA_LINES). */
  readonly maxMediaLines?: number;
  /** Most RTP/RTCP port pairs the calls of one source address may hold together; more → 503 (default: unlimited). */
  readonly maxPortPairsPerSource?: number;
}

/** Media lines per description when not configured: audio, video, content, BFCP and room to spare. */
export const DEFAULT_MAX_MEDIA_LINES = 16;

/** Each anchored media line holds one port pair per side. */
const PAIRS_PER_LINE = 2;

/** The media endpoint of line `index` facing `side` (a two-party call connects `a` with `b`; a recorder has `a` only). */
export function lineEndpoint(index: number, side: MediaSideName): EndpointId {
  return `${index}${side}`;
}

/** The line and side of an endpoint named by lineEndpoint. */
export function lineOf(endpoint: EndpointId): { readonly index: number; readonly side: MediaSideName } | undefined {
  const side = endpoint.slice(-1);
  const index = Number(endpoint.slice(0, -1));
  return (side === 'a' || side === 'b') && Number.isInteger(index) && endpoint.length > 1 ? { index, side } : undefined;
}

/** Carillon's ports of one anchored line: `a` is what the caller sends to, `b` the callee. */
interface LinePorts {
  readonly aPort: number;
  readonly bPort: number;
}

/** The SDES suites Carillon terminates, in preference order. */
export const SDES_SUITES = ['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32'] as const;

export type SdesSuite = (typeof SDES_SUITES)[number];

/** A secure side of one media line: the key it sends with (its a=crypto) and the one Carillon sends it with. */
interface SecureLeg {
  readonly suite: SdesSuite;
  readonly tag: number;
  readonly theirKey: string;
  readonly ourKey: string;
}

/** One media line's SRTP: each side's keys once known, and Carillon's keys offered to a side that must be secure. */
interface SecureLine {
  a?: SecureLeg | undefined;
  b?: SecureLeg | undefined;
  offered?: { a?: readonly SdesKey[] | undefined; b?: readonly SdesKey[] | undefined };
}

export interface CallMediaHandlers {
  onTimeout(idleMs: number): void;
  onDtmf(side: MediaSideName, digit: string, durationMs: number): void;
}

/**
 * Media anchoring for signaling: one CallMedia per call, and the engine's events routed to it.
 */
export class MediaAnchoring {
  readonly opts: MediaAnchoringOptions;
  readonly #calls = new Map<string, CallMedia>();
  /** Port pairs held per source address (the address the call came from). */
  readonly #pairsBySource = new Map<string, number>();
  /** Descriptions refused for too many media lines, and lines refused for a source's port share. */
  readonly counters = { tooManyMediaLines: 0, sourcePortLimit: 0 };

  constructor(opts: MediaAnchoringOptions) {
    this.opts = opts;
    opts.control.onEvent = (e) => this.#onEvent(e);
  }

  /**
   * `source`: the address the call came from, whose share of the port range it draws on;
   * `ranges`: the port range each side's peer sends to (an H.323 side: 'h323'; default 'main').
   */
  open(session: string, ctx: QualityContext, handlers: CallMediaHandlers, source = '', ranges: Partial<Record<MediaSideName, PortRangeName>> = {}): CallMedia {
    const m = new CallMedia(this, session, ctx, handlers, source, ranges);
    this.#calls.set(session, m);
    return m;
  }

  /** Takes `n` port pairs from `source`'s share; false (nothing taken) when that passes its limit. */
  takePairs(source: string, n: number): boolean {
    const held = this.#pairsBySource.get(source) ?? 0;
    const limit = this.opts.maxPortPairsPerSource;
    if (limit !== undefined && held + n > limit) {
      this.counters.sourcePortLimit++;
      return false;
    }
    this.#pairsBySource.set(source, held + n);
    return true;
  }

  /** Gives back pairs taken with takePairs. */
  releasePairs(source: string, n: number): void {
    const left = (this.#pairsBySource.get(source) ?? 0) - n;
    if (left <= 0) this.#pairsBySource.delete(source);
    else this.#pairsBySource.set(source, left);
  }

  /** Port pairs the calls of `source` hold now. */
  pairsHeldBy(source: string): number {
    return this.#pairsBySource.get(source) ?? 0;
  }

  forget(session: string): void {
    this.#calls.delete(session);
  }

  get active(): number {
    return this.#calls.size;
  }

  #onEvent(e: MediaEvent): void {
    // Streamed audio goes on even after the call let go of its media (the last fragments); audio
    // of no line is a recorded meeting's mix (MIX_ENDPOINT), the meetings' like their other events.
    if (e.ev === 'audio') {
      const line = lineOf(e.endpoint);
      return line === undefined ? this.opts.onOtherEvent?.(e) : this.opts.onAudio?.(e.session, line.index, line.side, e.timecodeMs, e.pcm);
    }
    const m = this.#calls.get(e.session);
    if (m === undefined) return this.opts.onOtherEvent?.(e);
    if (e.ev === 'timeout') m.handlers.onTimeout(e.idleMs);
    else if (e.ev === 'dtmf') {
      const line = lineOf(e.endpoint);
      if (line !== undefined) m.handlers.onDtmf(line.side, e.digit, e.durationMs);
    }
  }
}

/** A fresh SDES master key and salt (30 bytes), base64 as a=crypto inline carries it. */
export function newSdesKey(): string {
  return randomBytes(30).toString('base64');
}

const DEFAULT_CLOCK_RATE: Readonly<Record<string, number>> = { audio: 8000, video: 90000 };

/**
 * One call's anchored media: every session description crossing the B2BUA goes through
 * translate() in order (a per-call queue), which opens ports for new m-lines, tells the engine
 * where each endpoint receives, and rewrites the description to point at Carillon.
 */
export class CallMedia {
  readonly session: string;
  readonly handlers: CallMediaHandlers;
  readonly #anchoring: MediaAnchoring;
  readonly #ctx: QualityContext;
  readonly #ports = new Map<number, LinePorts>();
  #chain: Promise<unknown> = Promise.resolve();
  #lastOffer: SessionDescription | undefined;
  /** Per media index, the sides whose SRTP Carillon terminates (a secure side gets Carillon's key, the other plain RTP). */
  readonly #secure = new Map<number, SecureLine>();
  /** Sides whose media must be SRTP whatever they offer (a RequireEncryption trunk's side). */
  readonly #mustSecure = { a: false, b: false };
  #qualityTimer: TimerHandle | undefined;
  #prev: SessionSnapshot | undefined;
  #closed = false;
  /** The engine knows the call is answered (media timeout running). */
  #armed = false;
  /** Fragment length (ms) when this call's audio is streamed; the first audio line is, once opened. */
  readonly #streamMs: number | undefined;
  #streamedLine: number | undefined;

  /** The source address whose port share this call draws on, and how many pairs it took. */
  readonly #source: string;
  readonly #ranges: Partial<Record<MediaSideName, PortRangeName>>;
  #pairsTaken = 0;

  constructor(anchoring: MediaAnchoring, session: string, ctx: QualityContext, handlers: CallMediaHandlers, source: string, ranges: Partial<Record<MediaSideName, PortRangeName>>) {
    this.#ranges = ranges;
    this.#anchoring = anchoring;
    this.session = session;
    this.#source = source;
    this.#ctx = ctx;
    this.handlers = handlers;
    this.#streamMs = anchoring.opts.streamFragmentMs?.(ctx);
  }

  /**
   * Rewrites a body crossing from side `from` to the other side (queued behind earlier ones).
   * `arm`: this message answers the call (a 2xx), so the media timeout starts with it.
   */
  /**
   * Side `side`'s media must be SDES-SRTP (its voice connector requires encryption): it is offered
   * SRTP whatever the other side sends, and a description from it without SRTP is refused (488).
   */
  requireSecure(side: MediaSideName, on: boolean): void {
    this.#mustSecure[side] = on;
  }

  /**
   * Applies a voice connector's RequireEncryption to the side its PBX is on (the caller's for
   * termination, the callee's for origination); true when that changed what is required.
   */
  secureTrunk(trunk: TrunkCall | undefined): boolean {
    const cust: MediaSideName = trunk?.direction === 'Inbound' ? 'b' : 'a';
    const other: MediaSideName = cust === 'a' ? 'b' : 'a';
    const want = trunk?.encrypted === true;
    const changed = this.#mustSecure[cust] !== want || this.#mustSecure[other];
    this.requireSecure(cust, want);
    this.requireSecure(other, false);
    return changed;
  }

  translate(from: MediaSideName, body: Buffer, contentType: string | undefined, role: SdpRole, arm = false): Promise<Translation> {
    const run = async (): Promise<Translation> => {
      const out = await this.#translate(from, body, contentType, role, arm);
      if (arm && !this.#armed) await this.#anchoring.opts.control.arm(this.session);
      this.#armed ||= arm;
      return out;
    };
    const p = this.#chain.then(run, run);
    this.#chain = p.catch(() => undefined);
    return p;
  }

  async #translate(from: MediaSideName, body: Buffer, contentType: string | undefined, role: SdpRole, arm: boolean): Promise<Translation> {
    if (body.length === 0 || this.#closed) return { ok: true, body };
    if (!(contentType ?? '').toLowerCase().startsWith('application/sdp')) return { ok: true, body };
    const text = body.toString('utf8');
    const desc = readSdp(text);
    if (desc === undefined) return { ok: false, status: 488, reason: 'Unreadable Session Description' };
    const { control, address } = this.#anchoring.opts;
    // One description may not take the port range: each line holds a pair per side.
    if (desc.media.length > (this.#anchoring.opts.maxMediaLines ?? DEFAULT_MAX_MEDIA_LINES)) {
      this.#anchoring.counters.tooManyMediaLines++;
      return { ok: false, status: 488, reason: 'Too Many Media Lines' };
    }
    const ports: number[] = [];
    const keep: (number[] | undefined)[] = [];
    const sdes: (SdesRewrite | undefined)[] = [];
    const to: MediaSideName = from === 'a' ? 'b' : 'a';
    for (const m of desc.media) {
      if (m.port === 0) {
        ports.push(0);
        keep.push(undefined);
        sdes.push(undefined);
        continue;
      }
      const secure = this.#secureSide(m, from);
      if (secure === 'refused') return { ok: false, status: 488, reason: 'SRTP Required' };
      sdes.push(secure === undefined && !this.#mustSecure[to] ? undefined : this.#rewriteFor(m.index, to, role));
      const mine = secure === undefined ? undefined : secure[from];
      const holdAddress = m.address === undefined || m.address === '0.0.0.0' || m.address === '::';
      const remote = {
        address: holdAddress ? undefined : m.address,
        port: m.port,
        rtcpPort: m.rtcpPort,
        rtcpMux: m.rtcpMux,
        direction: m.direction,
        dtmfPayloadTypes: m.payloads.filter((p) => m.codecs.get(p)?.name === 'TELEPHONE-EVENT'),
        ...(mine === undefined ? {} : { srtp: { suite: mine.suite, receiveKey: mine.theirKey, sendKey: mine.ourKey } }),
      };
      let allocated = this.#ports.get(m.index);
      if (allocated === undefined) {
        // Ports and this side's address in one step.
        const secureStream = mine !== undefined || this.#mustSecure.a || this.#mustSecure.b;
        const streamed = this.#streamMs !== undefined && m.type === 'audio' && (this.#streamedLine ?? m.index) === m.index;
        if (streamed) this.#streamedLine = m.index;
        if (!this.#anchoring.takePairs(this.#source, PAIRS_PER_LINE)) return { ok: false, status: 503, reason: 'Media Ports Exhausted For Source' };
        const r = await this.#openLine(m, from, remote, secureStream, streamed ? this.#streamMs : undefined);
        if (r === 'ports-exhausted') {
          this.#anchoring.releasePairs(this.#source, PAIRS_PER_LINE);
          return { ok: false, status: 503, reason: 'Media Ports Exhausted' };
        }
        this.#pairsTaken += PAIRS_PER_LINE;
        allocated = r;
        this.#ports.set(m.index, r);
      } else {
        const armNow = arm && !this.#armed;
        try {
          await control.updateEndpoint(this.session, lineEndpoint(m.index, from), remote, armNow);
        } catch (err) {
          // SRTP asked for mid-call on a stream the native mover carries plain.
          if (err instanceof SrtpUnavailableError) return { ok: false, status: 488, reason: 'SRTP Not Available' };
          throw err;
        }
        this.#armed ||= armNow;
      }
      ports.push(from === 'a' ? allocated.bPort : allocated.aPort);
      keep.push(role === 'answer' ? answerPayloads(this.#lastOffer, m) : undefined);
    }
    if (role === 'offer') this.#lastOffer = desc;
    const out = anchorDescription(desc, { address, ports, keepPayloads: keep, sdes });
    if (out === undefined) return { ok: false, status: 488, reason: 'Unreadable Session Description' };
    return { ok: true, body: Buffer.from(out, 'utf8') };
  }

  /**
   * Opens a line's two endpoints (where `from` receives set in the same step), connects them, and
   * taps both when the call is streamed — one message to the worker.
   */
  async #openLine(m: MediaDescription, from: MediaSideName, remote: RemoteMedia, secure: boolean, tapMs: number | undefined): Promise<LinePorts | 'ports-exhausted'> {
    const { control } = this.#anchoring.opts;
    const opts: EndpointOptions = { kind: m.type, clockRateHz: clockRateOf(m), ...codecOf(m), ...(secure ? { secure } : {}), ...(tapMs === undefined ? {} : { functions: true }) };
    const to: MediaSideName = from === 'a' ? 'b' : 'a';
    const [ea, eb] = [lineEndpoint(m.index, 'a'), lineEndpoint(m.index, 'b')];
    const rangeOf = (side: MediaSideName): { portRange?: PortRangeName } => {
      const r = this.#ranges[side];
      return r === undefined ? {} : { portRange: r };
    };
    const opened = Promise.all([control.openEndpoint(this.session, lineEndpoint(m.index, from), { ...opts, ...rangeOf(from), remote }), control.openEndpoint(this.session, lineEndpoint(m.index, to), { ...opts, ...rangeOf(to) })]);
    const tap = { fn: 'tap', fragmentMs: tapMs ?? 0 } as const;
    const linked = Promise.all([control.connect(this.session, ea, eb), ...(tapMs === undefined ? [] : [control.attach(this.session, ea, tap), control.attach(this.session, eb, tap)])]).then(
      () => true,
      () => false,
    );
    const [[pFrom, pTo], ok] = await Promise.all([opened, linked]);
    if (pFrom === 'ports-exhausted' || pTo === 'ports-exhausted' || !ok) {
      await Promise.all([control.closeEndpoint(this.session, ea), control.closeEndpoint(this.session, eb)]);
      return 'ports-exhausted';
    }
    return from === 'a' ? { aPort: pFrom, bPort: pTo } : { aPort: pTo, bPort: pFrom };
  }

  /**
   * Records what `from` says about SRTP on media line `m` (Carillon terminates it): the line's
   * secure sides, undefined when neither is secure, 'refused' when `from` must be secure and isn't.
   */
  #secureSide(m: MediaDescription, from: MediaSideName): SecureLine | 'refused' | undefined {
    const state = this.#secure.get(m.index) ?? {};
    const offered = m.protocol.includes('SAVP') ? SDES_SUITES.map((suite) => m.crypto.find((c) => c.suite === suite)).find((c) => c !== undefined) : undefined;
    if (offered === undefined && this.#mustSecure[from]) return 'refused';
    const before = state[from];
    // Answering Carillon's offer, `from` picked one of the keys Carillon offered it (by tag).
    const ours = state.offered?.[from]?.find((k) => k.tag === offered?.tag && k.suite === offered.suite)?.key;
    if (state.offered !== undefined) state.offered[from] = undefined;
    state[from] =
      offered === undefined
        ? undefined
        : { suite: offered.suite as SdesSuite, tag: offered.tag, theirKey: offered.key, ourKey: ours ?? (before !== undefined && before.suite === offered.suite ? before.ourKey : newSdesKey()) };
    this.#secure.set(m.index, state);
    return state.a === undefined && state.b === undefined ? undefined : state;
  }

  /**
   * How the description going to side `to` writes SRTP: Carillon's key if `to` is secure; in an
   * offer to a side that must be secure and has no key yet, one key per suite for it to pick from;
   * plain otherwise.
   */
  #rewriteFor(index: number, to: MediaSideName, role: SdpRole): SdesRewrite {
    const line = this.#secure.get(index) ?? {};
    this.#secure.set(index, line);
    const leg = line[to];
    if (leg !== undefined) return { kind: 'secure', keys: [{ tag: leg.tag, suite: leg.suite, key: leg.ourKey }] };
    if (!this.#mustSecure[to] || role !== 'offer') return { kind: 'plain' };
    const keys = SDES_SUITES.map((suite, i) => ({ tag: i + 1, suite, key: newSdesKey() }));
    line.offered = { ...line.offered, [to]: keys };
    return { kind: 'secure', keys };
  }

  /** The call was answered: per-interval quality records start (the 2xx's translation arms the timeout). */
  answered(): void {
    if (this.#closed) return;
    const { timers, qualityIntervalMs } = this.#anchoring.opts;
    const tick = (): void => {
      this.#qualityTimer = timers.setTimeout(() => {
        void this.#record().finally(() => {
          if (!this.#closed) tick();
        });
      }, qualityIntervalMs);
    };
    tick();
  }

  async #record(): Promise<void> {
    const { control, clock, qualityLog } = this.#anchoring.opts;
    const cur = await control.query(this.session);
    if (cur === undefined || cur.endpoints.length === 0 || this.#closed) return;
    qualityLog.write(qualityRecord(this.#ctx, clock.nowMs(), cur, this.#prev, false));
    this.#prev = cur;
  }

  /** Ends the media session after every queued translation; writes the final record and summary, and resolves with the record. */
  close(): Promise<MediaQualityRecord | undefined> {
    if (this.#closed) return Promise.resolve(undefined);
    this.#closed = true;
    const { control, clock, qualityLog, logger, timers } = this.#anchoring.opts;
    timers.clearTimeout(this.#qualityTimer);
    const p = this.#chain.then(async (): Promise<MediaQualityRecord | undefined> => {
      const final = await control.delete(this.session);
      this.#anchoring.forget(this.session);
      this.#anchoring.releasePairs(this.#source, this.#pairsTaken);
      this.#pairsTaken = 0;
      logger.debug({ call: this.#ctx.endpointId, media: final }, 'media session closed');
      if (final === undefined || final.endpoints.length === 0) return undefined;
      const record = qualityRecord(this.#ctx, clock.nowMs(), final, this.#prev, true);
      qualityLog.write(record);
      const audio = audioStream(final);
      if (audio === undefined) return record;
      const custSide = this.#ctx.custSide;
      const cust = legFigures(audio[custSide]);
      const rem = legFigures(audio[custSide === 'a' ? 'b' : 'a']);
      logger.info(
        {
          call: this.#ctx.endpointId,
          cust: { in: cust.in_packets, lost: cust.in_lost, jitterUs: cust.in_jitter, rttUs: cust.rtt, mos: cust.mos },
          rem: { in: rem.in_packets, lost: rem.in_lost, jitterUs: rem.in_jitter, rttUs: rem.rtt, mos: rem.mos },
        },
        'call quality',
      );
      return record;
    });
    this.#chain = p.catch(() => undefined);
    return p.catch(() => undefined);
  }
}

/** The line's codec (its first payload type's rtpmap name), for quality scoring. */
function codecOf(m: MediaDescription): { codec?: string } {
  const first = m.payloads[0];
  const name = first === undefined ? undefined : m.codecs.get(first)?.name;
  return name === undefined ? {} : { codec: name };
}

function clockRateOf(m: MediaDescription): number {
  const first = m.payloads[0];
  const c = first === undefined ? undefined : m.codecs.get(first);
  return c?.clockRateHz ?? DEFAULT_CLOCK_RATE[m.type] ?? 8000;
}

/** The answer's payload types that the offer also had, when the answerer added others. */
function answerPayloads(offer: SessionDescription | undefined, answer: MediaDescription): number[] | undefined {
  const o = offer?.media[answer.index];
  if (o === undefined) return undefined;
  const common = commonCodecs(o, answer);
  return common.length > 0 && common.length < answer.payloads.length ? common : undefined;
}

/** Country (ISO 3166 alpha-2) of a SIP user that is a phone number, else null. */
export function countryOf(user: string | undefined): string | null {
  if (user === undefined) return null;
  const digits = user.replace(/[-.() ]/g, '');
  if (!/^\+?\d{6,15}$/.test(digits)) return null;
  return parsePhoneNumberFromString(digits.startsWith('+') ? digits : `+${digits}`)?.country ?? null;
}

/** What a call's quality records say about it, from what its caller's request named. */
export function qualityContextOf(caller: { readonly wireCallId: string; readonly fromUser: string | undefined; readonly toUser: string | undefined }, callId: string, region: string, trunk?: TrunkCall): QualityContext {
  const fromUser = trunk?.fromNumber ?? caller.fromUser ?? '';
  const toUser = trunk?.toNumber ?? caller.toUser ?? '';
  return {
    voiceConnectorId: trunk?.voiceConnectorId ?? 'default',
    callId: caller.wireCallId.length > 0 ? caller.wireCallId : callId,
    fromUser,
    fromCountry: trunk === undefined ? countryOf(fromUser) : (trunk.fromCountry ?? null),
    toUser,
    toCountry: trunk === undefined ? countryOf(toUser) : (trunk.toCountry ?? null),
    endpointId: callId,
    region: trunk?.region ?? region,
    // The customer's side: the PBX placed a termination call (leg a) and takes an origination call (leg b).
    custSide: trunk?.direction === 'Inbound' ? 'b' : 'a',
  };
}
