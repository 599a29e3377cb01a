import Type from 'typebox';
import type { VoiceConnectorTable } from '../../store/store.ts';
import { ChimeError, notFound } from '../errors.ts';
import { hasAssociatedNumbers } from './phone-numbers.ts';
import type { ChimeApiDeps } from './deps.ts';
import { listPage, decodeToken } from './paging.ts';
import { Labels, NAME_PATTERN, Paging, Str, TagList } from './schema.ts';
import type { ChimeScope } from './schema.ts';

/** Voice connector CRUD (reference §2.1). */
export const VOICE_CONNECTOR_REGIONS = ['us-east-1', 'us-west-2', 'ca-central-1', 'eu-central-1', 'eu-west-1', 'eu-west-2', 'ap-northeast-2', 'ap-northeast-1', 'ap-southeast-1', 'ap-southeast-2'] as const;
const INTEGRATION_TYPES = ['CONNECT_CALL_TRANSFER_CONNECTOR', 'CONNECT_ANALYTICS_CONNECTOR'] as const;
const NETWORK_TYPES = ['IPV4_ONLY', 'DUAL_STACK'] as const;

const VcLabel = Labels('voiceConnectorId');
const CreateVoiceConnector = Type.Object({
  Name: Str(1, 256, NAME_PATTERN),
  RequireEncryption: Type.Boolean(),
  AwsRegion: Type.Optional(Type.Enum([...VOICE_CONNECTOR_REGIONS])),
  IntegrationType: Type.Optional(Type.Enum([...INTEGRATION_TYPES])),
  NetworkType: Type.Optional(Type.Enum([...NETWORK_TYPES])),
  Tags: Type.Optional(TagList),
});
const UpdateVoiceConnector = Type.Object({ Name: Str(1, 256, NAME_PATTERN), RequireEncryption: Type.Boolean() });

export function voiceConnectorArn(deps: ChimeApiDeps, region: string, id: string): string {
  return `arn:aws:chime:${region}:${deps.accountId}:vc/${id}`;
}

function toWire(deps: ChimeApiDeps, r: VoiceConnectorTable): Record<string, unknown> {
  return {
    VoiceConnectorId: r.id,
    AwsRegion: r.aws_region,
    Name: r.name,
    OutboundHostName: `${r.id}.voiceconnector.${deps.domain}`,
    RequireEncryption: r.require_encryption === 1,
    CreatedTimestamp: r.created_at,
    UpdatedTimestamp: r.updated_at,
    VoiceConnectorArn: voiceConnectorArn(deps, r.aws_region, r.id),
    ...(r.integration_type === null ? {} : { IntegrationType: r.integration_type }),
    ...(r.network_type === null ? {} : { NetworkType: r.network_type }),
  };
}

export function registerVoiceConnectorRoutes(app: ChimeScope, deps: ChimeApiDeps): void {
  const { db } = deps.store;
  const now = (): string => new Date(deps.clock.nowMs()).toISOString();

  const load = async (id: string): Promise<VoiceConnectorTable> => {
    const r = await db.selectFrom('voice_connectors').selectAll().where('id', '=', id).executeTakeFirst();
    if (r === undefined) throw notFound(`VoiceConnector ${id} not found`);
    return r;
  };

  app.post('/voice-connectors', { config: { action: 'chime:CreateVoiceConnector' }, schema: { body: CreateVoiceConnector } }, async (req, reply) => {
    const b = req.body;
    const region = b.AwsRegion ?? 'us-east-1';
    if (!deps.regions.includes(region)) throw new ChimeError('BadRequestException', `AwsRegion ${region} is not offered here`);
    const tags = b.Tags;
    const at = now();
    const row: VoiceConnectorTable = {
      id: deps.random.token(22),
      name: b.Name,
      aws_region: region,
      require_encryption: b.RequireEncryption ? 1 : 0,
      integration_type: b.IntegrationType ?? null,
      network_type: b.NetworkType ?? null,
      created_at: at,
      updated_at: at,
      version: 1,
    };
    await db.transaction().execute(async (tx) => {
      await tx.insertInto('voice_connectors').values(row).execute();
      for (const t of tags ?? []) await tx.insertInto('tags').values({ resource_arn: voiceConnectorArn(deps, region, row.id), key: t.Key, value: t.Value }).execute();
    });
    return reply.code(201).send({ VoiceConnector: toWire(deps, row) });
  });

  app.get('/voice-connectors/:voiceConnectorId', { config: { action: 'chime:GetVoiceConnector' }, schema: { params: VcLabel } }, async (req) => ({
    VoiceConnector: toWire(deps, await load(req.params.voiceConnectorId)),
  }));

  app.put('/voice-connectors/:voiceConnectorId', { config: { action: 'chime:UpdateVoiceConnector' }, schema: { params: VcLabel, body: UpdateVoiceConnector } }, async (req) => {
    const id = req.params.voiceConnectorId;
    const { Name: name, RequireEncryption: requireEncryption } = req.body;
    const current = await load(id);
    const at = now();
    // Optimistic concurrency: an update that raced another one fails whole, with 409.
    const r = await db
      .updateTable('voice_connectors')
      .set({ name, require_encryption: requireEncryption ? 1 : 0, updated_at: at, version: current.version + 1 })
      .where('id', '=', id)
      .where('version', '=', current.version)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) throw new ChimeError('ConflictException', `VoiceConnector ${id} was changed by another request; retry`);
    return { VoiceConnector: toWire(deps, { ...current, name, require_encryption: requireEncryption ? 1 : 0, updated_at: at, version: current.version + 1 }) };
  });

  app.delete('/voice-connectors/:voiceConnectorId', { config: { action: 'chime:DeleteVoiceConnector' }, schema: { params: VcLabel } }, async (req, reply) => {
    const id = req.params.voiceConnectorId;
    const current = await load(id);
    const groups = await db.selectFrom('voice_connector_groups').select(['id', 'items']).execute();
    const inGroup = groups.find((g) => (JSON.parse(g.items) as { VoiceConnectorId: string }[]).some((i) => i.VoiceConnectorId === id));
    if (inGroup !== undefined) throw new ChimeError('ConflictException', `VoiceConnector ${id} is in VoiceConnectorGroup ${inGroup.id}`, 'VoiceConnectorGroupAssociationsExist');
    if (await hasAssociatedNumbers(db, 'VoiceConnectorId', id)) throw new ChimeError('ConflictException', `VoiceConnector ${id} still has phone numbers`, 'PhoneNumberAssociationsExist');
    await db.transaction().execute(async (tx) => {
      await tx.deleteFrom('voice_connectors').where('id', '=', id).execute();
      await tx.deleteFrom('voice_connector_documents').where('voice_connector_id', '=', id).execute();
      await tx.deleteFrom('termination_credentials').where('voice_connector_id', '=', id).execute();
      await tx.deleteFrom('tags').where('resource_arn', '=', voiceConnectorArn(deps, current.aws_region, id)).execute();
    });
    return reply.code(204).send();
  });

  app.get('/voice-connectors', { config: { action: 'chime:ListVoiceConnectors' }, schema: { querystring: Type.Object(Paging(100)) } }, async (req) => {
    const q = req.query;
    const limit = q['max-results'] ?? 100;
    const after = decodeToken(q['next-token']);
    let query = db.selectFrom('voice_connectors').selectAll().orderBy('id').limit(limit + 1);
    if (after !== undefined) query = query.where('id', '>', after);
    const rows = await query.execute();
    return listPage(rows, limit, 'VoiceConnectors', (r) => toWire(deps, r), (r) => r.id);
  });

  app.get('/voice-connector-regions', { config: { action: 'chime:ListAvailableVoiceConnectorRegions' } }, async () => ({ VoiceConnectorRegions: [...deps.regions] }));
}
