import crypto from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import type { PhoneNumberTable, StoreSchema } from '../../store/store.ts';
import { ChimeError, badRequest, notFound } from '../errors.ts';
import type { ChimeApiDeps } from './plugin.ts';
import { bodyOf, listPage, checkString, decodeToken, maxResults } from './validate.ts';
import type { Body } from './validate.ts';

/**
 * Phone numbers under Chime's rules (SPEC.md §5; reference §2.5, §2.7, §2.8): an inventory the
 * operator imports from its own ranges, search over what is still available, orders that take
 * numbers from it, per-number state, calling names (changeable once per 7 days), deletion into a
 * 7-day queue with restore, then release for good, and association with voice connectors/groups.
 */
export const E164 = /^\+?[1-9]\d{1,14}$/;
const CALLING_NAME = /^$|^[a-zA-Z0-9 ]{2,15}$/;
const PHONE_NUMBER_NAME = /^$|^[a-zA-Z0-9,._-]+(\s+[a-zA-Z0-9,._-]+)*$/;
const PRODUCT_TYPES = ['VoiceConnector', 'SipMediaApplicationDialIn'];
const WEEK_MS = 7 * 24 * 3600 * 1000;

export interface Association {
  Name: 'VoiceConnectorId' | 'VoiceConnectorGroupId';
  Value: string;
  AssociatedTimestamp: string;
}

/** `+` prefixed E.164 from a path label (`+1…` or `%2B1…` after one decode). */
export function normalizeE164(raw: string): string {
  const v = raw.startsWith('%2B') || raw.startsWith('%2b') ? `+${raw.slice(3)}` : raw;
  return v.startsWith('+') ? v : `+${v}`;
}

function toWire(deps: ChimeApiDeps, r: PhoneNumberTable): Record<string, unknown> {
  const assoc = JSON.parse(r.associations) as Association[];
  return {
    PhoneNumberId: r.e164,
    E164PhoneNumber: r.e164,
    PhoneNumberArn: `arn:aws:chime:us-east-1:${deps.accountId}:phone/${r.e164}`,
    Country: r.country,
    Type: r.type,
    ...(r.product_type === null ? {} : { ProductType: r.product_type }),
    Status: r.status,
    Capabilities: { InboundCall: true, OutboundCall: true, InboundSMS: false, OutboundSMS: false, InboundMMS: false, OutboundMMS: false },
    Associations: assoc,
    ...(r.calling_name === null ? {} : { CallingName: r.calling_name }),
    CallingNameStatus: r.calling_name_status,
    CreatedTimestamp: r.created_at,
    UpdatedTimestamp: r.updated_at,
    ...(r.deletion_at === null ? {} : { DeletionTimestamp: r.deletion_at }),
    ...(r.order_id === null ? {} : { OrderId: r.order_id }),
    ...(r.name === null ? {} : { Name: r.name }),
  };
}

/** Numbers whose 7 days in the deletion queue are over are released for good. */
export async function releaseExpired(db: Kysely<StoreSchema>, nowMs: number): Promise<void> {
  const cutoff = new Date(nowMs - WEEK_MS).toISOString();
  await db.deleteFrom('phone_numbers').where('status', '=', 'DeleteInProgress').where('deletion_at', '<=', cutoff).execute();
}

interface ImportedNumber {
  readonly e164: string;
  readonly type: 'Local' | 'TollFree';
  readonly country: string;
  readonly state: string | null;
  readonly city: string | null;
}

/** Validates one inventory entry (API `{E164PhoneNumber, Type, Country, State?, City?}` or CSV row). */
export function inventoryEntry(o: Body, where: string): ImportedNumber {
  const e164 = normalizeE164(checkString(`${where}.E164PhoneNumber`, o.E164PhoneNumber, 2, 16, E164));
  const type = o.Type;
  if (type !== 'Local' && type !== 'TollFree') throw badRequest(`${where}.Type must be Local or TollFree`);
  const country = checkString(`${where}.Country`, o.Country, 2, 2, /^[A-Z]{2}$/);
  const state = o.State === undefined || o.State === '' ? null : checkString(`${where}.State`, o.State, 1, 64);
  const city = o.City === undefined || o.City === '' ? null : checkString(`${where}.City`, o.City, 1, 128);
  return { e164, type, country, state, city };
}

/** Adds numbers to the inventory (existing ones are left as they are); returns how many were new. */
export async function importInventory(db: Kysely<StoreSchema>, entries: readonly ImportedNumber[], nowIso: string): Promise<number> {
  let added = 0;
  await db.transaction().execute(async (tx) => {
    for (const e of entries) {
      const exists = await tx.selectFrom('phone_numbers').select('e164').where('e164', '=', e.e164).executeTakeFirst();
      if (exists !== undefined) continue;
      await tx
        .insertInto('phone_numbers')
        .values({
          e164: e.e164,
          type: e.type,
          country: e.country,
          state: e.state,
          city: e.city,
          status: 'Available',
          product_type: null,
          order_id: null,
          calling_name: null,
          calling_name_status: 'Unassigned',
          calling_name_updated_at: null,
          name: null,
          associations: '[]',
          created_at: nowIso,
          updated_at: nowIso,
          deletion_at: null,
        })
        .execute();
      added++;
    }
  });
  return added;
}

export function registerPhoneNumberRoutes(app: FastifyInstance, deps: ChimeApiDeps): void {
  const { db } = deps.store;
  const nowMs = (): number => deps.clock.nowMs();
  const now = (): string => new Date(nowMs()).toISOString();
  const owned = async (raw: string): Promise<PhoneNumberTable> => {
    await releaseExpired(db, nowMs());
    const e164 = normalizeE164(raw);
    const r = await db.selectFrom('phone_numbers').selectAll().where('e164', '=', e164).where('status', '!=', 'Available').executeTakeFirst();
    if (r === undefined) throw notFound(`PhoneNumber ${e164} not found`);
    return r;
  };
  const label = (params: unknown): string => {
    const v = (params as Record<string, string | undefined>).phoneNumberId;
    if (v === undefined || !/\S/.test(v)) throw badRequest('PhoneNumberId is required');
    return v;
  };

  app.post('/carillon/v1/phone-number-inventory', { config: { action: 'carillon:ImportPhoneNumbers' } }, async (req) => {
    const list = bodyOf(req.body).PhoneNumbers;
    if (!Array.isArray(list) || list.length < 1 || list.length > 10_000) throw badRequest('PhoneNumbers must be a list of 1..10000 numbers');
    const entries = list.map((x: unknown, i) => inventoryEntry(bodyOf(x), `PhoneNumbers[${i}]`));
    return { Imported: await importInventory(db, entries, now()) };
  });

  app.get('/search', { config: { action: 'chime:SearchAvailablePhoneNumbers' } }, async (req) => {
    const q = req.query as Record<string, string | undefined>;
    if (q.type !== 'phone-numbers') throw badRequest('type=phone-numbers is required');
    const limit = maxResults(q, 500);
    const after = decodeToken(q['next-token']);
    let query = db.selectFrom('phone_numbers').select('e164').where('status', '=', 'Available').orderBy('e164').limit(limit + 1);
    if (q.country !== undefined) query = query.where('country', '=', checkString('country', q.country, 2, 2, /^[A-Z]{2}$/));
    if (q.state !== undefined) query = query.where('state', '=', q.state);
    if (q.city !== undefined) query = query.where('city', '=', q.city);
    if (q['phone-number-type'] !== undefined) {
      const t = q['phone-number-type'];
      if (t !== 'Local' && t !== 'TollFree') throw badRequest('phone-number-type must be Local or TollFree');
      query = query.where('type', '=', t);
    }
    // NANP: +1 NPA … ; area code and toll-free prefix are the three digits after +1.
    if (q['area-code'] !== undefined) query = query.where('e164', 'like', `+1${checkString('area-code', q['area-code'], 3, 3, /^[0-9]{3}$/)}%`);
    if (q['toll-free-prefix'] !== undefined) query = query.where('type', '=', 'TollFree').where('e164', 'like', `+1${checkString('toll-free-prefix', q['toll-free-prefix'], 3, 3, /^8(00|33|44|55|66|77|88)$/)}%`);
    if (after !== undefined) query = query.where('e164', '>', after);
    const rows = await query.execute();
    return listPage(rows, limit, 'E164PhoneNumbers', (r) => r.e164, (r) => r.e164);
  });

  app.get('/phone-number-countries', { config: { action: 'chime:ListSupportedPhoneNumberCountries' } }, async (req) => {
    const pt = (req.query as Record<string, string | undefined>)['product-type'];
    if (pt === undefined || !PRODUCT_TYPES.includes(pt)) throw badRequest(`product-type must be one of ${PRODUCT_TYPES.join(', ')}`);
    const rows = await db.selectFrom('phone_numbers').select(['country', 'type']).distinct().orderBy('country').execute();
    const byCountry = new Map<string, Set<string>>();
    for (const r of rows) byCountry.set(r.country, (byCountry.get(r.country) ?? new Set()).add(r.type));
    return { PhoneNumberCountries: [...byCountry].map(([c, types]) => ({ CountryCode: c, SupportedPhoneNumberTypes: [...types].sort() })) };
  });

  app.post('/phone-number-orders', { config: { action: 'chime:CreatePhoneNumberOrder' } }, async (req, reply) => {
    const b = bodyOf(req.body);
    const productType = b.ProductType;
    if (typeof productType !== 'string' || !PRODUCT_TYPES.includes(productType)) throw badRequest(`ProductType must be one of ${PRODUCT_TYPES.join(', ')}`);
    const list = b.E164PhoneNumbers;
    if (!Array.isArray(list) || list.length < 1) throw badRequest('E164PhoneNumbers is required');
    if (list.length > 500) throw new ChimeError('ResourceLimitExceededException', 'At most 500 numbers per order');
    const numbers = list.map((n: unknown, i) => normalizeE164(checkString(`E164PhoneNumbers[${i}]`, n, 2, 16, E164)));
    const name = b.Name === undefined ? null : checkString('Name', b.Name, 0, 256, PHONE_NUMBER_NAME);
    const id = crypto.randomUUID();
    const at = now();
    const ordered: { E164PhoneNumber: string; Status: 'Acquired' | 'Failed' }[] = [];
    await db.transaction().execute(async (tx) => {
      for (const e164 of numbers) {
        const r = await tx
          .updateTable('phone_numbers')
          .set({ status: 'Unassigned', product_type: productType, order_id: id, name, updated_at: at, created_at: at })
          .where('e164', '=', e164)
          .where('status', '=', 'Available')
          .executeTakeFirst();
        ordered.push({ E164PhoneNumber: e164, Status: Number(r.numUpdatedRows) === 1 ? 'Acquired' : 'Failed' });
      }
      const ok = ordered.filter((o) => o.Status === 'Acquired').length;
      const status = ok === ordered.length ? 'Successful' : ok === 0 ? 'Failed' : 'Partial';
      await tx.insertInto('phone_number_orders').values({ id, product_type: productType, status, order_type: 'New', numbers: JSON.stringify(ordered), created_at: at, updated_at: at }).execute();
    });
    const order = await db.selectFrom('phone_number_orders').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    return reply.code(201).send({ PhoneNumberOrder: orderWire(order) });
  });

  const orderWire = (o: { id: string; product_type: string; status: string; order_type: string; numbers: string; created_at: string; updated_at: string }): Record<string, unknown> => ({
    PhoneNumberOrderId: o.id,
    ProductType: o.product_type,
    Status: o.status,
    OrderType: o.order_type,
    OrderedPhoneNumbers: JSON.parse(o.numbers) as unknown,
    CreatedTimestamp: o.created_at,
    UpdatedTimestamp: o.updated_at,
  });

  app.get('/phone-number-orders/:orderId', { config: { action: 'chime:GetPhoneNumberOrder' } }, async (req) => {
    const id = (req.params as Record<string, string>).orderId ?? '';
    if (!/^[a-fA-F0-9]{8}(?:-[a-fA-F0-9]{4}){3}-[a-fA-F0-9]{12}$/.test(id)) throw badRequest('PhoneNumberOrderId must be a GUID');
    const o = await db.selectFrom('phone_number_orders').selectAll().where('id', '=', id.toLowerCase()).executeTakeFirst();
    if (o === undefined) throw notFound(`PhoneNumberOrder ${id} not found`);
    return { PhoneNumberOrder: orderWire(o) };
  });

  app.get('/phone-number-orders', { config: { action: 'chime:ListPhoneNumberOrders' } }, async (req) => {
    const q = req.query as Record<string, string | undefined>;
    const limit = maxResults(q, 100);
    const after = decodeToken(q['next-token']);
    let query = db.selectFrom('phone_number_orders').selectAll().orderBy('id').limit(limit + 1);
    if (after !== undefined) query = query.where('id', '>', after);
    const rows = await query.execute();
    return listPage(rows, limit, 'PhoneNumberOrders', orderWire, (r) => r.id);
  });

  app.get('/phone-numbers/:phoneNumberId', { config: { action: 'chime:GetPhoneNumber' } }, async (req) => ({ PhoneNumber: toWire(deps, await owned(label(req.params))) }));

  app.get('/phone-numbers', { config: { action: 'chime:ListPhoneNumbers' } }, async (req) => {
    await releaseExpired(db, nowMs());
    const q = req.query as Record<string, string | undefined>;
    const limit = maxResults(q, 100);
    const after = decodeToken(q['next-token']);
    let query = db.selectFrom('phone_numbers').selectAll().where('status', '!=', 'Available').orderBy('e164');
    if (q.status !== undefined) query = query.where('status', '=', q.status);
    if (q['product-type'] !== undefined) query = query.where('product_type', '=', q['product-type']);
    if (after !== undefined) query = query.where('e164', '>', after);
    let rows = await query.execute();
    const fname = q['filter-name'];
    if (fname !== undefined) {
      if (fname !== 'VoiceConnectorId' && fname !== 'VoiceConnectorGroupId' && fname !== 'SipRuleId') throw badRequest('filter-name must be VoiceConnectorId, VoiceConnectorGroupId or SipRuleId');
      rows = rows.filter((r) => (JSON.parse(r.associations) as Association[]).some((a) => a.Name === fname && (q['filter-value'] === undefined || a.Value === q['filter-value'])));
    }
    return listPage(rows, limit, 'PhoneNumbers', (r) => toWire(deps, r), (r) => r.e164);
  });

  /** One attribute per update (ProductType, CallingName or Name); a calling name at most once per 7 days. */
  const update = async (raw: string, b: Body): Promise<PhoneNumberTable> => {
    const r = await owned(raw);
    const given = ['ProductType', 'CallingName', 'Name'].filter((k) => b[k] !== undefined);
    if (given.length !== 1) throw badRequest('Give exactly one of ProductType, CallingName, Name');
    const at = now();
    const set: Partial<PhoneNumberTable> = { updated_at: at };
    if (b.ProductType !== undefined) {
      if (typeof b.ProductType !== 'string' || !PRODUCT_TYPES.includes(b.ProductType)) throw badRequest(`ProductType must be one of ${PRODUCT_TYPES.join(', ')}`);
      set.product_type = b.ProductType;
    } else if (b.CallingName !== undefined) {
      const name = checkString('CallingName', b.CallingName, 0, 15, CALLING_NAME);
      if (r.calling_name_updated_at !== null && nowMs() - Date.parse(r.calling_name_updated_at) < WEEK_MS) {
        throw new ChimeError('ConflictException', `The calling name of ${r.e164} was changed less than 7 days ago`);
      }
      set.calling_name = name === '' ? null : name;
      set.calling_name_status = 'UpdateSucceeded';
      set.calling_name_updated_at = at;
    } else {
      set.name = checkString('Name', b.Name, 0, 256, PHONE_NUMBER_NAME);
    }
    await db.updateTable('phone_numbers').set(set).where('e164', '=', r.e164).execute();
    return { ...r, ...set };
  };

  const remove = async (raw: string): Promise<void> => {
    const r = await owned(raw);
    if (r.status === 'DeleteInProgress') return;
    if ((JSON.parse(r.associations) as Association[]).length > 0) throw new ChimeError('BadRequestException', `PhoneNumber ${r.e164} is still associated; disassociate it first`, 'PhoneNumberAssociationsExist');
    await db.updateTable('phone_numbers').set({ status: 'DeleteInProgress', deletion_at: now(), updated_at: now() }).where('e164', '=', r.e164).execute();
  };

  app.post('/phone-numbers/:phoneNumberId', { config: { action: 'chime:UpdatePhoneNumber', actionByOperation: { restore: 'chime:RestorePhoneNumber' } } }, async (req) => {
    const raw = label(req.params);
    if ((req.query as Record<string, string | undefined>).operation === 'restore') {
      const r = await owned(raw);
      if (r.status !== 'DeleteInProgress') throw badRequest(`PhoneNumber ${r.e164} is not in the deletion queue`);
      await db.updateTable('phone_numbers').set({ status: 'Unassigned', deletion_at: null, updated_at: now() }).where('e164', '=', r.e164).execute();
      return { PhoneNumber: toWire(deps, { ...r, status: 'Unassigned', deletion_at: null }) };
    }
    return { PhoneNumber: toWire(deps, await update(raw, bodyOf(req.body))) };
  });

  app.delete('/phone-numbers/:phoneNumberId', { config: { action: 'chime:DeletePhoneNumber' } }, async (req, reply) => {
    await remove(label(req.params));
    return reply.code(204).send();
  });

  app.post('/phone-numbers', { config: { actionByOperation: { 'batch-update': 'chime:BatchUpdatePhoneNumber', 'batch-delete': 'chime:BatchDeletePhoneNumber' } } }, async (req) => {
    const op = (req.query as Record<string, string | undefined>).operation;
    const b = bodyOf(req.body);
    const errors: { PhoneNumberId: string; ErrorCode: string; ErrorMessage: string }[] = [];
    const each = async (id: string, f: () => Promise<unknown>): Promise<void> => {
      try {
        await f();
      } catch (err) {
        if (!(err instanceof ChimeError)) throw err;
        errors.push({ PhoneNumberId: id, ErrorCode: err.code, ErrorMessage: err.message });
      }
    };
    if (op === 'batch-update') {
      const items = b.UpdatePhoneNumberRequestItems;
      if (!Array.isArray(items) || items.length < 1) throw badRequest('UpdatePhoneNumberRequestItems is required');
      const parsed = items.map((x: unknown, i) => ({ id: checkString(`UpdatePhoneNumberRequestItems[${i}].PhoneNumberId`, bodyOf(x).PhoneNumberId, 1, 32, /\S/), body: bodyOf(x) }));
      if (new Set(parsed.map((p) => normalizeE164(p.id))).size !== parsed.length) throw badRequest('A PhoneNumberId appears twice');
      for (const p of parsed) await each(p.id, () => update(p.id, p.body));
    } else if (op === 'batch-delete') {
      const ids = b.PhoneNumberIds;
      if (!Array.isArray(ids) || ids.length < 1 || ids.some((x) => typeof x !== 'string')) throw badRequest('PhoneNumberIds is required: a list of strings');
      for (const id of ids as string[]) await each(id, () => remove(id));
    } else {
      throw badRequest('operation must be batch-update or batch-delete');
    }
    return { PhoneNumberErrors: errors };
  });

  app.get('/settings/phone-number', { config: { action: 'chime:GetPhoneNumberSettings' } }, async () => {
    const r = await db.selectFrom('settings').selectAll().where('key', '=', 'calling-name').executeTakeFirst();
    return r === undefined ? {} : { CallingName: r.value, CallingNameUpdatedTimestamp: r.updated_at };
  });

  app.put('/settings/phone-number', { config: { action: 'chime:UpdatePhoneNumberSettings' } }, async (req, reply) => {
    const b = bodyOf(req.body);
    if (b.CallingName === undefined) throw badRequest('CallingName is required');
    const name = checkString('CallingName', b.CallingName, 0, 15, CALLING_NAME);
    const r = await db.selectFrom('settings').selectAll().where('key', '=', 'calling-name').executeTakeFirst();
    if (r !== undefined && nowMs() - Date.parse(r.updated_at) < WEEK_MS) throw new ChimeError('ConflictException', 'The default calling name was changed less than 7 days ago');
    await db.transaction().execute(async (tx) => {
      await tx.deleteFrom('settings').where('key', '=', 'calling-name').execute();
      await tx.insertInto('settings').values({ key: 'calling-name', value: name, updated_at: now() }).execute();
    });
    return reply.code(204).send();
  });

  // ---- Association with voice connectors and groups (reference §2.5, §2.6) ----
  const associate = async (kind: Association['Name'], target: string, body: Body, on: boolean): Promise<{ PhoneNumberErrors: unknown[] }> => {
    const list = body.E164PhoneNumbers;
    if (!Array.isArray(list) || list.length < 1) throw badRequest('E164PhoneNumbers is required');
    const force = body.ForceAssociate === true;
    const table = kind === 'VoiceConnectorId' ? 'voice_connectors' : 'voice_connector_groups';
    const exists = await db.selectFrom(table).select('id').where('id', '=', target).executeTakeFirst();
    if (exists === undefined) throw notFound(`${kind === 'VoiceConnectorId' ? 'VoiceConnector' : 'VoiceConnectorGroup'} ${target} not found`);
    const errors: { PhoneNumberId: string; ErrorCode: string; ErrorMessage: string }[] = [];
    for (const [i, raw] of list.entries()) {
      if (typeof raw !== 'string' || !E164.test(raw)) {
        errors.push({ PhoneNumberId: String(raw), ErrorCode: 'BadRequest', ErrorMessage: `E164PhoneNumbers[${i}] is not an E.164 number` });
        continue;
      }
      const e164 = normalizeE164(raw);
      await db.transaction().execute(async (tx) => {
        const r = await tx.selectFrom('phone_numbers').selectAll().where('e164', '=', e164).where('status', 'in', ['Unassigned', 'Assigned']).executeTakeFirst();
        if (r === undefined) {
          errors.push({ PhoneNumberId: e164, ErrorCode: 'NotFound', ErrorMessage: `PhoneNumber ${e164} not found` });
          return;
        }
        let assoc = JSON.parse(r.associations) as Association[];
        if (on) {
          if (assoc.some((a) => a.Name === kind && a.Value === target)) return;
          if (assoc.length > 0 && !force) {
            errors.push({ PhoneNumberId: e164, ErrorCode: 'Conflict', ErrorMessage: `PhoneNumber ${e164} is already associated` });
            return;
          }
          assoc = [{ Name: kind, Value: target, AssociatedTimestamp: now() }];
        } else {
          if (!assoc.some((a) => a.Name === kind && a.Value === target)) {
            errors.push({ PhoneNumberId: e164, ErrorCode: 'NotFound', ErrorMessage: `PhoneNumber ${e164} is not associated with ${target}` });
            return;
          }
          assoc = assoc.filter((a) => !(a.Name === kind && a.Value === target));
        }
        await tx
          .updateTable('phone_numbers')
          .set({ associations: JSON.stringify(assoc), status: assoc.length > 0 ? 'Assigned' : 'Unassigned', updated_at: now() })
          .where('e164', '=', e164)
          .execute();
      });
    }
    return { PhoneNumberErrors: errors };
  };

  const assocActions = (what: string): Record<string, string> => ({ 'associate-phone-numbers': `chime:AssociatePhoneNumbersWith${what}`, 'disassociate-phone-numbers': `chime:DisassociatePhoneNumbersFrom${what}` });
  for (const [path, kind, what, param] of [
    ['/voice-connectors/:voiceConnectorId', 'VoiceConnectorId', 'VoiceConnector', 'voiceConnectorId'],
    ['/voice-connector-groups/:groupId', 'VoiceConnectorGroupId', 'VoiceConnectorGroup', 'groupId'],
  ] as const) {
    app.post(path, { config: { actionByOperation: assocActions(what) } }, async (req) => {
      const op = (req.query as Record<string, string | undefined>).operation;
      const target = (req.params as Record<string, string>)[param] ?? '';
      if (op !== 'associate-phone-numbers' && op !== 'disassociate-phone-numbers') throw badRequest('operation must be associate-phone-numbers or disassociate-phone-numbers');
      return associate(kind, target, bodyOf(req.body), op === 'associate-phone-numbers');
    });
  }
}

/** Whether any number is associated with a voice connector or group (they can't be deleted then). */
export async function hasAssociatedNumbers(db: Kysely<StoreSchema>, kind: Association['Name'], id: string): Promise<boolean> {
  const rows = await db.selectFrom('phone_numbers').select('associations').where('status', '=', 'Assigned').execute();
  return rows.some((r) => (JSON.parse(r.associations) as Association[]).some((a) => a.Name === kind && a.Value === id));
}
