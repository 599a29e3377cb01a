import { describe, expect, it } from 'vitest';
import { parseMinSe, parseSessionExpires, SessionTimer } from '../../../../signaling/sip/dialog/session-timer.ts';
import { ManualTimers } from '../../../support/manual-timers.ts';

describe('Session-Expires / Min-SE parsing (RFC 4028 §4, §5)', () => {
  it.each([
    ['1800', { intervalSec: 1800 }],
    ['1800;refresher=uac', { intervalSec: 1800, refresher: 'uac' }],
    ['  90 ; refresher=uas', { intervalSec: 90, refresher: 'uas' }],
    ['600;refresher=bogus', { intervalSec: 600 }],
  ])('%s', (v, want) => expect(parseSessionExpires(v)).toEqual(want));

  it.each(['', 'abc', '-5', '1e3'])('rejects %j', (v) => expect(parseSessionExpires(v)).toBeUndefined());

  it('Min-SE', () => {
    expect(parseMinSe('90')).toBe(90);
    expect(parseMinSe('120;x=y')).toBe(120);
    expect(parseMinSe('x')).toBeUndefined();
  });
});

describe('SessionTimer', () => {
  it('refreshes at half the interval when Carillon is the refresher', () => {
    const t = new ManualTimers();
    const st = new SessionTimer(t);
    let refreshed = 0;
    st.start(1800, true, () => refreshed++, () => expect.unreachable());
    t.advance(899_999);
    expect(refreshed).toBe(0);
    t.advance(1);
    expect(refreshed).toBe(1);
    expect(st.running).toBe(false);
  });

  it('expires at interval - min(32, interval/3) when the peer refreshes', () => {
    const t = new ManualTimers();
    const st = new SessionTimer(t);
    let expired = 0;
    st.start(90, false, () => expect.unreachable(), () => expired++);
    t.advance(59_999);
    expect(expired).toBe(0);
    t.advance(1);
    expect(expired).toBe(1);
  });

  it('stop() cancels', () => {
    const t = new ManualTimers();
    const st = new SessionTimer(t);
    st.start(90, false, () => undefined, () => expect.unreachable());
    st.stop();
    t.advance(200_000);
    expect(t.pendingCount).toBe(0);
  });
});
