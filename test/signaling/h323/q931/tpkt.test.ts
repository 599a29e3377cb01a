import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeTpkt, TpktReader } from '../../../../signaling/h323/q931/tpkt.ts';

function readAll(reader: TpktReader, chunks: Buffer[]) {
  const frames: Buffer[] = [];
  let keepalives = 0;
  let error: string | undefined;
  for (const c of chunks) {
    const r = reader.push(c);
    frames.push(...r.frames);
    keepalives += r.keepalives;
    error ??= r.error;
  }
  return { frames, keepalives, error };
}

describe('TPKT', () => {
  it('frames a payload with its length including the header', () => {
    expect(encodeTpkt(Buffer.from([8, 2, 0x80, 1, 0x5a]))).toEqual(Buffer.from([3, 0, 0, 9, 8, 2, 0x80, 1, 0x5a]));
    expect(() => encodeTpkt(Buffer.alloc(65_532))).toThrow(RangeError);
  });

  it('reads the same frames however the stream is cut, keep-alives counted apart, a non-zero reserved octet tolerated', () => {
    const stream = Buffer.concat([encodeTpkt(Buffer.from('setup')), Buffer.from([3, 0, 0, 4]), Buffer.from([3, 0x5a, 0, 7, 1, 2, 3]), encodeTpkt(Buffer.alloc(3000, 7))]);
    for (let cut = 0; cut <= stream.length; cut++) {
      const r = readAll(new TpktReader(), [stream.subarray(0, cut), stream.subarray(cut)]);
      expect(r.error).toBeUndefined();
      expect(r.keepalives).toBe(1);
      expect(r.frames.map((f) => f.length)).toEqual([5, 3, 3000]);
    }
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 50 }), { maxLength: 200 }), (sizes) => {
        const chunks: Buffer[] = [];
        let at = 0;
        for (const n of sizes) {
          chunks.push(stream.subarray(at, at + n));
          at += n;
        }
        chunks.push(stream.subarray(at));
        const r = readAll(new TpktReader(), chunks);
        expect(r.frames.map((f) => f.toString('latin1'))).toEqual(['setup', '\u0001\u0002\u0003', Buffer.alloc(3000, 7).toString('latin1')]);
      }),
    );
  });

  it('ends the stream on a wrong version, a length below 4 or above the bound, and takes nothing after', () => {
    expect(readAll(new TpktReader(), [Buffer.from('INVITE ')]).error).toMatch(/version/);
    expect(readAll(new TpktReader(), [Buffer.from([3, 0, 0, 2])]).error).toMatch(/length 2/);
    const big = new TpktReader(100);
    expect(big.push(Buffer.from([3, 0, 0, 105])).error).toMatch(/exceeds 100/);
    expect(big.push(encodeTpkt(Buffer.from('x'))).frames).toEqual([]);
    expect(big.partial).toBe(false);
  });

  it('never throws on random bytes and never holds more than one bounded frame', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }), (chunks) => {
        const r = new TpktReader(512);
        for (const c of chunks) {
          const out = r.push(Buffer.from(c));
          for (const f of out.frames) expect(f.length).toBeLessThanOrEqual(512);
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe('TPKT cut into three', () => {
  it('reads the same frames for every pair of cut points and octet by octet', () => {
    const stream = Buffer.concat([Buffer.from([3, 0, 0, 4]), encodeTpkt(Buffer.from('ab')), Buffer.from([3, 0, 0, 4]), encodeTpkt(Buffer.from('cdefg'))]);
    for (let i = 0; i <= stream.length; i++) {
      for (let j = i; j <= stream.length; j++) {
        const r = readAll(new TpktReader(), [stream.subarray(0, i), stream.subarray(i, j), stream.subarray(j)]);
        expect(r).toEqual({ frames: [Buffer.from('ab'), Buffer.from('cdefg')], keepalives: 2, error: undefined });
      }
    }
    const bytes = [...stream].map((b) => Buffer.from([b]));
    expect(readAll(new TpktReader(), bytes).frames).toEqual([Buffer.from('ab'), Buffer.from('cdefg')]);
  });

  it('takes a full-size H.245 frame when the bound allows it, and refuses it under the Q.931 default', () => {
    const big = encodeTpkt(Buffer.alloc(65_531, 1));
    const h245 = readAll(new TpktReader(65_531), [big.subarray(0, 1000), big.subarray(1000)]);
    expect(h245.frames.map((f) => f.length)).toEqual([65_531]);
    const q931 = new TpktReader();
    const r = q931.push(big.subarray(0, 4));
    expect(r.error).toMatch(/exceeds/);
    expect(q931.partial).toBe(false);
  });
});
