import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  CreateVoiceConnectorCommand,
  PutVoiceConnectorEmergencyCallingConfigurationCommand,
  PutVoiceConnectorLoggingConfigurationCommand,
  GetVoiceConnectorTerminationHealthCommand,
  PutVoiceConnectorTerminationCommand,
  PutVoiceConnectorTerminationCredentialsCommand,
} from '@aws-sdk/client-chime-sdk-voice';
import type { ChimeSDKVoiceClient } from '@aws-sdk/client-chime-sdk-voice';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/ports.ts';
import { startTestServer } from '../support/server.ts';
import type { TestServer } from '../support/server.ts';
import { killAllSipp, realErrors, runSipp, startSipp } from '../support/sipp.ts';
import type { SippResult } from '../support/sipp.ts';
import { challengingCarrier, farEnd, trunkCaller, trunkOptions } from '../support/sipp-trunk-scenarios.ts';
import { trunkApi } from '../support/trunk-api.ts';
import { startStunnel } from '../support/stunnel.ts';
import { readCdrs } from '../support/cdrs.ts';
import { exchangeAudio } from '../support/streamed-trunk.ts';
import { RtpPeer, until } from '../support/rtp-peer.ts';
import type { MediaQualityRecord } from '../../media/quality/record.ts';
import type { Cdr } from '../support/cdrs.ts';
import type { TrunkApi } from '../support/trunk-api.ts';

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
  let api: TrunkApi;
  let voice: ChimeSDKVoiceClient;
  let vcId = '';
  let vcHost = '';
  let carrierPort = 0;
  let secondCarrierPort = 0;
  const metric = (name: string): Promise<number> => api.metric(name, vcId);
  const pbx = async (opts: Omit<Parameters<typeof trunkCaller>[0], 'host' | 'from'> & { from?: string; localIp?: string; service?: string; calls?: number; rate?: number; injection?: string[] }): Promise<SippResult> =>
    runSipp({
      scenario: { name: 'pbx', xml: trunkCaller({ ...opts, host: vcHost, from: opts.from ?? PBX_NUMBER, injectedMedia: opts.injection !== undefined }) },
      ...(opts.injection === undefined ? {} : { injection: opts.injection }),
      remote: `127.0.0.1:${t.ports.sipUdp}`,
      port: await freePort(),
      transport: 'udp',
      calls: opts.calls ?? 1,
      ...(opts.rate === undefined ? {} : { rate: opts.rate }),
      service: opts.service ?? DIALED,
      // Answers name the Request-URI, as a PBX's do.
      authUri: `${opts.service ?? DIALED}@${vcHost}`,
      timeoutSec: 20,
      ...(opts.localIp === undefined ? {} : { localIp: opts.localIp }),
    });

  beforeAll(async () => {
    t = await startTestServer({ sip: { optionsPingIntervalSec: 3600 } });
    api = trunkApi(t);
    voice = api.voice;
    const vc = (await voice.send(new CreateVoiceConnectorCommand({ Name: 'pbx trunk', RequireEncryption: false }))).VoiceConnector;
    vcId = vc?.VoiceConnectorId ?? '';
    vcHost = vc?.OutboundHostName ?? '';
    await voice.send(new PutVoiceConnectorTerminationCommand({ VoiceConnectorId: vcId, Termination: { CallingRegions: ['US'], CidrAllowedList: ['127.0.0.1/32'], CpsLimit: 100, DefaultPhoneNumber: DEFAULT_NUMBER } }));
    await voice.send(new PutVoiceConnectorTerminationCredentialsCommand({ VoiceConnectorId: vcId, Credentials: [{ Username: 'pbx', Password: 'trunk-secret' }] }));
    // The PBX's own number belongs to the voice connector; the caller ID of other From numbers becomes the default.
    await api.ownNumbers(vcId, [PBX_NUMBER]);
    carrierPort = await freePort();
    secondCarrierPort = await freePort();
    expect((await api.api('POST', '/carillon/v1/carriers', { Name: 'upstream', Host: '127.0.0.1', Port: carrierPort, Protocol: 'UDP', Priority: 1, Weight: 1, Prefixes: ['+1'] })).status).toBe(201);
    // A second carrier on another address, tried only when the first fails with 408/5xx.
    expect((await api.api('POST', '/carillon/v1/carriers', { Name: 'second', Host: '127.0.0.3', Port: secondCarrierPort, Protocol: 'UDP', Priority: 2, Weight: 1 })).status).toBe(201);
  });

  afterAll(async () => {
    api?.voice.destroy();
    await t?.close();
  });

  it('a PBX with the right source and credentials reaches the carrier with RTP both ways; its own number is the caller ID', async () => {
    const pbxMedia = await RtpPeer.open();
    const carrierMedia = await RtpPeer.open();
    const seen: string[] = [];
    let finalRecord: MediaQualityRecord | undefined;
    const off = t.server.events.on((e) => {
      if (e.type === 'refused') return;
      if (e.call.trunk?.voiceConnectorId !== vcId) return;
      seen.push(e.type === 'ended' ? `ended:${e.reason}` : e.type);
      if (e.type === 'quality') finalRecord = e.record;
    });
    const carrier = startSipp({
      scenario: { name: 'carrier', xml: farEnd({ answer: true, injectedMedia: true, check: [{ header: 'From', regexp: PBX_NUMBER.replace('+', '\\+') }] }) },
      port: carrierPort,
      transport: 'udp',
      calls: 1,
      timeoutSec: 20,
      injection: [String(carrierMedia.rtpPort)],
    });
    await new Promise((r) => setTimeout(r, 200));
    const placed = pbx({ expect: 'answer', pauseMs: 4000, auth: { username: 'pbx', password: 'trunk-secret' }, injection: [String(pbxMedia.rtpPort)] });
    // Carillon's media port for the PBX, from the answer it sent; the carrier side learns Carillon's from the first packet.
    await exchangeAudio(t, pbxMedia, carrierMedia);
    const r = await placed;
    const c = await carrier.done;
    pbxMedia.close();
    carrierMedia.close();
    expect(realErrors(r) + realErrors(c)).toBe('');
    expect([r.successful, c.successful]).toEqual([1, 1]);
    expect([carrierMedia.received.length, pbxMedia.received.length]).toEqual([100, 100]);
    // The call's events on the internal bus, in order, ending with its quality summary.
    await until(() => seen.includes('quality'), 5_000);
    off();
    expect(seen).toEqual(['started', 'ringing', 'answered', 'ended:caller-bye', 'quality']);
    expect(finalRecord).toMatchObject({ voice_connector_id: vcId, call_ended: true, cust2vc_rtp_packets: 100, rem2vc_rtp_packets: 100 });
    expect((await t.waitIdle()).calls).toBe(0);
    expect(await metric('carillon_voice_connector_outbound_call_attempts_total')).toBe(1);
    expect(await metric('carillon_voice_connector_outbound_calls_answered_total')).toBe(1);
    expect(await metric('carillon_voice_connector_outbound_calls_active')).toBe(0);
    // Chime's media metrics for the voice connector, from the call's quality records.
    expect(await api.metric('carillon_voice_connector_rtp_packets_total', `voice_connector_id="${vcId}",region="us-east-1",direction="customer_to_vc"`)).toBe(100);
    expect(await api.metric('carillon_voice_connector_rtp_packets_total', `voice_connector_id="${vcId}",region="us-east-1",direction="vc_to_remote"`)).toBe(100);
    const cdrs = readCdrs(t.dataDir);
    expect(cdrs.map((c) => c.Leg).sort()).toEqual(['Callee', 'Caller']);
    for (const c of cdrs) {
      expect(c).toMatchObject({ Direction: 'Outbound', Status: 'Completed', SipStatusCode: '200', VoiceConnectorId: vcId, CallerPhoneNumber: PBX_NUMBER, CallerCountry: 'US', DestinationPhoneNumber: DIALED, DestinationCountry: 'US', ServiceCode: 'AmazonChimeVoiceConnector' });
      expect(Number(c.BillableDurationSeconds)).toBeGreaterThanOrEqual(1);
    }
  });

  it('writes SIP message and media quality logs only when the logging configuration asks, credentials redacted', async () => {
    const dir = path.join(t.dataDir, 'logs', 'voice-connector', vcId);
    // The first call ran with logging off.
    expect(existsSync(path.join(dir, 'sip-messages.jsonl'))).toBe(false);
    expect(existsSync(path.join(dir, 'media-quality.jsonl'))).toBe(false);
    await voice.send(new PutVoiceConnectorLoggingConfigurationCommand({ VoiceConnectorId: vcId, LoggingConfiguration: { EnableSIPLogs: true, EnableMediaMetricLogs: true } }));
    const carrier = startSipp({ scenario: { name: 'carrier', xml: farEnd({ answer: true }) }, port: carrierPort, transport: 'udp', calls: 1, timeoutSec: 20 });
    await new Promise((r) => setTimeout(r, 200));
    const r = await pbx({ expect: 'answer', auth: { username: 'pbx', password: 'trunk-secret' } });
    await carrier.done;
    expect(r.successful, realErrors(r)).toBe(1);
    await t.waitIdle();
    await t.server.flushLogs();
    const lines = readFileSync(path.join(dir, 'sip-messages.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { voice_connector_id: string; aws_region: string; event_timestamp: string; call_id: string; sip_message: string });
    const firstLines = lines.map((l) => l.sip_message.split('\r\n')[0] ?? '');
    // Both legs: the PBX's challenged and authenticated INVITEs, the carrier's answer, the BYE and its 200.
    expect(firstLines.filter((l) => l.startsWith('INVITE ')).length).toBeGreaterThanOrEqual(3);
    expect(firstLines.some((l) => l.startsWith('SIP/2.0 407'))).toBe(true);
    expect(firstLines.some((l) => l.startsWith('BYE '))).toBe(true);
    expect(lines.every((l) => l.voice_connector_id === vcId && l.aws_region === 'us-east-1' && !Number.isNaN(Date.parse(l.event_timestamp)))).toBe(true);
    // The challenge exchange is logged under the PBX's Call-ID (no call existed yet), the call under its transaction id.
    expect(new Set(lines.map((l) => l.call_id)).size).toBeLessThanOrEqual(2);
    const all = lines.map((l) => l.sip_message).join('\n');
    expect(all).toMatch(/Proxy-Authorization: <redacted>/);
    expect(all).not.toMatch(/response=/);
    const quality = readFileSync(path.join(dir, 'media-quality.jsonl'), 'utf8').trim().split('\n');
    expect(quality.length).toBeGreaterThanOrEqual(1);
    await voice.send(new PutVoiceConnectorLoggingConfigurationCommand({ VoiceConnectorId: vcId, LoggingConfiguration: { EnableSIPLogs: false, EnableMediaMetricLogs: false } }));
  });

  it('asserts the caller in P-Asserted-Identity, keeps an anonymous caller anonymous, and never passes on an identity the trunk does not own', async () => {
    let carrier = startSipp({
      scenario: {
        name: 'carrier-privacy',
        xml: farEnd({
          answer: true,
          check: [
            { header: 'From', regexp: 'anonymous@anonymous\\.invalid' },
            { header: 'P-Asserted-Identity', regexp: PBX_NUMBER.replace('+', '\\+') },
            { header: 'Privacy', regexp: 'id' },
          ],
        }),
      },
      port: carrierPort,
      transport: 'udp',
      calls: 1,
      timeoutSec: 20,
    });
    await new Promise((r) => setTimeout(r, 200));
    let r = await pbx({ expect: 'answer', from: 'anonymous', extraHeaders: `P-Asserted-Identity: <sip:${PBX_NUMBER}@[local_ip]>\nPrivacy: id\n`, auth: { username: 'pbx', password: 'trunk-secret' } });
    let c = await carrier.done;
    expect(realErrors(r) + realErrors(c)).toBe('');
    expect([r.successful, c.successful]).toEqual([1, 1]);
    // A PBX asserting a number that is not the trunk's: the default number goes out instead, in From and PAI.
    const notOwned = DEFAULT_NUMBER.replace('+', '\\+');
    carrier = startSipp({ scenario: { name: 'carrier-pai', xml: farEnd({ answer: true, check: [{ header: 'From', regexp: notOwned }, { header: 'P-Asserted-Identity', regexp: notOwned }] }) }, port: carrierPort, transport: 'udp', calls: 1, timeoutSec: 20 });
    await new Promise((res) => setTimeout(res, 200));
    r = await pbx({ expect: 'answer', extraHeaders: 'P-Asserted-Identity: <sip:+12065550000@[local_ip]>\n', auth: { username: 'pbx', password: 'trunk-secret' } });
    c = await carrier.done;
    expect(realErrors(r) + realErrors(c)).toBe('');
    expect([r.successful, c.successful]).toEqual([1, 1]);
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
    // Credentials first (a stranger learns nothing of the trunk's state), then Disabled.
    const disabled = await pbx({ expect: 403, auth: { username: 'pbx', password: 'trunk-secret' } });
    expect(disabled.successful, realErrors(disabled)).toBe(1);
    await voice.send(new PutVoiceConnectorTerminationCommand({ VoiceConnectorId: vcId, Termination: { CallingRegions: ['US'], CidrAllowedList: ['127.0.0.1/32'], CpsLimit: 100, DefaultPhoneNumber: DEFAULT_NUMBER } }));
    // Four refusals (the 407 challenge is not one: the PBX is expected to answer it).
    expect((await metric('carillon_voice_connector_outbound_call_failures_total')) - before).toBe(4);
    expect((await t.waitIdle()).calls).toBe(0);
  });

  it('fails over to the next carrier on 503 but never on 486', async () => {
    let first = startSipp({ scenario: { name: 'carrier-503', xml: farEnd({ answer: false, status: '503 Service Unavailable' }) }, port: carrierPort, transport: 'udp', calls: 1, timeoutSec: 20 });
    let second = startSipp({ scenario: { name: 'carrier-2', xml: farEnd({ answer: true }) }, port: secondCarrierPort, localIp: '127.0.0.3', transport: 'udp', calls: 1, timeoutSec: 20 });
    await new Promise((r) => setTimeout(r, 200));
    const r = await pbx({ expect: 'answer', auth: { username: 'pbx', password: 'trunk-secret' } });
    const [a, b] = await Promise.all([first.done, second.done]);
    expect(realErrors(r) + realErrors(a) + realErrors(b)).toBe('');
    expect([r.successful, a.successful, b.successful]).toEqual([1, 1, 1]);

    first = startSipp({ scenario: { name: 'carrier-486', xml: farEnd({ answer: false, status: '486 Busy Here' }) }, port: carrierPort, transport: 'udp', calls: 1, timeoutSec: 20 });
    second = startSipp({ scenario: { name: 'carrier-2', xml: farEnd({ answer: true }) }, port: secondCarrierPort, localIp: '127.0.0.3', transport: 'udp', calls: 1, timeoutSec: 20 });
    await new Promise((r) => setTimeout(r, 200));
    const ended: { status: number | undefined; attempts: number }[] = [];
    const off = t.server.events.on((e) => {
      if (e.type === 'ended') ended.push({ status: e.status, attempts: e.call.attempts });
    });
    const busy = await pbx({ expect: 486, auth: { username: 'pbx', password: 'trunk-secret' } });
    const busyCarrier = await first.done;
    await second.stop();
    off();
    expect([busy.successful, busyCarrier.successful]).toEqual([1, 1]);
    // One attempt only: the second carrier never saw the call.
    expect(ended).toEqual([{ status: 486, attempts: 1 }]);
    expect((await t.waitIdle()).calls).toBe(0);
  });

  it('GetVoiceConnectorTerminationHealth reports the last OPTIONS the PBX sent', async () => {
    const before = Date.now();
    const r = await runSipp({ scenario: { name: 'options', xml: trunkOptions(vcHost) }, remote: `127.0.0.1:${t.ports.sipUdp}`, port: await freePort(), transport: 'udp', calls: 1, timeoutSec: 10 });
    expect(r.successful, realErrors(r)).toBe(1);
    // Stored right after the 200 went out: ask until it is there (bounded).
    let health = (await voice.send(new GetVoiceConnectorTerminationHealthCommand({ VoiceConnectorId: vcId }))).TerminationHealth;
    for (let i = 0; i < 20 && health?.Source === undefined; i++) {
      await new Promise((res) => setTimeout(res, 100));
      health = (await voice.send(new GetVoiceConnectorTerminationHealthCommand({ VoiceConnectorId: vcId }))).TerminationHealth;
    }
    expect(health?.Source).toBe('127.0.0.1');
    expect(health?.Timestamp?.getTime()).toBeGreaterThanOrEqual(before - 1000);
  });

  it('emergency numbers go to the configured DNIS ahead of every rule, even with CpsLimit spent and the trunk disabled', async () => {
    await voice.send(new PutVoiceConnectorEmergencyCallingConfigurationCommand({ VoiceConnectorId: vcId, EmergencyCallingConfiguration: { DNIS: [{ EmergencyPhoneNumber: '+12065550911', TestPhoneNumber: '+12065550933', CallingCountry: 'US' }] } }));
    await voice.send(new PutVoiceConnectorTerminationCommand({ VoiceConnectorId: vcId, Termination: { CallingRegions: ['GB'], CidrAllowedList: ['127.0.0.1/32'], CpsLimit: 1, Disabled: true } }));
    let carrier = startSipp({ scenario: { name: 'psap', xml: farEnd({ answer: true, check: [{ header: '', regexp: '^INVITE sip:\\+12065550911@' }] }) }, port: carrierPort, transport: 'udp', calls: 3, timeoutSec: 20 });
    await new Promise((r) => setTimeout(r, 200));
    const r = await pbx({ expect: 'answer', service: '911', calls: 3, rate: 10, auth: { username: 'pbx', password: 'trunk-secret' } });
    let c = await carrier.done;
    expect(realErrors(r) + realErrors(c)).toBe('');
    expect([r.successful, c.successful]).toEqual([3, 3]);
    carrier = startSipp({ scenario: { name: 'psap-test', xml: farEnd({ answer: true, check: [{ header: '', regexp: '^INVITE sip:\\+12065550933@' }] }) }, port: carrierPort, transport: 'udp', calls: 1, timeoutSec: 20 });
    await new Promise((r) => setTimeout(r, 200));
    const test = await pbx({ expect: 'answer', service: '933', auth: { username: 'pbx', password: 'trunk-secret' } });
    c = await carrier.done;
    expect([test.successful, c.successful]).toEqual([1, 1]);
    // An ordinary number on the same disabled trunk is still refused.
    const ordinary = await pbx({ expect: 403, auth: { username: 'pbx', password: 'trunk-secret' } });
    expect(ordinary.successful, realErrors(ordinary)).toBe(1);
    await voice.send(new PutVoiceConnectorTerminationCommand({ VoiceConnectorId: vcId, Termination: { CallingRegions: ['US'], CidrAllowedList: ['127.0.0.1/32'], CpsLimit: 100, DefaultPhoneNumber: DEFAULT_NUMBER } }));
    await t.waitIdle();
  });

  it('answers a carrier’s digest challenge with the carrier’s credentials', async () => {
    const carriers = (await (await api.api('GET', '/carillon/v1/carriers')).json()) as { Carriers: { CarrierId: string; Name: string }[] };
    const upstream = carriers.Carriers.find((c) => c.Name === 'upstream')?.CarrierId ?? '';
    const put = await api.api('PUT', `/carillon/v1/carriers/${upstream}`, { Name: 'upstream', Host: '127.0.0.1', Port: carrierPort, Protocol: 'UDP', Priority: 1, Weight: 1, Prefixes: ['+1'], Credentials: { Username: 'carillon', Password: 'carrier-pw' } });
    expect(put.status).toBe(200);
    // The password is never returned.
    expect(JSON.stringify(await put.json())).not.toContain('carrier-pw');
    const carrier = startSipp({ scenario: { name: 'carrier-auth', xml: challengingCarrier('carillon', 'carrier-pw') }, port: carrierPort, transport: 'udp', calls: 1, timeoutSec: 20 });
    await new Promise((r) => setTimeout(r, 200));
    const r = await pbx({ expect: 'answer', auth: { username: 'pbx', password: 'trunk-secret' } });
    const c = await carrier.done;
    expect(realErrors(r) + realErrors(c)).toBe('');
    expect([r.successful, c.successful]).toEqual([1, 1]);
    await api.api('PUT', `/carillon/v1/carriers/${upstream}`, { Name: 'upstream', Host: '127.0.0.1', Port: carrierPort, Protocol: 'UDP', Priority: 1, Weight: 1, Prefixes: ['+1'] });
  });

  it('a voice connector that requires encryption takes calls only over TLS with an SRTP offer', async () => {
    const secure = (await voice.send(new CreateVoiceConnectorCommand({ Name: 'encrypted trunk', RequireEncryption: true }))).VoiceConnector;
    await voice.send(new PutVoiceConnectorTerminationCommand({ VoiceConnectorId: secure?.VoiceConnectorId, Termination: { CallingRegions: ['US'], CidrAllowedList: ['127.0.0.1/32'], CpsLimit: 10 } }));
    const host = secure?.OutboundHostName ?? '';
    const overUdp = await runSipp({ scenario: { name: 'pbx-udp', xml: trunkCaller({ host, from: PBX_NUMBER, expect: 403 }) }, remote: `127.0.0.1:${t.ports.sipUdp}`, port: await freePort(), transport: 'udp', calls: 1, service: DIALED, timeoutSec: 10 });
    expect(overUdp.successful, realErrors(overUdp)).toBe(1);
    // Over TLS (SIPp → stunnel → Carillon) with a plain RTP/AVP offer: 488.
    const clientAccept = await freePort();
    const tunnel = await startStunnel({ clientAccept, tlsTarget: t.ports.sipTls as number });
    try {
      const plainOffer = await runSipp({ scenario: { name: 'pbx-tls', xml: trunkCaller({ host, from: PBX_NUMBER, expect: 488 }) }, remote: `127.0.0.1:${clientAccept}`, port: await freePort(), transport: 'tcp', calls: 1, service: DIALED, timeoutSec: 10 });
      expect(plainOffer.successful, realErrors(plainOffer)).toBe(1);
      expect(tunnel.log()).toMatch(/TLSv1\.[23]/);
    } finally {
      await tunnel.stop();
    }
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

  it('every routed call has one CDR per leg in Chime’s format, and the answered ones equal the metric', async () => {
    await t.waitIdle();
    const byCall = new Map<string, Cdr[]>();
    for (const c of readCdrs(t.dataDir)) byCall.set(c.TransactionId, [...(byCall.get(c.TransactionId) ?? []), c]);
    expect(byCall.size).toBeGreaterThanOrEqual(5);
    for (const legs of byCall.values()) {
      expect(legs.map((l) => l.Leg).sort()).toEqual(['Callee', 'Caller']);
      expect(new Set(legs.map((l) => l.VoiceConnectorId))).toEqual(new Set([vcId]));
    }
    const completed = [...byCall.values()].filter((legs) => legs[0]?.Status === 'Completed').length;
    expect(completed).toBe(await metric('carillon_voice_connector_outbound_calls_answered_total'));
  });

  it('the Grafana dashboard in the repository asks only for metrics the server exports', async () => {
    const dashboard = readFileSync(path.join(import.meta.dirname, '..', '..', 'metrics', 'grafana-dashboard.json'), 'utf8');
    const names = new Set([...dashboard.matchAll(/carillon_[a-z0-9_]+/g)].map((m) => m[0].replace(/_bucket$/, '')));
    expect(names.size).toBeGreaterThan(15);
    const exported = await (await fetch(`http://127.0.0.1:${t.ports.api}/metrics`)).text();
    for (const n of names) expect(exported, n).toContain(`# HELP ${n} `);
  });
});
