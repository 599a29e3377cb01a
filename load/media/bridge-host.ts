/**
 * Hosts Carillon's media engine for the meeting bridge benchmark (load/meeting-bridge.ts pins it to
 * a core): reads a spec file, sets up one of three things through the same command API signaling
 * uses, writes the C generator's config, prints READY, then answers two commands on stdin:
 *  - `measure`: starts the measured window (CPU of the whole process, all threads; the engine's
 *    status), answers `MEASURING`;
 *  - `status`: ends it, answers `STATUS {json}` with the window's CPU % of one core and the status
 *    at both ends (bridge tick lag histogram, tick time, packets): the driver takes the deltas;
 *  - `participants`: answers `PARTICIPANTS {json}`, the meeting's participants' jitter-buffer and
 *    endpoint figures summed. Asked before and after the generator runs, not inside the window: a
 *    query of every endpoint runs on the worker's thread, where the bridge ticks.
 * On SIGTERM it closes the engine and exits.
 *
 * Modes:
 *  - `bridge`: one session ("meeting"), N participant endpoints (functions: true, so on Carillon's
 *    own sockets), each with the participant function in its codec and in the mix; every one's far
 *    end is the generator's one bridge socket. Generator line: rtpgen -B format.
 *  - `relay`: N/2 connected endpoint pairs on the native mover (a two-party call's media): the
 *    same N packets in and N out every 20 ms as the bridge. Generator line: rtpgen -S format.
 *  - `relay-sockets`: the same pairs opened with `functions: true`, i.e. on the Node sockets the
 *    participants use: the relay on the bridge's own packet path.
 * Carillon's own RTCP is pushed past the run (the generator sends none).
 *
 *   node --import tsx load/media/bridge-host.ts SPEC_FILE
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import pino from 'pino';
import { MediaEngine } from '../../media/engine.ts';
import type { MediaStatus, RemoteMedia, SessionSnapshot } from '../../media/protocol.ts';

export type HostMode = 'bridge' | 'relay' | 'relay-sockets';

export interface HostParticipant {
  readonly codec: string;
  readonly payloadType: number;
  readonly clockRateHz: number;
  readonly tsStep: number;
  /** The generator's payload file for this participant's stream. */
  readonly payload: string;
}

export interface HostSpec {
  readonly mode: HostMode;
  /** Generator socket(s): bridge mode one, relay modes genPort (A legs) and genPort + 1 (B legs). */
  readonly genPort: number;
  /** Where to write the generator's config. */
  readonly cfg: string;
  /** Bridge mode: one per participant. Relay modes: its length is N (N/2 pairs, rounded up). */
  readonly participants: readonly HostParticipant[];
}

/** The participants' figures summed over the meeting (cumulative; the driver takes the window's delta). */
export interface ParticipantTotals {
  readonly inMix: number;
  readonly talking: number;
  readonly framesPlayed: number;
  readonly framesConcealed: number;
  readonly framesLate: number;
  readonly framesDiscarded: number;
  readonly rtpIn: number;
  readonly lostIn: number;
  readonly dropped: number;
  readonly rtpOut: number;
}

export interface HostStatus {
  readonly mode: HostMode;
  readonly n: number;
  readonly wallS: number;
  /** User + system CPU of the whole process (main thread, media worker, mover thread) over the window, % of one core. */
  readonly cpuPct: number;
  readonly start: MediaStatus;
  readonly end: MediaStatus;
}

const SESSION = 'meeting';

function parseSpec(text: string): HostSpec {
  const raw: unknown = JSON.parse(text);
  if (typeof raw !== 'object' || raw === null) throw new Error('spec: not an object');
  const o = raw as Record<string, unknown>;
  const mode = o.mode;
  if (mode !== 'bridge' && mode !== 'relay' && mode !== 'relay-sockets') throw new Error('spec.mode: bridge, relay or relay-sockets');
  const genPort = o.genPort;
  if (typeof genPort !== 'number' || !Number.isInteger(genPort) || genPort < 1024 || genPort > 65000) throw new Error('spec.genPort: 1024..65000');
  if (typeof o.cfg !== 'string' || o.cfg === '') throw new Error('spec.cfg: a file name');
  if (!Array.isArray(o.participants) || o.participants.length < 1 || o.participants.length > 500) throw new Error('spec.participants: 1..500');
  const participants = o.participants.map((p: unknown, i): HostParticipant => {
    if (typeof p !== 'object' || p === null) throw new Error(`spec.participants[${i}]: not an object`);
    const q = p as Record<string, unknown>;
    const { codec, payloadType, clockRateHz, tsStep, payload } = q;
    if (typeof codec !== 'string' || typeof payload !== 'string') throw new Error(`spec.participants[${i}]: codec and payload are strings`);
    if (typeof payloadType !== 'number' || !Number.isInteger(payloadType) || payloadType < 0 || payloadType > 127) throw new Error(`spec.participants[${i}].payloadType: 0..127`);
    if (typeof clockRateHz !== 'number' || !(clockRateHz >= 8000 && clockRateHz <= 48000)) throw new Error(`spec.participants[${i}].clockRateHz: 8000..48000`);
    if (typeof tsStep !== 'number' || !Number.isInteger(tsStep) || tsStep < 1 || tsStep > 48000) throw new Error(`spec.participants[${i}].tsStep: 1..48000`);
    return { codec, payloadType, clockRateHz, tsStep, payload };
  });
  return { mode, genPort, cfg: o.cfg, participants };
}

function participantTotals(s: SessionSnapshot | undefined): ParticipantTotals {
  const t = { inMix: 0, talking: 0, framesPlayed: 0, framesConcealed: 0, framesLate: 0, framesDiscarded: 0, rtpIn: 0, lostIn: 0, dropped: 0, rtpOut: 0 };
  for (const e of s?.endpoints ?? []) {
    t.rtpIn += e.rtpPackets;
    t.lostIn += e.packetsLost;
    t.dropped += e.dropped;
    t.rtpOut += e.sentRtpPackets;
    const p = e.participant;
    if (p === undefined) continue;
    if (p.inMeeting) t.inMix++;
    if (p.talking) t.talking++;
    t.framesPlayed += p.framesPlayed;
    t.framesConcealed += p.framesConcealed;
    t.framesLate += p.framesLate;
    t.framesDiscarded += p.framesDiscarded;
  }
  return t;
}

const spec = parseSpec(readFileSync(String(process.argv[2]), 'utf8'));
const n = spec.participants.length;
const engine = await MediaEngine.start(
  { workers: 1, bindAddress: '127.0.0.1', low: 30000, high: 30000 + 4 * n + 99, strict: false, mediaTimeoutMs: 0, rtcpIntervalMs: 600_000, cname: 'carillon@bench', releaseDelayMs: 0, nativeRelay: true },
  pino({ level: 'warn' }),
);
const remote = (port: number): RemoteMedia => ({ address: '127.0.0.1', port, rtcpPort: port + 100, rtcpMux: false, direction: 'sendrecv', dtmfPayloadTypes: [] });
const lines: string[] = [];
const exhausted = async (at: string): Promise<never> => {
  throw new Error(`port range exhausted at ${at} (${JSON.stringify(await engine.status())})`);
};
if (spec.mode === 'bridge') {
  const opened = await Promise.all(
    spec.participants.map(async (p, i) => {
      const id = `p${i}`;
      const port = await engine.openEndpoint(SESSION, id, { kind: 'audio', clockRateHz: p.clockRateHz, codec: p.codec, functions: true, remote: remote(spec.genPort) });
      if (port === 'ports-exhausted') return exhausted(id);
      await engine.attach(SESSION, id, { fn: 'participant', codec: p.codec, payloadType: p.payloadType, capacity: n });
      await engine.participant(SESSION, id, { inMeeting: true });
      return port;
    }),
  );
  opened.forEach((port, i) => {
    const p = spec.participants[i];
    if (p !== undefined) lines.push(`${spec.genPort} 127.0.0.1 ${port} ${p.payloadType} ${p.tsStep} ${p.payload}`);
  });
} else {
  const functions = spec.mode === 'relay-sockets';
  for (let i = 0; i < Math.ceil(n / 2); i++) {
    const session = `pair-${i}`;
    const [aPort, bPort] = await Promise.all([
      engine.openEndpoint(session, 'a', { kind: 'audio', clockRateHz: 8000, codec: 'PCMU', functions, remote: remote(spec.genPort) }),
      engine.openEndpoint(session, 'b', { kind: 'audio', clockRateHz: 8000, codec: 'PCMU', functions, remote: remote(spec.genPort + 1) }),
    ]);
    if (aPort === 'ports-exhausted' || bPort === 'ports-exhausted') await exhausted(session);
    await engine.connect(session, 'a', 'b');
    await engine.arm(session);
    // rtpgen -S line: A socket, B socket, where A sends (Carillon's caller-facing port), where B sends.
    lines.push(`${spec.genPort} ${spec.genPort + 1} 127.0.0.1 ${aPort} 127.0.0.1 ${bPort}`);
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
      const out: HostStatus = { mode: spec.mode, n, wallS, cpuPct: wallS > 0 ? ((c1 - w.c0) / 1e6 / wallS) * 100 : 0, start: w.start, end };
      console.log(`STATUS ${JSON.stringify(out)}`);
    });
  } else if (cmd === 'participants') {
    void (spec.mode === 'bridge' ? engine.query(SESSION) : Promise.resolve(undefined)).then((snap) => console.log(`PARTICIPANTS ${JSON.stringify(participantTotals(snap))}`));
  } else if (cmd !== '') {
    console.log(`ERROR unknown command ${JSON.stringify(cmd.slice(0, 40))}`);
  }
});
console.log('READY');
process.on('SIGTERM', () => {
  void engine.close().then(() => process.exit(0));
});
