/**
 * Emergency calling (SPEC.md §4; reference §2.2 EmergencyCallingConfiguration): a PBX dialing its
 * country's emergency number (or the test number, where one exists) is routed to the DNIS the
 * voice connector's configuration names for that country — EmergencyPhoneNumber, or
 * TestPhoneNumber for a test call — ahead of every other rule.
 */
export interface EmergencyDnis {
  readonly EmergencyPhoneNumber: string;
  readonly TestPhoneNumber?: string;
  readonly CallingCountry: string;
}

/** Short codes per country: emergency numbers, and the test number where the country has one. */
const SHORT_CODES: Readonly<Record<string, { readonly emergency: readonly string[]; readonly test?: string }>> = {
  US: { emergency: ['911', '112'], test: '933' },
  CA: { emergency: ['911', '112'], test: '933' },
  GB: { emergency: ['999', '112'] },
  AU: { emergency: ['000', '112'] },
  NZ: { emergency: ['111', '112'] },
  IN: { emergency: ['112'] },
  JP: { emergency: ['110', '119'] },
  KR: { emergency: ['112', '119'] },
  SG: { emergency: ['995', '999'] },
};
const DEFAULT_CODES: { readonly emergency: readonly string[]; readonly test?: string } = { emergency: ['112'] };

export interface EmergencyRoute {
  readonly e164: string;
  readonly country: string;
  readonly test: boolean;
}

/**
 * The DNIS an emergency dial goes to, or undefined when `dialed` is not an emergency or test
 * number of any country the configuration covers. Where several countries share a short code
 * (911 in US and CA), the caller's own country wins, then the first entry.
 */
export function emergencyRoute(dnis: readonly EmergencyDnis[], dialed: string | undefined, callerCountry: string | undefined): EmergencyRoute | undefined {
  if (dialed === undefined) return undefined;
  const digits = dialed.replace(/^\+/, '');
  if (!/^\d{2,4}$/.test(digits)) return undefined;
  const matches = dnis.flatMap((d) => {
    const codes = SHORT_CODES[d.CallingCountry] ?? DEFAULT_CODES;
    if (codes.emergency.includes(digits)) return [{ e164: d.EmergencyPhoneNumber, country: d.CallingCountry, test: false }];
    if (codes.test === digits && d.TestPhoneNumber !== undefined) return [{ e164: d.TestPhoneNumber, country: d.CallingCountry, test: true }];
    return [];
  });
  const e = matches.find((m) => m.country === callerCountry) ?? matches[0];
  return e === undefined ? undefined : { ...e, e164: e.e164.startsWith('+') ? e.e164 : `+${e.e164}` };
}
