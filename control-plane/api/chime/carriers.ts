import crypto from 'node:crypto';
import Type from 'typebox';
import type { Static } from 'typebox';
import type { CarrierTable } from '../../store/store.ts';
import { ChimeError, notFound } from '../errors.ts';
import type { ChimeApiDeps } from './deps.ts';
import { decodeToken, listPage } from './paging.ts';
import { Labels, NON_BLANK, Paging, Str } from './schema.ts';
import type { ChimeScope } from './schema.ts';

/**
 * Carriers: Carillon's own resource for the upstream gateways to the phone network that
 * termination calls leave through (tried by priority, weighted among equals, failing over on
 * 408/5xx/transport failure). Chime-style casing, SigV4 like every route. Credentials answer the
 * carrier's digest challenges and are never returned.
 */
const Carrier = Type.Object({
  Name: Str(1, 256, NON_BLANK),
  Host: Str(1, 253, '^[A-Za-z0-9.:\\[\\]-]+$', 'host name or IP address'),
  Port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, description: 'default 5060 (5061 for TLS)' })),
  Protocol: Type.Enum(['UDP', 'TCP', 'TLS']),
  Priority: Type.Integer({ minimum: 1, maximum: 100, description: '1 is tried first' }),
  Weight: Type.Integer({ minimum: 1, maximum: 100, description: 'share among carriers of equal priority' }),
  Prefixes: Type.Optional(Type.Array(Str(1, 16, '^\\+[0-9]{0,15}$'), { maxItems: 100, description: 'E.164 prefixes this carrier takes; none = every destination' })),
  Credentials: Type.Optional(Type.Object({ Username: Str(1, 256, '^[^\\s:]+$'), Password: Str(1, 256) })),
});
const CarrierLabel = Labels('carrierId');

function row(id: string, b: Static<typeof Carrier>, at: string, created: string, version: number): CarrierTable {
  return {
    id,
    name: b.Name,
    host: b.Host,
    port: b.Port ?? (b.Protocol === 'TLS' ? 5061 : 5060),
    protocol: b.Protocol,
    priority: b.Priority,
    weight: b.Weight,
    prefixes: JSON.stringify(b.Prefixes ?? []),
    username: b.Credentials?.Username ?? null,
    password: b.Credentials?.Password ?? null,
    created_at: created,
    updated_at: at,
    version,
  };
}

function toWire(r: CarrierTable): Record<string, unknown> {
  return {
    CarrierId: r.id,
    Name: r.name,
    Host: r.host,
    Port: r.port,
    Protocol: r.protocol,
    Priority: r.priority,
    Weight: r.weight,
    Prefixes: JSON.parse(r.prefixes) as string[],
    ...(r.username === null ? {} : { Credentials: { Username: r.username } }),
    CreatedTimestamp: r.created_at,
    UpdatedTimestamp: r.updated_at,
  };
}

export function registerCarrierRoutes(app: ChimeScope, deps: ChimeApiDeps): void {
  const { db } = deps.store;
  const now = (): string => new Date(deps.clock.nowMs()).toISOString();
  const load = async (id: string): Promise<CarrierTable> => {
    const r = await db.selectFrom('carriers').selectAll().where('id', '=', id).executeTakeFirst();
    if (r === undefined) throw notFound(`Carrier ${id} not found`);
    return r;
  };

  app.post('/carillon/v1/carriers', { config: { action: 'carillon:CreateCarrier' }, schema: { body: Carrier } }, async (req, reply) => {
    const at = now();
    const r = row(crypto.randomUUID(), req.body, at, at, 1);
    await db.insertInto('carriers').values(r).execute();
    return reply.code(201).send({ Carrier: toWire(r) });
  });

  app.get('/carillon/v1/carriers/:carrierId', { config: { action: 'carillon:GetCarrier' }, schema: { params: CarrierLabel } }, async (req) => ({ Carrier: toWire(await load(req.params.carrierId)) }));

  app.put('/carillon/v1/carriers/:carrierId', { config: { action: 'carillon:UpdateCarrier' }, schema: { params: CarrierLabel, body: Carrier } }, async (req) => {
    const current = await load(req.params.carrierId);
    const next = row(current.id, req.body, now(), current.created_at, current.version + 1);
    const { id: _id, ...set } = next;
    const r = await db.updateTable('carriers').set(set).where('id', '=', current.id).where('version', '=', current.version).executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) throw new ChimeError('ConflictException', `Carrier ${current.id} was changed by another request; retry`);
    return { Carrier: toWire(next) };
  });

  app.delete('/carillon/v1/carriers/:carrierId', { config: { action: 'carillon:DeleteCarrier' }, schema: { params: CarrierLabel } }, async (req, reply) => {
    const r = await db.deleteFrom('carriers').where('id', '=', req.params.carrierId).executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) throw notFound(`Carrier ${req.params.carrierId} not found`);
    return reply.code(204).send();
  });

  app.get('/carillon/v1/carriers', { config: { action: 'carillon:ListCarriers' }, schema: { querystring: Type.Object(Paging(100)) } }, async (req) => {
    const limit = req.query['max-results'] ?? 100;
    const after = decodeToken(req.query['next-token']);
    let query = db.selectFrom('carriers').selectAll().orderBy('id').limit(limit + 1);
    if (after !== undefined) query = query.where('id', '>', after);
    return listPage(await query.execute(), limit, 'Carriers', toWire, (r) => r.id);
  });
}
