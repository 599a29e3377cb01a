import type { LookupAddress } from 'node:dns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dnsName, DnsResolver, literalOnlyLookup, lookupFunction } from '../../common/resolver.ts';
import type { NodeLookup, Resolver } from '../../common/resolver.ts';
import { TableResolver, TestDnsServer } from '../support/dns-server.ts';
import type { DnsTestRecord } from '../support/dns-server.ts';

/** Calls a lookup and returns what its callback got. */
function ask(lookup: NodeLookup, host: string, options: Parameters<NodeLookup>[1]): Promise<{ err: NodeJS.ErrnoException | null; address: string | LookupAddress[]; family: number | undefined }> {
  return new Promise((resolve) => lookup(host, options, (err, address, family) => resolve({ err, address, family })));
}

describe('dnsName', () => {
  it.each([
    ['Carrier.Example.', 'carrier.example'],
    ['_sip._udp.carrier.example', '_sip._udp.carrier.example'],
    ['a', 'a'],
    ['', undefined],
    ['.', undefined],
    ['bad..name', undefined],
    ['-lead.example', undefined],
    ['trail-.example', undefined],
    ['sp ace.example', undefined],
    ['x'.repeat(64) + '.example', undefined],
    [`${'a.'.repeat(127)}a`, undefined],
    ['1.2.3.4', '1.2.3.4'],
    ['%00.example', undefined],
  ])('%j → %j', (name, expected) => {
    expect(dnsName(name)).toBe(expected);
  });
});

describe('lookupFunction (the Node lookup hook)', () => {
  const table = new TableResolver([
    { name: 'both.test', type: 'A', address: '127.0.0.7' },
    { name: 'both.test', type: 'AAAA', address: '::1' },
    { name: 'v4.test', type: 'A', address: '127.0.0.8' },
  ]);
  const lookup = lookupFunction(table);

  it('answers an IP literal at once, without asking the resolver', () => {
    let got: unknown;
    lookup('127.0.0.1', { family: 4 }, (err, address, family) => (got = { err, address, family }));
    // Synchronously: dgram asks for every datagram.
    expect(got).toEqual({ err: null, address: '127.0.0.1', family: 4 });
    expect(table.questions).toEqual([]);
  });

  it('takes the family as a number, as dgram passes it', async () => {
    expect(await ask(lookup, 'v4.test', 4 as never)).toEqual({ err: null, address: '127.0.0.8', family: 4 });
  });

  it('a name: A first, and every address with `all` (what net asks with autoSelectFamily)', async () => {
    expect(await ask(lookup, 'both.test', {})).toEqual({ err: null, address: '127.0.0.7', family: 4 });
    expect(await ask(lookup, 'both.test', { all: true })).toEqual({ err: null, address: [{ address: '127.0.0.7', family: 4 }, { address: '::1', family: 6 }], family: undefined });
    expect(await ask(lookup, 'both.test', { family: 6 })).toEqual({ err: null, address: '::1', family: 6 });
    expect(await ask(lookup, 'both.test', { family: 'IPv6', all: true })).toEqual({ err: null, address: [{ address: '::1', family: 6 }], family: undefined });
  });

  it('a name with no address, or a literal of the wrong family, fails with ENOTFOUND', async () => {
    const missing = await ask(lookup, 'missing.test', {});
    expect(missing.err?.code).toBe('ENOTFOUND');
    expect((await ask(lookup, '127.0.0.1', { family: 6 })).err?.code).toBe('ENOTFOUND');
  });

  it('never hands on an address that is not an IP literal of the family asked', async () => {
    const liar: Resolver = {
      addresses: (_name, family) => Promise.resolve({ status: 'ok', records: [{ address: 'evil.example', family }, { address: '::1', family: 4 }, { address: '999.1.1.1', family }] }),
      srv: () => Promise.resolve({ status: 'not-found', records: [] }),
      naptr: () => Promise.resolve({ status: 'not-found', records: [] }),
    };
    const r = await ask(lookupFunction(liar), 'x.test', { family: 4 });
    expect(r.err?.code).toBe('ENOTFOUND');
  });

  it('a resolver that rejects is a failed lookup, not an exception', async () => {
    const broken: Resolver = { addresses: () => Promise.reject(new Error('boom')), srv: () => Promise.reject(new Error('boom')), naptr: () => Promise.reject(new Error('boom')) };
    expect((await ask(lookupFunction(broken), 'x.test', {})).err?.code).toBe('ENOTFOUND');
  });

  it('literalOnlyLookup fails every name without a query', async () => {
    expect((await ask(literalOnlyLookup, 'carrier.example', {})).err?.code).toBe('ENOTFOUND');
    expect((await ask(literalOnlyLookup, '::1', { all: true })).address).toEqual([{ address: '::1', family: 6 }]);
  });
});

describe('DnsResolver (node:dns) against a DNS server on loopback', () => {
  const RECORDS: DnsTestRecord[] = [
    { name: 'pbx.test', type: 'A', address: '127.0.0.2', ttlSec: 120 },
    { name: 'pbx.test', type: 'A', address: '127.0.0.3', ttlSec: 60 },
    { name: 'pbx.test', type: 'AAAA', address: '::1', ttlSec: 30 },
    { name: '_sip._udp.pbx.test', type: 'SRV', priority: 10, weight: 5, port: 5070, target: 'pbx.test' },
    { name: '_sip._tcp.pbx.test', type: 'SRV', priority: 0, weight: 0, port: 0, target: '.' },
    { name: 'pbx.test', type: 'NAPTR', order: 10, preference: 20, flags: 's', service: 'SIP+D2U', replacement: '_sip._udp.pbx.test' },
  ];
  let dns: TestDnsServer;
  let r: DnsResolver;

  beforeAll(async () => {
    dns = await TestDnsServer.start(RECORDS);
    r = new DnsResolver({ servers: [dns.server], timeoutMs: 500, tries: 1 });
  });
  afterAll(async () => {
    r.close();
    await dns.close();
  });

  it('A and AAAA records with their smallest TTL', async () => {
    expect(await r.addresses('pbx.test', 4)).toEqual({ status: 'ok', records: [{ address: '127.0.0.2', family: 4 }, { address: '127.0.0.3', family: 4 }], ttlSec: 60 });
    expect(await r.addresses('pbx.test', 6)).toEqual({ status: 'ok', records: [{ address: '::1', family: 6 }], ttlSec: 30 });
  });

  it('SRV and NAPTR records ("." for a target that says the service is not offered)', async () => {
    expect(await r.srv('_sip._udp.pbx.test')).toEqual({ status: 'ok', records: [{ priority: 10, weight: 5, port: 5070, target: 'pbx.test' }] });
    expect(await r.srv('_sip._tcp.pbx.test')).toEqual({ status: 'ok', records: [{ priority: 0, weight: 0, port: 0, target: '.' }] });
    expect(await r.naptr('pbx.test')).toEqual({ status: 'ok', records: [{ order: 10, preference: 20, flags: 's', service: 'SIP+D2U', regexp: '', replacement: '_sip._udp.pbx.test' }] });
  });

  it('NXDOMAIN and a name without that record type are not-found; the system is not asked instead', async () => {
    expect(await r.addresses('nowhere.test', 4)).toEqual({ status: 'not-found', records: [] });
    expect(await r.srv('pbx.test')).toEqual({ status: 'not-found', records: [] });
    expect(dns.questions).toContainEqual({ type: 'A', name: 'nowhere.test' });
  });

  it('a server that does not answer is failed, not not-found', async () => {
    const deaf = new DnsResolver({ servers: ['127.0.0.1:9'], timeoutMs: 200, tries: 1 });
    expect((await deaf.addresses('pbx.test', 4)).status).toBe('failed');
    deaf.close();
  });

  it('a server list that is not addresses is refused at construction', () => {
    expect(() => new DnsResolver({ servers: ['dns.example'] })).toThrow();
  });
});
