import { describe, expect, it } from 'vitest';
import { CAUSE, causeOfSipStatus, sipStatusOfCause } from '../../../../signaling/h323/q931/causes.ts';

describe('Q.931 causes and SIP statuses (RFC 3398)', () => {
  it('maps the causes room systems and gateways send', () => {
    expect(sipStatusOfCause(CAUSE.userBusy)).toBe(486);
    expect(sipStatusOfCause(CAUSE.unallocatedNumber)).toBe(404);
    expect(sipStatusOfCause(CAUSE.noAnswer)).toBe(480);
    expect(sipStatusOfCause(CAUSE.callRejected)).toBe(403);
    expect(sipStatusOfCause(CAUSE.recoveryOnTimerExpiry)).toBe(504);
    expect(sipStatusOfCause(CAUSE.normalClearing)).toBe(200);
    expect(sipStatusOfCause(25)).toBe(480); // not in the table: its class
    expect(sipStatusOfCause(44)).toBe(503);
    expect(sipStatusOfCause(99)).toBe(500);
  });

  it('says SIP refusals as the causes of RFC 3398 §8.2.6.1', () => {
    expect(causeOfSipStatus(200)).toBe(16);
    expect(causeOfSipStatus(404)).toBe(1);
    expect(causeOfSipStatus(486)).toBe(17);
    expect(causeOfSipStatus(480)).toBe(18);
    expect(causeOfSipStatus(403)).toBe(21);
    expect(causeOfSipStatus(503)).toBe(41);
    expect(causeOfSipStatus(408)).toBe(102);
    expect(causeOfSipStatus(606)).toBe(58);
    expect(causeOfSipStatus(499)).toBe(127);
    expect(causeOfSipStatus(599)).toBe(41);
    expect(causeOfSipStatus(699)).toBe(21);
  });

  it('keeps busy, not-found and rejection through a round trip', () => {
    for (const cause of [1, 17, 21, 28]) expect(causeOfSipStatus(sipStatusOfCause(cause))).toBe(cause);
  });
});
