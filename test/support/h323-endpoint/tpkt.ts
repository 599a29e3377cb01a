/**
 * TPKT framing (RFC 1006 §6) for the test endpoint: `03 00 LL LL` + payload, LLLL counting the header.
 * The reader reassembles a byte stream into payloads; an empty TPKT (length 4, a keep-alive) comes out
 * as an empty payload so the endpoint can count it.
 */

export const TPKT_MAX = 65535;

export function tpkt(payload: Buffer): Buffer {
  if (payload.length + 4 > TPKT_MAX) throw new RangeError('payload too long for one TPKT');
  const head = Buffer.from([3, 0, 0, 0]);
  head.writeUInt16BE(payload.length + 4, 2);
  return Buffer.concat([head, payload]);
}

export type TpktEvent = { readonly payload: Buffer } | { readonly error: string };

/** Accumulates TCP data and yields whole TPKT payloads; a bad version byte ends the stream with an error. */
export class TpktReader {
  #buf: Buffer = Buffer.alloc(0);
  #failed = false;

  push(data: Buffer): TpktEvent[] {
    if (this.#failed) return [];
    this.#buf = this.#buf.length === 0 ? data : Buffer.concat([this.#buf, data]);
    const out: TpktEvent[] = [];
    while (this.#buf.length >= 4) {
      if (this.#buf[0] !== 3) {
        this.#failed = true;
        out.push({ error: `TPKT version ${this.#buf[0] ?? -1}` });
        return out;
      }
      const len = this.#buf.readUInt16BE(2);
      if (len < 4) {
        this.#failed = true;
        out.push({ error: `TPKT length ${len}` });
        return out;
      }
      if (this.#buf.length < len) break;
      out.push({ payload: Buffer.from(this.#buf.subarray(4, len)) });
      this.#buf = this.#buf.subarray(len);
    }
    return out;
  }
}
