import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../support/ports.ts';
import { killAllSipp, realErrors, startSipp } from '../support/sipp.ts';
import { compressedTimers, startTestServer } from '../support/server.ts';

afterEach(() => killAllSipp());

/** Session intervals here are 90 s; the server's long timers run 100× faster (0.9 s). */
const FAST = { timers: compressedTimers(100) };

describe('session timers (RFC 4028)', () => {
  it('a caller that asked to refresh and then falls silent: both legs get BYE at expiry', async () => {
    const [uasPort, uacPort] = [await freePort(), await freePort()];
    const t = await startTestServer({ routes: [{ match: {}, target: `sip:127.0.0.1:${uasPort};transport=udp` }], sip: { sessionExpiresSec: 90 } }, FAST);
    try {
      const uas = startSipp({ scenario: 'uas-basic', port: uasPort, transport: 'udp', calls: 3, timeoutSec: 30 });
      await new Promise((r) => setTimeout(r, 300));
      const uac = startSipp({ scenario: 'uac-timer-silent', remote: `127.0.0.1:${t.ports.sipUdp}`, port: uacPort, transport: 'udp', calls: 3, rate: 10, timeoutSec: 30 });
      const [caller, callee] = await Promise.all([uac.done, uas.done]);
      expect({ ok: caller.successful, failed: caller.failed, errors: realErrors(caller) }).toEqual({ ok: 3, failed: 0, errors: '' });
      expect({ ok: callee.successful, failed: callee.failed }).toEqual({ ok: 3, failed: 0 });
      expect(await t.waitIdle()).toMatchObject({ transactions: 0, dialogs: 0, calls: 0 });
    } finally {
      await t.close();
    }
  }, 60_000);

  it('a caller that vanished: Carillon refreshes it, the refresh fails, the callee gets BYE', async () => {
    const [uasPort, uacPort] = [await freePort(), await freePort()];
    const t = await startTestServer({ routes: [{ match: {}, target: `sip:127.0.0.1:${uasPort};transport=udp` }], sip: { sessionExpiresSec: 90 } }, FAST);
    try {
      const uas = startSipp({ scenario: 'uas-basic', port: uasPort, transport: 'udp', calls: 1, timeoutSec: 30 });
      await new Promise((r) => setTimeout(r, 300));
      // SIPp's INVITE has no Supported: timer, so Carillon refreshes the caller's leg itself.
      const uac = startSipp({ scenario: 'uac-receive-bye', remote: `127.0.0.1:${t.ports.sipUdp}`, port: uacPort, transport: 'udp', calls: 1, rate: 1, timeoutSec: 30 });
      for (let i = 0; i < 50 && t.server.stats().calls === 0; i++) await new Promise((r) => setTimeout(r, 20));
      for (let i = 0; i < 50 && t.server.calls.counters.callsAnswered === 0; i++) await new Promise((r) => setTimeout(r, 20));
      uac.kill(); // the caller's PBX is gone without a BYE
      const callee = await uas.done;
      expect({ ok: callee.successful, failed: callee.failed }).toEqual({ ok: 1, failed: 0 });
      expect(await t.waitIdle()).toMatchObject({ transactions: 0, dialogs: 0, calls: 0 });
    } finally {
      await t.close();
    }
  }, 60_000);
});
