/**
 * Kinesis Video PutMedia acknowledgements, read as they stream back while the upload goes on: a
 * sequence of flat JSON objects (newlines between them, or not), split anywhere across chunks.
 * Read losslessly: a fragment number is about 47 digits, quoted or not, and stays a string.
 */
export interface PutMediaAck {
  /** BUFFERING, RECEIVED, PERSISTED, ERROR or IDLE. */
  readonly eventType: string;
  /** Echo of the fragment's Cluster Timecode (epoch ms with ABSOLUTE timecodes). */
  readonly fragmentTimecode?: number;
  readonly fragmentNumber?: string;
  readonly errorId?: number;
}

const field = (text: string, name: string): string | undefined => new RegExp(`"${name}"\\s*:\\s*"?([^",}\\s]+)"?`).exec(text)?.[1];

/** One acknowledgement object's text → its fields (undefined when it names no EventType). */
export function parseAck(text: string): PutMediaAck | undefined {
  const eventType = field(text, 'EventType');
  if (eventType === undefined) return undefined;
  const tc = field(text, 'FragmentTimecode');
  const num = field(text, 'FragmentNumber');
  const err = field(text, 'ErrorId');
  return {
    eventType,
    ...(tc !== undefined && /^\d+$/.test(tc) ? { fragmentTimecode: Number(tc) } : {}),
    ...(num !== undefined && /^\d+$/.test(num) ? { fragmentNumber: num } : {}),
    ...(err !== undefined && /^\d+$/.test(err) ? { errorId: Number(err) } : {}),
  };
}

/** Feeds response chunks in; hands out each acknowledgement once its object is complete. */
export class AckStream {
  #pending = '';

  push(chunk: string): PutMediaAck[] {
    this.#pending += chunk;
    const out: PutMediaAck[] = [];
    for (;;) {
      const open = this.#pending.indexOf('{');
      if (open < 0) {
        this.#pending = '';
        return out;
      }
      const close = this.#pending.indexOf('}', open);
      if (close < 0) {
        this.#pending = this.#pending.slice(open);
        // A runaway object (no closing brace for 64 kB) is garbage: drop it.
        if (this.#pending.length > 65_536) this.#pending = '';
        return out;
      }
      const ack = parseAck(this.#pending.slice(open, close + 1));
      if (ack !== undefined) out.push(ack);
      this.#pending = this.#pending.slice(close + 1);
    }
  }
}
