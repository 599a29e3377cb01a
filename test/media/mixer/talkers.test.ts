import { describe, expect, it } from 'vitest';
import { TalkerSelector } from '../../../media/mixer/talkers.ts';

function selector(k = 2, hangoverFrames = 5): { sel: TalkerSelector; events: string[] } {
  const events: string[] = [];
  const sel = new TalkerSelector({ capacity: 8, k, hangoverFrames, onChange: (slot, on) => events.push(`${on ? '+' : '-'}${slot}`) });
  return { sel, events };
}

const frames = (sel: TalkerSelector, levels: number[], count: number, eligible = levels.map(() => 1)): void => {
  const e = Float64Array.from(levels);
  const el = Uint8Array.from(eligible);
  for (let i = 0; i < count; i++) sel.update(e, el, levels.length);
};

describe('TalkerSelector', () => {
  it('selects the K loudest above the floor', () => {
    const { sel, events } = selector(2);
    frames(sel, [1e6, 4e6, 0, 2e6], 20);
    expect(Array.from(sel.selected.slice(0, 4))).toEqual([0, 1, 0, 1]);
    expect(sel.count).toBe(2);
    expect(events.sort()).toEqual(['+1', '+3']);
  });

  it('does not flap between talkers of nearly equal level (hysteresis)', () => {
    const { sel, events } = selector(1);
    frames(sel, [1e6, 0.9e6], 10);
    expect(events).toEqual(['+0']);
    for (let i = 0; i < 100; i++) frames(sel, i % 2 === 0 ? [1e6, 1.3e6] : [1.3e6, 1e6], 1);
    expect(events).toEqual(['+0']);
  });

  it('a clearly louder candidate takes over', () => {
    const { sel, events } = selector(1);
    frames(sel, [1e6, 0], 10);
    frames(sel, [1e6, 8e6], 10);
    expect(events).toEqual(['+0', '-0', '+1']);
  });

  it('a talker who goes quiet stays for the hangover, then leaves', () => {
    const { sel, events } = selector(1, 5);
    frames(sel, [1e6], 10);
    // Release 0.1 a frame: 1e6 · 0.9^n falls under the 1e4 floor at n = 44.
    frames(sel, [0], 47);
    expect(events).toEqual(['+0']); // under the floor 4 frames: still in its hangover
    frames(sel, [0], 3);
    expect(events).toEqual(['+0', '-0']);
    const { sel: sel2, events: ev2 } = selector(1, 5);
    frames(sel2, [1e6], 10);
    // Short pause: dips under the floor for fewer frames than the hangover.
    frames(sel2, [0], 44);
    frames(sel2, [1e6], 5);
    expect(ev2).toEqual(['+0']);
  });

  it('an ineligible (muted) slot is dropped at once and never selected', () => {
    const { sel, events } = selector(2);
    frames(sel, [1e6, 1e6], 5);
    frames(sel, [1e6, 1e6], 5, [1, 0]);
    expect(sel.selected[1]).toBe(0);
    expect(events).toContain('-1');
    expect(events.filter((e) => e === '+1').length).toBe(1);
  });
});
