import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  AssociatePhoneNumbersWithVoiceConnectorCommand,
  ChimeSDKVoiceClient,
  CreatePhoneNumberOrderCommand,
  CreateVoiceConnectorCommand,
  PutVoiceConnectorTerminationCommand,
  PutVoiceConnectorTerminationCredentialsCommand,
} from '@aws-sdk/client-chime-sdk-voice';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedFetch } from '../support/chime-api.ts';
import { freePort } from '../support/ports.ts';
import { startTestServer } from '../support/server.ts';
import type { TestServer } from '../support/server.ts';
import { killAllSipp, realErrors, runSipp, startSipp } from '../support/sipp.ts';
import type { SippResult } from '../support/sipp.ts';
import { farEnd, trunkCaller } from '../support/sipp-trunk-scenarios.ts';

/**
 * Termination (PBX → phone network) through a voice connector configured with the official SDK:
 * SIPp plays the PBX and the carrier; every refusal has its SIP status and its metric.
 */
afterAll(() => killAllSipp());

const DIALED = '+14155550123';
const PBX_NUMBER = '+12065550111';
const DEFAULT_NUMBER = '+12065550199';

describe('voice connector termination: PBX (SIPp) → Carillon → carrier (SIPp)', () => {
  let t: TestServer;
  let voice: ChimeSDKVoiceClient;
  let key: { accessKeyId: string; secretAccessKey: string };
  let vcId = '';
  let vcHost = '';
  let carrierPort = 0;
  const api = (method: string, p: string, body?: unknown): Promise<Response> => signedFetch(`http://127.0.0.1:${t.ports.api}`, key, method, p, body);
  const metric = async (name: string): Promise<number> => {
    const text = await (await fetch(`http://127.0.0.1:${t.ports.api}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(`voice_connector_id="${vcId}"`));
    return line === undefined ? 0 : Number(line.split(' ').at(-1));
  };
  const pbx = async (opts: Omit<Parameters<typeof trunkCaller>[0], 'host' | 'from'> & { from?: string; localIp?: string; service?: string; calls?: number; rate?: number }): Promise<SippResult> =>
    runSipp({
      scenario: { name: 'pbx', xml: trunkCaller({ host: vcHost, from: opts.from ?? PBX_NUMBER, expect: opts.expect, ...(opts.auth === undefined ? {} : { auth: opts.auth }) }) },
      remote: `127.0.0.1:${t.ports.sipUdp}`,
      port: await freePort(),
      transport: 'udp',
      calls: opts.calls ?? 1,
      ...(opts.rate === undefined ? {} : { rate: opts.rate }),
      service: opts.service ?? DIALED,
      timeoutSec: 20,
      ...(opts.localIp === undefined ? {} : { localIp: opts.localIp }),
    });

  beforeAll(async () => {
    t = await startTestServer();
    const creds = JSON.parse(readFileSync(path.join(t.dataDir, 'admin-credentials.json'), 'utf8')) as { AccessKeyId: string; SecretAccessKey: string };
    key = { accessKeyId: creds.AccessKeyId, secretAccessKey: creds.SecretAccessKey };
    voice = new ChimeSDKVoiceClient({ endpoint: `http://127.0.0.1:${t.ports.api}`, region: 'us-east-1', credentials: key });
    const vc = (await voice.send(new CreateVoiceConnectorCommand({ Name: 'pbx trunk', RequireEncryption: false }))).VoiceConnector;
    vcId = vc?.VoiceConnectorId ?? '';
    vcHost = vc?.OutboundHostName ?? '';
    await voice.send(new PutVoiceConnectorTerminationCommand({ VoiceConnectorId: vcId, Termination: { CallingRegions: ['US'], CidrAllowedList: ['127.0.0.1/32'], CpsLimit: 100, DefaultPhoneNumber: DEFAULT_NUMBER } }));
    await voice.send(new PutVoiceConnectorTerminationCredentialsCommand({ VoiceConnectorId: vcId, Credentials: [{ Username: 'pbx', Password: 'trunk-secret' }] }));
    // The PBX's own number belongs to the voice connector; the caller ID of other From numbers becomes the default.
    expect((await api('POST', '/carillon/v1/phone-number-inventory', { PhoneNumbers: [{ E164PhoneNumber: PBX_NUMBER, Type: 'Local', Country: 'US' }] })).status).toBe(200);
    await voice.send(new CreatePhoneNumberOrderCommand({ ProductType: 'VoiceConnector', E164PhoneNumbers: [PBX_NUMBER] }));
    await voice.send(new AssociatePhoneNumbersWithVoiceConnectorCommand({ VoiceConnectorId: vcId, E164PhoneNumbers: [PBX_NUMBER] }));
    carrierPort = await freePort();
    const created = await api('POST', '/carillon/v1/carriers', { Name: 'upstream', Host: '127.0.0.1', Port: carrierPort, Protocol: 'UDP', Priority: 1, Weight: 1, Prefixes: ['+1'] });
    expect(created.status).toBe(201);
  });

  afterAll(async () => {
    voice?.destroy();
    await t?.close();
  });

  it('a PBX with the right source and credentials reaches the carrier; its own number is the caller ID', async () => {
    const carrier = startSipp({ scenario: { name: 'carrier', xml: farEnd({ answer: true, check: [{ header: 'From', regexp: PBX_NUMBER.replace('+', '\\+') }] }) }, port: carrierPort, transport: 'udp', calls: 1, timeoutSec: 20 });
    await new Promise((r) => setTimeout(r, 200));
    const r = await pbx({ expect: 'answer', auth: { username: 'pbx', password: 'trunk-secret' } });
    const c = await carrier.done;
    expect(realErrors(r) + realErrors(c)).toBe('');
    expect([r.successful, c.successful]).toEqual([1, 1]);
    expect((await t.waitIdle()).calls).toBe(0);
    expect(await metric('carillon_voice_connector_outbound_call_attempts_total')).toBe(1);
    expect(await metric('carillon_voice_connector_outbound_calls_answered_total')).toBe(1);
    expect(await metric('carillon_voice_connector_outbound_calls_active')).toBe(0);
  });

  it('a From number the voice connector does not own goes out as DefaultPhoneNumber', async () => {
    const carrier = startSipp({ scenario: { name: 'carrier', xml: farEnd({ answer: true, check: [{ header: 'From', regexp: DEFAULT_NUMBER.replace('+', '\\+') }] }) }, port: carrierPort, transport: 'udp', calls: 1, timeoutSec: 20 });
    await new Promise((r) => setTimeout(r, 200));
    const r = await pbx({ expect: 'answer', from: '+12065550000', auth: { username: 'pbx', password: 'trunk-secret' } });
    const c = await carrier.done;
    expect(realErrors(r) + realErrors(c)).toBe('');
    expect([r.successful, c.successful]).toEqual([1, 1]);
  });

  it('refuses with the right status and counts every refusal: wrong source, no or wrong credentials, region, disabled', async () => {
    const before = await metric('carillon_voice_connector_outbound_call_failures_total');
    // The source is checked before credentials: a stranger is not even challenged.
    const wrongSource = await pbx({ expect: 403, localIp: '127.0.0.2' });
    expect(wrongSource.successful, realErrors(wrongSource)).toBe(1);
    const noCredentials = await pbx({ expect: 407 });
    expect(noCredentials.successful, realErrors(noCredentials)).toBe(1);
    const wrongPassword = await pbx({ expect: 403, auth: { username: 'pbx', password: 'not-it' } });
    expect(wrongPassword.successful, realErrors(wrongPassword)).toBe(1);
    const region = await pbx({ expect: 403, service: '+442071838750', auth: { username: 'pbx', password: 'trunk-secret' } });
    expect(region.successful, realErrors(region)).toBe(1);
    await voice.send(new PutVoiceConnectorTerminationCommand({ VoiceConnectorId: vcId, Termination: { CallingRegions: ['US'], CidrAllowedList: ['127.0.0.1/32'], CpsLimit: 100, Disabled: true } }));
    const disabled = await pbx({ expect: 403 });
    expect(disabled.successful, realErrors(disabled)).toBe(1);
    await voice.send(new PutVoiceConnectorTerminationCommand({ VoiceConnectorId: vcId, Termination: { CallingRegions: ['US'], CidrAllowedList: ['127.0.0.1/32'], CpsLimit: 100, DefaultPhoneNumber: DEFAULT_NUMBER } }));
    // Four refusals (the 407 challenge is not one: the PBX is expected to answer it).
    expect((await metric('carillon_voice_connector_outbound_call_failures_total')) - before).toBe(4);
    expect((await t.waitIdle()).calls).toBe(0);
  });

  it('CpsLimit 1 with a burst of 5 calls in a second: the excess gets 503 and Throttles counts it exactly', async () => {
    await voice.send(new PutVoiceConnectorTerminationCommand({ VoiceConnectorId: vcId, Termination: { CallingRegions: ['US'], CidrAllowedList: ['127.0.0.1/32'], CpsLimit: 1 } }));
    const throttledBefore = await metric('carillon_voice_connector_throttles_total');
    const carrier = startSipp({ scenario: { name: 'carrier', xml: farEnd({ answer: true }) }, port: carrierPort, transport: 'udp', calls: 5, timeoutSec: 8 });
    await new Promise((r) => setTimeout(r, 200));
    const r = await pbx({ expect: 'answer', calls: 5, rate: 5, auth: { username: 'pbx', password: 'trunk-secret' } });
    carrier.kill();
    const answered = r.successful;
    expect(answered).toBeGreaterThanOrEqual(1);
    expect(answered + r.failed).toBe(5);
    expect((await metric('carillon_voice_connector_throttles_total')) - throttledBefore).toBe(r.failed);
    expect(r.failed).toBeGreaterThanOrEqual(3);
    expect(r.output).toMatch(/503/);
    await t.waitIdle();
  });
});
