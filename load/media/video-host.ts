/**
 * Hosts Carillon's media engine for the meeting video benchmark (load/video-forwarding.ts pins it
 * to a core): reads a spec file, sets up one of four things through the same command API signaling
 * uses, writes the C generator's config (`rtpgen -V` format), prints READY, then answers on stdin:
 *  - `measure`: starts the measured window (CPU of the whole process, all threads; the engine's
 *    status), answers `MEASURING`;
 *  - `status`: ends it, answers `STATUS {json}` with the window's CPU % of one core and the status
 *    at both ends (video packets forwarded, switches, key-frame requests; the driver takes deltas);
 *  - `totals`: answers `TOTALS {json}`, the meeting's video and audio participants' figures summed
 *    (asked before and after the generator runs, not inside the window: a query of every endpoint
 *    runs on the worker's thread, where the packets are switched).
 * On SIGTERM it closes the engine and exits.
 *
 * Modes:
 *  - `switch`: one session ("meeting"), N participants, each an audio endpoint (PCMU, attached as a
 *    participant, in the mix) and a video endpoint (H264, PT 96, packetization mode 1, key frames
 *    by RTCP PLI) tied to it: the meeting video switch. Generator lines: `a` and `v` per participant.
 *  - `audio`: the same meeting without the video endpoints (the audio bridge's share of `switch`).
 *  - `relay`: N/2 connected pairs of video endpoints on the native mover (a two-party video call):
 *    the same N video streams in and N out as the switch. Generator lines: `v` per endpoint.
 *  - `relay-sockets`: the same pairs opened with `functions: true`, i.e. on the Node sockets the
 *    switch's video endpoints use: the relay on the switch's own packet path.
 *  - `relay+audio`, `relay-sockets+audio`: the `audio` meeting and those pairs in one process, the
 *    same packets in and out as `switch`, relayed instead of switched.
 * Every endpoint's far end is the generator's one RTP socket (genPort; its RTCP socket genPort + 1,
 * where the switch's PLIs go). Carillon's own RTCP reports are pushed past the run.
 *
 *   node --import tsx load/media/video-host.ts SPEC_FILE
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import pino from 'pino';
import { MediaEngine } from '../../media/engine.ts';
import type { MediaStatus, RemoteMedia, SessionSnapshot } from '../../media/protocol.ts';

export type VideoHostMode = 'switch' | 'audio' | 'relay' | 'relay-sockets' | 'relay+audio' | 'relay-sockets+audio';

export interface VideoHostSpec {
  readonly mode: VideoHostMode;
  /** The generator's RTP socket (RTCP on genPort + 1). */
  readonly genPort: number;
  /** Where to write the generator's config. */
  readonly cfg: string;
  /** Participants (switch, audio) or video endpoints (relay modes: N/2 pairs, rounded up). */
  readonly n: number;
  /** PCMU payload files (rtpgen's [u16 length][bytes] frames): the talker's and everyone else's. */
  readonly loudPayload: string;
  readonly quietPayload: string;
}

/** The meeting's participants' figures summed (cumulative; the driver takes the run's delta). */
export interface VideoTotals {
  readonly videoIn: number;
  readonly videoInvalid: number;
  readonly keyFrames: number;
  readonly keyRequestsSent: number;
  readonly keyRequestsSuppressed: number;
  readonly videoSent: number;
  readonly switches: number;
  /** Video receivers shown someone at the time of asking. */
  readonly showing: number;
  readonly talking: number;
  readonly endpointsDropped: number;
}

export interface VideoHostStatus {
  readonly mode: VideoHostMode;
  readonly n: number;
  readonly wallS: number;
  /** User + system CPU of the whole process (main thread, media worker, mover thread) over the window, % of one core. */
  readonly cpuPct: number;
  readonly start: MediaStatus;
  readonly end: MediaStatus;
}

const SESSION = 'meeting';
const VIDEO_PT = 96;
const AUDIO_PT = 0;

function isVideoHostMode(v: string): v is VideoHostMode {
  return v === 'switch' || v === 'audio' || v === 'relay' || v === 'relay-sockets' || v === 'relay+audio' || v === 'relay-sockets+audio';
}

function parseSpec(text: string): VideoHostSpec {
  const raw: unknown = JSON.parse(text);
  if (typeof raw !== 'object' || raw === null) throw new Error('spec: not an object');
  const o = raw as Record<string, unknown>;
  const { mode, genPort, cfg, n, loudPayload, quietPayload } = o;
  if (typeof mode !== 'string' || !isVideoHostMode(mode)) throw new Error('spec.mode: switch, audio, relay, relay-sockets, relay+audio, relay-sockets+audio');
  if (typeof genPort !== 'number' || !Number.isInteger(genPort) || genPort < 1024 || genPort > 65000) throw new Error('spec.genPort: 1024..65000');
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 250) throw new Error('spec.n: 1..250');
  if (typeof cfg !== 'string' || typeof loudPayload !== 'string' || typeof quietPayload !== 'string') throw new Error('spec.cfg, loudPayload, quietPayload: file names');
  return { mode, genPort, cfg, n, loudPayload, quietPayload };
}

function totalsOf(s: SessionSnapshot | undefined): VideoTotals {
  const t = { videoIn: 0, videoInvalid: 0, keyFrames: 0, keyRequestsSent: 0, keyRequestsSuppressed: 0, videoSent: 0, switches: 0, showing: 0, talking: 0, endpointsDropped: 0 };
  for (const e of s?.endpoints ?? []) {
    t.endpointsDropped += e.dropped;
    if (e.participant?.talking === true) t.talking++;
    const v = e.video;
    if (v === undefined) continue;
    t.videoIn += v.packetsIn;
    t.videoInvalid += v.invalidPackets;
    t.keyFrames += v.keyFrames;
    t.keyRequestsSent += v.keyFrameRequestsSent;
    t.keyRequestsSuppressed += v.keyFrameRequestsSuppressed;
    t.videoSent += v.packetsSent;
    t.switches += v.switches;
    if (v.showing !== null) t.showing++;
  }
  return t;
}

const spec = parseSpec(readFileSync(String(process.argv[2]), 'utf8'));
const n = spec.n;
const engine = await MediaEngine.start(
  { workers: 1, bindAddress: '127.0.0.1', low: 30000, high: 30000 + 4 * n + 99, strict: false, mediaTimeoutMs: 0, rtcpIntervalMs: 600_000, cname: 'carillon@bench', releaseDelayMs: 0, nativeRelay: true },
  pino({ level: 'warn' }),
);
const remote: RemoteMedia = { address: '127.0.0.1', port: spec.genPort, rtcpPort: spec.genPort + 1, rtcpMux: false, direction: 'sendrecv', dtmfPayloadTypes: [] };
const lines: string[] = [`g ${spec.genPort} 127.0.0.1`];
const exhausted = async (at: string): Promise<never> => {
  throw new Error(`port range exhausted at ${at} (${JSON.stringify(await engine.status())})`);
};
const withAudio = spec.mode === 'switch' || spec.mode === 'audio' || spec.mode.endsWith('+audio');
if (withAudio) {
  const withVideo = spec.mode === 'switch';
  // One at a time: the video room lists its participants in the order they joined (the first is shown before anyone talks).
  for (let i = 0; i < n; i++) {
    const id = `p${i}`;
    const aPort = await engine.openEndpoint(SESSION, id, { kind: 'audio', clockRateHz: 8000, codec: 'PCMU', functions: true, remote });
    if (aPort === 'ports-exhausted') await exhausted(id);
    await engine.attach(SESSION, id, { fn: 'participant', codec: 'PCMU', payloadType: AUDIO_PT, capacity: n });
    let vPort: number | 'ports-exhausted' = 0;
    if (withVideo) {
      vPort = await engine.openEndpoint(SESSION, `${id}.v`, { kind: 'video', clockRateHz: 90000, codec: 'H264', functions: true, remote });
      if (vPort === 'ports-exhausted') await exhausted(`${id}.v`);
      await engine.attach(SESSION, `${id}.v`, { fn: 'video', audioEndpoint: id, codec: 'H264', payloadType: VIDEO_PT, packetizationMode: 1, keyFrame: { pli: true, fir: false, signaling: false } });
    }
    await engine.participant(SESSION, id, { inMeeting: true });
    lines.push(`a ${String(aPort)} ${AUDIO_PT} 160 ${spec.loudPayload} ${spec.quietPayload}`);
    if (withVideo) lines.push(`v ${String(vPort)} ${VIDEO_PT}`);
  }
}
if (spec.mode !== 'switch' && spec.mode !== 'audio') {
  const functions = spec.mode.startsWith('relay-sockets');
  for (let i = 0; i < Math.ceil(n / 2); i++) {
    const session = `pair-${i}`;
    const [aPort, bPort] = await Promise.all([
      engine.openEndpoint(session, 'a', { kind: 'video', clockRateHz: 90000, codec: 'H264', functions, remote }),
      engine.openEndpoint(session, 'b', { kind: 'video', clockRateHz: 90000, codec: 'H264', functions, remote }),
    ]);
    if (aPort === 'ports-exhausted' || bPort === 'ports-exhausted') await exhausted(session);
    await engine.connect(session, 'a', 'b');
    await engine.arm(session);
    lines.push(`v ${String(aPort)} ${VIDEO_PT}`, `v ${String(bPort)} ${VIDEO_PT}`);
  }
}
writeFileSync(spec.cfg, `${lines.join('\n')}\n`);

const cpuUs = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
let window: { c0: number; t0: number; start: MediaStatus } | undefined;
createInterface({ input: process.stdin }).on('line', (line) => {
  const cmd = line.trim();
  if (cmd === 'measure') {
    void engine.status().then((start) => {
      window = { c0: cpuUs(), t0: performance.now(), start };
      console.log('MEASURING');
    });
  } else if (cmd === 'status') {
    const c1 = cpuUs();
    const t1 = performance.now();
    void engine.status().then((end) => {
      const w = window ?? { c0: c1, t0: t1, start: end };
      const wallS = (t1 - w.t0) / 1000;
      const out: VideoHostStatus = { mode: spec.mode, n, wallS, cpuPct: wallS > 0 ? ((c1 - w.c0) / 1e6 / wallS) * 100 : 0, start: w.start, end };
      console.log(`STATUS ${JSON.stringify(out)}`);
    });
  } else if (cmd === 'totals') {
    void (withAudio ? engine.query(SESSION) : Promise.resolve(undefined)).then((snap) => console.log(`TOTALS ${JSON.stringify(totalsOf(snap))}`));
  } else if (cmd !== '') {
    console.log(`ERROR unknown command ${JSON.stringify(cmd.slice(0, 40))}`);
  }
});
console.log('READY');
process.on('SIGTERM', () => {
  void engine.close().then(() => process.exit(0));
});
