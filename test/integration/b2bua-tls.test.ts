import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../support/ports.ts';
import { killAllSipp, realErrors, runSipp, startSipp } from '../support/sipp.ts';
import { startStunnel } from '../support/stunnel.ts';
import { startTestServer } from '../support/server.ts';

afterEach(() => killAllSipp());

describe('SIP over TLS through the B2BUA', () => {
  it('200 calls: SIPp --TCP--> stunnel --TLS--> Carillon --TLS--> stunnel --TCP--> SIPp, none failed', async () => {
    const [uasPort, uacPort, clientAccept, serverAccept] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const t = await startTestServer({ routes: [{ match: {}, target: `sip:127.0.0.1:${serverAccept};transport=tls` }] });
    const tunnel = await startStunnel({ clientAccept, tlsTarget: t.ports.sipTls as number, serverAccept, tcpTarget: uasPort });
    try {
      const uas = startSipp({ scenario: 'uas-basic', port: uasPort, transport: 'tcp', calls: 200, timeoutSec: 90 });
      await new Promise((r) => setTimeout(r, 300));
      const uac = await runSipp({ scenario: 'uac-basic', remote: `127.0.0.1:${clientAccept}`, port: uacPort, transport: 'tcp', calls: 200, rate: 100, limit: 100, timeoutSec: 90 });
      const uasResult = await uas.done;
      expect({ failed: uac.failed, successful: uac.successful, errors: realErrors(uac) }).toEqual({ failed: 0, successful: 200, errors: '' });
      expect(uasResult.successful).toBe(200);
      expect(t.server.calls.counters.callsAnswered).toBe(200);
      // Both legs really were TLS: the log shows a TLS 1.2+ session in each direction.
      expect(tunnel.log()).toMatch(/TLSv1\.[23]/);
      const s = await t.waitIdle(20_000);
      expect(s).toMatchObject({ transactions: 0, dialogs: 0, calls: 0 });
    } finally {
      await tunnel.stop();
      await t.close();
    }
  }, 120_000);
});
