import dgram from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { nodeSockets } from '../../../common/sockets.ts';
import { PortPool } from '../../../media/relay/port-pool.ts';

describe('PortPool', () => {
  it('hands out even/odd pairs round robin, skips ports another process holds, and returns to 0', async () => {
    const low = 30000 + 2 * Math.floor(Math.random() * 5000);
    // Someone else holds the RTCP port of the second pair.
    const squatter = dgram.createSocket('udp4');
    await new Promise<void>((r) => squatter.bind(low + 3, '127.0.0.1', r));
    const pool = new PortPool({ sockets: nodeSockets, bindAddress: '127.0.0.1', low: low - 1, high: low + 7 });
    expect(pool.capacity).toBe(4);
    try {
      const a = await pool.allocate();
      const b = await pool.allocate();
      const c = await pool.allocate();
      expect([a?.rtpPort, b?.rtpPort, c?.rtpPort]).toEqual([low, low + 4, low + 6]);
      expect(pool.skipped).toBe(1);
      expect(await pool.allocate()).toBeUndefined(); // the last pair is the squatted one
      expect(pool.inUse).toBe(3);
      for (const p of [a, b, c]) if (p !== undefined) pool.release(p);
      if (a !== undefined) pool.release(a); // idempotent
      expect(pool.inUse).toBe(0);
      // Released ports come back; the next allocation continues round robin.
      const d = await pool.allocate();
      expect(d?.rtpPort).toBe(low);
      if (d !== undefined) pool.release(d);
      expect(pool.inUse).toBe(0);
    } finally {
      squatter.close();
    }
  });
});
