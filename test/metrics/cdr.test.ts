import { describe, expect, it } from 'vitest';
import { billableMinutes, cdrKey } from '../../metrics/cdr.ts';
import type { CdrRecord } from '../../metrics/cdr.ts';

describe('CDR format', () => {
  it('writes billable minutes the way Chime does (one decimal, no leading zero, rounded up)', () => {
    expect(billableMinutes(24)).toBe('.4');
    expect(billableMinutes(0)).toBe('0');
    expect(billableMinutes(1)).toBe('.1');
    expect(billableMinutes(60)).toBe('1.0');
    expect(billableMinutes(90)).toBe('1.5');
    expect(billableMinutes(61)).toBe('1.1');
  });

  it('names the object by account, UTC date, conference id, start time and CDR id', () => {
    const r = { AwsAccountId: '111122223333', ConferenceId: 'c0ffee00-0000-4000-8000-000000000001', CdrId: '1a234567-89bc-41d2-8456-e78f9f01234e' } as CdrRecord;
    expect(cdrKey(r, Date.UTC(2019, 2, 1, 17, 10, 0, 20))).toBe(
      'Amazon-Chime-Business-Calling-CDRs/json/111122223333/2019/03/01/c0ffee00-0000-4000-8000-000000000001_2019-03-01-17.10.00.020_1a234567-89bc-41d2-8456-e78f9f01234e',
    );
  });
});
