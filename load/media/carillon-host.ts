/**
 * Hosts Carillon's media engine for the relay benchmark (pinned to a core by the driver): opens N
 * anchored streams through the same command API signaling uses, each with its caller side at the
 * generator's A socket and its callee side at the B socket, writes the generator's config, prints
 * READY, and on SIGTERM prints the engine's counters and exits. Carillon's own RTCP is pushed
 * past the run (the generator sends none and would count SRs as stray packets; rtpengine, the
 * reference, generates none either).
 *
 *   node --import tsx load/media/carillon-host.ts N GEN_BASE CFG_FILE [WORKERS]
 */
import { writeFileSync } from 'node:fs';
import pino from 'pino';
import { MediaEngine } from '../../media/engine.ts';

const [n, genBase, cfgFile, workers] = [Number(process.argv[2]), Number(process.argv[3]), String(process.argv[4]), Number(process.argv[5] ?? 1)];
if (!(n > 0 && n <= 5000)) throw new Error('N must be 1..5000');
const engine = await MediaEngine.start(
  { workers, bindAddress: '127.0.0.1', low: 30000, high: 30000 + 4 * n + 99, strict: false, mediaTimeoutMs: 0, rtcpIntervalMs: 60_000, cname: 'carillon@bench', releaseDelayMs: 0, nativeRelay: process.env.CARILLON_BENCH_RELAY !== 'sockets' },
  pino({ level: 'warn' }),
);
const lines: string[] = [];
for (let i = 0; i < n; i++) {
  const session = `bench-${i}`;
  const remote = (port: number) => ({ address: '127.0.0.1', port, rtcpPort: port + 100, rtcpMux: false, direction: 'sendrecv' as const, dtmfPayloadTypes: [] });
  // Two endpoints, each with its far end set, connected: the two-party call's media.
  const [aPort, bPort] = await Promise.all([
    engine.openEndpoint(session, 'a', { kind: 'audio', clockRateHz: 8000, codec: 'PCMU', remote: remote(genBase) }),
    engine.openEndpoint(session, 'b', { kind: 'audio', clockRateHz: 8000, codec: 'PCMU', remote: remote(genBase + 1) }),
  ]);
  if (aPort === 'ports-exhausted' || bPort === 'ports-exhausted') throw new Error(`port range exhausted at stream ${i} (${JSON.stringify(await engine.status())})`);
  await engine.connect(session, 'a', 'b');
  await engine.arm(session);
  // Generator line: A socket, B socket, where A sends (Carillon's caller-facing port), where B sends.
  lines.push(`${genBase} ${genBase + 1} 127.0.0.1 ${aPort} 127.0.0.1 ${bPort}`);
}
writeFileSync(cfgFile, `${lines.join('\n')}\n`);
console.log('READY');
process.on('SIGTERM', () => {
  void engine.status().then(async (s) => {
    console.log(JSON.stringify(s));
    await engine.close();
    process.exit(0);
  });
});
setInterval(() => undefined, 1000);
