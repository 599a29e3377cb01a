import { describe, expect, it } from 'vitest';
import type { Random } from '../../common/random.ts';
import { MediaCore } from '../../media/media-core.ts';
import type { MediaCommand, MediaEvent, MediaReply, MediaWorkerOptions, RemoteMedia } from '../../media/protocol.ts';
import { writeRtpHeader } from '../../media/rtp/rtp-header.ts';
import { FakeUdpNetwork } from '../support/fake-udp.ts';
import { ManualTimers } from '../support/manual-timers.ts';

/**
 * The worker's session table (media-core.ts) on an in-memory network with a manual clock:
 * sessions, endpoints and connections, port pairs from the range, the release delay and the media
 * timeout. Nothing here waits on real time.
 */
const LOW = 20000;

function setup(over: Partial<MediaWorkerOptions> = {}) {
  const net = new FakeUdpNetwork();
  const clock = new ManualTimers();
  const random: Random = { token: (n) => 'x'.repeat(n), float: () => 0.5 };
  const events: MediaEvent[] = [];
  const opts: MediaWorkerOptions = { bindAddress: '127.0.0.1', low: LOW, high: LOW + 11, strict: false, mediaTimeoutMs: 2000, rtcpIntervalMs: 60_000, cname: 't', releaseDelayMs: 1000, nativeRelay: false, ...over };
  const core = new MediaCore(opts, { sockets: net.sockets, clock, timers: clock, random }, (e) => events.push(e));
  /** Runs a command to its reply (an open binds its sockets first). */
  const run = async (cmd: MediaCommand): Promise<MediaReply> => core.handle(cmd);
  return { net, clock, core, events, run };
}

const far = (port: number, over: Partial<RemoteMedia> = {}): RemoteMedia => ({ address: '192.0.2.1', port, rtcpPort: port + 1, rtcpMux: false, direction: 'sendrecv', dtmfPayloadTypes: [], ...over });

function rtp(seq: number, ssrc: number): Buffer {
  const b = Buffer.alloc(172);
  writeRtpHeader({ marker: false, payloadType: 0, sequence: seq, timestamp: seq * 160, ssrc }, b);
  return b;
}

const open = (session: string, endpoint: string, remote?: RemoteMedia): MediaCommand => ({ op: 'open', session, endpoint, kind: 'audio', clockRateHz: 8000, ...(remote === undefined ? {} : { remote }) });

describe('media worker session table', () => {
  it('opens endpoints one port pair each, connects and disconnects them, closes one, and ends the session', async () => {
    const { core, run, clock, net } = setup();
    const ports: number[] = [];
    for (const id of ['x', 'y', 'z']) {
      const r = await run(open('s', id));
      if (!r.ok || r.port === undefined) throw new Error('not opened');
      ports.push(r.port);
    }
    expect(ports).toEqual([LOW, LOW + 2, LOW + 4]);
    expect(net.boundPorts).toEqual([LOW, LOW + 1, LOW + 2, LOW + 3, LOW + 4, LOW + 5]);
    // The same id again is the same endpoint.
    expect(await run(open('s', 'x'))).toEqual({ ok: true, port: LOW });
    expect(core.status()).toMatchObject({ sessions: 1, streams: 3, portPairsInUse: 3 });
    expect(await run({ op: 'connect', session: 's', a: 'x', b: 'y' })).toEqual({ ok: true });
    expect(core.status().streams).toBe(2);
    // Connecting x to z takes x from y.
    expect(await run({ op: 'connect', session: 's', a: 'z', b: 'x' })).toEqual({ ok: true });
    let q = await run({ op: 'query', session: 's' });
    expect(q.ok && q.snapshot?.connections).toEqual([{ a: 'z', b: 'x' }]);
    expect(q.ok && q.snapshot?.endpoints.map((e) => [e.id, e.connectedTo])).toEqual([
      ['x', 'z'],
      ['y', null],
      ['z', 'x'],
    ]);
    expect(await run({ op: 'disconnect', session: 's', endpoint: 'x' })).toEqual({ ok: true });
    q = await run({ op: 'query', session: 's' });
    expect(q.ok && q.snapshot?.connections).toEqual([]);
    // Closing an endpoint answers its figures; its pair goes back after the release delay.
    const closed = await run({ op: 'close-endpoint', session: 's', endpoint: 'y' });
    expect(closed.ok && closed.endpoint?.id).toBe('y');
    expect(core.status().portPairsInUse).toBe(3);
    clock.advance(1000);
    expect(core.status().portPairsInUse).toBe(2);
    expect(net.boundPorts).not.toContain(LOW + 2);
    const del = await run({ op: 'delete', session: 's' });
    expect(del.ok && del.snapshot?.endpoints.map((e) => e.id)).toEqual(['x', 'z']);
    expect(core.status()).toMatchObject({ sessions: 0, streams: 0, portPairsInUse: 2 });
    clock.advance(999);
    expect(core.status().portPairsInUse).toBe(2);
    clock.advance(1);
    expect(core.status().portPairsInUse).toBe(0);
    expect(net.boundPorts).toEqual([]);
    expect(await run({ op: 'query', session: 's' })).toEqual({ ok: false, error: 'no-such-session' });
  });

  it('runs a session’s commands in order behind an open still binding its ports', async () => {
    const { core } = setup();
    // One batch: open, open, connect — the connect must find both endpoints.
    const replies = [core.handle(open('s', 'a')), core.handle(open('s', 'b')), core.handle({ op: 'connect', session: 's', a: 'a', b: 'b' })];
    expect(await Promise.all(replies)).toEqual([
      { ok: true, port: LOW },
      { ok: true, port: LOW + 2 },
      { ok: true },
    ]);
    expect(core.status().streams).toBe(1);
  });

  it('refuses what does not exist or cannot be sent to', async () => {
    const { run } = setup();
    await run(open('s', 'a'));
    expect(await run({ op: 'connect', session: 's', a: 'a', b: 'nope' })).toEqual({ ok: false, error: 'no-such-endpoint' });
    expect(await run({ op: 'connect', session: 's', a: 'a', b: 'a' })).toEqual({ ok: false, error: 'no-such-endpoint' });
    expect(await run({ op: 'update', session: 'other', endpoint: 'a', remote: far(4000) })).toEqual({ ok: false, error: 'no-such-session' });
    expect(await run({ op: 'update', session: 's', endpoint: 'b', remote: far(4000) })).toEqual({ ok: false, error: 'no-such-endpoint' });
    expect(await run({ op: 'update', session: 's', endpoint: 'a', remote: far(70000) })).toEqual({ ok: false, error: 'bad-remote' });
    expect(await run({ op: 'attach', session: 's', endpoint: 'b', function: { fn: 'tap', fragmentMs: 100 } })).toEqual({ ok: false, error: 'no-such-endpoint' });
    expect(await run({ op: 'close-endpoint', session: 's', endpoint: 'b' })).toEqual({ ok: false, error: 'no-such-endpoint' });
    expect(await run({ op: 'arm', session: 'other' })).toEqual({ ok: false, error: 'no-such-session' });
  });

  it('skips pairs another process holds and says when the range is used up', async () => {
    const { net, run, core } = setup({ low: LOW, high: LOW + 5 });
    net.hold(LOW + 3); // the RTCP port of the second pair
    expect(await run(open('s', 'a'))).toEqual({ ok: true, port: LOW });
    expect(await run(open('s', 'b'))).toEqual({ ok: true, port: LOW + 4 });
    expect(await run(open('s', 'c'))).toEqual({ ok: false, error: 'ports-exhausted' });
    expect(core.status()).toMatchObject({ portPairsInUse: 2, portPairsCapacity: 3, portsSkipped: 2 });
  });

  it('relays between connected endpoints, latching to where the far end sends from', async () => {
    const { net, run, core } = setup();
    await run(open('s', 'a', far(4000)));
    await run(open('s', 'b', far(5000)));
    await run({ op: 'connect', session: 's', a: 'a', b: 'b' });
    net.deliver(LOW, rtp(1, 0xa), '192.0.2.1', 4100);
    expect(net.sent.map((d) => [d.fromPort, d.toAddress, d.toPort])).toEqual([[LOW + 2, '192.0.2.1', 5000]]);
    net.deliver(LOW + 2, rtp(1, 0xb), '192.0.2.1', 5000);
    // Back to where a's far end really sends from, not its SDP port.
    expect(net.sent[1]?.toPort).toBe(4100);
    const st = core.status();
    expect(st.packetsRelayed).toBe(2);
    expect(st.latchEvents).toBe(2);
  });

  it('starts the media timeout only once armed, counts idle time from the last packet, and holds it while on hold', async () => {
    const { net, run, clock, events } = setup();
    await run(open('s', 'a', far(4000)));
    await run(open('s', 'b', far(5000)));
    await run({ op: 'connect', session: 's', a: 'a', b: 'b' });
    // Ringing: no timeout however long it is quiet.
    clock.advance(10_000);
    expect(events).toEqual([]);
    await run({ op: 'arm', session: 's' });
    clock.advance(1000);
    net.deliver(LOW, rtp(1, 0xa), '192.0.2.1', 4000);
    clock.advance(1750);
    expect(events).toEqual([]);
    clock.advance(500);
    expect(events).toEqual([{ ev: 'timeout', session: 's', idleMs: 2000 }]);
    // Told once.
    clock.advance(10_000);
    expect(events).toHaveLength(1);
  });

  it('does not time out a call on hold, and counts idle time afresh when the hold ends', async () => {
    const { run, clock, events } = setup();
    await run(open('s', 'a', far(4000)));
    await run(open('s', 'b', far(5000)));
    await run({ op: 'connect', session: 's', a: 'a', b: 'b' });
    await run({ op: 'update', session: 's', endpoint: 'a', remote: far(4000, { direction: 'sendonly' }), arm: true });
    clock.advance(10_000);
    expect(events).toEqual([]);
    await run({ op: 'update', session: 's', endpoint: 'a', remote: far(4000) });
    clock.advance(1750);
    expect(events).toEqual([]);
    clock.advance(500);
    expect(events.map((e) => e.ev)).toEqual(['timeout']);
  });

  it('taps an endpoint: what its far end sends goes up as audio fragments, the rest at close', async () => {
    const { net, run, events } = setup();
    await run({ ...open('rec', '0a', far(4000)), functions: true } as MediaCommand);
    expect(await run({ op: 'attach', session: 'rec', endpoint: '0a', function: { fn: 'tap', fragmentMs: 20 } })).toEqual({ ok: true });
    for (let seq = 1; seq <= 3; seq++) net.deliver(LOW, rtp(seq, 0xa), '192.0.2.1', 4000);
    await run({ op: 'delete', session: 'rec' });
    const audio = events.filter((e) => e.ev === 'audio');
    expect(audio.length).toBeGreaterThanOrEqual(2);
    expect(audio.every((e) => e.ev === 'audio' && e.endpoint === '0a' && e.session === 'rec')).toBe(true);
  });

  it('closes every session and port at shutdown, without waiting for the release delay', async () => {
    const { run, core, net } = setup();
    await run(open('s', 'a'));
    await run(open('t', 'a'));
    core.close();
    expect(net.boundPorts).toEqual([]);
    expect(core.status()).toMatchObject({ sessions: 0, portPairsInUse: 0 });
  });
});
