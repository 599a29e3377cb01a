import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { StatusEvents } from '../../../media/stream/status-events.ts';
import type { StreamingEnvelope } from '../../../media/stream/status-events.ts';
import { legKey, StreamingService } from '../../../media/stream/streaming.ts';
import type { StreamFragment, StreamLegMeta, StreamSink } from '../../../media/stream/streaming.ts';
import { streamingEventProblems } from '../../support/streaming-events.ts';

/** A sink that stores in memory and numbers each leg's first fragment at once. */
function memorySink(): StreamSink & { readonly written: Map<string, StreamFragment[]> } {
  const written = new Map<string, StreamFragment[]>();
  let n = 10n ** 40n;
  return {
    name: 'memory',
    written,
    open(leg, _header, hooks) {
      const list: StreamFragment[] = [];
      written.set(`${leg.transactionId}:${String(leg.isCaller)}`, list);
      return {
        write(f) {
          list.push(f);
          if (list.length === 1) hooks.started({ streamArn: `arn:aws:kinesis:us-east-1:000000000000:stream/memory`, startFragmentNumber: String((n += 1n)) });
          return true;
        },
        close: () => Promise.resolve(),
        abort: () => undefined,
      };
    },
  };
}

const meta = (isCaller: boolean): StreamLegMeta => ({ voiceConnectorId: 'abcdef1ghij2klmno3pqr4', transactionId: 'tx-9', callId: isCaller ? 'a@pbx' : 'b@carillon', direction: 'Inbound', isCaller, fromNumber: '+14155550123', toNumber: '+12065550111', region: 'us-east-1' });

describe('StreamingService', () => {
  it('opens a leg at its first fragment, says STARTED once per leg, UPDATED for legs streaming when the session changes, ENDED at the end — each event as Chime shaped it', async () => {
    const events: StreamingEnvelope[] = [];
    const sink = memorySink();
    const service = new StreamingService({ sink, events: new StatusEvents([{ name: 'memory', deliver: (e) => Promise.resolve(void events.push(e)) }], () => undefined), accountId: '000000000000', logger: pino({ level: 'silent' }), nowMs: () => 1_764_000_000_000 });
    service.begin('s', (leg) => (leg === legKey(0, 'a') ? meta(true) : leg === legKey(0, 'b') ? meta(false) : undefined));
    service.audio('s', legKey(0, 'a'), 1_764_000_000_000, new Int16Array(8000));
    service.audio('s', legKey(0, 'a'), 1_764_000_001_000, new Int16Array(8000));
    // A line nobody described is not streamed.
    service.audio('s', legKey(1, 'a'), 1_764_000_000_000, new Int16Array(8000));
    service.update('s', { cseq: '2 INVITE', from: '<sip:+14155550123@carrier>;tag=1' });
    service.audio('s', legKey(0, 'b'), 1_764_000_000_500, new Int16Array(4000));
    await service.end('s');
    await new Promise((r) => setTimeout(r, 10));
    expect(events.map((e) => `${e.detail.streamingStatus}:${String(e.detail.isCaller)}`)).toEqual(['STARTED:true', 'UPDATED:undefined', 'STARTED:false', 'ENDED:true', 'ENDED:false']);
    for (const e of events) expect(streamingEventProblems(e), JSON.stringify(e)).toEqual([]);
    expect(events[1]?.detail).toMatchObject({ streamingStatus: 'UPDATED', callId: 'a@pbx', updateHeaders: { cseq: '2 INVITE' } });
    expect(events[0]?.detail).toMatchObject({ direction: 'Inbound', mediaType: 'audio/L16', startTime: '2025-11-24T16:00:00.000Z', fromNumber: '+14155550123' });
    expect(sink.written.get('tx-9:true')?.length).toBe(2);
    expect(sink.written.get('tx-9:false')?.length).toBe(1);
    expect(service.counters).toMatchObject({ legsStarted: 2, fragments: 3, fragmentsDropped: 0 });
    expect(service.active).toBe(0);
  });
});
