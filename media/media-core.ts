import type { Clock, TimerHandle, Timers } from '../common/clock.ts';
import type { Random } from '../common/random.ts';
import type { SocketFactory } from '../common/sockets.ts';
import { dtmfDigit } from './dtmf/telephone-event.ts';
import type {
  AllocateCommand,
  MediaCommand,
  MediaEvent,
  MediaReply,
  MediaStatus,
  MediaWorkerOptions,
  SessionSnapshot,
  SideSnapshot,
  StreamSnapshot,
  UpdateCommand,
} from './protocol.ts';
import { createOwnReport, ntpFromUnixMs, writeOwnReport } from './rtcp/compound.ts';
import { ntpMiddle32 } from './rtcp/sender-receiver-report.ts';
import { createRelayBackend } from './relay/backend.ts';
import { AudioTap } from './stream/audio-tap.ts';
import type { RelayBackend } from './relay/backend.ts';
import type { MediaPorts, MediaRelay, RelaySide } from './relay/relay-pair.ts';

export interface MediaCoreDeps {
  readonly sockets: SocketFactory;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly random: Random;
}

interface StreamEntry {
  readonly index: number;
  readonly kind: string;
  readonly clockRateHz: number;
  readonly pair: MediaRelay;
}

interface Session {
  readonly id: string;
  readonly streams: Map<number, StreamEntry>;
  /** Idle time counts from here (creation, or the end of a hold). */
  activityFloorMs: number;
  /** The media timeout applies (the call was answered). */
  armed: boolean;
  timedOut: boolean;
  deleted: boolean;
}

/** How often the housekeeping tick runs (RTCP due times, media timeout). */
const TICK_MS = 250;

/**
 * The media plane of one worker: a slice of the port range, the sessions (one per call) and their
 * streams (one per m-line), Carillon's own RTCP on every leg, the media timeout, and counters.
 * Commands come from signaling (through the worker boundary); events go back.
 */
export class MediaCore {
  readonly #opts: MediaWorkerOptions;
  readonly #deps: MediaCoreDeps;
  readonly #emit: (e: MediaEvent) => void;
  readonly #backend: RelayBackend;
  readonly #sessions = new Map<string, Session>();
  readonly #pendingAlloc = new Map<string, Promise<MediaReply>>();
  #tick: TimerHandle | undefined;
  #closed = false;
  /** Totals of streams already deleted (live ones are summed at status time). */
  #closedRelayed = 0;
  #closedBytes = 0;
  #closedDropped = 0;
  #closedLatches = 0;
  #mediaTimeouts = 0;
  #dtmfEvents = 0;
  #rtcpSent = 0;

  constructor(opts: MediaWorkerOptions, deps: MediaCoreDeps, emit: (e: MediaEvent) => void) {
    this.#opts = opts;
    this.#deps = deps;
    this.#emit = emit;
    this.#backend = createRelayBackend(opts, deps);
    this.#schedule();
  }

  handle(cmd: MediaCommand): MediaReply | Promise<MediaReply> {
    switch (cmd.op) {
      case 'allocate':
        return this.allocate(cmd);
      case 'update':
        return this.update(cmd);
      case 'arm':
        return this.#arm(cmd.session) ? { ok: true } : { ok: false, error: 'no-such-session' };
      case 'delete':
        return this.delete(cmd.session);
      case 'query': {
        const s = this.#sessions.get(cmd.session);
        return s === undefined ? { ok: false, error: 'no-such-session' } : { ok: true, snapshot: this.#snapshot(s) };
      }
      case 'status':
        return { ok: true, status: this.status() };
      default: {
        const never: never = cmd;
        return never;
      }
    }
  }

  /** Opens (or returns) the two port pairs of one stream of a session. */
  allocate(cmd: AllocateCommand): Promise<MediaReply> {
    const key = `${cmd.session}\u0000${cmd.index}`;
    const pending = this.#pendingAlloc.get(key);
    if (pending !== undefined) return pending;
    const p = this.#allocate(cmd).finally(() => this.#pendingAlloc.delete(key));
    this.#pendingAlloc.set(key, p);
    return p;
  }

  async #allocate(cmd: AllocateCommand): Promise<MediaReply> {
    let session = this.#sessions.get(cmd.session);
    const existing = session?.streams.get(cmd.index);
    if (existing !== undefined) return { ok: true, ports: { aPort: existing.pair.a.ports.rtpPort, bPort: existing.pair.b.ports.rtpPort } };
    if (this.#closed) return { ok: false, error: 'internal' };
    // Carillon's own sockets for a stream whose packets it must read: SRTP, or streamed audio.
    const onSockets = cmd.secure === true || cmd.then?.remote.srtp !== undefined || cmd.tapFragmentMs !== undefined;
    const pa = await this.#backend.allocate(onSockets);
    const pb = pa === undefined ? undefined : await this.#backend.allocate(onSockets);
    if (pa === undefined || pb === undefined) {
      if (pa !== undefined) this.#backend.release(pa);
      return { ok: false, error: 'ports-exhausted' };
    }
    session = this.#sessions.get(cmd.session);
    if (session === undefined) {
      session = { id: cmd.session, streams: new Map(), activityFloorMs: this.#deps.clock.monoMs(), armed: false, timedOut: false, deleted: false };
      this.#sessions.set(cmd.session, session);
    }
    const pair = this.#openPair(session, cmd, pa, pb);
    if (cmd.tapFragmentMs !== undefined && cmd.kind === 'audio') this.#tap(session.id, cmd.index, pair, cmd.tapFragmentMs);
    session.streams.set(cmd.index, { index: cmd.index, kind: cmd.kind, clockRateHz: cmd.clockRateHz, pair });
    if (cmd.then !== undefined) this.update({ op: 'update', session: cmd.session, index: cmd.index, side: cmd.then.side, remote: cmd.then.remote });
    return { ok: true, ports: { aPort: pa.rtpPort, bPort: pb.rtpPort } };
  }

  /** Streams what each side of the stream sends, fragment by fragment, as `audio` events. */
  #tap(session: string, index: number, pair: MediaRelay, fragmentMs: number): void {
    for (const side of ['a', 'b'] as const) {
      pair[side].tap = new AudioTap(fragmentMs, (timecodeMs, pcm) => this.#emit({ ev: 'audio', session, index, side, timecodeMs, pcm }));
    }
  }

  /** The call was answered: the media timeout counts from now. */
  #arm(id: string): boolean {
    const s = this.#sessions.get(id);
    if (s === undefined) return false;
    if (!s.armed) {
      s.armed = true;
      s.activityFloorMs = this.#deps.clock.monoMs();
    }
    return true;
  }

  #openPair(session: Session, cmd: AllocateCommand, pa: MediaPorts, pb: MediaPorts): MediaRelay {
    const { random, clock } = this.#deps;
    const pair = this.#backend.open(pa, pb, cmd.clockRateHz, this.#opts.strict, Math.floor(random.float() * 0x1_0000_0000), Math.floor(random.float() * 0x1_0000_0000));
    const { a, b } = pair;
    const now = clock.monoMs();
    a.nextRtcpMs = now + this.#rtcpDelay();
    b.nextRtcpMs = now + this.#rtcpDelay();
    pair.onDtmf = (from, event, durationUnits) => {
      const digit = dtmfDigit(event);
      if (digit === undefined) return;
      this.#dtmfEvents++;
      this.#emit({ ev: 'dtmf', session: session.id, side: from === a ? 'a' : 'b', digit, durationMs: Math.round((durationUnits * 1000) / cmd.clockRateHz) });
    };
    return pair;
  }

  /** RFC 3550 §6.3.5: the interval randomised over [0.5, 1.5] × the mean. */
  #rtcpDelay(): number {
    return this.#opts.rtcpIntervalMs * (0.5 + this.#deps.random.float());
  }

  /** Sets where one side's endpoint receives, its direction and DTMF payload types. */
  update(cmd: UpdateCommand): MediaReply {
    const session = this.#sessions.get(cmd.session);
    if (session === undefined) return { ok: false, error: 'no-such-session' };
    const stream = session.streams.get(cmd.index);
    if (stream === undefined) return { ok: false, error: 'no-such-stream' };
    const side = cmd.side === 'a' ? stream.pair.a : stream.pair.b;
    const r = cmd.remote;
    // The packet path sends to these numbers: anything but a port is refused here, not there.
    const port = (p: number): boolean => Number.isInteger(p) && p >= 0 && p <= 65535;
    if (!port(r.port) || !port(r.rtcpPort) || r.dtmfPayloadTypes.some((pt) => !Number.isInteger(pt))) return { ok: false, error: 'bad-remote' };
    // The native mover moves packets without looking into them: SRTP needs a stream opened as secure.
    if (r.srtp !== undefined && !stream.pair.carriesSrtp) return { ok: false, error: 'srtp-unavailable' };
    const wasHeld = this.#held(session);
    side.setSrtp(r.srtp);
    side.setRemote(r.address, r.port, r.rtcpPort, r.rtcpMux);
    side.hold = r.address === undefined || r.direction === 'sendonly' || r.direction === 'inactive';
    side.setDtmfPayloadTypes(r.dtmfPayloadTypes);
    stream.pair.remoteChanged(side);
    if (cmd.arm === true) this.#arm(cmd.session);
    if (wasHeld && !this.#held(session)) session.activityFloorMs = this.#deps.clock.monoMs();
    return { ok: true };
  }

  /** Ends a session: closes its streams, returns its ports, and hands back its final figures. */
  delete(id: string): MediaReply {
    const session = this.#sessions.get(id);
    if (session === undefined) return { ok: false, error: 'no-such-session' };
    const snapshot = this.#snapshot(session);
    const held: MediaPorts[] = [];
    for (const s of session.streams.values()) {
      // What is left of streamed audio goes up before the session's final figures.
      s.pair.a.tap?.close();
      s.pair.b.tap?.close();
      s.pair.close();
      for (const side of [s.pair.a, s.pair.b]) {
        this.#closedRelayed += side.sent.rtpPackets;
        this.#closedBytes += side.sent.rtpBytes;
        this.#closedDropped += side.received.dropped;
        this.#closedLatches += side.relatches + (side.latched ? 1 : 0);
        held.push(side.ports);
      }
    }
    // The ports stay bound a moment, silently taking the endpoints' last packets: a closed port
    // would answer them with ICMP unreachable, which some phones treat as a failed call before
    // the BYE reaches them.
    const release = (): void => {
      for (const p of held) this.#backend.release(p);
    };
    if (this.#opts.releaseDelayMs > 0 && !this.#closed) this.#deps.timers.setTimeout(release, this.#opts.releaseDelayMs);
    else release();
    session.streams.clear();
    session.deleted = true;
    this.#sessions.delete(id);
    return { ok: true, snapshot };
  }

  status(): MediaStatus {
    let relayed = this.#closedRelayed;
    let bytes = this.#closedBytes;
    let dropped = this.#closedDropped;
    let latches = this.#closedLatches;
    let streams = 0;
    for (const s of this.#sessions.values()) {
      for (const st of s.streams.values()) {
        streams++;
        st.pair.sync();
        for (const side of [st.pair.a, st.pair.b]) {
          relayed += side.sent.rtpPackets;
          bytes += side.sent.rtpBytes;
          dropped += side.received.dropped;
          latches += side.relatches + (side.latched ? 1 : 0);
        }
      }
    }
    return {
      sessions: this.#sessions.size,
      streams,
      portPairsInUse: this.#backend.inUse,
      portPairsCapacity: this.#backend.capacity,
      portsSkipped: this.#backend.skipped,
      packetsRelayed: relayed,
      bytesRelayed: bytes,
      packetsDropped: dropped,
      latchEvents: latches,
      mediaTimeouts: this.#mediaTimeouts,
      dtmfEvents: this.#dtmfEvents,
      rtcpSent: this.#rtcpSent,
      nativeWorkers: this.#backend.kind === 'native' ? 1 : 0,
    };
  }

  /** Closes every session and stops the tick (worker shutdown). */
  close(): void {
    this.#closed = true;
    this.#deps.timers.clearTimeout(this.#tick);
    for (const id of [...this.#sessions.keys()]) this.delete(id);
    this.#backend.close();
  }

  #schedule(): void {
    if (this.#closed) return;
    this.#tick = this.#deps.timers.setTimeout(() => {
      this.#onTick();
      this.#schedule();
    }, TICK_MS);
  }

  #onTick(): void {
    const now = this.#deps.clock.monoMs();
    const timeout = this.#opts.mediaTimeoutMs;
    const wallMs = this.#deps.clock.nowMs();
    for (const session of this.#sessions.values()) {
      let last = session.activityFloorMs;
      for (const st of session.streams.values()) {
        st.pair.sync();
        const { a, b } = st.pair;
        a.tap?.tick(wallMs);
        b.tap?.tick(wallMs);
        if (a.lastRtpMs > last) last = a.lastRtpMs;
        if (b.lastRtpMs > last) last = b.lastRtpMs;
        if (now >= a.nextRtcpMs) this.#sendOwnRtcp(st.pair, a, b, now);
        if (now >= b.nextRtcpMs) this.#sendOwnRtcp(st.pair, b, a, now);
      }
      if (timeout > 0 && session.armed && !session.timedOut && !this.#held(session) && session.streams.size > 0 && now - last >= timeout) {
        session.timedOut = true;
        this.#mediaTimeouts++;
        this.#emit({ ev: 'timeout', session: session.id, idleMs: Math.round(now - last) });
      }
    }
  }

  #held(session: Session): boolean {
    for (const st of session.streams.values()) if (st.pair.a.hold || st.pair.b.hold) return true;
    return false;
  }

  /**
   * Carillon's own RTCP to one leg (RFC 3550 §6.4), sent only when the other endpoint's sender
   * reports are not reaching it (a carrier or SIPp that sends none): an SR for the stream Carillon forwards
   * (its SSRC and counts, so the endpoint sees one consistent source), with a report block about
   * what this endpoint sends, SDES CNAME and an XR RRTR. When the other endpoint reports, its
   * RTCP is relayed instead and Carillon adds nothing the endpoints could confuse.
   */
  #sendOwnRtcp(pair: MediaRelay, side: RelaySide, other: RelaySide, now: number): void {
    const interval = this.#opts.rtcpIntervalMs;
    side.nextRtcpMs = now + this.#rtcpDelay();
    if (side.peerAddress === undefined || side.peerRtcpPort === 0) return;
    if (side.lastRelayedSrMs >= 0 && now - side.lastRelayedSrMs < 2 * interval) return;
    const forwarded = side.forwardedSsrc(other);
    if (forwarded === -1 && side.lastSsrc === -1) return;
    const r = createOwnReport(forwarded === -1 ? side.ownSsrc : forwarded, this.#opts.cname);
    const unixMs = pair.ntpUnixMs();
    const ntp = ntpFromUnixMs(unixMs);
    r.sender = forwarded !== -1;
    r.ntpHigh = ntp.high;
    r.ntpLow = ntp.low;
    r.rtpTimestamp = other.lastOutTs;
    r.packetCount = side.sent.rtpPackets;
    r.octetCount = Math.max(0, side.sent.rtpBytes - 12 * side.sent.rtpPackets);
    if (side.lastSsrc !== -1) {
      r.hasBlock = true;
      const blk = r.block;
      blk.ssrc = side.lastSsrc;
      blk.fractionLost = side.stats.takeFractionLost();
      blk.cumulativeLost = side.packetsLost;
      blk.extendedHighestSeq = side.stats.extendedMax;
      blk.jitter = side.stats.jitter;
      blk.lsr = side.peerSrMiddle32;
      blk.dlsr = side.peerSrMiddle32 === 0 ? 0 : Math.round((now - side.peerSrArrivalMs) * 65.536);
    }
    const buf = Buffer.allocUnsafe(64 + this.#opts.cname.length + 24);
    const len = writeOwnReport(r, buf);
    side.rememberSr(ntpMiddle32(ntp.high, ntp.low), now);
    side.sent.rtcpPackets++;
    side.sent.rtcpBytes += len;
    side.ownRtcpPackets++;
    side.ownRtcpBytes += len;
    this.#rtcpSent++;
    pair.sendFrom(side, buf, len, !side.rtcpMux, side.rtcpMux ? side.peerPort : side.peerRtcpPort, side.peerAddress);
  }

  #snapshot(session: Session): SessionSnapshot {
    const streams: StreamSnapshot[] = [];
    for (const st of session.streams.values()) {
      st.pair.sync();
      streams.push({ index: st.index, kind: st.kind, clockRateHz: st.clockRateHz, a: sideSnapshot(st.pair.a), b: sideSnapshot(st.pair.b) });
    }
    streams.sort((x, y) => x.index - y.index);
    return { streams };
  }
}

function sideSnapshot(s: RelaySide): SideSnapshot {
  const rate = s.stats.clockRateHz;
  return {
    rtpPackets: s.received.rtpPackets,
    rtpBytes: s.received.rtpBytes,
    rtcpPackets: s.received.rtcpPackets,
    rtcpBytes: s.received.rtcpBytes,
    packetsExpected: s.packetsExpected,
    packetsLost: Math.max(0, s.packetsLost),
    jitterUs: Math.round(s.stats.jitterUs),
    sentRtpPackets: s.sent.rtpPackets,
    sentRtpBytes: s.sent.rtpBytes,
    sentRtcpPackets: s.sent.rtcpPackets,
    sentRtcpBytes: s.sent.rtcpBytes,
    reportedLost: s.reportedCumulativeLost < 0 && s.reportedFractionLost < 0 ? null : Math.max(0, s.reportedCumulativeLost),
    reportedFractionLost: s.reportedFractionLost < 0 ? null : s.reportedFractionLost,
    reportedJitterUs: s.reportedJitterUnits < 0 ? null : Math.round((s.reportedJitterUnits * 1_000_000) / rate),
    rttUs: s.rttUs < 0 ? null : Math.round(s.rttUs),
    dropped: s.received.dropped,
    latched: s.latched,
    relatches: s.relatches,
    duplicates: s.stats.duplicates,
  };
}
