import { KinesisVideoClient } from '@aws-sdk/client-kinesis-video';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import fc from 'fast-check';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { KvsStreamSink, producerStartTimestamp } from '../../../media/stream/kvs-sink.ts';
import { AckStream } from '../../../media/stream/putmedia-acks.ts';
import { StatusEvents } from '../../../media/stream/status-events.ts';
import type { StreamingEnvelope } from '../../../media/stream/status-events.ts';
import { StreamingService } from '../../../media/stream/streaming.ts';
import type { StreamLegMeta } from '../../../media/stream/streaming.ts';
import { pcmBytes } from '../../../media/stream/wav.ts';
import { startKvsEndpoint } from '../../support/kvs-endpoint.ts';
import type { KvsEndpoint, KvsEndpointOptions } from '../../support/kvs-endpoint.ts';
import { streamingEventProblems } from '../../support/streaming-events.ts';

const CREDS = { accessKeyId: 'AKIDKVSTEST', secretAccessKey: 'kvs-test-secret' };
const VC = 'abcdef1ghij2klmno3pqr4';

describe('PutMedia acknowledgements', () => {
  it('are read whole however the response is cut, fragment numbers kept digit for digit, quoted or bare', () => {
    const acks = fc.array(
      fc.record({
        type: fc.constantFrom('BUFFERING', 'RECEIVED', 'PERSISTED', 'ERROR', 'IDLE'),
        tc: fc.option(fc.integer({ min: 0, max: 2 ** 50 }), { nil: undefined }),
        num: fc.option(fc.stringMatching(/^[1-9]\d{46}$/), { nil: undefined }),
        err: fc.option(fc.integer({ min: 4000, max: 5001 }), { nil: undefined }),
        quoted: fc.boolean(),
      }),
      { maxLength: 8 },
    );
    fc.assert(
      fc.property(acks, fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 30 }), fc.boolean(), (list, cuts, newlines) => {
        const text = list
          .map((a) => {
            const parts = [`"EventType":"${a.type}"`];
            if (a.tc !== undefined) parts.push(`"FragmentTimecode":${a.tc}`);
            if (a.num !== undefined) parts.push(`"FragmentNumber":${a.quoted ? `"${a.num}"` : a.num}`);
            if (a.err !== undefined) parts.push(`"ErrorId":${a.err}`);
            return `{${parts.join(',')}}`;
          })
          .join(newlines ? '\n' : '');
        const stream = new AckStream();
        const got = [];
        let at = 0;
        for (const c of cuts) {
          got.push(...stream.push(text.slice(at, at + c)));
          at += c;
        }
        got.push(...stream.push(text.slice(at)));
        expect(got).toEqual(
          list.map((a) => ({
            eventType: a.type,
            ...(a.tc === undefined ? {} : { fragmentTimecode: a.tc }),
            ...(a.num === undefined ? {} : { fragmentNumber: a.num }),
            ...(a.err === undefined ? {} : { errorId: a.err }),
          })),
        );
      }),
      { numRuns: 200 },
    );
  });

  it('the producer start timestamp pads its milliseconds', () => {
    expect(producerStartTimestamp(1_732_012_345_005)).toBe('1732012345.005');
    expect(producerStartTimestamp(1_732_012_345_500)).toBe('1732012345.500');
  });
});

describe('Kinesis Video sink (PutMedia) against a spec-faithful endpoint', () => {
  let ep: KvsEndpoint | undefined;
  let control: KinesisVideoClient | undefined;
  afterEach(async () => {
    control?.destroy();
    await ep?.close();
  });

  async function setUp(o: Omit<KvsEndpointOptions, 'credentials'> = {}, attempts = 4): Promise<{ service: StreamingService; events: StreamingEnvelope[]; ep: KvsEndpoint }> {
    const endpoint = await startKvsEndpoint({ credentials: CREDS, ...o });
    ep = endpoint;
    const client = new KinesisVideoClient({ endpoint: endpoint.url, region: 'us-east-1', credentials: CREDS, requestHandler: new NodeHttpHandler() });
    control = client;
    const events: StreamingEnvelope[] = [];
    const service = new StreamingService({
      sink: new KvsStreamSink({ control: client, region: 'us-east-1', credentials: () => client.config.credentials(), attempts, drainMs: 5_000 }),
      events: new StatusEvents([{ name: 'memory', deliver: (e) => Promise.resolve(void events.push(e)) }], () => undefined),
      accountId: '000000000000',
      logger: pino({ level: 'silent' }),
      nowMs: () => Date.now(),
    });
    return { service, events, ep: endpoint };
  }

  const meta = (tx: string, retentionHours = 0): StreamLegMeta => ({ voiceConnectorId: VC, transactionId: tx, callId: `${tx}@pbx`, direction: 'Outbound', isCaller: true, region: 'us-east-1', retentionHours });
  const fragment = (i: number): Int16Array => Int16Array.from({ length: 4000 }, (_, k) => ((i * 131 + k) % 2000) - 1000);

  /** Streams `n` half-second fragments for one leg, a little apart, then ends the call. */
  async function stream(service: StreamingService, tx: string, n: number, t0: number, retentionHours = 0): Promise<Int16Array[]> {
    service.begin(tx, (side) => (side === 'a' ? meta(tx, retentionHours) : undefined));
    const sent: Int16Array[] = [];
    for (let i = 0; i < n; i++) {
      const pcm = fragment(i);
      sent.push(pcm);
      service.audio(tx, 'a', t0 + 500 * i, pcm);
      await new Promise((r) => setTimeout(r, 20));
    }
    await service.end(tx);
    return sent;
  }

  it('uploads live on a pooled stream: every fragment stored once in order, STARTED with the first fragment number (kept whole), ENDED after the last acknowledgement', async () => {
    const { service, events, ep } = await setUp({ bareNumbers: true });
    const t0 = Date.now();
    const sent = await stream(service, 'tx-1', 10, t0);
    const [s] = [...ep.streams.values()];
    expect(s?.name).toMatch(new RegExp(`^ChimeVoiceConnector-${VC}-[0-9a-f-]{36}$`));
    expect(s?.mediaType).toBe('audio/L16');
    expect(s?.fragments.map((f) => f.timecodeMs)).toEqual(sent.map((_, i) => t0 + 500 * i));
    expect(Buffer.concat(s?.fragments.map((f) => f.pcm) ?? []).equals(Buffer.concat(sent.map((p) => pcmBytes(p))))).toBe(true);
    expect(s?.fragments.every((f) => f.tags.TransactionId === 'tx-1' && f.tags.VoiceConnectorId === VC && f.tags.CallId === 'tx-1@pbx')).toBe(true);
    await new Promise((r) => setTimeout(r, 50));
    expect(events.map((e) => e.detail.streamingStatus)).toEqual(['STARTED', 'ENDED']);
    for (const e of events) expect(streamingEventProblems(e)).toEqual([]);
    expect(events[0]?.detail).toMatchObject({ startFragmentNumber: s?.fragments[0]?.number, streamArn: s?.arn, mediaType: 'audio/L16' });
    expect(ep.connections).toBe(1);
    // The next call of the voice connector streams on the same stream, its timecodes after the first call's.
    await stream(service, 'tx-2', 3, t0 + 60_000);
    expect(ep.streams.size).toBe(1);
    expect(s?.fragments.length).toBe(13);
  });

  it('after an ERROR or a dropped connection it starts again from the first fragment not acknowledged: nothing lost, nothing twice', async () => {
    const { service, events, ep } = await setUp({
      errorAt: new Map([
        [3, 4002],
        [10, 4006],
      ]),
      dropAt: new Set([7]),
    });
    const t0 = Date.now();
    const sent = await stream(service, 'tx-3', 12, t0, 24);
    const [s] = [...ep.streams.values()];
    expect(ep.errors.some((e) => e.startsWith('ERROR 4002'))).toBe(true);
    expect(ep.errors.some((e) => e.startsWith('ERROR 4006'))).toBe(true);
    expect(ep.errors, ep.errors.join('; ')).toContain('dropped at fragment 7');
    expect(ep.connections).toBeGreaterThanOrEqual(3);
    expect(s?.fragments.map((f) => f.timecodeMs)).toEqual(sent.map((_, i) => t0 + 500 * i));
    expect(Buffer.concat(s?.fragments.map((f) => f.pcm) ?? []).equals(Buffer.concat(sent.map((p) => pcmBytes(p))))).toBe(true);
    await new Promise((r) => setTimeout(r, 50));
    expect(events.map((e) => e.detail.streamingStatus)).toEqual(['STARTED', 'ENDED']);
  });

  it('a sink that falls behind loses that leg (FAILED, counted), never holding anything up', async () => {
    const { service, events, ep } = await setUp({ silent: true });
    const t0 = Date.now();
    service.begin('tx-5', (side) => (side === 'a' ? meta('tx-5') : undefined));
    // Handed over without waiting on the sink: the 31st finds 30 unacknowledged and the leg is given up.
    for (let i = 0; i < 40; i++) service.audio('tx-5', 'a', t0 + 500 * i, fragment(i));
    expect(service.counters.fragmentsDropped).toBe(1);
    expect(service.counters.fragments).toBe(30);
    await new Promise((r) => setTimeout(r, 50));
    expect(events.map((e) => e.detail.streamingStatus)).toEqual(['FAILED']);
    expect(events[0]?.detail.failureReason).toMatch(/fell behind/);
    await service.end('tx-5');
    await new Promise((r) => setTimeout(r, 300));
    // Given up for good: no connection tried again.
    expect(ep.connections).toBeLessThanOrEqual(1);
    expect(events).toHaveLength(1);
  });

  it('a stream that refuses everything: FAILED once the retries are spent, and nothing else', async () => {
    const { service, events, ep } = await setUp({ alwaysError: 5000 }, 3);
    await stream(service, 'tx-4', 3, Date.now());
    await new Promise((r) => setTimeout(r, 50));
    expect(ep.connections).toBe(3);
    expect(events.map((e) => e.detail.streamingStatus)).toEqual(['FAILED']);
    expect(streamingEventProblems(events[0])).toEqual([]);
    expect(events[0]?.detail.failureReason).toMatch(/retries/);
    expect(service.counters.legsFailed).toBe(1);
  });
});
