/**
 * TPKT (RFC 1006 §6): `03 00 LL LL` and the payload, LL the big-endian length including the four
 * header octets. One TPKT holds one Q.931 message (or one H.245 message on its own connection).
 * An empty TPKT (length 4) is a keep-alive (Tandberg sends them); a non-zero reserved octet is
 * tolerated (old Cisco gateways); a header and its payload may arrive split anywhere. A version
 * other than 3, a length below 4 or above the connection's bound ends the stream: after a
 * framing error the reader takes nothing more (the connection is closed).
 */
import type { TpktFramer } from '../transport/tpkt-listener.ts';

/** The largest payload one TPKT can carry. */
export const TPKT_MAX_PAYLOAD = 65_531;
/** The default bound on one Q.931 message (H.225 messages are a few hundred octets; fastStart lists more). */
export const Q931_MAX_PAYLOAD = 16_384;

/** The TPKT octets of one payload. */
export function encodeTpkt(payload: Buffer): Buffer {
  if (payload.length > TPKT_MAX_PAYLOAD) throw new RangeError(`TPKT payload of ${payload.length} octets`);
  const out = Buffer.allocUnsafe(payload.length + 4);
  out[0] = 3;
  out[1] = 0;
  out.writeUInt16BE(payload.length + 4, 2);
  payload.copy(out, 4);
  return out;
}

/** Reads TPKT frames out of a byte stream, holding at most one frame's octets. */
export class TpktReader implements TpktFramer {
  readonly #maxPayload: number;
  /** Octets of the frame being read (header included), up to its length. */
  #buf: Buffer;
  #have = 0;
  #need = 4;
  #failed: string | undefined;

  constructor(maxPayload: number = Q931_MAX_PAYLOAD) {
    this.#maxPayload = Math.min(maxPayload, TPKT_MAX_PAYLOAD);
    this.#buf = Buffer.allocUnsafe(Math.min(this.#maxPayload + 4, 2048));
  }

  get partial(): boolean {
    return this.#have > 0;
  }

  push(chunk: Buffer): { readonly frames: readonly Buffer[]; readonly keepalives: number; readonly error: string | undefined } {
    const frames: Buffer[] = [];
    let keepalives = 0;
    if (this.#failed !== undefined) return { frames, keepalives, error: this.#failed };
    let at = 0;
    while (at < chunk.length) {
      const take = Math.min(this.#need - this.#have, chunk.length - at);
      chunk.copy(this.#buf, this.#have, at, at + take);
      this.#have += take;
      at += take;
      if (this.#have < this.#need) break;
      if (this.#need === 4) {
        if (this.#buf[0] !== 3) return this.#fail(frames, keepalives, `TPKT version ${this.#buf[0] ?? 0}`);
        const length = this.#buf.readUInt16BE(2);
        if (length < 4) return this.#fail(frames, keepalives, `TPKT length ${length}`);
        if (length - 4 > this.#maxPayload) return this.#fail(frames, keepalives, `TPKT payload of ${length - 4} octets exceeds ${this.#maxPayload}`);
        if (length === 4) {
          keepalives++;
          this.#have = 0;
          continue;
        }
        this.#need = length;
        if (this.#buf.length < length) {
          const grown = Buffer.allocUnsafe(length);
          this.#buf.copy(grown, 0, 0, 4);
          this.#buf = grown;
        }
        continue;
      }
      frames.push(Buffer.from(this.#buf.subarray(4, this.#need)));
      this.#have = 0;
      this.#need = 4;
    }
    return { frames, keepalives, error: undefined };
  }

  #fail(frames: Buffer[], keepalives: number, error: string): { frames: Buffer[]; keepalives: number; error: string } {
    this.#failed = error;
    this.#have = 0;
    return { frames, keepalives, error };
  }
}
