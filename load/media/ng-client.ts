import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';

/**
 * A small client of rtpengine's NG control protocol (bencoded dictionaries over UDP, each message
 * prefixed by a cookie), for the relay benchmark's reference runs. Loopback only.
 */
export type Bencoded = number | string | Buffer | Bencoded[] | { [k: string]: Bencoded };

export function bencode(x: Bencoded): Buffer {
  if (typeof x === 'number') return Buffer.from(`i${Math.trunc(x)}e`);
  if (typeof x === 'string') return bencode(Buffer.from(x));
  if (Buffer.isBuffer(x)) return Buffer.concat([Buffer.from(`${x.length}:`), x]);
  if (Array.isArray(x)) return Buffer.concat([Buffer.from('l'), ...x.map(bencode), Buffer.from('e')]);
  const keys = Object.keys(x).sort();
  return Buffer.concat([Buffer.from('d'), ...keys.flatMap((k) => [bencode(k), bencode(x[k] as Bencoded)]), Buffer.from('e')]);
}

export function bdecode(b: Buffer, at = 0): [Bencoded, number] {
  const c = String.fromCharCode(b[at] as number);
  if (c === 'i') {
    const end = b.indexOf(0x65, at);
    return [Number(b.subarray(at + 1, end).toString()), end + 1];
  }
  if (c === 'l') {
    const out: Bencoded[] = [];
    let i = at + 1;
    while (b[i] !== 0x65) {
      const [v, next] = bdecode(b, i);
      out.push(v);
      i = next;
    }
    return [out, i + 1];
  }
  if (c === 'd') {
    const out: { [k: string]: Bencoded } = {};
    let i = at + 1;
    while (b[i] !== 0x65) {
      const [k, afterKey] = bdecode(b, i);
      const [v, next] = bdecode(b, afterKey);
      out[(k as Buffer).toString()] = v;
      i = next;
    }
    return [out, i + 1];
  }
  const colon = b.indexOf(0x3a, at);
  const n = Number(b.subarray(at, colon).toString());
  return [b.subarray(colon + 1, colon + 1 + n), colon + 1 + n];
}

export class NgClient {
  readonly #socket = dgram.createSocket('udp4');
  readonly #pending = new Map<string, (d: { [k: string]: Bencoded }) => void>();

  constructor(readonly port = 2223) {
    this.#socket.on('message', (msg) => {
      const space = msg.indexOf(0x20);
      const cookie = msg.subarray(0, space).toString();
      const done = this.#pending.get(cookie);
      if (done === undefined) return;
      this.#pending.delete(cookie);
      done(bdecode(msg, space + 1)[0] as { [k: string]: Bencoded });
    });
  }

  command(dict: { [k: string]: Bencoded }, timeoutMs = 2000): Promise<{ [k: string]: Bencoded }> {
    const cookie = randomBytes(6).toString('hex');
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.#pending.delete(cookie);
        reject(new Error(`NG ${String(dict.command)} timed out`));
      }, timeoutMs);
      this.#pending.set(cookie, (d) => {
        clearTimeout(t);
        resolve(d);
      });
      this.#socket.send(Buffer.concat([Buffer.from(`${cookie} `), bencode(dict)]), this.port, '127.0.0.1');
    });
  }

  close(): void {
    this.#socket.close();
  }
}
