/**
 * The audio bridge on one core: one meeting of N G.711 participants (N = 50, 100, 250; plus a
 * half-PCMA variant), each sending a 20 ms tone frame per tick at its own level (all above the
 * talker floor: the selection works on every participant). Two measurements per N:
 *  1. CPU: `ticks` ticks as fast as possible (push N packets + tick), CPU time per tick, against
 *     a same-run reference that copies the same N payloads to N receivers without mixing.
 *  2. Real time: the bridge on the drift-free Ticker with the node timers for `seconds`, tick lag
 *     p50/p99 (actual − ideal), skipped ticks, and CPU % of one core over the run; the empty
 *     tick (0 participants) before and after is the reference for the event loop's own lag.
 * Run: npx tsx load/bench/mixer.ts [ticks=1500] [seconds=5]
 */
import { nodeTimers, systemClock } from '../../common/clock.ts';
import { LINEAR_TO_ALAW, LINEAR_TO_ULAW } from '../../media/codecs/g711.ts';
import { Bridge } from '../../media/mixer/bridge.ts';
import { Ticker } from '../../media/mixer/tick.ts';

const TICKS = Number(process.argv[2] ?? 1500);
const SECONDS = Number(process.argv[3] ?? 5);
const FRAMES = 50; // one second of distinct frames per participant, cycled

interface Feed {
  readonly id: string;
  readonly pt: number;
  readonly frames: Uint8Array[];
  seq: number;
}

function feeds(n: number, mixed: boolean): Feed[] {
  return Array.from({ length: n }, (_, p) => {
    const pt = mixed && p % 2 === 1 ? 8 : 0;
    const enc = pt === 0 ? LINEAR_TO_ULAW : LINEAR_TO_ALAW;
    const hz = 300 + ((p * 37) % 1500);
    const amp = 500 + ((p * 131) % 8000);
    const frames = Array.from({ length: FRAMES }, (_, f) => {
      const b = new Uint8Array(160);
      for (let i = 0; i < 160; i++) b[i] = enc[Math.round(amp * Math.sin((2 * Math.PI * hz * (f * 160 + i)) / 8000)) + 32768] ?? 0;
      return b;
    });
    return { id: `p${p}`, pt, frames, seq: (p * 1000) & 0xffff };
  });
}

let sink = 0;
const onFrame = (_id: string, payload: Uint8Array, length: number): void => {
  sink += payload[length - 1] ?? 0;
};

function bridgeFor(fs: Feed[]): Bridge {
  const b = new Bridge({ capacity: fs.length, onFrame });
  for (const f of fs) b.join(f.id, f.pt === 0 ? 'PCMU' : 'PCMA');
  return b;
}

function feedTick(b: Bridge, fs: Feed[], t: number, nowMs: number): void {
  for (const f of fs) {
    const frame = f.frames[t % FRAMES];
    if (frame === undefined) continue;
    f.seq = (f.seq + 1) & 0xffff;
    b.push(f.id, f.seq, (t * 160) >>> 0, 1, frame, 160, nowMs);
  }
  b.tick();
}

/** Reference: the same N payloads copied to N receivers' buffers and handed out, no mixing. */
function copyTick(fs: Feed[], outs: Uint8Array[], t: number): void {
  for (let p = 0; p < fs.length; p++) {
    const frame = fs[p]?.frames[t % FRAMES];
    const out = outs[p];
    if (frame === undefined || out === undefined) continue;
    out.set(frame);
    onFrame('', out, 160);
  }
}

const cpuUs = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

function cpuRun(n: number, mixed: boolean): { bridgeUs: number; copyUs: number } {
  const fs = feeds(n, mixed);
  const b = bridgeFor(fs);
  const outs = fs.map(() => new Uint8Array(160));
  for (let t = 0; t < 200; t++) feedTick(b, fs, t, t * 20); // warm-up
  // Interleave in blocks so both see the same machine state.
  let bridgeUs = 0;
  let copyUs = 0;
  const block = 100;
  for (let t = 200; t < 200 + TICKS; t += block) {
    let c0 = cpuUs();
    for (let i = t; i < t + block; i++) feedTick(b, fs, i, i * 20);
    bridgeUs += cpuUs() - c0;
    c0 = cpuUs();
    for (let k = 0; k < 50; k++) for (let i = t; i < t + block; i++) copyTick(fs, outs, i);
    copyUs += (cpuUs() - c0) / 50;
  }
  return { bridgeUs: bridgeUs / TICKS, copyUs: copyUs / TICKS };
}

async function realTime(n: number, mixed: boolean): Promise<{ p50: number; p99: number; max: number; skipped: number; cpuPct: number; ticks: number; lost: number }> {
  const fs = feeds(n, mixed);
  const b = bridgeFor(fs);
  const lags: number[] = [];
  let t = 0;
  const ticker = new Ticker({
    clock: systemClock,
    timers: nodeTimers,
    onTick: (_ideal, lag) => {
      lags.push(lag);
      feedTick(b, fs, t, systemClock.monoMs());
      t++;
    },
  });
  const c0 = cpuUs();
  const w0 = performance.now();
  ticker.start();
  const keepAlive = setInterval(() => undefined, 1000);
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  ticker.stop();
  clearInterval(keepAlive);
  const cpuPct = ((cpuUs() - c0) / 1000 / (performance.now() - w0)) * 100;
  lags.sort((x, y) => x - y);
  const q = (p: number): number => lags[Math.min(lags.length - 1, Math.floor(p * lags.length))] ?? 0;
  let lost = 0;
  for (const f of fs) {
    const s = b.jitterStats(f.id);
    if (s !== undefined) lost += s.late + s.refused + s.discarded;
  }
  return { p50: q(0.5), p99: q(0.99), max: lags[lags.length - 1] ?? 0, skipped: ticker.stats.skipped, cpuPct, ticks: lags.length, lost };
}

console.log(`node ${process.version}, ${TICKS} ticks per CPU run, ${SECONDS} s per real-time run`);
console.log('| participants | codecs | bridge µs/tick | copy reference µs/tick | ratio | bridge % of a core (µs/tick ÷ 20 ms) |');
console.log('|---|---|---|---|---|---|');
for (const [n, mixed] of [[50, false], [100, false], [250, false], [250, true]] as const) {
  const r = cpuRun(n, mixed);
  console.log(`| ${n} | ${mixed ? 'PCMU+PCMA' : 'PCMU'} | ${r.bridgeUs.toFixed(0)} | ${r.copyUs.toFixed(1)} | ${(r.bridgeUs / r.copyUs).toFixed(0)}× | ${((r.bridgeUs / 20_000) * 100).toFixed(1)} % |`);
}
console.log('');
console.log('| participants | codecs | ticks | tick lag p50 ms | p99 ms | max ms | skipped | dropped packets | process CPU % of a core |');
console.log('|---|---|---|---|---|---|---|---|---|');
// 0 participants: the empty tick, the same-run reference for what the event loop and machine add.
for (const [n, mixed] of [[0, false], [50, false], [250, false], [250, true], [0, false]] as const) {
  const r = await realTime(n, mixed);
  console.log(`| ${n} | ${mixed ? 'PCMU+PCMA' : 'PCMU'} | ${r.ticks} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.max.toFixed(2)} | ${r.skipped} | ${r.lost} | ${r.cpuPct.toFixed(1)} % |`);
}
if (sink === -1) console.log(sink);
