import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { nodeSockets } from '../../../../common/sockets.ts';
import { encodeTpkt, TpktReader } from '../../../../signaling/h323/q931/tpkt.ts';
import { DEFAULT_TPKT_LIMITS, TpktEndpoint } from '../../../../signaling/h323/transport/tpkt-listener.ts';
import type { TpktCloseReason, TpktConnection, TpktLimits } from '../../../../signaling/h323/transport/tpkt-listener.ts';
import { ManualTimers } from '../../../support/manual-timers.ts';

const framer = (): TpktReader => new TpktReader();
const frame = encodeTpkt;

const opened: TpktEndpoint[] = [];
afterEach(async () => {
  for (const e of opened.splice(0)) await e.close();
});

async function endpoint(timers: ManualTimers, limits: Partial<TpktLimits> = {}) {
  const ep = new TpktEndpoint({ sockets: nodeSockets, timers, framer, frame, limits: { ...DEFAULT_TPKT_LIMITS, ...limits } });
  opened.push(ep);
  const accepted: { c: TpktConnection; frames: Buffer[]; closed: TpktCloseReason[]; keepalives: number }[] = [];
  const port = await ep.listen('127.0.0.1', 0, (c) => {
    const rec = { c, frames: [] as Buffer[], closed: [] as TpktCloseReason[], keepalives: 0 };
    c.handler = { frame: (f) => rec.frames.push(Buffer.from(f)), keepalive: () => rec.keepalives++, closed: (r) => rec.closed.push(r) };
    accepted.push(rec);
  });
  return { ep, port, accepted };
}

function dial(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.on('error', reject);
  });
}
const until = async (cond: () => boolean): Promise<void> => {
  for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(cond()).toBe(true);
};
const closedOf = (s: net.Socket): Promise<void> => new Promise((r) => (s.closed ? r() : s.once('close', () => r())));

describe('TPKT connections', () => {
  it('hands over whole frames however the bytes are split, answers with framed payloads, and counts keep-alives', async () => {
    const timers = new ManualTimers();
    const { port, accepted } = await endpoint(timers);
    const s = await dial(port);
    const got: Buffer[] = [];
    s.on('data', (d: Buffer) => got.push(d));
    const bytes = Buffer.concat([frame(Buffer.from('hello')), frame(Buffer.alloc(0)), frame(Buffer.from('world'))]);
    for (const b of bytes) s.write(Buffer.from([b]));
    await until(() => accepted[0]?.frames.length === 2);
    expect(accepted[0]?.frames.map(String)).toEqual(['hello', 'world']);
    expect(accepted[0]?.keepalives).toBe(1);
    accepted[0]?.c.send(Buffer.from('ok'));
    await until(() => Buffer.concat(got).length === 6);
    expect(Buffer.concat(got)).toEqual(frame(Buffer.from('ok')));
    s.destroy();
    await until(() => accepted[0]?.closed.length === 1);
    expect(accepted[0]?.closed).toEqual(['peer-closed']);
  });

  it('closes a slow drip at the frame deadline, an idle connection at the idle limit, and garbage at once', async () => {
    const timers = new ManualTimers();
    const { ep, port, accepted } = await endpoint(timers, { frameDeadlineMs: 1000, idleTimeoutMs: 5000 });
    const drip = await dial(port);
    drip.write(Buffer.from([3, 0, 0, 20, 1]));
    await until(() => accepted.length === 1 && timers.pendingCount >= 2);
    timers.advance(1001);
    await closedOf(drip);
    expect(accepted[0]?.closed).toEqual(['frame-deadline']);

    const idle = await dial(port);
    await until(() => accepted.length === 2);
    idle.write(frame(Buffer.alloc(0)));
    await until(() => accepted[1]?.keepalives === 1);
    timers.advance(4999);
    expect(accepted[1]?.closed).toEqual([]);
    timers.advance(2);
    await closedOf(idle);
    expect(accepted[1]?.closed).toEqual(['idle']);

    const junk = await dial(port);
    junk.write(Buffer.from('INVITE sip:x SIP/2.0\r\n'));
    await closedOf(junk);
    await until(() => accepted[2]?.closed.length === 1);
    expect(accepted[2]?.closed).toEqual(['framing-error']);
    expect(ep.connections).toBe(0);
    expect(ep.counters.closed).toMatchObject({ 'frame-deadline': 1, idle: 1, 'framing-error': 1 });
  });

  it('refuses connections past the per-source limit and gives the share back when one closes', async () => {
    const timers = new ManualTimers();
    const { ep, port, accepted } = await endpoint(timers, { maxConnectionsPerSource: 2 });
    const a = await dial(port);
    await dial(port);
    await until(() => accepted.length === 2);
    const c = await dial(port);
    await closedOf(c);
    expect(ep.counters.refused).toBe(1);
    a.destroy();
    await until(() => ep.connections === 1);
    await dial(port);
    await until(() => accepted.length === 3);
  });

  it('connects out only to IP literals and usable ports', async () => {
    const timers = new ManualTimers();
    const { ep, port, accepted } = await endpoint(timers);
    expect(await ep.connect('localhost', port, undefined)).toBeUndefined();
    expect(await ep.connect('127.0.0.1', 0, undefined)).toBeUndefined();
    expect(await ep.connect('127.0.0.1', 70000, undefined)).toBeUndefined();
    const out = await ep.connect('127.0.0.1', port, undefined);
    expect(out?.remote.port).toBe(port);
    await until(() => accepted.length === 1);
    out?.send(Buffer.from('h245'));
    await until(() => accepted[0]?.frames.length === 1);
    expect(String(accepted[0]?.frames[0])).toBe('h245');
  });
});
