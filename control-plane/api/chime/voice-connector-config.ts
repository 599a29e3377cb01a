import crypto from 'node:crypto';
import Type from 'typebox';
import type { Static, TSchema } from 'typebox';
import { badRequest, notFound } from '../errors.ts';
import type { ChimeApiDeps } from './plugin.ts';
import { CountryCode, E164Number, Labels, NON_BLANK, Str } from './schema.ts';
import type { ChimeScope } from './schema.ts';

/**
 * A voice connector's configuration documents (reference §2.2–2.4): termination, origination,
 * streaming, logging, emergency calling, proxy and external systems, each validated member by
 * member and stored as one JSON document per kind; termination credentials stored as digest
 * hashes only (MD5 and SHA-256 HA1, RFC 7616), never returned.
 */
type Kind = 'termination' | 'origination' | 'streaming' | 'logging' | 'emergency' | 'proxy' | 'external-systems';

const Count = (min: number, max: number): ReturnType<typeof Type.Integer> => Type.Integer({ minimum: min, maximum: max });

const Termination = Type.Object({
  CpsLimit: Type.Optional(Count(1, 1_000_000)),
  DefaultPhoneNumber: Type.Optional(E164Number),
  // Documented as required although the model does not mark it (reference §2.2).
  CallingRegions: Type.Array(CountryCode, { minItems: 1, maxItems: 300 }),
  CidrAllowedList: Type.Optional(Type.Array(Type.String({ format: 'cidr' }), { maxItems: 100 })),
  Disabled: Type.Optional(Type.Boolean()),
});

const Origination = Type.Object({
  Routes: Type.Optional(
    Type.Array(
      Type.Object({
        Host: Str(1, 253, NON_BLANK),
        Port: Type.Optional(Count(0, 65535)),
        Protocol: Type.Optional(Type.Enum(['TCP', 'UDP'])),
        Priority: Type.Optional(Count(1, 100)),
        Weight: Type.Optional(Count(1, 100)),
      }),
      { maxItems: 20 },
    ),
  ),
  Disabled: Type.Optional(Type.Boolean()),
});

const Streaming = Type.Object({
  DataRetentionInHours: Count(0, 1_000_000),
  Disabled: Type.Boolean(),
  StreamingNotificationTargets: Type.Optional(Type.Array(Type.Object({ NotificationTarget: Type.Optional(Type.Enum(['EventBridge', 'SNS', 'SQS'])) }), { minItems: 1, maxItems: 3 })),
  MediaInsightsConfiguration: Type.Optional(Type.Object({ Disabled: Type.Optional(Type.Boolean()), ConfigurationArn: Type.Optional(Str(1, 1024, '^arn[/:\\-_.a-zA-Z0-9]+$')) })),
});

const Logging = Type.Object({ EnableSIPLogs: Type.Optional(Type.Boolean()), EnableMediaMetricLogs: Type.Optional(Type.Boolean()) });

const Emergency = Type.Object({
  DNIS: Type.Optional(Type.Array(Type.Object({ EmergencyPhoneNumber: E164Number, TestPhoneNumber: Type.Optional(E164Number), CallingCountry: CountryCode }))),
});

const SBC = ['RIBBON_SBC', 'ORACLE_ACME_PACKET_SBC', 'AVAYA_SBCE', 'CISCO_UNIFIED_BORDER_ELEMENT', 'AUDIOCODES_MEDIANT_SBC'];
const CCS = ['GENESYS_ENGAGE_ON_PREMISES', 'AVAYA_AURA_CALL_CENTER_ELITE', 'AVAYA_AURA_CONTACT_CENTER', 'CISCO_UNIFIED_CONTACT_CENTER_ENTERPRISE'];

const ExternalSystems = Type.Object({ SessionBorderControllerTypes: Type.Optional(Type.Array(Type.Enum(SBC))), ContactCenterSystemTypes: Type.Optional(Type.Array(Type.Enum(CCS))) });

const Proxy = Type.Object({
  DefaultSessionExpiryMinutes: Count(0, 1_000_000),
  PhoneNumberPoolCountries: Type.Array(Str(0, 2, '^$|^[A-Z]{2,2}$'), { minItems: 1, maxItems: 100 }),
  FallBackPhoneNumber: Type.Optional(E164Number),
  Disabled: Type.Optional(Type.Boolean()),
});

function strip<T extends Record<string, unknown>>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

interface DocRoute<S extends TSchema> {
  readonly path: string;
  readonly kind: Kind;
  /** Member name in requests and responses. */
  readonly member: string;
  readonly ops: { readonly put: string; readonly get: string; readonly del?: string };
  /** The Put operation's body. */
  readonly body: S;
  /** The stored document from a valid body (defaults filled, rules across members checked). */
  readonly read: (body: Static<S>) => Record<string, unknown>;
}

/** RFC 7616 HA1 = H(username ":" realm ":" password). */
export function ha1(algorithm: 'md5' | 'sha256', username: string, realm: string, password: string): string {
  return crypto.createHash(algorithm).update(`${username}:${realm}:${password}`).digest('hex');
}

const VcLabel = Labels('voiceConnectorId');
const PutCredentials = Type.Object({ Credentials: Type.Optional(Type.Array(Type.Object({ Username: Str(1, 128, '^[^\\s:]+$'), Password: Str(1, 256) }))) });
const DeleteCredentials = Type.Object({ Usernames: Type.Array(Str(1, 128), { minItems: 1 }) });

export function registerVoiceConnectorConfigRoutes(app: ChimeScope, deps: ChimeApiDeps): void {
  const { db } = deps.store;
  const now = (): string => new Date(deps.clock.nowMs()).toISOString();
  const exists = async (id: string): Promise<void> => {
    const r = await db.selectFrom('voice_connectors').select('id').where('id', '=', id).executeTakeFirst();
    if (r === undefined) throw notFound(`VoiceConnector ${id} not found`);
  };

  const documentRoutes = <S extends TSchema>(d: DocRoute<S>): void => {
    const url = `/voice-connectors/:voiceConnectorId/${d.path}`;
    app.put(url, { config: { action: `chime:${d.ops.put}` }, schema: { params: VcLabel, body: d.body } }, async (req) => {
      const id = req.params.voiceConnectorId;
      const doc = d.read(req.body as Static<S>);
      await exists(id);
      const body = JSON.stringify(doc);
      await db.transaction().execute(async (tx) => {
        await tx.deleteFrom('voice_connector_documents').where('voice_connector_id', '=', id).where('kind', '=', d.kind).execute();
        await tx.insertInto('voice_connector_documents').values({ voice_connector_id: id, kind: d.kind, body, updated_at: now() }).execute();
      });
      return { [d.member]: doc };
    });
    app.get(url, { config: { action: `chime:${d.ops.get}` }, schema: { params: VcLabel } }, async (req) => {
      const id = req.params.voiceConnectorId;
      await exists(id);
      const r = await db.selectFrom('voice_connector_documents').select('body').where('voice_connector_id', '=', id).where('kind', '=', d.kind).executeTakeFirst();
      if (r === undefined) {
        if (d.kind === 'logging') return { LoggingConfiguration: { EnableSIPLogs: false, EnableMediaMetricLogs: false } };
        throw notFound(`VoiceConnector ${id} has no ${d.member}`);
      }
      return { [d.member]: JSON.parse(r.body) as unknown };
    });
    const del = d.ops.del;
    if (del !== undefined) {
      app.delete(url, { config: { action: `chime:${del}` }, schema: { params: VcLabel } }, async (req, reply) => {
        const id = req.params.voiceConnectorId;
        await exists(id);
        const r = await db.deleteFrom('voice_connector_documents').where('voice_connector_id', '=', id).where('kind', '=', d.kind).executeTakeFirst();
        if (Number(r.numDeletedRows) === 0) throw notFound(`VoiceConnector ${id} has no ${d.member}`);
        return reply.code(204).send();
      });
    }
  };

  const ops = (name: string, del = true): DocRoute<TSchema>['ops'] => ({ put: `PutVoiceConnector${name}`, get: `GetVoiceConnector${name}`, ...(del ? { del: `DeleteVoiceConnector${name}` } : {}) });
  documentRoutes({
    path: 'termination',
    kind: 'termination',
    member: 'Termination',
    ops: ops('Termination'),
    body: Type.Object({ Termination: Termination }),
    read: ({ Termination: t }) => strip({ ...t, CpsLimit: t.CpsLimit ?? 1 }),
  });
  documentRoutes({
    path: 'origination',
    kind: 'origination',
    member: 'Origination',
    ops: ops('Origination'),
    body: Type.Object({ Origination: Origination }),
    read: ({ Origination: o }) => {
      if (o.Routes === undefined && o.Disabled === undefined) throw badRequest('Origination needs Routes or Disabled');
      return strip({ Routes: o.Routes?.map((r) => strip({ ...r, Port: r.Port ?? 5060 })), Disabled: o.Disabled });
    },
  });
  documentRoutes({
    path: 'streaming-configuration',
    kind: 'streaming',
    member: 'StreamingConfiguration',
    ops: ops('StreamingConfiguration'),
    body: Type.Object({ StreamingConfiguration: Streaming }),
    read: (b) => strip({ ...b.StreamingConfiguration }),
  });
  documentRoutes({
    path: 'logging-configuration',
    kind: 'logging',
    member: 'LoggingConfiguration',
    ops: ops('LoggingConfiguration', false),
    body: Type.Object({ LoggingConfiguration: Logging }),
    read: (b) => strip({ ...b.LoggingConfiguration }),
  });
  documentRoutes({
    path: 'emergency-calling-configuration',
    kind: 'emergency',
    member: 'EmergencyCallingConfiguration',
    ops: ops('EmergencyCallingConfiguration'),
    body: Type.Object({ EmergencyCallingConfiguration: Emergency }),
    read: (b) => strip({ ...b.EmergencyCallingConfiguration }),
  });
  documentRoutes({
    path: 'programmable-numbers/proxy',
    kind: 'proxy',
    member: 'Proxy',
    ops: ops('Proxy'),
    body: Proxy,
    read: (b) => strip({ DefaultSessionExpiryMinutes: b.DefaultSessionExpiryMinutes, PhoneNumberCountries: b.PhoneNumberPoolCountries, FallBackPhoneNumber: b.FallBackPhoneNumber, Disabled: b.Disabled }),
  });
  documentRoutes({
    path: 'external-systems-configuration',
    kind: 'external-systems',
    member: 'ExternalSystemsConfiguration',
    ops: ops('ExternalSystemsConfiguration'),
    body: ExternalSystems,
    read: (b) => strip({ ...b }),
  });

  // Termination credentials: POST …/termination/credentials?operation=put|delete, GET lists usernames.
  const credentialsUrl = '/voice-connectors/:voiceConnectorId/termination/credentials';
  app.post(credentialsUrl, { constraints: { operation: 'put' }, config: { action: 'chime:PutVoiceConnectorTerminationCredentials' }, schema: { params: VcLabel, body: PutCredentials } }, async (req, reply) => {
    const id = req.params.voiceConnectorId;
    await exists(id);
    const realm = `${id}.voiceconnector.${deps.domain}`;
    await db.transaction().execute(async (tx) => {
      for (const c of req.body.Credentials ?? []) {
        await tx.deleteFrom('termination_credentials').where('voice_connector_id', '=', id).where('username', '=', c.Username).execute();
        await tx
          .insertInto('termination_credentials')
          .values({ voice_connector_id: id, username: c.Username, realm, ha1_md5: ha1('md5', c.Username, realm, c.Password), ha1_sha256: ha1('sha256', c.Username, realm, c.Password), created_at: now() })
          .execute();
      }
    });
    return reply.code(204).send();
  });
  app.post(credentialsUrl, { constraints: { operation: 'delete' }, config: { action: 'chime:DeleteVoiceConnectorTerminationCredentials' }, schema: { params: VcLabel, body: DeleteCredentials } }, async (req, reply) => {
    const id = req.params.voiceConnectorId;
    await exists(id);
    for (const u of req.body.Usernames) await db.deleteFrom('termination_credentials').where('voice_connector_id', '=', id).where('username', '=', u).execute();
    return reply.code(204).send();
  });

  app.get(credentialsUrl, { config: { action: 'chime:ListVoiceConnectorTerminationCredentials' }, schema: { params: VcLabel } }, async (req) => {
    const id = req.params.voiceConnectorId;
    await exists(id);
    const rows = await db.selectFrom('termination_credentials').select('username').where('voice_connector_id', '=', id).orderBy('username').execute();
    return { Usernames: rows.map((r) => r.username) };
  });

  app.get('/voice-connectors/:voiceConnectorId/termination/health', { config: { action: 'chime:GetVoiceConnectorTerminationHealth' }, schema: { params: VcLabel } }, async (req) => {
    const id = req.params.voiceConnectorId;
    await exists(id);
    const r = await db.selectFrom('voice_connector_documents').select('body').where('voice_connector_id', '=', id).where('kind', '=', 'termination-health').executeTakeFirst();
    return { TerminationHealth: r === undefined ? {} : (JSON.parse(r.body) as unknown) };
  });
}
