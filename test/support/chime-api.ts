import crypto from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ChimeClient } from '@aws-sdk/client-chime';
import { ChimeSDKVoiceClient } from '@aws-sdk/client-chime-sdk-voice';
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { systemClock } from '../../common/clock.ts';
import type { Clock } from '../../common/clock.ts';
import { createCryptoRandom } from '../../common/random.ts';
import { buildApp } from '../../control-plane/api/app.ts';
import { READ_ONLY_ACTIONS } from '../../control-plane/api/chime/policy.ts';
import { VOICE_CONNECTOR_REGIONS } from '../../control-plane/api/chime/voice-connectors.ts';
import { newAccessKey, putAccessKey, seedAdminKey } from '../../control-plane/store/access-keys.ts';
import type { AccessKey } from '../../control-plane/store/access-keys.ts';
import { dropPgSchema, openStore } from '../../control-plane/store/store.ts';
import { ConfigSnapshots } from '../../control-plane/config-snapshot.ts';
import { StoreMeetingDirectory } from '../../control-plane/meeting-directory.ts';
import type { LiveMeetings } from '../../signaling/calls/meeting-events.ts';
import { Sha256 } from '../../control-plane/api/sigv4.ts';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Store } from '../../control-plane/store/store.ts';

/** PostgreSQL for the store tests (the machine's server, trust auth); a fresh schema per run. */
export const PG_URL = process.env.CARILLON_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface ChimeApiUnderTest {
  readonly endpoint: string;
  readonly store: Store;
  readonly admin: AccessKey;
  readonly readOnly: AccessKey;
  readonly snapshots: ConfigSnapshots;
  /** The meeting directory, rebuilt after every change as the server's is. */
  readonly directory: StoreMeetingDirectory;
  /** A signed request with the admin key to a Carillon route (outside the SDK's operations). */
  signedFetch(method: string, pathAndQuery: string, body?: unknown): Promise<Response>;
  client(key?: AccessKey, region?: string): ChimeSDKVoiceClient;
  /** The legacy chime client (accounts and users), endpoint `<api>/chime`. */
  legacyClient(key?: AccessKey): ChimeClient;
  close(): Promise<void>;
}

/** A SigV4-signed request (service chime) to a Carillon API at `endpoint`, for routes no SDK client knows. */
export async function signedFetch(endpoint: string, key: { readonly accessKeyId: string; readonly secretAccessKey: string }, method: string, pathAndQuery: string, body?: unknown): Promise<Response> {
  const url = new URL(`${endpoint}${pathAndQuery}`);
  const text = body === undefined ? '' : JSON.stringify(body);
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = v;
  const headers: Record<string, string> = { host: url.host, ...(body === undefined ? {} : { 'content-type': 'application/json' }) };
  const signer = new SignatureV4({ service: 'chime', region: 'us-east-1', sha256: Sha256, credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey } });
  const signed = await signer.sign({ method, protocol: 'http:', hostname: url.host, path: url.pathname, query, headers, body: text });
  return fetch(url, { method, headers: signed.headers as Record<string, string>, ...(body === undefined ? {} : { body: text }) });
}

/** The API over real HTTP on 127.0.0.1 with a SQLite file or a PostgreSQL schema of its own. */
export async function startChimeApi(backend: 'sqlite' | 'postgres', opts: { clock?: Clock; rateLimit?: { perSec: number; burst: number }; liveMeetings?: LiveMeetings } = {}): Promise<ChimeApiUnderTest> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'carillon-cp-'));
  const schema = `carillon_test_${process.pid}_${crypto.randomBytes(3).toString('hex')}`;
  const store = backend === 'sqlite' ? await openStore(path.join(dir, 'carillon.sqlite')) : await openStore(PG_URL, { pgSchema: schema });
  const admin = await seedAdminKey(store, dir, {}, crypto.randomBytes, systemClock);
  if (admin === undefined) throw new Error('no admin key seeded');
  const readOnly = newAccessKey(crypto.randomBytes, READ_ONLY_ACTIONS);
  await putAccessKey(store, readOnly, systemClock);
  const snapshots = new ConfigSnapshots(store);
  await snapshots.refresh();
  const directory = new StoreMeetingDirectory(store);
  await directory.refresh();
  const app: FastifyInstance = buildApp({
    ready: () => true,
    metrics: new Registry(),
    chime: { store, clock: opts.clock ?? systemClock, signingClock: systemClock, random: createCryptoRandom(), domain: 'carillon.test', accountId: '000000000000', regions: VOICE_CONNECTOR_REGIONS, snapshots, directory, liveMeetings: opts.liveMeetings, rateLimit: opts.rateLimit },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  const endpoint = `http://127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}`;
  return {
    endpoint,
    store,
    admin,
    readOnly,
    snapshots,
    directory,
    signedFetch: (method, pathAndQuery, body) => signedFetch(endpoint, admin, method, pathAndQuery, body),
    legacyClient: (key = admin) =>
      new ChimeClient({ endpoint: `${endpoint}/chime`, region: 'us-east-1', credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey }, maxAttempts: 1 }),
    client: (key = admin, region = 'eu-west-2') =>
      new ChimeSDKVoiceClient({ endpoint, region, credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey }, maxAttempts: 1 }),
    async close() {
      await app.close();
      await store.close();
      if (backend === 'postgres') await dropPgSchema(PG_URL, schema);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
