import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { legOf } from '../../signaling/calls/call-summary.ts';
import { DnsResolver } from '../../common/resolver.ts';
import { TestDnsServer } from '../support/dns-server.ts';
import type { DnsTestRecord } from '../support/dns-server.ts';
import { freePort } from '../support/ports.ts';
import { startTestServer } from '../support/server.ts';
import type { TestServer } from '../support/server.ts';
import { killAllSipp, realErrors, runSipp, startSipp } from '../support/sipp.ts';
import type { SippHandle } from '../support/sipp.ts';
import { farEnd } from '../support/sipp-trunk-scenarios.ts';

/**
 * Static routes whose targets are domains, resolved as RFC 3263 says through a DNS server the
 * test runs on loopback (node:dns's own resolver pointed at it): NAPTR picks the transport, SRV
 * the servers in priority order, A their addresses — and a 503 from the first server sends the
 * call on to the next (§4.3). The callees are SIPp on loopback ports.
 */
afterAll(() => killAllSipp());

function far(port: number, transport: 'udp' | 'tcp', status?: string): SippHandle {
  return startSipp({
    scenario: status === undefined ? { name: 'far-answer', xml: farEnd({ answer: true }) } : { name: 'far-refuse', xml: farEnd({ answer: false, status }) },
    port,
    transport,
    calls: 100_000,
    timeoutSec: 60,
  });
}

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 300));

describe('RFC 3263 next hops through DNS on loopback', () => {
  let dns: TestDnsServer;
  let t: TestServer;
  let resolver: DnsResolver;
  const ports: number[] = [];

  beforeAll(async () => {
    for (let i = 0; i < 4; i++) ports.push(await freePort());
    const [refusing, answering, overTcp, closed] = ports as [number, number, number, number];
    const zone: DnsTestRecord[] = [
      // carrier.test: UDP by NAPTR; two servers by SRV, the preferred one refusing with 503.
      { name: 'carrier.test', type: 'NAPTR', order: 10, preference: 10, flags: 's', service: 'SIP+D2U', replacement: '_sip._udp.carrier.test' },
      { name: '_sip._udp.carrier.test', type: 'SRV', priority: 10, weight: 1, port: refusing, target: 'busy.carrier.test' },
      { name: '_sip._udp.carrier.test', type: 'SRV', priority: 20, weight: 1, port: answering, target: 'spare.carrier.test' },
      { name: 'busy.carrier.test', type: 'A', address: '127.0.0.1' },
      { name: 'spare.carrier.test', type: 'A', address: '127.0.0.1' },
      // tcp.test: NAPTR says TCP (the route names no transport, so the callee leg is made for TCP).
      { name: 'tcp.test', type: 'NAPTR', order: 10, preference: 10, flags: 's', service: 'SIP+D2T', replacement: '_sip._tcp.tcp.test' },
      { name: 'tcp.test', type: 'NAPTR', order: 20, preference: 10, flags: 's', service: 'SIP+D2U', replacement: '_sip._udp.tcp.test' },
      // The preferred server's port has no listener: the connection is refused (a transport error, §4.3).
      { name: '_sip._tcp.tcp.test', type: 'SRV', priority: 0, weight: 1, port: closed, target: 'pbx.tcp.test' },
      { name: '_sip._tcp.tcp.test', type: 'SRV', priority: 1, weight: 1, port: overTcp, target: 'pbx.tcp.test' },
      { name: 'pbx.tcp.test', type: 'A', address: '127.0.0.1' },
    ];
    dns = await TestDnsServer.start(zone);
    resolver = new DnsResolver({ servers: [dns.server], timeoutMs: 500, tries: 2 });
    t = await startTestServer(
      {
        routes: [
          { match: { userPrefix: '+1206' }, target: 'sip:carrier.test' },
          { match: { userPrefix: '+1425' }, target: 'sip:tcp.test' },
        ],
      },
      { resolver },
    );
  });

  afterAll(async () => {
    await t?.close();
    await dns?.close();
  });

  it('NAPTR → SRV → A: every call refused 503 by the first server is answered by the next, and DNS is asked once', async () => {
    const [refusing, answering] = ports as [number, number];
    const busy = far(refusing, 'udp', '503 Service Unavailable');
    const spare = far(answering, 'udp');
    await settle();
    const answered: number[] = [];
    const off = t.server.events.on((e) => {
      if (e.type === 'answered') answered.push(Number(/:(\d+)(?:;|>|$)/.exec(legOf(e.call, 'callee')?.remoteTarget ?? '')?.[1] ?? 0));
    });
    const r = await runSipp({ scenario: 'uac-basic', remote: `127.0.0.1:${t.ports.sipUdp}`, port: await freePort(), transport: 'udp', calls: 5, rate: 5, limit: 5, service: '+12065550100', timeoutSec: 45, pauseMs: 50 });
    const [b, s] = await Promise.all([busy.stop(), spare.stop()]);
    off();
    expect({ successful: r.successful, failed: r.failed, errors: realErrors(r) }).toEqual({ successful: 5, failed: 0, errors: '' });
    expect(b.successful).toBe(5);
    expect(s.successful).toBe(5);
    expect(answered).toEqual([answering, answering, answering, answering, answering]);
    // The per-process cache: each name asked once for all five calls.
    const asked = dns.questions.filter((q) => q.name.endsWith('carrier.test')).map((q) => `${q.type} ${q.name}`);
    expect(asked.sort()).toEqual(['A busy.carrier.test', 'A spare.carrier.test', 'NAPTR carrier.test', 'SRV _sip._udp.carrier.test']);
    expect((await t.waitIdle()).calls).toBe(0);
  });

  it('NAPTR picks TCP for a route that names no transport; a server refusing the connection is passed over', async () => {
    const overTcp = ports[2] as number;
    const pbx = far(overTcp, 'tcp');
    await settle();
    const legs: string[] = [];
    const off = t.server.events.on((e) => void (e.type === 'answered' && legs.push(legOf(e.call, 'callee')?.transport ?? 'udp')));
    const r = await runSipp({ scenario: 'uac-basic', remote: `127.0.0.1:${t.ports.sipUdp}`, port: await freePort(), transport: 'udp', calls: 3, rate: 3, limit: 3, service: '+14255550100', timeoutSec: 45, pauseMs: 50 });
    const p = await pbx.stop();
    off();
    expect({ successful: r.successful, failed: r.failed, errors: realErrors(r) }).toEqual({ successful: 3, failed: 0, errors: '' });
    expect(p.successful).toBe(3);
    expect(legs).toEqual(['tcp', 'tcp', 'tcp']);
    // The UDP NAPTR is looked at too (it would be the next hops), once for all three calls.
    expect(dns.questions.filter((q) => q.name.endsWith('tcp.test')).map((q) => `${q.type} ${q.name}`)).toEqual(['NAPTR tcp.test', 'SRV _sip._tcp.tcp.test', 'A pbx.tcp.test', 'SRV _sip._udp.tcp.test']);
    expect((await t.waitIdle()).calls).toBe(0);
  });
});
