/**
 * Goertzel detector: the amplitude of one frequency in a block of samples (a single DFT bin,
 * Hann-windowed so neighbouring tones leak little). A pure tone of amplitude A reads ≈ A.
 */
export function goertzel(samples: ArrayLike<number>, frequency: number, sampleRate: number): number {
  const n = samples.length;
  const coeff = 2 * Math.cos((2 * Math.PI * frequency) / sampleRate);
  let s1 = 0;
  let s2 = 0;
  let windowSum = 0;
  for (let i = 0; i < n; i++) {
    const w = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1));
    windowSum += w;
    const s0 = (samples[i] ?? 0) * w + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  return windowSum > 0 ? (2 * Math.sqrt(Math.max(0, power))) / windowSum : 0;
}
