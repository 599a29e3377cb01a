import crypto from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { badRequest } from '../errors.ts';
import type { ChimeApiDeps } from './plugin.ts';
import { bodyOf, checkString, reqString } from './validate.ts';

/**
 * Account-wide settings and ValidateE911Address (reference §2.8).
 *
 * ValidateE911Address: every member required; the address is format-checked
 * (US: two-letter state, ZIP or ZIP+4, a street number that starts with a digit) and stored under
 * an AddressExternalId. ValidationResult 0 = valid, 2 = not valid (no candidates: Carillon has no
 * address database to suggest from, and says so rather than guess).
 */
export function registerE911Routes(app: FastifyInstance, deps: ChimeApiDeps): void {
  // Account-wide settings (reference §2.8): the voice connector CDR bucket.
  app.get('/settings', { config: { action: 'chime:GetGlobalSettings' } }, async () => {
    const r = await deps.store.db.selectFrom('settings').select('value').where('key', '=', 'global').executeTakeFirst();
    return r === undefined ? { VoiceConnector: {} } : (JSON.parse(r.value) as object);
  });
  app.put('/settings', { config: { action: 'chime:UpdateGlobalSettings' } }, async (req, reply) => {
    const vc = bodyOf(req.body).VoiceConnector;
    const bucket = vc === undefined ? undefined : bodyOf(vc).CdrBucket;
    const value = { VoiceConnector: bucket === undefined ? {} : { CdrBucket: checkString('VoiceConnector.CdrBucket', bucket, 3, 255, /^[a-z0-9][a-z0-9.-]+[a-z0-9]$/) } };
    await deps.store.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('settings').where('key', '=', 'global').execute();
      await tx.insertInto('settings').values({ key: 'global', value: JSON.stringify(value), updated_at: new Date(deps.clock.nowMs()).toISOString() }).execute();
    });
    return reply.code(204).send();
  });

  app.post('/emergency-calling/address', { config: { action: 'chime:ValidateE911Address' } }, async (req, reply) => {
    const b = bodyOf(req.body);
    const f = (name: string): string => reqString(b, name, 1, 256, /\S/);
    reqString(b, 'AwsAccountId', 1, 64, /\S/);
    const address = { streetNumber: f('StreetNumber'), streetInfo: f('StreetInfo'), city: f('City'), state: f('State'), country: f('Country'), postalCode: f('PostalCode') };
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
