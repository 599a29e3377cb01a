import crypto from 'node:crypto';
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import Type from 'typebox';
import { ChimeError, badRequest, notFound } from '../errors.ts';
import { normalizeE164, PRODUCT_TYPES } from './phone-numbers.ts';
import type { ChimeApiDeps } from './deps.ts';
import { E164Number, Labels, Str } from './schema.ts';
import type { ChimeScope } from './schema.ts';

/**
 * Porting (SPEC.md §5): port-in orders are created and advanced by the operator through admin
 * routes — the carrier side of a port happens outside Carillon — and show in the Chime
 * Get/ListPhoneNumberOrders with `OrderType: "Porting"`. The port-out PIN (4–10 alphanumerics)
 * is what a gaining carrier must quote.
 */
const NEXT: Readonly<Record<string, readonly string[]>> = {
  Submitted: ['PendingDocuments', 'FOC', 'Exception', 'ChangeRequested', 'CancelRequested'],
  PendingDocuments: ['Submitted', 'FOC', 'Exception', 'CancelRequested'],
  ChangeRequested: ['Submitted', 'CancelRequested'],
  Exception: ['Submitted', 'CancelRequested', 'Cancelled'],
  FOC: ['Successful', 'Exception', 'CancelRequested'],
  CancelRequested: ['Cancelled', 'Submitted'],
  Successful: [],
  Cancelled: [],
};

const CreatePortIn = Type.Object({ E164PhoneNumbers: Type.Array(E164Number, { minItems: 1, maxItems: 500 }), ProductType: Type.Optional(Type.Enum([...PRODUCT_TYPES])) });
const PortInStatus = Type.Object({ Status: Type.Enum(Object.keys(NEXT)) });
const PortOutPin = Type.Object({ Pin: Str(4, 10, '^[A-Za-z0-9]{4,10}$') });

export function registerPortingRoutes(app: ChimeScope, deps: ChimeApiDeps): void {
  const { db } = deps.store;
  const now = (): string => new Date(deps.clock.nowMs()).toISOString();

  app.post('/carillon/v1/port-in-orders', { config: { action: 'carillon:CreatePortInOrder' }, schema: { body: CreatePortIn } }, async (req, reply) => {
    const productType = req.body.ProductType ?? 'VoiceConnector';
    const numbers = req.body.E164PhoneNumbers.map(normalizeE164);
    const id = crypto.randomUUID();
    const at = now();
    await db.transaction().execute(async (tx) => {
      for (const e164 of numbers) {
        const known = await tx.selectFrom('phone_numbers').select('status').where('e164', '=', e164).executeTakeFirst();
        if (known !== undefined) throw new ChimeError('ConflictException', `${e164} is already known here (${known.status})`);
        const parsed = parsePhoneNumberFromString(e164);
        await tx
          .insertInto('phone_numbers')
          .values({ e164, type: parsed?.getType() === 'TOLL_FREE' ? 'TollFree' : 'Local', country: parsed?.country ?? 'US', state: null, city: null, status: 'PortinInProgress', product_type: productType, order_id: id, calling_name: null, calling_name_status: 'Unassigned', calling_name_updated_at: null, name: null, associations: '[]', created_at: at, updated_at: at, deletion_at: null })
          .execute();
      }
      await tx.insertInto('phone_number_orders').values({ id, product_type: productType, status: 'Submitted', order_type: 'Porting', numbers: JSON.stringify(numbers.map((e) => ({ E164PhoneNumber: e, Status: 'Processing' }))), created_at: at, updated_at: at }).execute();
    });
    return reply.code(201).send({ PhoneNumberOrder: { PhoneNumberOrderId: id, ProductType: productType, Status: 'Submitted', OrderType: 'Porting' } });
  });

  app.post('/carillon/v1/port-in-orders/:orderId/status', { config: { action: 'carillon:UpdatePortInOrder' }, schema: { params: Labels('orderId'), body: PortInStatus } }, async (req) => {
    const id = req.params.orderId;
    const status = req.body.Status;
    const o = await db.selectFrom('phone_number_orders').selectAll().where('id', '=', id).where('order_type', '=', 'Porting').executeTakeFirst();
    if (o === undefined) throw notFound(`Port-in order ${id} not found`);
    if (!(NEXT[o.status] ?? []).includes(status)) throw badRequest(`A port-in order goes from ${o.status} to ${(NEXT[o.status] ?? []).join(', ') || 'nothing'}, not ${status}`);
    const numbers = JSON.parse(o.numbers) as { E164PhoneNumber: string; Status: string }[];
    const at = now();
    await db.transaction().execute(async (tx) => {
      const perNumber = status === 'Successful' ? 'Acquired' : status === 'Cancelled' ? 'Failed' : 'Processing';
      for (const n of numbers) {
        n.Status = perNumber;
        if (status === 'Successful') await tx.updateTable('phone_numbers').set({ status: 'Unassigned', updated_at: at }).where('e164', '=', n.E164PhoneNumber).execute();
        else if (status === 'Cancelled') await tx.deleteFrom('phone_numbers').where('e164', '=', n.E164PhoneNumber).where('status', 'in', ['PortinInProgress', 'PortinCancelRequested']).execute();
        else await tx.updateTable('phone_numbers').set({ status: status === 'CancelRequested' ? 'PortinCancelRequested' : 'PortinInProgress', updated_at: at }).where('e164', '=', n.E164PhoneNumber).execute();
      }
      await tx.updateTable('phone_number_orders').set({ status, numbers: JSON.stringify(numbers), updated_at: at }).where('id', '=', id).execute();
    });
    return { PhoneNumberOrderId: id, Status: status };
  });

  app.put('/carillon/v1/port-out-pin', { config: { action: 'carillon:PutPortOutPin' }, schema: { body: PortOutPin } }, async (req, reply) => {
    const pin = req.body.Pin;
    await db.transaction().execute(async (tx) => {
      await tx.deleteFrom('settings').where('key', '=', 'port-out-pin').execute();
      await tx.insertInto('settings').values({ key: 'port-out-pin', value: pin, updated_at: now() }).execute();
    });
    return reply.code(204).send();
  });

  app.get('/carillon/v1/port-out-pin', { config: { action: 'carillon:GetPortOutPin' } }, async () => {
    const r = await db.selectFrom('settings').selectAll().where('key', '=', 'port-out-pin').executeTakeFirst();
    if (r === undefined) throw notFound('No port-out PIN is set');
    return { Pin: r.value, UpdatedTimestamp: r.updated_at };
  });
}
