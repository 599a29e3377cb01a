import {
  AssociatePhoneNumbersWithVoiceConnectorGroupCommand,
  CreateVoiceConnectorCommand,
  CreateVoiceConnectorGroupCommand,
  PutVoiceConnectorOriginationCommand,
} from '@aws-sdk/client-chime-sdk-voice';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { legOf } from '../../signaling/calls/call-summary.ts';
import { freePort } from '../support/ports.ts';
import { startTestServer } from '../support/server.ts';
import type { TestServer } from '../support/server.ts';
import { killAllSipp, realErrors, runSipp, startSipp } from '../support/sipp.ts';
import type { SippHandle } from '../support/sipp.ts';
import { farEnd } from '../support/sipp-trunk-scenarios.ts';
import { trunkApi } from '../support/trunk-api.ts';
import { readCdrs } from '../support/cdrs.ts';
import type { TrunkApi } from '../support/trunk-api.ts';

/**
 * Origination (phone network → PBX): a carrier (SIPp) calls a number associated with a voice
 * connector; Carillon tries the voice connector's routes (SIPp PBXs, each answering OPTIONS with
 * -aa) by priority and weight, failing over on 503 and timeouts but never on 486.
 */
afterAll(() => killAllSipp());

const NUMBER = '+12065550142';
const GROUP_NUMBER = '+12065550143';

/** A PBX route: answers (or refuses with `status`) every INVITE, and OPTIONS pings unless `deaf`. */
function route(port: number, status?: string, deaf = false): SippHandle {
  return startSipp({
    scenario: status === undefined ? { name: 'route-answer', xml: farEnd({ answer: true }) } : { name: 'route-refuse', xml: farEnd({ answer: false, status }) },
    port,
    transport: 'udp',
    calls: 100_000,
    timeoutSec: 60,
    ...(deaf ? {} : { extraArgs: ['-aa'] }),
  });
}

async function carrierCalls(t: TestServer, number: string, calls: number, expect486 = false, rate = 50): Promise<{ successful: number; failed: number; errors: string }> {
  const r = await runSipp({ scenario: expect486 ? 'uac-expect-486' : 'uac-basic', remote: `127.0.0.1:${t.ports.sipUdp}`, port: await freePort(), transport: 'udp', calls, rate, limit: 200, service: number, timeoutSec: 45, pauseMs: 50 });
  return { successful: r.successful, failed: r.failed, errors: realErrors(r) };
}

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 300));

/**
 * What Carillon did with each call, from its event bus (exact, unlike SIPp's periodic screen
 * counts): which route port answered and after how many attempts, and how unanswered calls ended.
 */
interface Outcomes {
  readonly answered: { port: number; attempts: number }[];
  readonly failed: { status: number | undefined; attempts: number }[];
  stop(): void;
}

function watch(t: TestServer): Outcomes {
  const answered: Outcomes['answered'] = [];
  const failed: Outcomes['failed'] = [];
  const off = t.server.events.on((e) => {
    if (e.type === 'answered') answered.push({ port: Number(/:(\d+)(?:;|>|$)/.exec(legOf(e.call, 'callee')?.remoteTarget ?? '')?.[1] ?? 0), attempts: e.call.attempts });
    else if (e.type === 'ended' && e.call.answeredMs === undefined) failed.push({ status: e.status, attempts: e.call.attempts });
  });
  return { answered, failed, stop: off };
}

const count = (xs: readonly { port: number }[], port: number): number => xs.filter((x) => x.port === port).length;

describe('voice connector origination: carrier (SIPp) → Carillon → PBX routes (SIPp)', () => {
  let t: TestServer;
  let api: TrunkApi;
  let vc1 = '';
  const ports: number[] = [];

  beforeAll(async () => {
    t = await startTestServer({ sip: { optionsPingIntervalSec: 3600 } });
    api = trunkApi(t);
    for (let i = 0; i < 4; i++) ports.push(await freePort());
    const [p1, p2, p3, p4] = ports as [number, number, number, number];
    vc1 = (await api.voice.send(new CreateVoiceConnectorCommand({ Name: 'pbx east', RequireEncryption: false }))).VoiceConnector?.VoiceConnectorId ?? '';
    await api.voice.send(
      new PutVoiceConnectorOriginationCommand({
        VoiceConnectorId: vc1,
        Origination: {
          Routes: [
            { Host: '127.0.0.1', Port: p1, Protocol: 'UDP', Priority: 1, Weight: 2 },
            { Host: '127.0.0.1', Port: p2, Protocol: 'UDP', Priority: 1, Weight: 1 },
            { Host: '127.0.0.1', Port: p3, Protocol: 'UDP', Priority: 2, Weight: 1 },
          ],
          Disabled: false,
        },
      }),
    );
    await api.ownNumbers(vc1, [NUMBER]);
    // A second voice connector (another region) behind the first in a group.
    const vc2 = (await api.voice.send(new CreateVoiceConnectorCommand({ Name: 'pbx west', RequireEncryption: false, AwsRegion: 'us-west-2' }))).VoiceConnector?.VoiceConnectorId ?? '';
    await api.voice.send(new PutVoiceConnectorOriginationCommand({ VoiceConnectorId: vc2, Origination: { Routes: [{ Host: '127.0.0.1', Port: p4, Protocol: 'UDP', Priority: 1, Weight: 1 }], Disabled: false } }));
    const group = (await api.voice.send(new CreateVoiceConnectorGroupCommand({ Name: 'east then west', VoiceConnectorItems: [{ VoiceConnectorId: vc1, Priority: 1 }, { VoiceConnectorId: vc2, Priority: 2 }] }))).VoiceConnectorGroup?.VoiceConnectorGroupId ?? '';
    await api.orderNumbers([GROUP_NUMBER]);
    await api.voice.send(new AssociatePhoneNumbersWithVoiceConnectorGroupCommand({ VoiceConnectorGroupId: group, E164PhoneNumbers: [GROUP_NUMBER] }));
    expect((await api.api('POST', '/carillon/v1/carriers', { Name: 'pstn', Host: '127.0.0.1', Port: 5060, Protocol: 'UDP', Priority: 1, Weight: 1 })).status).toBe(201);
  });

  afterAll(async () => {
    api?.voice.destroy();
    await t?.close();
  });

  it('lowest priority first, weighted among equals: 600 calls split 2:1 within ±10 %, none to the backup', async () => {
    const [p1, p2, p3] = ports as [number, number, number];
    const r1 = route(p1);
    const r2 = route(p2);
    const r3 = route(p3);
    await settle();
    const seen = watch(t);
    const c = await carrierCalls(t, NUMBER, 600, false, 200);
    await Promise.all([r1.stop(), r2.stop(), r3.stop()]);
    seen.stop();
    expect(c.errors).toBe('');
    expect(c.successful).toBe(600);
    expect(seen.answered.length).toBe(600);
    expect(count(seen.answered, p1) + count(seen.answered, p2)).toBe(600);
    expect(count(seen.answered, p3)).toBe(0);
    expect(Math.abs(count(seen.answered, p1) - 400)).toBeLessThanOrEqual(40);
    expect(await api.metric('carillon_voice_connector_inbound_calls_answered_total', vc1)).toBe(600);
    // One CDR per leg for every call, in Chime's format.
    const cdrs = readCdrs(t.dataDir);
    expect(cdrs.length).toBe(1200);
    expect(cdrs.every((c) => c.Direction === 'Inbound' && c.DestinationPhoneNumber === NUMBER && c.VoiceConnectorId === vc1 && c.Status === 'Completed')).toBe(true);
    expect((await t.waitIdle()).calls).toBe(0);
  });

  it('fails over on 503 to the next route; never on 486', async () => {
    const [p1, p2, p3] = ports as [number, number, number];
    let r1 = route(p1, '503 Service Unavailable');
    let r2 = route(p2, '503 Service Unavailable');
    let r3 = route(p3);
    await settle();
    let seen = watch(t);
    const c = await carrierCalls(t, NUMBER, 10);
    await Promise.all([r1.stop(), r2.stop(), r3.stop()]);
    seen.stop();
    expect(c).toEqual({ successful: 10, failed: 0, errors: '' });
    // Both priority-1 routes refused each call before the backup took it.
    expect(seen.answered).toEqual(Array.from({ length: 10 }, () => ({ port: p3, attempts: 3 })));

    r1 = route(p1, '486 Busy Here');
    r2 = route(p2, '486 Busy Here');
    r3 = route(p3);
    await settle();
    seen = watch(t);
    const busy = await carrierCalls(t, NUMBER, 10, true);
    await Promise.all([r1.stop(), r2.stop(), r3.stop()]);
    seen.stop();
    expect(busy).toEqual({ successful: 10, failed: 0, errors: '' });
    expect(seen.answered).toEqual([]);
    expect(seen.failed).toEqual(Array.from({ length: 10 }, () => ({ status: 486, attempts: 1 })));
    expect((await t.waitIdle()).calls).toBe(0);
  });

  it('fails over when a route never answers (timeout)', async () => {
    const r3 = route(ports[2] as number);
    await settle();
    const seen = watch(t);
    // Nothing listens on the two priority-1 routes: each attempt ends at Timer B (64·T1).
    const c = await carrierCalls(t, NUMBER, 2);
    await r3.stop();
    seen.stop();
    expect(c).toEqual({ successful: 2, failed: 0, errors: '' });
    expect(seen.answered).toEqual([
      { port: ports[2], attempts: 3 },
      { port: ports[2], attempts: 3 },
    ]);
    expect((await t.waitIdle()).calls).toBe(0);
  });

  it('a number on a group fails over to the next voice connector of the group', async () => {
    const [p1, p2, p3, p4] = ports as [number, number, number, number];
    const refusing = [route(p1, '503 Service Unavailable'), route(p2, '503 Service Unavailable'), route(p3, '503 Service Unavailable')];
    const west = route(p4);
    await settle();
    const seen = watch(t);
    const c = await carrierCalls(t, GROUP_NUMBER, 3);
    await Promise.all([west.stop(), ...refusing.map((r) => r.stop())]);
    seen.stop();
    expect(c).toEqual({ successful: 3, failed: 0, errors: '' });
    // The first voice connector's three routes, then the second's.
    expect(seen.answered).toEqual(Array.from({ length: 3 }, () => ({ port: p4, attempts: 4 })));
    expect((await t.waitIdle()).calls).toBe(0);
  });
});

describe('origination routes and OPTIONS pings', () => {
  let t: TestServer;
  let api: TrunkApi;
  let primary = 0;
  let backupPort = 0;

  beforeAll(async () => {
    t = await startTestServer({ sip: { optionsPingIntervalSec: 0.3 } });
    api = trunkApi(t);
    primary = await freePort();
    backupPort = await freePort();
    const vc = (await api.voice.send(new CreateVoiceConnectorCommand({ Name: 'pinged', RequireEncryption: false }))).VoiceConnector?.VoiceConnectorId ?? '';
    await api.voice.send(
      new PutVoiceConnectorOriginationCommand({
        VoiceConnectorId: vc,
        Origination: { Routes: [{ Host: '127.0.0.1', Port: primary, Protocol: 'UDP', Priority: 1, Weight: 1 }, { Host: '127.0.0.1', Port: backupPort, Protocol: 'UDP', Priority: 2, Weight: 1 }] },
      }),
    );
    await api.ownNumbers(vc, [NUMBER]);
    expect((await api.api('POST', '/carillon/v1/carriers', { Name: 'pstn', Host: '127.0.0.1', Port: 5060, Protocol: 'UDP', Priority: 1, Weight: 1 })).status).toBe(201);
  });

  afterAll(async () => {
    api?.voice.destroy();
    await t?.close();
  });

  const upValue = (port: number): Promise<number> => api.metric('carillon_route_up', `target="127.0.0.1:${port}:UDP"`);
  const until = async (cond: () => Promise<boolean>, ms: number): Promise<void> => {
    const end = Date.now() + ms;
    while (!(await cond())) {
      if (Date.now() > end) throw new Error('condition not reached');
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  it('a route that misses 3 pings is skipped, and used again once it answers', async () => {
    // The primary takes calls but does not answer OPTIONS: after 3 missed pings it is out.
    const deaf = route(primary, undefined, true);
    const backup = route(backupPort);
    await until(async () => (await upValue(backupPort)) === 1 && (await upValue(primary)) === 0, 20_000);
    let seen = watch(t);
    const c = await carrierCalls(t, NUMBER, 3);
    seen.stop();
    expect(c.successful).toBe(3);
    // Straight to the backup: the silent primary is not even tried.
    expect(seen.answered).toEqual(Array.from({ length: 3 }, () => ({ port: backupPort, attempts: 1 })));
    await deaf.stop();
    // Back: it answers pings again, and takes the calls.
    const healthy = route(primary);
    await until(async () => (await upValue(primary)) === 1, 10_000);
    seen = watch(t);
    const again = await carrierCalls(t, NUMBER, 3);
    seen.stop();
    await Promise.all([healthy.stop(), backup.stop()]);
    expect(again.successful).toBe(3);
    expect(seen.answered).toEqual(Array.from({ length: 3 }, () => ({ port: primary, attempts: 1 })));
    expect((await t.waitIdle()).calls).toBe(0);
  });
});
