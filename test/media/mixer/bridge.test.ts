import { describe, expect, it } from 'vitest';
import { ALAW_TO_LINEAR, LINEAR_TO_ALAW, LINEAR_TO_ULAW, ULAW_TO_LINEAR } from '../../../media/codecs/g711.ts';
import { Bridge } from '../../../media/mixer/bridge.ts';
import { goertzel } from '../../support/goertzel.ts';

interface Peer {
  readonly id: string;
  readonly pt: number;
  readonly hz: number;
  readonly amplitude: number;
  seq: number;
  readonly heard: number[];
}

function tonePayload(p: Peer, frame: number): Uint8Array {
  const enc = p.pt === 0 ? LINEAR_TO_ULAW : LINEAR_TO_ALAW;
  const out = new Uint8Array(160);
  for (let i = 0; i < 160; i++) {
    const v = Math.round(p.amplitude * Math.sin((2 * Math.PI * p.hz * (frame * 160 + i)) / 8000));
    out[i] = enc[v + 32768] ?? 0;
  }
  return out;
}

function meeting(peers: Peer[], ticks: number, options: { talkers?: number; mute?: (bridge: Bridge, tick: number) => void } = {}): { bridge: Bridge; shared: Map<string, Uint8Array[]> } {
  const shared = new Map<string, Uint8Array[]>();
  const byId = new Map(peers.map((p) => [p.id, p]));
  let tick = 0;
  const bridge = new Bridge({
    talkers: options.talkers ?? 3,
    onFrame: (id, payload, length, isShared) => {
      const peer = byId.get(id);
      if (peer === undefined) throw new Error(`frame for ${id}`);
      const dec = peer.pt === 0 ? ULAW_TO_LINEAR : ALAW_TO_LINEAR;
      for (let i = 0; i < length; i++) peer.heard.push(dec[payload[i] ?? 0] ?? 0);
      if (isShared) {
        const list = shared.get(String(tick)) ?? [];
        list.push(payload);
        shared.set(String(tick), list);
      }
    },
  });
  for (const p of peers) expect(bridge.join(p.id, codecOf(p.pt))).toBe('joined');
  for (tick = 0; tick < ticks; tick++) {
    options.mute?.(bridge, tick);
    for (const p of peers) {
      if (p.amplitude > 0 || p.seq >= 0) {
        const payload = tonePayload(p, tick);
        bridge.push(p.id, (p.seq = (p.seq + 1) & 0xffff), (tick * 160) >>> 0, 1000 + p.pt + p.hz, payload, payload.length, tick * 20);
      }
    }
    bridge.tick();
  }
  return { bridge, shared };
}

const codecOf = (pt: number): string => (pt === 0 ? 'PCMU' : 'PCMA');
const peer = (id: string, pt: number, hz: number, amplitude = 6000): Peer => ({ id, pt, hz, amplitude, seq: 65530, heard: [] });
const last = (p: Peer, ms: number): number[] => p.heard.slice(-ms * 8);

describe('Bridge', () => {
  it('three talkers (1 kHz, 600 Hz, 1.4 kHz): each hears the other two and not itself', () => {
    const peers = [peer('a', 0, 1000), peer('b', 8, 600), peer('c', 0, 1400)];
    const { bridge } = meeting(peers, 60);
    for (const p of peers) expect(bridge.isTalking(p.id)).toBe(true);
    for (const me of peers) {
      const heard = last(me, 400);
      for (const other of peers) {
        const level = goertzel(heard, other.hz, 8000);
        if (other === me) expect(level, `${me.id} hears itself`).toBeLessThan(60);
        else expect(level, `${me.id} hears ${other.id}`).toBeGreaterThan(4000);
      }
    }
  });

  it('listeners share one encoded payload per codec; only the K loudest are mixed', () => {
    const peers = [peer('loud', 0, 1000, 8000), peer('mid', 0, 600, 5000), peer('l1', 0, 1400, 0), peer('l2', 0, 1400, 0), peer('l3', 8, 1400, 0)];
    const { bridge, shared } = meeting(peers, 40, { talkers: 1 });
    expect(bridge.isTalking('loud')).toBe(true);
    expect(bridge.isTalking('mid')).toBe(false);
    const lastTick = shared.get('39') ?? [];
    // mid, l1, l2 on PCMU share one buffer; l3 on PCMA has the other.
    expect(lastTick.length).toBe(4);
    expect(lastTick[0]).toBe(lastTick[1]);
    expect(lastTick[1]).toBe(lastTick[2]);
    expect(new Set(lastTick).size).toBe(2);
    const l1 = peers[2];
    if (l1 === undefined) throw new Error('peer');
    expect(goertzel(last(l1, 300), 1000, 8000)).toBeGreaterThan(6000);
    expect(goertzel(last(l1, 300), 600, 8000)).toBeLessThan(60);
  });

  it('a muted participant is never mixed and still hears the others', () => {
    const peers = [peer('a', 0, 1000), peer('b', 0, 600), peer('c', 0, 1400)];
    const { bridge } = meeting(peers, 80, { mute: (b, t) => t === 0 && void b.mute('b', true) });
    expect(bridge.isMuted('b')).toBe(true);
    expect(bridge.isTalking('b')).toBe(false);
    const [a, b, c] = peers;
    if (a === undefined || b === undefined || c === undefined) throw new Error('peers');
    expect(goertzel(last(a, 400), 600, 8000)).toBeLessThan(60);
    expect(goertzel(last(c, 400), 600, 8000)).toBeLessThan(60);
    expect(goertzel(last(b, 400), 1000, 8000)).toBeGreaterThan(4000);
    expect(goertzel(last(b, 400), 1400, 8000)).toBeGreaterThan(4000);
  });

  it('summation saturates instead of wrapping', () => {
    const peers = [peer('a', 0, 500, 30000), peer('b', 0, 500, 30000), peer('c', 0, 500, 30000), peer('x', 0, 500, 0)];
    meeting(peers, 30);
    const x = peers[3];
    if (x === undefined) throw new Error('peer');
    const tail = last(x, 200);
    expect(Math.max(...tail)).toBeGreaterThan(30000);
    expect(goertzel(tail, 500, 8000)).toBeGreaterThan(25000); // clipped, not folded over
  });

  it('reports active-speaker changes', () => {
    const events: string[] = [];
    const bridge = new Bridge({ talkers: 1, onFrame: () => undefined, onSpeaker: (id, talking) => events.push(`${talking ? '+' : '-'}${id}`) });
    const a = peer('a', 0, 1000, 8000);
    bridge.join('a', 'PCMU');
    bridge.join('b', 'PCMU');
    for (let t = 0; t < 10; t++) {
      const payload = tonePayload(a, t);
      bridge.push('a', t, t * 160, 7, payload, 160, t * 20);
      bridge.tick();
    }
    expect(events).toEqual(['+a']);
    bridge.mute('a', true);
    bridge.tick();
    expect(events).toEqual(['+a', '-a']);
  });

  it('refuses duplicates, unknown codecs, a full meeting and packets from strangers', () => {
    const bridge = new Bridge({ capacity: 2, onFrame: () => undefined });
    expect(bridge.join('a', 'PCMU')).toBe('joined');
    expect(bridge.join('a', 'PCMU')).toBe('duplicate');
    expect(bridge.join('b', 'OPUS-X')).toBe('unsupported-codec');
    expect(bridge.join('b', 'PCMA')).toBe('joined');
    expect(bridge.join('c', 'PCMU')).toBe('full');
    expect(bridge.push('zz', 1, 0, 1, new Uint8Array(160), 160, 0)).toBe('unknown');
    expect(bridge.leave('a')).toBe(true);
    expect(bridge.join('c', 'PCMU')).toBe('joined');
    expect(bridge.size).toBe(2);
  });

  it('garbage RTP payloads from one participant disturb nobody else', () => {
    const peers = [peer('a', 0, 1000), peer('b', 0, 600)];
    const bridge = new Bridge({ onFrame: () => undefined });
    for (const p of peers) bridge.join(p.id, codecOf(p.pt));
    expect(bridge.push('a', 1, 0, 1, new Uint8Array(4000), 4000, 0)).toBe('refused');
    expect(bridge.push('a', -5, 0, 1, new Uint8Array(10), 10, 0)).toBe('refused');
    bridge.tick();
    expect(bridge.jitterStats('a')?.refused).toBe(2);
  });
});
