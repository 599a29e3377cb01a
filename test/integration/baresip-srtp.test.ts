import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import selfsigned from 'selfsigned';
import { describe, expect, it } from 'vitest';
import { startBaresip } from '../support/baresip.ts';
import type { BaresipHandle } from '../support/baresip.ts';
import { runScriptInNetns, startCarillonInNetns } from '../support/carillon-in-netns.ts';
import { readCdrs } from '../support/cdrs.ts';
import type { EncryptedTrunkInput } from '../support/encrypted-trunk-setup.ts';
import { createNetns } from '../support/netns.ts';

const DIALED = '+14155550123';
const PBX_NUMBER = '+12065550123';

/** The rates (bit/s) on the last status line of the side that dialed: audio=<rx>/<tx>. */
function rates(h: BaresipHandle): { rx: number; tx: number } {
  const m = [...h.output().matchAll(/audio=(\d+)\/(\d+) \(bit\/s\)/g)].at(-1);
  return { rx: Number(m?.[1] ?? 0), tx: Number(m?.[2] ?? 0) };
}

/**
 * A PBX (baresip) on a voice connector that requires encryption — configured with the official
 * SDK — places a call over TLS with SDES-SRTP through Carillon to a plain-RTP carrier (baresip),
 * then the carrier calls the PBX's number and Carillon reaches the PBX over TLS, offering SRTP.
 * Each SRTP packet is authenticated by its receiver — baresip (libsrtp) drops what fails, Carillon
 * too — so the packets counted at both ends are packets that decrypted. Carillon runs its default
 * media relay (the native mover where built): secure streams go on its own sockets.
 */
describe('RequireEncryption voice connector: TLS + SRTP PBX leg bridged to a plain carrier leg (baresip both sides)', () => {
  it('termination and origination: calls set up over TLS, SRTP on the PBX leg, RTP on the carrier leg, audio both ways', async () => {
    const ns = createNetns();
    const [pbxPort, carrierPort, sipUdp, sipTls, apiPort] = [25110, 25120, 25160, 25161, 28180];
    const pbxTlsPort = pbxPort + 1;
    // The PBX's TLS certificate (for its own address); Carillon trusts it as a CA and verifies it.
    const certDir = mkdtempSync(path.join(os.tmpdir(), 'carillon-pbx-cert-'));
    const pems = await selfsigned.generate([{ name: 'commonName', value: 'pbx.test' }], {
      keyType: 'ec',
      curve: 'P-256',
      algorithm: 'sha256',
      notAfterDate: new Date(Date.now() + 86_400_000),
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: ns.address }] }],
    });
    const certificate = path.join(certDir, 'pbx.pem');
    writeFileSync(certificate, `${pems.cert}\n${pems.private}`);
    const caFile = path.join(certDir, 'pbx-ca.pem');
    writeFileSync(caFile, pems.cert);
    const carillon = await startCarillonInNetns(ns, {
      // baresip (libre) gives up on a challenge list that names SHA-256: MD5 alone for this PBX.
      yaml: `logLevel: warn\nsip: { t1Ms: 100, t2Ms: 800, t4Ms: 1000, timerDMs: 1000, tlsCaFile: "${caFile}", digestAlgorithms: [MD5] }\n`,
      sipUdp,
      sipTls,
      api: apiPort,
    });
    try {
      expect(carillon.ports, carillon.output()).toMatchObject({ sipTls });
      const trunk = await runScriptInNetns<{ voiceConnectorId: string; outboundHostName: string }>(ns, path.join(import.meta.dirname, '../support/encrypted-trunk-setup.ts'), {
        endpoint: `http://${ns.address}:${apiPort}`,
        dataDir: path.join(carillon.dir, 'data'),
        pbx: { address: ns.address, tlsPort: pbxTlsPort, number: PBX_NUMBER, username: PBX_NUMBER, password: 'trunk-secret' },
        carrier: { address: ns.address, port: carrierPort },
      } satisfies EncryptedTrunkInput);
      const vcId = trunk.voiceConnectorId;
      const pbxAccount = { ns, user: PBX_NUMBER, port: pbxPort, secure: true, authPassword: 'trunk-secret', certificate } as const;

      // Termination: the PBX dials the number at its voice connector's host name, through Carillon's TLS port.
      const carrier = startBaresip({ ns, user: DIALED, port: carrierPort, seconds: 14 });
      await new Promise((r) => setTimeout(r, 1000));
      const pbx = startBaresip({ ...pbxAccount, seconds: 8, outbound: `sip:${ns.address}:${sipTls};transport=tls`, dial: `sip:${DIALED}@${trunk.outboundHostName}` });
      await pbx.done;
      await new Promise((r) => setTimeout(r, 1500));
      carrier.kill();
      await carrier.done;
      expect(pbx.stats().established, pbx.output().slice(-3000)).toBe(true);
      expect(carrier.stats().established, carrier.output().slice(-2000)).toBe(true);
      // The PBX's libsrtp accepted what Carillon encrypted (64 kbit/s of PCMU each way); the carrier got what Carillon decrypted.
      expect(rates(pbx).rx, pbx.output().slice(-1500)).toBeGreaterThan(50_000);
      expect(rates(pbx).tx).toBeGreaterThan(50_000);
      expect(carrier.stats()).toMatchObject({ summary: true, lost: 0 });
      expect(carrier.stats().rxPackets).toBeGreaterThan(100);
      const out = await carillon.lastQualityRecord(vcId);
      expect(out.cust2vc_rtp_packets).toBeGreaterThan(300);
      expect(out.vc2rem_rtp_packets).toBe(out.cust2vc_rtp_packets);
      expect(out.vc2cust_rtp_packets).toBe(out.rem2vc_rtp_packets);
      expect(out.cust2vc_rtcp_packets).toBeGreaterThan(0);

      // Origination: the carrier calls the PBX's number; Carillon reaches the PBX over TLS (verifying
      // its certificate) and offers SRTP, though the carrier offered plain RTP.
      const pbxIn = startBaresip({ ...pbxAccount, seconds: 14 });
      await new Promise((r) => setTimeout(r, 1000));
      const carrierOut = startBaresip({ ns, user: DIALED, port: carrierPort, seconds: 8, dial: `sip:${PBX_NUMBER}@${ns.address}:${sipUdp}` });
      await carrierOut.done;
      await new Promise((r) => setTimeout(r, 1500));
      pbxIn.kill();
      await pbxIn.done;
      expect(carrierOut.stats().established, carrierOut.output().slice(-3000)).toBe(true);
      expect(pbxIn.stats().established, pbxIn.output().slice(-3000) + carillon.output().slice(-2000)).toBe(true);
      expect(rates(carrierOut).rx, carrierOut.output().slice(-1500)).toBeGreaterThan(50_000);
      expect(rates(carrierOut).tx).toBeGreaterThan(50_000);
      expect(pbxIn.stats()).toMatchObject({ summary: true, lost: 0 });
      expect(pbxIn.stats().rxPackets).toBeGreaterThan(100);
      // What Carillon sent the PBX, from the voice connector's SIP message log: the INVITE over TLS
      // with an SRTP offer of both suites, though the carrier offered plain RTP.
      const sipLog = readFileSync(path.join(carillon.dir, 'data', 'logs', 'voice-connector', vcId, 'sip-messages.jsonl'), 'utf8');
      const toPbx = sipLog
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => (JSON.parse(l) as { sip_message: string }).sip_message)
        .find((m) => m.startsWith(`INVITE sip:${PBX_NUMBER}@${ns.address}:${pbxTlsPort};transport=tls `));
      expect(toPbx, sipLog.slice(-3000)).toMatch(/^Via: SIP\/2\.0\/TLS /m);
      expect(toPbx).toMatch(/^m=audio \d+ RTP\/SAVP /m);
      expect(toPbx).toMatch(/^a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:/m);
      expect(toPbx).toMatch(/^a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:/m);
      const inbound = await carillon.lastQualityRecord(vcId);
      expect(inbound.cust2vc_rtp_packets).toBeGreaterThan(300);
      expect(inbound.vc2rem_rtp_packets).toBe(inbound.cust2vc_rtp_packets);
      expect(inbound.vc2cust_rtp_packets).toBe(inbound.rem2vc_rtp_packets);

      expect(carillon.metrics()).toMatch(/^carillon_calls_answered_total 2$/m);
      // One CDR per leg of each call, on the voice connector, the PBX's leg first outbound then inbound.
      const cdrs = readCdrs(path.join(carillon.dir, 'data'));
      expect(cdrs.filter((c) => c.VoiceConnectorId === vcId && c.Status === 'Completed').map((c) => c.Direction).sort()).toEqual(['Inbound', 'Inbound', 'Outbound', 'Outbound']);
    } finally {
      const code = await carillon.stop();
      ns.destroy();
      rmSync(certDir, { recursive: true, force: true });
      expect(code, carillon.output()).toBe(0);
    }
  }, 90_000);
});
