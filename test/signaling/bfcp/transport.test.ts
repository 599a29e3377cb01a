import net from 'node:net';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { nodeSockets } from '../../../common/sockets.ts';
import { ATTR, type BfcpAttribute } from '../../../signaling/bfcp/attributes.ts';
import { type BfcpResult, parseCommonHeader, PRIMITIVE } from '../../../signaling/bfcp/common-header.ts';
import type { BfcpPeer } from '../../../signaling/bfcp/floor-server.ts';
import { fragmentMessage } from '../../../signaling/bfcp/fragments.ts';
import { type BfcpMessage, encodeMessage, type OutgoingMessage, parseMessage, textAttr, u16Attr } from '../../../signaling/bfcp/messages.ts';
import { BfcpStreamFramer, type BfcpReceiver, BfcpTcpTransport } from '../../../signaling/bfcp/transport.ts';
import { BfcpUdpTransport } from '../../../signaling/bfcp/udp-transport.ts';
import { FakeUdpNetwork } from '../../support/fake-udp.ts';
import { ManualTimers } from '../../support/manual-timers.ts';

const CONF = 9;
const msg = (primitive: OutgoingMessage['primitive'], transactionId: number, attributes: readonly BfcpAttribute[] = [], extra: Partial<OutgoingMessage> = {}): Buffer =>
  encodeMessage({ version: 2, responder: false, primitive, conferenceId: CONF, transactionId, userId: 1, attributes, ...extra });

/** A receiver that records what it got and lets the test answer or notify through the peer. */
class Recorder implements BfcpReceiver {
  readonly got: { result: BfcpResult<BfcpMessage>; peer: BfcpPeer }[] = [];
  readonly closed: BfcpPeer[] = [];
  answer: ((result: BfcpResult<BfcpMessage>, peer: BfcpPeer) => void) | undefined;
  receive(result: BfcpResult<BfcpMessage>, peer: BfcpPeer): void {
    this.got.push({ result, peer });
    this.answer?.(result, peer);
  }
  peerClosed(peer: BfcpPeer): void {
    this.closed.push(peer);
  }
}

describe('BfcpStreamFramer (RFC 8855 §6.1: messages delimited by the COMMON-HEADER)', () => {
  const stream = Buffer.concat([msg(PRIMITIVE.Hello, 1), msg(PRIMITIVE.FloorRequest, 2, [u16Attr(ATTR.FloorId, 1), textAttr(ATTR.ParticipantProvidedInfo, 'x'.repeat(50))]), msg(PRIMITIVE.Goodbye, 3)]);

  it('cuts messages out of chunks split anywhere', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(stream.length), { maxLength: 8 }), (cuts) => {
        const points = [...new Set([0, ...cuts, stream.length])].sort((a, b) => a - b);
        const f = new BfcpStreamFramer(4096);
        const frames: Buffer[] = [];
        for (let i = 1; i < points.length; i++) {
          const r = f.push(stream.subarray(points[i - 1], points[i]));
          expect(r.error).toBeUndefined();
          frames.push(...r.frames);
        }
        expect(Buffer.concat(frames)).toEqual(stream);
        expect(frames.map((b) => b[1])).toEqual([PRIMITIVE.Hello, PRIMITIVE.FloorRequest, PRIMITIVE.Goodbye]);
        expect(f.partial).toBe(false);
      }),
    );
  });

  it('ends the stream on a version it does not know, on F, and over its bound, and takes nothing after', () => {
    const v7 = Buffer.from(msg(PRIMITIVE.Hello, 1));
    v7[0] = 0xe0;
    const frag = Buffer.from(msg(PRIMITIVE.Hello, 1));
    frag[0] = 0x48;
    for (const [bytes, max] of [[v7, 4096], [frag, 4096], [stream, 40]] as const) {
      const f = new BfcpStreamFramer(max);
      expect(f.push(bytes).error).toBeDefined();
      expect(f.push(msg(PRIMITIVE.Hello, 2))).toMatchObject({ frames: [], error: expect.any(String) });
    }
  });

  it('random bytes never throw', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 8 }), (chunks) => {
        const f = new BfcpStreamFramer(1024);
        for (const c of chunks) f.push(Buffer.from(c));
      }),
    );
  });
});

describe('BfcpTcpTransport limits', () => {
  const opened: BfcpTcpTransport[] = [];
  afterEach(async () => {
    for (const t of opened.splice(0)) await t.close();
  });

  it('closes a connection whose message does not complete in time (slow drip), and one over the message bound', async () => {
    const timers = new ManualTimers();
    const rec = new Recorder();
    const t = new BfcpTcpTransport({ sockets: nodeSockets, timers, router: () => rec }, { maxMessageBytes: 64, limits: { frameDeadlineMs: 1000 } });
    opened.push(t);
    const port = await t.listen('127.0.0.1', 0);
    const dial = async (): Promise<net.Socket> => {
      const s = net.connect({ host: '127.0.0.1', port });
      await new Promise<void>((r) => s.once('connect', () => r()));
      return s;
    };
    const until = async (cond: () => boolean): Promise<void> => {
      for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
      expect(cond()).toBe(true);
    };
    const drip = await dial();
    const dripClosed = new Promise<void>((r) => drip.once('close', () => r()));
    drip.write(msg(PRIMITIVE.Hello, 1).subarray(0, 5));
    // The idle timer and, once the first octets are in, the message deadline.
    await until(() => t.connections === 1 && timers.pendingCount === 2);
    timers.advance(1000);
    await dripClosed;
    expect(t.connectionCounters.closed['frame-deadline']).toBe(1);

    const big = await dial();
    const bigClosed = new Promise<void>((r) => big.once('close', () => r()));
    big.write(msg(PRIMITIVE.Hello, 1, Array.from({ length: 20 }, () => u16Attr(ATTR.FloorId, 1))));
    await bigClosed;
    expect(t.connectionCounters.closed['framing-error']).toBe(1);
    expect(rec.got).toEqual([]);
  });

  it('answers a conference that is not here with Error 1, and tells receivers when a connection goes', async () => {
    const timers = new ManualTimers();
    const rec = new Recorder();
    const t = new BfcpTcpTransport({ sockets: nodeSockets, timers, router: (c) => (c === CONF ? rec : undefined) });
    opened.push(t);
    const port = await t.listen('127.0.0.1', 0);
    const s = net.connect({ host: '127.0.0.1', port });
    const data: Buffer[] = [];
    s.on('data', (d: Buffer) => data.push(d));
    await new Promise<void>((r) => s.once('connect', () => r()));
    s.write(msg(PRIMITIVE.Hello, 5, [], { conferenceId: 77 }));
    s.write(msg(PRIMITIVE.Hello, 6));
    for (let i = 0; i < 400 && (data.length === 0 || rec.got.length === 0); i++) await new Promise((r) => setTimeout(r, 5));
    const answer = parseMessage(Buffer.concat(data));
    expect(answer.ok && answer.value).toMatchObject({ primitive: PRIMITIVE.Error, header: { conferenceId: 77, transactionId: 5, responder: false } });
    expect(t.counters.unroutable).toBe(1);
    expect(rec.got).toHaveLength(1);
    s.destroy();
    for (let i = 0; i < 400 && rec.closed.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(rec.closed).toEqual([rec.got[0]?.peer]);
  });
});

describe('BfcpUdpTransport (RFC 8855 §6.2)', () => {
  const REMOTE = '192.0.2.7';
  const RPORT = 40_000;
  const PORT = 5070;

  async function udp(opts: ConstructorParameters<typeof BfcpUdpTransport>[1] = {}) {
    const net = new FakeUdpNetwork();
    const timers = new ManualTimers();
    const rec = new Recorder();
    const t = new BfcpUdpTransport({ sockets: net.sockets, timers, clock: timers, router: (c) => (c === CONF ? rec : undefined) }, opts);
    await t.bind('127.0.0.1', PORT);
    const deliver = (b: Buffer, port = RPORT): void => void net.deliver(PORT, b, REMOTE, port);
    const sent = (): Buffer[] => net.sent.splice(0).map((d) => d.bytes);
    return { net, timers, rec, t, deliver, sent };
  }

  it('answers with R set and the request’s Transaction ID, and answers a retransmitted request from the cache', async () => {
    const { rec, deliver, sent, timers } = await udp();
    rec.answer = (r, peer) => {
      if (r.ok) peer.respond(r.value.header, PRIMITIVE.HelloAck, []);
    };
    deliver(msg(PRIMITIVE.Hello, 7));
    deliver(msg(PRIMITIVE.Hello, 7));
    expect(rec.got).toHaveLength(1);
    const answers = sent().map((b) => parseCommonHeader(b));
    expect(answers.map((h) => h.ok && [h.value.primitive, h.value.responder, h.value.transactionId])).toEqual([
      [PRIMITIVE.HelloAck, true, 7],
      [PRIMITIVE.HelloAck, true, 7],
    ]);
    // Past the cache time the same Transaction ID is a new request.
    timers.advance(10_000);
    deliver(msg(PRIMITIVE.Hello, 7));
    expect(rec.got).toHaveLength(2);
  });

  it('retransmits a notification at T1, 2·T1, 4·T1, 8·T1 and then gives up', async () => {
    const { rec, deliver, sent, timers, t } = await udp();
    deliver(msg(PRIMITIVE.Hello, 1));
    const peer = rec.got[0]?.peer;
    peer?.notify(2, CONF, 1, PRIMITIVE.FloorStatus, [u16Attr(ATTR.FloorId, 1)]);
    const first = sent();
    expect(first).toHaveLength(1);
    const h = parseCommonHeader(first[0] as Buffer);
    expect(h.ok && [h.value.responder, h.value.transactionId !== 0]).toEqual([false, true]);
    const at: number[] = [];
    for (let ms = 0; ms <= 20_000; ms += 100) {
      timers.advance(100);
      if (sent().length > 0) at.push(timers.monoMs());
    }
    expect(at).toEqual([500, 1500, 3500, 7500]);
    expect(t.counters).toMatchObject({ retransmits: 4, givenUp: 1 });
    expect(t.outstandingCount).toBe(0);
  });

  it('stops retransmitting when the Ack (R set, same Transaction ID) arrives', async () => {
    const { rec, deliver, sent, timers, t } = await udp();
    deliver(msg(PRIMITIVE.Hello, 1));
    rec.got[0]?.peer.notify(2, CONF, 1, PRIMITIVE.FloorStatus, [u16Attr(ATTR.FloorId, 1)]);
    const h = parseCommonHeader(sent()[0] as Buffer);
    const tid = h.ok ? h.value.transactionId : -1;
    deliver(msg(PRIMITIVE.FloorStatusAck, tid, [], { responder: true }));
    timers.advance(20_000);
    expect(sent()).toEqual([]);
    expect(t.counters.acks).toBe(1);
    expect(rec.got).toHaveLength(1);
  });

  it('answers version 1 with Error 12 unless told to accept it', async () => {
    const { deliver, sent, rec } = await udp();
    rec.answer = (r, peer) => {
      if (!r.ok && r.header !== undefined) peer.respond(r.header, PRIMITIVE.Error, []);
    };
    deliver(msg(PRIMITIVE.Hello, 3, [], { version: 1 }));
    expect(rec.got[0]?.result).toMatchObject({ ok: false, code: 'unsupported-version', errorCode: 12 });
    expect(sent()).toHaveLength(1);
    const lenient = await udp({ acceptVersion1: true });
    lenient.deliver(msg(PRIMITIVE.Hello, 3, [], { version: 1 }));
    expect(lenient.rec.got[0]?.result.ok).toBe(true);
  });

  it('reassembles fragments and fragments large answers', async () => {
    const { deliver, sent, rec } = await udp({ maxDatagramBytes: 100 });
    const attrs = Array.from({ length: 10 }, () => textAttr(ATTR.ParticipantProvidedInfo, 'y'.repeat(30)));
    const whole = msg(PRIMITIVE.FloorRequest, 4, [u16Attr(ATTR.FloorId, 1), ...attrs]);
    const frags = fragmentMessage(whole, 100);
    expect(frags.length).toBeGreaterThan(2);
    for (const f of frags) deliver(f);
    expect(rec.got).toHaveLength(1);
    const r = rec.got[0]?.result;
    expect(r?.ok && r.value.attributes).toHaveLength(11);
    rec.got[0]?.peer.respond(r?.ok ? r.value.header : (undefined as never), PRIMITIVE.UserStatus, attrs);
    const out = sent();
    expect(out.length).toBeGreaterThan(2);
    expect(out.every((d) => d.length <= 100 && ((d[0] as number) & 0x08) !== 0)).toBe(true);
  });

  it('bounds the remotes, and forgets idle ones (telling the receivers)', async () => {
    const { deliver, rec, t, timers } = await udp({ maxRemotes: 2, remoteIdleMs: 60_000 });
    deliver(msg(PRIMITIVE.Hello, 1), 1);
    deliver(msg(PRIMITIVE.Hello, 1), 2);
    deliver(msg(PRIMITIVE.Hello, 1), 3);
    expect(t.remoteCount).toBe(2);
    expect(t.counters.droppedRemotes).toBe(1);
    expect(rec.got).toHaveLength(2);
    timers.advance(120_000);
    expect(t.remoteCount).toBe(0);
    expect(rec.closed).toHaveLength(2);
  });

  it('drops what has no header, answers an unknown conference with Error 1, and close() stops every timer', async () => {
    const { deliver, sent, t, timers, rec } = await udp();
    deliver(Buffer.alloc(3));
    expect(t.counters.unparsable).toBe(1);
    deliver(msg(PRIMITIVE.Hello, 9, [], { conferenceId: 1234 }));
    const e = parseMessage(sent()[0] as Buffer);
    expect(e.ok && [e.value.primitive, e.value.header.responder, e.value.header.transactionId]).toEqual([PRIMITIVE.Error, true, 9]);
    // A flood naming no conference here is answered only at a pace (the source may be spoofed).
    for (let i = 0; i < 100; i++) deliver(msg(PRIMITIVE.Hello, 100 + i, [], { conferenceId: 1234 }));
    expect(sent().length).toBe(9);
    expect(t.counters.unroutable).toBe(101);
    deliver(msg(PRIMITIVE.Hello, 1));
    rec.got[0]?.peer.notify(2, CONF, 1, PRIMITIVE.FloorStatus, []);
    t.close();
    t.close();
    expect(timers.pendingCount).toBe(0);
  });
});
