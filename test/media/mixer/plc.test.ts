import { describe, expect, it } from 'vitest';
import { G711Plc } from '../../../media/mixer/plc.ts';

const energy = (f: Int16Array): number => f.reduce((s, v) => s + v * v, 0) / f.length;

function voiced(plc: G711Plc, frames: number): void {
  const f = new Int16Array(160);
  for (let k = 0; k < frames; k++) {
    for (let i = 0; i < 160; i++) f[i] = Math.round(8000 * Math.sin((2 * Math.PI * 200 * (k * 160 + i)) / 8000));
    plc.good(f);
  }
}

describe('G.711 PLC', () => {
  it('concealed energy starts near the speech energy, decays frame after frame, and is silence from 60 ms', () => {
    const plc = new G711Plc();
    voiced(plc, 5);
    const out = new Int16Array(160);
    const energies: number[] = [];
    for (let k = 0; k < 5; k++) {
      plc.lost(out);
      energies.push(energy(out));
    }
    expect(energies[0] ?? 0).toBeGreaterThan(0.7 * 32e6);
    for (let k = 1; k < energies.length; k++) {
      if ((energies[k - 1] ?? 0) > 0) expect(energies[k] ?? 0).toBeLessThan(energies[k - 1] ?? 0);
      else expect(energies[k]).toBe(0);
    }
    expect(energies[2] ?? 0).toBeGreaterThan(0);
    expect(energies[3]).toBe(0);
    expect(energies[4]).toBe(0);
  });

  it('repeats the pitch period: a concealed 200 Hz tone continues with its period', () => {
    const plc = new G711Plc();
    voiced(plc, 5);
    const out = new Int16Array(160);
    plc.lost(out);
    for (let i = 0; i + 40 < 80; i++) expect(Math.abs((out[i] ?? 0) - (out[i + 40] ?? 0))).toBeLessThan(200);
  });

  it('the good frame after a loss is cross-faded and recorded', () => {
    const plc = new G711Plc();
    voiced(plc, 5);
    const out = new Int16Array(160);
    plc.lost(out);
    const next = new Int16Array(160).fill(1000);
    plc.good(next);
    expect(next[0]).not.toBe(1000);
    expect(next[159]).toBe(1000);
  });

  it('loss before any speech conceals silence', () => {
    const plc = new G711Plc();
    const out = new Int16Array(160).fill(5);
    plc.lost(out);
    expect(energy(out)).toBe(0);
  });
});

describe('Appendix I PLC at 16 kHz (G.722)', () => {
  function voiced16(plc: G711Plc, frames: number): void {
    const f = new Int16Array(320);
    for (let k = 0; k < frames; k++) {
      for (let i = 0; i < 320; i++) f[i] = Math.round(8000 * Math.sin((2 * Math.PI * 200 * (k * 320 + i)) / 16000));
      plc.good(f);
    }
  }

  it('the same durations at twice the samples: near full energy at first, decaying, silent from 60 ms', () => {
    const plc = new G711Plc(320, 16_000);
    voiced16(plc, 5);
    const out = new Int16Array(320);
    const energies: number[] = [];
    for (let k = 0; k < 5; k++) {
      plc.lost(out);
      energies.push(energy(out));
    }
    expect(energies[0] ?? 0).toBeGreaterThan(0.7 * 32e6);
    expect(energies[1] ?? 0).toBeLessThan(energies[0] ?? 0);
    expect(energies[2] ?? 0).toBeGreaterThan(0);
    expect(energies[2] ?? 0).toBeLessThan(energies[1] ?? 0);
    expect(energies[3]).toBe(0);
    expect(energies[4]).toBe(0);
  });

  it('finds the pitch period in 16 kHz samples: a concealed 200 Hz tone repeats every 80 samples', () => {
    const plc = new G711Plc(320, 16_000);
    voiced16(plc, 5);
    const out = new Int16Array(320);
    plc.lost(out);
    for (let i = 0; i + 80 < 160; i++) expect(Math.abs((out[i] ?? 0) - (out[i + 80] ?? 0))).toBeLessThan(200);
    // and it continues the waveform where the good speech stopped (phase kept)
    const expected = (i: number): number => 8000 * Math.sin((2 * Math.PI * 200 * (5 * 320 + i)) / 16000);
    for (let i = 0; i < 40; i++) expect(Math.abs((out[i] ?? 0) - expected(i))).toBeLessThan(400);
  });

  it('cross-fades the first good frame after a loss over a quarter period (20 samples at 16 kHz)', () => {
    const plc = new G711Plc(320, 16_000);
    voiced16(plc, 5);
    plc.lost(new Int16Array(320));
    const next = new Int16Array(320).fill(1000);
    plc.good(next);
    expect(next[0]).not.toBe(1000);
    expect(next[19]).not.toBe(1000);
    expect(next[20]).toBe(1000);
  });

  it('refuses a rate that is not a multiple of 8 kHz and a frame longer than its history', () => {
    expect(() => new G711Plc(441, 44_100)).toThrow(RangeError);
    expect(() => new G711Plc(800, 16_000)).toThrow(RangeError);
    expect(() => new G711Plc(0)).toThrow(RangeError);
  });
});
