import { CreateVoiceConnectorCommand, PutVoiceConnectorTerminationCommand } from '@aws-sdk/client-chime-sdk-voice';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCdrs } from '../support/cdrs.ts';
import { H323TestEndpoint } from '../support/h323-endpoint/index.ts';
import { freePort } from '../support/ports.ts';
import { RtpPeer, until } from '../support/rtp-peer.ts';
import { startTestServer } from '../support/server.ts';
import type { TestServer } from '../support/server.ts';
import { killAllSipp, realErrors, startSipp } from '../support/sipp.ts';
import { farEnd } from '../support/sipp-trunk-scenarios.ts';
import { trunkApi } from '../support/trunk-api.ts';
import type { TrunkApi } from '../support/trunk-api.ts';

/**
 * An H.323 gateway's call routed to SIP as a B2BUA leg: the test endpoint dials
 * `h323:+1…@<voice connector host>` (Fast Connect, G.711 µ-law), the voice connector's termination
 * takes it by source address, SIPp plays the carrier; RTP flows both ways, the H.323 side's media
 * comes from the H.323 range, the carrier's BYE follows the room system's ReleaseComplete, and the
 * CDRs are written as for a SIP caller.
 */

const DIALED = '+14155550123';

describe('H.323 caller → voice connector → SIP carrier', () => {
  let t: TestServer;
  let api: TrunkApi;
  let vcHost = '';
  let vcId = '';
  let carrierPort = 0;

  beforeAll(async () => {
    t = await startTestServer({ h323: 0, h323RtpRange: '5300-5499', sip: { optionsPingIntervalSec: 3600 } });
    api = trunkApi(t);
    const vc = (await api.voice.send(new CreateVoiceConnectorCommand({ Name: 'h323 gateway', RequireEncryption: false }))).VoiceConnector;
    vcId = vc?.VoiceConnectorId ?? '';
    vcHost = vc?.OutboundHostName ?? '';
    await api.voice.send(new PutVoiceConnectorTerminationCommand({ VoiceConnectorId: vcId, Termination: { CallingRegions: ['US'], CidrAllowedList: ['127.0.0.1/32'], CpsLimit: 10, DefaultPhoneNumber: '+12065550199' } }));
    carrierPort = await freePort();
    expect((await api.api('POST', '/carillon/v1/carriers', { Name: 'upstream', Host: '127.0.0.1', Port: carrierPort, Protocol: 'UDP', Priority: 1, Weight: 1, Prefixes: ['+1'] })).status).toBe(201);
  });

  afterAll(async () => {
    killAllSipp();
    api?.voice.destroy();
    await t?.close();
  });

  it('Fast Connect through the trunk: RTP both ways, ReleaseComplete → BYE, CDRs for both legs', async () => {
    const carrierMedia = await RtpPeer.open();
    const carrier = startSipp({ scenario: { name: 'carrier', xml: farEnd({ answer: true, injectedMedia: true }) }, port: carrierPort, transport: 'udp', calls: 1, timeoutSec: 30, injection: [String(carrierMedia.rtpPort)] });
    await new Promise((r) => setTimeout(r, 200));
    const ep = new H323TestEndpoint({ name: 'Gateway 1', localAddress: '127.0.0.1' });
    try {
      await ep.call({ host: '127.0.0.1', port: t.ports.h323 ?? 0, destination: [{ url: `h323:${DIALED}@${vcHost}` }], fastStart: true, audio: ['g711Ulaw64k'], h245: 'tunnel' });
      await ep.waitFor((m) => 'q931' in m && m.q931 === 'connect', 15_000);
      expect(ep.fastStartState).toBe('accepted');
      // The H.323 side's media port is in the H.323 range.
      expect(ep.remoteRtp?.port).toBeGreaterThanOrEqual(5300);
      expect(ep.remoteRtp?.port).toBeLessThanOrEqual(5499);
      ep.startTone(1000);
      await until(() => carrierMedia.received.length > 0, 10_000);
      carrierMedia.sendTo('127.0.0.1', (carrierMedia.received[0] as { from: { port: number } }).from.port);
      await carrierMedia.sendStream({ packets: 100, ptimeMs: 20, ssrc: 0xcafe });
      await until(() => (ep.rtp?.received.length ?? 0) >= 90 && carrierMedia.received.length >= 90, 5_000);
      await ep.hangup();
      const c = await carrier.done;
      expect(realErrors(c)).toBe('');
      expect(c.successful).toBe(1);
      await until(() => (t.server.h323?.callsActive ?? 1) === 0, 5_000);
      expect((await t.waitIdle()).calls).toBe(0);
      await until(() => readCdrs(t.dataDir).length === 2, 5_000);
      const cdrs = readCdrs(t.dataDir);
      expect(cdrs.map((x) => x.Leg).sort()).toEqual(['Callee', 'Caller']);
      for (const x of cdrs) expect(x).toMatchObject({ Direction: 'Outbound', Status: 'Completed', VoiceConnectorId: vcId, DestinationPhoneNumber: DIALED });
    } finally {
      carrierMedia.close();
      await ep.close();
    }
  });
});
