import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../support/ports.ts';
import { killAllSipp, realErrors, runSipp, startSipp } from '../support/sipp.ts';
import type { SippResult } from '../support/sipp.ts';
import type { ScenarioName } from '../support/sipp-scenarios.ts';
import { startTestServer } from '../support/server.ts';
import type { TestServer } from '../support/server.ts';

afterEach(() => killAllSipp());

interface PairOptions {
  readonly uac: ScenarioName;
  readonly uas: ScenarioName;
  readonly transport: 'udp' | 'tcp';
  readonly calls: number;
  readonly rate?: number;
  readonly limit?: number;
  readonly pauseMs?: number;
  /** Called with the server as soon as it is up (to listen to its events). */
  readonly onServer?: (t: TestServer) => void;
}

/** SIPp UAC → Carillon → SIPp UAS; returns both sides' results once both exited. */
async function callThrough(opts: PairOptions & { readonly targetHost?: string }): Promise<{ uac: SippResult; uas: SippResult; t: TestServer }> {
  const uasPort = await freePort();
  const uacPort = await freePort();
  const t = await startTestServer({ routes: [{ match: {}, target: `sip:${opts.targetHost ?? '127.0.0.1'}:${uasPort};transport=${opts.transport}` }] });
  opts.onServer?.(t);
  try {
    const uas = startSipp({ scenario: opts.uas, port: uasPort, transport: opts.transport, calls: opts.calls, pauseMs: opts.pauseMs ?? 100, timeoutSec: 90 });
    await new Promise((r) => setTimeout(r, 300));
    const sipPort = opts.transport === 'udp' ? t.ports.sipUdp : t.ports.sipTcp;
    const uac = await runSipp({
      scenario: opts.uac,
      remote: `127.0.0.1:${sipPort}`,
      port: uacPort,
      transport: opts.transport,
      calls: opts.calls,
      rate: opts.rate ?? 100,
      limit: opts.limit ?? 200,
      pauseMs: opts.pauseMs ?? 100,
      timeoutSec: 90,
    });
    const uasResult = await Promise.race([uas.done, new Promise<SippResult>((r) => setTimeout(() => { uas.kill(); r(uas.done); }, 15_000))]);
    return { uac, uas: await uasResult, t };
  } catch (err) {
    await t.close();
    throw err;
  }
}

async function expectIdleAndClose(t: TestServer): Promise<void> {
  const s = await t.waitIdle(20_000);
  await t.close();
  expect(s).toMatchObject({ transactions: 0, dialogs: 0, calls: 0 });
}

function expectAllOk(r: SippResult, calls: number): void {
  expect({ failed: r.failed, successful: r.successful, errors: realErrors(r) }).toEqual({ failed: 0, successful: calls, errors: '' });
  expect(r.exitCode).toBe(0);
}

describe('SIPp → Carillon B2BUA → SIPp', () => {
  it('1,000 calls over UDP, none failed', async () => {
    const { uac, uas, t } = await callThrough({ uac: 'uac-basic', uas: 'uas-basic', transport: 'udp', calls: 1000, rate: 250 });
    expectAllOk(uac, 1000);
    expectAllOk(uas, 1000);
    expect(t.server.calls.counters.callsAnswered).toBe(1000);
    await expectIdleAndClose(t);
  }, 120_000);

  it('1,000 calls over TCP, none failed', async () => {
    const { uac, uas, t } = await callThrough({ uac: 'uac-basic', uas: 'uas-basic', transport: 'tcp', calls: 1000, rate: 250 });
    expectAllOk(uac, 1000);
    expectAllOk(uas, 1000);
    await expectIdleAndClose(t);
  }, 120_000);

  it('CANCEL before answer: the caller gets 487', async () => {
    const { uac, uas, t } = await callThrough({ uac: 'uac-cancel', uas: 'uas-ring-forever', transport: 'udp', calls: 20, rate: 20 });
    expectAllOk(uac, 20);
    expectAllOk(uas, 20);
    expect(t.server.calls.counters.finalByClass[4]).toBe(20);
    await expectIdleAndClose(t);
  }, 60_000);

  it('BYE from the callee reaches the caller', async () => {
    const { uac, uas, t } = await callThrough({ uac: 'uac-receive-bye', uas: 'uas-bye', transport: 'udp', calls: 20, rate: 20 });
    expectAllOk(uac, 20);
    expectAllOk(uas, 20);
    await expectIdleAndClose(t);
  }, 60_000);

  it("the callee's 486 reaches the caller", async () => {
    const { uac, uas, t } = await callThrough({ uac: 'uac-expect-486', uas: 'uas-busy', transport: 'udp', calls: 20, rate: 20 });
    expectAllOk(uac, 20);
    expectAllOk(uas, 20);
    await expectIdleAndClose(t);
  }, 60_000);

  it('a hold re-INVITE from the caller passes through, and the call event bus hears of each', async () => {
    let updated = 0;
    const { uac, uas, t } = await callThrough({ uac: 'uac-hold', uas: 'uas-accept-reinvite', transport: 'udp', calls: 20, rate: 20, onServer: (srv) => srv.server.events.on((e) => void (e.type === 'updated' && e.method === 'INVITE' && updated++)) });
    expectAllOk(uac, 20);
    expectAllOk(uas, 20);
    expect(updated).toBe(20);
    await expectIdleAndClose(t);
  }, 60_000);

  it('a hold re-INVITE from the callee passes through', async () => {
    const { uac, uas, t } = await callThrough({ uac: 'uac-accept-reinvite', uas: 'uas-hold', transport: 'udp', calls: 20, rate: 20 });
    expectAllOk(uac, 20);
    expectAllOk(uas, 20);
    await expectIdleAndClose(t);
  }, 60_000);

  it('INFO (DTMF relay) and UPDATE inside the dialog pass through', async () => {
    const { uac, uas, t } = await callThrough({ uac: 'uac-info-update', uas: 'uas-info-update', transport: 'udp', calls: 10, rate: 10 });
    expectAllOk(uac, 10);
    expectAllOk(uas, 10);
    await expectIdleAndClose(t);
  }, 60_000);

  it('reliable provisionals (RFC 3262): PRACK on both legs, then the call completes', async () => {
    const { uac, uas, t } = await callThrough({ uac: 'uac-100rel', uas: 'uas-100rel', transport: 'udp', calls: 10, rate: 10 });
    expectAllOk(uac, 10);
    expectAllOk(uas, 10);
    await expectIdleAndClose(t);
  }, 60_000);

  it('a route target given by host name is resolved before the callee leg is placed', async () => {
    const { uac, uas, t } = await callThrough({ uac: 'uac-basic', uas: 'uas-basic', transport: 'udp', calls: 5, rate: 5, targetHost: 'localhost' });
    expectAllOk(uac, 5);
    expectAllOk(uas, 5);
    await expectIdleAndClose(t);
  }, 60_000);

  it('hold both ways over TCP', async () => {
    const a = await callThrough({ uac: 'uac-hold', uas: 'uas-accept-reinvite', transport: 'tcp', calls: 10, rate: 10 });
    expectAllOk(a.uac, 10);
    await expectIdleAndClose(a.t);
    const b = await callThrough({ uac: 'uac-accept-reinvite', uas: 'uas-hold', transport: 'tcp', calls: 10, rate: 10 });
    expectAllOk(b.uac, 10);
    await expectIdleAndClose(b.t);
  }, 90_000);
});
