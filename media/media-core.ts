import type { Clock, TimerHandle, Timers } from '../common/clock.ts';
import type { Random } from '../common/random.ts';
import type { SocketFactory } from '../common/sockets.ts';
import { dtmfDigit } from './dtmf/telephone-event.ts';
import { MeetingCommands } from './mixer/meeting-commands.ts';
import type { MeetingRoom } from './mixer/meeting-room.ts';
import { ParticipantFunction } from './mixer/participant.ts';
import type { PromptLanguage, PromptSet } from './prompts/prompts.ts';
import type {
  AttachCommand,
  EndpointId,
  EndpointSnapshot,
  MediaCommand,
  MediaEvent,
  MediaReply,
  MediaStatus,
  MediaWorkerOptions,
  OpenCommand,
  MoveCommand,
  SessionSnapshot,
  UpdateCommand,
} from './protocol.ts';
import { createOwnReport, ntpFromUnixMs, writeOwnReport } from './rtcp/compound.ts';
import type { OwnReport } from './rtcp/compound.ts';
import { ntpMiddle32 } from './rtcp/sender-receiver-report.ts';
import { createRelayBackend } from './relay/backend.ts';
import type { RelayBackend } from './relay/backend.ts';
import { connect, disconnect } from './relay/endpoint.ts';
import type { Endpoint, MediaPorts } from './relay/endpoint.ts';
import { TapFunction } from './stream/audio-tap.ts';
import { attachVideo, keyFrameCommand, moveVideo, presenterCommand, videoOn } from './video/video-commands.ts';
import type { VideoCommandDeps } from './video/video-commands.ts';
import { createVideoTotals } from './video/video-room.ts';
import type { VideoRoom } from './video/video-room.ts';

export interface MediaCoreDeps {
  readonly sockets: SocketFactory;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly random: Random;
  /** The prompts' loader (default: every language from media/prompts), run once, on the first play. */
  readonly loadPrompts?: () => ReadonlyMap<PromptLanguage, PromptSet>;
}

interface Session {
  readonly id: string;
  /** In the order they were opened. */
  readonly endpoints: Map<EndpointId, Endpoint>;
  /** Connected pairs, in the order connected. */
  readonly connections: { a: EndpointId; b: EndpointId }[];
  /** Idle time counts from here (creation, or the end of a hold). */
  activityFloorMs: number;
  /** The media timeout applies (the call was answered). */
  armed: boolean;
  timedOut: boolean;
  /** Its meeting's media, made with its first participant. */
  room: MeetingRoom | undefined;
  /** Its meeting's video (cameras) and presentation content, made with their first participants. */
  video: VideoRoom | undefined;
  content: VideoRoom | undefined;
}

/** How often the housekeeping tick runs (RTCP due times, media timeout). */
const TICK_MS = 250;

/**
 * The media plane of one worker — its session table: a slice of the port range, the sessions
 * (one per call, recording or meeting) and their endpoints (one port pair each, toward one far
 * end), which endpoints are connected, the media functions attached, Carillon's own RTCP on every
 * endpoint, the media timeout, and counters. Commands come from signaling (through the worker
 * boundary) and run in order per session; events go back.
 */
export class MediaCore {
  readonly #opts: MediaWorkerOptions;
  readonly #deps: MediaCoreDeps;
  readonly #emit: (e: MediaEvent) => void;
  readonly #backend: RelayBackend;
  readonly #sessions = new Map<string, Session>();
  /** Per session, the last of its commands still running (an open waits for its ports): later ones queue behind it. */
  readonly #busy = new Map<string, Promise<MediaReply>>();
  /** Wall-clock ms at monotonic 0: Carillon's NTP times are wallBase + mono, so RTT math is monotonic. */
  readonly #wallBaseMs: number;
  #tick: TimerHandle | undefined;
  #closed = false;
  /** Totals of endpoints already closed (live ones are summed at status time). */
  #closedRelayed = 0;
  #closedBytes = 0;
  #closedDropped = 0;
  #closedUnobserved = 0;
  #closedLatches = 0;
  #mediaTimeouts = 0;
  #dtmfEvents = 0;
  #rtcpSent = 0;
  /** The meetings' audio commands (rooms, prompts, recording). */
  readonly #meetings: MeetingCommands;
  /** Every video room's figures, and what the video commands need. */
  readonly #videoTotals = createVideoTotals();
  readonly #video: VideoCommandDeps;

  constructor(opts: MediaWorkerOptions, deps: MediaCoreDeps, emit: (e: MediaEvent) => void) {
    this.#opts = opts;
    this.#deps = deps;
    this.#emit = emit;
    this.#backend = createRelayBackend(opts, deps);
    this.#wallBaseMs = deps.clock.nowMs() - deps.clock.monoMs();
    this.#meetings = new MeetingCommands({ clock: deps.clock, timers: deps.timers, random: () => deps.random.float(), emit, loadPrompts: deps.loadPrompts });
    this.#video = { clock: deps.clock, cname: opts.cname, random: () => deps.random.float(), emit, totals: this.#videoTotals };
    this.#schedule();
  }

  /** Runs a command, after any of the same session's still running. */
  handle(cmd: MediaCommand): MediaReply | Promise<MediaReply> {
    if (cmd.op === 'status') return { ok: true, status: this.status() };
    const session = cmd.session;
    const tail = this.#busy.get(session);
    const r = tail === undefined ? this.#run(cmd) : tail.then(() => this.#run(cmd));
    if (r instanceof Promise) {
      this.#busy.set(session, r);
      const clear = (): void => {
        if (this.#busy.get(session) === r) this.#busy.delete(session);
      };
      r.then(clear, clear);
    }
    return r;
  }

  #run(cmd: Exclude<MediaCommand, { op: 'status' }>): MediaReply | Promise<MediaReply> {
    switch (cmd.op) {
      case 'open':
        return this.#open(cmd);
      case 'update':
        return this.#update(cmd);
      case 'connect':
        return this.#connect(cmd.session, cmd.a, cmd.b);
      case 'disconnect': {
        const ep = this.#sessions.get(cmd.session)?.endpoints.get(cmd.endpoint);
        if (ep === undefined) return { ok: false, error: 'no-such-endpoint' };
        this.#unlink(this.#sessions.get(cmd.session) as Session, ep);
        return { ok: true };
      }
      case 'attach':
        return this.#attach(cmd);
      case 'participant':
        return this.#meetings.participant(this.#sessions.get(cmd.session), cmd);
      case 'play':
        return this.#meetings.play(this.#sessions.get(cmd.session), cmd);
      case 'stop-play':
        return this.#meetings.stopPlay(this.#sessions.get(cmd.session), cmd.endpoint);
      case 'key-frame': {
        const s = this.#sessions.get(cmd.session);
        return keyFrameCommand(s, s?.endpoints.get(cmd.endpoint), this.#deps.clock.monoMs());
      }
      case 'presenter': {
        const s = this.#sessions.get(cmd.session);
        return presenterCommand(s, cmd.endpoint === null ? undefined : s?.endpoints.get(cmd.endpoint), cmd.endpoint === null);
      }
      case 'close-endpoint':
        return this.#closeEndpoint(cmd.session, cmd.endpoint);
      case 'arm':
        return this.#arm(cmd.session) ? { ok: true } : { ok: false, error: 'no-such-session' };
      case 'delete':
        return this.delete(cmd.session);
      case 'move':
        return this.#move(cmd);
      case 'record':
        return this.#meetings.record(this.#sessions.get(cmd.session), cmd.fragmentMs);
      case 'query': {
        const s = this.#sessions.get(cmd.session);
        return s === undefined ? { ok: false, error: 'no-such-session' } : { ok: true, snapshot: this.#snapshot(s) };
      }
      default: {
        const never: never = cmd;
        return never;
      }
    }
  }

  /** Opens (or finds) an endpoint: its port pair from the range, and its far end's address when given. */
  async #open(cmd: OpenCommand): Promise<MediaReply> {
    const existing = this.#sessions.get(cmd.session)?.endpoints.get(cmd.endpoint);
    if (existing !== undefined) return { ok: true, port: existing.ports.rtpPort };
    if (this.#closed) return { ok: false, error: 'internal' };
    // Carillon's own sockets for an endpoint whose packets it must read: SRTP, or a media function.
    const onSockets = cmd.secure === true || cmd.remote?.srtp !== undefined || cmd.functions === true;
    const ports = await this.#backend.allocate(onSockets, cmd.portRange);
    if (ports === undefined) return { ok: false, error: 'ports-exhausted' };
    if (this.#closed) {
      this.#backend.release(ports);
      return { ok: false, error: 'internal' };
    }
    const session = this.#sessions.get(cmd.session) ?? this.#newSession(cmd.session);
    const { random, clock } = this.#deps;
    const ep = this.#backend.open(ports, {
      id: cmd.endpoint,
      kind: cmd.kind,
      clockRateHz: cmd.clockRateHz,
      codec: cmd.codec?.toUpperCase(),
      strict: this.#opts.strict,
      ownSsrc: Math.floor(random.float() * 0x1_0000_0000),
    });
    ep.rtcp.nextRtcpMs = clock.monoMs() + this.#rtcpDelay();
    this.#reportDtmf(ep, session.id);
    session.endpoints.set(cmd.endpoint, ep);
    if (cmd.remote !== undefined) {
      const r = this.#update({ op: 'update', session: cmd.session, endpoint: cmd.endpoint, remote: cmd.remote });
      if (!r.ok) return r;
    }
    return { ok: true, port: ports.rtpPort };
  }

  /** Digits detected on `ep` go up as events of session `sessionId`. */
  #reportDtmf(ep: Endpoint, sessionId: string): void {
    ep.onDtmf = (event, durationUnits) => {
      const digit = dtmfDigit(event);
      if (digit === undefined) return;
      this.#dtmfEvents++;
      this.#emit({ ev: 'dtmf', session: sessionId, endpoint: ep.id, digit, durationMs: Math.round((durationUnits * 1000) / ep.clockRateHz) });
    };
  }

  #newSession(id: string): Session {
    const session: Session = { id, endpoints: new Map(), connections: [], activityFloorMs: this.#deps.clock.monoMs(), armed: false, timedOut: false, room: undefined, video: undefined, content: undefined };
    this.#sessions.set(id, session);
    return session;
  }

  /**
   * Moves an endpoint — its sockets, statistics and functions — into another session of this
   * worker (an IVR caller into its meeting). A participant leaves its old room and joins the
   * new session's (made with `capacity` when it is the first), outside the mix; its RTP stream
   * goes on unbroken. The session it left stays (empty) until deleted.
   */
  #move(cmd: MoveCommand): MediaReply {
    const from = this.#sessions.get(cmd.session);
    const ep = from?.endpoints.get(cmd.endpoint);
    if (from === undefined || ep === undefined) return { ok: false, error: 'no-such-endpoint' };
    if (cmd.to === cmd.session) return { ok: true };
    const existing = this.#sessions.get(cmd.to);
    if (existing?.endpoints.has(cmd.endpoint) === true) return { ok: false, error: 'no-such-endpoint' };
    const participant = participantOn(ep);
    const to = existing ?? this.#newSession(cmd.to);
    if (participant !== undefined) {
      const room = this.#meetings.roomOf(to, cmd.capacity);
      if (room.size >= room.capacity) {
        if (existing === undefined) this.#sessions.delete(to.id);
        return { ok: false, error: 'meeting-full' };
      }
      from.room?.removed(participant);
      room.adopt(participant);
    }
    moveVideo(from, to, ep, this.#video);
    this.#unlink(from, ep);
    from.endpoints.delete(cmd.endpoint);
    to.endpoints.set(cmd.endpoint, ep);
    this.#reportDtmf(ep, to.id);
    if (!to.armed && from.armed) to.armed = true;
    return { ok: true };
  }

  #connect(id: string, a: EndpointId, b: EndpointId): MediaReply {
    const session = this.#sessions.get(id);
    const ea = session?.endpoints.get(a);
    const eb = session?.endpoints.get(b);
    if (session === undefined || ea === undefined || eb === undefined || a === b) return { ok: false, error: 'no-such-endpoint' };
    if (ea.path !== eb.path) return { ok: false, error: 'mixed-paths' };
    if (ea.peer === eb) return { ok: true };
    this.#unlink(session, ea);
    this.#unlink(session, eb);
    connect(ea, eb);
    session.connections.push({ a, b });
    return { ok: true };
  }

  /** Disconnects `ep` from its peer, if any. */
  #unlink(session: Session, ep: Endpoint): void {
    if (ep.peer === undefined) return;
    disconnect(ep);
    const i = session.connections.findIndex((c) => c.a === ep.id || c.b === ep.id);
    if (i >= 0) session.connections.splice(i, 1);
  }

  #attach(cmd: AttachCommand): MediaReply {
    const session = this.#sessions.get(cmd.session);
    const ep = session?.endpoints.get(cmd.endpoint);
    if (session === undefined || ep === undefined) return { ok: false, error: 'no-such-endpoint' };
    if (ep.path !== 'sockets') return { ok: false, error: 'needs-sockets' };
    const f = cmd.function;
    switch (f.fn) {
      case 'tap': {
        if (ep.kind !== 'audio') return { ok: true };
        const session = cmd.session;
        const endpoint = ep.id;
        ep.functions.push(new TapFunction(f.fragmentMs, (timecodeMs, pcm) => this.#emit({ ev: 'audio', session, endpoint, timecodeMs, pcm })));
        return { ok: true };
      }
      case 'participant':
        return this.#meetings.attach(session, ep, f);
      case 'video':
        return attachVideo(session, ep, f, this.#video);
      default: {
        const never: never = f;
        return never;
      }
    }
  }

  /**
   * Loads the prompts now (the worker does at start, before it takes commands): the first play
   * of a meeting must not stall every call on the worker while ~3 MB of prompts are read.
   */
  warmPrompts(): boolean {
    return this.#meetings.warmPrompts();
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

  /** RFC 3550 §6.3.5: the interval randomised over [0.5, 1.5] × the mean. */
  #rtcpDelay(): number {
    return this.#opts.rtcpIntervalMs * (0.5 + this.#deps.random.float());
  }

  /** Sets where an endpoint's far end receives, its direction, DTMF payload types and SRTP keys. */
  #update(cmd: UpdateCommand): MediaReply {
    const session = this.#sessions.get(cmd.session);
    if (session === undefined) return { ok: false, error: 'no-such-session' };
    const ep = session.endpoints.get(cmd.endpoint);
    if (ep === undefined) return { ok: false, error: 'no-such-endpoint' };
    const r = cmd.remote;
    // The packet path sends to these numbers: anything but a port is refused here, not there.
    const port = (p: number): boolean => Number.isInteger(p) && p >= 0 && p <= 65535;
    if (!port(r.port) || !port(r.rtcpPort) || r.dtmfPayloadTypes.some((pt) => !Number.isInteger(pt))) return { ok: false, error: 'bad-remote' };
    // The native mover moves packets without looking into them: SRTP needs an endpoint opened as secure.
    if (r.srtp !== undefined && ep.path !== 'sockets') return { ok: false, error: 'srtp-unavailable' };
    const wasHeld = this.#held(session);
    ep.configure(r);
    if (cmd.arm === true) this.#arm(cmd.session);
    if (wasHeld && !this.#held(session)) session.activityFloorMs = this.#deps.clock.monoMs();
    return { ok: true };
  }

  /** Closes one endpoint of a session and hands back its final figures. */
  #closeEndpoint(id: string, endpoint: EndpointId): MediaReply {
    const session = this.#sessions.get(id);
    const ep = session?.endpoints.get(endpoint);
    if (session === undefined || ep === undefined) return { ok: false, error: 'no-such-endpoint' };
    const snap = endpointSnapshot(ep);
    this.#unlink(session, ep);
    session.endpoints.delete(endpoint);
    this.#release([this.#retire(ep)]);
    return { ok: true, endpoint: snap };
  }

  /** Closes an endpoint (what is left of streamed audio goes up first), keeps its totals; its ports to release. */
  #retire(ep: Endpoint): MediaPorts {
    ep.sync();
    ep.close();
    const st = ep.stats;
    // What a meeting participant is sent is the bridge's, not relayed.
    if (participantOn(ep) === undefined) {
      this.#closedRelayed += st.sent.rtpPackets;
      this.#closedBytes += st.sent.rtpBytes;
    }
    this.#closedDropped += st.received.dropped;
    this.#closedUnobserved += st.unobserved;
    this.#closedLatches += ep.latch.relatches + (ep.latch.latched ? 1 : 0);
    return ep.ports;
  }

  /**
   * The ports stay bound a moment, silently taking the far ends' last packets: a closed port would
   * answer them with ICMP unreachable, which some phones treat as a failed call before the BYE
   * reaches them.
   */
  #release(held: MediaPorts[]): void {
    const release = (): void => {
      for (const p of held) this.#backend.release(p);
    };
    if (this.#opts.releaseDelayMs > 0 && !this.#closed) this.#deps.timers.setTimeout(release, this.#opts.releaseDelayMs);
    else release();
  }

  /** Ends a session: closes its endpoints, returns their ports, and hands back its final figures. */
  delete(id: string): MediaReply {
    const session = this.#sessions.get(id);
    if (session === undefined) return { ok: false, error: 'no-such-session' };
    const snapshot = this.#snapshot(session);
    const held: MediaPorts[] = [];
    for (const ep of session.endpoints.values()) held.push(this.#retire(ep));
    session.room?.close();
    this.#release(held);
    session.endpoints.clear();
    session.connections.length = 0;
    this.#sessions.delete(id);
    return { ok: true, snapshot };
  }

  status(): MediaStatus {
    let relayed = this.#closedRelayed;
    let bytes = this.#closedBytes;
    let dropped = this.#closedDropped;
    let unobserved = this.#closedUnobserved;
    let latches = this.#closedLatches;
    let streams = 0;
    let bridges = 0;
    let bridgeParticipants = 0;
    let videoParticipants = 0;
    const v = this.#videoTotals;
    for (const s of this.#sessions.values()) {
      videoParticipants += (s.video?.size ?? 0) + (s.content?.size ?? 0);
      const mixing = s.room?.mixing ?? 0;
      if (mixing > 0) bridges++;
      bridgeParticipants += mixing;
      for (const ep of s.endpoints.values()) {
        ep.sync();
        // A connection is one stream (counted at its first endpoint), an endpoint alone is one too.
        if (ep.peer === undefined || s.connections.some((c) => c.a === ep.id)) streams++;
        const st = ep.stats;
        if (participantOn(ep) === undefined) {
          relayed += st.sent.rtpPackets;
          bytes += st.sent.rtpBytes;
        }
        dropped += st.received.dropped;
        unobserved += st.unobserved;
        latches += ep.latch.relatches + (ep.latch.latched ? 1 : 0);
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
      packetsUnobserved: unobserved,
      latchEvents: latches,
      mediaTimeouts: this.#mediaTimeouts,
      dtmfEvents: this.#dtmfEvents,
      rtcpSent: this.#rtcpSent,
      nativeWorkers: this.#backend.kind === 'native' ? 1 : 0,
      bridges,
      bridgeParticipants,
      bridgeTickLag: Array.from(this.#meetings.totals.tickLag),
      bridgeTickLagSumMs: this.#meetings.totals.tickLagSumMs,
      bridgeTickUs: Math.round(this.#meetings.totals.tickUs),
      videoParticipants,
      videoPacketsForwarded: v.packetsForwarded,
      videoSwitches: v.switches,
      videoKeyFrameRequests: v.keyFrameRequests,
      videoKeyFrameRequestsSuppressed: v.keyFrameRequestsSuppressed,
      videoInvalidPackets: v.invalidPackets,
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
      for (const ep of session.endpoints.values()) ep.sync();
      session.video?.tick(now);
      session.content?.tick(now);
      for (const ep of session.endpoints.values()) {
        for (const f of ep.functions) f.tick(wallMs);
        if (ep.stats.lastRtpMs > last) last = ep.stats.lastRtpMs;
        if (now >= ep.rtcp.nextRtcpMs) this.#sendOwnRtcp(ep, now);
      }
      if (timeout > 0 && session.armed && !session.timedOut && !this.#held(session) && session.endpoints.size > 0 && now - last >= timeout) {
        session.timedOut = true;
        this.#mediaTimeouts++;
        this.#emit({ ev: 'timeout', session: session.id, idleMs: Math.round(now - last) });
      }
    }
  }

  #held(session: Session): boolean {
    for (const ep of session.endpoints.values()) if (ep.hold) return true;
    return false;
  }

  /**
   * Carillon's own RTCP to one endpoint (RFC 3550 §6.4), sent only when its peer's sender reports
   * are not reaching it (a carrier or SIPp that sends none): an SR for the stream Carillon
   * forwards (its SSRC, counts and latest RTP timestamp, so the endpoint sees one consistent
   * source), with a report block about what this endpoint sends, SDES CNAME and an XR RRTR. When
   * the peer reports, its RTCP is relayed instead and Carillon adds nothing the endpoints could
   * confuse. A meeting participant's SR is about the stream the bridge sends it: the endpoint's
   * own SSRC, the participant's packet and octet counts, and the RTP timestamp of now on that
   * stream's timeline (RFC 3550 §6.4.1: the same instant as the NTP timestamp).
   */
  #sendOwnRtcp(ep: Endpoint, now: number): void {
    const interval = this.#opts.rtcpIntervalMs;
    const rtcp = ep.rtcp;
    const l = ep.latch;
    rtcp.nextRtcpMs = now + this.#rtcpDelay();
    if (l.peerAddress === undefined || l.peerRtcpPort === 0) return;
    if (rtcp.lastRelayedSrMs >= 0 && now - rtcp.lastRelayedSrMs < 2 * interval) return;
    const other = ep.peer;
    const st = ep.stats;
    const part = other === undefined ? (participantOn(ep) ?? videoOn(ep)) : undefined;
    let r: OwnReport;
    const ntp = ntpFromUnixMs(this.#wallBaseMs + now);
    if (part !== undefined) {
      // A meeting participant: Carillon is the source of what it hears, under the endpoint's own SSRC.
      if (part.packetsSent === 0 && st.ssrc === -1) return;
      r = createOwnReport(rtcp.ownSsrc, this.#opts.cname);
      r.sender = part.packetsSent > 0;
      r.rtpTimestamp = part.timestampAt(now);
      r.packetCount = part.packetsSent;
      r.octetCount = part.octetsSent;
    } else {
      const forwarded = other === undefined ? -1 : other.continuity.forwardedSsrc;
      if (forwarded === -1 && st.ssrc === -1) return;
      r = createOwnReport(forwarded === -1 ? rtcp.ownSsrc : forwarded, this.#opts.cname);
      r.sender = forwarded !== -1;
      r.rtpTimestamp = other === undefined ? 0 : other.continuity.lastOutTs;
      r.packetCount = st.sent.rtpPackets;
      r.octetCount = Math.max(0, st.sent.rtpBytes - 12 * st.sent.rtpPackets);
    }
    r.ntpHigh = ntp.high;
    r.ntpLow = ntp.low;
    if (st.ssrc !== -1) {
      r.hasBlock = true;
      const blk = r.block;
      blk.ssrc = st.ssrc;
      blk.fractionLost = st.stream.takeFractionLost();
      blk.cumulativeLost = st.packetsLost;
      blk.extendedHighestSeq = st.stream.extendedMax;
      blk.jitter = st.stream.jitter;
      blk.lsr = rtcp.peerSrMiddle32;
      blk.dlsr = rtcp.peerSrMiddle32 === 0 ? 0 : Math.round((now - rtcp.peerSrArrivalMs) * 65.536);
    }
    const buf = Buffer.allocUnsafe(64 + this.#opts.cname.length + 24);
    const len = writeOwnReport(r, buf);
    rtcp.rememberSr(ntpMiddle32(ntp.high, ntp.low), now);
    rtcp.ownPackets++;
    rtcp.ownBytes += len;
    this.#rtcpSent++;
    ep.sendFrom(buf, len, !l.rtcpMux, l.rtcpMux ? l.peerPort : l.peerRtcpPort, l.peerAddress);
  }

  #snapshot(session: Session): SessionSnapshot {
    const endpoints: EndpointSnapshot[] = [];
    for (const ep of session.endpoints.values()) ep.sync();
    for (const ep of session.endpoints.values()) endpoints.push(endpointSnapshot(ep));
    return { endpoints, connections: session.connections.map((c) => ({ a: c.a, b: c.b })) };
  }
}

/** The meeting participant function on an endpoint, if it has one. */
function participantOn(ep: Endpoint): ParticipantFunction | undefined {
  const fns = ep.functions;
  for (let i = 0; i < fns.length; i++) {
    const f = fns[i];
    if (f instanceof ParticipantFunction) return f;
  }
  return undefined;
}

function endpointSnapshot(ep: Endpoint): EndpointSnapshot {
  const s = ep.stats;
  const r = ep.rtcp;
  const rate = ep.clockRateHz;
  const participant = participantOn(ep);
  const video = videoOn(ep);
  return {
    ...(participant === undefined ? {} : { participant: participant.snapshot() }),
    ...(video === undefined ? {} : { video: video.snapshot() }),
    id: ep.id,
    kind: ep.kind,
    clockRateHz: ep.clockRateHz,
    codec: ep.codec ?? null,
    connectedTo: ep.peer?.id ?? null,
    rtpPackets: s.received.rtpPackets,
    rtpBytes: s.received.rtpBytes,
    rtcpPackets: s.received.rtcpPackets,
    rtcpBytes: s.received.rtcpBytes,
    packetsExpected: s.packetsExpected,
    packetsLost: Math.max(0, s.packetsLost),
    jitterUs: Math.round(s.stream.jitterUs),
    sentRtpPackets: s.sent.rtpPackets,
    sentRtpBytes: s.sent.rtpBytes,
    sentRtcpPackets: s.sent.rtcpPackets + r.ownPackets,
    sentRtcpBytes: s.sent.rtcpBytes + r.ownBytes,
    reportedLost: r.reportedCumulativeLost < 0 && r.reportedFractionLost < 0 ? null : Math.max(0, r.reportedCumulativeLost),
    reportedFractionLost: r.reportedFractionLost < 0 ? null : r.reportedFractionLost,
    reportedJitterUs: r.reportedJitterUnits < 0 ? null : Math.round((r.reportedJitterUnits * 1_000_000) / rate),
    rttUs: r.rttUs < 0 ? null : Math.round(r.rttUs),
    dropped: s.received.dropped,
    unobserved: s.unobserved,
    latched: ep.latch.latched,
    relatches: ep.latch.relatches,
    duplicates: s.stream.duplicates,
  };
}
