/**
 * Meeting bridge benchmark: one meeting of N participants in Carillon's media engine (its own
 * process, load/media/bridge-host.ts, pinned to CPU 1), driven by the C load generator
 * (load/media/rtpgen.c -B, pinned to CPU 0): every participant sends a 20 ms frame every 20 ms and
 * the bridge sends every participant one frame every 20 ms back. Three talkers carry a loud tone,
 * everyone else low-level noise under the talker floor, so the K = 3 selection is the real one.
 * Variants: `g711` (all PCMU) and `mixed` (a third each PCMU, G722, OPUS, the three talkers one of
 * each; needs a bridge that mixes G.722 and Opus). The payloads are encoded once, before the runs,
 * with the project's own bridge encoders (media/mixer/frame-codec.ts) into files the generator
 * sends in turn.
 * Same-run references, same generator and pinning, the same N packets in and N out every 20 ms:
 * `relay` (N/2 connected pairs on the native mover, a two-party call's media) and `relay-sockets`
 * (the same pairs on the Node sockets the participants' endpoints use).
 * Reports per run: media process CPU % of one core (all threads), bridge tick lag p50/p99/max from
 * the status histogram (its bucket bounds are the resolution), mean lag, ticks run against the
 * window's 50/s, loss by RTP sequence gaps (the network path) and frames missing by RTP timestamp
 * span (frames a sender skipped, if its timestamp follows the time), packets/s received, inter-arrival gaps at the generator, the input
 * frames the jitter buffers took late or discarded, and bridge CPU ÷ relay CPU.
 *
 *   npx tsx load/meeting-bridge.ts [--participants 50,100,250] [--variants g711,mixed] [--refs relay,relay-sockets]
 *                                  [--seconds 10] [--repeat 1] [--node-flags="--cpu-prof --cpu-prof-dir=load/out/prof"]
 *
 * Loopback only; every generator run ends by itself; the host is stopped by PID.
 */
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { BRIDGE_FRAME_SAMPLES, BRIDGE_RATE_HZ, bridgeCodec } from '../media/mixer/frame-codec.ts';
import type { BridgeCodec } from '../media/mixer/frame-codec.ts';
import { BRIDGE_TICK_LAG_BUCKETS_MS } from '../media/protocol.ts';
import type { MediaStatus } from '../media/protocol.ts';
import type { HostMode, HostParticipant, HostSpec, HostStatus, ParticipantTotals } from './media/bridge-host.ts';

const ROOT = path.join(import.meta.dirname, '..');
const OUT = path.join(ROOT, 'load', 'out');
const GEN_PORT = 11000;
const WARM_S = 1;
const TALKERS = 3;
const FRAMES = 50; // one second of frames per payload file, sent in turn

const { values } = parseArgs({
  options: {
    participants: { type: 'string', default: '50,100,250' },
    variants: { type: 'string', default: 'g711,mixed' },
    refs: { type: 'string', default: 'relay,relay-sockets' },
    seconds: { type: 'string', default: '10' },
    repeat: { type: 'string', default: '1' },
    /** Extra Node flags for the media process, e.g. "--cpu-prof --cpu-prof-dir=load/out/prof". */
    'node-flags': { type: 'string', default: '' },
  },
});
const nodeFlags = values['node-flags'].split(' ').filter((f) => f !== '');
const counts = values.participants.split(',').map(Number);
const seconds = Number(values.seconds);
const repeat = Number(values.repeat);
type Variant = 'g711' | 'mixed';
const variants = values.variants.split(',').filter((v) => v !== '');
const refs = values.refs.split(',').filter((v) => v !== '');
if (counts.some((n) => !(Number.isInteger(n) && n >= 1 && n <= 500))) throw new Error('--participants: integers 1..500');
if (!(seconds >= 1 && seconds <= 30) || !(Number.isInteger(repeat) && repeat >= 1 && repeat <= 3)) throw new Error('bounds: --seconds 1..30, --repeat 1..3');
const isVariant = (v: string): v is Variant => v === 'g711' || v === 'mixed';
const isRef = (v: string): v is 'relay' | 'relay-sockets' => v === 'relay' || v === 'relay-sockets';
if (!variants.every(isVariant) || !refs.every(isRef)) throw new Error('--variants: g711, mixed; --refs: relay, relay-sockets');

/** The RTP payload type each codec is sent with (Opus: a dynamic one, as an offer would give it). */
const PAYLOAD_TYPE: Record<string, number> = { PCMU: 0, PCMA: 8, G722: 9, OPUS: 111 };
const VARIANT_CODECS: Record<Variant, readonly string[]> = { g711: ['PCMU'], mixed: ['PCMU', 'G722', 'OPUS'] };

interface RelayGen {
  streams: number;
  gen_cpu_pct: number;
  loss_pct: number;
  relayed_pps: number;
  send_err: number;
}

interface BridgeGen {
  streams: number;
  gen_cpu_pct: number;
  sent: number;
  send_err: number;
  recv: number;
  recv_pps: number;
  expected_pps: number;
  seq_lost: number;
  loss_pct: number;
  frames_missing_pct: number;
  min_stream_recv: number;
  max_stream_recv: number;
  silent_streams: number;
  stray: number;
  wrong_pt: number;
  gap_ms: { p50: number; p99: number; p999: number; max: number };
}

interface Row {
  run: string;
  n: number;
  cpuPct: number;
  /** The generator's own CPU (CPU 0), % of one core. */
  genCpuPct: number;
  lossPct: number;
  /** Bridge runs: frames missing at the generator by RTP timestamp span (network loss, and frames skipped if the timestamp follows the time), %. */
  framesMissingPct?: number;
  pps: number;
  expectedPps: number;
  ticks?: number;
  expectedTicks?: number;
  lagP50?: string;
  lagP99?: string;
  lagMax?: string;
  lagMeanMs?: number;
  bridgeTickUsPerTick?: number;
  gapP99Ms?: number;
  gapMaxMs?: number;
  inLate?: number;
  inDiscarded?: number;
  inLost?: number;
  inDropped?: number;
  talking?: number;
  /** Fewest and most packets one participant received in the window (JSON only). */
  minStreamRecv?: number;
  maxStreamRecv?: number;
  ratio?: string;
}

function buildGenerator(): string {
  mkdirSync(OUT, { recursive: true });
  const bin = path.join(OUT, 'rtpgen');
  const src = path.join(ROOT, 'load', 'media', 'rtpgen.c');
  if (!existsSync(bin) || statSync(bin).mtimeMs < statSync(src).mtimeMs) execFileSync('gcc', ['-O2', '-o', bin, src]);
  return bin;
}

/** One second of 16 kHz frames: a tone (talkers) or low-level noise well under the talker floor. */
function pcmFrames(kind: 'tone' | 'noise', hz: number): Int16Array[] {
  let seed = 0x2545f491 ^ hz;
  return Array.from({ length: FRAMES }, (_, f) => {
    const pcm = new Int16Array(BRIDGE_FRAME_SAMPLES);
    for (let i = 0; i < BRIDGE_FRAME_SAMPLES; i++) {
      if (kind === 'tone') {
        pcm[i] = Math.round(8000 * Math.sin((2 * Math.PI * hz * (f * BRIDGE_FRAME_SAMPLES + i)) / BRIDGE_RATE_HZ));
      } else {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        pcm[i] = ((seed >>> 16) % 61) - 30; // about −63 dBFS
      }
    }
    return pcm;
  });
}

/** Encodes frames with the bridge's own encoder into rtpgen's payload file format ([u16 length][bytes] each). */
function payloadFile(codec: BridgeCodec, name: string, frames: readonly Int16Array[]): string {
  const enc = codec.createEncoder();
  const out = new Uint8Array(codec.maxPayloadBytes);
  const parts: Buffer[] = [];
  for (const pcm of frames) {
    const len = enc.encode(pcm, out);
    if (!(len >= 1 && len <= 1400)) throw new Error(`${codec.name} encoder wrote ${len} bytes`);
    const head = Buffer.alloc(2);
    head.writeUInt16BE(len);
    parts.push(head, Buffer.from(out.subarray(0, len)));
  }
  const file = path.join(OUT, `payload-${codec.name}-${name}.bin`);
  writeFileSync(file, Buffer.concat(parts));
  return file;
}

/** The N participants of a variant: codecs in turn, the first three the talkers (one of each codec in `mixed`). */
function participantsOf(variant: Variant, n: number): HostParticipant[] | string {
  const names = VARIANT_CODECS[variant];
  const codecs: BridgeCodec[] = [];
  for (const name of names) {
    const c = bridgeCodec(name);
    if (c === undefined) return `this build's bridge does not mix ${name}`;
    codecs.push(c);
  }
  const files = new Map<string, string>();
  const file = (c: BridgeCodec, kind: 'tone' | 'noise', hz: number): string => {
    const key = `${c.name}-${kind}-${hz}`;
    let f = files.get(key);
    if (f === undefined) {
      f = payloadFile(c, `${kind}${hz}`, pcmFrames(kind, hz));
      files.set(key, f);
    }
    return f;
  };
  return Array.from({ length: n }, (_, i) => {
    const c = codecs[i % codecs.length] as BridgeCodec;
    const payload = i < TALKERS ? file(c, 'tone', [600, 1000, 1400][i] ?? 1000) : file(c, 'noise', 0);
    return { codec: c.name, payloadType: PAYLOAD_TYPE[c.name] ?? 96, clockRateHz: c.rtpClockRate, tsStep: c.timestampPerFrame, payload };
  });
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
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The tick-lag quantile q of a histogram delta, as the bucket's bound ("≤ 2 ms"; "> 100 ms" past the last). */
function lagQuantile(buckets: readonly number[], q: number): string {
  const total = buckets.reduce((a, b) => a + b, 0);
  if (total === 0) return '–';
  let acc = 0;
  for (let i = 0; i < buckets.length; i++) {
    acc += buckets[i] ?? 0;
    if (acc >= q * total) return i < BRIDGE_TICK_LAG_BUCKETS_MS.length ? `≤ ${BRIDGE_TICK_LAG_BUCKETS_MS[i]}` : `> ${BRIDGE_TICK_LAG_BUCKETS_MS.at(-1)}`;
  }
  return '–';
}

function lagMax(buckets: readonly number[]): string {
  for (let i = buckets.length - 1; i >= 0; i--) {
    if ((buckets[i] ?? 0) > 0) return i < BRIDGE_TICK_LAG_BUCKETS_MS.length ? `≤ ${BRIDGE_TICK_LAG_BUCKETS_MS[i]}` : `> ${BRIDGE_TICK_LAG_BUCKETS_MS.at(-1)}`;
  }
  return '–';
}

const delta = (a: ParticipantTotals, b: ParticipantTotals, k: keyof ParticipantTotals): number => b[k] - a[k];

async function runOne(gen: string, mode: HostMode, n: number, participants: readonly HostParticipant[], label: string): Promise<Row> {
  const cfg = path.join(OUT, `bridge_${label}_${n}.cfg`);
  const specFile = path.join(OUT, `bridge_${label}_${n}.json`);
  const out = path.join(OUT, `gen_bridge_${label}_${n}.json`);
  const spec: HostSpec = { mode, genPort: GEN_PORT, cfg, participants };
  writeFileSync(specFile, JSON.stringify(spec));
  const host = spawn('taskset', ['-c', '1', process.execPath, ...nodeFlags, '--import', 'tsx', path.join(ROOT, 'load', 'media', 'bridge-host.ts'), specFile], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  try {
    await waitLine(host, 'READY', 60_000);
    const ask = async (cmd: string, answer: string): Promise<string> => {
      const reply = waitLine(host, answer, 10_000);
      host.stdin?.write(`${cmd}\n`);
      return reply;
    };
    const p0 = JSON.parse(await ask('participants', 'PARTICIPANTS ')) as ParticipantTotals;
    rmSync(out, { force: true });
    const g = spawn('taskset', ['-c', '0', gen, mode === 'bridge' ? '-B' : '-S', '-c', cfg, '-d', String(seconds), '-w', String(WARM_S), '-o', out], { stdio: ['ignore', 'ignore', 'pipe'] });
    let genErr = '';
    g.stderr?.on('data', (b: Buffer) => (genErr += b.toString()));
    const done = new Promise<void>((r) => g.once('exit', () => r()));
    await sleep((WARM_S + 0.15) * 1000);
    await ask('measure', 'MEASURING');
    await sleep((seconds - 0.3) * 1000);
    const st = JSON.parse(await ask('status', 'STATUS ')) as HostStatus;
    await done;
    const p1 = JSON.parse(await ask('participants', 'PARTICIPANTS ')) as ParticipantTotals;
    if (!existsSync(out)) throw new Error(`generator wrote no result: ${genErr.trim()}`);
    const text = readFileSync(out, 'utf8');
    const cpuPct = Math.round(st.cpuPct * 10) / 10;
    if (mode !== 'bridge') {
      const r = JSON.parse(text) as RelayGen;
      return { run: label, n, cpuPct, genCpuPct: r.gen_cpu_pct, lossPct: r.loss_pct, pps: Math.round(r.relayed_pps), expectedPps: 50 * 2 * Math.ceil(n / 2) };
    }
    const r = JSON.parse(text) as BridgeGen;
    const s0: MediaStatus = st.start;
    const s1: MediaStatus = st.end;
    const lag = s1.bridgeTickLag.map((v, i) => v - (s0.bridgeTickLag[i] ?? 0));
    const ticks = lag.reduce((a, b) => a + b, 0);
    if (s1.bridgeParticipants !== n) throw new Error(`${s1.bridgeParticipants} of ${n} participants in the mix`);
    return {
      run: label,
      n,
      cpuPct,
      genCpuPct: r.gen_cpu_pct,
      lossPct: r.loss_pct,
      framesMissingPct: r.frames_missing_pct,
      pps: Math.round(r.recv_pps),
      expectedPps: r.expected_pps,
      ticks,
      expectedTicks: Math.round(st.wallS * 50),
      lagP50: lagQuantile(lag, 0.5),
      lagP99: lagQuantile(lag, 0.99),
      lagMax: lagMax(lag),
      lagMeanMs: ticks > 0 ? Math.round(((s1.bridgeTickLagSumMs - s0.bridgeTickLagSumMs) / ticks) * 100) / 100 : 0,
      bridgeTickUsPerTick: ticks > 0 ? Math.round((s1.bridgeTickUs - s0.bridgeTickUs) / ticks) : 0,
      gapP99Ms: r.gap_ms.p99,
      gapMaxMs: r.gap_ms.max,
      inLate: delta(p0, p1, 'framesLate'),
      inDiscarded: delta(p0, p1, 'framesDiscarded'),
      inLost: delta(p0, p1, 'lostIn'),
      inDropped: delta(p0, p1, 'dropped'),
      talking: p1.talking,
      minStreamRecv: r.min_stream_recv,
      maxStreamRecv: r.max_stream_recv,
    };
  } finally {
    await stop(host);
  }
}

/** One retry when a run could not start (a port of its own taken for a moment by another process on the box). */
async function runRetry(gen: string, mode: HostMode, n: number, participants: readonly HostParticipant[], label: string): Promise<Row> {
  return runOne(gen, mode, n, participants, label).catch(async (err: unknown) => {
    console.error(`${label} ${n}: ${String(err)}; once more`);
    await sleep(2000);
    return runOne(gen, mode, n, participants, label);
  });
}

const gen = buildGenerator();
const rows: Row[] = [];
for (let rep = 0; rep < repeat; rep++) {
  for (const n of counts) {
    const perN: Row[] = [];
    for (const v of variants) {
      if (!isVariant(v)) continue;
      const ps = participantsOf(v, n);
      if (typeof ps === 'string') {
        console.error(`${v} ${n}: skipped, ${ps}`);
        continue;
      }
      perN.push(await runRetry(gen, 'bridge', n, ps, `bridge-${v}`));
      console.log(JSON.stringify(perN.at(-1)));
      await sleep(1000);
    }
    // The references carry the same N streams in and N out (PCMU-sized packets: the relay does not look at payloads).
    const pcmu = participantsOf('g711', n);
    for (const ref of refs) {
      if (!isRef(ref) || typeof pcmu === 'string') continue;
      perN.push(await runRetry(gen, ref, n, pcmu, ref));
      console.log(JSON.stringify(perN.at(-1)));
      await sleep(1000);
    }
    const relayCpu = perN.find((r) => r.run === 'relay')?.cpuPct;
    const socketsCpu = perN.find((r) => r.run === 'relay-sockets')?.cpuPct;
    for (const r of perN) {
      if (!r.run.startsWith('bridge')) continue;
      const x = (ref: number | undefined): string => (ref !== undefined && ref > 0 ? `${(r.cpuPct / ref).toFixed(1)}×` : '–');
      r.ratio = `${x(relayCpu)} / ${x(socketsCpu)}`;
    }
    rows.push(...perN);
  }
}
writeFileSync(path.join(OUT, `meeting-bridge-${Date.now()}.json`), JSON.stringify(rows, null, 1));
console.log('\n| run | N | media CPU % of 1 core (CPU 1) | generator CPU % (CPU 0) | tick lag p50 ms | p99 ms | max ms | mean ms | ticks / expected | seq loss % | frames missing % | pkt/s received / expected | gap p99 / max ms | in, whole run: lost / dropped / late / discarded | bridge ÷ relay CPU (native / sockets) |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  const b = r.ticks !== undefined;
  console.log(
    `| ${r.run} | ${r.n} | ${r.cpuPct} | ${r.genCpuPct} | ${r.lagP50 ?? '–'} | ${r.lagP99 ?? '–'} | ${r.lagMax ?? '–'} | ${r.lagMeanMs ?? '–'} | ${b ? `${r.ticks} / ${r.expectedTicks}` : '–'} | ${r.lossPct.toFixed(3)} | ${r.framesMissingPct?.toFixed(3) ?? '–'} | ${r.pps} / ${r.expectedPps} | ${b ? `${r.gapP99Ms} / ${r.gapMaxMs}` : '–'} | ${b ? `${r.inLost} / ${r.inDropped} / ${r.inLate} / ${r.inDiscarded}` : '–'} | ${r.ratio ?? '–'} |`,
  );
}
