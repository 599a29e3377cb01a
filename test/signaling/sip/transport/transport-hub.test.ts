import { describe, expect, it } from 'vitest';
import { nodeSockets } from '../../../../common/sockets.ts';
import type { SendFailure } from '../../../../signaling/sip/transport/types.ts';
import { TransportHub } from '../../../../signaling/sip/transport/transport-hub.ts';
import { UdpTransport } from '../../../../signaling/sip/transport/udp-transport.ts';

describe('TransportHub: the one way out', () => {
  it('refuses destinations no socket may be handed (NO_ROUTE), counts them, and never throws', async () => {
    const udp = new UdpTransport({ sockets: nodeSockets, bindAddress: '127.0.0.1', port: 0, onDatagram: () => undefined });
    await udp.listen();
    const hub = new TransportHub({ udp, advertisedAddress: '127.0.0.1' });
    const failures: SendFailure[] = [];
    try {
      for (const [address, port] of [
        ['127.0.0.1', 0],
        ['127.0.0.1', 65536],
        ['127.0.0.1', -1],
        ['127.0.0.1', 1.5],
        ['evil.example', 5060],
        ['', 5060],
      ] as const) {
        expect(() => hub.sendRaw(Buffer.from('x'), { transport: 'udp', address, port }, (f) => failures.push(f))).not.toThrow();
      }
      await new Promise((r) => setTimeout(r, 10));
      expect(failures).toHaveLength(6);
      expect(failures.every((f) => f.code === 'NO_ROUTE')).toBe(true);
      expect(hub.counters.badDestination).toBe(6);
      expect(hub.counters.messagesSent).toBe(0);
      // A good one still goes out.
      hub.sendRaw(Buffer.from('x'), { transport: 'udp', address: '127.0.0.1', port: 9 });
      expect(hub.counters.messagesSent).toBe(1);
    } finally {
      await udp.close();
    }
  });

  it('a UDP send on a closed transport is a failure, not an exception', async () => {
    const udp = new UdpTransport({ sockets: nodeSockets, bindAddress: '127.0.0.1', port: 0, onDatagram: () => undefined });
    await udp.listen();
    await udp.close();
    const failures: SendFailure[] = [];
    expect(() => udp.send(Buffer.from('x'), '127.0.0.1', 9, (f) => failures.push(f))).not.toThrow();
    await new Promise((r) => setTimeout(r, 10));
    expect(failures).toEqual([{ code: 'SEND_FAILED' }]);
  });
});
