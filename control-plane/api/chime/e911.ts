import crypto from 'node:crypto';
import Type from 'typebox';
import { badRequest } from '../errors.ts';
import type { ChimeApiDeps } from './deps.ts';
import { NON_BLANK, Str } from './schema.ts';
import type { ChimeScope } from './schema.ts';

const GlobalSettings = Type.Object({ VoiceConnector: Type.Optional(Type.Object({ CdrBucket: Type.Optional(Str(3, 255, '^[a-z0-9][a-z0-9.-]+[a-z0-9]$')) })) });
const AddressPart = Str(1, 256, NON_BLANK);
const E911Address = Type.Object({
  AwsAccountId: Str(1, 64, NON_BLANK),
  StreetNumber: AddressPart,
  StreetInfo: AddressPart,
  City: AddressPart,
  State: AddressPart,
  Country: AddressPart,
  PostalCode: AddressPart,
});

/**
 * Account-wide settings and ValidateE911Address (reference §2.8).
 *
 * ValidateE911Address: every member required; the address is format-checked
 * (US: two-letter state, ZIP or ZIP+4, a street number that starts with a digit) and stored under
 * an AddressExternalId. ValidationResult 0 = valid, 2 = not valid (no candidates: Carillon has no
 * address database to suggest from, and says so rather than guess).
 */
export function registerE911Routes(app: ChimeScope, deps: ChimeApiDeps): void {
  // Account-wide settings (reference §2.8): the voice connector CDR bucket.
  app.get('/settings', { config: { action: 'chime:GetGlobalSettings' } }, async () => {
    const r = await deps.store.db.selectFrom('settings').select('value').where('key', '=', 'global').executeTakeFirst();
    return r === undefined ? { VoiceConnector: {} } : (JSON.parse(r.value) as object);
  });
  app.put('/settings', { config: { action: 'chime:UpdateGlobalSettings' }, schema: { body: GlobalSettings } }, async (req, reply) => {
    const bucket = req.body.VoiceConnector?.CdrBucket;
    const value = { VoiceConnector: bucket === undefined ? {} : { CdrBucket: bucket } };
    await deps.store.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('settings').where('key', '=', 'global').execute();
      await tx.insertInto('settings').values({ key: 'global', value: JSON.stringify(value), updated_at: new Date(deps.clock.nowMs()).toISOString() }).execute();
    });
    return reply.code(204).send();
  });

  app.post('/emergency-calling/address', { config: { action: 'chime:ValidateE911Address' }, schema: { body: E911Address } }, async (req, reply) => {
    const b = req.body;
    const address = { streetNumber: b.StreetNumber, streetInfo: b.StreetInfo, city: b.City, state: b.State, country: b.Country, postalCode: b.PostalCode };
    const country = address.country.toUpperCase();
    if (!/^[A-Z]{2}$/.test(country)) throw badRequest('Country must be an ISO 3166 alpha-2 code');
    let valid = /^\d/.test(address.streetNumber);
    let postalCodePlus4: string | undefined;
    if (country === 'US') {
      const zip = /^(\d{5})(?:-(\d{4}))?$/.exec(address.postalCode);
      valid &&= zip !== null && /^[A-Za-z]{2}$/.test(address.state);
      postalCodePlus4 = zip?.[2];
    }
    if (!valid) return reply.code(202).send({ ValidationResult: 2, CandidateAddressList: [] });
    const id = crypto.randomUUID();
    const normalized = {
      streetNumber: address.streetNumber,
      streetName: address.streetInfo,
      city: address.city,
      state: address.state.toUpperCase(),
      postalCode: address.postalCode.slice(0, 5),
      ...(postalCodePlus4 === undefined ? {} : { postalCodePlus4 }),
      country,
    };
    await deps.store.db.insertInto('settings').values({ key: `e911:${id}`, value: JSON.stringify(normalized), updated_at: new Date(deps.clock.nowMs()).toISOString() }).execute();
    return reply.code(202).send({ ValidationResult: 0, AddressExternalId: id, Address: normalized });
  });
}
