import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DtmfCollector, type DtmfControl, type DtmfEntry } from '../../../signaling/calls/dtmf-collector.ts';
import { ManualTimers } from '../../support/manual-timers.ts';

function setup(opts: { interDigitTimeoutMs?: number; firstDigitTimeoutMs?: number } = {}) {
  const t = new ManualTimers();
  const entries: DtmfEntry[] = [];
  const controls: DtmfControl[] = [];
  let bargeIns = 0;
  const c = new DtmfCollector({
    clock: t,
    timers: t,
    events: { entry: (e) => entries.push(e), control: (k) => controls.push(k), bargeIn: () => bargeIns++ },
    ...opts,
  });
  /** Types keys 200 ms apart (well under the flood limit). */
  const type = (keys: string) => {
    for (const k of keys) {
      c.digit(k);
      t.advance(200);
    }
  };
  return { t, c, entries, controls, type, bargeIns: () => bargeIns };
}

describe('DtmfCollector entries', () => {
  it('# ends an entry', () => {
    const s = setup();
    s.c.collect({ maxDigits: 10 });
    s.type('1234567890#');
    expect(s.entries).toEqual([{ kind: 'digits', digits: '1234567890', endedBy: 'hash', solicited: true }]);
    expect(s.c.collecting).toBe(false);
    expect(s.t.pendingCount).toBe(0);
  });

  it('the inter-digit timeout ends an entry (default 5 s)', () => {
    const s = setup();
    s.c.collect({ maxDigits: 10 });
    s.type('42');
    s.t.advance(4_700);
    expect(s.entries).toEqual([]);
    s.t.advance(200);
    expect(s.entries).toEqual([{ kind: 'digits', digits: '42', endedBy: 'timeout', solicited: true }]);
  });

  it('no digit within the first-digit timeout is no-input', () => {
    const s = setup({ firstDigitTimeoutMs: 8_000 });
    s.c.collect({ maxDigits: 10 });
    s.t.advance(7_999);
    expect(s.entries).toEqual([]);
    s.t.advance(1);
    expect(s.entries).toEqual([{ kind: 'no-input' }]);
    expect(s.t.pendingCount).toBe(0);
  });

  it('per-entry timeouts override the defaults', () => {
    const s = setup();
    s.c.collect({ maxDigits: 4, firstDigitTimeoutMs: 1_000, interDigitTimeoutMs: 500 });
    s.t.advance(1_000);
    expect(s.entries).toEqual([{ kind: 'no-input' }]);
    s.c.collect({ maxDigits: 4, firstDigitTimeoutMs: 1_000, interDigitTimeoutMs: 500 });
    s.c.digit('7');
    s.t.advance(500);
    expect(s.entries[1]).toEqual({ kind: 'digits', digits: '7', endedBy: 'timeout', solicited: true });
  });

  it('an entry past its maximum is refused whole, not truncated, and its tail starts nothing', () => {
    const s = setup();
    s.c.collect({ maxDigits: 10 });
    s.type('1'.repeat(40) + '#');
    expect(s.entries).toEqual([{ kind: 'too-long', maxDigits: 10, solicited: true }]);
    expect(s.c.stats.tooLong).toBe(1);
  });

  it('exactly the maximum is accepted', () => {
    const s = setup();
    s.c.collect({ maxDigits: 3 });
    s.type('123#');
    expect(s.entries).toEqual([{ kind: 'digits', digits: '123', endedBy: 'hash', solicited: true }]);
  });

  it('# alone is an empty entry', () => {
    const s = setup();
    s.c.collect({ maxDigits: 10 });
    s.type('#');
    expect(s.entries).toEqual([{ kind: 'empty', solicited: true }]);
  });

  it('cancel drops a partial entry silently', () => {
    const s = setup();
    s.c.collect({ maxDigits: 10 });
    s.type('12');
    s.c.cancel();
    s.t.advance(60_000);
    expect(s.entries).toEqual([]);
    expect(s.t.pendingCount).toBe(0);
  });

  it('refuses a bad maxDigits', () => {
    const s = setup();
    expect(() => s.c.collect({ maxDigits: 0 })).toThrow(RangeError);
    expect(() => s.c.collect({ maxDigits: 2.5 })).toThrow(RangeError);
  });
});

describe('DtmfCollector barge-in', () => {
  it('a digit during a prompt stops it and counts', () => {
    const s = setup();
    s.c.collect({ maxDigits: 10 });
    s.c.setPromptPlaying(true);
    s.type('5');
    expect(s.bargeIns()).toBe(1);
    s.type('5#');
    expect(s.bargeIns()).toBe(1);
    expect(s.entries).toEqual([{ kind: 'digits', digits: '55', endedBy: 'hash', solicited: true }]);
  });

  it('the first-digit timeout waits for the prompt to end', () => {
    const s = setup({ firstDigitTimeoutMs: 3_000 });
    s.c.setPromptPlaying(true);
    s.c.collect({ maxDigits: 10 });
    s.t.advance(20_000);
    expect(s.entries).toEqual([]);
    s.c.setPromptPlaying(false);
    s.t.advance(3_000);
    expect(s.entries).toEqual([{ kind: 'no-input' }]);
  });

  it('no barge-in without a prompt', () => {
    const s = setup();
    s.c.collect({ maxDigits: 10 });
    s.type('1#');
    expect(s.bargeIns()).toBe(0);
  });
});

describe('DtmfCollector moderator controls', () => {
  const table: [string, DtmfControl][] = [
    ['*6', 'toggle-mute-self'],
    ['*7', 'mute-all-others'],
    ['*5', 'toggle-lock'],
    ['*81', 'end-for-all'],
    ['*9', 'toggle-recording'],
    ['*#', 'participant-count'],
    ['**', 'help'],
  ];
  it.each(table)('%s is %s', (keys, control) => {
    const s = setup();
    s.type(keys);
    expect(s.controls).toEqual([control]);
    expect(s.entries).toEqual([]);
    expect(s.t.pendingCount).toBe(0);
  });

  it('*8 then anything but 1 cancels', () => {
    const s = setup();
    s.type('*82');
    expect(s.controls).toEqual([]);
    expect(s.c.stats.abandonedSequences).toBe(1);
  });

  it('an unknown key after * is dropped; so is a lone * after the timeout', () => {
    const s = setup();
    s.type('*3');
    s.c.digit('*');
    s.t.advance(5_000);
    s.type('*6');
    expect(s.controls).toEqual(['toggle-mute-self']);
    expect(s.c.stats.abandonedSequences).toBe(2);
  });

  it('controls are recognised inside an entry, which goes on', () => {
    const s = setup();
    s.c.collect({ maxDigits: 10 });
    s.type('12*734#');
    expect(s.controls).toEqual(['mute-all-others']);
    expect(s.entries).toEqual([{ kind: 'digits', digits: '1234', endedBy: 'hash', solicited: true }]);
  });

  it('a passcode can be typed at any time (unsolicited, # submits it)', () => {
    const s = setup();
    s.type('4321#');
    expect(s.entries).toEqual([{ kind: 'digits', digits: '4321', endedBy: 'hash', solicited: false }]);
  });

  it('unsolicited stray digits that time out are not reported; long ones are refused', () => {
    const s = setup();
    s.type('12');
    s.t.advance(10_000);
    expect(s.entries).toEqual([]);
    s.type('123456789#');
    expect(s.entries).toEqual([{ kind: 'too-long', maxDigits: 8, solicited: false }]);
  });
});

describe('DtmfCollector refusals and flood guard', () => {
  it('refuses what is not a DTMF digit and ignores A–D', () => {
    const s = setup();
    s.c.collect({ maxDigits: 10 });
    for (const bad of ['', 'x', '12', 'a', ' ', '\u0000', '٣']) expect(s.c.digit(bad)).toBe(false);
    expect(s.c.digit('A')).toBe(true);
    s.type('9#');
    expect(s.c.stats.invalid).toBe(7);
    expect(s.c.stats.ignored).toBe(1);
    expect(s.entries).toEqual([{ kind: 'digits', digits: '9', endedBy: 'hash', solicited: true }]);
  });

  it('more than 20 digits in a second are dropped and counted', () => {
    const s = setup();
    s.c.collect({ maxDigits: 100 });
    let accepted = 0;
    for (let i = 0; i < 100; i++) {
      if (s.c.digit('1')) accepted++;
      s.t.advance(5); // 200 digits a second
    }
    // 100 digits over 500 ms: the first 20 pass, the rest fall in the same second.
    expect(accepted).toBe(20);
    expect(s.c.stats.flooded).toBe(80);
    s.t.advance(1_000);
    expect(s.c.digit('#')).toBe(true);
    expect(s.entries).toEqual([{ kind: 'digits', digits: '1'.repeat(20), endedBy: 'hash', solicited: true }]);
  });

  it('20 digits a second pass', () => {
    const s = setup();
    let refused = 0;
    for (let i = 0; i < 200; i++) {
      if (!s.c.digit(i % 2 === 0 ? '1' : '#')) refused++;
      s.t.advance(50);
    }
    expect(refused).toBe(0);
  });

  it('close stops timers and refuses later digits; it is idempotent', () => {
    const s = setup();
    s.c.collect({ maxDigits: 10 });
    s.type('1*');
    s.c.close();
    s.c.close();
    expect(s.t.pendingCount).toBe(0);
    expect(s.c.digit('1')).toBe(false);
  });

  it('any key stream never throws, entries stay within their maximum, and timers end', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.string({ maxLength: 2 }), fc.integer({ min: 0, max: 6_000 })), { maxLength: 200 }),
        fc.integer({ min: 1, max: 12 }),
        (keys, max) => {
          const s = setup();
          s.c.collect({ maxDigits: max });
          for (const [k, gap] of keys) {
            s.c.digit(k);
            s.t.advance(gap);
            if (!s.c.collecting) s.c.collect({ maxDigits: max });
          }
          s.c.close();
          expect(s.t.pendingCount).toBe(0);
          for (const e of s.entries) if (e.kind === 'digits') expect(e.digits.length).toBeLessThanOrEqual(Math.max(max, 8));
        },
      ),
      { numRuns: 300 },
    );
  });
});
