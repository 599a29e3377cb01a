import { DEFAULT_MAX_MESSAGE_BYTES } from './parse.ts';

export interface StreamFramerOptions {
  readonly maxMessageBytes?: number;
  /** One whole message (header section + Content-Length bytes of body). */
  readonly onMessage: (msg: Buffer) => void;
  /** A CRLFCRLF keep-alive ping between messages (RFC 5626 §3.5.1). */
  readonly onKeepAlive?: () => void;
  /** A fatal framing fault; the caller closes the connection. */
  readonly onError: (reason: string) => void;
}

/**
 * Frames SIP messages off a byte stream (RFC 3261 §18.3): find the blank line, read
 * Content-Length (missing = 0), wait for the body. Splits coalesced messages and joins split
 * ones; the search resumes where it stopped so many tiny chunks cost linear time.
 */
export class StreamFramer {
  readonly #max: number;
  readonly #opts: StreamFramerOptions;
  #buf: Buffer = Buffer.alloc(0);
  /** Where the blank-line search resumes. */
  #scanFrom = 0;
  /** Known total size of the message being assembled, once its head has been read. */
  #need = -1;
  #dead = false;
  #framed = 0;

  constructor(opts: StreamFramerOptions) {
    this.#opts = opts;
    this.#max = opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  }

  /** Bytes of a message begun but not yet whole (0 between messages). */
  get pendingBytes(): number {
    return this.#buf.length;
  }

  /** Whole messages framed so far. */
  get messagesFramed(): number {
    return this.#framed;
  }

  push(chunk: Buffer): void {
    if (this.#dead) return;
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    for (;;) {
      if (this.#dead) return;
      const buf = this.#buf;
      if (this.#need < 0) {
        // Skip CRLF keep-alives between messages.
        let i = 0;
        while (i < buf.length && (buf[i] === 0x0d || buf[i] === 0x0a)) i++;
        if (i > 0) {
          if (i >= 4 && buf[0] === 0x0d && buf[1] === 0x0a && buf[2] === 0x0d && buf[3] === 0x0a) this.#opts.onKeepAlive?.();
          this.#buf = buf.subarray(i);
          this.#scanFrom = 0;
          continue;
        }
        if (buf.length === 0) return;
        const end = buf.indexOf('\r\n\r\n', Math.max(0, this.#scanFrom - 3), 'latin1');
        if (end < 0) {
          if (buf.length > this.#max) return this.#fail('Header section too large');
          this.#scanFrom = buf.length;
          return;
        }
        const cl = contentLength(buf, end);
        if (cl === undefined) return this.#fail('Bad Content-Length');
        this.#need = end + 4 + cl;
        if (this.#need > this.#max) return this.#fail('Message too large');
      }
      if (this.#buf.length < this.#need) return;
      const msg = this.#buf.subarray(0, this.#need);
      this.#buf = this.#buf.subarray(this.#need);
      this.#need = -1;
      this.#scanFrom = 0;
      this.#framed++;
      this.#opts.onMessage(msg);
    }
  }

  #fail(reason: string): void {
    this.#dead = true;
    this.#buf = Buffer.alloc(0);
    this.#opts.onError(reason);
  }
}

/** Content-Length (or compact `l`) from the head ending at `end`; 0 when absent. */
function contentLength(buf: Buffer, end: number): number | undefined {
  const head = buf.toString('latin1', 0, end);
  const m = /(?:^|\n)[ \t]*(?:content-length|l)[ \t]*:[ \t]*([^\r\n]*)/i.exec(head);
  if (m === null) return 0;
  const v = (m[1] as string).trim();
  if (!/^\d{1,9}$/.test(v)) return undefined;
  return Number(v);
}
