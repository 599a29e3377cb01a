import { readdirSync, readFileSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Logger } from 'pino';
import type { Timers, TimerHandle } from '../common/clock.ts';
import { awsRequestHandler } from '../common/aws-http.ts';
import type { NodeLookup } from '../common/resolver.ts';

/**
 * CDRs to an S3-compatible bucket (`--cdr-bucket`, or the CdrBucket an admin set with
 * UpdateGlobalSettings; `--s3-endpoint` for anything not AWS): every
 * CDR is first written to `<data>/cdrs/<key>` (the spool), then put to the bucket under the same
 * key and removed from the spool once stored. Whatever is still in the spool — the process died,
 * the bucket was unreachable — is sent at the next start and on every retry interval, so a CDR
 * is never lost between the end of its call and the bucket.
 */
export interface CdrUploaderOptions {
  readonly spool: string;
  /** The bucket now (the flag, or the account's global settings); undefined: CDRs stay local. */
  readonly bucket: () => string | undefined;
  /** An S3-compatible endpoint (path-style addressing); absent: AWS S3 by region. */
  readonly endpoint?: string | undefined;
  readonly region?: string | undefined;
  /** How the bucket's host name resolves (the process's Resolver); absent: the system's. */
  readonly lookup?: NodeLookup | undefined;
  readonly logger: Logger;
  readonly timers: Timers;
  readonly retryMs?: number;
  /** Which spool files (paths relative to it) are records to put; default: CDR files (named `…_<uuid>`). */
  readonly matches?: ((relativePath: string) => boolean) | undefined;
  /** The objects' Content-Type (default application/json). */
  readonly contentType?: string | undefined;
}

const isCdrFile = (rel: string): boolean => /_[0-9a-f-]{36}$/.test(rel);

export class CdrUploader {
  readonly #opts: CdrUploaderOptions;
  readonly #s3: S3Client;
  /** Files queued or in flight (a file is never put twice at once). */
  readonly #queued = new Set<string>();
  readonly #waiting: string[] = [];
  #running = 0;
  #timer: TimerHandle | undefined;
  #closed = false;
  readonly counters = { uploaded: 0, failed: 0 };
  #idle: (() => void)[] = [];

  constructor(opts: CdrUploaderOptions) {
    this.#opts = opts;
    this.#s3 = new S3Client({
      region: opts.region ?? process.env.AWS_REGION ?? 'us-east-1',
      ...(opts.endpoint === undefined ? {} : { endpoint: opts.endpoint, forcePathStyle: true }),
      ...(opts.lookup === undefined ? {} : { requestHandler: awsRequestHandler(opts.lookup) }),
    });
  }

  /** Sends whatever the spool holds, then keeps retrying leftovers every `retryMs`. */
  start(): void {
    this.#sweep();
  }

  #sweep(): void {
    if (this.#closed) return;
    this.#timer = this.#opts.timers.setTimeout(() => this.#sweep(), this.#opts.retryMs ?? 30_000);
    if (this.#opts.bucket() === undefined) return;
    let files: string[];
    try {
      files = readdirSync(this.#opts.spool, { recursive: true, encoding: 'utf8' });
    } catch {
      files = [];
    }
    const matches = this.#opts.matches ?? isCdrFile;
    for (const rel of files) if (matches(rel)) this.enqueue(path.join(this.#opts.spool, rel));
  }

  /** A CDR file just written to the spool. */
  enqueue(file: string): void {
    if (this.#closed || this.#queued.has(file) || this.#opts.bucket() === undefined) return;
    this.#queued.add(file);
    this.#waiting.push(file);
    this.#pump();
  }

  /** Up to 4 puts at once, in the order the files were queued. */
  #pump(): void {
    while (this.#running < 4) {
      const next = this.#waiting.shift();
      if (next === undefined) break;
      this.#running++;
      void this.#put(next).finally(() => {
        this.#running--;
        this.#queued.delete(next);
        this.#pump();
        if (this.#running === 0 && this.#queued.size === 0) for (const f of this.#idle.splice(0)) f();
      });
    }
  }

  async #put(file: string): Promise<void> {
    const key = path.relative(this.#opts.spool, file).split(path.sep).join('/');
    const bucket = this.#opts.bucket();
    if (bucket === undefined) return;
    try {
      const body = readFileSync(file);
      await this.#s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: this.#opts.contentType ?? 'application/json' }));
      unlinkSync(file);
      this.counters.uploaded++;
    } catch (err) {
      this.counters.failed++;
      this.#opts.logger.warn({ err, key }, 'CDR not stored in the bucket yet; kept in the spool for the next try');
    }
  }

  /** Resolves when nothing is queued or in flight. */
  idle(): Promise<void> {
    if (this.#running === 0 && this.#queued.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  async close(): Promise<void> {
    await this.idle();
    this.#closed = true;
    if (this.#timer !== undefined) this.#opts.timers.clearTimeout(this.#timer);
    this.#s3.destroy();
  }
}
