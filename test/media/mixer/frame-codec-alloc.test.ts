import { constants, PerformanceObserver, performance } from 'node:perf_hooks';
import type { PerformanceEntry } from 'node:perf_hooks';
import { setImmediate as turn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { bridgeCodec } from '../../../media/mixer/frame-codec.ts';

// "Allocates nothing per frame", checked the way V8 would notice: young-generation collections
// (scavenges) happen only when new objects fill the nursery, so a synchronous loop that allocates
// nothing sees none, however long it runs. The control loop allocates and must see some, or the
// check proves nothing.

/** A 'gc' entry's kind (Node puts it in `detail`, which the PerformanceEntry type does not declare). */
function isScavenge(e: PerformanceEntry): boolean {
  const detail: unknown = Reflect.get(e, 'detail');
  return typeof detail === 'object' && detail !== null && 'kind' in detail && detail.kind === constants.NODE_PERFORMANCE_GC_MINOR;
}

/** Scavenges that started while `work` ran (synchronously). */
async function scavengesDuring(work: () => void): Promise<number> {
  const entries: PerformanceEntry[] = [];
  const obs = new PerformanceObserver((list) => entries.push(...list.getEntries()));
  obs.observe({ entryTypes: ['gc'] });
  await turn();
  const t0 = performance.now();
  work();
  const t1 = performance.now();
  for (let i = 0; i < 5; i++) await turn();
  obs.disconnect();
  return entries.filter((e) => isScavenge(e) && e.startTime >= t0 && e.startTime <= t1).length;
}

function frameLoop(name: string, frames: number): () => void {
  const c = bridgeCodec(name);
  if (c === undefined) throw new Error(name);
  const enc = c.createEncoder();
  const dec = c.createDecoder();
  const pcm = new Int16Array(320);
  for (let i = 0; i < 320; i++) pcm[i] = Math.round(6000 * Math.sin(i * 0.4));
  const payload = new Uint8Array(c.maxPayloadBytes);
  const out = new Int16Array(320);
  return () => {
    for (let k = 0; k < frames; k++) {
      dec.decode(payload, enc.encode(pcm, payload), out);
      if (k % 7 === 0) dec.conceal(out); // the PLC's pitch search and synthesis too
    }
  };
}

describe('bridge frame codecs allocate nothing per frame', () => {
  it('the check sees allocation: a loop making a 8 KB array per frame scavenges', async () => {
    let sum = 0;
    const n = await scavengesDuring(() => {
      for (let k = 0; k < 20_000; k++) sum += new Int16Array(4096).length;
    });
    expect(sum).toBe(20_000 * 4096);
    expect(n).toBeGreaterThan(0);
  });

  for (const name of ['PCMU', 'G722']) {
    it(`${name}: 20,000 frames encoded, decoded and one in seven concealed, without a scavenge`, async () => {
      const loop = frameLoop(name, 20_000);
      frameLoop(name, 2000)(); // warm up (the JIT's own first-run allocations)
      expect(await scavengesDuring(loop)).toBe(0);
    });
  }
});
