import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawUdpPeer } from '../support/raw-sip.ts';
import { startTestServer } from '../support/server.ts';
import type { TestServer } from '../support/server.ts';

const VALID = [
  'INVITE sip:+12065550100@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:PORT;branch=z9hG4bKBR;rport\r\nMax-Forwards: 70\r\nFrom: "A" <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:+12065550100@127.0.0.1>\r\nCall-ID: CID\r\nCSeq: 1 INVITE\r\nContact: <sip:a@127.0.0.1:PORT>\r\nContent-Type: application/sdp\r\nContent-Length: 31\r\n\r\nv=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\n',
  'OPTIONS sip:127.0.0.1 SIP/2.0\r\nv: SIP/2.0/UDP 127.0.0.1:PORT;branch=z9hG4bKBR\r\nMax-Forwards: 70\r\nf: <sip:a@127.0.0.1>;tag=2\r\nt: <sip:127.0.0.1>\r\ni: CID\r\nCSeq: 7 OPTIONS\r\nl: 0\r\n\r\n',
  'BYE sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:PORT;branch=z9hG4bKBR\r\nMax-Forwards: 70\r\nFrom: <sip:a@127.0.0.1>;tag=3\r\nTo: <sip:b@127.0.0.1>;tag=9\r\nCall-ID: CID\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n',
  'SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKBR\r\nFrom: <sip:a@127.0.0.1>;tag=3\r\nTo: <sip:b@127.0.0.1>;tag=9\r\nCall-ID: CID\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n',
];

/** Mutations: byte flips, truncations, insertions, duplicated lines, plus plain random bytes. */
function messages(port: number): fc.Arbitrary<Buffer> {
  const base = fc.tuple(fc.constantFrom(...VALID), fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 4, maxLength: 12 })).map(([m, id]) =>
    Buffer.from(m.replaceAll('PORT', String(port)).replaceAll('BR', id).replaceAll('CID', `${id}@fuzz`), 'latin1'),
  );
  const flip = fc.tuple(base, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 })).map(([b, edits]) => {
    const out = Buffer.from(b);
    for (const [i, v] of edits) out[i % out.length] = v;
    return out;
  });
  const cut = fc.tuple(base, fc.nat()).map(([b, n]) => b.subarray(0, n % (b.length + 1)));
  const insert = fc.tuple(base, fc.nat(), fc.uint8Array({ maxLength: 64 })).map(([b, at, ins]) => {
    const i = at % (b.length + 1);
    return Buffer.concat([b.subarray(0, i), Buffer.from(ins), b.subarray(i)]);
  });
  const dupLine = fc.tuple(base, fc.nat()).map(([b, n]) => {
    const lines = b.toString('latin1').split('\r\n');
    const i = n % lines.length;
    lines.splice(i, 0, lines[i] ?? '');
    return Buffer.from(lines.join('\r\n'), 'latin1');
  });
  const random = fc.uint8Array({ maxLength: 1500 }).map((u) => Buffer.from(u));
  return fc.oneof(flip, cut, insert, dupLine, random, base);
}

describe('fuzzing the live UDP listener', () => {
  let t: TestServer;
  let peer: RawUdpPeer;

  beforeAll(async () => {
    t = await startTestServer({ sip: { requestsPerSecPerSource: 100_000, burstPerSource: 100_000 } });
    peer = new RawUdpPeer();
    await peer.open();
  });

  afterAll(async () => {
    peer.close();
    await t.close();
  });

  it('takes 10,000 random and mutated messages without crashing or leaking transactions', async () => {
    const samples = fc.sample(messages(peer.port), { numRuns: 10_000, seed: 4475 });
    const udp = t.ports.sipUdp as number;
    for (let i = 0; i < samples.length; i++) {
      peer.send(samples[i] as Buffer, udp);
      // Bounded pace: 200 datagrams, then yield so the server drains its socket.
      if (i % 200 === 199) await new Promise((r) => setTimeout(r, 5));
    }
    expect(t.server.edge.counters.messagesReceived).toBeGreaterThan(0);
    // Still answering (a fresh socket: the fuzzing one is busy with retransmitted finals).
    const probe = new RawUdpPeer();
    await probe.open();
    probe.send(VALID[1]!.replaceAll('PORT', String(probe.port)).replaceAll('BR', 'alive').replaceAll('CID', 'alive@fuzz'), udp);
    // UDP under overload drops datagrams in the kernel, so the probe is retried (bounded).
    let alive;
    for (let k = 0; k < 10 && alive === undefined; k++) {
      alive = await probe.waitFor((r) => r.status === 200 && r.text.includes('z9hG4bKalive'), 500);
      if (alive === undefined) probe.send(VALID[1]!.replaceAll('PORT', String(probe.port)).replaceAll('BR', 'alive' + k).replaceAll('CID', 'alive@fuzz'), udp);
    }
    probe.close();
    expect(alive).toBeDefined();
    // And nothing is left once the timers have run.
    const s = await t.waitIdle(20_000);
    expect(s).toMatchObject({ transactions: 0, dialogs: 0, calls: 0 });
    expect(t.server.edge.counters.parseErrors).toBeGreaterThan(1000);
  });
});
