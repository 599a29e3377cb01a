import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { EbmlDataTag, EbmlMasterTag, EbmlStreamDecoder, EbmlTagId, EbmlTagPosition, SimpleBlock } from 'ebml-stream';
import type { EbmlTag } from 'ebml-stream';
import { verifySigV4 } from '../../control-plane/api/sigv4.ts';
import { simpleTagOf } from './mkv-check.ts';

/**
 * A Kinesis Video Streams endpoint faithful to the documented PutMedia contract (reference
 * kinesis-streaming.md §2): the control-plane calls a sink needs (CreateStream, DescribeStream,
 * GetDataEndpoint), and POST /putMedia — headers checked, SigV4 (service kinesisvideo) verified,
 * 200 at once, then the chunked MKV body parsed as it arrives with an independent EBML decoder
 * and the KVS rules enforced (ERROR 4004 timecode backwards, 4006 a second header, 4010 an
 * undeclared track, 4011 a fragment without frames), acknowledgements streamed back while the
 * upload goes on: BUFFERING, RECEIVED, and PERSISTED on streams that keep data. Faults on demand:
 * an ERROR for given fragments, a connection dropped mid-fragment, fragment numbers unquoted.
 */
export interface KvsEndpointOptions {
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** Fragment index (counting every fragment that arrives, on any connection) → ErrorId answered instead of storing it, once. */
  readonly errorAt?: ReadonlyMap<number, number>;
  /** Fragment indexes at whose start the connection is cut, once each. */
  readonly dropAt?: ReadonlySet<number>;
  /** Every fragment answered with this ErrorId (a stream that never takes anything). */
  readonly alwaysError?: number;
  /** Write FragmentNumber as a bare JSON number (47 digits: a lossy parser corrupts it). */
  readonly bareNumbers?: boolean;
  /** Take the upload and never acknowledge anything (a sink that fell behind). */
  readonly silent?: boolean;
}

export interface StoredFragment {
  readonly timecodeMs: number;
  readonly number: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly pcm: Buffer;
}

export interface KvsStream {
  readonly name: string;
  readonly arn: string;
  readonly retentionHours: number;
  readonly mediaType: string;
  readonly fragments: StoredFragment[];
}

export interface KvsEndpoint {
  readonly url: string;
  readonly streams: Map<string, KvsStream>;
  /** PutMedia requests accepted (200). */
  readonly connections: number;
  /** Every ERROR sent and every request refused, as text. */
  readonly errors: string[];
  close(): Promise<void>;
}

const readBody = (req: http.IncomingMessage): Promise<string> =>
  new Promise((resolve) => {
    let b = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (b += c));
    req.on('end', () => resolve(b));
  });

export async function startKvsEndpoint(o: KvsEndpointOptions): Promise<KvsEndpoint> {
  const streams = new Map<string, KvsStream>();
  const errors: string[] = [];
  const counts = { connections: 0 };
  let fragmentIndex = 0;
  let numberSeq = 0;
  const errorAt = new Map(o.errorAt ?? []);
  const dropAt = new Set(o.dropAt ?? []);
  const sockets = new Set<Socket>();
  const refuse = (res: http.ServerResponse, status: number, type: string, message: string): void => {
    errors.push(`${status} ${type}: ${message}`);
    res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-ErrorType': type });
    res.end(JSON.stringify({ message }));
  };

  const server = http.createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'POST') return refuse(res, 405, 'InvalidArgumentException', 'POST only');
    if (path === '/putMedia') return void putMedia(req, res);
    void readBody(req).then((text) => {
      const body = (text === '' ? {} : JSON.parse(text)) as { StreamName?: string; DataRetentionInHours?: number; MediaType?: string; APIName?: string };
      const name = body.StreamName ?? '';
      if (path === '/createStream') {
        if (!/^[a-zA-Z0-9_.-]{1,256}$/.test(name)) return refuse(res, 400, 'InvalidArgumentException', 'bad StreamName');
        if (streams.has(name)) return refuse(res, 400, 'ResourceInUseException', 'stream exists');
        const arn = `arn:aws:kinesisvideo:us-east-1:000000000000:stream/${name}/${Date.now()}`;
        streams.set(name, { name, arn, retentionHours: body.DataRetentionInHours ?? 0, mediaType: body.MediaType ?? '', fragments: [] });
        return res.end(JSON.stringify({ StreamARN: arn }));
      }
      const s = streams.get(name);
      if (s === undefined) return refuse(res, 404, 'ResourceNotFoundException', `no stream ${name}`);
      if (path === '/describeStream') {
        return res.end(JSON.stringify({ StreamInfo: { StreamName: s.name, StreamARN: s.arn, Status: 'ACTIVE', MediaType: s.mediaType, DataRetentionInHours: s.retentionHours, CreationTime: Date.now() / 1000, Version: '1' } }));
      }
      if (path === '/getDataEndpoint') return res.end(JSON.stringify({ DataEndpoint: url }));
      return refuse(res, 404, 'UnknownOperationException', path ?? '');
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  async function putMedia(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const h = req.headers;
    const name = h['x-amzn-stream-name'];
    const arn = h['x-amzn-stream-arn'];
    if ((name === undefined) === (arn === undefined)) return refuse(res, 400, 'InvalidArgumentException', 'exactly one of x-amzn-stream-name and x-amzn-stream-arn');
    if (!['ABSOLUTE', 'RELATIVE'].includes(String(h['x-amzn-fragment-timecode-type']))) return refuse(res, 400, 'InvalidArgumentException', 'x-amzn-fragment-timecode-type');
    if (!/^\d+\.\d{3}$/.test(String(h['x-amzn-producer-start-timestamp']))) return refuse(res, 400, 'InvalidArgumentException', 'x-amzn-producer-start-timestamp');
    if (h['transfer-encoding'] !== 'chunked') return refuse(res, 400, 'InvalidArgumentException', 'chunked upload expected');
    const auth = await verifySigV4({ method: 'POST', url: req.url ?? '', rawHeaders: req.rawHeaders, body: '' }, (akid) => Promise.resolve(akid === o.credentials.accessKeyId ? o.credentials.secretAccessKey : undefined), Date.now(), 'kinesisvideo');
    if ('failure' in auth) return refuse(res, 403, 'NotAuthorizedException', `signature: ${auth.failure}`);
    const s = [...streams.values()].find((x) => x.name === name || x.arn === arn);
    if (s === undefined) return refuse(res, 404, 'ResourceNotFoundException', `no stream ${String(name ?? arn)}`);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.flushHeaders();
    counts.connections++;
    const num = (n: string): string => (o.bareNumbers === true ? n : `"${n}"`);
    const ack = (type: string, tc?: number, number?: string, errorId?: number): void => {
      if (o.silent === true) return;
      const parts = [`"EventType":"${type}"`];
      if (tc !== undefined) parts.push(`"FragmentTimecode":${tc}`);
      if (number !== undefined) parts.push(`"FragmentNumber":${num(number)}`);
      if (errorId !== undefined) parts.push(`"ErrorId":${errorId}`);
      res.write(`{${parts.join(',')}}\n`);
    };
    let ended = false;
    const fail = (errorId: number, why: string, tc?: number): void => {
      if (ended) return;
      ended = true;
      errors.push(`ERROR ${errorId}: ${why}`);
      ack('ERROR', tc, undefined, errorId);
      res.end();
      req.unpipe();
      req.resume();
    };
    const declared = new Set<number>();
    let headers = 0;
    let cur: { timecodeMs: number; number: string; blocks: number; pcm: Buffer[]; tags: Record<string, string>; index: number } | undefined;
    const decoder = new EbmlStreamDecoder({ bufferTagIds: [EbmlTagId.SimpleTag, EbmlTagId.TrackEntry] });
    const complete = (): void => {
      const f = cur;
      cur = undefined;
      if (f === undefined || ended) return;
      if (f.blocks === 0) return fail(4011, 'a fragment without frames', f.timecodeMs);
      const err = o.alwaysError ?? errorAt.get(f.index);
      if (err !== undefined) {
        errorAt.delete(f.index);
        return fail(err, `fragment ${f.index} refused (injected)`, f.timecodeMs);
      }
      s.fragments.push({ timecodeMs: f.timecodeMs, number: f.number, tags: f.tags, pcm: Buffer.concat(f.pcm) });
      ack('RECEIVED', f.timecodeMs, f.number);
      if (s.retentionHours > 0) ack('PERSISTED', f.timecodeMs, f.number);
    };
    decoder.on('data', (tag: EbmlTag) => {
      if (ended) return;
      if (tag.id === (EbmlTagId.EBML as number) && tag.position !== EbmlTagPosition.End && ++headers > 1) return fail(4006, 'a second EBML header in one upload');
      if (tag.id === (EbmlTagId.TrackEntry as number) && tag instanceof EbmlMasterTag) {
        const n = tag.Children.find((c) => c.id === (EbmlTagId.TrackNumber as number));
        if (n instanceof EbmlDataTag) declared.add(Number(n.data));
        if (declared.size > 3) return fail(4012, 'more than 3 tracks');
      } else if (tag.id === (EbmlTagId.Cluster as number) && tag.position === EbmlTagPosition.Start) {
        complete();
        const index = fragmentIndex++;
        if (dropAt.delete(index)) {
          errors.push(`dropped at fragment ${index}`);
          ended = true;
          req.socket.destroy();
          return;
        }
        cur = { timecodeMs: -1, number: '', blocks: 0, pcm: [], tags: {}, index };
      } else if (cur !== undefined && tag.id === (EbmlTagId.Timecode as number) && tag instanceof EbmlDataTag) {
        cur.timecodeMs = Number(tag.data);
        const last = s.fragments.at(-1)?.timecodeMs ?? -1;
        if (cur.timecodeMs <= last) return fail(4004, `timecode ${cur.timecodeMs} after ${last}`, cur.timecodeMs);
        cur.number = `913438523331825762492783623146${String(++numberSeq).padStart(17, '0')}`;
        ack('BUFFERING', cur.timecodeMs, cur.number);
      } else if (cur !== undefined && tag instanceof SimpleBlock) {
        if (!declared.has(tag.track)) return fail(4010, `track ${tag.track} not in the header`, cur.timecodeMs);
        cur.blocks++;
        cur.pcm.push(tag.payload);
      } else if (cur !== undefined && simpleTagOf(tag) !== undefined) {
        const [name, value] = simpleTagOf(tag) as [string, string];
        cur.tags[name] = value;
      } else if (tag.id === (EbmlTagId.Tags as number) && tag.position === EbmlTagPosition.End) {
        complete();
      }
    });
    decoder.on('error', () => fail(4006, 'unreadable MKV'));
    req.pipe(decoder);
    req.on('end', () => {
      complete();
      if (!ended) {
        ended = true;
        res.end();
      }
    });
  }

  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    streams,
    get connections() {
      return counts.connections;
    },
    errors,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
