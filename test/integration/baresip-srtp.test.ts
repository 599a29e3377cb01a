import { describe, expect, it } from 'vitest';
import { startBaresip } from '../support/baresip.ts';
import { startCarillonInNetns } from '../support/carillon-in-netns.ts';
import { createNetns } from '../support/netns.ts';

/**
 * A softphone on SIP over TLS with SRTP required (baresip, libsrtp) calls through Carillon to a
 * plain RTP softphone: Carillon answers the secure leg with its own key, bridges to plain RTP,
 * and the audio crosses both ways. Each SRTP packet is authenticated by the receiver — baresip
 * drops what fails, Carillon too — so packets counted on both ends are packets that decrypted.
 */
describe('TLS + SRTP leg bridged to plain RTP (baresip both sides)', () => {
  it('call set up over TLS, SRTP on one leg, RTP on the other, audio both ways', async () => {
    const ns = createNetns();
    const [aPort, bPort, tlsPort, apiPort] = [25110, 25120, 25161, 28180];
    const carillon = await startCarillonInNetns(ns, {
      yaml: `logLevel: warn\nsip: { t1Ms: 100, t2Ms: 800, t4Ms: 1000, timerDMs: 1000 }\nmedia: { relay: sockets }\nroutes:\n  - match: {}\n    target: "sip:bob@${ns.address}:${bPort};transport=udp"\n`,
      sipUdp: 25160,
      sipTls: tlsPort,
      api: apiPort,
    });
    const metrics = (): string => carillon.metrics();
    try {
      expect(carillon.ports).toMatchObject({ sipTls: tlsPort });
      const bob = startBaresip({ ns, user: 'bob', port: bPort, seconds: 14 });
      await new Promise((r) => setTimeout(r, 1000));
      const alice = startBaresip({ ns, user: 'alice', port: aPort, seconds: 8, secure: true, dial: `sip:+12065550100@${ns.address}:${tlsPort};transport=tls` });
      await alice.done;
      await new Promise((r) => setTimeout(r, 1500));
      bob.kill();
      await bob.done;
      const a = alice.stats();
      const b = bob.stats();
      expect(a.established, alice.output().slice(-3000)).toBe(true);
      expect(b.established, bob.output().slice(-2000)).toBe(true);
      // Alice's libsrtp accepted what Carillon encrypted (her status line: audio=<rx>/<tx> bit/s,
      // 64 kbit/s of PCMU each way); Bob got what Carillon decrypted.
      const rates = [...alice.output().matchAll(/audio=(\d+)\/(\d+) \(bit\/s\)/g)].at(-1);
      expect(Number(rates?.[1] ?? 0), alice.output().slice(-1500)).toBeGreaterThan(50_000);
      expect(Number(rates?.[2] ?? 0)).toBeGreaterThan(50_000);
      expect(b.summary, bob.output().slice(-2000)).toBe(true);
      expect(b.rxPackets).toBeGreaterThan(100);
      expect(b.txPackets).toBeGreaterThan(100);
      expect(b.lost).toBe(0);
      expect(metrics()).toMatch(/^carillon_calls_answered_total 1$/m);
      // Every SRTP packet and SRTCP report Alice sent was authenticated and went on to Bob decrypted, and back.
      const last = await carillon.lastQualityRecord();
      expect(last.cust2vc_rtp_packets).toBeGreaterThan(300);
      expect(last.vc2rem_rtp_packets).toBe(last.cust2vc_rtp_packets);
      expect(last.vc2cust_rtp_packets).toBe(last.rem2vc_rtp_packets);
      expect(last.cust2vc_rtcp_packets).toBeGreaterThan(0);
    } finally {
      const code = await carillon.stop();
      ns.destroy();
      expect(code, carillon.output()).toBe(0);
    }
  }, 60_000);
});
