import { randomBytes } from 'node:crypto';
import type { MediaQualityRecord } from '../../media/quality/record.ts';
import type { TrunkCall } from '../routing/static-routes.ts';
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import type { Logger } from 'pino';
import type { Clock, TimerHandle, Timers } from '../../common/clock.ts';
import type { MediaControl } from '../../media/engine.ts';
import type { AllocatedPorts, MediaEvent, MediaSideName, SessionSnapshot } from '../../media/protocol.ts';
import type { QualityLog } from '../../media/quality/quality-log.ts';
import { audioStream, legFigures, qualityRecord } from '../../media/quality/record.ts';
import type { QualityContext } from '../../media/quality/record.ts';
import { anchorDescription, commonCodecs, readSdp } from '../sdp/anchor.ts';
import type { SdesRewrite } from '../sdp/anchor.ts';
import type { MediaDescription, SessionDescription } from '../sdp/anchor.ts';
import { getHeader } from '../sip/message/headers.ts';
import { parseNameAddr } from '../sip/message/name-addr.ts';
import type { SipRequest } from '../sip/message/types.ts';

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
  /**
   * Terminate SDES-SRTP (the media workers run the socket relay): a secure side gets Carillon's
   * own key and SRTP, the other side plain RTP. Off: a=crypto lines cross untouched, end to end.
   */
  readonly terminateSrtp?: boolean;
}

/** The SDES suites Carillon terminates, in preference order. */
const SDES_SUITES = ['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32'] as const;

/** A secure side of one media line: the key it sends with (its a=crypto) and the one Carillon sends it with. */
interface SecureLeg {
  readonly suite: (typeof SDES_SUITES)[number];
  readonly tag: number;
  readonly theirKey: string;
  readonly ourKey: string;
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

  constructor(opts: MediaAnchoringOptions) {
    this.opts = opts;
    opts.control.onEvent = (e) => this.#onEvent(e);
  }

  open(session: string, ctx: QualityContext, handlers: CallMediaHandlers): CallMedia {
    const m = new CallMedia(this, session, ctx, handlers);
    this.#calls.set(session, m);
    return m;
  }

  forget(session: string): void {
    this.#calls.delete(session);
  }

  get active(): number {
    return this.#calls.size;
  }

  #onEvent(e: MediaEvent): void {
    const m = this.#calls.get(e.session);
    if (m === undefined) return;
    if (e.ev === 'timeout') m.handlers.onTimeout(e.idleMs);
    else m.handlers.onDtmf(e.side, e.digit, e.durationMs);
  }
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
  readonly #ports = new Map<number, AllocatedPorts>();
  #chain: Promise<unknown> = Promise.resolve();
  #lastOffer: SessionDescription | undefined;
  /** Per media index, the sides whose SRTP Carillon terminates. */
  readonly #secure = new Map<number, { a?: SecureLeg | undefined; b?: SecureLeg | undefined }>();
  #qualityTimer: TimerHandle | undefined;
  #prev: SessionSnapshot | undefined;
  #closed = false;
  /** The engine knows the call is answered (media timeout running). */
  #armed = false;

  constructor(anchoring: MediaAnchoring, session: string, ctx: QualityContext, handlers: CallMediaHandlers) {
    this.#anchoring = anchoring;
    this.session = session;
    this.#ctx = ctx;
    this.handlers = handlers;
  }

  /**
   * Rewrites a body crossing from side `from` to the other side (queued behind earlier ones).
   * `arm`: this message answers the call (a 2xx), so the media timeout starts with it.
   */
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
      sdes.push(secure === undefined ? undefined : this.#rewriteFor(m.index, to));
      const holdAddress = m.address === undefined || m.address === '0.0.0.0' || m.address === '::';
      const remote = {
        address: holdAddress ? undefined : m.address,
        port: m.port,
        rtcpPort: m.rtcpPort,
        rtcpMux: m.rtcpMux,
        direction: m.direction,
        dtmfPayloadTypes: m.payloads.filter((p) => m.codecs.get(p)?.name === 'TELEPHONE-EVENT'),
        ...(secure?.[from] === undefined ? {} : { srtp: { suite: secure[from].suite, receiveKey: secure[from].theirKey, sendKey: secure[from].ourKey } }),
      };
      let allocated = this.#ports.get(m.index);
      if (allocated === undefined) {
        // Ports and this side's address in one step.
        const r = await control.allocate(this.session, m.index, m.type, clockRateOf(m), { side: from, remote });
        if (r === 'ports-exhausted') return { ok: false, status: 503, reason: 'Media Ports Exhausted' };
        allocated = r;
        this.#ports.set(m.index, r);
      } else {
        const armNow = arm && !this.#armed;
        await control.update(this.session, m.index, from, remote, armNow);
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
   * Records what `from` says about SRTP on media line `m` when Carillon terminates it; returns the
   * line's secure sides, or undefined when neither side is secure (nothing to rewrite).
   */
  #secureSide(m: MediaDescription, from: MediaSideName): { a?: SecureLeg | undefined; b?: SecureLeg | undefined } | undefined {
    if (this.#anchoring.opts.terminateSrtp !== true) return undefined;
    const state = this.#secure.get(m.index) ?? {};
    const offered = m.protocol.includes('SAVP') ? SDES_SUITES.map((suite) => m.crypto.find((c) => c.suite === suite)).find((c) => c !== undefined) : undefined;
    const before = state[from];
    state[from] =
      offered === undefined
        ? undefined
        : { suite: offered.suite as SecureLeg['suite'], tag: offered.tag, theirKey: offered.key, ourKey: before !== undefined && before.suite === offered.suite ? before.ourKey : randomBytes(30).toString('base64') };
    this.#secure.set(m.index, state);
    return state.a === undefined && state.b === undefined ? undefined : state;
  }

  /** How the description going to side `to` writes SRTP: Carillon's key if `to` is secure, plain otherwise. */
  #rewriteFor(index: number, to: MediaSideName): SdesRewrite {
    const leg = this.#secure.get(index)?.[to];
    return leg === undefined ? { kind: 'plain' } : { kind: 'secure', key: { tag: leg.tag, suite: leg.suite, key: leg.ourKey } };
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
    if (cur === undefined || cur.streams.length === 0 || this.#closed) return;
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
      logger.debug({ call: this.#ctx.endpointId, media: final }, 'media session closed');
      if (final === undefined || final.streams.length === 0) return undefined;
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

/** What a call's quality records say about it, from the caller's INVITE. */
export function qualityContextOf(req: SipRequest, callId: string, region: string, trunk?: TrunkCall): QualityContext {
  const fromUser = trunk?.fromNumber ?? uriUser(getHeader(req, 'from')) ?? '';
  const toUser = trunk?.toNumber ?? uriUser(getHeader(req, 'to')) ?? '';
  return {
    voiceConnectorId: trunk?.voiceConnectorId ?? 'default',
    callId: getHeader(req, 'call-id') ?? callId,
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

function uriUser(nameAddr: string | undefined): string | undefined {
  if (nameAddr === undefined) return undefined;
  const uri = parseNameAddr(nameAddr)?.uri;
  if (uri === undefined) return undefined;
  const m = /^sips?:([^@;?]+)@/i.exec(uri);
  if (m?.[1] === undefined) return undefined;
  try {
    return decodeURIComponent(m[1]);
  } catch {
    return m[1];
  }
}
