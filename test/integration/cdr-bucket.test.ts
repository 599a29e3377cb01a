import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ListObjectsV2Command, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateVoiceConnectorCommand, PutVoiceConnectorTerminationCommand, UpdateGlobalSettingsCommand } from '@aws-sdk/client-chime-sdk-voice';
import S3rver from 's3rver';
import Value from 'typebox/value';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CdrSchema } from '../support/cdrs.ts';
import { freePort } from '../support/ports.ts';
import { startTestServer } from '../support/server.ts';
import { killAllSipp, realErrors, runSipp, startSipp } from '../support/sipp.ts';
import { farEnd, trunkCaller } from '../support/sipp-trunk-scenarios.ts';
import { trunkApi } from '../support/trunk-api.ts';

/**
 * CDRs to an S3-compatible bucket (s3rver, in process, on loopback): a CDR written while the
 * bucket is unreachable waits in the spool and reaches the bucket after a restart; with the
 * bucket up, each call's CDRs arrive under Chime's key layout and leave the spool.
 */
afterAll(() => killAllSipp());

const KEY = /^Amazon-Chime-Business-Calling-CDRs\/json\/\d{12}\/\d{4}\/\d{2}\/\d{2}\/[^/]+_\d{4}-\d{2}-\d{2}-\d{2}\.\d{2}\.\d{2}\.\d{3}_[0-9a-f-]{36}$/;

describe('CDRs in an S3-compatible bucket', () => {
  let s3server: S3rver;
  let s3dir = '';
  let endpoint = '';
  let data = '';
  let s3: S3Client;
  const savedEnv = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };

  beforeAll(async () => {
    s3dir = mkdtempSync(path.join(os.tmpdir(), 'carillon-s3-'));
    data = mkdtempSync(path.join(os.tmpdir(), 'carillon-cdr-data-'));
    s3server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: s3dir, configureBuckets: [{ name: 'cdrs' }] });
    const { port } = await s3server.run();
    endpoint = `http://127.0.0.1:${port}`;
    process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
    process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
    s3 = new S3Client({ endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  });

  afterAll(async () => {
    s3?.destroy();
    await s3server?.close();
    process.env.AWS_ACCESS_KEY_ID = savedEnv.id;
    process.env.AWS_SECRET_ACCESS_KEY = savedEnv.secret;
    if (savedEnv.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
    if (savedEnv.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
    rmSync(s3dir, { recursive: true, force: true });
    rmSync(data, { recursive: true, force: true });
  });

  const spooled = (): string[] => {
    try {
      return readdirSync(path.join(data, 'cdrs'), { recursive: true, encoding: 'utf8' }).filter((f) => /_[0-9a-f-]{36}$/.test(f));
    } catch {
      return [];
    }
  };
  const stored = async (): Promise<string[]> => ((await s3.send(new ListObjectsV2Command({ Bucket: 'cdrs' }))).Contents ?? []).map((o) => o.Key ?? '');

  /** One termination call PBX → carrier through a voice connector made for it. */
  async function call(t: Awaited<ReturnType<typeof startTestServer>>, first: boolean): Promise<void> {
    const api = trunkApi(t);
    let host: string;
    const carrierPort = await freePort();
    if (first) {
      const vc = (await api.voice.send(new CreateVoiceConnectorCommand({ Name: 'bucket trunk', RequireEncryption: false }))).VoiceConnector;
      await api.voice.send(new PutVoiceConnectorTerminationCommand({ VoiceConnectorId: vc?.VoiceConnectorId, Termination: { CallingRegions: ['US'], CidrAllowedList: ['127.0.0.1/32'], CpsLimit: 10 } }));
      host = vc?.OutboundHostName ?? '';
    } else {
      const list = await (await api.api('GET', '/voice-connectors')).json() as { VoiceConnectors: { OutboundHostName: string }[] };
      host = list.VoiceConnectors[0]?.OutboundHostName ?? '';
    }
    const carriers = await (await api.api('GET', '/carillon/v1/carriers')).json() as { Carriers: { CarrierId: string }[] };
    for (const c of carriers.Carriers) await api.api('DELETE', `/carillon/v1/carriers/${c.CarrierId}`);
    expect((await api.api('POST', '/carillon/v1/carriers', { Name: 'pstn', Host: '127.0.0.1', Port: carrierPort, Protocol: 'UDP', Priority: 1, Weight: 1 })).status).toBe(201);
    const carrier = startSipp({ scenario: { name: 'carrier', xml: farEnd({ answer: true }) }, port: carrierPort, transport: 'udp', calls: 1, timeoutSec: 20 });
    await new Promise((r) => setTimeout(r, 200));
    const r = await runSipp({ scenario: { name: 'pbx', xml: trunkCaller({ host, from: '+12065550111', expect: 'answer' }) }, remote: `127.0.0.1:${t.ports.sipUdp}`, port: await freePort(), transport: 'udp', calls: 1, service: '+14155550123', timeoutSec: 20 });
    const c = await carrier.done;
    expect(realErrors(r) + realErrors(c)).toBe('');
    expect([r.successful, c.successful]).toEqual([1, 1]);
    await t.waitIdle();
    api.voice.destroy();
  }

  it('keeps CDRs in the spool while the bucket is unreachable, stores them after a restart, and follows UpdateGlobalSettings', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const a = await startTestServer({ data, cdrBucket: 'cdrs', s3Endpoint: dead });
    await call(a, true);
    expect(spooled().length).toBe(2);
    await a.close();
    expect(await stored()).toEqual([]);

    // Back with the bucket reachable: the leftovers go first, then new calls' CDRs.
    const b = await startTestServer({ data, cdrBucket: 'cdrs', s3Endpoint: endpoint });
    const deadline = Date.now() + 10_000;
    while ((await stored()).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await call(b, false);
    const until = Date.now() + 10_000;
    while ((await stored()).length < 4 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    const keys = await stored();
    expect(keys.length).toBe(4);
    for (const k of keys) {
      expect(k).toMatch(KEY);
      const body = await (await s3.send(new GetObjectCommand({ Bucket: 'cdrs', Key: k }))).Body?.transformToString();
      expect(Value.Check(CdrSchema, JSON.parse(body ?? '{}'))).toBe(true);
    }
    expect(spooled()).toEqual([]);
    await b.close();

    // No flag: the bucket an admin sets with UpdateGlobalSettings, as in Chime.
    const c = await startTestServer({ data, s3Endpoint: endpoint });
    const admin = trunkApi(c);
    await admin.voice.send(new UpdateGlobalSettingsCommand({ VoiceConnector: { CdrBucket: 'cdrs' } }));
    admin.voice.destroy();
    await call(c, false);
    const last = Date.now() + 10_000;
    while ((await stored()).length < 6 && Date.now() < last) await new Promise((r) => setTimeout(r, 100));
    expect((await stored()).length).toBe(6);
    expect(spooled()).toEqual([]);
    await c.close();
  });
});
