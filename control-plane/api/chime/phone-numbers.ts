import crypto from 'node:crypto';
import type { Kysely } from 'kysely';
import Type from 'typebox';
import type { Static } from 'typebox';
import type { PhoneNumberTable, StoreSchema } from '../../store/store.ts';
import { ChimeError, badRequest, notFound } from '../errors.ts';
import type { ChimeApiDeps } from './deps.ts';
import { listPage, decodeToken } from './paging.ts';
import { checker, CountryCode, E164Number, Labels, NON_BLANK, Paging, Str } from './schema.ts';
import type { ChimeScope } from './schema.ts';

/**
 * Phone numbers under Chime's rules (SPEC.md §5; reference §2.5, §2.7, §2.8): an inventory the
 * operator imports from its own ranges, search over what is still available, orders that take
 * numbers from it, per-number state, calling names (changeable once per 7 days), deletion into a
 * 7-day queue with restore, then release for good, and association with voice connectors/groups.
 */
export const E164 = /^\+?[1-9]\d{1,14}$/;
export const PRODUCT_TYPES = ['VoiceConnector', 'SipMediaApplicationDialIn'] as const;
const ProductType = Type.Enum([...PRODUCT_TYPES]);
const CallingName = Str(0, 15, '^$|^[a-zA-Z0-9 ]{2,15}$');
const PhoneNumberName = Str(0, 256, '^$|^[a-zA-Z0-9,._-]+(\\s+[a-zA-Z0-9,._-]+)*$');
const NumberLabel = Labels('phoneNumberId');
const NumberType = Type.Enum(['Local', 'TollFree']);

const InventoryEntry = Type.Object({ E164PhoneNumber: E164Number, Type: NumberType, Country: CountryCode, State: Type.Optional(Str(0, 64)), City: Type.Optional(Str(0, 128)) });
const ImportInventory = Type.Object({ PhoneNumbers: Type.Array(InventoryEntry, { minItems: 1, maxItems: 10_000 }) });
const SearchQuery = Type.Object({
  type: Type.Enum(['phone-numbers']),
  country: Type.Optional(CountryCode),
  state: Type.Optional(Type.String()),
  city: Type.Optional(Type.String()),
  'phone-number-type': Type.Optional(NumberType),
  'area-code': Type.Optional(Str(3, 3, '^[0-9]{3}$')),
  'toll-free-prefix': Type.Optional(Str(3, 3, '^8(00|33|44|55|66|77|88)$')),
  ...Paging(500),
});
// More than 500 numbers is ResourceLimitExceeded, checked in code.
const CreateOrder = Type.Object({ ProductType, E164PhoneNumbers: Type.Array(E164Number, { minItems: 1 }), Name: Type.Optional(PhoneNumberName) });
const UpdateMembers = { ProductType: Type.Optional(ProductType), CallingName: Type.Optional(CallingName), Name: Type.Optional(PhoneNumberName) };
const UpdateNumber = Type.Object(UpdateMembers);
const BatchUpdate = Type.Object({ UpdatePhoneNumberRequestItems: Type.Array(Type.Object({ PhoneNumberId: Str(1, 32, NON_BLANK), ...UpdateMembers }), { minItems: 1 }) });
const BatchDelete = Type.Object({ PhoneNumberIds: Type.Array(Str(1, 32, NON_BLANK), { minItems: 1 }) });
const ListNumbersQuery = Type.Object({
  status: Type.Optional(Type.String()),
  'product-type': Type.Optional(ProductType),
  'filter-name': Type.Optional(Type.Enum(['VoiceConnectorId', 'VoiceConnectorGroupId', 'SipRuleId'])),
  'filter-value': Type.Optional(Type.String()),
  ...Paging(100),
});
// Entries that are not E.164 numbers are per-number errors in the answer, not a bad request.
const Associate = Type.Object({ E164PhoneNumbers: Type.Array(Type.String(), { minItems: 1 }), ForceAssociate: Type.Optional(Type.Boolean()) });
const Disassociate = Type.Object({ E164PhoneNumbers: Type.Array(Type.String(), { minItems: 1 }) });
const WEEK_MS = 7 * 24 * 3600 * 1000;

export interface Association {
  Name: 'VoiceConnectorId' | 'VoiceConnectorGroupId' | 'UserId';
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

function imported(o: Static<typeof InventoryEntry>): ImportedNumber {
  return { e164: normalizeE164(o.E164PhoneNumber), type: o.Type, country: o.Country, state: o.State === undefined || o.State === '' ? null : o.State, city: o.City === undefined || o.City === '' ? null : o.City };
}

const checkEntry = checker(InventoryEntry, 'entry');

/** Validates one inventory entry that did not come through the API (a CSV row), by the API's own schema. */
export function inventoryEntry(o: unknown, where: string): ImportedNumber {
  return imported(checkEntry(o, where));
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

export function registerPhoneNumberRoutes(app: ChimeScope, deps: ChimeApiDeps): void {
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
  app.post('/carillon/v1/phone-number-inventory', { config: { action: 'carillon:ImportPhoneNumbers' }, schema: { body: ImportInventory } }, async (req) => ({
    Imported: await importInventory(db, req.body.PhoneNumbers.map(imported), now()),
  }));

  app.get('/search', { config: { action: 'chime:SearchAvailablePhoneNumbers' }, schema: { querystring: SearchQuery } }, async (req) => {
    const q = req.query;
    const limit = q['max-results'] ?? 500;
    const after = decodeToken(q['next-token']);
    let query = db.selectFrom('phone_numbers').select('e164').where('status', '=', 'Available').orderBy('e164').limit(limit + 1);
    if (q.country !== undefined) query = query.where('country', '=', q.country);
    if (q.state !== undefined) query = query.where('state', '=', q.state);
    if (q.city !== undefined) query = query.where('city', '=', q.city);
    if (q['phone-number-type'] !== undefined) query = query.where('type', '=', q['phone-number-type']);
    // NANP: +1 NPA … ; area code and toll-free prefix are the three digits after +1.
    if (q['area-code'] !== undefined) query = query.where('e164', 'like', `+1${q['area-code']}%`);
    if (q['toll-free-prefix'] !== undefined) query = query.where('type', '=', 'TollFree').where('e164', 'like', `+1${q['toll-free-prefix']}%`);
    if (after !== undefined) query = query.where('e164', '>', after);
    const rows = await query.execute();
    return listPage(rows, limit, 'E164PhoneNumbers', (r) => r.e164, (r) => r.e164);
  });

  app.get('/phone-number-countries', { config: { action: 'chime:ListSupportedPhoneNumberCountries' }, schema: { querystring: Type.Object({ 'product-type': ProductType }) } }, async () => {
    const rows = await db.selectFrom('phone_numbers').select(['country', 'type']).distinct().orderBy('country').execute();
    const byCountry = new Map<string, Set<string>>();
    for (const r of rows) byCountry.set(r.country, (byCountry.get(r.country) ?? new Set()).add(r.type));
    return { PhoneNumberCountries: [...byCountry].map(([c, types]) => ({ CountryCode: c, SupportedPhoneNumberTypes: [...types].sort() })) };
  });

  app.post('/phone-number-orders', { config: { action: 'chime:CreatePhoneNumberOrder' }, schema: { body: CreateOrder } }, async (req, reply) => {
    const productType = req.body.ProductType;
    if (req.body.E164PhoneNumbers.length > 500) throw new ChimeError('ResourceLimitExceededException', 'At most 500 numbers per order');
    const numbers = req.body.E164PhoneNumbers.map(normalizeE164);
    const name = req.body.Name ?? null;
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

  const OrderLabel = Type.Object({ orderId: Str(36, 36, '^[a-fA-F0-9]{8}(?:-[a-fA-F0-9]{4}){3}-[a-fA-F0-9]{12}$', 'PhoneNumberOrderId, a GUID') });
  app.get('/phone-number-orders/:orderId', { config: { action: 'chime:GetPhoneNumberOrder' }, schema: { params: OrderLabel } }, async (req) => {
    const id = req.params.orderId;
    const o = await db.selectFrom('phone_number_orders').selectAll().where('id', '=', id.toLowerCase()).executeTakeFirst();
    if (o === undefined) throw notFound(`PhoneNumberOrder ${id} not found`);
    return { PhoneNumberOrder: orderWire(o) };
  });

  app.get('/phone-number-orders', { config: { action: 'chime:ListPhoneNumberOrders' }, schema: { querystring: Type.Object(Paging(100)) } }, async (req) => {
    const q = req.query;
    const limit = q['max-results'] ?? 100;
    const after = decodeToken(q['next-token']);
    let query = db.selectFrom('phone_number_orders').selectAll().orderBy('id').limit(limit + 1);
    if (after !== undefined) query = query.where('id', '>', after);
    const rows = await query.execute();
    return listPage(rows, limit, 'PhoneNumberOrders', orderWire, (r) => r.id);
  });

  app.get('/phone-numbers/:phoneNumberId', { config: { action: 'chime:GetPhoneNumber' }, schema: { params: NumberLabel } }, async (req) => ({ PhoneNumber: toWire(deps, await owned(req.params.phoneNumberId)) }));

  app.get('/phone-numbers', { config: { action: 'chime:ListPhoneNumbers' }, schema: { querystring: ListNumbersQuery } }, async (req) => {
    await releaseExpired(db, nowMs());
    const q = req.query;
    const limit = q['max-results'] ?? 100;
    const after = decodeToken(q['next-token']);
    let query = db.selectFrom('phone_numbers').selectAll().where('status', '!=', 'Available').orderBy('e164');
    if (q.status !== undefined) query = query.where('status', '=', q.status);
    if (q['product-type'] !== undefined) query = query.where('product_type', '=', q['product-type']);
    if (after !== undefined) query = query.where('e164', '>', after);
    let rows = await query.execute();
    const fname = q['filter-name'];
    if (fname !== undefined) {
      rows = rows.filter((r) => (JSON.parse(r.associations) as Association[]).some((a) => a.Name === fname && (q['filter-value'] === undefined || a.Value === q['filter-value'])));
    }
    return listPage(rows, limit, 'PhoneNumbers', (r) => toWire(deps, r), (r) => r.e164);
  });

  /** One attribute per update (ProductType, CallingName or Name); a calling name at most once per 7 days. */
  const update = async (raw: string, b: Static<typeof UpdateNumber>): Promise<PhoneNumberTable> => {
    const r = await owned(raw);
    const given = [b.ProductType, b.CallingName, b.Name].filter((v) => v !== undefined);
    if (given.length !== 1) throw badRequest('Give exactly one of ProductType, CallingName, Name');
    const at = now();
    const set: Partial<PhoneNumberTable> = { updated_at: at };
    if (b.ProductType !== undefined) {
      set.product_type = b.ProductType;
    } else if (b.CallingName !== undefined) {
      const name = b.CallingName;
      if (r.calling_name_updated_at !== null && nowMs() - Date.parse(r.calling_name_updated_at) < WEEK_MS) {
        throw new ChimeError('ConflictException', `The calling name of ${r.e164} was changed less than 7 days ago`);
      }
      set.calling_name = name === '' ? null : name;
      set.calling_name_status = 'UpdateSucceeded';
      set.calling_name_updated_at = at;
    } else if (b.Name !== undefined) {
      set.name = b.Name;
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

  app.post('/phone-numbers/:phoneNumberId', { config: { action: 'chime:UpdatePhoneNumber' }, schema: { params: NumberLabel, body: UpdateNumber } }, async (req) => ({
    PhoneNumber: toWire(deps, await update(req.params.phoneNumberId, req.body)),
  }));

  app.post('/phone-numbers/:phoneNumberId', { constraints: { operation: 'restore' }, config: { action: 'chime:RestorePhoneNumber' }, schema: { params: NumberLabel } }, async (req) => {
    const r = await owned(req.params.phoneNumberId);
    if (r.status !== 'DeleteInProgress') throw badRequest(`PhoneNumber ${r.e164} is not in the deletion queue`);
    await db.updateTable('phone_numbers').set({ status: 'Unassigned', deletion_at: null, updated_at: now() }).where('e164', '=', r.e164).execute();
    return { PhoneNumber: toWire(deps, { ...r, status: 'Unassigned', deletion_at: null }) };
  });

  app.delete('/phone-numbers/:phoneNumberId', { config: { action: 'chime:DeletePhoneNumber' }, schema: { params: NumberLabel } }, async (req, reply) => {
    await remove(req.params.phoneNumberId);
    return reply.code(204).send();
  });

  /** Runs `f` for each id; a Chime error becomes that id's entry in PhoneNumberErrors. */
  const batch = async <T>(items: readonly T[], idOf: (t: T) => string, f: (t: T) => Promise<unknown>): Promise<{ PhoneNumberErrors: unknown[] }> => {
    const errors: { PhoneNumberId: string; ErrorCode: string; ErrorMessage: string }[] = [];
    for (const it of items) {
      try {
        await f(it);
      } catch (err) {
        if (!(err instanceof ChimeError)) throw err;
        errors.push({ PhoneNumberId: idOf(it), ErrorCode: err.code, ErrorMessage: err.message });
      }
    }
    return { PhoneNumberErrors: errors };
  };

  app.post('/phone-numbers', { constraints: { operation: 'batch-update' }, config: { action: 'chime:BatchUpdatePhoneNumber' }, schema: { body: BatchUpdate } }, async (req) => {
    const items = req.body.UpdatePhoneNumberRequestItems;
    if (new Set(items.map((p) => normalizeE164(p.PhoneNumberId))).size !== items.length) throw badRequest('A PhoneNumberId appears twice');
    return batch(items, (p) => p.PhoneNumberId, ({ PhoneNumberId: id, ...change }) => update(id, change));
  });

  app.post('/phone-numbers', { constraints: { operation: 'batch-delete' }, config: { action: 'chime:BatchDeletePhoneNumber' }, schema: { body: BatchDelete } }, async (req) => batch(req.body.PhoneNumberIds, (id) => id, remove));

  app.get('/settings/phone-number', { config: { action: 'chime:GetPhoneNumberSettings' } }, async () => {
    const r = await db.selectFrom('settings').selectAll().where('key', '=', 'calling-name').executeTakeFirst();
    return r === undefined ? {} : { CallingName: r.value, CallingNameUpdatedTimestamp: r.updated_at };
  });

  app.put('/settings/phone-number', { config: { action: 'chime:UpdatePhoneNumberSettings' }, schema: { body: Type.Object({ CallingName }) } }, async (req, reply) => {
    const name = req.body.CallingName;
    const r = await db.selectFrom('settings').selectAll().where('key', '=', 'calling-name').executeTakeFirst();
    if (r !== undefined && nowMs() - Date.parse(r.updated_at) < WEEK_MS) throw new ChimeError('ConflictException', 'The default calling name was changed less than 7 days ago');
    await db.transaction().execute(async (tx) => {
      await tx.deleteFrom('settings').where('key', '=', 'calling-name').execute();
      await tx.insertInto('settings').values({ key: 'calling-name', value: name, updated_at: now() }).execute();
    });
    return reply.code(204).send();
  });

  // ---- Association with voice connectors and groups (reference §2.5, §2.6) ----
  const associate = async (kind: Association['Name'], target: string, list: readonly string[], force: boolean, on: boolean): Promise<{ PhoneNumberErrors: unknown[] }> => {
    const table = kind === 'VoiceConnectorId' ? 'voice_connectors' : 'voice_connector_groups';
    const exists = await db.selectFrom(table).select('id').where('id', '=', target).executeTakeFirst();
    if (exists === undefined) throw notFound(`${kind === 'VoiceConnectorId' ? 'VoiceConnector' : 'VoiceConnectorGroup'} ${target} not found`);
    const errors: { PhoneNumberId: string; ErrorCode: string; ErrorMessage: string }[] = [];
    for (const [i, raw] of list.entries()) {
      if (!E164.test(raw)) {
        errors.push({ PhoneNumberId: raw, ErrorCode: 'BadRequest', ErrorMessage: `E164PhoneNumbers[${i}] is not an E.164 number` });
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

  for (const [path, kind, what, param] of [
    ['/voice-connectors/:voiceConnectorId', 'VoiceConnectorId', 'VoiceConnector', 'voiceConnectorId'],
    ['/voice-connector-groups/:groupId', 'VoiceConnectorGroupId', 'VoiceConnectorGroup', 'groupId'],
  ] as const) {
    const params = Labels(param);
    app.post(path, { constraints: { operation: 'associate-phone-numbers' }, config: { action: `chime:AssociatePhoneNumbersWith${what}` }, schema: { params, body: Associate } }, async (req) =>
      associate(kind, (req.params as Record<string, string>)[param] ?? '', req.body.E164PhoneNumbers, req.body.ForceAssociate === true, true),
    );
    app.post(path, { constraints: { operation: 'disassociate-phone-numbers' }, config: { action: `chime:DisassociatePhoneNumbersFrom${what}` }, schema: { params, body: Disassociate } }, async (req) =>
      associate(kind, (req.params as Record<string, string>)[param] ?? '', req.body.E164PhoneNumbers, false, false),
    );
  }
}

/** Whether any number is associated with a voice connector or group (they can't be deleted then). */
export async function hasAssociatedNumbers(db: Kysely<StoreSchema>, kind: Association['Name'], id: string): Promise<boolean> {
  const rows = await db.selectFrom('phone_numbers').select('associations').where('status', '=', 'Assigned').execute();
  return rows.some((r) => (JSON.parse(r.associations) as Association[]).some((a) => a.Name === kind && a.Value === id));
}
