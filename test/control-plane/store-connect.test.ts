import net from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { nodeTimers, systemClock } from '../../common/clock.ts';
import { openStoreWhenReachable, redactUrl } from '../../control-plane/store/store-connect.ts';
import { freePort } from '../support/ports.ts';

function capture(): { logger: pino.Logger; lines: () => { msg: string; level: number }[] } {
  const out: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      out.push(chunk.toString());
      cb();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines: () => out.join('').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { msg: string; level: number }) };
}

/** A TCP forwarder to the project's PostgreSQL, opened on `port` when a test wants the database to "come up". */
function forwardTo5432(port: number): Promise<net.Server> {
  const server = net.createServer((c) => {
    const up = net.connect({ host: '127.0.0.1', port: 5432 });
    c.pipe(up).pipe(c);
    c.on('error', () => up.destroy());
    up.on('error', () => c.destroy());
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

describe('opening the store at start', () => {
  it('waits for a PostgreSQL that is not up yet, saying so once per attempt', async () => {
    const port = await freePort();
    const { logger, lines } = capture();
    let fwd: net.Server | undefined;
    const later = setTimeout(() => void forwardTo5432(port).then((s) => (fwd = s)), 1500);
    try {
      const store = await openStoreWhenReachable(`postgres://root:secret@127.0.0.1:${port}/test`, { logger, timers: nodeTimers, clock: systemClock, deadlineMs: 20_000 });
      await store.close();
      const warns = lines().filter((l) => l.level === 40);
      expect(warns.length).toBeGreaterThanOrEqual(1);
      expect(warns[0]?.msg).toMatch(/^store not reachable \(ECONNREFUSED\); retrying in /);
      expect(JSON.stringify(lines())).not.toContain('secret');
      expect(lines().some((l) => l.msg === 'store reachable')).toBe(true);
    } finally {
      clearTimeout(later);
      fwd?.close();
    }
  }, 30_000);

  it('gives up at the deadline with a clear error', async () => {
    const port = await freePort();
    const { logger } = capture();
    await expect(openStoreWhenReachable(`postgres://127.0.0.1:${port}/test`, { logger, timers: nodeTimers, clock: systemClock, deadlineMs: 1200 })).rejects.toThrow(/is not reachable \(ECONNREFUSED\); gave up after \d+ attempts/);
  });

  it('does not wait on a fault time cannot fix (a database that does not exist)', async () => {
    const { logger, lines } = capture();
    await expect(openStoreWhenReachable('postgres://127.0.0.1:5432/no_such_database_carillon', { logger, timers: nodeTimers, clock: systemClock, deadlineMs: 10_000 })).rejects.toThrow();
    expect(lines().filter((l) => l.level === 40)).toHaveLength(0);
  });

  it('never logs a password', () => {
    expect(redactUrl('postgres://carillon:s3cret@db:5432/carillon')).toBe('postgres://carillon:***@db:5432/carillon');
    expect(redactUrl('postgres://db/carillon')).toBe('postgres://db/carillon');
  });
});
