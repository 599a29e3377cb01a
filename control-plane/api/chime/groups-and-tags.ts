import type { FastifyInstance } from 'fastify';
import type { VoiceConnectorGroupTable } from '../../store/store.ts';
import { ChimeError, badRequest, notFound } from '../errors.ts';
import { hasAssociatedNumbers } from './phone-numbers.ts';
import type { ChimeApiDeps } from './plugin.ts';
import { idParam, voiceConnectorArn } from './voice-connectors.ts';
import { bodyOf, listPage, checkString, decodeToken, maxResults, optEnum, optTags, reqString } from './validate.ts';
import type { Body } from './validate.ts';

/** Voice connector groups (reference §2.6) and resource tags (Tag/Untag/ListTagsForResource). */
const NAME = /^[a-zA-Z0-9 _.-]+$/;
const DISTRIBUTION = ['PriorityWeightedDistribution', 'LoadBalancedDistribution'] as const;
const GROUP_REGION = 'us-east-1';

interface Item {
  readonly VoiceConnectorId: string;
  readonly Priority: number;
}

export function groupArn(deps: ChimeApiDeps, id: string): string {
  return `arn:aws:chime:${GROUP_REGION}:${deps.accountId}:vcg/${id}`;
}

function items(b: Body, required: boolean): Item[] | undefined {
  const v = b.VoiceConnectorItems;
  if (v === undefined) {
    if (required) throw badRequest('VoiceConnectorItems is required');
    return undefined;
  }
  if (!Array.isArray(v)) throw badRequest('VoiceConnectorItems must be a list');
  if (v.length > 3) throw new ChimeError('ResourceLimitExceededException', 'A voice connector group holds at most 3 voice connectors');
  const out = v.map((x: unknown, i) => {
    const o = bodyOf(x);
    const p = o.Priority;
    if (typeof p !== 'number' || !Number.isInteger(p) || p < 1 || p > 99) throw badRequest(`VoiceConnectorItems[${i}].Priority must be an integer 1..99`);
    return { VoiceConnectorId: checkString(`VoiceConnectorItems[${i}].VoiceConnectorId`, o.VoiceConnectorId, 1, 64, /\S/), Priority: p };
  });
  if (new Set(out.map((x) => x.VoiceConnectorId)).size !== out.length) throw badRequest('A voice connector appears twice in VoiceConnectorItems');
  return out;
}

function toWire(deps: ChimeApiDeps, r: VoiceConnectorGroupTable): Record<string, unknown> {
  return {
    VoiceConnectorGroupId: r.id,
    Name: r.name,
    VoiceConnectorItems: JSON.parse(r.items) as Item[],
    CreatedTimestamp: r.created_at,
    UpdatedTimestamp: r.updated_at,
    VoiceConnectorGroupArn: groupArn(deps, r.id),
    ...(r.call_distribution_type === null ? {} : { CallDistributionType: r.call_distribution_type }),
  };
}

export function registerGroupAndTagRoutes(app: FastifyInstance, deps: ChimeApiDeps): void {
  const { db } = deps.store;
  const now = (): string => new Date(deps.clock.nowMs()).toISOString();

  const checkMembers = async (list: readonly Item[]): Promise<void> => {
    for (const it of list) {
      const vc = await db.selectFrom('voice_connectors').select('id').where('id', '=', it.VoiceConnectorId).executeTakeFirst();
      if (vc === undefined) throw notFound(`VoiceConnector ${it.VoiceConnectorId} not found`);
    }
  };
  const load = async (id: string): Promise<VoiceConnectorGroupTable> => {
    const r = await db.selectFrom('voice_connector_groups').selectAll().where('id', '=', id).executeTakeFirst();
    if (r === undefined) throw notFound(`VoiceConnectorGroup ${id} not found`);
    return r;
  };

  app.post('/voice-connector-groups', { config: { action: 'chime:CreateVoiceConnectorGroup' } }, async (req, reply) => {
    const b = bodyOf(req.body);
    const name = reqString(b, 'Name', 1, 256, NAME);
    const list = items(b, false) ?? [];
    const dist = optEnum(b, 'CallDistributionType', DISTRIBUTION);
    await checkMembers(list);
    const at = now();
    const row: VoiceConnectorGroupTable = { id: deps.random.token(22), name, items: JSON.stringify(list), call_distribution_type: dist ?? null, created_at: at, updated_at: at, version: 1 };
    await db.insertInto('voice_connector_groups').values(row).execute();
    return reply.code(201).send({ VoiceConnectorGroup: toWire(deps, row) });
  });

  app.get('/voice-connector-groups/:groupId', { config: { action: 'chime:GetVoiceConnectorGroup' } }, async (req) => ({ VoiceConnectorGroup: toWire(deps, await load(idParam(req.params, 'groupId'))) }));

  app.put('/voice-connector-groups/:groupId', { config: { action: 'chime:UpdateVoiceConnectorGroup' } }, async (req, reply) => {
    const id = idParam(req.params, 'groupId');
    const b = bodyOf(req.body);
    const name = reqString(b, 'Name', 1, 256, NAME);
    const list = items(b, true) ?? [];
    const dist = optEnum(b, 'CallDistributionType', DISTRIBUTION);
    const current = await load(id);
    await checkMembers(list);
    const at = now();
    const next: VoiceConnectorGroupTable = { ...current, name, items: JSON.stringify(list), call_distribution_type: dist ?? current.call_distribution_type, updated_at: at, version: current.version + 1 };
    const r = await db
      .updateTable('voice_connector_groups')
      .set({ name: next.name, items: next.items, call_distribution_type: next.call_distribution_type, updated_at: at, version: next.version })
      .where('id', '=', id)
      .where('version', '=', current.version)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) throw new ChimeError('ConflictException', `VoiceConnectorGroup ${id} was changed by another request; retry`);
    return reply.code(202).send({ VoiceConnectorGroup: toWire(deps, next) });
  });

  app.delete('/voice-connector-groups/:groupId', { config: { action: 'chime:DeleteVoiceConnectorGroup' } }, async (req, reply) => {
    const id = idParam(req.params, 'groupId');
    const current = await load(id);
    if ((JSON.parse(current.items) as Item[]).length > 0) throw new ChimeError('ConflictException', `VoiceConnectorGroup ${id} still holds voice connectors`);
    if (await hasAssociatedNumbers(db, 'VoiceConnectorGroupId', id)) throw new ChimeError('ConflictException', `VoiceConnectorGroup ${id} still has phone numbers`, 'PhoneNumberAssociationsExist');
    await db.transaction().execute(async (tx) => {
      await tx.deleteFrom('voice_connector_groups').where('id', '=', id).execute();
      await tx.deleteFrom('tags').where('resource_arn', '=', groupArn(deps, id)).execute();
    });
    return reply.code(204).send();
  });

  app.get('/voice-connector-groups', { config: { action: 'chime:ListVoiceConnectorGroups' } }, async (req) => {
    const q = req.query as Record<string, string | undefined>;
    const limit = maxResults(q, 100);
    const after = decodeToken(q['next-token']);
    let query = db.selectFrom('voice_connector_groups').selectAll().orderBy('id').limit(limit + 1);
    if (after !== undefined) query = query.where('id', '>', after);
    const rows = await query.execute();
    return listPage(rows, limit, 'VoiceConnectorGroups', (r) => toWire(deps, r), (r) => r.id);
  });

  // ---- Tags ----

  /** The resource an ARN names must exist here; returns the ARN as stored. */
  const resource = async (arn: unknown): Promise<string> => {
    const s = checkString('ResourceARN', arn, 1, 1024, /^arn[/:\-_.a-zA-Z0-9]+$/);
    const m = /^arn:aws:chime:([a-z0-9-]+):(\d{12}):(vc|vcg)\/([a-z0-9]+)$/.exec(s);
    if (m === null) throw notFound(`No resource ${s}`);
    const [, region, , kind, id] = m as unknown as [string, string, string, string, string];
    if (kind === 'vc') {
      const vc = await db.selectFrom('voice_connectors').select(['id', 'aws_region']).where('id', '=', id).executeTakeFirst();
      if (vc === undefined || vc.aws_region !== region) throw notFound(`No resource ${s}`);
      return voiceConnectorArn(deps, region, id);
    }
    await load(id);
    return groupArn(deps, id);
  };

  const tagActions = { 'tag-resource': 'chime:TagResource', 'untag-resource': 'chime:UntagResource' };
  app.post('/tags', { config: { actionByOperation: tagActions } }, async (req, reply) => {
    const op = (req.query as Record<string, string | undefined>).operation;
    const b = bodyOf(req.body);
    if (op === 'tag-resource') {
      const tags = optTags(b, 'Tags');
      if (tags === undefined) throw badRequest('Tags is required');
      const arn = await resource(b.ResourceARN);
      await db.transaction().execute(async (tx) => {
        for (const t of tags) {
          await tx.deleteFrom('tags').where('resource_arn', '=', arn).where('key', '=', t.Key).execute();
          await tx.insertInto('tags').values({ resource_arn: arn, key: t.Key, value: t.Value }).execute();
        }
        const count = await tx.selectFrom('tags').select((eb) => eb.fn.countAll<string>().as('n')).where('resource_arn', '=', arn).executeTakeFirst();
        if (Number(count?.n ?? 0) > 50) throw new ChimeError('ResourceLimitExceededException', 'A resource holds at most 50 tags');
      });
    } else if (op === 'untag-resource') {
      const keys = b.TagKeys;
      if (!Array.isArray(keys) || keys.length < 1 || keys.length > 50) throw badRequest('TagKeys must be a list of 1..50 keys');
      const arn = await resource(b.ResourceARN);
      for (const [i, k] of keys.entries()) await db.deleteFrom('tags').where('resource_arn', '=', arn).where('key', '=', checkString(`TagKeys[${i}]`, k, 1, 128)).execute();
    } else {
      throw badRequest('operation must be tag-resource or untag-resource');
    }
    return reply.code(204).send();
  });

  app.get('/tags', { config: { action: 'chime:ListTagsForResource' } }, async (req) => {
    const arn = await resource((req.query as Record<string, string | undefined>).arn);
    const rows = await db.selectFrom('tags').select(['key', 'value']).where('resource_arn', '=', arn).orderBy('key').execute();
    return { Tags: rows.map((r) => ({ Key: r.key, Value: r.value })) };
  });
}
