import crypto from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PutVoiceConnectorStreamingConfigurationCommand } from '@aws-sdk/client-chime-sdk-voice';
import { CreateStreamCommand, GetRecordsCommand, GetShardIteratorCommand, KinesisClient, ListShardsCommand } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import kinesalite from 'kinesalite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ebmlFragments, ebmlFragmentsOf, ffmpegG711, ffmpegPcm, ffprobeAudio, mkvinfo } from '../support/mkv-check.ts';
import { startTestServer } from '../support/server.ts';
import type { TestServer } from '../support/server.ts';
import { killAllSipp, realErrors, runSipp } from '../support/sipp.ts';
import type { SippResult } from '../support/sipp.ts';
import type { RecordingCalls, RecordingSession } from '../../signaling/calls/recording-call.ts';
import { startKvsEndpoint } from '../support/kvs-endpoint.ts';
import { startNotifyEndpoint } from '../support/aws-notify-endpoint.ts';
import { connect as connectNats } from 'nats';
import { callWithAudio, DIALED, payloadsOf, PBX_NUMBER, setUpStreamedTrunk } from '../support/streamed-trunk.ts';
import { recordingClient, RS_METADATA } from '../support/sipp-trunk-scenarios.ts';
import { freePort } from '../support/ports.ts';
import { RtpPeer, until } from '../support/rtp-peer.ts';
import { RawUdpPeer } from '../support/raw-sip.ts';
import type { StreamedTrunk } from '../support/streamed-trunk.ts';
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

/** A recording client (SIPp) opening a session with streams on the peers' ports; resolves once Carillon holds it. */
async function openRecording(t: TestServer, trunk: StreamedTrunk, peers: readonly [RtpPeer, RtpPeer], o: { readonly pauseMs: number; readonly byeFromCarillon?: boolean }): Promise<{ src: Promise<SippResult>; recorder: RecordingCalls | undefined; session: RecordingSession | undefined }> {
  const src = runSipp({
    scenario: { name: 'src', xml: recordingClient({ host: trunk.vcHost, ...o }) },
    injection: [`${peers[0].rtpPort};${peers[1].rtpPort}`],
    remote: `127.0.0.1:${t.ports.sipUdp ?? 0}`,
    port: await freePort(),
    transport: 'udp',
    calls: 1,
    service: DIALED,
    timeoutSec: 20,
  });
  const recorder = t.server.calls.opts.recorder;
  await until(() => (recorder?.sessions.size ?? 0) === 1, 10_000);
  return { src, recorder, session: [...(recorder?.sessions.values() ?? [])][0] };
}

describe('call audio streaming: file sink, status events, webhooks', () => {
  let t: TestServer;
  let api: TrunkApi;
  let vcId = '';
  let trunk: StreamedTrunk;
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
    trunk = await setUpStreamedTrunk(api);
    vcId = trunk.vcId;
  });

  afterAll(async () => {
    api?.voice.destroy();
    await t?.close();
    receiver?.server.close();
    blackhole?.server.closeAllConnections();
    blackhole?.server.close();
  });

  const plainMetric = async (name: string): Promise<number> => {
    const text = await (await fetch(`http://127.0.0.1:${t.ports.api}/metrics`)).text();
    return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 'NaN');
  };
  const eventsFile = (): StreamingEvent[] => {
    const file = path.join(t.dataDir, 'streams', 'events.jsonl');
    return existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as StreamingEvent) : [];
  };

  it('each leg streams as MKV and WAV holding exactly the audio sent, tagged in every fragment; STARTED and ENDED go to the file and a signed webhook', async () => {
    const call = await callWithAudio(t, trunk);
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
      const truth = ffmpegG711(payloadsOf(sent), 'mulaw');
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
    await callWithAudio(t, trunk);
    await t.waitIdle();
    await new Promise((r) => setTimeout(r, 500));
    expect(readdirSync(path.join(t.dataDir, 'streams', vcId)).length).toBe(before);
    expect(eventsFile().length).toBe(eventsBefore);
  }, 60_000);

  it('a recording session is refused clearly: 403 while the voice connector does not stream, 488 without a readable SDP, 404 to no voice connector', async () => {
    const peer = new RawUdpPeer();
    const port = await peer.open();
    const invite = (host: string, n: number, body: string): string => {
      const text = [
        `INVITE sip:rec@${host} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bKrec${n}`,
        `From: <sip:src@127.0.0.1:${port}>;tag=src${n}`,
        `To: <sip:rec@${host}>`,
        `Call-ID: rec-${n}-${crypto.randomUUID()}`,
        'CSeq: 1 INVITE',
        `Contact: <sip:src@127.0.0.1:${port}>;+sip.src`,
        'Require: siprec',
        'Max-Forwards: 70',
        'Content-Type: multipart/mixed;boundary=x',
        `Content-Length: ${Buffer.byteLength(body)}`,
        '',
        body,
      ];
      return text.join('\r\n');
    };
    const whole = '--x\r\nContent-Type: application/sdp\r\n\r\nv=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=label:1\r\na=sendonly\r\n\r\n--x\r\nContent-Type: application/rs-metadata+xml\r\n\r\n<recording/>\r\n--x--\r\n';
    try {
      await api.voice.send(new PutVoiceConnectorStreamingConfigurationCommand({ VoiceConnectorId: vcId, StreamingConfiguration: { DataRetentionInHours: 24, Disabled: true } }));
      peer.send(invite(trunk.vcHost, 1, whole), t.ports.sipUdp ?? 0);
      expect((await peer.waitFor((r) => (r.status ?? 0) >= 300))?.text).toMatch(/^SIP\/2\.0 403 Streaming Not Enabled/);
      await api.voice.send(new PutVoiceConnectorStreamingConfigurationCommand({ VoiceConnectorId: vcId, StreamingConfiguration: { DataRetentionInHours: 24, Disabled: false } }));
      peer.replies.length = 0;
      peer.send(invite(trunk.vcHost, 2, whole.replace('--x--', '')), t.ports.sipUdp ?? 0);
      expect((await peer.waitFor((r) => (r.status ?? 0) >= 300))?.text).toMatch(/^SIP\/2\.0 488 /);
      peer.replies.length = 0;
      peer.send(invite('127.0.0.1', 3, whole), t.ports.sipUdp ?? 0);
      expect((await peer.waitFor((r) => (r.status ?? 0) >= 300))?.status).toBe(404);
      expect(t.server.calls.opts.recorder?.sessions.size).toBe(0);
    } finally {
      peer.close();
    }
  });

  it('a SIPREC recording session (multipart SDP + rs-metadata) is answered, each stream recorded as its own leg, the metadata in the events', async () => {
    await api.voice.send(new PutVoiceConnectorStreamingConfigurationCommand({ VoiceConnectorId: vcId, StreamingConfiguration: { DataRetentionInHours: 24, Disabled: false } }));
    const first = await RtpPeer.open();
    const second = await RtpPeer.open();
    const { src, session } = await openRecording(t, trunk, [first, second], { pauseMs: 3500 });
    expect(session?.streams.map((st) => st.label)).toEqual(['1', '2']);
    first.sendTo('127.0.0.1', session?.streams[0]?.port ?? 0);
    second.sendTo('127.0.0.1', session?.streams[1]?.port ?? 0);
    const [sentFirst, sentSecond] = await Promise.all([first.sendStream({ packets: 100, ptimeMs: 20, ssrc: 0x51 }), second.sendStream({ packets: 100, ptimeMs: 20, ssrc: 0x52, payload: (i) => Buffer.alloc(160, (i * 3) & 0xff) })]);
    const r = await src;
    first.close();
    second.close();
    expect(r.successful, realErrors(r)).toBe(1);
    await until(() => eventsFile().filter((e) => e.detail.transactionId === session?.transactionId && e.detail.streamingStatus === 'ENDED').length === 2, 10_000);
    await t.server.flushLogs();
    for (const [label, sent] of [
      ['1', sentFirst],
      ['2', sentSecond],
    ] as const) {
      const mkv = path.join(t.dataDir, 'streams', vcId, `${session?.transactionId ?? ''}-label-${label}.mkv`);
      expect(mkvinfo(mkv).problems).toEqual([]);
      expect(ffmpegPcm(mkv).equals(ffmpegG711(payloadsOf(sent), 'mulaw'))).toBe(true);
    }
    const events = eventsFile().filter((e) => e.detail.transactionId === session?.transactionId);
    for (const e of events) expect(streamingEventProblems(e), JSON.stringify(e)).toEqual([]);
    expect(events.map((e) => e.detail.streamingStatus).sort()).toEqual(['ENDED', 'ENDED', 'STARTED', 'STARTED']);
    const started = events.filter((e) => e.detail.streamingStatus === 'STARTED').map((e) => e.detail as { sdp?: { mediaIndex: number; mediaLabel: string }; siprecMetadata?: string; isCaller?: boolean; callId: string });
    expect(started.map((d) => d.sdp).sort((x, y) => (x?.mediaIndex ?? 0) - (y?.mediaIndex ?? 0))).toEqual([
      { mediaIndex: 0, mediaLabel: '1' },
      { mediaIndex: 1, mediaLabel: '2' },
    ]);
    // The metadata as it came (SIPp sends it with CRLF line ends and without leading blanks).
    const lines = (x: string | undefined): string[] => (x ?? '').split(/\r?\n/).map((l) => l.trim());
    for (const d of started) expect(lines(d.siprecMetadata)).toEqual(lines(RS_METADATA));
    expect(started.every((d) => d.callId === session?.callId)).toBe(true);
    expect(started.filter((d) => d.isCaller === true)).toHaveLength(1);
  }, 60_000);
});

describe('call audio streaming to Kinesis Data Streams (kinesalite)', () => {
  it('each fragment arrives as a self-contained MKV record in call order; the records reassemble to a valid MKV of the audio sent; the events arrive as JSON records', async () => {
    const kds = kinesalite({ createStreamMs: 0 });
    await new Promise<void>((r) => kds.listen(0, '127.0.0.1', r));
    const endpoint = `http://127.0.0.1:${(kds.address() as AddressInfo).port}`;
    const kinesis = new KinesisClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, requestHandler: new NodeHttpHandler() });
    await kinesis.send(new CreateStreamCommand({ StreamName: 'call-audio', ShardCount: 1 }));
    await kinesis.send(new CreateStreamCommand({ StreamName: 'call-events', ShardCount: 1 }));
    const t = await startTestServer({
      sip: { optionsPingIntervalSec: 3600 },
      streaming: { fragmentMs: 500, sink: 'kinesis-data', kinesisData: { endpoint, region: 'us-east-1', streamName: 'call-audio', eventsStreamName: 'call-events', accessKeyId: 'test', secretAccessKey: 'test' } },
    });
    const api = trunkApi(t);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'carillon-kds-'));
    try {
      const trunk = await setUpStreamedTrunk(api);
      const call = await callWithAudio(t, trunk);
      await t.waitIdle();
      await t.server.streaming.close();
      const read = async (stream: string): Promise<{ data: Buffer; key: string; seq: string }[]> => {
        const shard = (await kinesis.send(new ListShardsCommand({ StreamName: stream }))).Shards?.[0]?.ShardId ?? '';
        const it = (await kinesis.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: shard, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
        const out = await kinesis.send(new GetRecordsCommand({ ShardIterator: it, Limit: 1000 }));
        return (out.Records ?? []).map((r) => ({ data: Buffer.from(r.Data ?? new Uint8Array()), key: r.PartitionKey ?? '', seq: r.SequenceNumber ?? '' }));
      };
      const records = await read('call-audio');
      expect(records.length).toBe(8); // 2 legs × 2 s in 500 ms fragments
      expect(records.every((r) => r.key === call.transactionId)).toBe(true);
      const events = (await read('call-events')).map((r) => JSON.parse(r.data.toString('utf8')) as StreamingEvent);
      for (const e of events) expect(streamingEventProblems(e), JSON.stringify(e)).toEqual([]);
      expect(events.map((e) => e.detail.streamingStatus).sort()).toEqual(['ENDED', 'ENDED', 'STARTED', 'STARTED']);
      for (const [isCaller, sent] of [
        [true, call.fromPbx],
        [false, call.fromCarrier],
      ] as const) {
        const legRecords: Buffer[] = [];
        for (const r of records) {
          const [frag] = await ebmlFragments(r.data);
          if (frag?.tags.IsCaller === String(isCaller)) legRecords.push(r.data);
        }
        expect(legRecords.length).toBe(4);
        // Every record is a whole MKV on its own.
        const one = path.join(dir, `one-${String(isCaller)}.mkv`);
        writeFileSync(one, legRecords[0] as Buffer);
        expect(mkvinfo(one).problems).toEqual([]);
        expect(ffprobeAudio(one)?.codec_name).toBe('pcm_s16le');
        // The header of the first and the fragments of all, in order: the leg's stream, holding what was sent.
        const headerLength = (legRecords[0] as Buffer).indexOf(Buffer.from([0x1f, 0x43, 0xb6, 0x75]));
        const whole = path.join(dir, `whole-${String(isCaller)}.mkv`);
        writeFileSync(whole, Buffer.concat([(legRecords[0] as Buffer).subarray(0, headerLength), ...legRecords.map((b) => b.subarray(headerLength))]));
        const info = mkvinfo(whole);
        expect(info.problems).toEqual([]);
        expect(info.transactionIdTags).toBe(4);
        expect(ffmpegPcm(whole).equals(ffmpegG711(payloadsOf(sent), 'mulaw'))).toBe(true);
        const started = events.find((e) => e.detail.streamingStatus === 'STARTED' && (e.detail as { isCaller?: boolean }).isCaller === isCaller);
        // STARTED names the stream and the sequence number of the leg's first record.
        expect(started?.detail).toMatchObject({ streamArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/call-audio', transactionId: call.transactionId });
        const firstSeq = records.find((r) => r.data.equals(legRecords[0] as Buffer))?.seq;
        expect((started?.detail as { startFragmentNumber?: string }).startFragmentNumber).toBe(firstSeq);
      }
    } finally {
      api.voice.destroy();
      await t.close();
      kinesis.destroy();
      await new Promise((r) => kds.close(r));
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('call audio streaming to Kinesis Video Streams (PutMedia, a spec-faithful endpoint)', () => {
  it('each leg goes to its own stream of the voice connector, holding exactly the audio sent; STARTED names the stream and its first fragment', async () => {
    const creds = { accessKeyId: 'AKIDSTREAMING', secretAccessKey: 'streaming-secret' };
    const ep = await startKvsEndpoint({ credentials: creds });
    const t = await startTestServer({
      sip: { optionsPingIntervalSec: 3600 },
      streaming: { fragmentMs: 500, sink: 'kinesis-video', kinesisVideo: { endpoint: ep.url, region: 'us-east-1', ...creds } },
    });
    const api = trunkApi(t);
    try {
      const trunk = await setUpStreamedTrunk(api);
      const call = await callWithAudio(t, trunk);
      await t.waitIdle();
      await t.server.streaming.close();
      await t.server.flushLogs();
      const streams = [...ep.streams.values()];
      expect(streams.map((s) => s.name).every((n) => n.startsWith(`ChimeVoiceConnector-${trunk.vcId}-`))).toBe(true);
      expect(streams.map((s) => s.retentionHours)).toEqual([24, 24]);
      const events = readFileSync(path.join(t.dataDir, 'streams', 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as StreamingEvent);
      for (const e of events) expect(streamingEventProblems(e), JSON.stringify(e)).toEqual([]);
      for (const [isCaller, sent] of [
        [true, call.fromPbx],
        [false, call.fromCarrier],
      ] as const) {
        const s = streams.find((x) => x.fragments[0]?.tags.IsCaller === String(isCaller));
        expect(s?.fragments.length).toBe(4);
        expect(s?.fragments.every((f) => f.tags.TransactionId === call.transactionId)).toBe(true);
        const pcm = Buffer.concat(s?.fragments.map((f) => f.pcm) ?? []);
        expect(pcm.equals(ffmpegG711(payloadsOf(sent), 'mulaw'))).toBe(true);
        const started = events.find((e) => e.detail.streamingStatus === 'STARTED' && (e.detail as { isCaller?: boolean }).isCaller === isCaller);
        expect(started?.detail).toMatchObject({ streamArn: s?.arn, startFragmentNumber: s?.fragments[0]?.number });
      }
      expect(events.filter((e) => e.detail.streamingStatus === 'ENDED')).toHaveLength(2);
    } finally {
      api.voice.destroy();
      await t.close();
      await ep.close();
    }
  }, 60_000);
});

describe('streaming status events to EventBridge, SNS and SQS (as the voice connector asks) and to NATS', () => {
  it('each event reaches the targets the voice connector names, signed for each service, and the NATS subject of its voice connector', async () => {
    const creds = { accessKeyId: 'AKIDNOTIFY', secretAccessKey: 'notify-secret' };
    const ep = await startNotifyEndpoint(creds);
    const subject = `carillon-test-${crypto.randomUUID().slice(0, 8)}`;
    const nc = await connectNats({ servers: '127.0.0.1:4222' });
    const onNats: { subject: string; event: StreamingEvent }[] = [];
    const sub = nc.subscribe(`${subject}.>`, { callback: (_err, m) => onNats.push({ subject: m.subject, event: JSON.parse(Buffer.from(m.data).toString('utf8')) as StreamingEvent }) });
    const aws = { endpoint: ep.url, region: 'us-east-1', ...creds };
    const t = await startTestServer({
      sip: { optionsPingIntervalSec: 3600 },
      streaming: {
        fragmentMs: 500,
        eventBridge: { ...aws, eventBusName: 'chime-events' },
        sns: { ...aws, topicArn: 'arn:aws:sns:us-east-1:000000000000:chime-streaming' },
        sqs: { ...aws, queueUrl: `${ep.url}/000000000000/chime-streaming` },
        nats: { servers: 'nats://127.0.0.1:4222', subject },
      },
    });
    const api = trunkApi(t);
    try {
      const trunk = await setUpStreamedTrunk(api);
      // This voice connector asks for EventBridge and SQS, not SNS.
      await api.voice.send(
        new PutVoiceConnectorStreamingConfigurationCommand({
          VoiceConnectorId: trunk.vcId,
          StreamingConfiguration: { DataRetentionInHours: 24, Disabled: false, StreamingNotificationTargets: [{ NotificationTarget: 'EventBridge' }, { NotificationTarget: 'SQS' }] },
        }),
      );
      const call = await callWithAudio(t, trunk);
      await t.waitIdle();
      await t.server.streaming.close();
      expect(ep.refused).toEqual([]);
      expect(ep.eventBridge).toHaveLength(4);
      for (const e of ep.eventBridge) {
        expect(e).toMatchObject({ EventBusName: 'chime-events', Source: 'aws.chime', DetailType: 'Chime VoiceConnector Streaming Status' });
        expect((JSON.parse(e.Detail ?? '{}') as { transactionId?: string }).transactionId).toBe(call.transactionId);
      }
      expect(ep.sqs).toHaveLength(4);
      for (const m of ep.sqs) expect(streamingEventProblems(JSON.parse(m.MessageBody ?? '{}'))).toEqual([]);
      expect(ep.sns).toEqual([]);
      await until(() => onNats.length >= 4, 5_000);
      expect(onNats.every((m) => m.subject === `${subject}.${trunk.vcId}` && streamingEventProblems(m.event).length === 0)).toBe(true);
      expect(onNats.map((m) => m.event.detail.streamingStatus).sort()).toEqual(['ENDED', 'ENDED', 'STARTED', 'STARTED']);
    } finally {
      sub.unsubscribe();
      await nc.close();
      api.voice.destroy();
      await t.close();
      await ep.close();
    }
  }, 60_000);
});

describe('a recording session whose client goes quiet', () => {
  it('ends at the media timeout: Carillon sends the BYE, the streams END', async () => {
    const t = await startTestServer({ sip: { optionsPingIntervalSec: 3600 }, mediaTimeout: 2, streaming: { fragmentMs: 500 } });
    const api = trunkApi(t);
    const first = await RtpPeer.open();
    const second = await RtpPeer.open();
    try {
      const trunk = await setUpStreamedTrunk(api);
      const { src, recorder, session } = await openRecording(t, trunk, [first, second], { pauseMs: 15_000, byeFromCarillon: true });
      first.sendTo('127.0.0.1', session?.streams[0]?.port ?? 0);
      await first.sendStream({ packets: 25, ptimeMs: 20, ssrc: 0x61 });
      // Then nothing: after 2 s without media Carillon hangs up.
      const r = await src;
      expect(r.successful, realErrors(r)).toBe(1);
      expect(recorder?.sessions.size).toBe(0);
      await t.server.flushLogs();
      await until(() => readFileSync(path.join(t.dataDir, 'streams', 'events.jsonl'), 'utf8').includes('"ENDED"'), 5_000);
    } finally {
      first.close();
      second.close();
      api.voice.destroy();
      await t.close();
    }
  }, 60_000);
});
