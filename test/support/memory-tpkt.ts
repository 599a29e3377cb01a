import type { TpktConnection, TpktHandler } from '../../signaling/h323/transport/tpkt-listener.ts';

/** An in-process TPKT connection for the H.323 edge's tests: what the edge sends, and whether it closed. */
export class MemoryConnection implements TpktConnection {
  readonly remote = { address: '192.0.2.50', port: 40_000 };
  readonly local = { address: '127.0.0.1', port: 1720 };
  handler: TpktHandler = { frame: () => undefined, closed: () => undefined };
  readonly sent: Buffer[] = [];
  closed = false;
  send(payload: Buffer): boolean {
    if (this.closed) return false;
    this.sent.push(payload);
    return true;
  }
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.handler.closed('local');
  }
}
