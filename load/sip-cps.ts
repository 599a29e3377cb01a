/**
 * SIP call-rate benchmark: SIPp UAC → Carillon (B2BUA) → SIPp UAS, against SIPp UAC → UAS direct
 * in the same run as the reference (the harness ceiling). For each rate: achieved CPS, failed
 * calls, retransmissions, INVITE→200 p50/p99 and Carillon's CPU as % of one core.
 *
 *   npx tsx load/sip-cps.ts [--rates 500,1000,1500,2000,2500] [--seconds 10] [--direct-only]
 *
 * Everything runs on 127.0.0.1; every SIPp run is bounded by call count (-m) and time (-timeout).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { freePort } from '../test/support/ports.ts';
import { runSipp, startSipp } from '../test/support/sipp.ts';
import type { SippResult } from '../test/support/sipp.ts';

const ROOT = path.join(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    rates: { type: 'string', default: '500,1000,1500,2000,2500' },
    seconds: { type: 'string', default: '10' },
    'direct-only': { type: 'boolean', default: false },
    /** Extra Node flags for the Carillon process, e.g. "--max-semi-space-size=64". */
    'node-flags': { type: 'string', default: '' },
    /** Pin Carillon to CPU 1 and both SIPps to CPU 0 (a per-core figure, less co-scheduling noise). */
    pin: { type: 'boolean', default: false },
  },
});
const rates = values.rates.split(',').map(Number);
const seconds = Number(values.seconds);
const HOLD_MS = 1000;

interface Row {
  system: 'direct' | 'carillon';
  targetCps: number;
  achievedCps: number;
  calls: number;
  failed: number;
  retransmissions: number;
  p50Ms: number | null;
  p99Ms: number | null;
  cpuPctOfCore: number | null;
}

function cpuTicks(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** INVITE→200 response times from SIPp's -trace_rtt file. */
function rtts(dir: string): number[] {
  const out: number[] = [];
  for (const f of readdirSync(dir)) {
    if (!f.endsWith('_rtt.csv')) continue;
    for (const line of readFileSync(path.join(dir, f), 'utf8').split('\n').slice(1)) {
      const parts = line.split(';');
      if (parts.length >= 3 && parts[2]?.trim() === '1') out.push(Number(parts[1]));
    }
  }
  return out.sort((a, b) => a - b);
}

function pct(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? null;
}

async function runPair(target: string, rate: number, uasPort: number, uacPort: number, forSeconds = seconds): Promise<{ uac: SippResult; wallMs: number }> {
  const calls = rate * forSeconds;
  const cpu = values.pin ? { cpu: 0 } : {};
  const uas = startSipp({ scenario: 'uas-answer', port: uasPort, transport: 'udp', calls, timeoutSec: seconds + 60, ...cpu });
  await new Promise((r) => setTimeout(r, 300));
  const t0 = Date.now();
  const uac = await runSipp({
    scenario: 'uac-basic',
    pauseMs: HOLD_MS,
    remote: target,
    port: uacPort,
    transport: 'udp',
    calls,
    rate,
    limit: rate * 4,
    timeoutSec: seconds + 40,
    extraArgs: ['-trace_rtt', '-rtt_freq', '1'],
    ...cpu,
  });
  const wallMs = Date.now() - t0;
  const uasDone = await Promise.race([uas.done, new Promise<null>((r) => setTimeout(() => r(null), 15_000))]);
  if (uasDone === null) uas.kill();
  return { uac, wallMs };
}

function row(system: Row['system'], rate: number, uac: SippResult, wallMs: number, cpu: number | null): Row {
  const r = rtts(uac.dir);
  const callWindowSec = Math.max(0.001, wallMs / 1000 - HOLD_MS / 1000);
  return {
    system,
    targetCps: rate,
    achievedCps: Math.round((uac.successful + uac.failed) / callWindowSec),
    calls: uac.successful,
    failed: uac.failed,
    retransmissions: uac.retransmissions,
    p50Ms: pct(r, 50),
    p99Ms: pct(r, 99),
    cpuPctOfCore: cpu,
  };
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  const dir = mkdtempSync(path.join(os.tmpdir(), 'carillon-cps-'));
  const uasPort = await freePort();
  const uacPort = await freePort();
  const sipPort = await freePort();
  writeFileSync(path.join(dir, 'c.json'), JSON.stringify({ logLevel: 'error', routes: [{ match: {}, target: `sip:127.0.0.1:${uasPort};transport=udp` }] }));
  const server = values['direct-only']
    ? undefined
    : spawn(values.pin ? 'taskset' : process.execPath, [...(values.pin ? ['-c', '1', process.execPath] : []), ...values['node-flags'].split(' ').filter((f) => f !== ''), '--import', 'tsx', 'cli/carillon.ts', 'serve', '--data', path.join(dir, 'data'), '--bind', '127.0.0.1',
        '--sip-udp', String(sipPort), '--sip-tcp=-1', '--sip-tls=-1', '--api', '0', '--config', path.join(dir, 'c.json')], { cwd: ROOT, stdio: 'ignore' });
  try {
    if (server !== undefined) {
      for (let i = 0; i < 200 && !existsSync(path.join(dir, 'data', 'ports.json')); i++) await new Promise((r) => setTimeout(r, 100));
    }
    if (server !== undefined) {
      // Warm-up (not measured): JIT and heap reach their steady state before the first rate.
      await runPair(`127.0.0.1:${sipPort}`, 500, uasPort, uacPort, 4);
    }
    for (const rate of rates) {
      const direct = await runPair(`127.0.0.1:${uasPort}`, rate, uasPort, uacPort);
      rows.push(row('direct', rate, direct.uac, direct.wallMs, null));
      console.error(JSON.stringify(rows.at(-1)));
      if (server?.pid !== undefined) {
        const before = cpuTicks(server.pid);
        const via = await runPair(`127.0.0.1:${sipPort}`, rate, uasPort, uacPort);
        const ticks = cpuTicks(server.pid) - before;
        const cpu = Math.round((ticks / 100 / (via.wallMs / 1000)) * 100);
        rows.push(row('carillon', rate, via.uac, via.wallMs, cpu));
        console.error(JSON.stringify(rows.at(-1)));
      }
    }
  } finally {
    server?.kill('SIGTERM');
  }
  const cpuModel = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown';
  const lines = [
    `SIP CPS, ${new Date().toISOString()}, node ${process.version}, ${os.cpus().length} × ${cpuModel}, hold ${HOLD_MS} ms, ${seconds} s per rate`,
    '',
    '| system | target CPS | achieved CPS | calls ok | failed | retrans | INVITE→200 p50 ms | p99 ms | Carillon CPU % of a core |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.system} | ${r.targetCps} | ${r.achievedCps} | ${r.calls} | ${r.failed} | ${r.retransmissions} | ${r.p50Ms ?? '–'} | ${r.p99Ms ?? '–'} | ${r.cpuPctOfCore ?? '–'} |`),
  ];
  for (const system of ['direct', 'carillon'] as const) {
    const clean = rows.filter((r) => r.system === system && r.failed === 0 && r.calls > 0);
    const best = clean.sort((a, b) => b.targetCps - a.targetCps)[0];
    if (best !== undefined) lines.push('', `${system}: highest rate with 0 failed calls: ${best.targetCps} CPS (achieved ${best.achievedCps}, p99 ${best.p99Ms} ms)`);
  }
  console.log(lines.join('\n'));
  mkdirSync(path.join(ROOT, 'load/out'), { recursive: true });
  writeFileSync(path.join(ROOT, 'load/out', `sip-cps-${Date.now()}.json`), JSON.stringify({ node: process.version, cpu: cpuModel, seconds, holdMs: HOLD_MS, rows }, null, 1));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
