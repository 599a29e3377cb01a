import crypto from 'node:crypto';
import Type from 'typebox';
import type { Static, TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { badRequest, notFound } from '../errors.ts';
import type { ChimeApiDeps } from './deps.ts';
import { DOCUMENT_CHECKS, EmergencyDocument, ExternalSystemsDocument, LoggingDocument, OriginationDocument, ProxyDocument, StreamingDocument, TerminationDocument } from '../../../common/config-documents.ts';
import type { DocumentKind, DocumentOf } from '../../../common/config-documents.ts';
import { Labels, Str } from './schema.ts';
import type { ChimeScope } from './schema.ts';

/**
 * A voice connector's configuration documents (reference §2.2–2.4): termination, origination,
 * streaming, logging, emergency calling, proxy and external systems, each validated member by
 * member and stored as one JSON document per kind; termination credentials stored as digest
 * hashes only (MD5 and SHA-256 HA1, RFC 7616), never returned.
 */

/** The Put body of PutVoiceConnectorProxy (stored as the ProxyDocument GetVoiceConnectorProxy answers). */
const ProxyBody = Type.Object({
  DefaultSessionExpiryMinutes: ProxyDocument.properties.DefaultSessionExpiryMinutes,
  PhoneNumberPoolCountries: ProxyDocument.properties.PhoneNumberCountries,
  FallBackPhoneNumber: ProxyDocument.properties.FallBackPhoneNumber,
  Disabled: ProxyDocument.properties.Disabled,
});

/** Drops members that are undefined (they are absent from the stored JSON and the answer). */
function strip<T extends object>(o: T): T {
  for (const [k, v] of Object.entries(o)) if (v === undefined) Reflect.deleteProperty(o, k);
  return o;
}

/** A document's operations: its Put body's schema and how the stored document is derived from a valid body. */
interface DocRoute<K extends StoredKind, S extends TSchema> {
  readonly path: string;
  readonly kind: K;
  /** Member name in requests and responses. */
  readonly member: string;
  readonly ops: { readonly put: string; readonly get: string; readonly del?: string };
  /** The Put operation's body. */
  readonly body: S;
  /** The stored document from a valid body (defaults filled, rules across members checked). */
  readonly read: (body: Static<S>) => DocumentOf<K>;
}

/** The kinds the API writes through Put operations (termination health is Carillon's own record). */
type StoredKind = Exclude<DocumentKind, 'termination-health'>;

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

  const documentRoutes = <K extends StoredKind, S extends TSchema>(d: DocRoute<K, S>): void => {
    const url = `/voice-connectors/:voiceConnectorId/${d.path}`;
    const bodyIsValid = Compile(d.body);
    app.put(url, { config: { action: `chime:${d.ops.put}` }, schema: { params: VcLabel, body: d.body } }, async (req) => {
      const id = req.params.voiceConnectorId;
      // The route's schema validated the body already; the check types it.
      const input: unknown = req.body;
      if (!bodyIsValid.Check(input)) throw badRequest(`The request body is not a valid ${d.member}`);
      const doc = d.read(input);
      // What is stored is what the snapshot reads back: the document must pass its own schema.
      if (!DOCUMENT_CHECKS[d.kind](doc)) throw badRequest(`${d.member} is not valid`);
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

  const ops = (name: string, del = true): DocRoute<StoredKind, TSchema>['ops'] => ({ put: `PutVoiceConnector${name}`, get: `GetVoiceConnector${name}`, ...(del ? { del: `DeleteVoiceConnector${name}` } : {}) });
  documentRoutes({
    path: 'termination',
    kind: 'termination',
    member: 'Termination',
    ops: ops('Termination'),
    body: Type.Object({ Termination: TerminationDocument }),
    read: ({ Termination: t }) => strip({ ...t, CpsLimit: t.CpsLimit ?? 1 }),
  });
  documentRoutes({
    path: 'origination',
    kind: 'origination',
    member: 'Origination',
    ops: ops('Origination'),
    body: Type.Object({ Origination: OriginationDocument }),
    read: ({ Origination: o }) => {
      if (o.Routes === undefined && o.Disabled === undefined) throw badRequest('Origination needs Routes or Disabled');
      return { ...(o.Routes === undefined ? {} : { Routes: o.Routes.map((r) => strip({ ...r, Port: r.Port ?? 5060 })) }), ...(o.Disabled === undefined ? {} : { Disabled: o.Disabled }) };
    },
  });
  documentRoutes({
    path: 'streaming-configuration',
    kind: 'streaming',
    member: 'StreamingConfiguration',
    ops: ops('StreamingConfiguration'),
    body: Type.Object({ StreamingConfiguration: StreamingDocument }),
    read: (b) => strip({ ...b.StreamingConfiguration }),
  });
  documentRoutes({
    path: 'logging-configuration',
    kind: 'logging',
    member: 'LoggingConfiguration',
    ops: ops('LoggingConfiguration', false),
    body: Type.Object({ LoggingConfiguration: LoggingDocument }),
    read: (b) => strip({ ...b.LoggingConfiguration }),
  });
  documentRoutes({
    path: 'emergency-calling-configuration',
    kind: 'emergency',
    member: 'EmergencyCallingConfiguration',
    ops: ops('EmergencyCallingConfiguration'),
    body: Type.Object({ EmergencyCallingConfiguration: EmergencyDocument }),
    read: (b) => strip({ ...b.EmergencyCallingConfiguration }),
  });
  documentRoutes({
    path: 'programmable-numbers/proxy',
    kind: 'proxy',
    member: 'Proxy',
    ops: ops('Proxy'),
    body: ProxyBody,
    read: (b) => ({
      DefaultSessionExpiryMinutes: b.DefaultSessionExpiryMinutes,
      PhoneNumberCountries: b.PhoneNumberPoolCountries,
      ...(b.FallBackPhoneNumber === undefined ? {} : { FallBackPhoneNumber: b.FallBackPhoneNumber }),
      ...(b.Disabled === undefined ? {} : { Disabled: b.Disabled }),
    }),
  });
  documentRoutes({
    path: 'external-systems-configuration',
    kind: 'external-systems',
    member: 'ExternalSystemsConfiguration',
    ops: ops('ExternalSystemsConfiguration'),
    body: ExternalSystemsDocument,
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
