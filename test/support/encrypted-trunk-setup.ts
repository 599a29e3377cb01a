/**
 * Run inside a test's network namespace (runScriptInNetns), where Carillon's API listens: sets up,
 * through the official SDK client and Carillon's carriers route, a voice connector that requires
 * encryption — termination from the PBX's address with digest credentials, its own number, a
 * carrier, and an origination route to the PBX — and prints `{ voiceConnectorId, outboundHostName }`.
 */
import {
  CreateVoiceConnectorCommand,
  PutVoiceConnectorLoggingConfigurationCommand,
  PutVoiceConnectorOriginationCommand,
  PutVoiceConnectorTerminationCommand,
  PutVoiceConnectorTerminationCredentialsCommand,
} from '@aws-sdk/client-chime-sdk-voice';
import { trunkApiAt } from './trunk-api.ts';

export interface EncryptedTrunkInput {
  readonly endpoint: string;
  readonly dataDir: string;
  readonly pbx: { readonly address: string; readonly tlsPort: number; readonly number: string; readonly username: string; readonly password: string };
  readonly carrier: { readonly address: string; readonly port: number };
}

const input = JSON.parse(process.argv[2] ?? '{}') as EncryptedTrunkInput;
const api = trunkApiAt(input.endpoint, input.dataDir);
const { voice } = api;
const vc = (await voice.send(new CreateVoiceConnectorCommand({ Name: 'encrypted pbx', RequireEncryption: true, AwsRegion: 'us-east-1' }))).VoiceConnector;
const id = vc?.VoiceConnectorId ?? '';
await voice.send(
  new PutVoiceConnectorTerminationCommand({
    VoiceConnectorId: id,
    Termination: { CallingRegions: ['US'], CidrAllowedList: [`${input.pbx.address}/32`], CpsLimit: 10, DefaultPhoneNumber: input.pbx.number, Disabled: false },
  }),
);
await voice.send(new PutVoiceConnectorTerminationCredentialsCommand({ VoiceConnectorId: id, Credentials: [{ Username: input.pbx.username, Password: input.pbx.password }] }));
// Protocol TCP as Chime took it; an encrypted voice connector is reached over TLS on the port given.
await voice.send(
  new PutVoiceConnectorOriginationCommand({
    VoiceConnectorId: id,
    Origination: { Routes: [{ Host: input.pbx.address, Port: input.pbx.tlsPort, Protocol: 'TCP', Priority: 1, Weight: 1 }], Disabled: false },
  }),
);
await voice.send(new PutVoiceConnectorLoggingConfigurationCommand({ VoiceConnectorId: id, LoggingConfiguration: { EnableSIPLogs: true, EnableMediaMetricLogs: true } }));
await api.ownNumbers(id, [input.pbx.number]);
const carrier = await api.api('POST', '/carillon/v1/carriers', { Name: 'carrier', Host: input.carrier.address, Port: input.carrier.port, Protocol: 'UDP', Priority: 1, Weight: 1 });
if (carrier.status !== 201) throw new Error(`carrier: ${carrier.status} ${await carrier.text()}`);
voice.destroy();
process.stdout.write(`${JSON.stringify({ voiceConnectorId: id, outboundHostName: vc?.OutboundHostName ?? '' })}\n`);
