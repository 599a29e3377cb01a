import { legOf } from '../../signaling/calls/call-summary.ts';
import { CreateVoiceConnectorCommand, PutVoiceConnectorStreamingConfigurationCommand, PutVoiceConnectorTerminationCommand } from '@aws-sdk/client-chime-sdk-voice';
import { expect } from 'vitest';
import { readSdp } from '../../signaling/sdp/anchor.ts';
import { freePort } from './ports.ts';
import { RtpPeer, until } from './rtp-peer.ts';
import type { SentPacket } from './rtp-peer.ts';
import type { TestServer } from './server.ts';
import { realErrors, runSipp, startSipp } from './sipp.ts';
import { farEnd, trunkCaller } from './sipp-trunk-scenarios.ts';
import type { TrunkApi } from './trunk-api.ts';

export const DIALED = '+14155550123';
export const PBX_NUMBER = '+12065550111';

export interface StreamedTrunk {
  readonly vcId: string;
  readonly vcHost: string;
  readonly carrierPort: number;
}

/** A voice connector (through the SDK) with termination from 127.0.0.1, streaming on, and a carrier. */
export async function setUpStreamedTrunk(api: TrunkApi): Promise<StreamedTrunk> {
  const vc = (await api.voice.send(new CreateVoiceConnectorCommand({ Name: 'recorded trunk', RequireEncryption: false }))).VoiceConnector;
  const vcId = vc?.VoiceConnectorId ?? '';
  await api.voice.send(new PutVoiceConnectorTerminationCommand({ VoiceConnectorId: vcId, Termination: { CallingRegions: ['US'], CidrAllowedList: ['127.0.0.1/32'], CpsLimit: 10 } }));
  await api.voice.send(
    new PutVoiceConnectorStreamingConfigurationCommand({
      VoiceConnectorId: vcId,
      StreamingConfiguration: { DataRetentionInHours: 24, Disabled: false, StreamingNotificationTargets: [{ NotificationTarget: 'EventBridge' }] },
    }),
  );
  await api.ownNumbers(vcId, [PBX_NUMBER]);
  const carrierPort = await freePort();
  const r = await api.api('POST', '/carillon/v1/carriers', { Name: 'upstream', Host: '127.0.0.1', Port: carrierPort, Protocol: 'UDP', Priority: 1, Weight: 1 });
  expect(r.status).toBe(201);
  return { vcId, vcHost: vc?.OutboundHostName ?? '', carrierPort };
}

export interface StreamedCall {
  readonly fromPbx: SentPacket[];
  readonly fromCarrier: SentPacket[];
  readonly transactionId: string;
  readonly callerCallId: string;
  readonly calleeCallId: string;
}

/** One call PBX (SIPp) → Carillon → carrier (SIPp) with 100 × 20 ms of G.711 µ-law each way from test RTP peers. */
export async function callWithAudio(t: TestServer, trunk: StreamedTrunk): Promise<StreamedCall> {
  const pbxMedia = await RtpPeer.open();
  const carrierMedia = await RtpPeer.open();
  let ids = { transactionId: '', callerCallId: '', calleeCallId: '' };
  const off = t.server.events.on((e) => {
    if (e.type === 'answered') ids = { transactionId: e.call.transactionId, callerCallId: legOf(e.call, 'caller')?.wireCallId ?? '', calleeCallId: legOf(e.call, 'callee')?.wireCallId ?? '' };
  });
  const carrier = startSipp({ scenario: { name: 'carrier', xml: farEnd({ answer: true, injectedMedia: true }) }, port: trunk.carrierPort, transport: 'udp', calls: 1, timeoutSec: 20, injection: [String(carrierMedia.rtpPort)] });
  await new Promise((r) => setTimeout(r, 200));
  const placed = runSipp({
    scenario: { name: 'pbx', xml: trunkCaller({ host: trunk.vcHost, from: PBX_NUMBER, expect: 'answer', pauseMs: 4000, injectedMedia: true }) },
    injection: [String(pbxMedia.rtpPort)],
    remote: `127.0.0.1:${t.ports.sipUdp}`,
    port: await freePort(),
    transport: 'udp',
    calls: 1,
    service: DIALED,
    timeoutSec: 20,
  });
  const { fromPbx, fromCarrier } = await exchangeAudio(t, pbxMedia, carrierMedia);
  const r = await placed;
  const c = await carrier.done;
  pbxMedia.close();
  carrierMedia.close();
  off();
  expect(realErrors(r) + realErrors(c)).toBe('');
  expect([r.successful, c.successful]).toEqual([1, 1]);
  return { fromPbx, fromCarrier, ...ids };
}

/**
 * Once the call is up, 100 × 20 ms of G.711 each way through Carillon: the PBX's peer sends to
 * the port Carillon answered it with, the carrier's peer answers where Carillon's first packet
 * came from. Resolves when both sides got everything.
 */
export async function exchangeAudio(t: TestServer, pbxMedia: RtpPeer, carrierMedia: RtpPeer): Promise<{ fromPbx: SentPacket[]; fromCarrier: SentPacket[] }> {
  let ours: number | undefined;
  await until(() => {
    const answer = [...t.server.calls.calls.values()].find((c) => c.state === 'confirmed' && c.caller.sent !== undefined)?.caller.sent;
    ours = answer === undefined ? undefined : readSdp(answer.bytes.toString())?.media[0]?.port;
    return ours !== undefined;
  }, 10_000);
  pbxMedia.sendTo('127.0.0.1', ours as number);
  const carrierSent = until(() => carrierMedia.received.length > 0, 5_000).then(async () => {
    carrierMedia.sendTo('127.0.0.1', (carrierMedia.received[0] as { from: { port: number } }).from.port);
    return carrierMedia.sendStream({ packets: 100, ptimeMs: 20, ssrc: 0xcafe });
  });
  const fromPbx = await pbxMedia.sendStream({ packets: 100, ptimeMs: 20, ssrc: 0xbeef });
  const fromCarrier = await carrierSent;
  await until(() => carrierMedia.received.length >= 100 && pbxMedia.received.length >= 100, 5_000);
  return { fromPbx, fromCarrier };
}

/** The G.711 payloads of what was sent, in order. */
export const payloadsOf = (sent: readonly SentPacket[]): Buffer => Buffer.concat(sent.map((p) => p.bytes.subarray(12)));
