import { describe, expect, it } from 'vitest';
import { startBaresip } from '../support/baresip.ts';
import { startCarillonInNetns } from '../support/carillon-in-netns.ts';
import { createNetns } from '../support/netns.ts';

describe('two real softphones (baresip) through Carillon', () => {
  it('call set up, audio both ways, torn down; everything inside a namespace of the test', async () => {
    const ns = createNetns();
    const [aPort, bPort, sipPort, apiPort] = [25010, 25020, 25060, 28080];
    const carillon = await startCarillonInNetns(ns, {
      yaml: `logLevel: warn\nsip: { t1Ms: 100, t2Ms: 800, t4Ms: 1000, timerDMs: 1000 }\nroutes:\n  - match: {}\n    target: "sip:bob@${ns.address}:${bPort};transport=udp"\n`,
      sipUdp: sipPort,
      api: apiPort,
    });
    const metrics = (): string => carillon.metrics();
    try {
      expect(carillon.ports).toMatchObject({ sipUdp: sipPort, api: apiPort });

      const bob = startBaresip({ ns, user: 'bob', port: bPort, seconds: 14 });
      await new Promise((r) => setTimeout(r, 1000));
      const alice = startBaresip({ ns, user: 'alice', port: aPort, seconds: 8, dial: `sip:+12065550100@${ns.address}:${sipPort}` });
      await alice.done;
      await new Promise((r) => setTimeout(r, 1500));
      bob.kill();
      await bob.done;

      const a = alice.stats();
      const b = bob.stats();
      expect(a.established, alice.output()).toBe(true);
      expect(b.established, bob.output()).toBe(true);
      expect(a.terminated).toBe(true);
      // Bob saw the BYE Carillon relayed from Alice.
      expect(bob.output()).toMatch(/terminated \(duration/);
      // Bob's RTCP summary: audio both ways, nothing lost.
      expect(b.summary, bob.output().slice(-2000)).toBe(true);
      expect(b.rxPackets).toBeGreaterThan(100);
      expect(b.txPackets).toBeGreaterThan(100);
      expect(b.lost).toBe(0);
      // Media came only from inside the namespace.
      for (const from of [...a.rtpFrom, ...b.rtpFrom]) expect(from.startsWith(ns.address.slice(0, ns.address.lastIndexOf('.')))).toBe(true);
      // Back to zero: calls and dialogs at once, transactions once their UDP timers ran out.
      let m = metrics();
      for (let i = 0; i < 100 && !/^carillon_sip_transactions_active 0$/m.test(m); i++) {
        await new Promise((r) => setTimeout(r, 100));
        m = metrics();
      }
      expect(m).toMatch(/^carillon_calls_answered_total 1$/m);
      expect(m).toMatch(/^carillon_calls_active 0$/m);
      expect(m).toMatch(/^carillon_sip_dialogs_active 0$/m);
      expect(m).toMatch(/^carillon_sip_transactions_active 0$/m);
      // The media went through Carillon's ports, and the call-end quality record says so.
      expect(m).toMatch(/^carillon_media_port_pairs_in_use 0$/m);
      const relayed = Number(/^carillon_media_packets_relayed_total (\d+)$/m.exec(m)?.[1] ?? 0);
      expect(relayed).toBeGreaterThan(600);
      const last = await carillon.lastQualityRecord();
      expect(last).toMatchObject({ voice_connector_id: 'default', call_ended: true, from_sip_user: 'alice', to_country: 'US', cust2vc_packets_lost: 0, rem2vc_packets_lost: 0 });
      expect(last.cust2vc_rtp_packets).toBeGreaterThan(300);
      expect(last.rem2vc_rtp_packets).toBeGreaterThan(300);
      // Both phones send RTCP (relayed; RTT is checked against injected truth in media-quality.test.ts).
      expect(last.cust2vc_rtcp_packets).toBeGreaterThan(0);
      expect(last.mos_btwn_vc_and_cust).toBeGreaterThanOrEqual(4.3);
    } finally {
      const code = await carillon.stop();
      ns.destroy();
      expect(code, carillon.output()).toBe(0);
    }
  }, 60_000);
});
