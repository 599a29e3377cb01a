/**
 * SIP call-rate benchmark: SIPp UAC → Carillon (B2BUA) → SIPp UAS, against SIPp UAC → UAS direct
 * in the same run as the reference (the harness ceiling). For each rate: achieved CPS, failed
 * calls, retransmissions, INVITE→200 p50/p99 and Carillon's CPU as % of one core.
 *
 *   npx tsx load/sip-cps.ts [--rates 500,1000,1500,2000,2500] [--seconds 10] [--direct-only] [--trunk]
 *
 * --trunk also runs every rate as voice connector termination (the PBX dials
 * `<number>@<id>.voiceconnector.<domain>`, set up through the SDK; CIDR, regions, CpsLimit, caller
 * ID, carrier choice, CDRs written per call) through the same Carillon process.
 *
 * Everything runs on 127.0.0.1; every SIPp run is bounded by call count (-m) and time (-timeout).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { freePort } from '../test/support/ports.ts';
import { realErrors, runSipp, startSipp } from '../test/support/sipp.ts';
import type { SippResult } from '../test/support/sipp.ts';
import { CreateVoiceConnectorCommand, PutVoiceConnectorTerminationCommand } from '@aws-sdk/client-chime-sdk-voice';
import { trunkCaller } from '../test/support/sipp-trunk-scenarios.ts';
import { trunkApiAt } from '../test/support/trunk-api.ts';

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
    trunk: { type: 'boolean', default: false },
  },
});
const rates = values.rates.split(',').map(Number);
const seconds = Number(values.seconds);
const HOLD_MS = 1000;
/** The trunk's own number (its caller ID) and the number it dials. */
const PBX_NUMBER = '+12065550111';
const DIALED = '+14155550123';

interface Row {
  system: 'direct' | 'carillon' | 'trunk';
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

async function runPair(target: string, rate: number, uasPort: number, uacPort: number, forSeconds = seconds, trunkHost?: string): Promise<{ uac: SippResult; wallMs: number }> {
  const calls = rate * forSeconds;
  const cpu = values.pin ? { cpu: 0 } : {};
  const uas = startSipp({ scenario: 'uas-answer', port: uasPort, transport: 'udp', calls, timeoutSec: seconds + 60, ...cpu });
  await new Promise((r) => setTimeout(r, 300));
  const t0 = Date.now();
  const uac = await runSipp({
    scenario: trunkHost === undefined ? 'uac-basic' : { name: 'pbx', xml: trunkCaller({ host: trunkHost, from: PBX_NUMBER, expect: 'answer', pauseMs: HOLD_MS }) },
    service: DIALED,
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
  if (uac.failed > 0) console.error(`${system} ${rate}: ${realErrors(uac).slice(0, 1500)}`);
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
  // The carrier is the SIPp UAS: no OPTIONS pings during the run (SIPp would take one for a call and stop a call short).
  writeFileSync(path.join(dir, 'c.json'), JSON.stringify({ logLevel: 'error', sip: { optionsPingIntervalSec: 3600 }, routes: [{ match: {}, target: `sip:127.0.0.1:${uasPort};transport=udp` }] }));
  const server = values['direct-only']
    ? undefined
    : spawn(values.pin ? 'taskset' : process.execPath, [...(values.pin ? ['-c', '1', process.execPath] : []), ...values['node-flags'].split(' ').filter((f) => f !== ''), '--import', 'tsx', 'cli/carillon.ts', 'serve', '--data', path.join(dir, 'data'), '--bind', '127.0.0.1',
        '--sip-udp', String(sipPort), '--sip-tcp=-1', '--sip-tls=-1', '--api', values.trunk ? '0' : '-1', '--config', path.join(dir, 'c.json')], { cwd: ROOT, stdio: 'ignore' });
  let trunkHost: string | undefined;
  try {
    if (server !== undefined) {
      for (let i = 0; i < 200 && !existsSync(path.join(dir, 'data', 'ports.json')); i++) await new Promise((r) => setTimeout(r, 100));
    }
    if (server !== undefined && values.trunk) trunkHost = await setUpTrunk(path.join(dir, 'data'), uasPort);
    if (server !== undefined) {
      // Warm-up (not measured): JIT and heap reach their steady state before the first rate.
      await runPair(`127.0.0.1:${sipPort}`, 500, uasPort, uacPort, 4);
      if (trunkHost !== undefined) await runPair(`127.0.0.1:${sipPort}`, 500, uasPort, uacPort, 2, trunkHost);
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
        if (trunkHost !== undefined) {
          const t0 = cpuTicks(server.pid);
          const viaTrunk = await runPair(`127.0.0.1:${sipPort}`, rate, uasPort, uacPort, seconds, trunkHost);
          const trunkCpu = Math.round(((cpuTicks(server.pid) - t0) / 100 / (viaTrunk.wallMs / 1000)) * 100);
          rows.push(row('trunk', rate, viaTrunk.uac, viaTrunk.wallMs, trunkCpu));
          console.error(JSON.stringify(rows.at(-1)));
        }
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
  for (const system of ['direct', 'carillon', 'trunk'] as const) {
    const clean = rows.filter((r) => r.system === system && r.failed === 0 && r.calls > 0);
    const best = clean.sort((a, b) => b.targetCps - a.targetCps)[0];
    if (best !== undefined) lines.push('', `${system}: highest rate with 0 failed calls: ${best.targetCps} CPS (achieved ${best.achievedCps}, p99 ${best.p99Ms} ms)`);
  }
  console.log(lines.join('\n'));
  mkdirSync(path.join(ROOT, 'load/out'), { recursive: true });
  writeFileSync(path.join(ROOT, 'load/out', `sip-cps-${Date.now()}.json`), JSON.stringify({ node: process.version, cpu: cpuModel, seconds, holdMs: HOLD_MS, rows }, null, 1));
}

/** A voice connector taking termination from 127.0.0.1 to a carrier on `carrierPort`, set up through the SDK; its host name. */
async function setUpTrunk(dataDir: string, carrierPort: number): Promise<string> {
  const ports = JSON.parse(readFileSync(path.join(dataDir, 'ports.json'), 'utf8')) as { api: number };
  const api = trunkApiAt(`http://127.0.0.1:${ports.api}`, dataDir);
  const vc = (await api.voice.send(new CreateVoiceConnectorCommand({ Name: 'cps trunk', RequireEncryption: false }))).VoiceConnector;
  const id = vc?.VoiceConnectorId ?? '';
  await api.voice.send(new PutVoiceConnectorTerminationCommand({ VoiceConnectorId: id, Termination: { CallingRegions: ['US'], CidrAllowedList: ['127.0.0.1/32'], CpsLimit: 100_000 } }));
  await api.ownNumbers(id, [PBX_NUMBER]);
  const r = await api.api('POST', '/carillon/v1/carriers', { Name: 'cps carrier', Host: '127.0.0.1', Port: carrierPort, Protocol: 'UDP', Priority: 1, Weight: 1 });
  if (r.status !== 201) throw new Error(`carrier: ${r.status}`);
  api.voice.destroy();
  return vc?.OutboundHostName ?? '';
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
