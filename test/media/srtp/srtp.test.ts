import crypto from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { counterIv, deriveKey, newMasterKey, parseCryptoAttribute, SrtpContext, writeCryptoAttribute } from '../../../media/srtp/srtp.ts';

const hex = (s: string): Buffer => Buffer.from(s, 'hex');

function rtp(seq: number, ssrc: number, payload: Buffer, ts = seq * 160): Buffer {
  const h = Buffer.alloc(12);
  h[0] = 0x80;
  h[1] = 0;
  h.writeUInt16BE(seq, 2);
  h.writeUInt32BE(ts >>> 0, 4);
  h.writeUInt32BE(ssrc, 8);
  return Buffer.concat([h, payload]);
}

describe('SRTP (RFC 3711)', () => {
  it('derives session keys as RFC 3711 B.3 lists them', () => {
    const master = { key: hex('E1F97A0D3E018BE0D64FA32C06DE4139'), salt: hex('0EC675AD498AFEEBB6960B3AABE6') };
    expect(deriveKey(master, 0, 16).toString('hex')).toBe('c61e7a93744f39ee10734afe3ff7a087');
    expect(deriveKey(master, 2, 14).toString('hex')).toBe('30cbbc08863d8c85d49db34a9ae1');
    expect(deriveKey(master, 1, 20).toString('hex')).toBe('cebe321f6ff7716b6fd4ab49af256a156d38baa4');
  });

  it('builds the counter as RFC 3711 B.2 does (salt · 2^16, SSRC, index)', () => {
    const iv = counterIv(hex('F0F1F2F3F4F5F6F7F8F9FAFBFCFD'), 0, 0);
    expect(iv.toString('hex')).toBe('f0f1f2f3f4f5f6f7f8f9fafbfcfd0000');
    const ks = crypto.createCipheriv('aes-128-ctr', hex('2B7E151628AED2A6ABF7158809CF4F3C'), iv).update(Buffer.alloc(48));
    expect(ks.toString('hex')).toBe('e03ead0935c95e80e166b16dd92b4eb4d23513162b02d0f72a43a2fe4a5f97ab41e95b3bb0a2e8dd477901e4fca894c0');
    // SSRC and index land in their own bytes.
    expect(counterIv(Buffer.alloc(14), 0x11223344, 0x0000_5566_7788).toString('hex')).toBe('00000000112233440000556677880000');
  });

  for (const suite of ['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32'] as const) {
    it(`${suite}: what one side protects the other reads back, across a sequence wrap; tampering and replays are refused`, () => {
      const master = newMasterKey();
      const tx = new SrtpContext(suite, master);
      const rx = new SrtpContext(suite, master);
      const tag = suite.endsWith('80') ? 10 : 4;
      for (let i = 0; i < 300; i++) {
        const seq = (65_400 + i) & 0xffff;
        const payload = crypto.randomBytes(160);
        const plain = rtp(seq, 0xabcdef01, payload);
        const wire = tx.protectRtp(plain) as Buffer;
        expect(wire.length).toBe(plain.length + tag);
        expect(wire.subarray(12, 172).equals(payload)).toBe(false);
        if (i === 150) {
          // A flipped bit fails authentication (and does not spend the packet's index).
          const bad = Buffer.from(wire);
          bad[20] = (bad[20] as number) ^ 1;
          expect(rx.unprotectRtp(bad)).toEqual({ ok: false, why: 'auth' });
        }
        const back = rx.unprotectRtp(wire);
        expect(back.ok && back.packet.equals(plain)).toBe(true);
        if (i === 150) expect(rx.unprotectRtp(wire)).toEqual({ ok: false, why: 'replay' });
      }
      const sr = Buffer.concat([Buffer.from([0x80, 200, 0, 6]), Buffer.from([0xab, 0xcd, 0xef, 0x01]), crypto.randomBytes(20)]);
      const srtcp = tx.protectRtcp(sr) as Buffer;
      expect(srtcp.length).toBe(sr.length + 4 + 10);
      const rtcpBack = rx.unprotectRtcp(srtcp);
      expect(rtcpBack.ok && rtcpBack.packet.equals(sr)).toBe(true);
      expect(rx.unprotectRtcp(srtcp)).toEqual({ ok: false, why: 'replay' });
    });
  }

  it('reads and writes a=crypto (RFC 4568), refusing suites and keys it cannot use', () => {
    const master = newMasterKey();
    const line = writeCryptoAttribute({ tag: 1, suite: 'AES_CM_128_HMAC_SHA1_80', master });
    const back = parseCryptoAttribute(line);
    expect(back?.suite).toBe('AES_CM_128_HMAC_SHA1_80');
    expect(back?.master.key.equals(master.key) && back.master.salt.equals(master.salt)).toBe(true);
    expect(parseCryptoAttribute(`${line}|2^31|1:1`)?.tag).toBe(1);
    expect(parseCryptoAttribute('1 AEAD_AES_256_GCM inline:AAAA')).toBeUndefined();
    expect(parseCryptoAttribute('1 AES_CM_128_HMAC_SHA1_80 inline:c2hvcnQ=')).toBeUndefined();
  });

  it('never throws on arbitrary packets or attributes', () => {
    const rx = new SrtpContext('AES_CM_128_HMAC_SHA1_80', newMasterKey());
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.string({ maxLength: 120 }), (bytes, attr) => {
        const b = Buffer.from(bytes);
        expect(rx.unprotectRtp(b).ok).toBe(false);
        expect(rx.unprotectRtcp(b).ok).toBe(false);
        parseCryptoAttribute(attr);
      }),
      { numRuns: 3000 },
    );
  });
});
