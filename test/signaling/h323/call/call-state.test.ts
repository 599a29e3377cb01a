import { describe, expect, it } from 'vitest';
import { dispositionOf, statusIes } from '../../../../signaling/h323/call/call-state.ts';
import { decodeQ931, encodeQ931, IE, ieOf, Q931_TYPE, readCause } from '../../../../signaling/h323/q931/q931.ts';

describe('Q.931 call states of an H.323 call Carillon takes', () => {
  it('takes Setup only in the null state, Facility and ReleaseComplete in any, and ignores informational messages', () => {
    expect(dispositionOf('null', Q931_TYPE.setup)).toEqual({ kind: 'take' });
    expect(dispositionOf('active', Q931_TYPE.setup)).toEqual({ kind: 'status', cause: 98 });
    expect(dispositionOf('active', Q931_TYPE.facility)).toEqual({ kind: 'take' });
    expect(dispositionOf('incoming-proceeding', Q931_TYPE.releaseComplete)).toEqual({ kind: 'take' });
    for (const t of [Q931_TYPE.notify, Q931_TYPE.progress, Q931_TYPE.information, Q931_TYPE.status]) expect(dispositionOf('active', t)).toEqual({ kind: 'ignore' });
  });

  it('answers StatusEnquiry, refuses unknown types with 97 and responses from a caller with 98', () => {
    expect(dispositionOf('active', Q931_TYPE.statusEnquiry)).toEqual({ kind: 'status-enquiry' });
    expect(dispositionOf('active', 0x4f)).toEqual({ kind: 'status', cause: 97 });
    expect(dispositionOf('active', Q931_TYPE.connect)).toEqual({ kind: 'status', cause: 98 });
    const status = decodeQ931(encodeQ931({ callReference: 5, fromDestination: true, type: Q931_TYPE.status, ies: statusIes('active', 30) }));
    expect(readCause(ieOf(status, IE.cause))).toBe(30);
    expect(ieOf(status, IE.callState)?.data).toEqual(Buffer.from([10]));
  });
});
