import {
  AssociatePhoneNumbersWithVoiceConnectorCommand,
  CreatePhoneNumberOrderCommand,
  CreateVoiceConnectorCommand,
  CreateVoiceConnectorGroupCommand,
  PutVoiceConnectorOriginationCommand,
  PutVoiceConnectorTerminationCommand,
  PutVoiceConnectorTerminationCredentialsCommand,
} from '@aws-sdk/client-chime-sdk-voice';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigSnapshot } from '../../common/config-snapshot.ts';
import { startChimeApi } from '../support/chime-api.ts';
import type { ChimeApiUnderTest } from '../support/chime-api.ts';

describe('the configuration snapshot signaling reads, and the audit route', () => {
  let api: ChimeApiUnderTest;
  beforeAll(async () => {
    api = await startChimeApi('sqlite');
  });
  afterAll(async () => {
    await api.close();
  });

  it('is rebuilt whole after every change, before the caller gets its answer, and frozen', async () => {
    const seen: ConfigSnapshot[] = [];
    api.snapshots.onChange((s) => seen.push(s));
    const c = api.client();
    const g0 = api.snapshots.current.generation;
    const id = (await c.send(new CreateVoiceConnectorCommand({ Name: 'pbx', RequireEncryption: true }))).VoiceConnector?.VoiceConnectorId as string;
    expect(api.snapshots.current.voiceConnectors.get(id)).toMatchObject({ name: 'pbx', requireEncryption: true });
    await c.send(new PutVoiceConnectorTerminationCommand({ VoiceConnectorId: id, Termination: { CallingRegions: ['US'], CidrAllowedList: ['127.0.0.1/32'], CpsLimit: 2 } }));
    await c.send(new PutVoiceConnectorOriginationCommand({ VoiceConnectorId: id, Origination: { Routes: [{ Host: '127.0.0.1', Port: 5090, Protocol: 'UDP', Priority: 1, Weight: 1 }] } }));
    await c.send(new PutVoiceConnectorTerminationCredentialsCommand({ VoiceConnectorId: id, Credentials: [{ Username: 'pbx', Password: 'pw' }] }));
    const gid = (await c.send(new CreateVoiceConnectorGroupCommand({ Name: 'g', VoiceConnectorItems: [{ VoiceConnectorId: id, Priority: 1 }] }))).VoiceConnectorGroup?.VoiceConnectorGroupId as string;
    expect((await api.signedFetch('POST', '/carillon/v1/phone-number-inventory', { PhoneNumbers: [{ E164PhoneNumber: '+12065550100', Type: 'Local', Country: 'US' }] })).status).toBe(200);
    await c.send(new CreatePhoneNumberOrderCommand({ ProductType: 'VoiceConnector', E164PhoneNumbers: ['+12065550100'] }));
    await c.send(new AssociatePhoneNumbersWithVoiceConnectorCommand({ VoiceConnectorId: id, E164PhoneNumbers: ['+12065550100'] }));
    const s = api.snapshots.current;
    expect(s.generation).toBeGreaterThan(g0 + 5);
    const vc = s.voiceConnectors.get(id);
    expect(vc?.documents.termination).toMatchObject({ CpsLimit: 2, CidrAllowedList: ['127.0.0.1/32'] });
    expect(vc?.documents.origination).toMatchObject({ Routes: [{ Host: '127.0.0.1', Port: 5090 }] });
    expect(vc?.credentials.map((x) => x.username)).toEqual(['pbx']);
    expect(s.groups.get(gid)).toEqual([{ voiceConnectorId: id, priority: 1 }]);
    expect(s.numbers.get('+12065550100')).toEqual({ kind: 'VoiceConnectorId', id });
    expect(Object.isFrozen(vc)).toBe(true);
    expect(seen.at(-1)).toBe(s);
  });

  it('lists audit events, newest first, filtered by key or action', async () => {
    const res = await api.signedFetch('GET', `/carillon/v1/audit?action=chime:CreateVoiceConnector&max-results=5`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { AuditEvents: { Action: string; AccessKeyId: string; SourceIp: string; Status: number; Outcome: string }[] };
    expect(body.AuditEvents.length).toBeGreaterThan(0);
    expect(body.AuditEvents[0]).toMatchObject({ Action: 'chime:CreateVoiceConnector', AccessKeyId: api.admin.accessKeyId, SourceIp: '127.0.0.1', Status: 201, Outcome: 'Success' });
    const ro = await fetch(`${api.endpoint}/carillon/v1/audit`);
    expect(ro.status).toBe(403);
  });

  it('publishes an OpenAPI description of every route at /docs, from the schemas that validate requests', async () => {
    const res = await fetch(`${api.endpoint}/docs`);
    expect(res.status).toBe(200);
    type Schema = { type?: string; required?: string[]; properties?: Record<string, Schema>; maxLength?: number; oneOf?: (Schema & { title: string })[]; enum?: string[] };
    type Op = { operationId: string; summary: string; parameters: { name: string; in: string; required: boolean; schema: Schema }[]; requestBody?: { content: { 'application/json': { schema: Schema } } } };
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, Op>> };
    expect(doc.openapi).toBe('3.0.3');
    expect(doc.paths['/voice-connectors/{voiceConnectorId}']?.get?.operationId).toBe('GetVoiceConnector');
    expect(doc.paths['/voice-connectors/{voiceConnectorId}']?.get?.parameters).toEqual([{ name: 'voiceConnectorId', in: 'path', required: true, schema: { type: 'string', minLength: 1, pattern: '\\S' } }]);
    expect(doc.paths['/phone-numbers']?.post?.summary).toContain('BatchDeletePhoneNumber (?operation=batch-delete)');
    expect(doc.paths['/chime/accounts']?.post?.operationId).toBe('CreateAccount');
    expect(doc.paths['/voice-connector-regions']?.get?.operationId).toBe('ListAvailableVoiceConnectorRegions');

    // Request bodies and queries come from the validating schemas: what the document says is what the server enforces.
    const create = doc.paths['/voice-connectors']?.post?.requestBody?.content['application/json'].schema;
    expect(create?.required).toEqual(['Name', 'RequireEncryption']);
    const maxName = create?.properties?.Name?.maxLength ?? 0;
    expect(maxName).toBe(256);
    const tooLong = await api.signedFetch('POST', '/voice-connectors', { Name: 'n'.repeat(maxName + 1), RequireEncryption: false });
    expect(tooLong.status).toBe(400);
    expect(tooLong.headers.get('x-amzn-errortype')).toBe('BadRequestException');
    expect(((await tooLong.json()) as { Message: string }).Message).toMatch(/^Name .*256/);
    const batch = doc.paths['/phone-numbers']?.post?.requestBody?.content['application/json'].schema;
    expect(batch?.oneOf?.map((b) => b.title).sort()).toEqual(['BatchDeletePhoneNumber', 'BatchUpdatePhoneNumber']);
    const operation = doc.paths['/phone-numbers']?.post?.parameters.find((p) => p.name === 'operation');
    expect(operation).toMatchObject({ in: 'query', required: true, schema: { enum: ['batch-update', 'batch-delete'] } });
    const maxResults = doc.paths['/voice-connectors']?.get?.parameters.find((p) => p.name === 'max-results');
    expect(maxResults).toMatchObject({ in: 'query', required: false, schema: { type: 'integer', maximum: 100 } });
    const tooMany = await api.signedFetch('GET', '/voice-connectors?max-results=101');
    expect(tooMany.status).toBe(400);
    const unknownOperation = await api.signedFetch('POST', '/phone-numbers?operation=batch-nothing', {});
    expect(unknownOperation.status).toBe(404);
    expect(unknownOperation.headers.get('x-amzn-errortype')).toBe('NotFoundException');
    const operations = Object.values(doc.paths).flatMap((p) => Object.values(p).map((o) => o.operationId));
    expect(operations.length).toBeGreaterThan(60);
  });
});
