import dgram from 'node:dgram';
import net from 'node:net';

/** One received SIP datagram/segment as text (latin1, byte-exact). */
export interface RawReply {
  readonly text: string;
  readonly status: number | undefined;
}

function toReply(buf: Buffer): RawReply {
  const text = buf.toString('latin1');
  const m = /^SIP\/2\.0 (\d{3}) /.exec(text);
  return { text, status: m === null ? undefined : Number(m[1]) };
}

/**
 * A bare UDP socket on 127.0.0.1 (or another loopback address) that sends raw bytes and collects whatever comes back: the
 * simplest possible peer, for malformed input and single-request checks.
 */
export class RawUdpPeer {
  readonly socket = dgram.createSocket('udp4');
  readonly replies: RawReply[] = [];
  #waiters: (() => void)[] = [];
  readonly #bind: string;

  /** `bind`: the loopback address this peer sends from (127.0.0.1 unless a test needs a second source). */
  constructor(bind = '127.0.0.1') {
    this.#bind = bind;
  }

  /** Binds a free port on `address` (any 127.0.0.0/8 address is this machine; default the constructor's). */
  async open(address = this.#bind): Promise<number> {
    await new Promise<void>((resolve) => this.socket.bind(0, address, resolve));
    this.socket.on('message', (buf) => {
      this.replies.push(toReply(buf));
      for (const w of this.#waiters.splice(0)) w();
    });
    return this.socket.address().port;
  }

  get port(): number {
    return this.socket.address().port;
  }

  send(bytes: Buffer | string, port: number): void {
    this.socket.send(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes, port, '127.0.0.1');
  }

  /** Waits until `pred` holds over the replies or `timeoutMs` passes; returns the matching reply. */
  async waitFor(pred: (r: RawReply) => boolean, timeoutMs = 2000): Promise<RawReply | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.replies.find(pred);
      if (hit !== undefined) return hit;
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.socket.close();
  }
}

/**
 * A response to a request received as text (RFC 3261 §8.2.6: Via, From, To, Call-ID and CSeq
 * copied, a To tag added), with the extra header lines and body a test wants to hand back.
 */
export function responseTo(requestText: string, status: number, opts: { toTag?: string; extra?: string; body?: string } = {}): string {
  const head = requestText.split('\r\n\r\n')[0] ?? '';
  const copied = head
    .split('\r\n')
    .slice(1)
    .filter((l) => /^(via|v|from|f|to|t|call-id|i|cseq):/i.test(l))
    .map((l) => (/^(to|t):/i.test(l) && !/;tag=/i.test(l) ? `${l};tag=${opts.toTag ?? 'callee1'}` : l));
  const body = opts.body ?? '';
  const type = body.length > 0 ? 'Content-Type: application/sdp\r\n' : '';
  return `SIP/2.0 ${status} Whatever\r\n${copied.join('\r\n')}\r\n${opts.extra ?? ''}${type}Content-Length: ${Buffer.byteLength(body, 'latin1')}\r\n\r\n${body}`;
}

/** A bare TCP connection that sends raw bytes and collects the byte stream back. */
export class RawTcpPeer {
  #socket: net.Socket | undefined;
  #data = '';
  closed = false;

  async connect(port: number): Promise<number> {
    const s = net.connect({ host: '127.0.0.1', port });
    this.#socket = s;
    await new Promise<void>((resolve, reject) => {
      s.once('connect', resolve);
      s.once('error', reject);
    });
    s.on('data', (b: Buffer) => (this.#data += b.toString('latin1')));
    s.on('error', () => undefined);
    s.on('close', () => (this.closed = true));
    return s.localPort ?? 0;
  }

  get localPort(): number {
    return this.#socket?.localPort ?? 0;
  }

  send(bytes: Buffer | string): void {
    this.#socket?.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  }

  /** Status codes of every response seen so far, in order. */
  statuses(): number[] {
    return [...this.#data.matchAll(/(?:^|\r?\n)SIP\/2\.0 (\d{3}) /g)].map((m) => Number(m[1]));
  }

  get text(): string {
    return this.#data;
  }

  async waitFor(pred: () => boolean, timeoutMs = 2000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!pred()) {
      if (Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 10));
    }
    return true;
  }

  close(): void {
    this.#socket?.destroy();
  }
}
