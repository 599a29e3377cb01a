import fc from 'fast-check';
import { isIP } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { Random } from '../../../../common/random.ts';
import { CachingResolver } from '../../../../common/resolver-cache.ts';
import type { AddressFamily, Resolver, SrvRecord } from '../../../../common/resolver.ts';
import { orderSrv, SipLocator, usableNaptr } from '../../../../signaling/sip/resolve/sip-resolver.ts';
import type { SipLocation } from '../../../../signaling/sip/resolve/sip-resolver.ts';
import type { TransportName } from '../../../../signaling/sip/transport/types.ts';
import { TableResolver } from '../../../support/dns-server.ts';
import type { DnsQuestion, DnsTestRecord } from '../../../support/dns-server.ts';
import { ManualTimers } from '../../../support/manual-timers.ts';

/** Randomness that hands out the given floats in turn (then 0). */
function floats(...values: number[]): Random {
  let i = 0;
  return { token: () => 'x', float: () => values[i++] ?? 0 };
}

/** A seeded LCG for statistical checks (deterministic). */
function seeded(seed: number): Random {
  let s = seed >>> 0;
  return {
    token: () => 'x',
    float: () => {
      s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0;
      return s / 4_294_967_296;
    },
  };
}

const ALL: ReadonlySet<TransportName> = new Set(['udp', 'tcp', 'tls']);

const ZONE: DnsTestRecord[] = [
  // pbx.test: two addresses, SRV for UDP and TCP, no NAPTR.
  { name: 'pbx.test', type: 'A', address: '192.0.2.10' },
  { name: 'pbx.test', type: 'A', address: '192.0.2.11' },
  { name: 'pbx.test', type: 'AAAA', address: '2001:db8::10' },
  { name: '_sip._udp.pbx.test', type: 'SRV', priority: 10, weight: 0, port: 5070, target: 'u.pbx.test' },
  { name: '_sip._tcp.pbx.test', type: 'SRV', priority: 10, weight: 0, port: 5071, target: 't.pbx.test' },
  { name: 'u.pbx.test', type: 'A', address: '192.0.2.20' },
  { name: 't.pbx.test', type: 'A', address: '192.0.2.21' },
  // carrier.test: NAPTR prefers TCP, then UDP; also TLS; services Carillon lacks are ignored.
  { name: 'carrier.test', type: 'NAPTR', order: 20, preference: 10, flags: 's', service: 'SIP+D2U', replacement: '_sip._udp.carrier.test' },
  { name: 'carrier.test', type: 'NAPTR', order: 10, preference: 20, flags: 'S', service: 'SIP+D2T', replacement: '_sip._tcp.carrier.test' },
  { name: 'carrier.test', type: 'NAPTR', order: 10, preference: 10, flags: 's', service: 'SIP+D2S', replacement: '_sip._sctp.carrier.test' },
  { name: 'carrier.test', type: 'NAPTR', order: 30, preference: 10, flags: 's', service: 'SIPS+D2T', replacement: '_sips._tcp.carrier.test' },
  { name: 'carrier.test', type: 'NAPTR', order: 1, preference: 1, flags: 'u', service: 'SIP+D2U', regexp: '!^.*$!sip:x@y!', replacement: '.' },
  { name: '_sip._udp.carrier.test', type: 'SRV', priority: 1, weight: 0, port: 5080, target: 'edge1.carrier.test' },
  { name: '_sip._tcp.carrier.test', type: 'SRV', priority: 1, weight: 0, port: 5081, target: 'edge1.carrier.test' },
  { name: '_sip._tcp.carrier.test', type: 'SRV', priority: 2, weight: 0, port: 5081, target: 'edge2.carrier.test' },
  { name: '_sips._tcp.carrier.test', type: 'SRV', priority: 1, weight: 0, port: 5082, target: 'edge1.carrier.test' },
  { name: 'edge1.carrier.test', type: 'A', address: '192.0.2.30' },
  { name: 'edge2.carrier.test', type: 'A', address: '192.0.2.31' },
  // naptr-only.test: NAPTR with nothing behind it: A records at the NAPTR's transport.
  { name: 'naptr-only.test', type: 'NAPTR', order: 1, preference: 1, flags: 's', service: 'SIP+D2T', replacement: '_sip._tcp.naptr-only.test' },
  { name: 'naptr-only.test', type: 'A', address: '192.0.2.40' },
  // a.test: nothing but an address.
  { name: 'a.test', type: 'A', address: '192.0.2.50' },
  // closed.test: SRV says the service is not offered ("."); its A record must not be used.
  { name: '_sip._udp.closed.test', type: 'SRV', priority: 0, weight: 0, port: 0, target: '.' },
  { name: 'closed.test', type: 'A', address: '192.0.2.60' },
];

async function locate(uri: string, opts: { transports?: ReadonlySet<TransportName>; families?: readonly AddressFamily[]; random?: Random; zone?: DnsTestRecord[]; maxHops?: number } = {}): Promise<{ loc: SipLocation; questions: DnsQuestion[] }> {
  const table = new TableResolver(opts.zone ?? ZONE);
  const resolver = new CachingResolver(table, { clock: new ManualTimers() });
  const locator = new SipLocator({ resolver, random: opts.random ?? floats(), families: opts.families, maxHops: opts.maxHops });
  const loc = await locator.locate(uri, opts.transports ?? ALL);
  return { loc, questions: table.questions };
}

const hop = (transport: TransportName, address: string, port: number): { transport: TransportName; address: string; port: number } => ({ transport, address, port });

describe('RFC 3263 §4: a target URI → the hops to try', () => {
  it.each<[string, string, SipLocation, string[]]>([
    // An IP literal skips every lookup: §4.1 UDP for SIP, TLS (TCP) for SIPS; the URI's port or the default.
    ['IP literal', 'sip:+12065550100@192.0.2.1', { ok: true, via: 'literal', hops: [hop('udp', '192.0.2.1', 5060)] }, []],
    ['IP literal, sips', 'sips:192.0.2.1', { ok: true, via: 'literal', hops: [hop('tls', '192.0.2.1', 5061)] }, []],
    ['IPv6 literal, port and transport', 'sip:[2001:db8::1]:5070;transport=TCP', { ok: true, via: 'literal', hops: [hop('tcp', '2001:db8::1', 5070)] }, []],
    ['maddr is the target', 'sip:carrier.test;maddr=192.0.2.9', { ok: true, via: 'literal', hops: [hop('udp', '192.0.2.9', 5060)] }, []],
    // §4.2: an explicit port: A records only, no NAPTR or SRV.
    ['explicit port', 'sip:pbx.test:5090', { ok: true, via: 'address', hops: [hop('udp', '192.0.2.10', 5090), hop('udp', '192.0.2.11', 5090)] }, ['A pbx.test']],
    ['explicit port and transport', 'sip:pbx.test:5090;transport=tcp', { ok: true, via: 'address', hops: [hop('tcp', '192.0.2.10', 5090), hop('tcp', '192.0.2.11', 5090)] }, ['A pbx.test']],
    ['explicit port, sips', 'sips:pbx.test:5091', { ok: true, via: 'address', hops: [hop('tls', '192.0.2.10', 5091), hop('tls', '192.0.2.11', 5091)] }, ['A pbx.test']],
    // §4.2: a transport but no port: SRV for that transport, then the target's addresses.
    ['transport param → its SRV', 'sip:pbx.test;transport=tcp', { ok: true, via: 'srv', hops: [hop('tcp', '192.0.2.21', 5071)] }, ['SRV _sip._tcp.pbx.test', 'A t.pbx.test']],
    ['transport=tls → _sips._tcp', 'sip:carrier.test;transport=tls', { ok: true, via: 'srv', hops: [hop('tls', '192.0.2.30', 5082)] }, ['SRV _sips._tcp.carrier.test', 'A edge1.carrier.test']],
    ['transport param, no SRV → A at the default port', 'sip:a.test;transport=udp', { ok: true, via: 'address', hops: [hop('udp', '192.0.2.50', 5060)] }, ['SRV _sip._udp.a.test', 'A a.test']],
    // §4.1: neither: NAPTR, by order then preference, services Carillon serves only.
    [
      'NAPTR → SRV → A, in NAPTR order',
      'sip:+12065550100@carrier.test',
      { ok: true, via: 'naptr', hops: [hop('tcp', '192.0.2.30', 5081), hop('tcp', '192.0.2.31', 5081), hop('udp', '192.0.2.30', 5080), hop('tls', '192.0.2.30', 5082)] },
      ['NAPTR carrier.test', 'SRV _sip._tcp.carrier.test', 'A edge1.carrier.test', 'A edge2.carrier.test', 'SRV _sip._udp.carrier.test', 'SRV _sips._tcp.carrier.test'],
    ],
    ['sips: SIPS+D2T alone', 'sips:carrier.test', { ok: true, via: 'naptr', hops: [hop('tls', '192.0.2.30', 5082)] }, ['NAPTR carrier.test', 'SRV _sips._tcp.carrier.test', 'A edge1.carrier.test']],
    ['NAPTR without SRV → A with its transport', 'sip:naptr-only.test', { ok: true, via: 'address', hops: [hop('tcp', '192.0.2.40', 5060)] }, ['NAPTR naptr-only.test', 'SRV _sip._tcp.naptr-only.test', 'A naptr-only.test']],
    // "If no NAPTR records are found, the client constructs SRV queries for those transport protocols it supports."
    ['no NAPTR → SRV for UDP and TCP', 'sip:pbx.test', { ok: true, via: 'srv', hops: [hop('udp', '192.0.2.20', 5070), hop('tcp', '192.0.2.21', 5071)] }, ['NAPTR pbx.test', 'SRV _sip._udp.pbx.test', 'A u.pbx.test', 'SRV _sip._tcp.pbx.test', 'A t.pbx.test']],
    ['no NAPTR, no SRV → A, UDP 5060', 'sip:a.test', { ok: true, via: 'address', hops: [hop('udp', '192.0.2.50', 5060)] }, ['NAPTR a.test', 'SRV _sip._udp.a.test', 'SRV _sip._tcp.a.test', 'A a.test']],
    ['sips, no NAPTR, no SRV → A, TLS 5061', 'sips:a.test', { ok: true, via: 'address', hops: [hop('tls', '192.0.2.50', 5061)] }, ['NAPTR a.test', 'SRV _sips._tcp.a.test', 'A a.test']],
    // RFC 2782: "." — "the service is decidedly not available at this domain": no fallback to A.
    ['SRV "." → nothing', 'sip:closed.test;transport=udp', { ok: false, reason: 'not-found' }, ['SRV _sip._udp.closed.test']],
    ['NXDOMAIN → nothing (the caller gets 503)', 'sip:nowhere.test', { ok: false, reason: 'not-found' }, ['NAPTR nowhere.test', 'SRV _sip._udp.nowhere.test', 'SRV _sip._tcp.nowhere.test', 'A nowhere.test']],
    ['not SIP', 'tel:+12065550100', { ok: false, reason: 'bad-target' }, []],
    ['port 0', 'sip:pbx.test:0', { ok: false, reason: 'bad-target' }, []],
    ['a transport Carillon lacks', 'sip:pbx.test;transport=sctp', { ok: false, reason: 'no-transport' }, []],
  ])('%s: %s', async (_what, uri, expected, questions) => {
    const r = await locate(uri);
    expect(r.loc).toEqual(expected);
    expect(r.questions.map((q) => `${q.type} ${q.name}`)).toEqual(questions);
  });

  it('only transports Carillon has a listener for', async () => {
    const udpOnly = new Set<TransportName>(['udp']);
    expect((await locate('sip:carrier.test', { transports: udpOnly })).loc).toEqual({ ok: true, via: 'naptr', hops: [hop('udp', '192.0.2.30', 5080)] });
    expect((await locate('sip:pbx.test;transport=tls', { transports: udpOnly })).loc).toEqual({ ok: false, reason: 'no-transport' });
    expect((await locate('sips:a.test', { transports: udpOnly })).loc).toEqual({ ok: false, reason: 'no-transport' });
    // No UDP listener: a SIP URI's fallback is TCP.
    expect((await locate('sip:a.test', { transports: new Set<TransportName>(['tcp']) })).loc).toEqual({ ok: true, via: 'address', hops: [hop('tcp', '192.0.2.50', 5060)] });
  });

  it('AAAA first when asked for IPv6 then IPv4', async () => {
    expect((await locate('sip:pbx.test:5090', { families: [6, 4] })).loc).toEqual({
      ok: true,
      via: 'address',
      hops: [hop('udp', '2001:db8::10', 5090), hop('udp', '192.0.2.10', 5090), hop('udp', '192.0.2.11', 5090)],
    });
  });

  it('at most maxHops hops, each once', async () => {
    const zone: DnsTestRecord[] = [
      ...Array.from({ length: 6 }, (_, i) => ({ name: '_sip._udp.big.test', type: 'SRV' as const, priority: i, weight: 0, port: 5060, target: 'same.big.test' })),
      { name: 'same.big.test', type: 'A', address: '192.0.2.70' },
      { name: 'same.big.test', type: 'A', address: '192.0.2.71' },
    ];
    const r = await locate('sip:big.test;transport=udp', { zone });
    expect(r.loc).toEqual({ ok: true, via: 'srv', hops: [hop('udp', '192.0.2.70', 5060), hop('udp', '192.0.2.71', 5060)] });
    const many: DnsTestRecord[] = Array.from({ length: 20 }, (_, i) => ({ name: 'many.test', type: 'A' as const, address: `192.0.2.${100 + i}` }));
    const m = await locate('sip:many.test:5060', { zone: many, maxHops: 3 });
    expect(m.loc.ok && m.loc.hops.map((h) => h.address)).toEqual(['192.0.2.100', '192.0.2.101', '192.0.2.102']);
  });

  it('property: whatever DNS answers, locate never rejects and every hop is an IP literal with a usable port', async () => {
    const name = fc.constantFrom('x.test', 'y.test', '_sip._udp.x.test', '_sip._tcp.x.test', '_sips._tcp.x.test', '.', '', 'bad name');
    const record = fc.oneof(
      fc.record({ name, type: fc.constant('A' as const), address: fc.oneof(fc.ipV4(), fc.constant('192.0.2.1')) }),
      fc.record({ name, type: fc.constant('SRV' as const), priority: fc.integer({ min: -1, max: 70_000 }), weight: fc.integer({ min: -1, max: 70_000 }), port: fc.integer({ min: -1, max: 70_000 }), target: name }),
      fc.record({ name, type: fc.constant('NAPTR' as const), order: fc.integer({ min: 0, max: 65_535 }), preference: fc.integer({ min: 0, max: 65_535 }), flags: fc.constantFrom('s', 'S', 'u', ''), service: fc.constantFrom('SIP+D2U', 'SIP+D2T', 'SIPS+D2T', 'SIP+D2W', 'x'), replacement: name }),
    );
    const uri = fc.constantFrom('sip:x.test', 'sips:x.test', 'sip:x.test;transport=tcp', 'sip:x.test:5060', 'sip:x.test;transport=tls');
    await fc.assert(
      fc.asyncProperty(fc.array(record, { maxLength: 30 }), uri, fc.integer(), async (zone, u, seed) => {
        const { loc } = await locate(u, { zone: zone as DnsTestRecord[], random: seeded(seed) });
        if (loc.ok) {
          expect(loc.hops.length).toBeGreaterThan(0);
          for (const h of loc.hops) {
            expect(isIP(h.address)).not.toBe(0);
            expect(Number.isInteger(h.port) && h.port >= 1 && h.port <= 65_535).toBe(true);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a resolver that throws makes not-found, never an exception', async () => {
    const broken: Resolver = { addresses: () => Promise.reject(new Error('x')), srv: () => Promise.reject(new Error('x')), naptr: () => Promise.reject(new Error('x')) };
    const locator = new SipLocator({ resolver: broken, random: floats() });
    expect(await locator.locate('sip:pbx.test', ALL)).toEqual({ ok: false, reason: 'not-found' });
  });
});

describe('RFC 2782 SRV ordering', () => {
  const srv = (target: string, priority: number, weight: number): SrvRecord => ({ priority, weight, port: 5060, target });

  it('lowest priority first, whatever the weights', () => {
    const out = orderSrv([srv('c', 30, 100), srv('a', 10, 0), srv('b', 20, 50)], seeded(1));
    expect(out.map((r) => r.target)).toEqual(['a', 'b', 'c']);
  });

  it.each<[string, number[], string[]]>([
    // Pool [w0 (zero weights first), w10, w90]: sum 100, pick = floor(float × 101); running sums 0, 10, 100.
    ['pick 0 → the weight-0 record', [0, 0, 0], ['w0', 'w10', 'w90']],
    ['pick 5 → w10 (running 10 ≥ 5)', [5 / 101 + 1e-9, 0, 0], ['w10', 'w0', 'w90']],
    ['pick 11 → w90', [11 / 101 + 1e-9, 0.99, 0], ['w90', 'w10', 'w0']],
    ['pick 100 → w90', [0.999, 0, 0], ['w90', 'w0', 'w10']],
  ])('%s', (_what, draws, order) => {
    expect(orderSrv([srv('w10', 1, 10), srv('w0', 1, 0), srv('w90', 1, 90)], floats(...draws)).map((r) => r.target)).toEqual(order);
  });

  it('first choices follow the weights (seeded)', () => {
    const counts = new Map<string, number>();
    const random = seeded(42);
    for (let i = 0; i < 10_000; i++) {
      const first = orderSrv([srv('a', 1, 10), srv('b', 1, 30), srv('c', 1, 60)], random)[0]?.target ?? '';
      counts.set(first, (counts.get(first) ?? 0) + 1);
    }
    expect((counts.get('a') ?? 0) / 10_000).toBeCloseTo(0.1, 1);
    expect((counts.get('b') ?? 0) / 10_000).toBeCloseTo(0.3, 1);
    expect((counts.get('c') ?? 0) / 10_000).toBeCloseTo(0.6, 1);
  });

  it('every record appears once', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ priority: fc.integer({ min: 0, max: 3 }), weight: fc.integer({ min: 0, max: 5 }) }), { maxLength: 12 }), fc.integer(), (specs, seed) => {
        const records = specs.map((s, i) => srv(`t${i}`, s.priority, s.weight));
        const out = orderSrv(records, seeded(seed));
        expect(out.map((r) => r.target).sort()).toEqual(records.map((r) => r.target).sort());
        for (let i = 1; i < out.length; i++) expect((out[i] as SrvRecord).priority).toBeGreaterThanOrEqual((out[i - 1] as SrvRecord).priority);
      }),
    );
  });
});

describe('NAPTR selection', () => {
  it('drops flags other than "s", regexps, SCTP and WebSocket services; SIPS URIs keep SIPS+D2T alone', () => {
    const n = (service: string, order: number, flags = 's', regexp = '') => ({ order, preference: 1, flags, service, regexp, replacement: `_x.${service.toLowerCase().replace('+', '-')}.test` });
    const records = [n('SIP+D2U', 3), n('SIP+D2T', 2), n('SIPS+D2T', 1), n('SIP+D2S', 0), n('SIP+D2W', 0), n('SIP+D2U', 0, 'u'), n('SIP+D2U', 0, 's', '!x!y!')];
    expect(usableNaptr(records, false, ALL).map((r) => r.transport)).toEqual(['tls', 'tcp', 'udp']);
    expect(usableNaptr(records, true, ALL).map((r) => r.transport)).toEqual(['tls']);
    expect(usableNaptr(records, false, new Set<TransportName>(['udp'])).map((r) => r.transport)).toEqual(['udp']);
  });
});
