import crypto from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { CreateStreamCommand, DescribeStreamCommand, GetDataEndpointCommand } from '@aws-sdk/client-kinesis-video';
import type { KinesisVideoClient } from '@aws-sdk/client-kinesis-video';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '../../common/sha256.ts';
import type { NodeLookup } from '../../common/resolver.ts';
import { AckStream } from './putmedia-acks.ts';
import type { PutMediaAck } from './putmedia-acks.ts';
import { streamOwnerName } from './streaming.ts';
import type { SinkHooks, SinkLeg, StreamFragment, StreamLegMeta, StreamSink } from './streaming.ts';

/**
 * Kinesis Video Streams as Chime streamed to it: each leg on a stream of the voice connector's
 * pool (`ChimeVoiceConnector-<id>-<uuid>`, created on demand, reused across calls), uploaded
 * live with PutMedia — one long chunked POST of MKV, acknowledgements streaming back on the same
 * connection. A fragment is kept until RECEIVED (PERSISTED when the stream retains data); after an
 * ERROR or a dropped connection the upload starts again (header first) from the first fragment
 * not yet acknowledged. STARTED carries the first fragment's number; the leg FAILS only once
 * the retries are spent.
 */
export interface KvsSinkOptions {
  readonly control: KinesisVideoClient;
  readonly region: string;
  /** What PutMedia is signed with (the control client's own: `client.config.credentials`). */
  readonly credentials: () => Promise<{ readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string }>;
  /** PutMedia endpoint override (skips GetDataEndpoint). */
  readonly dataEndpoint?: string | undefined;
  readonly maxQueued?: number;
  /** Connections tried in a row without an acknowledgement before the leg is given up. */
  readonly attempts?: number;
  /** How long the end of a leg waits for its last acknowledgements. */
  readonly drainMs?: number;
  /** How the PutMedia endpoint's host name resolves (the process's Resolver); absent: the system's. */
  readonly lookup?: NodeLookup | undefined;
}

interface PooledStream {
  readonly name: string;
  readonly arn: string;
  readonly endpoint: string;
}

/** Streams per owner (a voice connector; a recorded meeting: streamOwnerName), created when none is idle, handed back when a leg ends. */
class StreamPool {
  readonly #o: KvsSinkOptions;
  readonly #idle = new Map<string, PooledStream[]>();

  constructor(o: KvsSinkOptions) {
    this.#o = o;
  }

  async take(owner: string, retentionHours: number): Promise<PooledStream> {
    const ready = this.#idle.get(owner)?.pop();
    if (ready !== undefined) return ready;
    const name = `${owner}-${crypto.randomUUID()}`;
    const c = this.#o.control;
    await c.send(new CreateStreamCommand({ StreamName: name, DataRetentionInHours: retentionHours, MediaType: 'audio/L16' }));
    let arn: string | undefined;
    for (let i = 0; i < 100; i++) {
      const d = (await c.send(new DescribeStreamCommand({ StreamName: name }))).StreamInfo;
      if (d?.Status === 'ACTIVE') {
        arn = d.StreamARN;
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    if (arn === undefined) throw new Error(`stream ${name} did not become ACTIVE`);
    const endpoint = this.#o.dataEndpoint ?? (await c.send(new GetDataEndpointCommand({ StreamName: name, APIName: 'PUT_MEDIA' }))).DataEndpoint;
    if (endpoint === undefined) throw new Error(`no PUT_MEDIA endpoint for ${name}`);
    return { name, arn, endpoint };
  }

  give(owner: string, s: PooledStream): void {
    const list = this.#idle.get(owner) ?? [];
    list.push(s);
    this.#idle.set(owner, list);
  }
}

/** `<epochSeconds>.<ms>`, the milliseconds zero-padded (an unpadded "1.5" would read as 500 ms). */
export function producerStartTimestamp(ms: number): string {
  return `${Math.floor(ms / 1000)}.${String(Math.floor(ms) % 1000).padStart(3, '0')}`;
}

export class KvsStreamSink implements StreamSink {
  readonly name = 'kinesis-video';
  readonly #o: KvsSinkOptions;
  readonly #pool: StreamPool;
  readonly #signer: SignatureV4;

  constructor(o: KvsSinkOptions) {
    this.#o = o;
    this.#pool = new StreamPool(o);
    this.#signer = new SignatureV4({ service: 'kinesisvideo', region: o.region, sha256: Sha256, credentials: o.credentials });
  }

  open(leg: StreamLegMeta, header: Buffer, hooks: SinkHooks): SinkLeg {
    const upload = new PutMediaUpload(this.#o, this.#signer, header, hooks);
    const owner = streamOwnerName(leg);
    const stream = this.#pool.take(owner, leg.retentionHours ?? 0).then(
      (s) => {
        upload.start(s, (leg.retentionHours ?? 0) > 0);
        return s;
      },
      (err: unknown) => {
        upload.fail(`kinesis-video sink: ${err instanceof Error ? err.message : String(err)}`);
        return undefined;
      },
    );
    return {
      write: (f) => upload.write(f),
      abort: () => upload.abort(),
      close: async () => {
        await stream;
        await upload.finish();
        const s = await stream;
        if (s !== undefined && !upload.failed) this.#pool.give(owner, s);
      },
    };
  }
}

/** One leg's PutMedia upload: fragments waiting for their acknowledgement, connections as needed. */
class PutMediaUpload {
  failed = false;
  readonly #o: KvsSinkOptions;
  readonly #signer: SignatureV4;
  readonly #header: Buffer;
  readonly #hooks: SinkHooks;
  /** Fragments sent or to send, not yet acknowledged as stored, oldest first. */
  readonly #unacked: StreamFragment[] = [];
  #stream: PooledStream | undefined;
  #persist = false;
  #req: http.ClientRequest | undefined;
  #startedMs = 0;
  #misses = 0;
  #started = false;
  #firstNumber: string | undefined;
  #closing = false;
  #done: (() => void) | undefined;

  constructor(o: KvsSinkOptions, signer: SignatureV4, header: Buffer, hooks: SinkHooks) {
    this.#o = o;
    this.#signer = signer;
    this.#header = header;
    this.#hooks = hooks;
  }

  start(stream: PooledStream, persist: boolean): void {
    this.#stream = stream;
    this.#persist = persist;
    if (!this.failed) void this.#connect();
  }

  write(f: StreamFragment): boolean {
    if (this.failed) return true;
    if (this.#unacked.length >= (this.#o.maxQueued ?? 30)) return false;
    this.#unacked.push(f);
    this.#req?.write(f.mkv);
    return true;
  }

  /** Stops at once without a word (the leg was given up above). */
  abort(): void {
    if (this.failed) return;
    this.failed = true;
    this.#req?.destroy();
    this.#req = undefined;
    this.#unacked.length = 0;
    this.#done?.();
  }

  fail(reason: string): void {
    if (this.failed) return;
    this.failed = true;
    this.#req?.destroy();
    this.#req = undefined;
    this.#hooks.failed(reason);
    this.#done?.();
  }

  /** Ends the upload once the last fragments are acknowledged (or after drainMs). */
  finish(): Promise<void> {
    this.#closing = true;
    if (this.failed || this.#stream === undefined || this.#unacked.length === 0) {
      this.#req?.end();
      return Promise.resolve();
    }
    this.#req?.end();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#req?.destroy();
        resolve();
      }, this.#o.drainMs ?? 10_000);
      this.#done = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  async #connect(): Promise<void> {
    const s = this.#stream;
    if (s === undefined || this.failed) return;
    if (this.#misses >= (this.#o.attempts ?? 4)) return this.fail('kinesis-video sink: PutMedia retries exhausted');
    this.#misses++;
    // The data endpoint is what GetDataEndpoint answered: a server's word, checked before use.
    const url = URL.canParse('/putMedia', s.endpoint) ? new URL('/putMedia', s.endpoint) : undefined;
    if (url === undefined || (url.protocol !== 'https:' && url.protocol !== 'http:')) return this.fail('kinesis-video sink: the data endpoint is not an http(s) URL');
    this.#startedMs ||= Date.now();
    const headers: Record<string, string> = {
      host: url.host,
      'x-amzn-stream-name': s.name,
      'x-amzn-fragment-timecode-type': 'ABSOLUTE',
      'x-amzn-producer-start-timestamp': producerStartTimestamp(this.#startedMs),
      'x-amzn-fragment-acknowledgment-required': '1',
      'transfer-encoding': 'chunked',
      connection: 'keep-alive',
      'content-type': 'application/json',
      'user-agent': 'Carillon',
    };
    let signed: Record<string, string>;
    try {
      const r = await this.#signer.sign({ method: 'POST', protocol: url.protocol, hostname: url.hostname, ...(url.port === '' ? {} : { port: Number(url.port) }), path: url.pathname, headers, query: {} });
      signed = r.headers;
    } catch (err) {
      return this.fail(`kinesis-video sink: signing failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    const lib = url.protocol === 'https:' ? https : http;
    const req = lib.request(url, { method: 'POST', headers: signed, ...(this.#o.lookup === undefined ? {} : { lookup: this.#o.lookup }) });
    this.#req = req;
    const retry = (): void => {
      if (this.#req !== req || this.failed) return;
      this.#req = undefined;
      req.destroy();
      if (this.#unacked.length === 0 && this.#closing) return this.#done?.();
      setTimeout(() => void this.#connect(), Math.min(2000, 100 * 2 ** this.#misses));
    };
    req.on('error', retry);
    req.on('response', (res) => {
      if (res.statusCode !== 200) {
        const type = String(res.headers['x-amz-errortype'] ?? res.headers['x-amzn-errortype'] ?? '');
        res.resume();
        // A stream that is gone, or credentials refused, will not get better by trying again.
        if (res.statusCode === 403 || res.statusCode === 404 || /ResourceNotFound|NotAuthorized/.test(type)) return this.fail(`kinesis-video sink: PutMedia HTTP ${res.statusCode ?? 0} ${type}`.trim());
        return retry();
      }
      const acks = new AckStream();
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        for (const a of acks.push(chunk)) if (this.#onAck(a) === 'reconnect') return retry();
      });
      res.on('end', retry);
      res.on('error', retry);
    });
    req.write(this.#header);
    for (const f of this.#unacked) req.write(f.mkv);
    if (this.#closing) req.end();
  }

  #onAck(a: PutMediaAck): 'reconnect' | undefined {
    if (a.eventType === 'ERROR') return 'reconnect';
    const first = this.#unacked[0];
    // The leg's first fragment is numbered (BUFFERING); STARTED once it is stored, so a reader can start from that number.
    if (!this.#started && a.fragmentNumber !== undefined && first !== undefined && a.fragmentTimecode === first.timecodeMs) this.#firstNumber = a.fragmentNumber;
    if (a.eventType === (this.#persist ? 'PERSISTED' : 'RECEIVED') && a.fragmentTimecode !== undefined) {
      if (!this.#started && this.#firstNumber !== undefined && first !== undefined && a.fragmentTimecode >= first.timecodeMs) {
        this.#started = true;
        this.#hooks.started({ streamArn: this.#stream?.arn ?? '', startFragmentNumber: this.#firstNumber });
      }
      // Stored: this fragment and any before it are done; a connection that stores things is a good one.
      while (this.#unacked.length > 0 && (this.#unacked[0] as StreamFragment).timecodeMs <= a.fragmentTimecode) this.#unacked.shift();
      this.#misses = 0;
      if (this.#closing && this.#unacked.length === 0) this.#done?.();
    }
    return undefined;
  }
}
