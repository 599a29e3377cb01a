import crypto from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import type { Logger } from 'pino';
import type { Clock, Timers } from '../common/clock.ts';
import { nodeTimers, systemClock } from '../common/clock.ts';
import type { Random } from '../common/random.ts';
import { createCryptoRandom } from '../common/random.ts';
import type { SocketFactory } from '../common/sockets.ts';
import { isIpv6, socketsWithLookup } from '../common/sockets.ts';
import { ConfigError } from '../common/errors.ts';
import { DnsResolver, lookupFunction } from '../common/resolver.ts';
import type { Resolver } from '../common/resolver.ts';
import { CachingResolver } from '../common/resolver-cache.ts';
import { SipLocator } from '../signaling/sip/resolve/sip-resolver.ts';
import { buildApp } from '../control-plane/api/app.ts';
import { VOICE_CONNECTOR_REGIONS } from '../control-plane/api/chime/voice-connectors.ts';
import { seedAdminKey } from '../control-plane/store/access-keys.ts';
import { openStoreWhenReachable } from '../control-plane/store/store-connect.ts';
import { ConfigSnapshots } from '../control-plane/config-snapshot.ts';
import { StoreMeetingDirectory } from '../control-plane/meeting-directory.ts';
import { EMPTY_SNAPSHOT } from '../common/config-snapshot.ts';
import type { Store } from '../control-plane/store/store.ts';
import type { ConfigSnapshot } from '../common/config-snapshot.ts';
import { createMetricsRegistry } from '../metrics/registry.ts';
import { MediaEngine, bridgeCodec, portPairsIn } from '../media/engine.ts';
import type { MediaStatus } from '../media/protocol.ts';
import { QualityLog } from '../media/quality/quality-log.ts';
import { MediaAnchoring } from '../signaling/calls/call-media.ts';
import { SipEdge } from '../signaling/sip/sip-edge.ts';
import type { SignalingGauges } from '../metrics/registry.ts';
import { TrunkCalls } from '../signaling/calls/trunk-calls.ts';
import { MeetingCalls } from '../signaling/calls/meeting-calls.ts';
import { MeetingEvents } from '../signaling/calls/meeting-events.ts';
import { CarrierDialOut } from '../signaling/calls/dial-out.ts';
import { MeetingDialInRouter } from '../signaling/routing/meeting-dial-in.ts';
import { H323Edge } from '../signaling/h323/h323-edge.ts';
import { MeetingContent } from '../signaling/calls/meeting-content.ts';
import { addH323Metrics } from '../metrics/h323-metrics.ts';
import { addContentMetrics } from '../metrics/content-metrics.ts';
import type { MeetingDirectory } from '../signaling/routing/meeting-dial-in.ts';
import type { CallRouter } from '../signaling/routing/route.ts';
import { voiceConnectorIdOfHost } from '../signaling/routing/voice-connector-host.ts';
import { dialedTargetOf } from '../signaling/sip/ua/sip-routing.ts';
import { loggingOf, sipLogsAnywhere } from '../metrics/voice-connector-logging.ts';
import { RouteHealth } from '../signaling/routing/route-health.ts';
import { TerminationHealthRecorder } from '../control-plane/termination-health.ts';
import { VoiceConnectorRouter } from '../signaling/routing/voice-connector-router.ts';
import { DigestAuth } from '../signaling/auth/digest.ts';
import { AuthGuard } from '../signaling/auth/auth-guard.ts';
import { addSipAuthMetrics } from '../metrics/sip-auth-metrics.ts';
import { CallEvents } from '../signaling/calls/call-events.ts';
import type { SipRequest } from '../signaling/sip/message/types.ts';
import type { Source } from '../signaling/sip/transport/types.ts';
import { addRouteHealthMetrics, addVoiceConnectorMediaMetrics, addVoiceConnectorMetrics, VoiceConnectorSeries } from '../metrics/voice-connector-metrics.ts';
import { writeCdrs } from '../metrics/cdr.ts';
import { CdrJournal } from '../metrics/cdr-journal.ts';
import { CdrUploader } from '../metrics/cdr-upload.ts';
import { addStreamingMetrics, createCallStreaming } from './streaming.ts';
import { createMeetingRecords } from './meeting-records.ts';
import { usageDirectory } from '../control-plane/usage-directory.ts';
import { RecordingCalls } from '../signaling/calls/recording-call.ts';
import type { CallStreaming } from './streaming.ts';
import { SipMessageLog } from '../metrics/sip-log.ts';
import type { ServerConfig } from './config.ts';
import { resolveConfig } from './config.ts';
import { loadTlsMaterial } from './tls-material.ts';

/** Ports chosen at start (what `<data>/ports.json` holds). null = that listener is off. */
export interface Ports {
  readonly sipUdp: number | null;
  readonly sipTcp: number | null;
  readonly sipTls: number | null;
  /** H.323 signaling is not served yet; always null until the H.323 edge lands. */
  readonly h323: number | null;
  /** BFCP (TCP and UDP), null when --bfcp is off. */
  readonly bfcp: number | null;
  readonly api: number | null;
}

export interface ServerDeps {
  /**
   * Where every DNS question of the server goes (A/AAAA, SRV, NAPTR), through the process's
   * cache: SIP next hops and OPTIONS pings (RFC 3263), the CDR bucket, streaming sinks,
   * webhooks and NATS. Default: DNS through node:dns, at `dnsServers` or the system's servers.
   */
  readonly resolver?: Resolver;
  readonly clock?: Clock;
  readonly timers?: Timers;
  readonly random?: Random;
  readonly sockets?: SocketFactory;
  readonly logger?: Logger;
}

export interface CarillonServer {
  readonly config: ServerConfig;
  /** Opens every listener, writes ports.json, resolves with the ports. */
  start(): Promise<Ports>;
  /** Stops new calls, ends live ones with BYE, closes listeners. Idempotent. */
  close(): Promise<void>;
  readonly ports: Ports;
  stats(): SignalingGauges;
  /** The signaling edge (for tests and metrics). */
  readonly edge: SipEdge;
  /** The H.323 edge, when --h323 is on (for tests and metrics). */
  readonly h323: H323Edge | undefined;
  /** The call layer: trunk calls in progress and their counters (for tests and metrics). */
  readonly calls: TrunkCalls;
  /** Meeting participants and meetings in progress (for tests, metrics and the API's live view). */
  readonly meetings: MeetingCalls;
  /** The media workers' counters, summed (port pool, packets, timeouts). */
  mediaStatus(): Promise<MediaStatus>;
  /** The control plane's configuration snapshots (undefined with the API off). */
  readonly snapshots: ConfigSnapshots | undefined;
  /** The meeting directory dial-in reads (undefined with the API off). */
  readonly meetingDirectory: StoreMeetingDirectory | undefined;
  /** Puts every log line handed over so far (SIP messages, media quality) on disk. */
  flushLogs(): Promise<void>;
  /**
   * A fault nothing caught (a promise rejected with no handler): logged with its stack and
   * counted (`carillon_internal_errors_total`) — one such fault never takes every call down.
   */
  reportInternalError(err: unknown): void;
  /** The call event bus: started, ringing, answered, ended (with reason), quality (the final record). */
  readonly events: CallEvents;
  /** Call audio streaming: the service, its status events and their delivery. */
  readonly streaming: CallStreaming;
  /** The meeting event bus the meeting call layer emits on: participant CDRs, meeting metrics and events, usage reports listen. */
  readonly meetingEvents: MeetingEvents;
}

/**
 * Builds a server from a configuration (partial: defaults fill the rest). The composition root:
 * every dependency is made here or injected.
 */
export function createServer(config: Partial<Record<string, unknown>> | ServerConfig, deps: ServerDeps = {}): CarillonServer {
  const cfg: ServerConfig = 'advertisedAddress' in config ? (config as ServerConfig) : resolveConfig(config as Record<string, unknown>);
  const clock = deps.clock ?? systemClock;
  const timers = deps.timers ?? nodeTimers;
  const random = deps.random ?? createCryptoRandom();
  const resolver = new CachingResolver(deps.resolver ?? systemResolver(cfg.dnsServers), { clock });
  const lookup = lookupFunction(resolver);
  const sockets = deps.sockets ?? socketsWithLookup(lookup);
  const locator = new SipLocator({ resolver, random, families: isIpv6(cfg.bind) ? [6, 4] : [4] });
  const locate = locator.locate;
  const logger = deps.logger ?? pino({ level: cfg.logLevel, base: { svc: 'carillon' } });
  let edge: SipEdge | undefined;
  let calls: TrunkCalls | undefined;
  let engine: MediaEngine | undefined;
  let qualityLog: QualityLog | undefined;
  let recorder: RecordingCalls | undefined;
  let store: Store | undefined;
  let snapshots: ConfigSnapshots | undefined;
  let meetingDirectory: StoreMeetingDirectory | undefined;
  let meetings: MeetingCalls | undefined;
  let meetingQualityLog: QualityLog | undefined;
  let app: FastifyInstance | undefined;
  let h323: H323Edge | undefined;
  let ports: Ports = { sipUdp: null, sipTcp: null, sipTls: null, h323: null, bfcp: null, api: null };
  let content: MeetingContent | undefined;
  let ready = false;
  let closing: Promise<void> | undefined;

  const internalErrors = { count: 0 };
  const events = new CallEvents((err) => logger.error({ err }, 'call event listener failed'));
  // Termination credentials: nonces bound to the source, and bans for sources that keep failing.
  const digest = new DigestAuth({ secret: crypto.randomBytes(32), algorithms: cfg.sip.digestAlgorithms, clock, random, timers });
  const authGuard = new AuthGuard(
    { failuresPerSource: cfg.sip.authFailuresPerSource, failuresPerVoiceConnector: cfg.sip.authFailuresPerVoiceConnector, windowMs: cfg.sip.authFailureWindowSec * 1000, banMs: cfg.sip.authBanSec * 1000 },
    { clock, timers, logger },
  );
  // Voice connector classification over the control plane's snapshot, then the config file's static routes.
  const vcRouter = new VoiceConnectorRouter({
    domain: cfg.domain,
    snapshot: () => snapshots?.current ?? EMPTY_SNAPSHOT,
    staticRoutes: cfg.staticRoutes,
    authGuard,
    clock,
    random,
    health: { isUp: (host, port, protocol) => routeHealth.isUp(host, port, protocol) },
  });
  const routeHealth = new RouteHealth({
    snapshot: () => snapshots?.current ?? EMPTY_SNAPSHOT,
    probe: (hop) => (edge === undefined ? Promise.resolve(undefined) : edge.probe(hop)),
    timers,
    clock,
    logger,
    intervalMs: cfg.sip.optionsPingIntervalSec * 1000,
  });
  // Meeting dial-in ahead of voice connector routing: `<ID>@<meeting domain>`, `u@…`, the bare domain, dial-in numbers.
  const meetingDomains = [cfg.domain, ...(cfg.meetingDomain === undefined ? [] : [cfg.meetingDomain])];
  const directory: MeetingDirectory = {
    meeting: (id) => meetingDirectory?.meeting(id),
    meetingOfId: (pin) => meetingDirectory?.meetingOfId(pin),
    meetingOfHostId: (pin) => meetingDirectory?.meetingOfHostId(pin),
    isDialInNumber: (e164) => meetingDirectory?.isDialInNumber(e164) ?? false,
  };
  const isCarrier = (address: string): boolean => current().carriers.some((c) => c.host === address || c.host === address.replace(/^::ffff:/, ''));
  const router: CallRouter = new MeetingDialInRouter({ domains: meetingDomains, directory, isCarrier }, vcRouter);
  let terminationHealth: TerminationHealthRecorder | undefined;
  const current = (): ConfigSnapshot => snapshots?.current ?? EMPTY_SNAPSHOT;
  // CDRs first: a call's records are on disk before anything else hears that it ended.
  // The flag wins; else the bucket an admin set through UpdateGlobalSettings (with the API on).
  const cdrUploader =
    cfg.cdrBucket === undefined && cfg.api < 0
      ? undefined
      : new CdrUploader({ spool: path.join(cfg.data, 'cdrs'), bucket: () => cfg.cdrBucket ?? snapshots?.current.cdrBucket, endpoint: cfg.s3Endpoint, lookup, logger, timers });
  const cdrJournal = new CdrJournal({ file: path.join(cfg.data, 'journal', 'cdrs.jsonl'), clock, timers, logger });
  const cdrWriter = writeCdrs(events, { dir: path.join(cfg.data, 'cdrs'), accountId: cfg.accountId, clock, logger, onWritten: (file) => cdrUploader?.enqueue(file), journal: cdrJournal });
  const streaming = createCallStreaming({ dataDir: cfg.data, accountId: cfg.accountId, config: cfg.streaming, snapshot: () => snapshots?.current ?? EMPTY_SNAPSHOT, calls: events, logger, clock, lookup, resolver });
  // Meeting records: participant CDRs (same spool and uploader), meeting events on the streaming
  // targets, the weekly usage reports (<data>/reports, or the CDR bucket when one is set).
  const meetingEvents = new MeetingEvents((err) => logger.error({ err }, 'meeting event listener failed'));
  const meetingRecords = createMeetingRecords({
    events: meetingEvents,
    dataDir: cfg.data,
    accountId: cfg.accountId,
    region: cfg.media.region,
    clock,
    timers,
    logger,
    statusEvents: streaming.events,
    onCdrWritten: (file) => cdrUploader?.enqueue(file),
    usage: { directory: () => (store === undefined ? Promise.resolve([]) : usageDirectory(store)), bucket: () => cfg.cdrBucket ?? snapshots?.current.cdrBucket, endpoint: cfg.s3Endpoint, lookup },
  });
  const sipLogsOn = sipLogsAnywhere();
  const sipLog = new SipMessageLog(events, {
    dir: path.join(cfg.data, 'logs', 'voice-connector'),
    clock,
    enabled: (vcId) => loggingOf(current(), vcId).EnableSIPLogs === true,
    anyEnabled: () => sipLogsOn(current()),
  });
  // A PBX's OPTIONS to its voice connector's host is its keepalive: termination health.
  const onOptions = (req: SipRequest, source: Source): void => {
    const vcId = voiceConnectorIdOfHost(dialedTargetOf(req.uri)?.host ?? '', cfg.domain);
    if (terminationHealth === undefined || vcId === undefined) return;
    if (!(snapshots?.current.voiceConnectors.has(vcId) ?? false)) return;
    terminationHealth.record(vcId, source.address, clock.nowMs()).catch((err: unknown) => logger.warn({ err, vcId }, 'termination health not stored'));
  };

  const server: CarillonServer = {
    config: cfg,
    events,
    streaming,
    meetingEvents,
    get ports() {
      return ports;
    },
    get h323() {
      return h323;
    },
    get edge() {
      if (edge === undefined) throw new Error('server not started');
      return edge;
    },
    get calls() {
      if (calls === undefined) throw new Error('server not started');
      return calls;
    },
    get meetings() {
      if (meetings === undefined) throw new Error('server not started');
      return meetings;
    },
    async start() {
      mkdirSync(cfg.data, { recursive: true });
      // Before SIP listens: CDRs for the calls a crash interrupted, then a fresh journal.
      cdrWriter.start();
      meetingRecords.startCdrs();
      const tls = cfg.sipTls >= 0 ? await loadTlsMaterial(cfg.data, cfg.domain, cfg.tlsCert, cfg.tlsKey) : undefined;
      const sip = cfg.sip;
      engine = await MediaEngine.start(
        {
          workers: cfg.mediaWorkers,
          bindAddress: cfg.bind,
          low: cfg.rtpLow,
          high: cfg.rtpHigh,
          h323Range: cfg.h323 >= 0 ? { low: cfg.h323RtpLow, high: cfg.h323RtpHigh } : undefined,
          strict: cfg.media.strictSource,
          mediaTimeoutMs: cfg.mediaTimeout * 1000,
          rtcpIntervalMs: cfg.media.rtcpIntervalMs,
          cname: `carillon@${cfg.advertisedAddress}`,
          releaseDelayMs: cfg.media.releaseDelayMs,
          nativeRelay: cfg.media.relay === 'native',
        },
        logger,
      );
      qualityLog = new QualityLog(cfg.data, (vcId) => loggingOf(current(), vcId).EnableMediaMetricLogs === true);
      // Meetings' recordings: their mixes on the streaming sink (files under <data>/streams/meetings by default).
      const meetingRecorder = streaming.meetingRecorder(engine, cfg.media.region);
      meetingRecorder.onEnded = (meetingId) => meetings?.recordingEnded(meetingId);
      const media = new MediaAnchoring({
        onOtherEvent: (e) => {
          if (meetings?.onMediaEvent(e) === true || meetingRecorder.onMediaEvent(e)) return;
          if (e.ev === 'timeout') recorder?.onMediaTimeout(e.session);
        },
        streamFragmentMs: (ctx) => streaming.fragmentMsFor(ctx),
        onAudio: (session, index, side, timecodeMs, pcm) => streaming.onAudio(session, index, side, timecodeMs, pcm),
        control: engine,
        address: cfg.advertisedAddress,
        clock,
        timers,
        logger,
        qualityLog,
        qualityIntervalMs: cfg.media.qualityIntervalSec * 1000,
        region: cfg.media.region,
        maxMediaLines: cfg.media.maxMediaLines,
        // One source may hold at most half the range unless configured: another trunk still gets ports.
        maxPortPairsPerSource: cfg.media.maxPortPairsPerSource ?? Math.max(2, Math.floor(portPairsIn(cfg.rtpLow, cfg.rtpHigh) / 2)),
      });
      // SIPREC recording sessions, answered by Carillon for voice connectors that stream.
      recorder = new RecordingCalls({
        control: engine,
        address: cfg.advertisedAddress,
        random,
        logger,
        fragmentMsFor: (vcId) => streaming.fragmentMsOf(vcId),
        onBegin: (s) => streaming.recording.begin(s),
        onUpdate: (s, fields) => streaming.recording.update(s, fields),
        onEnd: (s) => streaming.recording.end(s),
        maxMediaLines: cfg.media.maxMediaLines,
      });
      const ca = sip.tlsCaFile === undefined ? undefined : readFileSync(sip.tlsCaFile, 'utf8');
      edge = new SipEdge(
        {
          bindAddress: cfg.bind,
          advertisedAddress: cfg.advertisedAddress,
          sipUdp: cfg.sipUdp,
          sipTcp: cfg.sipTcp,
          sipTls: cfg.sipTls,
          tls: tls === undefined ? undefined : { cert: tls.cert, key: tls.key, verifyServer: sip.tlsVerifyServer, ...(ca === undefined ? {} : { ca }) },
          timers: { t1Ms: sip.t1Ms, t2Ms: sip.t2Ms, t4Ms: sip.t4Ms, timerDMs: sip.timerDMs },
          maxMessageBytes: sip.maxMessageBytes,
          stream: {
            idleTimeoutMs: sip.tcpIdleTimeoutSec * 1000,
            maxConnectionsPerSource: sip.maxConnectionsPerSource,
            maxConnections: 16_384,
            maxMessageBytes: sip.maxMessageBytes,
            maxPendingWriteBytes: 4 * 1024 * 1024,
            connectTimeoutMs: 5_000,
            messageDeadlineMs: sip.messageDeadlineSec * 1000,
          },
          rateLimit: { requestsPerSec: sip.requestsPerSecPerSource, burst: sip.burstPerSource },
          sessionExpiresSec: sip.sessionExpiresSec,
          minSeSec: sip.minSeSec,
        },
        { sockets, timers, clock, random, logger, locate, digest, onOptions, sipTap: (buf) => sipLog.tap(buf) },
      );
      // Meeting participants' records: <data>/logs/voice-connector/meetings/media-quality.jsonl, always on.
      meetingQualityLog = new QualityLog(cfg.data);
      // Meetings' presentation content: one floor per meeting, over BFCP (and H.239 on H.323 legs).
      let bfcpPort: number | null = null;
      if (cfg.bfcp >= 0) {
        content = new MeetingContent({ control: engine, clock, timers, sockets, random, logger: logger.child({ part: 'bfcp' }) });
        bfcpPort = await content.start(cfg.bind, cfg.bfcp);
      }
      meetings = new MeetingCalls({
        content,
        clock,
        timers,
        random,
        logger,
        control: engine,
        address: cfg.advertisedAddress,
        directory,
        mixable: (codec) => bridgeCodec(codec) !== undefined,
        events: meetingEvents,
        qualityLog: meetingQualityLog,
        qualityIntervalMs: cfg.media.qualityIntervalSec * 1000,
        mediaTimeoutMs: cfg.mediaTimeout * 1000,
        region: cfg.media.region,
        defaultLanguage: cfg.meetingLanguage,
        dialOut: new CarrierDialOut({ timers, placer: edge.placer, route: (to, from) => vcRouter.dialOut(to, from), domain: cfg.domain }),
        recording: meetingRecorder,
      });
      const trunkCalls = new TrunkCalls({ timers, clock, random, logger, router, placer: edge.placer, media, events, recorder, meetings });
      trunkCalls.dtmfListeners.add((call, side, digit, durationMs) => logger.debug({ call: call.id, side, digit, durationMs }, 'dtmf'));
      edge.onCall = (incoming) => trunkCalls.take(incoming);
      calls = trunkCalls;
      const sipPorts = await edge.start();
      // Room systems and gateways over H.323 (TCP 1720): the same call layer as SIP.
      let h323Port: number | null = null;
      if (cfg.h323 >= 0) {
        h323 = new H323Edge(
          { bindAddress: cfg.bind, advertisedAddress: cfg.advertisedAddress, port: cfg.h323, domain: cfg.domain },
          { sockets, timers, logger: logger.child({ edge: 'h323' }), draw: () => random.float() },
        );
        h323.onCall = (incoming) => trunkCalls.take(incoming);
        h323Port = await h323.start();
      }
      const e = edge;
      const eng = engine;
      const registry = createMetricsRegistry(() => ({
        edge: e.counters,
        calls: {
          get callsStarted() {
            return trunkCalls.counters.callsStarted;
          },
          get callsAnswered() {
            return trunkCalls.counters.callsAnswered;
          },
          get callsFailed() {
            return trunkCalls.counters.callsFailed;
          },
          // Refusals are the SIP user agent's to write (routing's among them).
          get rejectedRequests() {
            return e.ua.counters.rejectedRequests;
          },
        },
        stats: () => ({ ...e.stats(), calls: trunkCalls.stats().calls }),
        streams: () => e.streamCounters(),
        unroutable: () => e.hub.counters.badDestination,
        mediaRefusals: () => media.counters,
        internalErrors: () => internalErrors.count,
        media: () => eng.status(),
      }));
      // Before the other voice connector metrics: it creates their series at 0 for every configured one.
      const vcSeries = new VoiceConnectorSeries(registry, () => [...(snapshots?.current ?? EMPTY_SNAPSHOT).voiceConnectors.values()].map((vc) => ({ voice_connector_id: vc.id, region: vc.awsRegion })));
      addVoiceConnectorMetrics(registry, events, vcSeries);
      addRouteHealthMetrics(registry, () => routeHealth.list());
      addSipAuthMetrics(registry, { digest, guard: authGuard });
      addStreamingMetrics(registry, streaming);
      meetingRecords.addMetrics(registry);
      addH323Metrics(registry, () => {
        const e = h323;
        if (e === undefined) return undefined;
        return { active: e.callsActive, setups: e.counters.setups, answered: e.counters.answered, failures: e.counters.failures, malformed: e.counters.malformed, connections: e.connections, closed: e.tpktCounters.closed, refusedConnections: e.tpktCounters.refused };
      });

      addContentMetrics(registry, () => {
        const c = content;
        return c === undefined ? undefined : { conferences: c.conferences, counters: c.counters, bfcpConnections: c.bfcpConnections };
      });

      const ql = qualityLog;
      addVoiceConnectorMediaMetrics(registry, (listener) => ql.listeners.add(listener), vcSeries);
      let apiPort: number | null = null;
      if (cfg.api >= 0) {
        store = await openStoreWhenReachable(cfg.db ?? path.join(cfg.data, 'carillon.sqlite'), { logger, timers, clock });
        const seeded = await seedAdminKey(store, cfg.data, process.env, crypto.randomBytes, clock);
        snapshots = new ConfigSnapshots(store);
        await snapshots.refresh();
        meetingDirectory = new StoreMeetingDirectory(store);
        await meetingDirectory.refresh();
        terminationHealth = new TerminationHealthRecorder(store);
        if (seeded?.file !== undefined) logger.info({ accessKeyId: seeded.accessKeyId, file: seeded.file }, `admin access key generated: its secret is in ${seeded.file} (mode 0600)`);
        else if (seeded !== undefined) logger.info({ accessKeyId: seeded.accessKeyId }, 'admin access key taken from CARILLON_ACCESS_KEY_ID / CARILLON_SECRET_ACCESS_KEY');
        app = buildApp({
          ready: () => ready,
          metrics: registry,
          chime: { store, clock, random, domain: cfg.domain, accountId: cfg.accountId, regions: VOICE_CONNECTOR_REGIONS, snapshots, directory: meetingDirectory, liveMeetings: meetings },
        });
        await app.listen({ host: cfg.bind, port: cfg.api });
        const addr = app.server.address();
        apiPort = typeof addr === 'object' && addr !== null ? addr.port : null;
      }
      ports = { sipUdp: sipPorts.udp, sipTcp: sipPorts.tcp, sipTls: sipPorts.tls, h323: h323Port, bfcp: bfcpPort, api: apiPort };
      const tmp = path.join(cfg.data, 'ports.json.tmp');
      writeFileSync(tmp, `${JSON.stringify(ports)}\n`);
      renameSync(tmp, path.join(cfg.data, 'ports.json'));
      routeHealth.start();
      cdrUploader?.start();
      // After the store opened (the reports list its users); in the background.
      void meetingRecords.startReports();
      ready = true;
      logger.info({ ports, bind: cfg.bind, advertise: cfg.advertisedAddress }, 'carillon listening');
      return ports;
    },
    close() {
      closing ??= (async () => {
        ready = false;
        routeHealth.stop();
        digest.close();
        authGuard.close();
        recorder?.closeAll();
        meetings?.drain();
        calls?.drain();
        await h323?.close();
        await content?.close();
        await edge?.close();
        cdrWriter.close();
        // Before the store (a report under way reads it) and the event targets close.
        await meetingRecords.close();
        await app?.close();
        await store?.close();
        await engine?.close();
        await qualityLog?.flush();
        await meetingQualityLog?.flush();
        await sipLog.flush();
        await streaming.close();
        await cdrUploader?.close();
        resolver.close();
        logger.info('carillon stopped');
      })();
      return closing;
    },
    get snapshots() {
      return snapshots;
    },
    get meetingDirectory() {
      return meetingDirectory;
    },
    reportInternalError(err: unknown) {
      internalErrors.count++;
      logger.error({ err }, 'internal error (not handled where it happened)');
    },
    async flushLogs() {
      await Promise.all([qualityLog?.flush(), meetingQualityLog?.flush(), sipLog.flush(), streaming.flush()]);
    },
    async mediaStatus() {
      if (engine === undefined) throw new Error('server not started');
      return engine.status();
    },
    stats() {
      return edge === undefined ? { transactions: 0, clientTransactions: 0, serverTransactions: 0, dialogs: 0, calls: 0, connections: 0 } : { ...edge.stats(), calls: calls?.stats().calls ?? 0 };
    },
  };
  return server;
}

/** DNS through node:dns at the configured servers (else the system's); a bad server list fails at boot. */
function systemResolver(servers: readonly string[] | undefined): Resolver {
  try {
    return new DnsResolver({ servers });
  } catch (err) {
    throw new ConfigError(`invalid configuration: /dnsServers ${(err as Error).message}`);
  }
}
