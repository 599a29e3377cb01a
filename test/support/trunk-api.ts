import { readFileSync } from 'node:fs';
import path from 'node:path';
import { AssociatePhoneNumbersWithVoiceConnectorCommand, ChimeSDKVoiceClient, CreatePhoneNumberOrderCommand } from '@aws-sdk/client-chime-sdk-voice';
import { signedFetch } from './chime-api.ts';
import type { TestServer } from './server.ts';

/** The Chime API of a test server, as its seeded admin: the SDK client, signed fetch for Carillon's own routes, and /metrics. */
export interface TrunkApi {
  readonly voice: ChimeSDKVoiceClient;
  api(method: string, p: string, body?: unknown): Promise<Response>;
  /** The value of `name` for one voice connector (or, with `match`, the series whose labels contain it); 0 when absent. */
  metric(name: string, match: string): Promise<number>;
  /** Puts numbers in the inventory, orders them and associates them with a voice connector. */
  ownNumbers(vcId: string, numbers: readonly string[]): Promise<void>;
  /** Adds numbers to the inventory and orders them (unassigned). */
  orderNumbers(numbers: readonly string[]): Promise<void>;
}

export function trunkApi(t: TestServer): TrunkApi {
  return trunkApiAt(`http://127.0.0.1:${t.ports.api}`, t.dataDir);
}

/** The same for a server at `endpoint` whose data directory (with the seeded admin key) is `dataDir`. */
export function trunkApiAt(endpoint: string, dataDir: string): TrunkApi {
  const creds = JSON.parse(readFileSync(path.join(dataDir, 'admin-credentials.json'), 'utf8')) as { AccessKeyId: string; SecretAccessKey: string };
  const key = { accessKeyId: creds.AccessKeyId, secretAccessKey: creds.SecretAccessKey };
  const voice = new ChimeSDKVoiceClient({ endpoint, region: 'us-east-1', credentials: key });
  const api = (method: string, p: string, body?: unknown): Promise<Response> => signedFetch(endpoint, key, method, p, body);
  const orderNumbers = async (numbers: readonly string[]): Promise<void> => {
    const r = await api('POST', '/carillon/v1/phone-number-inventory', { PhoneNumbers: numbers.map((n) => ({ E164PhoneNumber: n, Type: 'Local', Country: 'US' })) });
    if (r.status !== 200) throw new Error(`inventory import failed: ${r.status} ${await r.text()}`);
    await voice.send(new CreatePhoneNumberOrderCommand({ ProductType: 'VoiceConnector', E164PhoneNumbers: [...numbers] }));
  };
  return {
    voice,
    api,
    orderNumbers,
    async metric(name, match) {
      const text = await (await fetch(`${endpoint}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && (l.includes(`voice_connector_id="${match}"`) || l.includes(match)));
      return line === undefined ? 0 : Number(line.split(' ').at(-1));
    },
    async ownNumbers(vcId, numbers) {
      await orderNumbers(numbers);
      await voice.send(new AssociatePhoneNumbersWithVoiceConnectorCommand({ VoiceConnectorId: vcId, E164PhoneNumbers: [...numbers] }));
    },
  };
}
