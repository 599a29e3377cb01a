import { describe, expect, it } from 'vitest';
import { natsServers } from '../../cli/streaming.ts';
import { TableResolver } from '../support/dns-server.ts';

describe('natsServers: NATS host names resolve through the injected resolver', () => {
  it('one entry per address, IP literals kept, names that do not resolve left out', async () => {
    const dns = new TableResolver([
      { name: 'nats.test', type: 'A', address: '127.0.0.1' },
      { name: 'nats.test', type: 'A', address: '127.0.0.2' },
      { name: 'nats.test', type: 'AAAA', address: '::1' },
    ]);
    expect(await natsServers('nats://nats.test:4223, 127.0.0.9, nats://nowhere.test:4222,tls://[::1]:4224', dns)).toEqual([
      'nats://127.0.0.1:4223',
      'nats://127.0.0.2:4223',
      'nats://[::1]:4223',
      'nats://127.0.0.9:4222',
      'tls://[::1]:4224',
    ]);
    expect(dns.questions.map((q) => `${q.type} ${q.name}`).sort()).toEqual(['A nats.test', 'A nowhere.test', 'AAAA nats.test', 'AAAA nowhere.test']);
  });

  it('without a resolver the list is passed on as written', async () => {
    expect(await natsServers('nats://a:1,nats://b:2', undefined)).toEqual(['nats://a:1', 'nats://b:2']);
  });
});
