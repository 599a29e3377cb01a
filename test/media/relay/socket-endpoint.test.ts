import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../common/clock.ts';
import { nodeSockets } from '../../../common/sockets.ts';
import type { RemoteMedia } from '../../../media/protocol.ts';
import { connect } from '../../../media/relay/endpoint.ts';
import { PortPool } from '../../../media/relay/port-pool.ts';
import type { PortPair } from '../../../media/relay/port-pool.ts';
import { SocketEndpoint } from '../../../media/relay/socket-endpoint.ts';
import { writeRtpHeader } from '../../../media/rtp/rtp-header.ts';
import { until } from '../../support/rtp-peer.ts';

/** A G.711 endpoint on loopback that records what it receives. */
async function far(): Promise<{ socket: dgram.Socket; port: number; got: Buffer[] }> {
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

const remote = (port: number): RemoteMedia => ({ address: '127.0.0.1', port, rtcpPort: port + 1, rtcpMux: false, direction: 'sendrecv', dtmfPayloadTypes: [] });

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const f of cleanup.splice(0)) f();
});

async function setup() {
  const low = 40000 + 4 * Math.floor(Math.random() * 4000);
  const pool = new PortPool({ sockets: nodeSockets, bindAddress: '127.0.0.1', low, high: low + 3 });
  const pa = (await pool.allocate()) as PortPair;
  const pb = (await pool.allocate()) as PortPair;
  const spec = { kind: 'audio', clockRateHz: 8000, codec: 'PCMU', strict: false, ownSsrc: 1, clock: systemClock };
  const a = new SocketEndpoint({ ...spec, id: 'a', ports: pa });
  const b = new SocketEndpoint({ ...spec, id: 'b', ports: pb });
  a.listen();
  b.listen();
  connect(a, b);
  const B = await far();
  cleanup.push(() => {
    a.close();
    b.close();
    pool.release(pa);
    pool.release(pb);
    B.socket.close();
    expect(pool.inUse).toBe(0);
  });
  return { a, b, B };
}

describe('SocketEndpoint', () => {
  it('relays byte-identical RTP and counts loss of what comes in', async () => {
    const { a, b, B } = await setup();
    const A = await far();
    cleanup.push(() => A.socket.close());
    a.configure(remote(A.port));
    b.configure(remote(B.port));
    const sent: Buffer[] = [];
    for (let seq = 100; seq < 150; seq++) {
      if (seq === 120 || seq === 121) continue; // two lost on the way in
      const p = rtp(seq, 0xaaaa);
      sent.push(Buffer.from(p));
      A.socket.send(p, a.ports.rtpPort, '127.0.0.1');
    }
    await until(() => B.got.length >= sent.length);
    expect(B.got.map((g) => g.toString('hex'))).toEqual(sent.map((s) => s.toString('hex')));
    expect(a.stats.received.rtpPackets).toBe(48);
    expect(a.stats.stream.cumulativeLost).toBe(2);
    expect(b.stats.sent.rtpPackets).toBe(48);
    // RTCP follows its own port pair.
    A.socket.send(Buffer.from([0x80, 201, 0, 1, 0, 0, 0xaa, 0xaa]), a.ports.rtpPort + 1, '127.0.0.1');
    await until(() => a.stats.received.rtcpPackets >= 1);
    expect(a.stats.received.rtcpPackets).toBe(1);
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
    b.configure(remote(B.port));
    top.send(rtp(1, 0xcccc), a.ports.rtpPort, '127.0.0.1');
    await until(() => a.latch.latched);
    expect(a.latch.peerPort).toBe(65535);
    expect(a.latch.peerRtcpPort).toBe(0);
    // B's RTCP toward A: nowhere to go, dropped without an exception.
    B.socket.send(Buffer.from([0x80, 201, 0, 1, 0, 0, 0xbb, 0xbb]), b.ports.rtpPort + 1, '127.0.0.1');
    await until(() => b.stats.received.rtcpPackets >= 1);
    expect(b.stats.received.rtcpPackets).toBe(1);
  });

  it('drops what is not RTP and never throws', async () => {
    const { a, b, B } = await setup();
    const A = await far();
    cleanup.push(() => A.socket.close());
    b.configure(remote(B.port));
    A.socket.send(Buffer.from('not rtp at all'), a.ports.rtpPort, '127.0.0.1');
    A.socket.send(Buffer.alloc(3), a.ports.rtpPort, '127.0.0.1');
    await until(() => a.stats.received.dropped >= 2);
    expect(a.stats.received.dropped).toBe(2);
    expect(B.got).toHaveLength(0);
  });
});
