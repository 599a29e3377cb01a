import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { zeroMediaStatus } from './protocol.ts';
import type {
  EndpointId,
  EndpointOptions,
  EndpointSnapshot,
  MediaCommand,
  MediaEvent,
  MediaFunctionSpec,
  MediaReply,
  MediaStatus,
  MediaWorkerOptions,
  PromptItem,
  RemoteMedia,
  SessionSnapshot,
} from './protocol.ts';

// Call quality is part of the engine's public face: signaling reads records through here only.
export { audioStream, legFigures, participantQualityRecord, qualityRecord, videoQualityRecord } from './quality/record.ts';
export { bridgeCodec } from './mixer/frame-codec.ts';
export type { MediaQualityRecord, QualityContext } from './quality/record.ts';
export type { QualityLog } from './quality/quality-log.ts';

/** The endpoint was opened plain on the native mover and its far end now asks for SRTP (a re-INVITE). */
export class SrtpUnavailableError extends Error {
  constructor() {
    super('SRTP asked on an endpoint opened without it');
  }
}

/** A command the worker refused (an endpoint that is not there, endpoints on different paths, …). */
export class MediaCommandError extends Error {
  readonly code: string;
  constructor(code: string) {
    super(`media command refused: ${code}`);
    this.code = code;
  }
}

/**
 * What signaling needs from the media plane (the engine, or anything speaking its API): sessions
 * of endpoints, each a port pair toward one far end, connected two by two or fed to media
 * functions. Commands of one event-loop turn reach the worker in one message and run in order.
 */
export interface MediaControl {
  /**
   * Opens an endpoint (or finds it: the same id again answers the same port) and answers its
   * RTP port (RTCP is the next one up); `remote` also sets where its far end receives.
   */
  openEndpoint(session: string, endpoint: EndpointId, opts: EndpointOptions): Promise<number | 'ports-exhausted'>;
  /**
   * Sets where an endpoint's far end receives; `arm` also starts the media timeout (the call is
   * answered). Rejects with SrtpUnavailableError when an endpoint on the native mover is asked for SRTP.
   */
  updateEndpoint(session: string, endpoint: EndpointId, remote: RemoteMedia, arm?: boolean): Promise<void>;
  /** Packets relay between two endpoints of a session; each leaves the endpoint it was connected to. */
  connect(session: string, a: EndpointId, b: EndpointId): Promise<void>;
  /**
   * Feeds what an endpoint's far end sends to a media function in the worker (opened with
   * `functions`). Rejects with MediaCommandError (`unsupported-codec`, `meeting-full`, …) when the
   * worker refuses it.
   */
  attach(session: string, endpoint: EndpointId, fn: MediaFunctionSpec): Promise<void>;
  /** Sets a meeting participant's place in its session's bridge (ParticipantCommand). */
  participant(session: string, endpoint: EndpointId, state: { readonly inMeeting?: boolean; readonly muted?: boolean }): Promise<void>;
  /**
   * Plays prompts to a participant, or to everyone in the session's bridge (`endpoint`
   * undefined); a `played` event with `token` follows when they end (PlayCommand).
   */
  play(session: string, endpoint: EndpointId | undefined, items: readonly PromptItem[], token: number, loop?: boolean): Promise<void>;
  /** Stops what plays to a participant. */
  stopPlay(session: string, endpoint: EndpointId): Promise<void>;
  /** A meeting's video receiver asked for a key frame through signaling (KeyFrameCommand). */
  keyFrame(session: string, endpoint: EndpointId): Promise<void>;
  /** The meeting's presenter: its content endpoint (null: nobody presents) (PresenterCommand). */
  presenter(session: string, endpoint: EndpointId | null): Promise<void>;
  /**
   * Moves an endpoint, sockets and functions and all, into another session (an IVR caller into
   * the meeting it asked for). 'other-worker': the target session lives on another media worker,
   * so the endpoint cannot follow (a new endpoint there is needed).
   */
  moveEndpoint(session: string, endpoint: EndpointId, to: string, capacity?: number): Promise<'moved' | 'other-worker'>;
  /**
   * Records a meeting session's mix (RecordCommand): `audio` events of endpoint MIX_ENDPOINT in
   * fragments of `fragmentMs` until it is called with 0 (resolved once the last fragment has
   * gone up). Rejects with MediaCommandError (`no-such-session`, `not-a-participant`: no bridge,
   * `bad-fragment`).
   */
  record(session: string, fragmentMs: number): Promise<void>;
  /** Closes one endpoint; resolves with its final figures (undefined when it was not open). */
  closeEndpoint(session: string, endpoint: EndpointId): Promise<EndpointSnapshot | undefined>;
  /** Starts the media timeout of a session (the call was answered). */
  arm(session: string): Promise<void>;
  /** Ends a session; resolves with its final figures (undefined when it had no endpoints). */
  delete(session: string): Promise<SessionSnapshot | undefined>;
  query(session: string): Promise<SessionSnapshot | undefined>;
  /** Events (DTMF digits, media timeouts, tapped audio, meeting speakers and finished plays) for sessions. */
  onEvent: ((e: MediaEvent) => void) | undefined;
}

export interface MediaEngineOptions extends Omit<MediaWorkerOptions, 'low' | 'high' | 'h323'> {
  readonly low: number;
  readonly high: number;
  /** H.323's own media range (inclusive), sliced across workers like the main one. */
  readonly h323Range?: { readonly low: number; readonly high: number } | undefined;
  /** Worker threads; 0 = cores − 1, at least 1. */
  readonly workers: number;
}

interface WorkerSlot {
  readonly index: number;
  readonly options: MediaWorkerOptions;
  worker: Worker;
  readonly pending: Map<number, (r: MediaReply) => void>;
  sessions: number;
  /** Commands waiting for this turn's single postMessage. */
  outbox: { id: number; cmd: MediaCommand }[];
}

/** RTP/RTCP port pairs (even RTP port, odd RTCP port) in [low, high]. */
export function portPairsIn(low: number, high: number): number {
  const first = low % 2 === 0 ? low : low + 1;
  return Math.max(0, Math.floor((high - first + 1) / 2));
}

/** Splits [low, high] into `n` slices of whole even/odd pairs. */
export function sliceRange(low: number, high: number, n: number): { low: number; high: number }[] {
  const first = low % 2 === 0 ? low : low + 1;
  const pairs = portPairsIn(low, high);
  const per = Math.floor(pairs / n);
  const out: { low: number; high: number }[] = [];
  for (let i = 0; i < n; i++) {
    const lo = first + 2 * per * i;
    const count = i === n - 1 ? pairs - per * i : per;
    out.push({ low: lo, high: lo + 2 * count - 1 });
  }
  return out;
}

/** The worker entry next to this module (TypeScript sources under tsx or vitest, JavaScript when built). */
function spawn(options: MediaWorkerOptions): Worker {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    const target = new URL('./worker.ts', here).href;
    const api = import.meta.resolve('tsx/esm/api');
    const code = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(target)}); });`;
    return new Worker(code, { eval: true, workerData: options });
  }
  return new Worker(new URL('./worker.js', here), { workerData: options });
}

/**
 * The media engine (DESIGN.md process model): media worker threads, each owning a slice of the
 * RTP port range, driven by commands. A session stays on the worker that allocated it.
 */
export class MediaEngine implements MediaControl {
  readonly #slots: WorkerSlot[] = [];
  readonly #sessionSlot = new Map<string, WorkerSlot>();
  readonly #logger: Logger;
  #nextId = 1;
  #closing = false;
  onEvent: ((e: MediaEvent) => void) | undefined;

  private constructor(logger: Logger) {
    this.#logger = logger;
  }

  static async start(opts: MediaEngineOptions, logger: Logger): Promise<MediaEngine> {
    const engine = new MediaEngine(logger);
    const n = opts.workers > 0 ? opts.workers : Math.max(1, availableParallelism() - 1);
    const slices = sliceRange(opts.low, opts.high, n);
    const h323Slices = opts.h323Range === undefined ? undefined : sliceRange(opts.h323Range.low, opts.h323Range.high, n);
    await Promise.all(
      slices.map(async (slice, index) => {
        const options: MediaWorkerOptions = {
          bindAddress: opts.bindAddress,
          low: slice.low,
          high: slice.high,
          h323: h323Slices?.[index],
          strict: opts.strict,
          mediaTimeoutMs: opts.mediaTimeoutMs,
          rtcpIntervalMs: opts.rtcpIntervalMs,
          cname: opts.cname,
          releaseDelayMs: opts.releaseDelayMs,
          nativeRelay: opts.nativeRelay,
        };
        const slot: WorkerSlot = { index, options, worker: spawn(options), pending: new Map(), sessions: 0, outbox: [] };
        engine.#slots.push(slot);
        await engine.#wire(slot);
      }),
    );
    engine.#slots.sort((x, y) => x.index - y.index);
    return engine;
  }

  get workers(): number {
    return this.#slots.length;
  }

  #wire(slot: WorkerSlot): Promise<void> {
    return new Promise((resolve, reject) => {
      const w = slot.worker;
      w.on('message', (msg: { replies?: [number, MediaReply][]; event?: MediaEvent; ready?: boolean }) => {
        if (msg.ready === true) {
          resolve();
          return;
        }
        if (msg.event !== undefined) {
          this.onEvent?.(msg.event);
          return;
        }
        for (const [id, reply] of msg.replies ?? []) {
          const done = slot.pending.get(id);
          slot.pending.delete(id);
          done?.(reply);
        }
      });
      w.on('error', (err) => {
        this.#logger.error({ err, worker: slot.index }, 'media worker failed');
        reject(err);
      });
      w.on('exit', (code) => {
        for (const done of slot.pending.values()) done({ ok: false, error: 'internal' });
        slot.pending.clear();
        if (this.#closing) return;
        // A worker that died took its sockets with it: its calls lose media, new ones get a fresh worker.
        this.#logger.error({ code, worker: slot.index }, 'media worker exited; restarting it');
        for (const [id, s] of this.#sessionSlot) if (s === slot) this.#sessionSlot.delete(id);
        slot.sessions = 0;
        slot.worker = spawn(slot.options);
        this.#wire(slot).catch(() => undefined);
      });
    });
  }

  /**
   * Queues a command; every command of this event-loop turn goes to the worker in one message
   * (a postMessage costs more than the command: batching is what keeps media cheap per call).
   */
  #send(slot: WorkerSlot, cmd: MediaCommand): Promise<MediaReply> {
    const id = this.#nextId++;
    return new Promise((resolve) => {
      slot.pending.set(id, resolve);
      if (slot.outbox.push({ id, cmd }) === 1) {
        setImmediate(() => {
          const batch = slot.outbox;
          slot.outbox = [];
          slot.worker.postMessage({ batch });
        });
      }
    });
  }

  #slotFor(session: string): WorkerSlot {
    let slot = this.#sessionSlot.get(session);
    if (slot === undefined) {
      slot = this.#slots.reduce((best, s) => (s.sessions < best.sessions ? s : best));
      slot.sessions++;
      this.#sessionSlot.set(session, slot);
    }
    return slot;
  }

  async openEndpoint(session: string, endpoint: EndpointId, opts: EndpointOptions): Promise<number | 'ports-exhausted'> {
    const r = await this.#send(this.#slotFor(session), {
      op: 'open',
      session,
      endpoint,
      kind: opts.kind,
      clockRateHz: opts.clockRateHz,
      ...(opts.codec === undefined ? {} : { codec: opts.codec }),
      ...(opts.secure === true ? { secure: true } : {}),
      ...(opts.functions === true ? { functions: true } : {}),
      ...(opts.remote === undefined ? {} : { remote: opts.remote }),
      ...(opts.portRange === undefined ? {} : { portRange: opts.portRange }),
    });
    return r.ok && r.port !== undefined ? r.port : 'ports-exhausted';
  }

  async updateEndpoint(session: string, endpoint: EndpointId, remote: RemoteMedia, arm = false): Promise<void> {
    const slot = this.#sessionSlot.get(session);
    if (slot === undefined) return;
    const r = await this.#send(slot, arm ? { op: 'update', session, endpoint, remote, arm } : { op: 'update', session, endpoint, remote });
    if (!r.ok && r.error === 'srtp-unavailable') throw new SrtpUnavailableError();
  }

  async connect(session: string, a: EndpointId, b: EndpointId): Promise<void> {
    const slot = this.#sessionSlot.get(session);
    if (slot === undefined) throw new MediaCommandError('no-such-session');
    const r = await this.#send(slot, { op: 'connect', session, a, b });
    if (!r.ok) throw new MediaCommandError(r.error);
  }

  async attach(session: string, endpoint: EndpointId, fn: MediaFunctionSpec): Promise<void> {
    const slot = this.#sessionSlot.get(session);
    if (slot === undefined) throw new MediaCommandError('no-such-session');
    const r = await this.#send(slot, { op: 'attach', session, endpoint, function: fn });
    if (!r.ok) throw new MediaCommandError(r.error);
  }

  async participant(session: string, endpoint: EndpointId, state: { readonly inMeeting?: boolean; readonly muted?: boolean }): Promise<void> {
    const slot = this.#sessionSlot.get(session);
    if (slot === undefined) throw new MediaCommandError('no-such-session');
    const r = await this.#send(slot, {
      op: 'participant',
      session,
      endpoint,
      ...(state.inMeeting === undefined ? {} : { inMeeting: state.inMeeting }),
      ...(state.muted === undefined ? {} : { muted: state.muted }),
    });
    if (!r.ok) throw new MediaCommandError(r.error);
  }

  async play(session: string, endpoint: EndpointId | undefined, items: readonly PromptItem[], token: number, loop = false): Promise<void> {
    const slot = this.#sessionSlot.get(session);
    if (slot === undefined) throw new MediaCommandError('no-such-session');
    const r = await this.#send(slot, { op: 'play', session, ...(endpoint === undefined ? {} : { endpoint }), items, token, ...(loop ? { loop: true } : {}) });
    if (!r.ok) throw new MediaCommandError(r.error);
  }

  async stopPlay(session: string, endpoint: EndpointId): Promise<void> {
    const slot = this.#sessionSlot.get(session);
    if (slot === undefined) throw new MediaCommandError('no-such-session');
    const r = await this.#send(slot, { op: 'stop-play', session, endpoint });
    if (!r.ok) throw new MediaCommandError(r.error);
  }

  async keyFrame(session: string, endpoint: EndpointId): Promise<void> {
    const slot = this.#sessionSlot.get(session);
    if (slot === undefined) throw new MediaCommandError('no-such-session');
    const r = await this.#send(slot, { op: 'key-frame', session, endpoint });
    if (!r.ok) throw new MediaCommandError(r.error);
  }

  async presenter(session: string, endpoint: EndpointId | null): Promise<void> {
    const slot = this.#sessionSlot.get(session);
    if (slot === undefined) throw new MediaCommandError('no-such-session');
    const r = await this.#send(slot, { op: 'presenter', session, endpoint });
    if (!r.ok) throw new MediaCommandError(r.error);
  }

  async moveEndpoint(session: string, endpoint: EndpointId, to: string, capacity?: number): Promise<'moved' | 'other-worker'> {
    const slot = this.#sessionSlot.get(session);
    if (slot === undefined) throw new MediaCommandError('no-such-session');
    const target = this.#sessionSlot.get(to);
    if (target !== undefined && target !== slot) return 'other-worker';
    if (target === undefined) {
      // The target session is made where the endpoint is.
      slot.sessions++;
      this.#sessionSlot.set(to, slot);
    }
    const r = await this.#send(slot, { op: 'move', session, endpoint, to, ...(capacity === undefined ? {} : { capacity }) });
    if (!r.ok) throw new MediaCommandError(r.error);
    return 'moved';
  }

  async record(session: string, fragmentMs: number): Promise<void> {
    const slot = this.#sessionSlot.get(session);
    if (slot === undefined) throw new MediaCommandError('no-such-session');
    const r = await this.#send(slot, { op: 'record', session, fragmentMs });
    if (!r.ok) throw new MediaCommandError(r.error);
  }

  async closeEndpoint(session: string, endpoint: EndpointId): Promise<EndpointSnapshot | undefined> {
    const slot = this.#sessionSlot.get(session);
    if (slot === undefined) return undefined;
    const r = await this.#send(slot, { op: 'close-endpoint', session, endpoint });
    return r.ok ? r.endpoint : undefined;
  }

  async arm(session: string): Promise<void> {
    const slot = this.#sessionSlot.get(session);
    if (slot !== undefined) await this.#send(slot, { op: 'arm', session });
  }

  async delete(session: string): Promise<SessionSnapshot | undefined> {
    const slot = this.#sessionSlot.get(session);
    if (slot === undefined) return undefined;
    this.#sessionSlot.delete(session);
    slot.sessions--;
    const r = await this.#send(slot, { op: 'delete', session });
    return r.ok ? r.snapshot : undefined;
  }

  async query(session: string): Promise<SessionSnapshot | undefined> {
    const slot = this.#sessionSlot.get(session);
    if (slot === undefined) return undefined;
    const r = await this.#send(slot, { op: 'query', session });
    return r.ok ? r.snapshot : undefined;
  }

  /** Every worker's counters, summed (scrape time). */
  async status(): Promise<MediaStatus> {
    const all = await Promise.all(this.#slots.map((s) => this.#send(s, { op: 'status' })));
    const { bridgeTickLag: lag, ...sum } = zeroMediaStatus();
    const counts = sum as Record<keyof typeof sum, number>;
    for (const r of all) {
      if (!r.ok || r.status === undefined) continue;
      const st = r.status;
      for (const k of Object.keys(counts) as (keyof typeof counts)[]) counts[k] += st[k];
      const into = lag as number[];
      for (let i = 0; i < into.length; i++) into[i] = (into[i] ?? 0) + (st.bridgeTickLag[i] ?? 0);
    }
    return { ...sum, bridgeTickLag: lag };
  }

  /** Closes every session (ports back) and stops the workers. */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    await Promise.all(
      this.#slots.map(
        (slot) =>
          new Promise<void>((resolve) => {
            const w = slot.worker;
            const done = (): void => resolve();
            w.once('exit', done);
            w.on('message', (m: { closed?: boolean }) => {
              if (m.closed === true) void w.terminate();
            });
            setImmediate(() => w.postMessage({ shutdown: true }));
          }),
      ),
    );
  }
}
