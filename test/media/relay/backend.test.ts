import { describe, expect, it } from 'vitest';
import { nodeTimers, systemClock } from '../../../common/clock.ts';
import { nodeSockets } from '../../../common/sockets.ts';
import type { MediaWorkerOptions } from '../../../media/protocol.ts';
import { createRelayBackend } from '../../../media/relay/backend.ts';

function options(nativeRelay: boolean, low: number, h323Low: number): MediaWorkerOptions {
  return {
    bindAddress: '127.0.0.1',
    low,
    high: low + 7,
    h323: { low: h323Low, high: h323Low + 3 },
    strict: false,
    mediaTimeoutMs: 0,
    rtcpIntervalMs: 5000,
    cname: 'test',
    releaseDelayMs: 0,
    nativeRelay,
  };
}

describe('relay backends draw each range from its own slice', () => {
  for (const native of [false, true]) {
    it(`${native ? 'native mover' : 'Node sockets'}: main and H.323 pairs come from their ranges, and an exhausted H.323 range does not borrow from the main one`, async () => {
      const low = 30000 + 2 * Math.floor(Math.random() * 4000);
      const h323Low = low + 100;
      const backend = createRelayBackend(options(native, low, h323Low), { sockets: nodeSockets, clock: systemClock, timers: nodeTimers });
      try {
        expect(backend.capacity).toBe(4 + 2);
        const h1 = await backend.allocate(false, 'h323');
        const h2 = await backend.allocate(true, 'h323');
        const m = await backend.allocate(false);
        expect([h1?.rtpPort, h2?.rtpPort].sort()).toEqual([h323Low, h323Low + 2]);
        expect(m?.rtpPort).toBe(low);
        expect(await backend.allocate(false, 'h323')).toBeUndefined();
        expect(backend.inUse).toBe(3);
        for (const p of [h1, h2, m]) if (p !== undefined) backend.release(p);
        expect(backend.inUse).toBe(0);
      } finally {
        backend.close();
      }
    });
  }
});
