import crypto from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { CreateVoiceConnectorCommand, PutVoiceConnectorStreamingConfigurationCommand, PutVoiceConnectorTerminationCommand } from '@aws-sdk/client-chime-sdk-voice';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getHeader } from '../../signaling/sip/message/headers.ts';
import { readSdp } from '../../signaling/sdp/anchor.ts';
import { ebmlFragmentsOf, ffmpegG711, ffmpegPcm, ffprobeAudio, mkvinfo } from '../support/mkv-check.ts';
import { freePort } from '../support/ports.ts';
import { RtpPeer, until } from '../support/rtp-peer.ts';
import type { SentPacket } from '../support/rtp-peer.ts';
import { startTestServer } from '../support/server.ts';
import type { TestServer } from '../support/server.ts';
import { killAllSipp, realErrors, runSipp, startSipp } from '../support/sipp.ts';
import { farEnd, trunkCaller } from '../support/sipp-trunk-scenarios.ts';
import { streamingEventProblems } from '../support/streaming-events.ts';
import type { StreamingEvent } from '../support/streaming-events.ts';
import { trunkApi } from '../support/trunk-api.ts';
import type { TrunkApi } from '../support/trunk-api.ts';

/**
 * Call audio streaming on a voice connector configured with the SDK: a PBX (SIPp, RTP from a
 * test peer) calls a carrier (SIPp, RTP from another); each leg's audio lands as a live MKV and a
 * WAV under <data>/streams, checked with mkvinfo, ffprobe, ffmpeg and ebml-stream against the
 * G.711 that was sent (decoded by ffmpeg), with STARTED/ENDED events in the events file and on a
 * signed webhook — while a second webhook that never answers holds nothing up.
 */
afterAll(() => killAllSipp());

const DIALED = '+14155550123';
const PBX_NUMBER = '+12065550111';
const SECRET = 'webhook-secret-0123456789';

interface Received {
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

async function listen(handler: http.RequestListener): Promise<{ server: http.Server; url: string }> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/events` };
}

describe('call audio streaming: file sink, status events, webhooks', () => {
  let t: TestServer;
  let api: TrunkApi;
  let vcId = '';
  let vcHost = '';
  let carrierPort = 0;
  const hooked: Received[] = [];
  let receiver: { server: http.Server; url: string };
  let blackhole: { server: http.Server; url: string };
  let hanging = 0;

  beforeAll(async () => {
    receiver = await listen((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        hooked.push({ headers: req.headers, body });
        res.end();
      });
    });
    // Takes the request and never answers.
    blackhole = await listen((req) => {
      hanging++;
      req.resume();
    });
    t = await startTestServer({
      sip: { optionsPingIntervalSec: 3600 },
      streaming: { fragmentMs: 500, webhooks: [{ url: receiver.url, secret: SECRET }, { url: blackhole.url, secret: SECRET }] },
    });
    api = trunkApi(t);
    const vc = (await api.voice.send(new CreateVoiceConnectorCommand({ Name: 'recorded trunk', RequireEncryption: false }))).VoiceConnector;
    vcId = vc?.VoiceConnectorId ?? '';
    vcHost = vc?.OutboundHostName ?? '';
    await api.voice.send(new PutVoiceConnectorTerminationCommand({ VoiceConnectorId: vcId, Termination: { CallingRegions: ['US'], CidrAllowedList: ['127.0.0.1/32'], CpsLimit: 10 } }));
    await api.voice.send(
      new PutVoiceConnectorStreamingConfigurationCommand({
        VoiceConnectorId: vcId,
        StreamingConfiguration: { DataRetentionInHours: 24, Disabled: false, StreamingNotificationTargets: [{ NotificationTarget: 'EventBridge' }] },
      }),
    );
    await api.ownNumbers(vcId, [PBX_NUMBER]);
    carrierPort = await freePort();
    expect((await api.api('POST', '/carillon/v1/carriers', { Name: 'upstream', Host: '127.0.0.1', Port: carrierPort, Protocol: 'UDP', Priority: 1, Weight: 1 })).status).toBe(201);
  });

  afterAll(async () => {
    api?.voice.destroy();
    await t?.close();
    receiver?.server.close();
    blackhole?.server.closeAllConnections();
    blackhole?.server.close();
  });

  /** One call with RTP both ways (100 × 20 ms of G.711 µ-law each); what each side sent, and the call's ids. */
  async function callWithAudio(): Promise<{ fromPbx: SentPacket[]; fromCarrier: SentPacket[]; transactionId: string; callerCallId: string; calleeCallId: string }> {
    const pbxMedia = await RtpPeer.open();
    const carrierMedia = await RtpPeer.open();
    let ids = { transactionId: '', callerCallId: '', calleeCallId: '' };
    const off = t.server.events.on((e) => {
      if (e.type === 'answered') ids = { transactionId: e.call.transactionId, callerCallId: getHeader(e.call.invite, 'call-id') ?? '', calleeCallId: e.call.b.dialog?.callId ?? '' };
    });
    const carrier = startSipp({ scenario: { name: 'carrier', xml: farEnd({ answer: true, injectedMedia: true }) }, port: carrierPort, transport: 'udp', calls: 1, timeoutSec: 20, injection: [String(carrierMedia.rtpPort)] });
    await new Promise((r) => setTimeout(r, 200));
    const placed = runSipp({
      scenario: { name: 'pbx', xml: trunkCaller({ host: vcHost, from: PBX_NUMBER, expect: 'answer', pauseMs: 4000, injectedMedia: true }) },
      injection: [String(pbxMedia.rtpPort)],
      remote: `127.0.0.1:${t.ports.sipUdp}`,
      port: await freePort(),
      transport: 'udp',
      calls: 1,
      service: DIALED,
      timeoutSec: 20,
    });
    let ours: number | undefined;
    await until(() => {
      const call = [...t.server.edge.b2bua.calls.values()].find((c) => c.state === 'confirmed' && c.a.lastSdp !== undefined);
      ours = call === undefined ? undefined : readSdp((call.a.lastSdp as Buffer).toString())?.media[0]?.port;
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
    const r = await placed;
    const c = await carrier.done;
    pbxMedia.close();
    carrierMedia.close();
    off();
    expect(realErrors(r) + realErrors(c)).toBe('');
    expect([r.successful, c.successful]).toEqual([1, 1]);
    return { fromPbx, fromCarrier, ...ids };
  }

  const plainMetric = async (name: string): Promise<number> => {
    const text = await (await fetch(`http://127.0.0.1:${t.ports.api}/metrics`)).text();
    return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 'NaN');
  };
  const payloads = (sent: SentPacket[]): Buffer => Buffer.concat(sent.map((p) => p.bytes.subarray(12)));
  const eventsFile = (): StreamingEvent[] => {
    const file = path.join(t.dataDir, 'streams', 'events.jsonl');
    return existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as StreamingEvent) : [];
  };

  it('each leg streams as MKV and WAV holding exactly the audio sent, tagged in every fragment; STARTED and ENDED go to the file and a signed webhook', async () => {
    const call = await callWithAudio();
    await until(() => eventsFile().filter((e) => e.detail.streamingStatus === 'ENDED').length === 2, 10_000);
    // The call ended while the silent webhook still held its first requests: it delayed nothing.
    expect(hanging).toBeGreaterThan(0);
    await t.server.flushLogs();

    const base = path.join(t.dataDir, 'streams', vcId, call.transactionId);
    for (const [leg, sent, callId] of [
      ['caller', call.fromPbx, call.callerCallId],
      ['callee', call.fromCarrier, call.calleeCallId],
    ] as const) {
      const mkv = `${base}-${leg}.mkv`;
      const wav = `${base}-${leg}.wav`;
      const info = mkvinfo(mkv);
      expect(info.problems, info.text.slice(0, 2000)).toEqual([]);
      expect(ffprobeAudio(mkv)).toEqual({ codec_name: 'pcm_s16le', sample_rate: '8000', channels: 1, bits_per_sample: 16 });
      expect(ffprobeAudio(wav)).toEqual({ codec_name: 'pcm_s16le', sample_rate: '8000', channels: 1, bits_per_sample: 16 });
      // What this party sent, decoded by ffmpeg from the G.711 on the wire: the same PCM, sample for sample.
      const truth = ffmpegG711(payloads(sent), 'mulaw');
      expect(ffmpegPcm(mkv).equals(truth), leg).toBe(true);
      expect(ffmpegPcm(wav).equals(truth), leg).toBe(true);
      const frags = await ebmlFragmentsOf(mkv);
      expect(frags.length).toBe(4); // 2 s in 500 ms fragments
      expect(info.transactionIdTags).toBe(frags.length);
      for (const [i, f] of frags.entries()) {
        expect(f.tags).toMatchObject({ TransactionId: call.transactionId, VoiceConnectorId: vcId, CallId: callId, IsCaller: String(leg === 'caller'), Direction: 'Outbound' });
        if (i > 0) expect(f.timecodeMs - (frags[i - 1] as { timecodeMs: number }).timecodeMs).toBe(500);
      }
      expect(Buffer.concat(frags.map((f) => f.pcm)).equals(truth)).toBe(true);
    }

    const events = eventsFile();
    for (const e of events) expect(streamingEventProblems(e), JSON.stringify(e)).toEqual([]);
    expect(events.map((e) => `${e.detail.streamingStatus}:${String((e.detail as { isCaller?: boolean }).isCaller)}`).sort()).toEqual(['ENDED:false', 'ENDED:true', 'STARTED:false', 'STARTED:true']);
    const started = events.find((e) => e.detail.streamingStatus === 'STARTED' && (e.detail as { isCaller?: boolean }).isCaller === true);
    expect(started?.detail).toMatchObject({ voiceConnectorId: vcId, transactionId: call.transactionId, callId: call.callerCallId, direction: 'Outbound', mediaType: 'audio/L16', fromNumber: PBX_NUMBER, toNumber: DIALED });
    expect(started?.account).toBe('000000000000');

    // The webhook got the same events, each signed over "<timestamp>|<body>" with the shared secret.
    await until(() => hooked.length >= 4, 5_000);
    expect(hooked.map((h) => (JSON.parse(h.body) as StreamingEvent).id).sort()).toEqual(events.map((e) => e.id).sort());
    for (const h of hooked) {
      const ts = String(h.headers['chime-request-timestamp']);
      const expected = crypto.createHmac('sha256', SECRET).update(`${ts}|${h.body}`).digest('base64');
      expect(h.headers['chime-signature']).toBe(expected);
      expect(Math.abs(Date.now() - Number(ts))).toBeLessThan(60_000);
    }
    expect(await plainMetric('carillon_streaming_legs_started_total')).toBe(2);
    expect(await plainMetric('carillon_streaming_fragments_total')).toBe(8);
    // The silent webhook: every event tried three times (2 s each), then counted as failed.
    await t.server.streaming.events.settled();
    const silent = `target="webhook:${new URL(blackhole.url).host}",outcome=`;
    expect(await api.metric('carillon_streaming_events_total', `${silent}"failed"`)).toBe(4);
    expect(await api.metric('carillon_streaming_events_total', `target="webhook:${new URL(receiver.url).host}",outcome="delivered"`)).toBe(4);
    expect(hanging).toBe(12);
  }, 60_000);

  it('a voice connector whose streaming is Disabled streams nothing', async () => {
    await api.voice.send(new PutVoiceConnectorStreamingConfigurationCommand({ VoiceConnectorId: vcId, StreamingConfiguration: { DataRetentionInHours: 24, Disabled: true } }));
    const before = readdirSync(path.join(t.dataDir, 'streams', vcId)).length;
    const eventsBefore = eventsFile().length;
    await callWithAudio();
    await t.waitIdle();
    await new Promise((r) => setTimeout(r, 500));
    expect(readdirSync(path.join(t.dataDir, 'streams', vcId)).length).toBe(before);
    expect(eventsFile().length).toBe(eventsBefore);
  }, 60_000);
});
