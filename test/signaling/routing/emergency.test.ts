import { describe, expect, it } from 'vitest';
import { emergencyRoute } from '../../../signaling/routing/emergency.ts';

const DNIS = [
  { EmergencyPhoneNumber: '+12065550911', TestPhoneNumber: '+12065550933', CallingCountry: 'US' },
  { EmergencyPhoneNumber: '+16045550911', CallingCountry: 'CA' },
  { EmergencyPhoneNumber: '+442071230999', CallingCountry: 'GB' },
];

describe('emergency routing', () => {
  it('maps each country’s emergency and test numbers to its DNIS, the caller’s country first', () => {
    expect(emergencyRoute(DNIS, '911', 'US')).toEqual({ e164: '+12065550911', country: 'US', test: false });
    expect(emergencyRoute(DNIS, '911', 'CA')).toEqual({ e164: '+16045550911', country: 'CA', test: false });
    expect(emergencyRoute(DNIS, '933', 'US')).toEqual({ e164: '+12065550933', country: 'US', test: true });
    expect(emergencyRoute(DNIS, '999', undefined)).toEqual({ e164: '+442071230999', country: 'GB', test: false });
    expect(emergencyRoute(DNIS, '112', 'GB')?.country).toBe('GB');
  });

  it('leaves ordinary numbers, unknown codes and unconfigured countries alone', () => {
    expect(emergencyRoute(DNIS, '+14155550123', 'US')).toBeUndefined();
    expect(emergencyRoute(DNIS, '000', 'AU')).toBeUndefined();
    expect(emergencyRoute([], '911', 'US')).toBeUndefined();
    expect(emergencyRoute(DNIS, undefined, 'US')).toBeUndefined();
    // A country without a test number: 933 is not an emergency call there.
    expect(emergencyRoute([{ EmergencyPhoneNumber: '+16045550911', CallingCountry: 'CA' }], '933', 'CA')).toBeUndefined();
  });
});
