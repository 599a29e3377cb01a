/**
 * A BFCP floor participant for tests, written from RFC 8855 with its own encoder and decoder —
 * it imports nothing of signaling/bfcp, so what it reads checks what Carillon writes, and the
 * other way round. Over TCP or UDP (on loopback IP literals): Hello, FloorRequest,
 * FloorRelease, FloorQuery, and waiting for a FloorRequestStatus / FloorStatus with a status.
 * Over UDP it acknowledges the server's notifications (FloorRequestStatusAck / FloorStatusAck
 * with R set, §6.2.2); it does not retransmit its own requests (loopback loses nothing).
 */
import dgram from 'node:dgram';
import net from 'node:net';

/** RFC 8855 Table 1 values the client uses. */
export const P = {
  FloorRequest: 1,
  FloorRelease: 2,
  FloorRequestQuery: 3,
  FloorRequestStatus: 4,
  UserQuery: 5,
  UserStatus: 6,
  FloorQuery: 7,
  FloorStatus: 8,
  Hello: 11,
  HelloAck: 12,
  Error: 13,
  FloorRequestStatusAck: 14,
  FloorStatusAck: 15,
  Goodbye: 16,
  GoodbyeAck: 17,
} as const;

/** RFC 8855 Table 4. */
export const STATUS = { Pending: 1, Accepted: 2, Granted: 3, Denied: 4, Cancelled: 5, Released: 6, Revoked: 7 } as const;
export type StatusName = keyof typeof STATUS;

/** One TLV as the client sees it: grouped types (14–18) have their id and children read. */
export interface Tlv {
  readonly type: number;
  readonly m: boolean;
  readonly body: Buffer;
  readonly id?: number;
  readonly children?: readonly Tlv[];
}

export interface Received {
  readonly version: number;
  readonly r: boolean;
  readonly primitive: number;
  readonly conferenceId: number;
  readonly transactionId: number;
  readonly userId: number;
  readonly attrs: readonly Tlv[];
}

const GROUPED = new Set([14, 15, 16, 17, 18]);

/** A TLV with its padding (Type|M, Length, contents, zeros to a multiple of 4). */
export function tlv(type: number, body: Buffer, m = true): Buffer {
  const len = 2 + body.length;
  const out = Buffer.alloc((len + 3) & ~3);
  out[0] = (type << 1) | (m ? 1 : 0);
  out[1] = len;
  body.copy(out, 2);
  return out;
}

export function u16Tlv(type: number, value: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(value);
  return tlv(type, b);
}

/** A whole message: the 12-octet header (no F) and the attributes. */
export function message(opts: { version?: number; r?: boolean; primitive: number; conferenceId: number; transactionId: number; userId: number; attrs?: readonly Buffer[] }): Buffer {
  const payload = Buffer.concat([...(opts.attrs ?? [])]);
  const h = Buffer.alloc(12);
  h[0] = ((opts.version ?? 2) << 5) | (opts.r === true ? 0x10 : 0);
  h[1] = opts.primitive;
  h.writeUInt16BE(payload.length / 4, 2);
  h.writeUInt32BE(opts.conferenceId, 4);
  h.writeUInt16BE(opts.transactionId, 8);
  h.writeUInt16BE(opts.userId, 10);
  return Buffer.concat([h, payload]);
}

function readTlvs(buf: Buffer, start: number, end: number): Tlv[] {
  const out: Tlv[] = [];
  let at = start;
  while (at + 2 <= end) {
    const type = (buf[at] as number) >> 1;
    const m = ((buf[at] as number) & 1) === 1;
    const len = buf[at + 1] as number;
    if (len < 2 || at + len > end) throw new Error(`bad TLV at ${at}`);
    const body = buf.subarray(at + 2, at + len);
    if (GROUPED.has(type)) out.push({ type, m, body, id: body.readUInt16BE(0), children: readTlvs(buf, at + 4, at + len) });
    else out.push({ type, m, body });
    at += (len + 3) & ~3;
  }
  return out;
}

/** Reads one whole unfragmented message (throws on what it cannot read: a test fails). */
export function readMessage(buf: Buffer): Received {
  const len = 12 + buf.readUInt16BE(2) * 4;
  if (buf.length !== len) throw new Error(`message of ${buf.length} octets, header says ${len}`);
  return {
    version: (buf[0] as number) >> 5,
    r: ((buf[0] as number) & 0x10) !== 0,
    primitive: buf[1] as number,
    conferenceId: buf.readUInt32BE(4),
    transactionId: buf.readUInt16BE(8),
    userId: buf.readUInt16BE(10),
    attrs: readTlvs(buf, 12, len),
  };
}

/** The floor request id and status a FloorRequestStatus (or a FLOOR-REQUEST-INFORMATION of FloorStatus) carries. */
export function requestStatus(m: Received): { requestId: number; status: number; queue: number } | undefined {
  const fri = m.attrs.find((a) => a.type === 15);
  if (fri?.children === undefined || fri.id === undefined) return undefined;
  const ors = fri.children.find((a) => a.type === 18) ?? fri.children.find((a) => a.type === 17);
  const rs = ors?.children?.find((a) => a.type === 5);
  if (rs === undefined) return undefined;
  return { requestId: fri.id, status: rs.body[0] as number, queue: rs.body[1] as number };
}

/** The ERROR-CODE of an Error. */
export function errorCode(m: Received): number | undefined {
  return m.primitive === P.Error ? m.attrs.find((a) => a.type === 6)?.body[0] : undefined;
}

export interface BfcpClientOptions {
  readonly conferenceId: number;
  readonly userId: number;
  /** How long a wait may take before the test fails, ms (not a timing assertion). */
  readonly waitMs?: number;
}

/** A floor participant over TCP or UDP. */
export class BfcpTestClient {
  readonly received: Received[] = [];
  readonly #opts: BfcpClientOptions;
  readonly #send: (b: Buffer) => void;
  readonly #close: () => void;
  #tid = 1;
  #waiters: { pred: (m: Received) => boolean; resolve: (m: Received) => void }[] = [];
  #closed = false;
  #udp = false;

  private constructor(opts: BfcpClientOptions, send: (b: Buffer) => void, close: () => void) {
    this.#opts = opts;
    this.#send = send;
    this.#close = close;
  }

  static tcp(host: string, port: number, opts: BfcpClientOptions): Promise<BfcpTestClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host, port });
      let pending = Buffer.alloc(0);
      const c = new BfcpTestClient(opts, (b) => s.write(b), () => s.destroy());
      s.on('data', (chunk: Buffer) => {
        pending = Buffer.concat([pending, chunk]);
        while (pending.length >= 12) {
          const len = 12 + pending.readUInt16BE(2) * 4;
          if (pending.length < len) break;
          c.#got(readMessage(pending.subarray(0, len)));
          pending = pending.subarray(len);
        }
      });
      s.on('close', () => {
        c.#closed = true;
      });
      s.once('error', reject);
      s.once('connect', () => resolve(c));
    });
  }

  static udp(host: string, port: number, opts: BfcpClientOptions): Promise<BfcpTestClient> {
    return new Promise((resolve) => {
      const s = dgram.createSocket('udp4');
      const c = new BfcpTestClient(opts, (b) => s.send(b, port, host), () => s.close());
      c.#udp = true;
      s.on('message', (b: Buffer) => {
        const m = readMessage(b);
        // §6.2.2: a server-initiated FloorRequestStatus / FloorStatus is acknowledged, R set, its Transaction ID.
        if (!m.r && (m.primitive === P.FloorRequestStatus || m.primitive === P.FloorStatus)) {
          c.#send(message({ r: true, primitive: m.primitive === P.FloorStatus ? P.FloorStatusAck : P.FloorRequestStatusAck, conferenceId: m.conferenceId, transactionId: m.transactionId, userId: m.userId }));
        }
        c.#got(m);
      });
      s.bind(0, '127.0.0.1', () => resolve(c));
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  #got(m: Received): void {
    this.received.push(m);
    const w = this.#waiters.find((x) => x.pred(m));
    if (w !== undefined) {
      this.#waiters = this.#waiters.filter((x) => x !== w);
      w.resolve(m);
    }
  }

  /** The first message (already received or to come) that satisfies `pred`. */
  waitFor(pred: (m: Received) => boolean, what = 'a message'): Promise<Received> {
    const seen = this.received.find(pred);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`user ${this.#opts.userId}: no ${what} (got ${JSON.stringify(this.received.map((m) => [m.primitive, requestStatus(m)?.status ?? errorCode(m)]))})`)), this.#opts.waitMs ?? 5000);
      this.#waiters.push({
        pred,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
    });
  }

  /** Sends a request; resolves with its response (same Transaction ID). */
  request(primitive: number, attrs: readonly Buffer[] = []): Promise<Received> {
    const transactionId = this.#tid++;
    this.#send(message({ primitive, conferenceId: this.#opts.conferenceId, transactionId, userId: this.#opts.userId, attrs }));
    return this.waitFor((m) => m.transactionId === transactionId && (!this.#udp || m.r), `answer to transaction ${transactionId}`);
  }

  hello(): Promise<Received> {
    return this.request(P.Hello);
  }

  /** FloorRequest for one floor; resolves with the answer's floor request id and status. */
  async floorRequest(floorId: number): Promise<{ requestId: number; status: number; queue: number }> {
    const m = await this.request(P.FloorRequest, [u16Tlv(2, floorId)]);
    const s = requestStatus(m);
    if (s === undefined) throw new Error(`FloorRequest answered by primitive ${m.primitive} (error ${errorCode(m)})`);
    return s;
  }

  floorRelease(requestId: number): Promise<Received> {
    return this.request(P.FloorRelease, [u16Tlv(3, requestId)]);
  }

  /** Waits for a FloorRequestStatus saying `status` (for `requestId` if given). */
  waitForStatus(status: StatusName, requestId?: number): Promise<Received> {
    return this.waitFor((m) => {
      if (m.primitive !== P.FloorRequestStatus) return false;
      const s = requestStatus(m);
      return s !== undefined && s.status === STATUS[status] && (requestId === undefined || s.requestId === requestId);
    }, `FloorRequestStatus ${status}`);
  }

  /** Sends raw octets as they are. */
  sendRaw(b: Buffer): void {
    this.#send(b);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#close();
  }
}
