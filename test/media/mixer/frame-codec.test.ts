import { describe, expect, it } from 'vitest';
import { G722Decoder, G722Encoder } from '../../../media/codecs/g722.ts';
import { BRIDGE_FRAME_SAMPLES, bridgeCodec } from '../../../media/mixer/frame-codec.ts';
import type { BridgeCodec } from '../../../media/mixer/frame-codec.ts';
import { goertzel } from '../../support/goertzel.ts';

const N = BRIDGE_FRAME_SAMPLES;

function codec(name: string): BridgeCodec {
  const c = bridgeCodec(name);
  if (c === undefined) throw new Error(`no bridge codec ${name}`);
  return c;
}

function tone(hz: number, frame: number, amplitude = 6000): Int16Array {
  const out = new Int16Array(N);
  for (let i = 0; i < N; i++) out[i] = Math.round(amplitude * Math.sin((2 * Math.PI * hz * (frame * N + i)) / 16000));
  return out;
}

describe('bridge codecs', () => {
  it('registers PCMU, PCMA, G722 and OPUS under their rtpmap names (any case), with their RTP clocks', () => {
    expect(bridgeCodec('g722')?.name).toBe('G722');
    expect(bridgeCodec('opus')?.name).toBe('OPUS');
    expect(bridgeCodec('G729')).toBeUndefined();
    const g722 = codec('G722');
    expect([g722.rtpClockRate, g722.timestampPerFrame, g722.maxPayloadBytes]).toEqual([8000, 160, 320]);
    const opus = codec('OPUS');
    expect([opus.rtpClockRate, opus.timestampPerFrame, opus.maxPayloadBytes]).toEqual([48000, 960, 400]);
  });

  for (const name of ['PCMU', 'PCMA', 'G722', 'OPUS']) {
    it(`${name}: a 20 ms frame encodes and decodes back to the tone at its level`, () => {
      const c = codec(name);
      const enc = c.createEncoder();
      const dec = c.createDecoder();
      const payload = new Uint8Array(c.maxPayloadBytes);
      const out = new Int16Array(N);
      for (let k = 0; k < 20; k++) {
        const len = enc.encode(tone(800, k), payload);
        expect(len).toBeGreaterThan(0);
        expect(len).toBeLessThanOrEqual(c.maxPayloadBytes);
        dec.decode(payload, len, out);
      }
      expect(goertzel(out, 800, 16000)).toBeGreaterThan(0.8 * 6000);
      expect(goertzel(out, 800, 16000)).toBeLessThan(1.2 * 6000);
      expect(dec.malformed).toBe(0);
    });
  }

  it('G722 takes 40 ms payloads and plays their first 20 ms; a short one is padded with silence', () => {
    const pcm = new Int16Array(2 * N);
    pcm.set(tone(500, 0));
    pcm.set(tone(500, 1), N);
    const octets = new Uint8Array(2 * 160);
    new G722Encoder().encode(pcm, octets);
    const expected = new Int16Array(N);
    new G722Decoder().decode(octets, 160, expected);
    const out = new Int16Array(N);
    codec('G722').createDecoder().decode(octets, 320, out);
    expect(Array.from(out)).toEqual(Array.from(expected));
    codec('G722').createDecoder().decode(octets, 10, out);
    expect(out.subarray(20).every((v) => v === 0)).toBe(true);
  });

  it('G722 conceals a lost frame from its decoded history (pitch repetition at 16 kHz)', () => {
    const c = codec('G722');
    const enc = c.createEncoder();
    const dec = c.createDecoder();
    const payload = new Uint8Array(320);
    const out = new Int16Array(N);
    for (let k = 0; k < 10; k++) dec.decode(payload, enc.encode(tone(400, k), payload), out);
    dec.conceal(out);
    expect(goertzel(out, 400, 16000)).toBeGreaterThan(0.6 * 6000);
  });

  it('G722: a receiver moved to an encoder that continued from the one it heard decodes on in sync', () => {
    const c = codec('G722');
    // `shared` and then `own` carry a 700 Hz tone to the receiver; `twin` carries the same tone
    // all along from one encoder, and `twinEar` decodes it: the seamless reference.
    const run = (handOver: boolean): { heard: Int16Array[]; reference: Int16Array[] } => {
      const shared = c.createEncoder();
      const own = c.createEncoder();
      const twin = c.createEncoder();
      const ear = c.createDecoder();
      const twinEar = c.createDecoder();
      const payload = new Uint8Array(320);
      const scratch = new Int16Array(N);
      for (let k = 0; k < 30; k++) {
        ear.decode(payload, shared.encode(tone(700, k), payload), scratch);
        twinEar.decode(payload, twin.encode(tone(700, k), payload), scratch);
        own.encode(tone(1300, k), payload); // some other mix until now
      }
      if (handOver) own.continueFrom?.(shared);
      const result = { heard: [] as Int16Array[], reference: [] as Int16Array[] };
      for (let k = 30; k < 40; k++) {
        const a = new Int16Array(N);
        const b = new Int16Array(N);
        ear.decode(payload, own.encode(tone(700, k), payload), a);
        twinEar.decode(payload, twin.encode(tone(700, k), payload), b);
        result.heard.push(a);
        result.reference.push(b);
      }
      return result;
    };
    const withHandOver = run(true);
    for (let k = 0; k < 10; k++) expect(Array.from(withHandOver.heard[k] ?? [])).toEqual(Array.from(withHandOver.reference[k] ?? []));
    const without = run(false);
    expect(Array.from(without.heard[2] ?? [])).not.toEqual(Array.from(without.reference[2] ?? []));
  });

  it('OPUS counts malformed payloads on the frame decoder and conceals them', () => {
    const c = codec('OPUS');
    const dec = c.createDecoder();
    const out = new Int16Array(N).fill(1);
    dec.decode(Uint8Array.of(0x4b, 0x00), 2, out);
    expect(dec.malformed).toBe(1);
    expect(out.every((v) => v === 0)).toBe(true);
  });
});
