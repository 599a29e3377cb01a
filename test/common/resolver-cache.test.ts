import fc from 'fast-check';
import { isIP } from 'node:net';
import { describe, expect, it } from 'vitest';
import { CachingResolver, MAX_DNS_RECORDS } from '../../common/resolver-cache.ts';
import type { AddressFamily, DnsAnswer, Resolver } from '../../common/resolver.ts';
import { TableResolver } from '../support/dns-server.ts';
import { ManualTimers } from '../support/manual-timers.ts';

function cached(backend: Resolver, opts: Partial<ConstructorParameters<typeof CachingResolver>[1]> = {}): { r: CachingResolver; clock: ManualTimers } {
  const clock = new ManualTimers();
  return { r: new CachingResolver(backend, { clock, ...opts }), clock };
}

/** A backend whose answers the test hands out one by one. */
class ScriptedResolver implements Resolver {
  readonly asked: string[] = [];
  readonly #waiting: ((a: DnsAnswer<unknown>) => void)[] = [];
  addresses(name: string, family: AddressFamily): Promise<DnsAnswer<never>> {
    this.asked.push(`${family} ${name}`);
    return new Promise((resolve) => this.#waiting.push(resolve as (a: DnsAnswer<unknown>) => void));
  }
  srv(): Promise<DnsAnswer<never>> {
    return Promise.resolve({ status: 'not-found', records: [] });
  }
  naptr(): Promise<DnsAnswer<never>> {
    return Promise.resolve({ status: 'not-found', records: [] });
  }
  answer(a: DnsAnswer<unknown>): void {
    this.#waiting.shift()?.(a);
  }
}

describe('CachingResolver', () => {
  it('keeps an answer for its TTL, then asks again', async () => {
    const table = new TableResolver([{ name: 'pbx.test', type: 'A', address: '127.0.0.2', ttlSec: 30 }]);
    const { r, clock } = cached(table);
    expect((await r.addresses('pbx.test', 4)).records).toEqual([{ address: '127.0.0.2', family: 4 }]);
    clock.advance(29_999);
    await r.addresses('PBX.test.', 4);
    expect(table.questions).toHaveLength(1);
    clock.advance(1);
    await r.addresses('pbx.test', 4);
    expect(table.questions).toHaveLength(2);
    expect(r.counters).toMatchObject({ hits: 1, queries: 2 });
  });

  it('caps a TTL at maxTtlSec; a TTL of 0 is not kept', async () => {
    const table = new TableResolver([
      { name: 'long.test', type: 'A', address: '127.0.0.2', ttlSec: 86_400 },
      { name: 'zero.test', type: 'A', address: '127.0.0.3', ttlSec: 0 },
    ]);
    const { r, clock } = cached(table, { maxTtlSec: 60 });
    await r.addresses('long.test', 4);
    await r.addresses('zero.test', 4);
    await r.addresses('zero.test', 4);
    clock.advance(60_000);
    await r.addresses('long.test', 4);
    expect(table.questions.map((q) => q.name)).toEqual(['long.test', 'zero.test', 'zero.test', 'long.test']);
  });

  it('keeps "not found" for negativeTtlSec and a failure for failureTtlSec', async () => {
    const failing: Resolver = { addresses: () => Promise.resolve({ status: 'failed', records: [] }), srv: () => Promise.reject(new Error('x')), naptr: () => Promise.resolve({ status: 'failed', records: [] }) };
    const table = new TableResolver();
    const a = cached(table, { negativeTtlSec: 30 });
    await a.r.addresses('missing.test', 4);
    a.clock.advance(29_000);
    expect((await a.r.addresses('missing.test', 4)).status).toBe('not-found');
    expect(table.questions).toHaveLength(1);
    a.clock.advance(1_000);
    await a.r.addresses('missing.test', 4);
    expect(table.questions).toHaveLength(2);

    const b = cached(failing, { failureTtlSec: 5 });
    expect((await b.r.addresses('x.test', 4)).status).toBe('failed');
    // A backend that rejects is a failure too, never an exception.
    expect((await b.r.srv('_sip._udp.x.test')).status).toBe('failed');
    b.clock.advance(4_999);
    await b.r.addresses('x.test', 4);
    expect(b.r.counters.queries).toBe(2);
    b.clock.advance(1);
    await b.r.addresses('x.test', 4);
    expect(b.r.counters.queries).toBe(3);
  });

  it('answers without a TTL (node:dns SRV, NAPTR) are kept unknownTtlSec', async () => {
    const backend: Resolver = {
      addresses: () => Promise.resolve({ status: 'not-found', records: [] }),
      srv: () => Promise.resolve({ status: 'ok', records: [{ priority: 1, weight: 1, port: 5060, target: 'a.test' }] }),
      naptr: () => Promise.resolve({ status: 'not-found', records: [] }),
    };
    const { r, clock } = cached(backend, { unknownTtlSec: 10 });
    await r.srv('_sip._udp.x.test');
    clock.advance(9_999);
    await r.srv('_sip._udp.x.test');
    expect(r.counters).toMatchObject({ hits: 1, queries: 1 });
    clock.advance(1);
    await r.srv('_sip._udp.x.test');
    expect(r.counters.queries).toBe(2);
  });

  it('holds at most maxEntries answers, dropping the least recently used', async () => {
    const table = new TableResolver(['a', 'b', 'c', 'd'].map((n) => ({ name: `${n}.test`, type: 'A' as const, address: '127.0.0.1' })));
    const { r } = cached(table, { maxEntries: 3 });
    for (const n of ['a', 'b', 'c']) await r.addresses(`${n}.test`, 4);
    await r.addresses('a.test', 4); // a is now the most recently used
    await r.addresses('d.test', 4); // b goes
    expect(r.size).toBe(3);
    expect(r.counters.evictions).toBe(1);
    const before = table.questions.length;
    await r.addresses('a.test', 4);
    await r.addresses('c.test', 4);
    expect(table.questions.length).toBe(before);
    await r.addresses('b.test', 4);
    expect(table.questions.length).toBe(before + 1);
  });

  it('a name asked by many callers at once is asked once', async () => {
    const backend = new ScriptedResolver();
    const { r } = cached(backend);
    const all = Promise.all([r.addresses('pbx.test', 4), r.addresses('pbx.test', 4), r.addresses('pbx.test', 4)]);
    backend.answer({ status: 'ok', records: [{ address: '127.0.0.9', family: 4 }], ttlSec: 5 });
    const answers = await all;
    expect(backend.asked).toEqual(['4 pbx.test']);
    for (const a of answers) expect(a.records).toEqual([{ address: '127.0.0.9', family: 4 }]);
  });

  it('IP literals and localhost names (RFC 6761 §6.3) are answered without a query; garbage names are not asked', async () => {
    const table = new TableResolver();
    const { r } = cached(table);
    expect((await r.addresses('192.0.2.1', 4)).records).toEqual([{ address: '192.0.2.1', family: 4 }]);
    expect((await r.addresses('[::1]', 6)).records).toEqual([{ address: '::1', family: 6 }]);
    expect((await r.addresses('192.0.2.1', 6)).status).toBe('not-found');
    expect((await r.addresses('localhost', 4)).records).toEqual([{ address: '127.0.0.1', family: 4 }]);
    expect((await r.addresses('pbx.LOCALHOST.', 6)).records).toEqual([{ address: '::1', family: 6 }]);
    expect((await r.srv('_sip._udp.localhost')).status).toBe('not-found');
    expect((await r.addresses('bad name\r\n.test', 4)).status).toBe('not-found');
    expect((await r.naptr('a..b')).status).toBe('not-found');
    expect(table.questions).toEqual([]);
  });

  it('drops records no socket could use; an answer left with none is not-found', async () => {
    const backend: Resolver = {
      addresses: (_n, family) => Promise.resolve({ status: 'ok', records: [{ address: 'not-an-ip', family }, { address: '::1', family: 4 }, { address: '127.0.0.5', family }] }),
      srv: () =>
        Promise.resolve({
          status: 'ok',
          records: [
            { priority: 1, weight: 1, port: 0, target: 'zero-port.test' },
            { priority: 1, weight: 1, port: 70_000, target: 'big-port.test' },
            { priority: -1, weight: 1, port: 5060, target: 'neg.test' },
            { priority: 1, weight: 1, port: 5060, target: 'bad target.test' },
            { priority: 2, weight: 3, port: 5062, target: 'Good.Test.' },
            { priority: 0, weight: 0, port: 0, target: '.' },
          ],
        }),
      naptr: () => Promise.resolve({ status: 'ok', records: [{ order: 1, preference: 1, flags: 's', service: 'SIP+D2U', regexp: '', replacement: 'bad..name' }] }),
    };
    const { r } = cached(backend);
    expect((await r.addresses('x.test', 4)).records).toEqual([{ address: '127.0.0.5', family: 4 }]);
    expect((await r.srv('_sip._udp.x.test')).records).toEqual([
      { priority: 2, weight: 3, port: 5062, target: 'good.test' },
      { priority: 0, weight: 0, port: 0, target: '.' },
    ]);
    expect(await r.naptr('x.test')).toEqual({ status: 'not-found', records: [] });
  });

  it('property: whatever a backend answers, every address handed on is an IP literal of the family asked, and at most MAX_DNS_RECORDS', async () => {
    const anyRecord = fc.record({ address: fc.oneof(fc.ipV4(), fc.ipV6(), fc.string(), fc.constant(undefined)), family: fc.oneof(fc.constant(4), fc.constant(6), fc.integer()) }, { requiredKeys: [] });
    const anyAnswer = fc.oneof(
      fc.record({ status: fc.constantFrom('ok', 'not-found', 'failed', 'weird'), records: fc.array(fc.oneof(anyRecord, fc.anything()), { maxLength: 50 }), ttlSec: fc.oneof(fc.integer(), fc.double(), fc.constant(undefined)) }),
      fc.anything(),
    );
    await fc.assert(
      fc.asyncProperty(anyAnswer, fc.constantFrom<AddressFamily>(4, 6), async (raw, family) => {
        const backend: Resolver = { addresses: () => Promise.resolve(raw as DnsAnswer<never>), srv: () => Promise.resolve(raw as DnsAnswer<never>), naptr: () => Promise.resolve(raw as DnsAnswer<never>) };
        const { r } = cached(backend);
        const a = await r.addresses('x.test', family);
        expect(['ok', 'not-found', 'failed']).toContain(a.status);
        expect(a.records.length).toBeLessThanOrEqual(MAX_DNS_RECORDS);
        for (const rec of a.records) expect(isIP(rec.address)).toBe(family);
        const s = await r.srv('_sip._udp.x.test');
        for (const rec of s.records) expect(rec.target === '.' || (Number.isInteger(rec.port) && rec.port >= 1 && rec.port <= 65_535)).toBe(true);
        await r.naptr('x.test');
      }),
      { numRuns: 300 },
    );
  });
});
