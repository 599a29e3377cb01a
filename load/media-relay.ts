/**
 * RTP relay benchmark: N concurrent bidirectional G.711 streams (50 packets/s each way) from the
 * C load generator (load/media/rtpgen.c: paced sends, one-way latency and loss) through Carillon's
 * media engine and, in the same run, through rtpengine in userspace mode (the reference).
 * Generator pinned to CPU 0, relay to CPU 1. Reports loss, relayed packets/s, relay CPU, packets/s
 * per relay core and one-way latency p50/p99/p99.9 for each N.
 *
 *   npx tsx load/media-relay.ts [--streams 250,500,750,1000,1250] [--seconds 10] [--relays carillon,rtpengine] [--repeat 1]
 *                               [--reference DIR]   (adds relay "carillon-ref": DIR's own load/media/carillon-host.ts,
 *                                                    a worktree of an earlier commit, same generator and pinning)
 *
 * Loopback only; every generator run is bounded in time (rtpgen exits by itself); relays are
 * stopped by PID. rtpengine comes from Debian (scripts/install-test-peers.sh --bench).
 */
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { NgClient } from './media/ng-client.ts';
import type { Bencoded } from './media/ng-client.ts';

const ROOT = path.join(import.meta.dirname, '..');
const OUT = path.join(ROOT, 'load', 'out');
const GEN_BASE = 10000;
const WARM_S = 1;
const { values } = parseArgs({
  options: {
    streams: { type: 'string', default: '250,500,750,1000,1250' },
    seconds: { type: 'string', default: '10' },
    relays: { type: 'string', default: 'carillon,rtpengine' },
    repeat: { type: 'string', default: '1' },
    workers: { type: 'string', default: '1' },
    /** A worktree of an earlier commit, measured as relay "carillon-ref" in the same run. */
    reference: { type: 'string', default: '' },
    /** Extra Node flags for the Carillon process, e.g. "--max-semi-space-size=32". */
    'node-flags': { type: 'string', default: '' },
  },
});
const streamsList = values.streams.split(',').map(Number);
const seconds = Number(values.seconds);
type Relay = 'carillon' | 'carillon-ref' | 'rtpengine';
const relays = values.relays.split(',') as Relay[];
if (relays.some((r) => r !== 'carillon' && r !== 'rtpengine' && r !== 'carillon-ref') || (relays.includes('carillon-ref') && values.reference === '')) throw new Error('relays: carillon, rtpengine, carillon-ref (with --reference DIR)');
const repeat = Number(values.repeat);
if (streamsList.some((n) => !(n > 0 && n <= 2000)) || !(seconds > 0 && seconds <= 60) || !(repeat >= 1 && repeat <= 5)) throw new Error('bounds: streams 1..2000, seconds 1..60, repeat 1..5');

interface GenResult {
  streams: number;
  loss_pct: number;
  relayed_pps: number;
  lat_us: { p50: number; p90: number; p99: number; p999: number; max: number };
  gen_cpu_pct: number;
  send_late_us: { mean: number; max: number };
}

interface Row extends GenResult {
  relay: string;
  relay_cpu_pct: number;
  pps_per_core: number;
}

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8' });
}

function buildGenerator(): string {
  mkdirSync(OUT, { recursive: true });
  const bin = path.join(OUT, 'rtpgen');
  if (!existsSync(bin)) sh('gcc', ['-O2', '-o', bin, path.join(ROOT, 'load', 'media', 'rtpgen.c')]);
  return bin;
}

/** CPU ticks (user + system) a process has used, all threads. */
function ticks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

function waitLine(child: ChildProcess, want: string, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const t = setTimeout(() => reject(new Error(`no ${want} within ${ms} ms: ${buf.slice(-500)}`)), ms);
    child.stdout?.on('data', (b: Buffer) => {
      buf += b.toString();
      if (buf.includes(want)) {
        clearTimeout(t);
        resolve();
      }
    });
  });
}

function sdp(port: number): string {
  return `v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio ${port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=ptime:20\r\na=sendrecv\r\n`;
}

function mport(s: Bencoded | undefined): number {
  const m = /m=audio (\d+)/.exec(Buffer.isBuffer(s) ? s.toString() : String(s));
  if (m?.[1] === undefined) throw new Error('no m= line in NG answer');
  return Number(m[1]);
}

async function startRelay(relay: Relay, n: number, cfg: string): Promise<ChildProcess> {
  if (relay === 'carillon' || relay === 'carillon-ref') {
    const flags = values['node-flags'].split(' ').filter((f) => f !== '');
    const root = relay === 'carillon' ? ROOT : path.resolve(values.reference);
    const child = spawn('taskset', ['-c', '1', process.execPath, ...flags, '--import', 'tsx', path.join(root, 'load', 'media', 'carillon-host.ts'), String(n), String(GEN_BASE), cfg, values.workers], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await waitLine(child, 'READY', 60_000);
    return child;
  }
  const child = spawn('taskset', ['-c', '1', 'rtpengine', `--config-file=${path.join(ROOT, 'load', 'media', 'rtpengine.conf')}`, '--config-section=rtpengine', `--pidfile=${path.join(OUT, 'rtpengine.pid')}`], {
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  const ng = new NgClient();
  try {
    for (let i = 0; ; i++) {
      try {
        await ng.command({ command: 'ping' }, 200);
        break;
      } catch (err) {
        if (i > 50) throw err;
      }
    }
    const lines: string[] = [];
    for (let i = 0; i < n; i++) {
      const ids = { 'call-id': `bench-${i}`, 'from-tag': `ft${i}` };
      const offer = await ng.command({ command: 'offer', ...ids, sdp: sdp(GEN_BASE) });
      const answer = await ng.command({ command: 'answer', ...ids, 'to-tag': `tt${i}`, sdp: sdp(GEN_BASE + 1) });
      lines.push(`${GEN_BASE} ${GEN_BASE + 1} 127.0.0.1 ${mport(answer.sdp)} 127.0.0.1 ${mport(offer.sdp)}`);
    }
    writeFileSync(cfg, `${lines.join('\n')}\n`);
  } finally {
    ng.close();
  }
  return child;
}

async function stop(child: ChildProcess): Promise<void> {
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
  child.kill('SIGKILL');
}

async function runOne(gen: string, relay: Relay, n: number): Promise<Row> {
  const cfg = path.join(OUT, `${relay}_${n}.cfg`);
  const out = path.join(OUT, `gen_${relay}_${n}.json`);
  const child = await startRelay(relay, n, cfg);
  try {
    rmSync(out, { force: true });
    const g = spawn('taskset', ['-c', '0', gen, '-S', '-c', cfg, '-d', String(seconds), '-w', String(WARM_S), '-o', out], { stdio: ['ignore', 'ignore', 'pipe'] });
    let genErr = '';
    g.stderr?.on('data', (b: Buffer) => (genErr += b.toString()));
    const done = new Promise<void>((r) => g.once('exit', () => r()));
    await new Promise((r) => setTimeout(r, (WARM_S + 0.15) * 1000));
    const pid = child.pid as number;
    const c0 = ticks(pid);
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, (seconds - 0.2) * 1000));
    const c1 = ticks(pid);
    const wall = (performance.now() - t0) / 1000;
    await done;
    if (!existsSync(out)) throw new Error(`generator wrote no result: ${genErr.trim()}`);
    const res = JSON.parse(readFileSync(out, 'utf8')) as GenResult;
    const cpu = (100 * (c1 - c0)) / 100 / wall;
    return { ...res, relay, relay_cpu_pct: Math.round(cpu * 10) / 10, pps_per_core: cpu > 0 ? Math.round(res.relayed_pps / (cpu / 100)) : 0 };
  } finally {
    await stop(child);
  }
}

const gen = buildGenerator();
const rows: Row[] = [];
for (let r = 0; r < repeat; r++) {
  for (const n of streamsList) {
    for (const relay of relays) {
      // One retry when the generator could not run (a port of its own taken for a moment by another process).
      const row = await runOne(gen, relay, n).catch(async (err: unknown) => {
        console.error(String(err));
        await new Promise((res) => setTimeout(res, 2000));
        return runOne(gen, relay, n);
      });
      rows.push(row);
      console.log(JSON.stringify(row));
      await new Promise((res) => setTimeout(res, 1000));
    }
  }
}
writeFileSync(path.join(OUT, `media-relay-${Date.now()}.json`), JSON.stringify(rows, null, 1));
console.log('\n| relay | streams | loss % | relayed pps | relay CPU % of 1 core | pps per relay core | latency p50 µs | p99 µs | p99.9 µs |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const x of rows) {
  console.log(`| ${x.relay} | ${x.streams} | ${x.loss_pct.toFixed(3)} | ${Math.round(x.relayed_pps)} | ${x.relay_cpu_pct} | ${x.pps_per_core} | ${x.lat_us.p50} | ${x.lat_us.p99} | ${x.lat_us.p999} |`);
}
