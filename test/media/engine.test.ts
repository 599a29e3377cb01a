import { newMasterKey, SrtpContext } from '../../media/srtp/srtp.ts';
import dgram from 'node:dgram';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaEngine, sliceRange, SrtpUnavailableError } from '../../media/engine.ts';
import type { EndpointOptions, EndpointSnapshot, MediaEvent, RemoteMedia, SessionSnapshot } from '../../media/protocol.ts';
import { dtmfPacket, RtpPeer, until } from '../support/rtp-peer.ts';

/** Two endpoints `a` and `b` of one session, connected: a two-party call's media. */
async function openPair(engine: MediaEngine, session: string, opts: Partial<EndpointOptions> = {}): Promise<{ aPort: number; bPort: number } | 'ports-exhausted'> {
  const o: EndpointOptions = { kind: 'audio', clockRateHz: 8000, ...opts };
  const [aPort, bPort] = await Promise.all([engine.openEndpoint(session, 'a', o), engine.openEndpoint(session, 'b', o)]);
  if (aPort === 'ports-exhausted' || bPort === 'ports-exhausted') return 'ports-exhausted';
  await engine.connect(session, 'a', 'b');
  return { aPort, bPort };
}

function endpointOf(snap: SessionSnapshot | undefined, id: string): EndpointSnapshot | undefined {
  return snap?.endpoints.find((e) => e.id === id);
}

function remote(p: RtpPeer, extra: Partial<RemoteMedia> = {}): RemoteMedia {
  return { address: '127.0.0.1', port: p.rtpPort, rtcpPort: p.rtpPort + 1, rtcpMux: false, direction: 'sendrecv', dtmfPayloadTypes: [101], ...extra };
}

describe('sliceRange', () => {
  it('splits a range into whole RTP/RTCP pairs per worker', () => {
    expect(sliceRange(10000, 60000, 1)).toEqual([{ low: 10000, high: 59999 }]);
    const s = sliceRange(10001, 10020, 3);
    expect(s).toEqual([
      { low: 10002, high: 10007 },
      { low: 10008, high: 10013 },
      { low: 10014, high: 10019 },
    ]);
  });
});

describe.each(['native', 'sockets'] as const)('MediaEngine (worker threads, %s relay)', (relay) => {
  let engine: MediaEngine;
  const events: MediaEvent[] = [];
  const low = 46000 + 2 * Math.floor(Math.random() * 500) + (relay === 'native' ? 0 : 1000);
  beforeAll(async () => {
    engine = await MediaEngine.start(
      { workers: 2, bindAddress: '127.0.0.1', low, high: low + 399, strict: false, mediaTimeoutMs: 1500, rtcpIntervalMs: 200, cname: 'carillon@test', releaseDelayMs: 0, nativeRelay: relay === 'native' },
      pino({ level: 'silent' }),
    );
    engine.onEvent = (e) => events.push(e);
    // The native mover is built by `npm ci`; a missing build is a failure here, not a silent fallback.
    expect((await engine.status()).nativeWorkers).toBe(relay === 'native' ? 2 : 0);
  });
  afterAll(async () => {
    await engine.close();
  });

  it('relays between two endpoints, detects DTMF, times out an idle session and releases every port', async () => {
    const before = await engine.status();
    expect(before.portPairsInUse).toBe(0);
    const A = await RtpPeer.open();
    const B = await RtpPeer.open();
    try {
      const ports = await openPair(engine, 's1');
      if (ports === 'ports-exhausted') throw new Error('exhausted');
      await engine.updateEndpoint('s1', 'a', remote(A));
      await engine.updateEndpoint('s1', 'b', remote(B));
      A.sendTo('127.0.0.1', ports.aPort);
      B.sendTo('127.0.0.1', ports.bPort);
      const sentA = await A.sendStream({ packets: 20, ptimeMs: 5, ssrc: 0xa });
      const sentB = await B.sendStream({ packets: 20, ptimeMs: 5, ssrc: 0xb });
      await until(() => A.received.length >= 20 && B.received.length >= 20);
      expect(B.received.map((r) => r.packet.toString('hex'))).toEqual(sentA.map((s) => s.bytes.toString('hex')));
      expect(A.received.map((r) => r.packet.toString('hex'))).toEqual(sentB.map((s) => s.bytes.toString('hex')));
      // Digit 5 from the caller, end packet sent three times: reported once.
      for (const [i, end] of [false, false, true, true, true].entries()) {
        A.sendRaw(dtmfPacket({ seq: 1020 + i, ts: 90000, ssrc: 0xa, pt: 101, event: 5, end, duration: 160 * (i + 1) }));
      }
      await until(() => events.some((e) => e.ev === 'dtmf'));
      const dtmf = events.filter((e) => e.ev === 'dtmf');
      expect(dtmf).toEqual([{ ev: 'dtmf', session: 's1', endpoint: 'a', digit: '5', durationMs: 60 }]);
      // Carillon's own RTCP reached both endpoints (interval 200 ms here).
      await until(() => A.rtcpReceived.length > 0 && B.rtcpReceived.length > 0);
      // Nothing more is sent: once armed (answered), the session times out (1.5 s here).
      expect(events.some((e) => e.ev === 'timeout')).toBe(false);
      await engine.arm('s1');
      await until(() => events.some((e) => e.ev === 'timeout' && e.session === 's1'), 5000);
      const snap = await engine.delete('s1');
      expect(snap?.connections).toEqual([{ a: 'a', b: 'b' }]);
      expect(endpointOf(snap, 'a')?.rtpPackets).toBe(25);
      expect(endpointOf(snap, 'b')?.sentRtpPackets).toBe(25);
      expect(endpointOf(snap, 'a')?.packetsLost).toBe(0);
      const after = await engine.status();
      expect(after.portPairsInUse).toBe(0);
      expect(after.mediaTimeouts).toBe(before.mediaTimeouts + 1);
      expect(after.packetsRelayed).toBeGreaterThanOrEqual(45);
    } finally {
      A.close();
      B.close();
    }
  });

  it('opens three endpoints in one session and relays between whichever two are connected, never to the third', async () => {
    const peers = { x: await RtpPeer.open(), y: await RtpPeer.open(), z: await RtpPeer.open() };
    const ids = ['x', 'y', 'z'] as const;
    try {
      const ports: Record<string, number> = {};
      for (const id of ids) {
        const port = await engine.openEndpoint('three', id, { kind: 'audio', clockRateHz: 8000, codec: 'PCMU', remote: remote(peers[id]) });
        if (port === 'ports-exhausted') throw new Error('exhausted');
        ports[id] = port;
        peers[id].sendTo('127.0.0.1', port);
      }
      expect(new Set(Object.values(ports)).size).toBe(3);
      let ssrc = 0x100;
      for (const [one, two] of [['x', 'y'], ['x', 'z'], ['y', 'z']] as const) {
        const third = ids.find((id) => id !== one && id !== two) as (typeof ids)[number];
        await engine.connect('three', one, two);
        const before = { [one]: peers[one].received.length, [two]: peers[two].received.length, [third]: peers[third].received.length };
        const fromOne = await peers[one].sendStream({ packets: 10, ptimeMs: 2, ssrc: ssrc++ });
        const fromTwo = await peers[two].sendStream({ packets: 10, ptimeMs: 2, ssrc: ssrc++ });
        // The third's packets reach nobody: it is connected to no one now.
        await peers[third].sendStream({ packets: 5, ptimeMs: 2, ssrc: ssrc++ });
        await until(() => peers[one].received.length >= (before[one] ?? 0) + 10 && peers[two].received.length >= (before[two] ?? 0) + 10);
        const got = (id: string, from: number): string[] => peers[id as (typeof ids)[number]].received.slice(from).map((r) => r.packet.toString('hex'));
        // Each source's first packet in a new pairing may carry a continuity rewrite: compare payloads, count packets.
        expect(got(two, before[two] ?? 0).map((h) => h.slice(24))).toEqual(fromOne.map((p) => p.bytes.toString('hex').slice(24)));
        expect(got(one, before[one] ?? 0).map((h) => h.slice(24))).toEqual(fromTwo.map((p) => p.bytes.toString('hex').slice(24)));
        expect(peers[third].received.length).toBe(before[third]);
        const snap = await engine.query('three');
        expect(snap?.connections).toEqual([{ a: one, b: two }]);
        expect(endpointOf(snap, one)?.connectedTo).toBe(two);
        expect(endpointOf(snap, third)?.connectedTo).toBe(null);
      }
      const final = await engine.delete('three');
      expect(final?.endpoints.map((e) => e.id)).toEqual(['x', 'y', 'z']);
      // Each endpoint received from its far end 10 + 10 + 5 packets over the three pairings.
      for (const id of ids) expect(endpointOf(final, id)?.rtpPackets).toBe(25);
      for (const id of ids) expect(endpointOf(final, id)?.sentRtpPackets).toBe(20);
      expect((await engine.status()).portPairsInUse).toBe(0);
    } finally {
      for (const p of Object.values(peers)) p.close();
    }
  });

  it("Carillon's own sender report carries the RTP timestamp of the stream it forwards", async () => {
    const A = await RtpPeer.open();
    const B = await RtpPeer.open();
    try {
      const ports = await openPair(engine, 'sr');
      if (ports === 'ports-exhausted') throw new Error('exhausted');
      await engine.updateEndpoint('sr', 'a', remote(A));
      await engine.updateEndpoint('sr', 'b', remote(B));
      A.sendTo('127.0.0.1', ports.aPort);
      // A sends and no RTCP: Carillon reports to B as the sender of A's stream.
      const sent = await A.sendStream({ packets: 20, ptimeMs: 5, ssrc: 0x5151 });
      const last = sent[sent.length - 1];
      await until(() => B.received.length >= 20);
      const from = B.rtcpReceived.length;
      // An SR (PT 200) sent after the stream ended: RFC 3550 §6.4.1, the RTP timestamp at the NTP time.
      const isSr = (r: Buffer): boolean => r.length >= 28 && r[1] === 200;
      await until(() => B.rtcpReceived.slice(from).some(isSr), 5000);
      const sr = B.rtcpReceived.slice(from).find(isSr) as Buffer;
      expect(sr.readUInt32BE(4)).toBe(0x5151);
      expect(sr.readUInt32BE(16)).toBe(last?.ts);
      expect(sr.readUInt32BE(20)).toBe(20);
      await engine.delete('sr');
    } finally {
      A.close();
      B.close();
    }
  });

  it('spreads sessions over the workers and reports exhaustion instead of failing', async () => {
    const got: number[] = [];
    for (let i = 0; i < 4; i++) {
      const p = await openPair(engine, `x${i}`);
      if (p === 'ports-exhausted') throw new Error('exhausted');
      got.push(p.aPort);
    }
    // Two workers, two slices: both halves of the range are in use.
    expect(got.some((p) => p < low + 200)).toBe(true);
    expect(got.some((p) => p >= low + 200)).toBe(true);
    for (let i = 0; i < 4; i++) await engine.delete(`x${i}`);
    expect((await engine.status()).portPairsInUse).toBe(0);
  });
});

describe.each(['native', 'sockets'] as const)('port pool (%s relay)', (relay) => {
  it('skips ports another process holds, never failing because of them, and says when none is left', async () => {
    const low = 45000 + 2 * Math.floor(Math.random() * 400) + (relay === 'native' ? 0 : 1000);
    // Another process holds the RTP port of pairs 1 and 3 of an 8-pair range.
    const held = await Promise.all(
      [low + 2, low + 6].map(
        (port) =>
          new Promise<dgram.Socket>((resolve, reject) => {
            const s = dgram.createSocket('udp4');
            s.once('error', reject);
            s.bind(port, '127.0.0.1', () => resolve(s));
          }),
      ),
    );
    const engine = await MediaEngine.start(
      { workers: 1, bindAddress: '127.0.0.1', low, high: low + 15, strict: false, mediaTimeoutMs: 0, rtcpIntervalMs: 5000, cname: 't', releaseDelayMs: 0, nativeRelay: relay === 'native' },
      pino({ level: 'silent' }),
    );
    try {
      const got: number[] = [];
      for (let i = 0; i < 3; i++) {
        const p = await openPair(engine, `s${i}`);
        if (p === 'ports-exhausted') throw new Error('exhausted too early');
        got.push(p.aPort, p.bPort);
      }
      expect(got).not.toContain(low + 2);
      expect(got).not.toContain(low + 6);
      expect(await engine.openEndpoint('s3', 'a', { kind: 'audio', clockRateHz: 8000 })).toBe('ports-exhausted');
      const st = await engine.status();
      expect(st.portsSkipped).toBeGreaterThanOrEqual(2);
      expect(st.portPairsInUse).toBe(6);
      for (let i = 0; i < 4; i++) await engine.delete(`s${i}`);
      expect((await engine.status()).portPairsInUse).toBe(0);
    } finally {
      await engine.close();
      for (const s of held) s.close();
    }
  });
});

describe.each(['native', 'sockets'] as const)('SRTP legs (%s relay)', (relay) => {
  it('decrypts what a secure leg sends, encrypts what it receives, RTCP included', async () => {
    const low = 50000 + 2 * Math.floor(Math.random() * 400) + (relay === 'native' ? 0 : 1000);
    const engine = await MediaEngine.start(
      { workers: 1, bindAddress: '127.0.0.1', low, high: low + 15, strict: false, mediaTimeoutMs: 0, rtcpIntervalMs: 200, cname: 'carillon@test', releaseDelayMs: 0, nativeRelay: relay === 'native' },
      pino({ level: 'silent' }),
    );
    const A = await RtpPeer.open();
    const B = await RtpPeer.open();
    try {
      const theirs = newMasterKey();
      const ours = newMasterKey();
      const b64 = (m: { key: Buffer; salt: Buffer }): string => Buffer.concat([m.key, m.salt]).toString('base64');
      const srtp = { suite: 'AES_CM_128_HMAC_SHA1_80' as const, receiveKey: b64(theirs), sendKey: b64(ours) };
      if (relay === 'native') {
        // A stream opened plain rides the mover, which does not look into packets: SRTP later is refused.
        const plain = await openPair(engine, 'plain');
        if (plain === 'ports-exhausted') throw new Error('exhausted');
        await expect(engine.updateEndpoint('plain', 'a', remote(A, { srtp }))).rejects.toBeInstanceOf(SrtpUnavailableError);
        await engine.delete('plain');
      }
      // Opened as secure, the stream goes on Carillon's sockets whatever the backend.
      const ports = await openPair(engine, 'sec', { secure: true });
      if (ports === 'ports-exhausted') throw new Error('exhausted');
      await engine.updateEndpoint('sec', 'a', remote(A, { srtp }));
      await engine.updateEndpoint('sec', 'b', remote(B));
      const aTx = new SrtpContext('AES_CM_128_HMAC_SHA1_80', theirs);
      const aRx = new SrtpContext('AES_CM_128_HMAC_SHA1_80', ours);
      const plainFromA: Buffer[] = [];
      A.sendTo('127.0.0.1', ports.aPort);
      B.sendTo('127.0.0.1', ports.bPort);
      for (let i = 0; i < 20; i++) {
        const p = Buffer.concat([Buffer.from([0x80, 0, 0, i, 0, 0, 0, i * 10, 0, 0, 0, 0xaa]), Buffer.alloc(160, i)]);
        plainFromA.push(p);
        A.sendRaw(aTx.protectRtp(p) as Buffer);
      }
      // A forged packet on the secure leg is dropped, not relayed.
      A.sendRaw(Buffer.concat([Buffer.from([0x80, 0, 0, 99, 0, 0, 0, 0, 0, 0, 0, 0xaa]), Buffer.alloc(170, 7)]));
      const sentB = await B.sendStream({ packets: 20, ptimeMs: 5, ssrc: 0xb });
      await until(() => B.received.length >= 20 && A.received.length >= 20);
      await new Promise((r) => setTimeout(r, 100));
      expect(B.received.map((r) => r.packet.toString('hex'))).toEqual(plainFromA.map((p) => p.toString('hex')));
      const decrypted = A.received.map((r) => aRx.unprotectRtp(r.packet));
      expect(decrypted.every((d) => d.ok)).toBe(true);
      expect(decrypted.map((d) => (d.ok ? d.packet.toString('hex') : ''))).toEqual(sentB.map((s) => s.bytes.toString('hex')));
      // Carillon's own RTCP to the secure leg is SRTCP under Carillon's key.
      await until(() => A.rtcpReceived.length > 0, 3000);
      expect(A.rtcpReceived.every((r) => aRx.unprotectRtcp(r).ok)).toBe(true);
      const snap = await engine.delete('sec');
      expect(endpointOf(snap, 'a')?.rtpPackets).toBe(20);
    } finally {
      A.close();
      B.close();
      await engine.close();
    }
  });
});
