import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeTimers, systemClock } from '../../../common/clock.ts';
import { nodeSockets } from '../../../common/sockets.ts';
import type { RemoteMedia } from '../../../media/protocol.ts';
import { createRelayBackend } from '../../../media/relay/backend.ts';
import type { RelayBackend } from '../../../media/relay/backend.ts';
import { connect } from '../../../media/relay/endpoint.ts';
import type { Endpoint } from '../../../media/relay/endpoint.ts';
import { writeRtpHeader } from '../../../media/rtp/rtp-header.ts';
import { until } from '../../support/rtp-peer.ts';
import { LATCH_CASES } from './latching-cases.ts';
import type { PeerName } from './latching-cases.ts';

interface Got {
  readonly ssrc: number;
  readonly seq: number;
  readonly ts: number;
}

interface Peer {
  readonly s: dgram.Socket;
  readonly port: number;
  readonly got: Got[];
}

async function peer(): Promise<Peer> {
  const s = dgram.createSocket('udp4');
  const got: Got[] = [];
  s.on('message', (b: Buffer) => {
    if (b.length >= 12 && !((b[1] as number) >= 192 && (b[1] as number) <= 223)) got.push({ ssrc: b.readUInt32BE(8), seq: b.readUInt16BE(2), ts: b.readUInt32BE(4) });
  });
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  return { s, port: s.address().port, got };
}

const NAMES: readonly PeerName[] = ['A1', 'A2', 'B', 'B2', 'Private'];

describe.each(['native', 'sockets'] as const)('latching and SSRC continuity (%s path)', (path) => {
  let backend: RelayBackend;
  beforeAll(() => {
    const low = 41000 + 2 * Math.floor(Math.random() * 1500) + (path === 'native' ? 0 : 4000);
    backend = createRelayBackend(
      { bindAddress: '127.0.0.1', low, high: low + 39, strict: false, mediaTimeoutMs: 0, rtcpIntervalMs: 5000, cname: 't', releaseDelayMs: 0, nativeRelay: path === 'native' },
      { sockets: nodeSockets, clock: systemClock, timers: nodeTimers },
    );
    expect(backend.kind).toBe(path);
  });
  afterAll(() => backend.close());

  it.each(LATCH_CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const peers = new Map<PeerName, Peer>();
    for (const n of NAMES) peers.set(n, await peer());
    const at = (n: PeerName): Peer => peers.get(n) as Peer;
    const open = async (id: string): Promise<Endpoint> => {
      const ports = await backend.allocate(false);
      if (ports === undefined) throw new Error('exhausted');
      return backend.open(ports, { id, kind: 'audio', clockRateHz: 8000, codec: 'PCMU', strict: c.strict === true, ownSsrc: 1 });
    };
    const a = await open('a');
    const b = await open('b');
    connect(a, b);
    const eps = { a, b };
    const expected = new Map<PeerName, Got[]>(NAMES.map((n) => [n, []]));
    try {
      for (const step of c.steps) {
        if ('sdp' in step) {
          const remote: RemoteMedia = { address: step.at === null ? undefined : '127.0.0.1', port: step.at === null ? 0 : at(step.at).port, rtcpPort: 0, rtcpMux: false, direction: 'sendrecv', dtmfPayloadTypes: [] };
          eps[step.sdp].configure(remote);
          continue;
        }
        const p = Buffer.alloc(172);
        writeRtpHeader({ marker: false, payloadType: 0, sequence: step.seq, timestamp: step.ts, ssrc: step.ssrc }, p);
        const into = eps[step.into];
        const seen = (): number => {
          into.sync();
          return into.stats.received.rtpPackets + into.stats.received.dropped;
        };
        const before = seen();
        at(step.from).s.send(p, into.ports.rtpPort, '127.0.0.1');
        // The endpoint has taken the packet (relayed or dropped) before the next step changes anything.
        await until(() => seen() > before);
        if (step.arrives === undefined) continue;
        const list = expected.get(step.arrives.at) as Got[];
        list.push({ ssrc: step.arrives.ssrc, seq: step.arrives.seq, ts: step.arrives.ts });
        const want = list.length;
        await until(() => at(step.arrives?.at ?? 'A1').got.length >= want);
      }
      // Anything that should have gone nowhere had the time the packets after it took.
      await new Promise((r) => setTimeout(r, 30));
      for (const n of NAMES) expect(at(n).got, `at ${n}`).toEqual(expected.get(n));
      a.sync();
      expect({ latched: a.latch.latched, relatches: a.latch.relatches, peer: NAMES.find((n) => a.latch.peerAddress !== undefined && at(n).port === a.latch.peerPort) ?? null }).toEqual(c.end);
    } finally {
      for (const ep of [a, b]) {
        ep.close();
        backend.release(ep.ports);
      }
      for (const pr of peers.values()) pr.s.close();
    }
  });
});
