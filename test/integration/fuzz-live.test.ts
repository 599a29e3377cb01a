import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawUdpPeer } from '../support/raw-sip.ts';
import { compressedTimers, startTestServer } from '../support/server.ts';
import type { TestServer } from '../support/server.ts';
import { FuzzCallee, runSipFuzz } from '../support/sip-fuzz.ts';

/**
 * The live listeners under a structure-aware mutation fuzzer (test/support/sip-mutator.ts):
 * 20,000 UDP and 2,000 TCP messages seeded from valid INVITE/OPTIONS/REGISTER, with INVITEs to
 * +1206… routed on to a callee that answers with mutated answers. Nothing may crash (an uncaught
 * exception fails this file), the server must still answer, and every call, transaction, dialog
 * and port must be gone once the timers have run (Timer C compressed: calls the fuzz leaves
 * ringing are given up). load/fuzz-sip.ts runs the same far longer.
 */
describe('fuzzing the live SIP listeners', () => {
  let t: TestServer;
  let callee: FuzzCallee;

  beforeAll(async () => {
    callee = new FuzzCallee();
    const calleePort = await callee.open();
    t = await startTestServer({
      mediaTimeout: 2,
      sip: { requestsPerSecPerSource: 100_000, burstPerSource: 100_000, messageDeadlineSec: 2 },
      routes: [{ match: { userPrefix: '+1206' }, target: `sip:127.0.0.1:${calleePort};transport=udp` }],
      // Calls left ringing end at Timer C (181 s): run timers of 10 s and more 20 times faster.
    }, { timers: compressedTimers(20) });
  });

  afterAll(async () => {
    callee.close();
    await t.close();
  });

  it('takes 20,000 UDP and 2,000 TCP mutated messages without crashing, and leaves nothing behind', async () => {
    const counts = await runSipFuzz({ udpPort: t.ports.sipUdp as number, tcpPort: t.ports.sipTcp as number }, { seed: 4475, udp: 20_000, tcp: 2_000, routedNumber: '+1206555', callee });
    expect(counts.udpSent).toBe(20_000);
    expect(counts.tcpSent).toBe(2_000);
    // The fuzz reached every layer: answers of several classes, and calls routed to the callee.
    expect(counts.answers[2]).toBeGreaterThan(100);
    expect(counts.answers[4]).toBeGreaterThan(1000);
    expect(counts.calleeInvites).toBeGreaterThan(50);
    expect(t.server.edge.counters.parseErrors).toBeGreaterThan(1000);

    // Still answering (a fresh socket; UDP under load may drop a datagram, so it is retried, bounded).
    const probe = new RawUdpPeer();
    await probe.open();
    const options = (b: string): string =>
      `OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${probe.port};branch=z9hG4bK${b};rport\r\nMax-Forwards: 70\r\nFrom: <sip:p@127.0.0.1>;tag=p\r\nTo: <sip:127.0.0.1>\r\nCall-ID: ${b}@probe\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`;
    let alive;
    for (let k = 0; k < 10 && alive === undefined; k++) {
      probe.send(options(`alive${k}`), t.ports.sipUdp as number);
      alive = await probe.waitFor((r) => r.status === 200 && r.text.includes(`z9hG4bKalive${k}`), 500);
    }
    probe.close();
    expect(alive).toBeDefined();

    // Every call, transaction and dialog ends once the timers (T1 50 ms, media timeout 2 s) have run.
    expect(await t.waitIdle(30_000)).toMatchObject({ transactions: 0, dialogs: 0, calls: 0 });
  });
});
