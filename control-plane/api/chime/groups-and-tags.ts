import Type from 'typebox';
import type { VoiceConnectorGroupTable } from '../../store/store.ts';
import { ChimeError, badRequest, notFound } from '../errors.ts';
import { hasAssociatedNumbers } from './phone-numbers.ts';
import type { ChimeApiDeps } from './deps.ts';
import { voiceConnectorArn } from './voice-connectors.ts';
import { meetingIdOfArn, meetingTagResource } from '../meetings/routes.ts';
import { listPage, decodeToken } from './paging.ts';
import { Labels, NAME_PATTERN, NON_BLANK, Paging, Str, TagList } from './schema.ts';
import type { ChimeScope } from './schema.ts';

/** Voice connector groups (reference §2.6) and resource tags (Tag/Untag/ListTagsForResource). */
const DISTRIBUTION = ['PriorityWeightedDistribution', 'LoadBalancedDistribution'] as const;
const GROUP_REGION = 'us-east-1';

interface Item {
  readonly VoiceConnectorId: string;
  readonly Priority: number;
}

export function groupArn(deps: ChimeApiDeps, id: string): string {
  return `arn:aws:chime:${GROUP_REGION}:${deps.accountId}:vcg/${id}`;
}

// More than 3 items is ResourceLimitExceeded, not a malformed request: the list length is checked in code.
const Items = Type.Array(Type.Object({ VoiceConnectorId: Str(1, 64, NON_BLANK), Priority: Type.Integer({ minimum: 1, maximum: 99 }) }));
const GroupLabel = Labels('groupId');
const CreateGroup = Type.Object({ Name: Str(1, 256, NAME_PATTERN), VoiceConnectorItems: Type.Optional(Items), CallDistributionType: Type.Optional(Type.Enum([...DISTRIBUTION])) });
const UpdateGroup = Type.Object({ Name: Str(1, 256, NAME_PATTERN), VoiceConnectorItems: Items, CallDistributionType: Type.Optional(Type.Enum([...DISTRIBUTION])) });
const ARN_PATTERN = '^arn[/:\\-_.a-zA-Z0-9]+$';
const TagResource = Type.Object({ ResourceARN: Str(1, 1024, ARN_PATTERN), Tags: TagList });
const UntagResource = Type.Object({ ResourceARN: Str(1, 1024, ARN_PATTERN), TagKeys: Type.Array(Str(1, 128), { minItems: 1, maxItems: 50 }) });

function items(list: readonly Item[]): readonly Item[] {
  if (list.length > 3) throw new ChimeError('ResourceLimitExceededException', 'A voice connector group holds at most 3 voice connectors');
  if (new Set(list.map((x) => x.VoiceConnectorId)).size !== list.length) throw badRequest('A voice connector appears twice in VoiceConnectorItems');
  return list;
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

export function registerGroupAndTagRoutes(app: ChimeScope, deps: ChimeApiDeps): void {
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

  app.post('/voice-connector-groups', { config: { action: 'chime:CreateVoiceConnectorGroup' }, schema: { body: CreateGroup } }, async (req, reply) => {
    const { Name: name, CallDistributionType: dist } = req.body;
    const list = items(req.body.VoiceConnectorItems ?? []);
    await checkMembers(list);
    const at = now();
    const row: VoiceConnectorGroupTable = { id: deps.random.token(22), name, items: JSON.stringify(list), call_distribution_type: dist ?? null, created_at: at, updated_at: at, version: 1 };
    await db.insertInto('voice_connector_groups').values(row).execute();
    return reply.code(201).send({ VoiceConnectorGroup: toWire(deps, row) });
  });

  app.get('/voice-connector-groups/:groupId', { config: { action: 'chime:GetVoiceConnectorGroup' }, schema: { params: GroupLabel } }, async (req) => ({ VoiceConnectorGroup: toWire(deps, await load(req.params.groupId)) }));

  app.put('/voice-connector-groups/:groupId', { config: { action: 'chime:UpdateVoiceConnectorGroup' }, schema: { params: GroupLabel, body: UpdateGroup } }, async (req, reply) => {
    const id = req.params.groupId;
    const { Name: name, CallDistributionType: dist } = req.body;
    const list = items(req.body.VoiceConnectorItems);
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

  app.delete('/voice-connector-groups/:groupId', { config: { action: 'chime:DeleteVoiceConnectorGroup' }, schema: { params: GroupLabel } }, async (req, reply) => {
    const id = req.params.groupId;
    const current = await load(id);
    if ((JSON.parse(current.items) as Item[]).length > 0) throw new ChimeError('ConflictException', `VoiceConnectorGroup ${id} still holds voice connectors`);
    if (await hasAssociatedNumbers(db, 'VoiceConnectorGroupId', id)) throw new ChimeError('ConflictException', `VoiceConnectorGroup ${id} still has phone numbers`, 'PhoneNumberAssociationsExist');
    await db.transaction().execute(async (tx) => {
      await tx.deleteFrom('voice_connector_groups').where('id', '=', id).execute();
      await tx.deleteFrom('tags').where('resource_arn', '=', groupArn(deps, id)).execute();
    });
    return reply.code(204).send();
  });

  app.get('/voice-connector-groups', { config: { action: 'chime:ListVoiceConnectorGroups' }, schema: { querystring: Type.Object(Paging(100)) } }, async (req) => {
    const q = req.query;
    const limit = q['max-results'] ?? 100;
    const after = decodeToken(q['next-token']);
    let query = db.selectFrom('voice_connector_groups').selectAll().orderBy('id').limit(limit + 1);
    if (after !== undefined) query = query.where('id', '>', after);
    const rows = await query.execute();
    return listPage(rows, limit, 'VoiceConnectorGroups', (r) => toWire(deps, r), (r) => r.id);
  });

  // ---- Tags ----

  /** The resource an ARN names must exist here; returns the ARN as stored. */
  const resource = async (s: string): Promise<string> => {
    const meeting = await meetingTagResource(deps, s);
    if (meeting !== undefined) return meeting;
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

  app.post('/tags', { constraints: { operation: 'tag-resource' }, config: { action: 'chime:TagResource' }, schema: { body: TagResource } }, async (req, reply) => {
    const arn = await resource(req.body.ResourceARN);
    await db.transaction().execute(async (tx) => {
      for (const t of req.body.Tags) {
        await tx.deleteFrom('tags').where('resource_arn', '=', arn).where('key', '=', t.Key).execute();
        await tx.insertInto('tags').values({ resource_arn: arn, key: t.Key, value: t.Value }).execute();
      }
      const count = await tx.selectFrom('tags').select((eb) => eb.fn.countAll<string>().as('n')).where('resource_arn', '=', arn).executeTakeFirst();
      // The Meetings API names this limit TooManyTagsException; the Voice API ResourceLimitExceededException.
      if (Number(count?.n ?? 0) > 50) throw new ChimeError(meetingIdOfArn(arn) === undefined ? 'ResourceLimitExceededException' : 'TooManyTagsException', 'A resource holds at most 50 tags');
    });
    return reply.code(204).send();
  });

  app.post('/tags', { constraints: { operation: 'untag-resource' }, config: { action: 'chime:UntagResource' }, schema: { body: UntagResource } }, async (req, reply) => {
    const arn = await resource(req.body.ResourceARN);
    for (const k of req.body.TagKeys) await db.deleteFrom('tags').where('resource_arn', '=', arn).where('key', '=', k).execute();
    return reply.code(204).send();
  });

  app.get('/tags', { config: { action: 'chime:ListTagsForResource' }, schema: { querystring: Type.Object({ arn: Str(1, 1024, ARN_PATTERN) }) } }, async (req) => {
    const arn = await resource(req.query.arn);
    const rows = await db.selectFrom('tags').select(['key', 'value']).where('resource_arn', '=', arn).orderBy('key').execute();
    return { Tags: rows.map((r) => ({ Key: r.key, Value: r.value })) };
  });
}
