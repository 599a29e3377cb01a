import {
  AccessDeniedException,
  BadRequestException,
  CreateVoiceConnectorCommand,
  DeleteVoiceConnectorCommand,
  ForbiddenException,
  ThrottledClientException,
  GetVoiceConnectorCommand,
  ListAvailableVoiceConnectorRegionsCommand,
  NotFoundException,
  paginateListVoiceConnectors,
  UpdateVoiceConnectorCommand,
} from '@aws-sdk/client-chime-sdk-voice';
import type { ChimeSDKVoiceClient } from '@aws-sdk/client-chime-sdk-voice';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessKey } from '../../control-plane/store/access-keys.ts';
import type { Store } from '../../control-plane/store/store.ts';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '../../control-plane/api/sigv4.ts';
import { startChimeApi } from '../support/chime-api.ts';
import type { ChimeApiUnderTest } from '../support/chime-api.ts';

describe.each(['sqlite', 'postgres'] as const)('voice connectors through the official SDK client (%s store)', (backend) => {
  let api: ChimeApiUnderTest;
  let store: Store;
  let endpoint: string;
  let admin: AccessKey;
  let readOnly: AccessKey;
  const client = (key: AccessKey, region = 'eu-west-2'): ChimeSDKVoiceClient => api.client(key, region);

  beforeAll(async () => {
    api = await startChimeApi(backend);
    ({ store, endpoint, admin, readOnly } = api);
  });

  afterAll(async () => {
    await api.close();
  });

  it('creates, reads, updates, lists across pages and deletes voice connectors', async () => {
    const c = client(admin);
    const created = await c.send(new CreateVoiceConnectorCommand({ Name: 'pbx-main', RequireEncryption: false, AwsRegion: 'eu-west-2', Tags: [{ Key: 'team', Value: 'voice' }] }));
    const vc = created.VoiceConnector;
    expect(created.$metadata.httpStatusCode).toBe(201);
    expect(vc?.VoiceConnectorId).toMatch(/^[a-z0-9]{22}$/);
    expect(vc?.OutboundHostName).toBe(`${vc?.VoiceConnectorId}.voiceconnector.carillon.test`);
    expect(vc?.CreatedTimestamp).toBeInstanceOf(Date);
    expect(vc?.VoiceConnectorArn).toBe(`arn:aws:chime:eu-west-2:000000000000:vc/${vc?.VoiceConnectorId}`);
    const id = vc?.VoiceConnectorId as string;
    const got = await c.send(new GetVoiceConnectorCommand({ VoiceConnectorId: id }));
    expect(got.VoiceConnector).toMatchObject({ Name: 'pbx-main', RequireEncryption: false, AwsRegion: 'eu-west-2' });
    const updated = await c.send(new UpdateVoiceConnectorCommand({ VoiceConnectorId: id, Name: 'pbx main 2', RequireEncryption: true }));
    expect(updated.VoiceConnector).toMatchObject({ Name: 'pbx main 2', RequireEncryption: true });
    // Default region when none is given.
    const ids = [id];
    for (let i = 0; i < 6; i++) ids.push((await c.send(new CreateVoiceConnectorCommand({ Name: `trunk-${i}`, RequireEncryption: i % 2 === 0 }))).VoiceConnector?.VoiceConnectorId as string);
    const listed: string[] = [];
    let pages = 0;
    for await (const page of paginateListVoiceConnectors({ client: c, pageSize: 3 }, {})) {
      pages++;
      for (const v of page.VoiceConnectors ?? []) listed.push(v.VoiceConnectorId as string);
    }
    expect(pages).toBe(3);
    expect(listed.sort()).toEqual([...ids].sort());
    const del = await c.send(new DeleteVoiceConnectorCommand({ VoiceConnectorId: id }));
    expect(del.$metadata.httpStatusCode).toBe(204);
    await expect(c.send(new GetVoiceConnectorCommand({ VoiceConnectorId: id }))).rejects.toBeInstanceOf(NotFoundException);
    const regions = await c.send(new ListAvailableVoiceConnectorRegionsCommand({}));
    expect(regions.VoiceConnectorRegions).toContain('us-east-1');
  });

  it('validates every input on the server (the SDK validates nothing)', async () => {
    const c = client(admin);
    for (const input of [
      { Name: '!!bad!!', RequireEncryption: false },
      { Name: 'ok' } as { Name: string; RequireEncryption: boolean },
      { Name: 'x'.repeat(257), RequireEncryption: false },
      { Name: 'ok', RequireEncryption: false, AwsRegion: 'mars-1' as 'us-east-1' },
    ]) {
      const err = await c.send(new CreateVoiceConnectorCommand(input)).catch((e: unknown) => e);
      expect(err, JSON.stringify(input).slice(0, 60)).toBeInstanceOf(BadRequestException);
      expect((err as BadRequestException).$metadata.httpStatusCode).toBe(400);
    }
    await expect(c.send(new GetVoiceConnectorCommand({ VoiceConnectorId: 'nosuchconnector0000000' }))).rejects.toBeInstanceOf(NotFoundException);
    await expect(c.send(new GetVoiceConnectorCommand({ VoiceConnectorId: '' }))).rejects.toSatisfy((e: unknown) => e instanceof BadRequestException || e instanceof NotFoundException);
  });

  it('refuses unsigned, wrongly signed and unknown-key requests (403), and writes with a read-only key', async () => {
    const unsigned = await fetch(`${endpoint}/voice-connectors`);
    expect(unsigned.status).toBe(403);
    expect(unsigned.headers.get('x-amzn-errortype')).toBe('ForbiddenException');
    expect(await unsigned.json()).toMatchObject({ Code: 'Forbidden' });
    await expect(client({ ...admin, secretAccessKey: 'wrong-secret' }).send(new ListAvailableVoiceConnectorRegionsCommand({}))).rejects.toBeInstanceOf(ForbiddenException);
    await expect(client({ ...admin, accessKeyId: 'AKIANOSUCHKEY0000000' }).send(new ListAvailableVoiceConnectorRegionsCommand({}))).rejects.toBeInstanceOf(ForbiddenException);
    const ro = client(readOnly, 'ap-southeast-2');
    await expect(ro.send(new ListAvailableVoiceConnectorRegionsCommand({}))).resolves.toBeDefined();
    await expect(ro.send(new CreateVoiceConnectorCommand({ Name: 'nope', RequireEncryption: false }))).rejects.toBeInstanceOf(AccessDeniedException);
    // Every call is in the audit log: who, from where, what, outcome.
    const audit = await store.db.selectFrom('audit').selectAll().where('access_key_id', '=', readOnly.accessKeyId).execute();
    expect(audit.map((a) => [a.action, a.status, a.outcome])).toEqual(
      expect.arrayContaining([
        ['chime:ListAvailableVoiceConnectorRegions', 200, 'Success'],
        ['chime:CreateVoiceConnector', 403, 'AccessDeniedException'],
      ]),
    );
    expect(audit[0]?.source_ip).toBe('127.0.0.1');
  });

  it('throttles a key past its rate with 429 ThrottledClientException (the SDK retries those)', async () => {
    // Its own server: a burst of 5 and (practically) no refill, so the count is exact.
    const tight = await startChimeApi(backend, { rateLimit: { perSec: 0.0001, burst: 5 } });
    try {
      const c = tight.client(tight.readOnly);
      const results: unknown[] = [];
      for (let i = 0; i < 8; i++) results.push(await c.send(new ListAvailableVoiceConnectorRegionsCommand({})).catch((e: unknown) => e));
      expect(results.filter((r) => r instanceof ThrottledClientException)).toHaveLength(3);
      expect((results[7] as ThrottledClientException).$metadata.httpStatusCode).toBe(429);
      // Another key has its own allowance.
      await expect(tight.client(tight.admin).send(new ListAvailableVoiceConnectorRegionsCommand({}))).resolves.toBeDefined();
    } finally {
      await tight.close();
    }
  });

  it('refuses a request signed more than 15 minutes ago (403)', async () => {
    const url = new URL(`${endpoint}/voice-connector-regions`);
    const signer = new SignatureV4({ service: 'chime', region: 'us-east-1', sha256: Sha256, credentials: { accessKeyId: admin.accessKeyId, secretAccessKey: admin.secretAccessKey } });
    const sign = (ms: number) => signer.sign({ method: 'GET', protocol: 'http:', hostname: url.host, path: url.pathname, query: {}, headers: { host: url.host } }, { signingDate: new Date(Date.now() - ms) });
    const fresh = await fetch(url, { headers: (await sign(60_000)).headers as Record<string, string> });
    expect(fresh.status).toBe(200);
    const old = await fetch(url, { headers: (await sign(16 * 60_000)).headers as Record<string, string> });
    expect(old.status).toBe(403);
    expect(await old.json()).toMatchObject({ Code: 'Forbidden', Message: expect.stringMatching(/expired/i) });
  });
});
