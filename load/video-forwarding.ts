/**
 * Meeting video switch benchmark: one meeting of N participants in Carillon's media engine (its own
 * process, load/media/video-host.ts, pinned to CPU 1), driven by the C load generator
 * (load/media/rtpgen.c -V, pinned to CPU 0). Every participant sends an H.264-shaped camera stream
 * (about --rate-kbps at --fps, each frame in FU-A fragments of at most --max-payload bytes, a key
 * frame — SPS, PPS, IDR of --key-mult frames' size — every --gop frames and after every PLI the
 * switch sends) and its audio (PCMU, 20 ms; one loud talker, participant 0, or moving every
 * --rotate-ms), and receives the switch's one stream (the speaker's picture; the speaker the
 * previous speaker's) and the bridge's mix: N video streams in and N out.
 * Same-run references, same generator and pinning, the same video packets (sizes, rates, bursts):
 * `relay` (N/2 connected pairs of video endpoints on the native mover, a two-party video call) and
 * `relay-sockets` (the same pairs on the Node sockets the switch's video endpoints use), N in and N
 * out; `relay+audio` and `relay-sockets+audio` (those pairs beside the same meeting's audio in one
 * process: every packet of a switch run, relayed instead of switched — the like-for-like
 * reference); `audio` (the meeting's audio alone).
 * Reports per run: media process CPU % of one core (all threads), video packets/s sent and
 * received at the generator, packets/s per core, CPU µs per forwarded video packet (for the switch
 * also with the audio run's CPU taken off), loss by RTP sequence gaps per receiving stream,
 * one-way latency generator → Carillon → generator p50/p99/p99.9 from the send time each payload
 * carries, key frames the generator sent (periodic / asked by PLI), origin switches the receivers
 * saw and whether each began at a key frame, the load average before the run, and the ratios
 * switch ÷ relay (CPU per packet; latency p99 difference).
 *
 *   npx tsx load/video-forwarding.ts [--participants 10,24,50] [--runs switch,relay-sockets+audio,relay+audio,audio,relay-sockets,relay]
 *                                    [--seconds 8] [--repeat 1] [--rotate-ms 0] [--rate-kbps 1000] [--fps 30]
 *                                    [--gop 60] [--key-mult 4] [--max-payload 1200] [--node-flags="--cpu-prof …"]
 *
 * Loopback only; every generator run ends by itself (warm-up + --seconds + 1 s drain); the host is
 * stopped by PID (SIGTERM, SIGKILL after 5 s).
 */
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { LINEAR_TO_ULAW } from '../media/codecs/g711.ts';
import type { MediaStatus } from '../media/protocol.ts';
import type { VideoHostMode, VideoHostSpec, VideoHostStatus, VideoTotals } from './media/video-host.ts';

/** (Not imported from video-host.ts: importing it would start a host in this process.) */
const isVideoHostMode = (v: string): v is VideoHostMode =>
  v === 'switch' || v === 'audio' || v === 'relay' || v === 'relay-sockets' || v === 'relay+audio' || v === 'relay-sockets+audio';
/** The references a switch row is compared with, in the table's order. */
const REFS = ['relay-sockets+audio', 'relay+audio', 'relay-sockets', 'relay'] as const;

const ROOT = path.join(import.meta.dirname, '..');
const OUT = path.join(ROOT, 'load', 'out');
const GEN_PORT = 11200;
const WARM_S = 1;
const AUDIO_FRAMES = 50; // one second of 20 ms frames per payload file, cycled

const { values } = parseArgs({
  options: {
    participants: { type: 'string', default: '10,24,50' },
    runs: { type: 'string', default: 'switch,relay-sockets+audio,relay+audio,audio,relay-sockets,relay' },
    seconds: { type: 'string', default: '8' },
    repeat: { type: 'string', default: '1' },
    'rotate-ms': { type: 'string', default: '0' },
    'rate-kbps': { type: 'string', default: '1000' },
    fps: { type: 'string', default: '30' },
    gop: { type: 'string', default: '60' },
    'key-mult': { type: 'string', default: '4' },
    'max-payload': { type: 'string', default: '1200' },
    /** Extra Node flags for the media process, e.g. "--cpu-prof --cpu-prof-dir=load/out/prof". */
    'node-flags': { type: 'string', default: '' },
  },
});
const counts = values.participants.split(',').map(Number);
const runs = values.runs.split(',').filter((r) => r !== '');
const seconds = Number(values.seconds);
const repeat = Number(values.repeat);
const rotateMs = Number(values['rotate-ms']);
const gen = { rateKbps: Number(values['rate-kbps']), fps: Number(values.fps), gop: Number(values.gop), keyMult: Number(values['key-mult']), maxPayload: Number(values['max-payload']) };
const nodeFlags = values['node-flags'].split(' ').filter((f) => f !== '');
// Even: the relay references are N/2 pairs, the same N streams in and out as the switch.
if (counts.some((n) => !(Number.isInteger(n) && n >= 2 && n <= 250 && n % 2 === 0))) throw new Error('--participants: even integers 2..250');
if (!runs.every(isVideoHostMode)) throw new Error('--runs: switch, audio, relay, relay-sockets, relay+audio, relay-sockets+audio');
if (!(seconds >= 1 && seconds <= 30) || !(Number.isInteger(repeat) && repeat >= 1 && repeat <= 3)) throw new Error('bounds: --seconds 1..30, --repeat 1..3');
if (!(Number.isInteger(rotateMs) && rotateMs >= 0 && rotateMs <= 60_000)) throw new Error('--rotate-ms: 0..60000');
if (!(gen.rateKbps >= 10 && gen.rateKbps <= 20_000 && gen.fps >= 1 && gen.fps <= 60 && gen.gop >= 1 && gen.keyMult >= 1 && gen.keyMult <= 20 && gen.maxPayload >= 64 && gen.maxPayload <= 1400)) {
  throw new Error('video parameters out of range (rtpgen -V bounds)');
}

/** What `rtpgen -V` writes. */
interface VideoGen {
  video_streams: number;
  v_sent_pps: number;
  v_sent_kbps_per_stream: number;
  v_recv_pps: number;
  seq_lost: number;
  loss_pct: number;
  reorder: number;
  min_stream_recv: number;
  max_stream_recv: number;
  silent_streams: number;
  lat_us: { p50: number; p90: number; p99: number; p999: number; max: number };
  key_frames_periodic: number;
  key_frames_on_request: number;
  key_requests_in: number;
  origin_changes: number;
  switch_not_at_key: number;
  seq_mismatch: number;
  self_view: number;
  a_sent: number;
  a_recv_pps: number;
  stray: number;
  bad: number;
  send_err: number;
  gen_cpu_pct: number;
}

interface Row {
  run: VideoHostMode;
  n: number;
  load1: number;
  cpuPct: number;
  genCpuPct: number;
  vInPps: number;
  vOutPps: number;
  kbpsPerStream: number;
  /** Switch: packets forwarded per second by the engine's own count. */
  forwardedPps?: number;
  aOutPps: number;
  lossPct: number;
  minStreamRecv: number;
  maxStreamRecv: number;
  latP50Us: number;
  latP99Us: number;
  latP999Us: number;
  latMaxUs: number;
  /** Video packets out per second per core (cpuPct of one core). */
  ppsPerCore: number;
  /** CPU µs per video packet received at the generator. */
  usPerPacket: number;
  keysPeriodic: number;
  keysOnRequest: number;
  plisIn: number;
  originChanges: number;
  switchNotAtKey: number;
  seqMismatch: number;
  selfView: number;
  bad: number;
  sendErr: number;
  /** Host side, whole run: key frames seen, PLIs sent / held back, switches, malformed, receivers showing someone, talking. */
  host?: { keyFrames: number; keyRequestsSent: number; keyRequestsSuppressed: number; switches: number; invalid: number; showing: number; talking: number; dropped: number };
  /** Switch rows: µs per packet with the same-N audio run's CPU taken off (JSON only: costs are not additive, wake-ups are shared). */
  videoUsPerPacket?: number;
  /** Switch rows, per reference run: CPU per video packet ÷ the reference's, latency p50 and p99 differences (µs). */
  vs?: Partial<Record<(typeof REFS)[number], { cpu: number; p50DiffUs: number; p99DiffUs: number }>>;
}

function buildGenerator(): string {
  mkdirSync(OUT, { recursive: true });
  const bin = path.join(OUT, 'rtpgen');
  const src = path.join(ROOT, 'load', 'media', 'rtpgen.c');
  if (!existsSync(bin) || statSync(bin).mtimeMs < statSync(src).mtimeMs) execFileSync('gcc', ['-O2', '-o', bin, src]);
  return bin;
}

/** One second of 8 kHz PCMU frames in rtpgen's payload file format: a loud 500 Hz tone, or near-silence under the talker floor. */
function pcmuFile(kind: 'loud' | 'quiet'): string {
  const parts: Buffer[] = [];
  let seed = 0x2545f491;
  for (let f = 0; f < AUDIO_FRAMES; f++) {
    const b = Buffer.alloc(2 + 160);
    b.writeUInt16BE(160, 0);
    for (let i = 0; i < 160; i++) {
      let s: number;
      if (kind === 'loud') s = Math.round(8000 * Math.sin((2 * Math.PI * 500 * (f * 160 + i)) / 8000));
      else {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        s = ((seed >>> 16) % 61) - 30; // about −63 dBFS
      }
      b[2 + i] = LINEAR_TO_ULAW[s + 32768] ?? 0xff;
    }
    parts.push(b);
  }
  const file = path.join(OUT, `payload-video-pcmu-${kind}.bin`);
  writeFileSync(file, Buffer.concat(parts));
  return file;
}

function waitLine(child: ChildProcess, want: string, ms: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const t = setTimeout(() => {
      child.stdout?.off('data', on);
      reject(new Error(`no ${want} within ${ms} ms: ${buf.slice(-500)}`));
    }, ms);
    const on = (b: Buffer): void => {
      buf += b.toString();
      const at = buf.indexOf(want);
      const end = at < 0 ? -1 : buf.indexOf('\n', at);
      if (end >= 0) {
        clearTimeout(t);
        child.stdout?.off('data', on);
        resolve(buf.slice(at + want.length, end).trim());
      }
    };
    child.stdout?.on('data', on);
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  process.kill(child.pid, 'SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
  if (child.exitCode === null) process.kill(child.pid, 'SIGKILL');
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const d = (s0: MediaStatus, s1: MediaStatus, k: 'videoPacketsForwarded'): number => s1[k] - s0[k];

async function runOne(bin: string, mode: VideoHostMode, n: number, loud: string, quiet: string): Promise<Row> {
  const cfg = path.join(OUT, `video_${mode}_${n}.cfg`);
  const specFile = path.join(OUT, `video_${mode}_${n}.json`);
  const out = path.join(OUT, `gen_video_${mode}_${n}.json`);
  const spec: VideoHostSpec = { mode, genPort: GEN_PORT, cfg, n, loudPayload: loud, quietPayload: quiet };
  writeFileSync(specFile, JSON.stringify(spec));
  const load1 = Math.round((os.loadavg()[0] ?? 0) * 100) / 100;
  const host = spawn('taskset', ['-c', '1', process.execPath, ...nodeFlags, '--import', 'tsx', path.join(ROOT, 'load', 'media', 'video-host.ts'), specFile], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let g: ChildProcess | undefined;
  try {
    await waitLine(host, 'READY', 60_000);
    const ask = async (cmd: string, answer: string): Promise<string> => {
      const reply = waitLine(host, answer, 10_000);
      host.stdin?.write(`${cmd}\n`);
      return reply;
    };
    const t0 = JSON.parse(await ask('totals', 'TOTALS ')) as VideoTotals;
    rmSync(out, { force: true });
    const args = ['-c', '0', bin, '-V', '-c', cfg, '-d', String(seconds), '-w', String(WARM_S), '-o', out];
    args.push('-r', String(gen.rateKbps), '-f', String(gen.fps), '-p', String(gen.maxPayload), '-g', String(gen.gop), '-k', String(gen.keyMult), '-T', String(rotateMs));
    const child = spawn('taskset', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    g = child;
    let genErr = '';
    child.stderr?.on('data', (b: Buffer) => (genErr += b.toString()));
    const done = new Promise<void>((r) => child.once('exit', () => r()));
    await sleep((WARM_S + 0.15) * 1000);
    await ask('measure', 'MEASURING');
    await sleep((seconds - 0.3) * 1000);
    const st = JSON.parse(await ask('status', 'STATUS ')) as VideoHostStatus;
    await Promise.race([done, sleep((seconds + 10) * 1000)]);
    const t1 = JSON.parse(await ask('totals', 'TOTALS ')) as VideoTotals;
    if (!existsSync(out)) throw new Error(`generator wrote no result: ${genErr.trim()}`);
    const r = JSON.parse(readFileSync(out, 'utf8')) as VideoGen;
    const cpuPct = Math.round(st.cpuPct * 10) / 10;
    const meeting = mode === 'switch' || mode === 'audio' || mode.endsWith('+audio');
    const row: Row = {
      run: mode,
      n,
      load1,
      cpuPct,
      genCpuPct: r.gen_cpu_pct,
      vInPps: r.v_sent_pps,
      vOutPps: r.v_recv_pps,
      kbpsPerStream: r.v_sent_kbps_per_stream,
      aOutPps: r.a_recv_pps,
      lossPct: r.loss_pct,
      minStreamRecv: r.min_stream_recv,
      maxStreamRecv: r.max_stream_recv,
      latP50Us: r.lat_us.p50,
      latP99Us: r.lat_us.p99,
      latP999Us: r.lat_us.p999,
      latMaxUs: r.lat_us.max,
      ppsPerCore: cpuPct > 0 ? Math.round(r.v_recv_pps / (cpuPct / 100)) : 0,
      usPerPacket: r.v_recv_pps > 0 ? Math.round(((cpuPct / 100) * 1e6 * 100) / r.v_recv_pps) / 100 : 0,
      keysPeriodic: r.key_frames_periodic,
      keysOnRequest: r.key_frames_on_request,
      plisIn: r.key_requests_in,
      originChanges: r.origin_changes,
      switchNotAtKey: r.switch_not_at_key,
      seqMismatch: r.seq_mismatch,
      selfView: r.self_view,
      bad: r.bad,
      sendErr: r.send_err,
    };
    if (mode === 'switch') row.forwardedPps = Math.round(d(st.start, st.end, 'videoPacketsForwarded') / st.wallS);
    if (meeting) {
      row.host = {
        keyFrames: t1.keyFrames - t0.keyFrames,
        keyRequestsSent: t1.keyRequestsSent - t0.keyRequestsSent,
        keyRequestsSuppressed: t1.keyRequestsSuppressed - t0.keyRequestsSuppressed,
        switches: t1.switches - t0.switches,
        invalid: t1.videoInvalid - t0.videoInvalid,
        showing: t1.showing,
        talking: t1.talking,
        dropped: t1.endpointsDropped - t0.endpointsDropped,
      };
    }
    return row;
  } finally {
    if (g !== undefined) await stop(g);
    await stop(host);
  }
}

/** One retry when a run could not start (a port of its own taken for a moment by another process on the box). */
async function runRetry(bin: string, mode: VideoHostMode, n: number, loud: string, quiet: string): Promise<Row> {
  return runOne(bin, mode, n, loud, quiet).catch(async (err: unknown) => {
    console.error(`${mode} ${n}: ${String(err)}; once more`);
    await sleep(2000);
    return runOne(bin, mode, n, loud, quiet);
  });
}

const bin = buildGenerator();
const loud = pcmuFile('loud');
const quiet = pcmuFile('quiet');
const rows: Row[] = [];
const started = new Date().toISOString();
for (let rep = 0; rep < repeat; rep++) {
  for (const n of counts) {
    const perN: Row[] = [];
    for (const mode of runs) {
      if (!isVideoHostMode(mode)) continue;
      perN.push(await runRetry(bin, mode, n, loud, quiet));
      console.log(JSON.stringify(perN.at(-1)));
      await sleep(1000);
    }
    const audio = perN.find((r) => r.run === 'audio');
    const sw = perN.find((r) => r.run === 'switch');
    if (sw !== undefined) {
      if (audio !== undefined && sw.vOutPps > 0) sw.videoUsPerPacket = Math.round((((sw.cpuPct - audio.cpuPct) / 100) * 1e6 * 100) / sw.vOutPps) / 100;
      const vs: NonNullable<Row['vs']> = {};
      for (const ref of REFS) {
        const r = perN.find((x) => x.run === ref);
        if (r === undefined || r.usPerPacket <= 0) continue;
        vs[ref] = { cpu: Math.round((sw.usPerPacket / r.usPerPacket) * 100) / 100, p50DiffUs: sw.latP50Us - r.latP50Us, p99DiffUs: sw.latP99Us - r.latP99Us };
      }
      sw.vs = vs;
    }
    rows.push(...perN);
  }
}
writeFileSync(path.join(OUT, `video-forwarding-${Date.now()}.json`), JSON.stringify({ started, node: process.version, gen, rotateMs, seconds, rows }, null, 1));
const f = (v: number | undefined, digits = 0): string => (v === undefined ? '–' : v.toFixed(digits));
console.log(`\nstarted ${started}, node ${process.version}, ${seconds} s measured, video ${gen.rateKbps} kbit/s ${gen.fps} fps, FU-A ≤ ${gen.maxPayload} B, key every ${gen.gop} frames (×${gen.keyMult}) + on PLI, talker ${rotateMs > 0 ? `moves every ${rotateMs} ms` : 'participant 0'}`);
console.log('| run | N | load 1 min | media CPU % (CPU 1) | gen CPU % (CPU 0) | video pkt/s in / out | kbit/s per stream | video pkt/s per core | CPU µs per video pkt | loss % | latency p50 / p99 / p99.9 µs | key frames periodic / on PLI | switches seen / not at key | audio pkt/s out |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  const vid = r.run === 'audio';
  console.log(
    `| ${r.run} | ${r.n} | ${r.load1} | ${r.cpuPct} | ${r.genCpuPct} | ${vid ? '–' : `${r.vInPps} / ${r.vOutPps}`} | ${vid ? '–' : r.kbpsPerStream} | ${vid ? '–' : r.ppsPerCore} | ${vid ? '–' : f(r.usPerPacket, 2)} | ${vid ? '–' : r.lossPct.toFixed(3)} | ${vid ? '–' : `${r.latP50Us} / ${r.latP99Us} / ${r.latP999Us}`} | ${vid ? '–' : `${r.keysPeriodic} / ${r.keysOnRequest}`} | ${r.run === 'switch' ? `${r.originChanges} / ${r.switchNotAtKey}` : '–'} | ${r.aOutPps} |`,
  );
}
console.log('');
console.log(`| N | switch CPU per video pkt ÷ reference's (${REFS.join(' / ')}) | latency p50 switch − reference µs | p99 switch − reference µs |`);
console.log('|---|---|---|---|');
for (const r of rows) {
  if (r.vs === undefined) continue;
  const v = r.vs;
  const col = (k: 'cpu' | 'p50DiffUs' | 'p99DiffUs', digits: number, unit: string): string =>
    REFS.map((ref) => {
      const x = v[ref];
      return x === undefined ? '–' : `${x[k].toFixed(digits)}${unit}`;
    }).join(' / ');
  console.log(`| ${r.n} | ${col('cpu', 2, '×')} | ${col('p50DiffUs', 0, '')} | ${col('p99DiffUs', 0, '')} |`);
}
if (repeat > 1) {
  // Medians over the repeats (the range after them): on a shared machine one run's CPU figure moves with its neighbours.
  const med = (xs: readonly number[]): number => {
    const s = [...xs].sort((a, b) => a - b);
    const m = Math.floor(s.length / 2);
    return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
  };
  const span = (xs: readonly number[], digits: number): string => `${med(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)})`;
  console.log(`\nmedians (min–max) of ${repeat} repeats`);
  console.log('| run | N | media CPU % | CPU µs per video pkt | video pkt/s per core | latency p50 µs | p99 µs | loss % (max) |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const n of counts) {
    for (const mode of runs) {
      const g = rows.filter((r) => r.n === n && r.run === mode);
      if (g.length === 0) continue;
      const vid = mode !== 'audio';
      const pick = (k: 'cpuPct' | 'usPerPacket' | 'ppsPerCore' | 'latP50Us' | 'latP99Us'): number[] => g.map((r) => r[k]);
      console.log(
        `| ${mode} | ${n} | ${span(pick('cpuPct'), 1)} | ${vid ? span(pick('usPerPacket'), 1) : '–'} | ${vid ? span(pick('ppsPerCore'), 0) : '–'} | ${vid ? span(pick('latP50Us'), 0) : '–'} | ${vid ? span(pick('latP99Us'), 0) : '–'} | ${vid ? Math.max(...g.map((r) => r.lossPct)).toFixed(3) : '–'} |`,
      );
    }
  }
  console.log(`\n| N | switch ÷ reference, CPU per video pkt, median of the repeats' ratios (${REFS.join(' / ')}) | latency p50 switch − reference µs, median | p99, median |`);
  console.log('|---|---|---|---|');
  for (const n of counts) {
    const sws = rows.filter((r) => r.n === n && r.vs !== undefined);
    if (sws.length === 0) continue;
    const col = (k: 'cpu' | 'p50DiffUs' | 'p99DiffUs', digits: number, unit: string): string =>
      REFS.map((ref) => {
        const xs = sws.flatMap((r) => {
          const x = r.vs?.[ref];
          return x === undefined ? [] : [x[k]];
        });
        return xs.length === 0 ? '–' : `${med(xs).toFixed(digits)}${unit}`;
      }).join(' / ');
    console.log(`| ${n} | ${col('cpu', 2, '×')} | ${col('p50DiffUs', 0, '')} | ${col('p99DiffUs', 0, '')} |`);
  }
}
