import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import type { MediaControl } from '../../../media/engine.ts';
import type { EndpointOptions, EndpointSnapshot, MediaEvent, MediaFunctionSpec, RemoteMedia, SessionSnapshot } from '../../../media/protocol.ts';
import { QualityLog } from '../../../media/quality/quality-log.ts';
import { MediaAnchoring } from '../../../signaling/calls/call-media.ts';
import { ManualTimers } from '../../support/manual-timers.ts';

/** A media plane in memory: records the commands, hands out port pairs from a fixed count. */
class FakeMedia implements MediaControl {
  readonly log: string[] = [];
  readonly #free: number[];
  readonly #sessions = new Map<string, Map<string, number>>();
  onEvent: ((e: MediaEvent) => void) | undefined;

  constructor(pairs: number) {
    this.#free = Array.from({ length: pairs }, (_, i) => 30000 + 2 * i);
  }

  get inUse(): number {
    let n = 0;
    for (const s of this.#sessions.values()) n += s.size;
    return n;
  }

  async openEndpoint(session: string, endpoint: string, opts: EndpointOptions): Promise<number | 'ports-exhausted'> {
    this.log.push(`open ${session} ${endpoint} ${opts.codec ?? '-'}${opts.remote === undefined ? '' : ' +remote'}${opts.functions === true ? ' +functions' : ''}`);
    const eps = this.#sessions.get(session) ?? new Map<string, number>();
    this.#sessions.set(session, eps);
    const have = eps.get(endpoint);
    if (have !== undefined) return have;
    const port = this.#free.shift();
    if (port === undefined) return 'ports-exhausted';
    eps.set(endpoint, port);
    return port;
  }
  async participant(session: string, endpoint: string): Promise<void> {
    this.log.push(`participant ${session} ${endpoint}`);
  }
  async play(session: string, endpoint: string | undefined): Promise<void> {
    this.log.push(`play ${session} ${endpoint ?? '*'}`);
  }
  async stopPlay(session: string, endpoint: string): Promise<void> {
    this.log.push(`stop-play ${session} ${endpoint}`);
  }
  async keyFrame(session: string, endpoint: string): Promise<void> {
    this.log.push(`key-frame ${session} ${endpoint}`);
  }
  async presenter(session: string, endpoint: string | null): Promise<void> {
    this.log.push(`presenter ${session} ${endpoint ?? '-'}`);
  }
  async moveEndpoint(session: string, endpoint: string, to: string): Promise<'moved'> {
    this.log.push(`move ${session} ${endpoint} ${to}`);
    return 'moved';
  }
  async updateEndpoint(session: string, endpoint: string, _remote: RemoteMedia): Promise<void> {
    this.log.push(`update ${session} ${endpoint}`);
  }
  async connect(session: string, a: string, b: string): Promise<void> {
    this.log.push(`connect ${session} ${a} ${b}`);
    const eps = this.#sessions.get(session);
    if (eps?.get(a) === undefined || eps.get(b) === undefined) throw new Error('no-such-endpoint');
  }
  async attach(session: string, endpoint: string, fn: MediaFunctionSpec): Promise<void> {
    this.log.push(`attach ${session} ${endpoint} ${fn.fn}`);
  }
  async record(session: string, fragmentMs: number): Promise<void> {
    this.log.push(`record ${session} ${fragmentMs}`);
  }
  async closeEndpoint(session: string, endpoint: string): Promise<EndpointSnapshot | undefined> {
    this.log.push(`close ${session} ${endpoint}`);
    const port = this.#sessions.get(session)?.get(endpoint);
    if (port !== undefined) {
      this.#sessions.get(session)?.delete(endpoint);
      this.#free.push(port);
    }
    return undefined;
  }
  async arm(): Promise<void> {}
  async delete(session: string): Promise<SessionSnapshot | undefined> {
    for (const port of this.#sessions.get(session)?.values() ?? []) this.#free.push(port);
    this.#sessions.delete(session);
    return undefined;
  }
  async query(): Promise<SessionSnapshot | undefined> {
    return undefined;
  }
}

const CTX = { voiceConnectorId: 'default', callId: 'c', fromUser: 'a', fromCountry: null, toUser: 'b', toCountry: null, endpointId: 'e', region: 'local', custSide: 'a' as const };
const HANDLERS = { onTimeout: () => undefined, onDtmf: () => undefined };

function sdp(port: number, payloads = '18 0'): Buffer {
  return Buffer.from(['v=0', 'o=x 1 1 IN IP4 192.0.2.9', 's=-', 'c=IN IP4 192.0.2.9', 't=0 0', `m=audio ${port} RTP/AVP ${payloads}`, 'a=rtpmap:18 G729/8000', 'a=rtpmap:0 PCMU/8000', ''].join('\r\n'));
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'carillon-ports-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function anchoring(
  media: FakeMedia,
  over: { maxPortPairsPerSource?: number; streamFragmentMs?: number; onOtherEvent?: (e: MediaEvent) => void; onAudio?: (session: string, index: number, side: string) => void } = {},
): MediaAnchoring {
  const clock = new ManualTimers();
  return new MediaAnchoring({
    control: media,
    address: '192.0.2.1',
    clock,
    timers: clock,
    logger: pino({ level: 'silent' }),
    qualityLog: new QualityLog(dir),
    qualityIntervalMs: 60_000,
    region: 'local',
    ...(over.maxPortPairsPerSource === undefined ? {} : { maxPortPairsPerSource: over.maxPortPairsPerSource }),
    ...(over.streamFragmentMs === undefined ? {} : { streamFragmentMs: () => over.streamFragmentMs }),
    ...(over.onOtherEvent === undefined ? {} : { onOtherEvent: over.onOtherEvent }),
    ...(over.onAudio === undefined ? {} : { onAudio: over.onAudio }),
  });
}

describe('media events', () => {
  it("routes a line's audio to onAudio and audio of no line (a recorded meeting's mix) to onOtherEvent", () => {
    const media = new FakeMedia(2);
    const other: MediaEvent[] = [];
    const lines: string[] = [];
    anchoring(media, { onOtherEvent: (e) => other.push(e), onAudio: (session, index, side) => lines.push(`${session} ${index}${side}`) });
    const pcm = new Int16Array(8);
    media.onEvent?.({ ev: 'audio', session: 's1', endpoint: '0b', timecodeMs: 1, pcm });
    media.onEvent?.({ ev: 'audio', session: 'mtg-1', endpoint: 'mix', timecodeMs: 2, pcm });
    expect(lines).toEqual(['s1 0b']);
    expect(other).toEqual([{ ev: 'audio', session: 'mtg-1', endpoint: 'mix', timecodeMs: 2, pcm }]);
  });
});

describe('CallMedia over the endpoint API', () => {
  it('opens a line as two endpoints with its codec, connects caller side to callee side, and taps both when streamed', async () => {
    const media = new FakeMedia(4);
    const a = anchoring(media, { streamFragmentMs: 100 });
    const m = a.open('s1', CTX, HANDLERS);
    expect((await m.translate('a', sdp(4000), 'application/sdp', 'offer')).ok).toBe(true);
    expect(media.log).toEqual(['open s1 0a G729 +remote +functions', 'open s1 0b G729 +functions', 'connect s1 0a 0b', 'attach s1 0a tap', 'attach s1 0b tap']);
    // The answer from b updates b's endpoint.
    expect((await m.translate('b', sdp(5000), 'application/sdp', 'answer')).ok).toBe(true);
    expect(media.log.at(-1)).toBe('update s1 0b');
    await m.close();
    expect(media.inUse).toBe(0);
  });

  it('holds each source to its share of port pairs, and gives them back when a call ends', async () => {
    const media = new FakeMedia(16);
    const a = anchoring(media, { maxPortPairsPerSource: 2 });
    const first = a.open('s1', CTX, HANDLERS, '192.0.2.9');
    expect((await first.translate('a', sdp(4000), 'application/sdp', 'offer')).ok).toBe(true);
    expect(a.pairsHeldBy('192.0.2.9')).toBe(2);
    const second = a.open('s2', CTX, HANDLERS, '192.0.2.9');
    expect(await second.translate('a', sdp(4002), 'application/sdp', 'offer')).toEqual({ ok: false, status: 503, reason: 'Media Ports Exhausted For Source' });
    expect(a.counters.sourcePortLimit).toBe(1);
    // Another source is not held back by this one.
    const other = a.open('s3', CTX, HANDLERS, '198.51.100.7');
    expect((await other.translate('a', sdp(4004), 'application/sdp', 'offer')).ok).toBe(true);
    await first.close();
    expect(a.pairsHeldBy('192.0.2.9')).toBe(0);
    const third = a.open('s4', CTX, HANDLERS, '192.0.2.9');
    expect((await third.translate('a', sdp(4006), 'application/sdp', 'offer')).ok).toBe(true);
    for (const m of [second, other, third]) await m.close();
    expect(media.inUse).toBe(0);
  });

  it('answers 503 when the second endpoint of a line finds no ports, closing the first', async () => {
    const media = new FakeMedia(1);
    const a = anchoring(media);
    const m = a.open('s1', CTX, HANDLERS, '192.0.2.9');
    expect(await m.translate('a', sdp(4000), 'application/sdp', 'offer')).toEqual({ ok: false, status: 503, reason: 'Media Ports Exhausted' });
    expect(media.inUse).toBe(0);
    expect(a.pairsHeldBy('192.0.2.9')).toBe(0);
    await m.close();
  });
});
