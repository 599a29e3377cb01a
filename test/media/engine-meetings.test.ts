import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALAW_TO_LINEAR, LINEAR_TO_ALAW, LINEAR_TO_ULAW, ULAW_TO_LINEAR } from '../../media/codecs/g711.ts';
import { MediaCommandError, MediaEngine } from '../../media/engine.ts';
import type { MediaEvent, RemoteMedia } from '../../media/protocol.ts';
import { BRIDGE_TICK_LAG_BUCKETS_MS } from '../../media/protocol.ts';
import { goertzel } from '../support/goertzel.ts';
import { RtpPeer, until } from '../support/rtp-peer.ts';

/**
 * A meeting through the engine's real worker threads, on real time: three participants on
 * loopback sending tones at 20 ms, each hearing the other two; a prompt to one; the status figures.
 */
function tonePayload(hz: number, pt: number): (i: number) => Buffer {
  const enc = pt === 8 ? LINEAR_TO_ALAW : LINEAR_TO_ULAW;
  return (k) => {
    const b = Buffer.alloc(160);
    for (let i = 0; i < 160; i++) b[i] = enc[Math.round(6000 * Math.sin((2 * Math.PI * hz * (k * 160 + i)) / 8000)) + 32768] ?? 0;
    return b;
  };
}

function remote(p: RtpPeer): RemoteMedia {
  return { address: '127.0.0.1', port: p.rtpPort, rtcpPort: p.rtpPort + 1, rtcpMux: false, direction: 'sendrecv', dtmfPayloadTypes: [101] };
}

describe('MediaEngine meetings (worker threads)', () => {
  let engine: MediaEngine;
  const events: MediaEvent[] = [];
  const low = 49000 + 2 * Math.floor(Math.random() * 400);
  beforeAll(async () => {
    engine = await MediaEngine.start(
      { workers: 2, bindAddress: '127.0.0.1', low, high: low + 99, strict: false, mediaTimeoutMs: 0, rtcpIntervalMs: 5000, cname: 'carillon@test', releaseDelayMs: 0, nativeRelay: false },
      pino({ level: 'silent' }),
    );
    engine.onEvent = (e) => events.push(e);
  });
  afterAll(async () => {
    await engine.close();
  });

  it('mixes three participants, plays a prompt to one, and sums the bridge figures', async () => {
    const plan = [
      { id: 'p1', hz: 1000, codec: 'PCMU', pt: 0 },
      { id: 'p2', hz: 600, codec: 'PCMA', pt: 8 },
      { id: 'p3', hz: 1400, codec: 'PCMU', pt: 0 },
    ] as const;
    const peers: RtpPeer[] = [];
    try {
      for (const p of plan) {
        const peer = await RtpPeer.open();
        peers.push(peer);
        const port = await engine.openEndpoint('meet', p.id, { kind: 'audio', clockRateHz: 8000, codec: p.codec, functions: true, remote: remote(peer) });
        if (port === 'ports-exhausted') throw new Error('exhausted');
        peer.sendTo('127.0.0.1', port);
        await engine.attach('meet', p.id, { fn: 'participant', codec: p.codec, payloadType: p.pt });
        await engine.participant('meet', p.id, { inMeeting: true });
      }
      await expect(engine.attach('meet', 'p1', { fn: 'participant', codec: 'G729', payloadType: 18 })).rejects.toThrow(MediaCommandError);
      await expect(engine.play('meet', 'p1', [{ kind: 'tone', name: 'nope' }], 1)).rejects.toMatchObject({ code: 'bad-prompt' });
      await expect(engine.participant('nowhere', 'p1', { muted: true })).rejects.toMatchObject({ code: 'no-such-session' });
      const PACKETS = 75;
      await Promise.all(plan.map((p, i) => (peers[i] as RtpPeer).sendStream({ packets: PACKETS, ptimeMs: 20, ssrc: 0x3000 + i, payloadType: p.pt, payload: tonePayload(p.hz, p.pt) })));
      await until(() => peers.every((p) => p.received.length >= PACKETS - 10));
      plan.forEach((p, i) => {
        const got = (peers[i] as RtpPeer).received.slice(15, PACKETS - 10);
        const table = p.pt === 8 ? ALAW_TO_LINEAR : ULAW_TO_LINEAR;
        const samples: number[] = [];
        for (const r of got) {
          expect(r.pt).toBe(p.pt);
          for (const byte of r.packet.subarray(12)) samples.push(table[byte] ?? 0);
        }
        for (const other of plan) {
          if (other !== p) expect(goertzel(samples, other.hz, 8000), `${p.id} hears ${other.id}`).toBeGreaterThan(2000);
        }
        expect(goertzel(samples, p.hz, 8000), `${p.id} does not hear itself`).toBeLessThan(300);
      });
      const st = await engine.status();
      expect(st).toMatchObject({ bridges: 1, bridgeParticipants: 3 });
      expect(st.bridgeTickLag).toHaveLength(BRIDGE_TICK_LAG_BUCKETS_MS.length + 1);
      expect(st.bridgeTickLag.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(PACKETS - 10);
      expect(st.bridgeTickUs).toBeGreaterThan(0);
      // A prompt to p1 alone: the join tone, then `played`.
      const before = (peers[0] as RtpPeer).received.length;
      await engine.play('meet', 'p1', [{ kind: 'tone', name: 'join' }], 42);
      await until(() => events.some((e) => e.ev === 'played' && e.token === 42));
      expect(events.filter((e) => e.ev === 'played')).toEqual([{ ev: 'played', session: 'meet', endpoint: 'p1', token: 42 }]);
      expect((peers[0] as RtpPeer).received.length - before).toBeGreaterThanOrEqual(15);
      await engine.stopPlay('meet', 'p1');
      await engine.participant('meet', 'p2', { muted: true });
      const snap = await engine.query('meet');
      expect(snap?.endpoints.map((e) => [e.id, e.participant?.inMeeting, e.participant?.muted])).toEqual([
        ['p1', true, false],
        ['p2', true, true],
        ['p3', true, false],
      ]);
      expect(events.some((e) => e.ev === 'speaker' && e.endpoint === 'p2' && e.talking)).toBe(true);
      const final = await engine.delete('meet');
      expect(final?.endpoints.every((e) => e.sentRtpPackets > 0 && e.dropped === 0)).toBe(true);
      expect(await engine.status()).toMatchObject({ bridges: 0, bridgeParticipants: 0, portPairsInUse: 0 });
    } finally {
      for (const p of peers) p.close();
    }
  });
});
