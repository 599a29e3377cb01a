import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DtmfDetector, dtmfDigit } from '../../../media/dtmf/telephone-event.ts';

function payload(event: number, end: boolean, duration: number): Buffer {
  const b = Buffer.alloc(4);
  b[0] = event;
  b[1] = (end ? 0x80 : 0) | 10;
  b.writeUInt16BE(duration, 2);
  return b;
}

describe('RFC 4733 digit detection', () => {
  it('reports a digit once, at its first end packet, with its duration', () => {
    const d = new DtmfDetector();
    const got: number[] = [];
    for (const [end, dur] of [[false, 160], [false, 320], [true, 800], [true, 800], [true, 800]] as const) {
      const ev = d.onPacket(payload(1, end, dur), 0, 4, 5000);
      if (ev >= 0) got.push(ev);
    }
    expect(got).toEqual([1]);
    expect(d.lastDurationUnits).toBe(800);
    expect(dtmfDigit(1)).toBe('1');
    expect(dtmfDigit(10)).toBe('*');
    expect(dtmfDigit(11)).toBe('#');
    expect(dtmfDigit(16)).toBeUndefined();
  });

  it('still reports a digit whose end packets were all lost, when the next event starts', () => {
    const d = new DtmfDetector();
    expect(d.onPacket(payload(4, false, 160), 0, 4, 1000)).toBe(-1);
    expect(d.onPacket(payload(4, false, 320), 0, 4, 1000)).toBe(-1);
    expect(d.onPacket(payload(7, false, 160), 0, 4, 9000)).toBe(4);
    expect(d.onPacket(payload(7, true, 480), 0, 4, 9000)).toBe(7);
  });

  it('reports each of a sequence of digits exactly once, whatever the retransmissions', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 15 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 4 })), { maxLength: 20 }), (digits) => {
        const d = new DtmfDetector();
        const got: number[] = [];
        let ts = 100;
        for (const [ev, body, ends] of digits) {
          for (let k = 0; k < body; k++) {
            const e = d.onPacket(payload(ev, false, 160 * (k + 1)), 0, 4, ts);
            if (e >= 0) got.push(e);
          }
          for (let k = 0; k < ends; k++) {
            const e = d.onPacket(payload(ev, true, 160 * (body + 1)), 0, 4, ts);
            if (e >= 0) got.push(e);
          }
          ts += 8000;
        }
        expect(got).toEqual(digits.map(([ev]) => ev));
      }),
    );
  });

  it('ignores payloads too short to be an event', () => {
    const d = new DtmfDetector();
    expect(d.onPacket(Buffer.alloc(3), 0, 3, 1)).toBe(-1);
  });
});
