import crypto from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { ChimeError, badRequest, notFound } from '../errors.ts';
import type { ChimeApiDeps } from './plugin.ts';
import { idParam } from './voice-connectors.ts';
import { bodyOf, checkString } from './validate.ts';
import type { Body } from './validate.ts';

/**
 * A voice connector's configuration documents (reference §2.2–2.4): termination, origination,
 * streaming, logging, emergency calling, proxy and external systems, each validated member by
 * member and stored as one JSON document per kind; termination credentials stored as digest
 * hashes only (MD5 and SHA-256 HA1, RFC 7616), never returned.
 */
type Kind = 'termination' | 'origination' | 'streaming' | 'logging' | 'emergency' | 'proxy' | 'external-systems';

const E164 = /^\+?[1-9]\d{1,14}$/;
const ALPHA2 = /^[A-Z]{2}$/;

function obj(v: unknown, name: string): Body {
  if (v === undefined) throw badRequest(`${name} is required`);
  const b = bodyOf(v);
  return b;
}

function optBool(b: Body, name: string): boolean | undefined {
  const v = b[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw badRequest(`${name} must be a boolean`);
  return v;
}

function optInt(b: Body, name: string, min: number, max: number): number | undefined {
  const v = b[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw badRequest(`${name} must be an integer ${min}..${max}`);
  return v;
}

function reqInt(b: Body, name: string, min: number, max: number): number {
  const v = optInt(b, name, min, max);
  if (v === undefined) throw badRequest(`${name} is required`);
  return v;
}

function strings(b: Body, name: string, check: (s: string, i: number) => void, minLen = 0, maxLen = 1000): string[] | undefined {
  const v = b[name];
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.length < minLen || v.length > maxLen) throw badRequest(`${name} must be a list of ${minLen}..${maxLen} strings`);
  return v.map((s: unknown, i) => {
    if (typeof s !== 'string') throw badRequest(`${name}[${i}] must be a string`);
    check(s, i);
    return s;
  });
}

function cidr(s: string, name: string): void {
  const [addr, bits, extra] = s.split('/');
  const ok = extra === undefined && addr !== undefined && bits !== undefined && /^\d{1,3}$/.test(bits) && ((isIPv4(addr) && Number(bits) <= 32) || (isIPv6(addr) && Number(bits) <= 128));
  if (!ok) throw badRequest(`${name} ${s} is not a CIDR block`);
}

function strip<T extends Record<string, unknown>>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

function termination(v: unknown): Record<string, unknown> {
  const t = obj(v, 'Termination');
  const doc = strip({
    CpsLimit: optInt(t, 'CpsLimit', 1, 1_000_000) ?? 1,
    DefaultPhoneNumber: t.DefaultPhoneNumber === undefined ? undefined : checkString('DefaultPhoneNumber', t.DefaultPhoneNumber, 2, 16, E164),
    CallingRegions: strings(t, 'CallingRegions', (s, i) => checkString(`CallingRegions[${i}]`, s, 2, 2, ALPHA2), 1, 300),
    CidrAllowedList: strings(t, 'CidrAllowedList', (s, i) => cidr(s, `CidrAllowedList[${i}]`), 0, 100),
    Disabled: optBool(t, 'Disabled'),
  });
  // Documented as required although the model does not mark it (reference §2.2).
  if (doc.CallingRegions === undefined) throw badRequest('Termination.CallingRegions is required');
  return doc;
}

function origination(v: unknown): Record<string, unknown> {
  const o = obj(v, 'Origination');
  const routesRaw = o.Routes;
  const disabled = optBool(o, 'Disabled');
  if (routesRaw === undefined && disabled === undefined) throw badRequest('Origination needs Routes or Disabled');
  let routes: Record<string, unknown>[] | undefined;
  if (routesRaw !== undefined) {
    if (!Array.isArray(routesRaw) || routesRaw.length > 20) throw badRequest('Origination.Routes must be a list of at most 20 routes');
    routes = routesRaw.map((r: unknown, i) => {
      const x = bodyOf(r);
      const host = checkString(`Routes[${i}].Host`, x.Host, 1, 253, /\S/);
      const proto = x.Protocol;
      if (proto !== undefined && proto !== 'TCP' && proto !== 'UDP') throw badRequest(`Routes[${i}].Protocol must be TCP or UDP`);
      return strip({ Host: host, Port: optInt(x, 'Port', 0, 65535) ?? 5060, Protocol: proto, Priority: optInt(x, 'Priority', 1, 100), Weight: optInt(x, 'Weight', 1, 100) });
    });
  }
  return strip({ Routes: routes, Disabled: disabled });
}

function streaming(v: unknown): Record<string, unknown> {
  const s = obj(v, 'StreamingConfiguration');
  const retention = reqInt(s, 'DataRetentionInHours', 0, 1_000_000);
  const disabled = optBool(s, 'Disabled');
  if (disabled === undefined) throw badRequest('StreamingConfiguration.Disabled is required');
  const targetsRaw = s.StreamingNotificationTargets;
  let targets: { NotificationTarget: string }[] | undefined;
  if (targetsRaw !== undefined) {
    if (!Array.isArray(targetsRaw) || targetsRaw.length < 1 || targetsRaw.length > 3) throw badRequest('StreamingNotificationTargets must hold 1..3 targets');
    targets = targetsRaw.map((t: unknown, i) => {
      const nt = bodyOf(t).NotificationTarget;
      if (nt !== undefined && nt !== 'EventBridge' && nt !== 'SNS' && nt !== 'SQS') throw badRequest(`StreamingNotificationTargets[${i}].NotificationTarget must be EventBridge, SNS or SQS`);
      return strip({ NotificationTarget: nt as string });
    });
  }
  let mic: Record<string, unknown> | undefined;
  if (s.MediaInsightsConfiguration !== undefined) {
    const m = bodyOf(s.MediaInsightsConfiguration);
    mic = strip({ Disabled: optBool(m, 'Disabled'), ConfigurationArn: m.ConfigurationArn === undefined ? undefined : checkString('ConfigurationArn', m.ConfigurationArn, 1, 1024, /^arn[/:\-_.a-zA-Z0-9]+$/) });
  }
  return strip({ DataRetentionInHours: retention, Disabled: disabled, StreamingNotificationTargets: targets, MediaInsightsConfiguration: mic });
}

function logging(v: unknown): Record<string, unknown> {
  const l = obj(v, 'LoggingConfiguration');
  return strip({ EnableSIPLogs: optBool(l, 'EnableSIPLogs'), EnableMediaMetricLogs: optBool(l, 'EnableMediaMetricLogs') });
}

function emergency(v: unknown): Record<string, unknown> {
  const e = obj(v, 'EmergencyCallingConfiguration');
  const raw = e.DNIS;
  if (raw === undefined) return {};
  if (!Array.isArray(raw)) throw badRequest('DNIS must be a list');
  return {
    DNIS: raw.map((d: unknown, i) => {
      const x = bodyOf(d);
      return strip({
        EmergencyPhoneNumber: checkString(`DNIS[${i}].EmergencyPhoneNumber`, x.EmergencyPhoneNumber, 2, 16, E164),
        TestPhoneNumber: x.TestPhoneNumber === undefined ? undefined : checkString(`DNIS[${i}].TestPhoneNumber`, x.TestPhoneNumber, 2, 16, E164),
        CallingCountry: checkString(`DNIS[${i}].CallingCountry`, x.CallingCountry, 2, 2, ALPHA2),
      });
    }),
  };
}

const SBC = ['RIBBON_SBC', 'ORACLE_ACME_PACKET_SBC', 'AVAYA_SBCE', 'CISCO_UNIFIED_BORDER_ELEMENT', 'AUDIOCODES_MEDIANT_SBC'];
const CCS = ['GENESYS_ENGAGE_ON_PREMISES', 'AVAYA_AURA_CALL_CENTER_ELITE', 'AVAYA_AURA_CONTACT_CENTER', 'CISCO_UNIFIED_CONTACT_CENTER_ENTERPRISE'];

function externalSystems(b: Body): Record<string, unknown> {
  const oneOf = (values: string[]) => (s: string, _i: number): void => {
    if (!values.includes(s)) throw badRequest(`${s} must be one of ${values.join(', ')}`);
  };
  return strip({ SessionBorderControllerTypes: strings(b, 'SessionBorderControllerTypes', oneOf(SBC)), ContactCenterSystemTypes: strings(b, 'ContactCenterSystemTypes', oneOf(CCS)) });
}

function proxy(b: Body): Record<string, unknown> {
  return strip({
    DefaultSessionExpiryMinutes: reqInt(b, 'DefaultSessionExpiryMinutes', 0, 1_000_000),
    PhoneNumberCountries: strings(b, 'PhoneNumberPoolCountries', (s, i) => checkString(`PhoneNumberPoolCountries[${i}]`, s, 0, 2, /^$|^[A-Z]{2,2}$/), 1, 100) ?? (() => {
      throw badRequest('PhoneNumberPoolCountries is required');
    })(),
    FallBackPhoneNumber: b.FallBackPhoneNumber === undefined ? undefined : checkString('FallBackPhoneNumber', b.FallBackPhoneNumber, 2, 16, E164),
    Disabled: optBool(b, 'Disabled'),
  });
}

interface DocRoute {
  readonly path: string;
  readonly kind: Kind;
  /** Member name in requests and responses. */
  readonly member: string;
  readonly ops: { readonly put: string; readonly get: string; readonly del?: string };
  /** Reads the request body into the stored document. */
  readonly read: (body: Body) => Record<string, unknown>;
}

const DOCS: readonly DocRoute[] = [
  { path: 'termination', kind: 'termination', member: 'Termination', ops: { put: 'PutVoiceConnectorTermination', get: 'GetVoiceConnectorTermination', del: 'DeleteVoiceConnectorTermination' }, read: (b) => termination(b.Termination) },
  { path: 'origination', kind: 'origination', member: 'Origination', ops: { put: 'PutVoiceConnectorOrigination', get: 'GetVoiceConnectorOrigination', del: 'DeleteVoiceConnectorOrigination' }, read: (b) => origination(b.Origination) },
  { path: 'streaming-configuration', kind: 'streaming', member: 'StreamingConfiguration', ops: { put: 'PutVoiceConnectorStreamingConfiguration', get: 'GetVoiceConnectorStreamingConfiguration', del: 'DeleteVoiceConnectorStreamingConfiguration' }, read: (b) => streaming(b.StreamingConfiguration) },
  { path: 'logging-configuration', kind: 'logging', member: 'LoggingConfiguration', ops: { put: 'PutVoiceConnectorLoggingConfiguration', get: 'GetVoiceConnectorLoggingConfiguration' }, read: (b) => logging(b.LoggingConfiguration) },
  { path: 'emergency-calling-configuration', kind: 'emergency', member: 'EmergencyCallingConfiguration', ops: { put: 'PutVoiceConnectorEmergencyCallingConfiguration', get: 'GetVoiceConnectorEmergencyCallingConfiguration', del: 'DeleteVoiceConnectorEmergencyCallingConfiguration' }, read: (b) => emergency(b.EmergencyCallingConfiguration) },
  { path: 'programmable-numbers/proxy', kind: 'proxy', member: 'Proxy', ops: { put: 'PutVoiceConnectorProxy', get: 'GetVoiceConnectorProxy', del: 'DeleteVoiceConnectorProxy' }, read: proxy },
  { path: 'external-systems-configuration', kind: 'external-systems', member: 'ExternalSystemsConfiguration', ops: { put: 'PutVoiceConnectorExternalSystemsConfiguration', get: 'GetVoiceConnectorExternalSystemsConfiguration', del: 'DeleteVoiceConnectorExternalSystemsConfiguration' }, read: externalSystems },
];

/** RFC 7616 HA1 = H(username ":" realm ":" password). */
export function ha1(algorithm: 'md5' | 'sha256', username: string, realm: string, password: string): string {
  return crypto.createHash(algorithm).update(`${username}:${realm}:${password}`).digest('hex');
}

export function registerVoiceConnectorConfigRoutes(app: FastifyInstance, deps: ChimeApiDeps): void {
  const { db } = deps.store;
  const now = (): string => new Date(deps.clock.nowMs()).toISOString();
  const exists = async (id: string): Promise<void> => {
    const r = await db.selectFrom('voice_connectors').select('id').where('id', '=', id).executeTakeFirst();
    if (r === undefined) throw notFound(`VoiceConnector ${id} not found`);
  };

  for (const d of DOCS) {
    const url = `/voice-connectors/:voiceConnectorId/${d.path}`;
    app.put(url, { config: { action: `chime:${d.ops.put}` } }, async (req) => {
      const id = idParam(req.params, 'voiceConnectorId');
      const doc = d.read(bodyOf(req.body));
      await exists(id);
      const body = JSON.stringify(doc);
      await db.transaction().execute(async (tx) => {
        await tx.deleteFrom('voice_connector_documents').where('voice_connector_id', '=', id).where('kind', '=', d.kind).execute();
        await tx.insertInto('voice_connector_documents').values({ voice_connector_id: id, kind: d.kind, body, updated_at: now() }).execute();
      });
      return { [d.member]: doc };
    });
    app.get(url, { config: { action: `chime:${d.ops.get}` } }, async (req) => {
      const id = idParam(req.params, 'voiceConnectorId');
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
      app.delete(url, { config: { action: `chime:${del}` } }, async (req, reply) => {
        const id = idParam(req.params, 'voiceConnectorId');
        await exists(id);
        const r = await db.deleteFrom('voice_connector_documents').where('voice_connector_id', '=', id).where('kind', '=', d.kind).executeTakeFirst();
        if (Number(r.numDeletedRows) === 0) throw notFound(`VoiceConnector ${id} has no ${d.member}`);
        return reply.code(204).send();
      });
    }
  }

  // Termination credentials: POST …/termination/credentials?operation=put|delete, GET lists usernames.
  const credentialActions = { put: 'chime:PutVoiceConnectorTerminationCredentials', delete: 'chime:DeleteVoiceConnectorTerminationCredentials' };
  app.post('/voice-connectors/:voiceConnectorId/termination/credentials', { config: { actionByOperation: credentialActions } }, async (req, reply) => {
    const id = idParam(req.params, 'voiceConnectorId');
    const op = (req.query as Record<string, string | undefined>).operation;
    const b = bodyOf(req.body);
    if (op !== 'put' && op !== 'delete') throw new ChimeError('BadRequestException', 'operation must be put or delete');
    await exists(id);
    const realm = `${id}.voiceconnector.${deps.domain}`;
    if (op === 'put') {
      const raw = b.Credentials;
      if (raw !== undefined && !Array.isArray(raw)) throw badRequest('Credentials must be a list');
      const creds = ((raw ?? []) as unknown[]).map((c, i) => {
        const x = bodyOf(c);
        return { user: checkString(`Credentials[${i}].Username`, x.Username, 1, 128, /^[^\s:]+$/), pass: checkString(`Credentials[${i}].Password`, x.Password, 1, 256) };
      });
      await db.transaction().execute(async (tx) => {
        for (const c of creds) {
          await tx.deleteFrom('termination_credentials').where('voice_connector_id', '=', id).where('username', '=', c.user).execute();
          await tx
            .insertInto('termination_credentials')
            .values({ voice_connector_id: id, username: c.user, realm, ha1_md5: ha1('md5', c.user, realm, c.pass), ha1_sha256: ha1('sha256', c.user, realm, c.pass), created_at: now() })
            .execute();
        }
      });
    } else {
      const users = b.Usernames;
      if (!Array.isArray(users) || users.some((u) => typeof u !== 'string')) throw badRequest('Usernames is required: a list of strings');
      for (const u of users as string[]) await db.deleteFrom('termination_credentials').where('voice_connector_id', '=', id).where('username', '=', u).execute();
    }
    return reply.code(204).send();
  });

  app.get('/voice-connectors/:voiceConnectorId/termination/credentials', { config: { action: 'chime:ListVoiceConnectorTerminationCredentials' } }, async (req) => {
    const id = idParam(req.params, 'voiceConnectorId');
    await exists(id);
    const rows = await db.selectFrom('termination_credentials').select('username').where('voice_connector_id', '=', id).orderBy('username').execute();
    return { Usernames: rows.map((r) => r.username) };
  });

  app.get('/voice-connectors/:voiceConnectorId/termination/health', { config: { action: 'chime:GetVoiceConnectorTerminationHealth' } }, async (req) => {
    const id = idParam(req.params, 'voiceConnectorId');
    await exists(id);
    const r = await db.selectFrom('voice_connector_documents').select('body').where('voice_connector_id', '=', id).where('kind', '=', 'termination-health').executeTakeFirst();
    return { TerminationHealth: r === undefined ? {} : (JSON.parse(r.body) as unknown) };
  });
}
