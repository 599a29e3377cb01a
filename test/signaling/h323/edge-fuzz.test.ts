import { readFileSync } from 'node:fs';
import net from 'node:net';
import fc from 'fast-check';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeTimers } from '../../../common/clock.ts';
import type { IncomingCall } from '../../../common/incoming-call.ts';
import { socketsWithLookup } from '../../../common/sockets.ts';
import { H323Edge } from '../../../signaling/h323/h323-edge.ts';
import { decodeQ931 } from '../../../signaling/h323/q931/q931.ts';
import { TpktReader } from '../../../signaling/h323/q931/tpkt.ts';
import { MemoryConnection } from '../../support/memory-tpkt.ts';

/**
 * Bad input at the H.323 edge: ≥ 100,000 random and mutated Q.931/H.225.0 frames (a mutation
 * fuzzer seeded from a real call's messages, plus fast-check's arbitrary bytes) through the edge's
 * own connection handling, in process; then over real TCP: oversized TPKT lengths, a slow drip,
 * garbage, deep nesting, and the capture's Setup replayed — the listener answers or closes, never
 * crashes, hangs or keeps a call.
 */

interface Frame {
  readonly channel: 'q931' | 'h245';
  readonly tcpPayloadHex: string;
}
const fixture = JSON.parse(readFileSync(new URL('../../fixtures/h323-endpoint/h323-capture.json', import.meta.url), 'utf8')) as { frames: Frame[] };
const seeds = fixture.frames.filter((f) => f.channel === 'q931').flatMap((f) => [...new TpktReader(65_531).push(Buffer.from(f.tcpPayloadHex, 'hex')).frames]);
const setup = seeds.find((s) => decodeQ931(s).type === 0x05) as Buffer;

function mutate(seed: Buffer, rnd: () => number): Buffer {
  const b = Buffer.from(seed);
  const n = 1 + Math.floor(rnd() * 4);
  let out = b;
  for (let i = 0; i < n; i++) {
    const op = Math.floor(rnd() * 6);
    const at = Math.floor(rnd() * Math.max(1, out.length));
    if (op === 0) out[at] = Math.floor(rnd() * 256);
    else if (op === 1) out[at] = (out[at] ?? 0) ^ (1 << Math.floor(rnd() * 8));
    else if (op === 2) out = out.subarray(0, at);
    else if (op === 3) out = Buffer.concat([out.subarray(0, at), Buffer.from([Math.floor(rnd() * 256)]), out.subarray(at)]);
    else if (op === 4) out[at] = [0x00, 0x7f, 0x80, 0xff][Math.floor(rnd() * 4)] as number;
    else out = Buffer.concat([out.subarray(0, at), out.subarray(Math.min(out.length, at + 1 + Math.floor(rnd() * 8)))]);
  }
  return out;
}

function newEdge(onCall: (i: IncomingCall) => void): H323Edge {
  const edge = new H323Edge(
    { bindAddress: '127.0.0.1', advertisedAddress: '127.0.0.1', port: 0, domain: 'carillon.local', limits: { frameDeadlineMs: 500, idleTimeoutMs: 3000 }, setupDeadlineMs: 1000 },
    { sockets: socketsWithLookup(() => undefined as never), timers: nodeTimers, logger: pino({ level: 'silent' }), draw: Math.random },
  );
  edge.onCall = onCall;
  return edge;
}

describe('the H.323 edge under bad input', () => {
  it('100,000 mutated and random frames in process: no throw, every call released, nothing kept', () => {
    let seed = 0x1234_5678;
    const rnd = (): number => {
      seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
      return seed / 0x1_0000_0000;
    };
    let calls = 0;
    // Half the calls are refused, half answered with an SDP that names no proposal (released by Carillon).
    const edge = newEdge((i) => {
      calls++;
      if (calls % 2 === 0) return i.refuse({ status: 404 });
      i.leg.answer(200, undefined, { contentType: 'application/sdp', bytes: Buffer.from('v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 5100 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n') }, []);
    });
    const CASES = 100_000;
    for (let i = 0; i < CASES; i++) {
      const c = new MemoryConnection();
      edge.accept(c);
      const base = i % 5 === 0 ? setup : (seeds[i % seeds.length] as Buffer);
      c.handler.frame(mutate(base, rnd));
      // A follow-up on the same call (a mutated message of the call, or another Setup).
      if (!c.closed) c.handler.frame(mutate(seeds[(i + 1) % seeds.length] as Buffer, rnd));
      c.close();
    }
    expect(edge.callsActive).toBe(0);
    expect(calls).toBeGreaterThan(100);
    expect(edge.counters.malformed).toBeGreaterThan(1000);
  });

  it('fast-check: arbitrary bytes as frames never throw and leave no call', () => {
    const edge = newEdge((i) => i.refuse({ status: 480 }));
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 1, maxLength: 4 }), (frames) => {
        const c = new MemoryConnection();
        edge.accept(c);
        for (const f of frames) if (!c.closed) c.handler.frame(Buffer.from(f));
        c.close();
        return edge.callsActive === 0;
      }),
      { numRuns: 5000 },
    );
  });

  describe('over TCP', () => {
    let edge: H323Edge;
    let port: number;
    beforeAll(async () => {
      edge = newEdge((i) => i.refuse({ status: 404 }));
      port = await edge.start();
    });
    afterAll(() => edge.close());

    /** Connects, writes, and resolves with what came back once Carillon closed the connection. */
    function exchange(write: (s: net.Socket) => void, ms = 5000): Promise<{ data: Buffer; closedByPeer: boolean }> {
      return new Promise((resolve) => {
        const s = net.connect({ host: '127.0.0.1', port });
        const chunks: Buffer[] = [];
        const timer = setTimeout(() => {
          s.destroy();
          resolve({ data: Buffer.concat(chunks), closedByPeer: false });
        }, ms);
        s.on('data', (d) => chunks.push(d));
        s.on('error', () => undefined);
        s.on('close', () => {
          clearTimeout(timer);
          resolve({ data: Buffer.concat(chunks), closedByPeer: true });
        });
        s.on('connect', () => write(s));
      });
    }

    it('an oversized TPKT length is refused by closing the connection', async () => {
      const r = await exchange((s) => s.write(Buffer.from([3, 0, 0xff, 0xff, 8, 2, 0, 1, 5])));
      expect(r.closedByPeer).toBe(true);
    });

    it('a slow drip (half a frame, then nothing) is closed by the frame deadline', async () => {
      const t0 = Date.now();
      const r = await exchange((s) => s.write(Buffer.concat([Buffer.from([3, 0, 0, 200]), Buffer.alloc(20)])), 5000);
      expect(r.closedByPeer).toBe(true);
      expect(Date.now() - t0).toBeLessThan(4000);
    });

    it('a connection that never sends a Setup is closed', async () => {
      const r = await exchange(() => undefined, 5000);
      expect(r.closedByPeer).toBe(true);
    });

    it('a Setup whose User-user PER nests deeper than any H.225.0 type is answered with ReleaseComplete', async () => {
      // Q.931 Setup, CRV 1, a User-user IE of repeated extension/open-type headers (nesting, not a message).
      const uu = Buffer.concat([Buffer.from([0x05]), Buffer.alloc(250, 0xa0)]);
      const q931 = Buffer.concat([Buffer.from([0x08, 0x02, 0x00, 0x01, 0x05, 0x7e, 0x00, uu.length]), uu]);
      const tpkt = Buffer.concat([Buffer.from([3, 0, (q931.length + 4) >> 8, (q931.length + 4) & 0xff]), q931]);
      const r = await exchange((s) => s.write(tpkt));
      expect(r.closedByPeer).toBe(true);
      const frames = new TpktReader().push(r.data).frames;
      expect(frames.map((f) => decodeQ931(f).type)).toEqual([0x5a]);
    });

    it("the capture's Setup replayed gets CallProceeding, then ReleaseComplete with the routing's cause (404 → 1)", async () => {
      const tpkt = Buffer.concat([Buffer.from([3, 0, (setup.length + 4) >> 8, (setup.length + 4) & 0xff]), setup]);
      const r = await exchange((s) => s.write(tpkt));
      const msgs = new TpktReader().push(r.data).frames.map((f) => decodeQ931(f));
      expect(msgs.map((m) => m.type)).toEqual([0x02, 0x5a]);
      expect(msgs.every((m) => m.fromDestination && m.callReference === decodeQ931(setup).callReference)).toBe(true);
      expect(edge.callsActive).toBe(0);
    });
  });
});
