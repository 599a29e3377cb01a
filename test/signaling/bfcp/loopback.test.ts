/**
 * The floor control server behind the real transports on loopback sockets, driven by the test
 * client of test/support/bfcp-client.ts (its own encoder and decoder, written from RFC 8855).
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { nodeTimers, systemClock } from '../../../common/clock.ts';
import { nodeSockets } from '../../../common/sockets.ts';
import { FloorServer, type FloorServerOptions } from '../../../signaling/bfcp/floor-server.ts';
import { BfcpTcpTransport } from '../../../signaling/bfcp/transport.ts';
import { BfcpUdpTransport } from '../../../signaling/bfcp/udp-transport.ts';
import { BfcpTestClient, errorCode, message, P, requestStatus, STATUS, u16Tlv } from '../../support/bfcp-client.ts';

const CONF = 31_337;
const DENY_CONF = 31_338;
const A = 1;
const B = 2;
const EVE = 3;

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function servers(): { queue: FloorServer; deny: FloorServer; presenters: (number | undefined)[] } {
  const presenters: (number | undefined)[] = [];
  const mk = (opts: FloorServerOptions, track: boolean): FloorServer => {
    const s = new FloorServer(opts, { clock: systemClock, events: track ? { presenterChanged: (_f, u) => presenters.push(u) } : {} });
    for (const u of [A, B, EVE]) s.addUser(u);
    cleanups.push(() => s.close());
    return s;
  };
  return { queue: mk({ conferenceId: CONF }, true), deny: mk({ conferenceId: DENY_CONF, policy: 'deny' }, false), presenters };
}

type Transport = 'tcp' | 'udp';

async function start(kind: Transport): Promise<{ port: number; presenters: (number | undefined)[]; client: (conferenceId: number, userId: number) => Promise<BfcpTestClient> }> {
  const { queue, deny, presenters } = servers();
  const router = (c: number): FloorServer | undefined => (c === CONF ? queue : c === DENY_CONF ? deny : undefined);
  let port: number;
  if (kind === 'tcp') {
    const t = new BfcpTcpTransport({ sockets: nodeSockets, timers: nodeTimers, router });
    cleanups.push(() => t.close());
    port = await t.listen('127.0.0.1', 0);
  } else {
    const t = new BfcpUdpTransport({ sockets: nodeSockets, timers: nodeTimers, clock: systemClock, router });
    cleanups.push(() => t.close());
    port = await t.bind('127.0.0.1', 0);
  }
  const client = async (conferenceId: number, userId: number): Promise<BfcpTestClient> => {
    const c = kind === 'tcp' ? await BfcpTestClient.tcp('127.0.0.1', port, { conferenceId, userId }) : await BfcpTestClient.udp('127.0.0.1', port, { conferenceId, userId });
    cleanups.push(() => c.close());
    return c;
  };
  return { port, presenters, client };
}

describe.each(['tcp', 'udp'] as const)('BFCP over %s on loopback', (kind) => {
  it('A gets the floor, B queues, A releases and B gets it', async () => {
    const { client, presenters } = await start(kind);
    const a = await client(CONF, A);
    const b = await client(CONF, B);
    const helloAck = await a.hello();
    expect(helloAck.primitive).toBe(P.HelloAck);
    expect(helloAck.attrs.map((x) => x.type)).toEqual([11, 10]);

    const ra = await a.floorRequest(1);
    expect(ra.status).toBe(STATUS.Pending);
    await a.waitForStatus('Granted', ra.requestId);

    const rb = await b.floorRequest(1);
    const queued = await b.waitForStatus('Accepted', rb.requestId);
    expect(requestStatus(queued)?.queue).toBe(1);

    const released = await a.floorRelease(ra.requestId);
    expect(requestStatus(released)).toMatchObject({ requestId: ra.requestId, status: STATUS.Released });
    await b.waitForStatus('Granted', rb.requestId);
    expect(presenters).toEqual([A, B]);
  });

  it('under the deny policy B is denied while A holds the floor', async () => {
    const { client } = await start(kind);
    const a = await client(DENY_CONF, A);
    const b = await client(DENY_CONF, B);
    const ra = await a.floorRequest(1);
    await a.waitForStatus('Granted', ra.requestId);
    const rb = await b.floorRequest(1);
    expect(rb.status).toBe(STATUS.Denied);
  });

  it('malformed messages from a raw peer get Errors and do not disturb A and B', async () => {
    const { client } = await start(kind);
    const a = await client(CONF, A);
    const b = await client(CONF, B);
    const ra = await a.floorRequest(1);
    await a.waitForStatus('Granted', ra.requestId);
    const rb = await b.floorRequest(1);
    await b.waitForStatus('Accepted', rb.requestId);

    const eve = await client(CONF, EVE);
    const errorFor = (tid: number): Promise<number | undefined> => eve.waitFor((m) => m.transactionId === tid && m.primitive === P.Error, `Error ${tid}`).then(errorCode);
    eve.sendRaw(message({ primitive: 99, conferenceId: CONF, transactionId: 101, userId: EVE }));
    expect(await errorFor(101)).toBe(3);
    eve.sendRaw(message({ primitive: P.Hello, conferenceId: CONF, transactionId: 102, userId: EVE, attrs: [Buffer.from('c7040000', 'hex')] }));
    expect(await errorFor(102)).toBe(4);
    eve.sendRaw(message({ primitive: P.FloorRelease, conferenceId: CONF, transactionId: 103, userId: EVE, attrs: [u16Tlv(3, ra.requestId)] }));
    expect(await errorFor(103)).toBe(5);
    eve.sendRaw(message({ primitive: P.Hello, conferenceId: 5, transactionId: 104, userId: EVE }));
    expect(await errorFor(104)).toBe(1);
    eve.sendRaw(message({ primitive: P.Hello, conferenceId: CONF, transactionId: 105, userId: 999 }));
    expect(await errorFor(105)).toBe(2);
    eve.sendRaw(message({ primitive: P.FloorRelease, conferenceId: CONF, transactionId: 106, userId: EVE }));
    expect(await errorFor(106)).toBe(10);
    const short = message({ primitive: P.Hello, conferenceId: CONF, transactionId: 107, userId: EVE, attrs: [u16Tlv(2, 1)] });
    short.writeUInt16BE(9, 2); // Payload Length larger than what follows
    if (kind === 'udp') {
      eve.sendRaw(short);
      expect(await errorFor(107)).toBe(13);
    }

    // A and B are as they were: A still presents, B still waits.
    const q = await a.request(P.FloorRequestQuery, [u16Tlv(3, ra.requestId)]);
    expect(requestStatus(q)?.status).toBe(STATUS.Granted);
    const qb = await b.request(P.FloorRequestQuery, [u16Tlv(3, rb.requestId)]);
    expect(requestStatus(qb)).toMatchObject({ status: STATUS.Accepted, queue: 1 });
    await a.floorRelease(ra.requestId);
    await b.waitForStatus('Granted', rb.requestId);
  });
});

describe('BFCP over TCP: version 1 and framing', () => {
  it('a version 1 (RFC 4582) participant is answered in version 1', async () => {
    const { client } = await start('tcp');
    const a = await client(CONF, A);
    a.sendRaw(message({ version: 1, primitive: P.Hello, conferenceId: CONF, transactionId: 77, userId: A }));
    const ack = await a.waitFor((m) => m.transactionId === 77, 'HelloAck');
    expect([ack.primitive, ack.version, ack.r]).toEqual([P.HelloAck, 1, false]);
    a.sendRaw(message({ version: 1, primitive: P.FloorRequest, conferenceId: CONF, transactionId: 78, userId: A, attrs: [u16Tlv(2, 1)] }));
    const granted = await a.waitForStatus('Granted');
    // RFC 8855 §8: over TCP the server's notifications carry Transaction ID 0.
    expect([granted.version, granted.transactionId]).toEqual([1, 0]);
  });

  it('a version-7 header closes that connection only', async () => {
    const { port, client } = await start('tcp');
    const a = await client(CONF, A);
    const raw = net.connect({ host: '127.0.0.1', port });
    await new Promise<void>((r) => raw.once('connect', () => r()));
    const closed = new Promise<void>((r) => raw.once('close', () => r()));
    raw.write(Buffer.from('e00b000000007a690001000300', 'hex'));
    await closed;
    expect((await a.hello()).primitive).toBe(P.HelloAck);
  });
});
