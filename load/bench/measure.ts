/** Runs `fn` for about `ms` after a warm-up and returns operations per second. */
export function opsPerSec(fn: () => void, ms = 1000): number {
  const warm = performance.now();
  while (performance.now() - warm < 200) for (let i = 0; i < 1000; i++) fn();
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    for (let i = 0; i < 1000; i++) fn();
    n += 1000;
  }
  return n / ((performance.now() - t0) / 1000);
}

export function report(name: string, ops: number, reference: number): void {
  console.log(`${name.padEnd(34)} ${Math.round(ops).toLocaleString('en-US').padStart(12)} ops/s   ${(ops / reference).toFixed(2)}× reference`);
}
