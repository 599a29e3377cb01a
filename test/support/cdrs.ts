import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Type from 'typebox';
import type { Static } from 'typebox';
import Value from 'typebox/value';

/** Chime's CDR format (SPEC.md §7) as a schema: every value a string, the documented fields required. */
const Digits = Type.String({ pattern: '^[0-9]+$' });
export const CdrSchema = Type.Object({
  SchemaVersion: Type.Literal('2.0'),
  CdrId: Type.String({ pattern: '^[0-9a-f-]{36}$' }),
  ServiceCode: Type.String({ minLength: 1 }),
  ChimeAccountId: Type.String(),
  AwsAccountId: Type.String({ pattern: '^[0-9]{12}$' }),
  /** Empty for a meeting participant the IVR never placed in a meeting (its conference fields are all empty). */
  ConferenceId: Type.String(),
  ConferencePin: Type.String(),
  OrganizerUserId: Type.String(),
  OrganizerEmail: Type.String(),
  CallerPhoneNumber: Type.String(),
  CallerCountry: Type.String(),
  DestinationPhoneNumber: Type.String(),
  DestinationCountry: Type.String(),
  ConferenceStartTimeEpochSeconds: Type.String({ pattern: '^[0-9]*$' }),
  ConferenceEndTimeEpochSeconds: Type.String({ pattern: '^[0-9]*$' }),
  StartTimeEpochSeconds: Digits,
  EndTimeEpochSeconds: Digits,
  BillableDurationSeconds: Digits,
  BillableDurationMinutes: Type.String({ pattern: '^(0|[0-9]*\\.[0-9])$' }),
  Direction: Type.Enum(['Inbound', 'Outbound']),
  /** Empty for a meeting participant's leg (on no voice connector). */
  VoiceConnectorId: Type.String({ pattern: '^([a-z0-9]{22})?$' }),
  TransactionId: Type.String({ minLength: 1 }),
  CallId: Type.String(),
  Region: Type.String({ minLength: 1 }),
  Leg: Type.Enum(['Caller', 'Callee']),
  Status: Type.Enum(['Completed', 'Failed', 'Interrupted']),
  SipStatusCode: Type.String(),
});
export type Cdr = Static<typeof CdrSchema>;

const KEY = /^Amazon-Chime-Business-Calling-CDRs\/json\/\d{12}\/\d{4}\/\d{2}\/\d{2}\/[^/]+_\d{4}-\d{2}-\d{2}-\d{2}\.\d{2}\.\d{2}\.\d{3}_[0-9a-f-]{36}$/;

/** Every CDR under `<data>/cdrs`, checked against the schema and the key layout (throws on the first that is not). */
export function readCdrs(dataDir: string): Cdr[] {
  const root = path.join(dataDir, 'cdrs');
  let files: string[];
  try {
    files = readdirSync(root, { recursive: true, encoding: 'utf8' });
  } catch {
    return [];
  }
  const out: Cdr[] = [];
  for (const rel of files) {
    const file = path.join(root, rel);
    if (!/_[0-9a-f-]{36}$/.test(rel)) continue;
    if (!KEY.test(rel.split(path.sep).join('/'))) throw new Error(`CDR key ${rel} is not Chime's layout`);
    const v: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (!Value.Check(CdrSchema, v)) throw new Error(`CDR ${rel} does not match the schema: ${[...Value.Errors(CdrSchema, v)].map((e) => `${e.instancePath} ${e.message}`).join('; ')}`);
    if (!rel.endsWith(v.CdrId)) throw new Error(`CDR ${rel} names another CdrId`);
    out.push(v);
  }
  return out;
}
