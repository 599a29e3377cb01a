import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { EventTarget } from './status-events.ts';
import { FragmentQueue } from './streaming.ts';
import type { SinkHooks, SinkLeg, StreamLegMeta, StreamSink } from './streaming.ts';

/**
 * Kinesis Data Streams as a streaming sink (Carillon's addition: Chime streamed to Kinesis Video
 * only). One record per fragment, each a self-contained MKV — EBML header, Segment, Info, Tracks,
 * one Cluster and its Tags, the shape a GetMedia chunk has — so the same parser reads every sink;
 * PartitionKey = the transaction id keeps a call's records in order on one shard. A leg's records
 * go one PutRecords at a time, in order; entries the service refuses are sent again (3 tries).
 */
export interface KdsSinkOptions {
  readonly client: KinesisClient;
  readonly streamName: string;
  readonly region: string;
  readonly accountId: string;
  readonly maxQueued?: number;
  /** Tries per record before the leg is given up. */
  readonly attempts?: number;
}

/** Sends `records` (in order) with PutRecords, again for the ones refused; the sequence numbers, or throws. */
async function putAll(o: KdsSinkOptions, records: readonly { Data: Uint8Array; PartitionKey: string }[]): Promise<string[]> {
  const seqs: (string | undefined)[] = records.map(() => undefined);
  let todo = records.map((_, i) => i);
  for (let attempt = 0; attempt < (o.attempts ?? 3) && todo.length > 0; attempt++) {
    const out = await o.client.send(new PutRecordsCommand({ StreamName: o.streamName, Records: todo.map((i) => records[i] as { Data: Uint8Array; PartitionKey: string }) }));
    const again: number[] = [];
    (out.Records ?? []).forEach((r, k) => {
      const i = todo[k] as number;
      if (r.SequenceNumber !== undefined && r.ErrorCode === undefined) seqs[i] = r.SequenceNumber;
      else again.push(i);
    });
    todo = again;
  }
  if (todo.length > 0) throw new Error(`${todo.length} record(s) refused by ${o.streamName} after retries`);
  return seqs as string[];
}

export class KdsStreamSink implements StreamSink {
  readonly name = 'kinesis-data';
  readonly #opts: KdsSinkOptions;

  constructor(opts: KdsSinkOptions) {
    this.#opts = opts;
  }

  open(leg: StreamLegMeta, header: Buffer, hooks: SinkHooks): SinkLeg {
    const o = this.#opts;
    const arn = `arn:aws:kinesis:${o.region}:${o.accountId}:stream/${o.streamName}`;
    let first = true;
    const queue = new FragmentQueue(
      o.maxQueued ?? 30,
      async (f) => {
        const [seq] = await putAll(o, [{ Data: Buffer.concat([header, f.mkv]), PartitionKey: leg.transactionId }]);
        if (first && seq !== undefined) {
          first = false;
          hooks.started({ streamArn: arn, startFragmentNumber: seq });
        }
      },
      (err) => hooks.failed(`kinesis-data sink: ${err instanceof Error ? err.message : String(err)}`),
    );
    return { write: (f) => queue.push(f), close: () => queue.drained(), abort: () => queue.stop() };
  }
}

/** Status events as JSON records on a Kinesis data stream (PartitionKey = the transaction id). */
export function kinesisEventTarget(o: KdsSinkOptions): EventTarget {
  return {
    name: `kinesis:${o.streamName}`,
    async deliver(event, body) {
      // A call's events in order on one shard; a meeting's likewise.
      const tx = (event.detail.transactionId as string | undefined) ?? (event.detail.meetingId as string | undefined) ?? event.id;
      await putAll(o, [{ Data: Buffer.from(body, 'utf8'), PartitionKey: tx }]);
    },
  };
}
