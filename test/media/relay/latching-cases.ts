/**
 * Latching and SSRC continuity as data: one table that both packet paths — the native mover
 * (media/native/relay.c) and Carillon's sockets (media/relay/latching.ts, ssrc-continuity.ts) —
 * must pass, so the two implementations cannot drift apart. Peers are sockets on loopback; an
 * endpoint's SDP points at one of them (or at nothing), packets go from a peer into endpoint
 * `a` or `b`, and each send says where the relayed packet must arrive, and as what, or that it
 * goes nowhere.
 */
export type PeerName = 'A1' | 'A2' | 'B' | 'B2' | 'Private';

export type LatchStep =
  | { readonly sdp: 'a' | 'b'; readonly at: PeerName | null }
  | {
      readonly from: PeerName;
      readonly into: 'a' | 'b';
      readonly ssrc: number;
      readonly seq: number;
      readonly ts: number;
      /** Where the packet must come out, with the header it must carry; absent: nowhere. */
      readonly arrives?: { readonly at: PeerName; readonly ssrc: number; readonly seq: number; readonly ts: number };
    };

export interface LatchCase {
  readonly name: string;
  readonly strict?: boolean;
  readonly steps: readonly LatchStep[];
  /** Endpoint a's latching at the end. */
  readonly end: { readonly latched: boolean; readonly relatches: number; readonly peer: PeerName | null };
}

const pass = (from: PeerName, into: 'a' | 'b', ssrc: number, seq: number, ts: number, at: PeerName): LatchStep => ({ from, into, ssrc, seq, ts, arrives: { at, ssrc, seq, ts } });

export const LATCH_CASES: readonly LatchCase[] = [
  {
    name: 'latches to where the endpoint really sends from (NAT), not to its SDP port',
    steps: [{ sdp: 'a', at: 'Private' }, { sdp: 'b', at: 'B' }, pass('A1', 'a', 0xa1, 100, 1000, 'B'), pass('B', 'b', 0xb, 7, 70, 'A1')],
    end: { latched: true, relatches: 0, peer: 'A1' },
  },
  {
    name: 'once latched, a stranger sending the same SSRC is dropped',
    steps: [{ sdp: 'a', at: 'A1' }, { sdp: 'b', at: 'B' }, pass('A1', 'a', 0xa1, 100, 1000, 'B'), { from: 'A2', into: 'a', ssrc: 0xa1, seq: 101, ts: 1160 }, pass('B', 'b', 0xb, 7, 70, 'A1')],
    end: { latched: true, relatches: 0, peer: 'A1' },
  },
  {
    name: 'a new SSRC from a new source re-latches, and the stream runs on with the first SSRC, sequence and timestamp',
    steps: [
      { sdp: 'a', at: 'A1' },
      { sdp: 'b', at: 'B' },
      pass('A1', 'a', 0xa1, 100, 1000, 'B'),
      pass('A1', 'a', 0xa1, 101, 1160, 'B'),
      { from: 'A2', into: 'a', ssrc: 0xa2, seq: 5000, ts: 90000, arrives: { at: 'B', ssrc: 0xa1, seq: 102, ts: 1320 } },
      { from: 'A2', into: 'a', ssrc: 0xa2, seq: 5001, ts: 90160, arrives: { at: 'B', ssrc: 0xa1, seq: 103, ts: 1480 } },
      pass('B', 'b', 0xb, 7, 70, 'A2'),
    ],
    end: { latched: true, relatches: 1, peer: 'A2' },
  },
  {
    name: 'sequence and timestamp wrap around across a source change',
    steps: [
      { sdp: 'a', at: 'A1' },
      { sdp: 'b', at: 'B' },
      pass('A1', 'a', 0xa1, 65535, 0xffffff80, 'B'),
      { from: 'A1', into: 'a', ssrc: 0xa2, seq: 10, ts: 5, arrives: { at: 'B', ssrc: 0xa1, seq: 0, ts: 0x20 } },
    ],
    end: { latched: true, relatches: 0, peer: 'A1' },
  },
  {
    name: 'strict: only the SDP address is accepted, nothing latches',
    strict: true,
    steps: [{ sdp: 'a', at: 'A1' }, { sdp: 'b', at: 'B' }, { from: 'A2', into: 'a', ssrc: 0xa1, seq: 100, ts: 1000 }, pass('A1', 'a', 0xa1, 101, 1160, 'B'), pass('B', 'b', 0xb, 7, 70, 'A1')],
    end: { latched: false, relatches: 0, peer: 'A1' },
  },
  {
    name: 'the same SDP again keeps the latch; a new SDP address drops it until the new endpoint sends',
    steps: [
      { sdp: 'a', at: 'Private' },
      { sdp: 'b', at: 'B' },
      pass('A1', 'a', 0xa1, 100, 1000, 'B'),
      { sdp: 'a', at: 'Private' },
      pass('B', 'b', 0xb, 7, 70, 'A1'),
      { sdp: 'a', at: 'A2' },
      pass('B', 'b', 0xb, 8, 230, 'A2'),
    ],
    end: { latched: false, relatches: 0, peer: 'A2' },
  },
  {
    name: 'with nowhere to send (the other side has no address yet) the packet is dropped and the stream does not advance',
    steps: [
      { sdp: 'a', at: 'A1' },
      { sdp: 'b', at: null },
      { from: 'A1', into: 'a', ssrc: 0xa1, seq: 100, ts: 1000 },
      { sdp: 'b', at: 'B' },
      pass('A1', 'a', 0xa1, 101, 1160, 'B'),
      { from: 'A1', into: 'a', ssrc: 0xa2, seq: 1, ts: 1, arrives: { at: 'B', ssrc: 0xa1, seq: 102, ts: 1320 } },
    ],
    end: { latched: true, relatches: 0, peer: 'A1' },
  },
];
