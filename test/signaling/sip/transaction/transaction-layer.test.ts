import { describe, expect, it } from 'vitest';
import type { Random } from '../../../../common/random.ts';
import { serializeMessage } from '../../../../signaling/sip/message/serialize.ts';
import { parseMessage } from '../../../../signaling/sip/message/parse.ts';
import type { SipMessage, SipRequest, SipResponse } from '../../../../signaling/sip/message/types.ts';
import { TransactionLayer } from '../../../../signaling/sip/transaction/transaction-layer.ts';
import type { ClientTransaction, ServerTransaction, TransactionUser } from '../../../../signaling/sip/transaction/types.ts';
import type { Destination, SendFailure, SipSender, Source, TransportName } from '../../../../signaling/sip/transport/types.ts';
import { createResponse } from '../../../../signaling/sip/ua/responses.ts';
import { ManualTimers } from '../../../support/manual-timers.ts';

/** Records every send with the fake time it happened at. */
class FakeSender implements SipSender {
  readonly sent: { at: number; msg: SipMessage; dest: Destination }[] = [];
  failNext: SendFailure | undefined;
  constructor(private readonly clock: ManualTimers) {}
  send(msg: SipMessage, dest: Destination, onError?: (f: SendFailure) => void): void {
    if (this.failNext !== undefined && onError !== undefined) {
      const f = this.failNext;
      this.failNext = undefined;
      queueMicrotask(() => onError(f));
      return;
    }
    // Copy through the wire format, as a real transport would.
    const r = parseMessage(serializeMessage(msg));
    if (!r.ok) throw new Error(`unserializable: ${r.reason}`);
    this.sent.push({ at: this.clock.monoMs(), msg: r.message, dest });
  }
  sendRaw(buf: Buffer, dest: Destination, onError?: (f: SendFailure) => void): void {
    const r = parseMessage(buf);
    if (!r.ok) throw new Error(`unparseable: ${r.reason}`);
    this.send(r.message, dest, onError);
  }
  local(_t: TransportName): { address: string; port: number } {
    return { address: '127.0.0.1', port: 5060 };
  }
  times(pred: (m: SipMessage) => boolean): number[] {
    return this.sent.filter((s) => pred(s.msg)).map((s) => s.at);
  }
}

let n = 0;
const random: Random = { token: (len) => String(++n).padStart(len, '0'), float: () => 0.5 };

class RecordingUser implements TransactionUser {
  requests: ServerTransaction[] = [];
  acks: SipRequest[] = [];
  cancels: ServerTransaction[] = [];
  strays: SipResponse[] = [];
  transportErrors: ServerTransaction[] = [];
  onRequest(tx: ServerTransaction): void {
    this.requests.push(tx);
  }
  onAck(ack: SipRequest): void {
    this.acks.push(ack);
  }
  onCancel(invite: ServerTransaction): void {
    this.cancels.push(invite);
  }
  onStrayResponse(res: SipResponse): void {
    this.strays.push(res);
  }
  onServerTransportError(invite: ServerTransaction): void {
    this.transportErrors.push(invite);
  }
}

function setup(transport: TransportName = 'udp') {
  const timers = new ManualTimers();
  const sender = new FakeSender(timers);
  const user = new RecordingUser();
  const layer = new TransactionLayer({ sender, user, timers, random });
  const src: Source = { transport, address: '127.0.0.2', port: 5070, localAddress: '127.0.0.1', localPort: 5060, ...(transport === 'udp' ? {} : { connectionId: 1 }) };
  const dest: Destination = { transport, address: '127.0.0.2', port: 5070 };
  return { timers, sender, user, layer, src, dest };
}

function request(method: string, branch = 'z9hG4bKabc', cseq = 1): SipRequest {
  return {
    kind: 'request',
    method,
    uri: 'sip:bob@127.0.0.1',
    headers: [
      { name: 'via', value: `SIP/2.0/UDP 127.0.0.2:5070;branch=${branch}` },
      { name: 'max-forwards', value: '70' },
      { name: 'from', value: '<sip:alice@127.0.0.2>;tag=a' },
      { name: 'to', value: '<sip:bob@127.0.0.1>' },
      { name: 'call-id', value: 'c1' },
      { name: 'cseq', value: `${cseq} ${method}` },
    ],
    body: Buffer.alloc(0),
  };
}

/** A response to the request Carillon sent (its top Via is Carillon's). */
function answer(sent: SipMessage, status: number, toTag = 'b'): SipResponse {
  return createResponse(sent as SipRequest, status, { toTag });
}

describe('INVITE client transaction', () => {
  it('retransmits on UDP with Timer A doubling and times out with Timer B at 64·T1', () => {
    const { timers, sender, layer, dest } = setup();
    let timedOut = 0;
    const tx = layer.sendRequest(request('INVITE'), dest, { onResponse: () => undefined, onTimeout: () => timedOut++, onTransportError: () => undefined });
    timers.advance(40_000);
    expect(sender.times((m) => m.kind === 'request')).toEqual([0, 500, 1500, 3500, 7500, 15500, 31500]);
    expect(timedOut).toBe(1);
    expect(tx.state).toBe('terminated');
    expect(layer.counts()).toEqual({ client: 0, server: 0 });
  });

  it('never retransmits on TCP', () => {
    const { timers, sender, layer } = setup('tcp');
    layer.sendRequest(request('INVITE'), { transport: 'tcp', address: '127.0.0.2', port: 5070 }, { onResponse: () => undefined, onTimeout: () => undefined, onTransportError: () => undefined });
    timers.advance(40_000);
    expect(sender.sent).toHaveLength(1);
  });

  it('ACKs a non-2xx final itself (§17.1.1.3), again on each retransmission, and ends after Timer D', () => {
    const { timers, sender, layer, dest } = setup();
    const got: number[] = [];
    const tx = layer.sendRequest(request('INVITE'), dest, { onResponse: (r) => got.push(r.status), onTimeout: () => undefined, onTransportError: () => undefined });
    const invite = sender.sent[0]!.msg;
    layer.receiveResponse(answer(invite, 180), { transport: 'udp', address: '127.0.0.2', port: 5070, localAddress: '', localPort: 0 });
    expect(tx.state).toBe('proceeding');
    const busy = answer(invite, 486);
    layer.receiveResponse(busy, { transport: 'udp', address: '127.0.0.2', port: 5070, localAddress: '', localPort: 0 });
    layer.receiveResponse(busy, { transport: 'udp', address: '127.0.0.2', port: 5070, localAddress: '', localPort: 0 });
    const acks = sender.sent.filter((s) => s.msg.kind === 'request' && s.msg.method === 'ACK').map((s) => s.msg as SipRequest);
    expect(acks).toHaveLength(2);
    const ack = acks[0]!;
    expect(ack.uri).toBe((invite as SipRequest).uri);
    expect(ack.headers.find((h) => h.name === 'cseq')?.value).toBe('1 ACK');
    expect(ack.headers.find((h) => h.name === 'to')?.value).toContain('tag=b');
    expect(ack.headers.find((h) => h.name === 'via')?.value).toBe(invite.headers.find((h) => h.name === 'via')?.value);
    expect(got).toEqual([180, 486]);
    expect(tx.state).toBe('completed');
    timers.advance(32_000);
    expect(tx.state).toBe('terminated');
  });

  it('2xx → Accepted (RFC 6026): retransmitted 2xx reach the TU, Timer M ends it', () => {
    const { timers, sender, layer, dest } = setup();
    const got: number[] = [];
    const tx = layer.sendRequest(request('INVITE'), dest, { onResponse: (r) => got.push(r.status), onTimeout: () => undefined, onTransportError: () => undefined });
    const ok = answer(sender.sent[0]!.msg, 200);
    const s: Source = { transport: 'udp', address: '127.0.0.2', port: 5070, localAddress: '', localPort: 0 };
    layer.receiveResponse(ok, s);
    layer.receiveResponse(ok, s);
    expect(got).toEqual([200, 200]);
    expect(tx.state).toBe('accepted');
    timers.advance(64 * 500);
    expect(tx.state).toBe('terminated');
  });

  it('CANCEL waits for a provisional (§9.1), carries the INVITE branch, and is a no-op after a final', () => {
    const { sender, layer, dest } = setup();
    const tx: ClientTransaction = layer.sendRequest(request('INVITE'), dest, { onResponse: () => undefined, onTimeout: () => undefined, onTransportError: () => undefined });
    layer.cancel(tx, [{ name: 'reason', value: 'SIP;cause=487' }]);
    expect(sender.sent.filter((s) => s.msg.kind === 'request' && s.msg.method === 'CANCEL')).toHaveLength(0);
    const invite = sender.sent[0]!.msg;
    layer.receiveResponse(answer(invite, 180), { transport: 'udp', address: '127.0.0.2', port: 5070, localAddress: '', localPort: 0 });
    const cancels = sender.sent.filter((s) => s.msg.kind === 'request' && s.msg.method === 'CANCEL');
    expect(cancels).toHaveLength(1);
    const via = (m: SipMessage): string | undefined => m.headers.find((h) => h.name === 'via')?.value;
    expect(via(cancels[0]!.msg)).toBe(via(invite));
    expect(cancels[0]!.msg.headers.find((h) => h.name === 'reason')?.value).toBe('SIP;cause=487');
    layer.receiveResponse(answer(invite, 487), { transport: 'udp', address: '127.0.0.2', port: 5070, localAddress: '', localPort: 0 });
    layer.cancel(tx);
    expect(sender.sent.filter((s) => s.msg.kind === 'request' && s.msg.method === 'CANCEL')).toHaveLength(1);
  });

  it('a transport error is reported and ends the transaction', async () => {
    const { sender, layer, dest } = setup();
    sender.failNext = { code: 'CONNECT_FAILED' };
    let failed = 0;
    const tx = layer.sendRequest(request('INVITE'), dest, { onResponse: () => undefined, onTimeout: () => undefined, onTransportError: () => failed++ });
    await Promise.resolve();
    expect(failed).toBe(1);
    expect(tx.state).toBe('terminated');
    expect(layer.counts().client).toBe(0);
  });
});

describe('non-INVITE client transaction', () => {
  it('Timer E doubles up to T2, then F times out; in Proceeding E stays at T2', () => {
    const { timers, sender, layer, dest } = setup();
    let timeouts = 0;
    layer.sendRequest(request('OPTIONS'), dest, { onResponse: () => undefined, onTimeout: () => timeouts++, onTransportError: () => undefined });
    timers.advance(40_000);
    const at = sender.times((m) => m.kind === 'request');
    expect(at.slice(0, 6)).toEqual([0, 500, 1500, 3500, 7500, 11500]);
    expect(timeouts).toBe(1);
    expect(layer.counts().client).toBe(0);
  });

  it('final response → Completed → Timer K', () => {
    const { timers, sender, layer, dest } = setup();
    const tx = layer.sendRequest(request('BYE'), dest, { onResponse: () => undefined, onTimeout: () => undefined, onTransportError: () => undefined });
    layer.receiveResponse(answer(sender.sent[0]!.msg, 200), { transport: 'udp', address: '127.0.0.2', port: 5070, localAddress: '', localPort: 0 });
    expect(tx.state).toBe('completed');
    timers.advance(5000);
    expect(tx.state).toBe('terminated');
  });

  it('a response matching nothing is a stray', () => {
    const { user, layer } = setup();
    layer.receiveResponse(answer(request('BYE', 'z9hG4bKnope'), 200), { transport: 'udp', address: '127.0.0.2', port: 5070, localAddress: '', localPort: 0 });
    expect(user.strays).toHaveLength(1);
  });
});

describe('INVITE server transaction', () => {
  it('answers 100 at once, absorbs retransmissions, retransmits a failure with Timer G until ACK', () => {
    const { timers, sender, user, layer, src } = setup();
    layer.receiveRequest(request('INVITE'), src);
    expect(sender.sent.map((s) => (s.msg as SipResponse).status)).toEqual([100]);
    expect(user.requests).toHaveLength(1);
    layer.receiveRequest(request('INVITE'), src); // retransmission
    expect(user.requests).toHaveLength(1);
    expect(sender.sent.map((s) => (s.msg as SipResponse).status)).toEqual([100, 100]);
    const tx = user.requests[0]!;
    tx.respond(createResponse(tx.request, 486, { toTag: 't' }));
    timers.advance(2000);
    expect(sender.times((m) => m.kind === 'response' && m.status === 486)).toEqual([0, 500, 1500]);
    const ack = request('ACK');
    layer.receiveRequest(ack, src);
    expect(tx.state).toBe('confirmed');
    expect(user.acks).toHaveLength(0);
    timers.advance(5000);
    expect(tx.state).toBe('terminated');
    expect(layer.counts()).toEqual({ client: 0, server: 0 });
  });

  it('Timer H ends a failure that never gets its ACK', () => {
    const { timers, user, layer, src } = setup();
    layer.receiveRequest(request('INVITE'), src);
    const tx = user.requests[0]!;
    tx.respond(createResponse(tx.request, 404, { toTag: 't' }));
    timers.advance(64 * 500);
    expect(tx.state).toBe('terminated');
  });

  it('2xx → Accepted: further 2xx pass, ACKs go to the TU, Timer L ends it', () => {
    const { timers, sender, user, layer, src } = setup();
    layer.receiveRequest(request('INVITE'), src);
    const tx = user.requests[0]!;
    const ok = createResponse(tx.request, 200, { toTag: 't' });
    tx.respond(ok);
    tx.respond(ok);
    expect(sender.sent.filter((s) => s.msg.kind === 'response' && s.msg.status === 200)).toHaveLength(2);
    layer.receiveRequest(request('ACK', 'z9hG4bKabc'), src);
    expect(user.acks).toHaveLength(1);
    timers.advance(64 * 500);
    expect(tx.state).toBe('terminated');
  });

  it('CANCEL matching the INVITE → 200 and onCancel; unmatched → 481', () => {
    const { sender, user, layer, src } = setup();
    layer.receiveRequest(request('INVITE'), src);
    layer.receiveRequest(request('CANCEL'), src);
    expect(user.cancels).toHaveLength(1);
    layer.receiveRequest(request('CANCEL', 'z9hG4bKother'), src);
    const statuses = sender.sent.filter((s) => s.msg.kind === 'response').map((s) => `${(s.msg as SipResponse).status} ${s.msg.headers.find((h) => h.name === 'cseq')?.value}`);
    expect(statuses).toEqual(['100 1 INVITE', '200 1 CANCEL', '481 1 CANCEL']);
  });

  it('RFC 2543 requests (no magic cookie) match on Call-ID, From tag, CSeq and Via', () => {
    const { user, layer, src } = setup();
    const old = request('INVITE', 'oldstyle');
    layer.receiveRequest(old, src);
    layer.receiveRequest(request('INVITE', 'oldstyle'), src);
    expect(user.requests).toHaveLength(1);
  });
});

describe('non-INVITE server transaction', () => {
  it('resends its final to retransmissions, then Timer J (64·T1 on UDP, 0 on TCP)', () => {
    const { timers, sender, user, layer, src } = setup();
    layer.receiveRequest(request('OPTIONS'), src);
    const tx = user.requests[0]!;
    tx.respond(createResponse(tx.request, 200, { toTag: 't' }));
    layer.receiveRequest(request('OPTIONS'), src);
    expect(sender.sent).toHaveLength(2);
    timers.advance(64 * 500);
    expect(tx.state).toBe('terminated');

    const tcp = setup('tcp');
    tcp.layer.receiveRequest(request('OPTIONS'), tcp.src);
    const t2 = tcp.user.requests[0]!;
    t2.respond(createResponse(t2.request, 200, { toTag: 't' }));
    tcp.timers.advance(0);
    expect(t2.state).toBe('terminated');
    expect(tcp.sender.sent[0]!.dest).toMatchObject({ transport: 'tcp', connectionId: 1 });
  });

  it('responses go where §18.2.2 says: received and rport on UDP', () => {
    const { sender, user, layer, src } = setup();
    const req = request('OPTIONS');
    req.headers[0] = { name: 'via', value: 'SIP/2.0/UDP 10.0.0.1:5080;branch=z9hG4bKx;received=127.0.0.9;rport=4444' };
    layer.receiveRequest(req, src);
    user.requests[0]!.respond(createResponse(req, 200));
    expect(sender.sent[0]!.dest).toEqual({ transport: 'udp', address: '127.0.0.9', port: 4444 });
  });

  it('an INVITE server transaction whose response cannot be sent ends and tells its user once (RFC 3261 §17.2.4)', async () => {
    const { sender, user, layer, src } = setup('tcp');
    layer.receiveRequest(request('INVITE'), src);
    const tx = user.requests[0]!;
    sender.failNext = { code: 'CONNECTION_CLOSED' };
    tx.respond(createResponse(tx.request, 180, { toTag: 't' }));
    await new Promise((r) => setTimeout(r, 0));
    expect(tx.state).toBe('terminated');
    expect(user.transportErrors).toEqual([tx]);
    // Nothing more goes out, and the user is not told again.
    tx.respond(createResponse(tx.request, 200, { toTag: 't' }));
    await new Promise((r) => setTimeout(r, 0));
    expect(user.transportErrors).toHaveLength(1);
    expect(layer.counts().server).toBe(0);
  });

  it('close() ends every transaction and timer, and is idempotent', () => {
    const { timers, layer, src, dest } = setup();
    layer.receiveRequest(request('INVITE'), src);
    layer.sendRequest(request('OPTIONS', 'z9hG4bKq'), dest, { onResponse: () => undefined, onTimeout: () => undefined, onTransportError: () => undefined });
    layer.close();
    layer.close();
    expect(layer.counts()).toEqual({ client: 0, server: 0 });
    expect(timers.pendingCount).toBe(0);
  });
});
