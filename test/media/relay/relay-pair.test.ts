import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../common/clock.ts';
import { nodeSockets } from '../../../common/sockets.ts';
import { PortPool } from '../../../media/relay/port-pool.ts';
import type { PortPair } from '../../../media/relay/port-pool.ts';
import { RelayPair, RelaySide } from '../../../media/relay/relay-pair.ts';
import { writeRtpHeader } from '../../../media/rtp/rtp-header.ts';

/** A G.711 endpoint on loopback that records what it receives. */
async function endpoint(): Promise<{ socket: dgram.Socket; port: number; got: Buffer[] }> {
  const socket = dgram.createSocket('udp4');
  const got: Buffer[] = [];
  socket.on('message', (b) => got.push(b));
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  return { socket, port: socket.address().port, got };
}

function rtp(seq: number, ssrc: number): Buffer {
  const b = Buffer.alloc(172);
  writeRtpHeader({ marker: false, payloadType: 0, sequence: seq, timestamp: seq * 160, ssrc }, b);
  for (let i = 12; i < 172; i++) b[i] = (seq + i) & 0xff;
  return b;
}

async function settle(pred: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred() && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
}

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const f of cleanup.splice(0)) f();
});

async function setup(strict = false) {
  const low = 40000 + 4 * Math.floor(Math.random() * 4000);
  const pool = new PortPool({ sockets: nodeSockets, bindAddress: '127.0.0.1', low, high: low + 3 });
  const pa = (await pool.allocate()) as PortPair;
  const pb = (await pool.allocate()) as PortPair;
  const a = new RelaySide(pa, 8000, strict);
  const b = new RelaySide(pb, 8000, strict);
  const relay = new RelayPair(a, b, systemClock);
  const A = await endpoint();
  const B = await endpoint();
  cleanup.push(() => {
    relay.close();
    pool.release(pa);
    pool.release(pb);
    A.socket.close();
    B.socket.close();
    expect(pool.inUse).toBe(0);
  });
  return { pool, a, b, relay, A, B };
}

describe('RelayPair', () => {
  it('relays byte-identical RTP both ways, counts loss, and latches the real source (NAT)', async () => {
    const { a, b, A, B } = await setup();
    // A's SDP claims a private port it never uses; B's SDP is honest.
    a.setRemote('127.0.0.1', 9, 10);
    b.setRemote('127.0.0.1', B.port, B.port + 1);
    const sent: Buffer[] = [];
    for (let seq = 100; seq < 150; seq++) {
      if (seq === 120 || seq === 121) continue; // two lost on the way in
      const p = rtp(seq, 0xaaaa);
      sent.push(p);
      A.socket.send(p, a.ports.rtpPort, '127.0.0.1');
    }
    await settle(() => B.got.length >= sent.length);
    expect(B.got.map((g) => g.toString('hex'))).toEqual(sent.map((s) => s.toString('hex')));
    expect(a.latched).toBe(true);
    expect(a.peerPort).toBe(A.port);
    expect(a.received.rtpPackets).toBe(48);
    expect(a.stats.cumulativeLost).toBe(2);
    // B answers: the relay sends to where A really is, not to the SDP port.
    B.socket.send(rtp(1, 0xbbbb), b.ports.rtpPort, '127.0.0.1');
    await settle(() => A.got.length >= 1);
    expect(A.got).toHaveLength(1);
    // RTCP follows its own port pair.
    A.socket.send(Buffer.from([0x80, 201, 0, 1, 0, 0, 0xaa, 0xaa]), a.ports.rtpPort + 1, '127.0.0.1');
    await settle(() => b.received.rtcpPackets + a.received.rtcpPackets >= 1);
    expect(a.received.rtcpPackets).toBe(1);
  });

  it('an endpoint sending from port 65535 has no RTCP port to latch (65536 would throw in dgram)', async () => {
    const { a, b, B } = await setup();
    const top = dgram.createSocket('udp4');
    const bound = await new Promise<boolean>((r) => {
      top.once('error', () => r(false));
      top.bind(65535, '127.0.0.1', () => r(true));
    });
    cleanup.push(() => top.close());
    expect(bound, 'port 65535 on 127.0.0.1 is taken on this machine').toBe(true);
    b.setRemote('127.0.0.1', B.port, B.port + 1);
    top.send(rtp(1, 0xcccc), a.ports.rtpPort, '127.0.0.1');
    await settle(() => a.latched);
    expect(a.peerPort).toBe(65535);
    expect(a.peerRtcpPort).toBe(0);
    // B's RTCP toward A: nowhere to go, dropped without an exception.
    B.socket.send(Buffer.from([0x80, 201, 0, 1, 0, 0, 0xbb, 0xbb]), b.ports.rtpPort + 1, '127.0.0.1');
    await settle(() => b.received.rtcpPackets >= 1);
    expect(b.received.rtcpPackets).toBe(1);
  });

  it('strict mode accepts only the SDP address', async () => {
    const { a, b, A, B } = await setup(true);
    a.setRemote('127.0.0.1', A.port + 1000, A.port + 1001);
    b.setRemote('127.0.0.1', B.port, B.port + 1);
    A.socket.send(rtp(1, 1), a.ports.rtpPort, '127.0.0.1');
    await settle(() => a.received.dropped >= 1);
    expect(a.received.dropped).toBe(1);
    expect(B.got).toHaveLength(0);
  });

  it('drops what is not RTP and never throws', async () => {
    const { a, b, A, B } = await setup();
    b.setRemote('127.0.0.1', B.port, B.port + 1);
    A.socket.send(Buffer.from('not rtp at all'), a.ports.rtpPort, '127.0.0.1');
    A.socket.send(Buffer.alloc(3), a.ports.rtpPort, '127.0.0.1');
    await settle(() => a.received.dropped >= 2);
    expect(a.received.dropped).toBe(2);
    expect(B.got).toHaveLength(0);
  });
});
