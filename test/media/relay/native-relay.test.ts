import dgram from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../../common/clock.ts';
import { connect } from '../../../media/relay/endpoint.ts';
import { loadNativeAddon, NativeEndpoint, NativeMover } from '../../../media/relay/native-relay.ts';
import { writeRtpHeader } from '../../../media/rtp/rtp-header.ts';
import { until } from '../../support/rtp-peer.ts';

async function socket(): Promise<{ s: dgram.Socket; port: number; got: Buffer[] }> {
  const s = dgram.createSocket('udp4');
  const got: Buffer[] = [];
  s.on('message', (b) => got.push(b));
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  return { s, port: s.address().port, got };
}

describe('native mover', () => {
  it('counts packets it moved while the header ring was full as unobserved, not dropped', async () => {
    const addon = loadNativeAddon();
    expect(addon, 'the native mover is built by npm ci').toBeDefined();
    if (addon === undefined) return;
    // A ring of 4 headers, never drained during the burst.
    const mover = new NativeMover(addon, 4, 4, 4);
    const A = await socket();
    const B = await socket();
    try {
      const low = 47000 + 4 * Math.floor(Math.random() * 1000);
      const pa = mover.bind('127.0.0.1', low);
      const pb = mover.bind('127.0.0.1', low + 2);
      if (pa === undefined || pb === undefined) throw new Error('ports taken');
      const spec = { kind: 'audio', clockRateHz: 8000, codec: 'PCMU', strict: false, clock: systemClock };
      const a = new NativeEndpoint({ ...spec, id: 'a', ports: pa, ownSsrc: 1 }, mover);
      const b = new NativeEndpoint({ ...spec, id: 'b', ports: pb, ownSsrc: 2 }, mover);
      const far = (port: number) => ({ address: '127.0.0.1', port, rtcpPort: port + 1, rtcpMux: false, direction: 'sendrecv' as const, dtmfPayloadTypes: [] });
      a.configure(far(A.port));
      b.configure(far(B.port));
      connect(a, b);
      for (let i = 0; i < 20; i++) {
        const p = Buffer.alloc(172);
        writeRtpHeader({ marker: false, payloadType: 0, sequence: i, timestamp: i * 160, ssrc: 0xabc }, p);
        A.s.send(p, pa.rtpPort, '127.0.0.1');
      }
      await until(() => B.got.length >= 20);
      a.sync();
      b.sync();
      expect(a.stats.received.rtpPackets).toBe(20);
      expect(b.stats.sent.rtpPackets).toBe(20);
      expect(a.stats.received.dropped).toBe(0);
      expect(a.stats.unobserved).toBe(16);
      // What the ring held (the first four headers) reaches the statistics at the drain.
      mover.drain();
      expect(a.stats.ssrc).toBe(0xabc);
      expect(a.stats.stream.maxSeq).toBe(3);
      a.close();
      b.close();
      mover.release(pa);
      mover.release(pb);
    } finally {
      mover.destroy();
      A.s.close();
      B.s.close();
    }
  });
});
