/**
 * Long SIP mutation fuzz run against the real `carillon serve` process (a crash is the process
 * exiting, not an exception a test runner might swallow): N mutated UDP and M mutated TCP messages
 * (test/support/sip-mutator.ts, seeded from valid INVITE/OPTIONS/REGISTER; INVITEs to +1206…
 * routed on to a callee answering with mutated answers), then the same server answers valid
 * OPTIONS as the same-run reference (the fuzz rate is reported as a ratio of it), and the run
 * ends once every call, transaction and port pair is gone (read from /metrics).
 *
 *   npx tsx load/fuzz-sip.ts [--udp 200000] [--tcp 20000] [--seed 1] [--runs 1]
 *
 * Loopback only; bounded in count and time; stops by itself.
 */
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { FuzzCallee, runSipFuzz } from '../test/support/sip-fuzz.ts';

const ROOT = path.join(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    udp: { type: 'string', default: '200000' },
    tcp: { type: 'string', default: '20000' },
    seed: { type: 'string', default: '1' },
    runs: { type: 'string', default: '1' },
  },
});

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0);
}

async function metric(api: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${api}/metrics`)).text();
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
  return Number(m?.[1] ?? NaN);
}

/**
 * Valid OPTIONS, paced like the fuzz: how many answered per second (the same-run reference),
 * after a warm-up of a quarter as many that is not counted.
 */
async function optionsRate(udpPort: number, n: number): Promise<number> {
  await optionsBurst(udpPort, Math.ceil(n / 4));
  return optionsBurst(udpPort, n);
}

async function optionsBurst(udpPort: number, n: number): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  let answered = 0;
  s.on('message', () => answered++);
  const port = s.address().port;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    s.send(`OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bKref${i};rport\r\nMax-Forwards: 70\r\nFrom: <sip:r@127.0.0.1>;tag=r\r\nTo: <sip:127.0.0.1>\r\nCall-ID: ref${i}@load\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`, udpPort, '127.0.0.1');
    if (i % 100 === 99) await new Promise((r) => setTimeout(r, 4));
  }
  for (let k = 0; k < 200 && answered < n; k++) await new Promise((r) => setTimeout(r, 10));
  const sec = (performance.now() - t0) / 1000;
  s.close();
  return answered / sec;
}

async function oneRun(seed: number): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'carillon-fuzz-'));
  const callee = new FuzzCallee();
  const calleePort = await callee.open();
  const config = path.join(dir, 'config.json');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(
    config,
    JSON.stringify({
      mediaTimeout: 2,
      // No lookup may leave the machine; every name a fuzzed message makes Carillon resolve goes to a closed loopback port.
      dnsServers: ['127.0.0.1:9'],
      sip: { t1Ms: 50, t2Ms: 400, t4Ms: 500, timerDMs: 500, requestsPerSecPerSource: 1_000_000, burstPerSource: 1_000_000, messageDeadlineSec: 2 },
      routes: [{ match: { userPrefix: '+1206' }, target: `sip:127.0.0.1:${calleePort};transport=udp` }],
    }),
  );
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli/carillon.ts', 'serve', '--data', path.join(dir, 'data'), '--bind', '127.0.0.1', '--sip-udp', '0', '--sip-tcp', '0', '--sip-tls=-1', '--api', '0', '--log-level', 'silent', '--config', config], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  let exit: number | null | undefined;
  child.on('exit', (code, signal) => (exit = code ?? (signal === null ? null : -1)));
  const portsFile = path.join(dir, 'data', 'ports.json');
  for (let i = 0; i < 300 && !existsSync(portsFile); i++) await new Promise((r) => setTimeout(r, 100));
  const ports = JSON.parse(readFileSync(portsFile, 'utf8')) as { sipUdp: number; sipTcp: number; api: number };
  const pid = child.pid ?? 0;
  const rss0 = rssKb(pid);
  const refBefore = await optionsRate(ports.sipUdp, 20_000);
  const heap0 = await metric(ports.api, 'carillon_nodejs_heap_size_used_bytes');
  const t0 = performance.now();
  const counts = await runSipFuzz({ udpPort: ports.sipUdp, tcpPort: ports.sipTcp }, { seed, udp: Number(values.udp), tcp: Number(values.tcp), routedNumber: '+1206555', callee });
  const fuzzSec = (performance.now() - t0) / 1000;
  const rssPeak = rssKb(pid);
  const heapPeak = await metric(ports.api, 'carillon_nodejs_heap_size_used_bytes');
  const refAfter = await optionsRate(ports.sipUdp, 20_000);
  // Drain: every call, transaction and port pair gone. A call left ringing ends at Timer C (181 s)
  // or, if no transaction is left to time it, at the setup guard (213 s after its latest attempt);
  // a call that failed over to another hop rings again from there. Bounded at 11 minutes.
  let calls = NaN;
  let tx = NaN;
  let pairs = NaN;
  const drainStart = performance.now();
  const trace: string[] = [];
  while (exit === undefined && performance.now() - drainStart < 660_000) {
    [calls, tx, pairs] = await Promise.all([metric(ports.api, 'carillon_calls_active'), metric(ports.api, 'carillon_sip_transactions_active'), metric(ports.api, 'carillon_media_port_pairs_in_use')]);
    const at = `${Math.round((performance.now() - drainStart) / 1000)}s:${calls}/${tx}/${pairs}`;
    if (trace.length === 0 || !trace[trace.length - 1]?.endsWith(at.slice(at.indexOf(':')))) trace.push(at);
    if (calls === 0 && tx === 0 && pairs === 0) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const drainSec = (performance.now() - drainStart) / 1000;
  const parseErrors = await metric(ports.api, 'carillon_sip_parse_errors_total');
  const rssEnd = rssKb(pid);
  const heapEnd = await metric(ports.api, 'carillon_nodejs_heap_size_used_bytes');
  const alive = exit === undefined;
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  callee.close();
  rmSync(dir, { recursive: true, force: true });
  const sent = counts.udpSent + counts.tcpSent;
  console.log(
    JSON.stringify({
      seed,
      alive,
      exitDuringRun: alive ? null : exit,
      udpSent: counts.udpSent,
      tcpSent: counts.tcpSent,
      tcpConnections: counts.tcpConnections,
      answersByClass: { '1xx': counts.answers[1], '2xx': counts.answers[2], '3xx': counts.answers[3], '4xx': counts.answers[4], '5xx': counts.answers[5], '6xx': counts.answers[6] },
      calleeInvites: counts.calleeInvites,
      parseErrors,
      fuzzMsgPerSec: Math.round(sent / fuzzSec),
      referenceOptionsPerSec: { before: Math.round(refBefore), after: Math.round(refAfter) },
      ratioFuzzToReference: Number((sent / fuzzSec / refBefore).toFixed(2)),
      drainedSec: Number(drainSec.toFixed(1)),
      leftAfterDrain: { calls, transactions: tx, portPairs: pairs },
      drainTrace: trace.slice(-12).join(' '),
      rssKb: { start: rss0, afterFuzz: rssPeak, end: rssEnd },
      heapUsedMb: { start: Math.round(heap0 / 1e6), afterFuzz: Math.round(heapPeak / 1e6), end: Math.round(heapEnd / 1e6) },
    }),
  );
  if (!alive) process.exitCode = 1;
}

for (let r = 0; r < Number(values.runs); r++) await oneRun(Number(values.seed) + r);
