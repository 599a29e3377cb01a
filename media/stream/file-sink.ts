import crypto from 'node:crypto';
import { mkdir, open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { FragmentQueue, streamOwnerName } from './streaming.ts';
import type { SinkHooks, SinkLeg, StreamFragment, StreamLegMeta, StreamSink } from './streaming.ts';
import { pcmBytes, WAV_HEADER_BYTES, wavHeader } from './wav.ts';

/**
 * The embedded sink, no AWS needed: per leg `<dir>/<voiceConnectorId>/<transactionId>-caller.mkv`
 * (a recorded meeting: `<dir>/meetings/<meetingId>/<transactionId>-mix.mkv`; the very bytes a Kinesis Video stream would take) and a `.wav` beside it whose header gets its
 * sizes when the leg ends (until then they read 0, and the file still opens). Writes are queued per
 * leg in order; a leg more than `maxQueued` fragments behind is given up (FAILED), never waited on.
 */
export interface FileSinkOptions {
  readonly dir: string;
  readonly accountId: string;
  /** Fragments a leg may have waiting for the disk before it is given up. */
  readonly maxQueued?: number;
}

/**
 * Fragment numbers in the shape Kinesis Video gives them (a decimal string of 47 digits), rising
 * across every leg this process streams: '9', the start time in ms, then a 33-digit counter.
 */
export class FragmentNumbers {
  #next: bigint;

  constructor(startMs: number) {
    this.#next = (9n * 10n ** 13n + BigInt(Math.floor(startMs) % 10 ** 13)) * 10n ** 33n;
  }

  take(): string {
    this.#next += 1n;
    return this.#next.toString();
  }
}

/** A stream ARN of Chime's form for a leg written somewhere other than Kinesis Video (`owner`: streamOwnerName). */
export function syntheticStreamArn(region: string, accountId: string, owner: string, nowMs: number): string {
  return `arn:aws:kinesisvideo:${region}:${accountId}:stream/${owner}-${crypto.randomUUID()}/${nowMs}`;
}

/** A name as one path segment: anything but letters, digits, `_` and `-` becomes `_`. */
const segment = (name: string): string => name.replace(/[^A-Za-z0-9_-]/g, '_');

export class FileStreamSink implements StreamSink {
  readonly name = 'file';
  readonly #opts: FileSinkOptions;
  readonly #numbers = new FragmentNumbers(Date.now());

  constructor(opts: FileSinkOptions) {
    this.#opts = opts;
  }

  /** Where a leg's files go (without extension). */
  static basePath(dir: string, leg: Pick<StreamLegMeta, 'voiceConnectorId' | 'transactionId' | 'isCaller' | 'sdp' | 'meeting'>): string {
    // A recorded meeting's mix goes under meetings/<its id>, one pair of files per recording.
    if (leg.meeting !== undefined) return path.join(dir, 'meetings', segment(leg.meeting.meetingId), `${segment(leg.transactionId)}-mix`);
    // A recording session's streams are named by their SDP label; a call's legs caller and callee.
    const which = leg.sdp === undefined ? (leg.isCaller ? 'caller' : 'callee') : `label-${segment(leg.sdp.mediaLabel)}`;
    return path.join(dir, leg.voiceConnectorId, `${leg.transactionId}-${which}`);
  }

  open(leg: StreamLegMeta, header: Buffer, hooks: SinkHooks): SinkLeg {
    const base = FileStreamSink.basePath(this.#opts.dir, leg);
    const arn = syntheticStreamArn(leg.region, this.#opts.accountId, streamOwnerName(leg), Date.now());
    let mkv: FileHandle | undefined;
    let wav: FileHandle | undefined;
    let wavBytes = 0;
    let first = true;
    const opening = (async () => {
      await mkdir(path.dirname(base), { recursive: true });
      mkv = await open(`${base}.mkv`, 'w');
      wav = await open(`${base}.wav`, 'w');
      await mkv.write(header);
      await wav.write(wavHeader(0));
    })();
    const queue = new FragmentQueue(
      this.#opts.maxQueued ?? 30,
      async (f) => {
        if (mkv === undefined || wav === undefined) return;
        await mkv.write(f.mkv);
        const pcm = pcmBytes(f.pcm);
        await wav.write(pcm, 0, pcm.length, WAV_HEADER_BYTES + wavBytes);
        wavBytes += pcm.length;
        const number = this.#numbers.take();
        if (first) {
          first = false;
          hooks.started({ streamArn: arn, startFragmentNumber: number });
        }
      },
      (err) => hooks.failed(`file sink: ${err instanceof Error ? err.message : String(err)}`),
      opening,
    );
    return {
      write: (f: StreamFragment): boolean => queue.push(f),
      abort: () => queue.stop(),
      close: async (): Promise<void> => {
        await queue.drained();
        try {
          if (wav !== undefined) await wav.write(wavHeader(wavBytes), 0, WAV_HEADER_BYTES, 0);
        } finally {
          await Promise.allSettled([mkv?.close(), wav?.close()]);
        }
      },
    };
  }
}
