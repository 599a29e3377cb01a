import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BEARER_H323,
  causeIe,
  decodeQ931,
  displayIe,
  encodeQ931,
  FACILITY_EMPTY,
  IE,
  ieOf,
  messageName,
  partyNumberIe,
  Q931_TYPE,
  Q931Error,
  readCause,
  readDisplay,
  readPartyNumber,
  readUserUser,
  userUserIe,
} from '../../../../signaling/h323/q931/q931.ts';
import { encodeTpkt } from '../../../../signaling/h323/q931/tpkt.ts';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
// The two hand-encoded PDUs checked with tshark for the H.323 edge (GUID of the first zeroed here).
const RELEASE = hex('080280015a 08028090 7e0023 05 25c0 06 0008914a0004 588800 11 00 00000000000000000000000000000000 1080 0100');
const FACILITY = hex('08020001 62 1c00 7e0013 05 2810 0100 10c0 0180 09 01 07 6d81 04 46a00063');

/** The Q.931 fields tshark shows for TPKT payloads sent to TCP 1720. */
function tsharkQ931(payloads: Buffer[]): { fields: Record<string, string[]>; malformed: boolean }[] {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'q931-'));
  try {
    const text = payloads.map((p) => `000000 ${[...encodeTpkt(p)].map((b) => b.toString(16).padStart(2, '0')).join(' ')}\n`).join('');
    writeFileSync(path.join(dir, 'in.txt'), text);
    execFileSync('text2pcap', ['-q', '-T', '40000,1720', path.join(dir, 'in.txt'), path.join(dir, 'in.pcap')], { stdio: 'ignore' });
    const out = execFileSync('tshark', ['-r', path.join(dir, 'in.pcap'), '-T', 'ek', '-o', 'tcp.desegment_tcp_streams:FALSE'], { encoding: 'utf8', env: { ...process.env, HOME: dir } });
    return out
      .split('\n')
      .filter((l) => l.startsWith('{"timestamp'))
      .map((l) => {
        const flat: Record<string, string[]> = {};
        const walk = (o: unknown): void => {
          if (o === null || typeof o !== 'object') return;
          for (const [k, v] of Object.entries(o)) {
            if (Array.isArray(v)) flat[k] = [...(flat[k] ?? []), ...v.map(String)];
            else if (typeof v === 'object') walk(v);
            else flat[k] = [...(flat[k] ?? []), String(v)];
          }
        };
        walk(JSON.parse(l));
        return { fields: flat, malformed: Object.keys(flat).some((k) => k.includes('malformed')) };
      });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('Q.931 in the H.225.0 profile', () => {
  it('reads the checked ReleaseComplete and Facility: flag, CRV, IEs, the User-user PER', () => {
    const rc = decodeQ931(RELEASE);
    expect(rc).toMatchObject({ callReference: 1, fromDestination: true, type: Q931_TYPE.releaseComplete });
    expect(messageName(rc.type)).toBe('releaseComplete');
    expect(readCause(ieOf(rc, IE.cause))).toBe(16);
    expect(readUserUser(ieOf(rc, IE.userUser))?.subarray(0, 2)).toEqual(hex('25c0'));
    const f = decodeQ931(FACILITY);
    expect(f).toMatchObject({ callReference: 1, fromDestination: false, type: Q931_TYPE.facility });
    expect(ieOf(f, IE.facility)?.data.length).toBe(0);
    expect(encodeQ931(rc)).toEqual(RELEASE);
    expect(encodeQ931(f)).toEqual(FACILITY);
  });

  it('writes IEs in ascending order and what it writes tshark reads as intended, without a malformed field', () => {
    const setup = encodeQ931({
      callReference: 0x1234,
      fromDestination: false,
      type: Q931_TYPE.setup,
      ies: [userUserIe(readUserUser(ieOf(decodeQ931(FACILITY), IE.userUser)) ?? Buffer.alloc(0)), partyNumberIe(IE.calledPartyNumber, '1234567890'), displayIe('Room 1\u0007'), partyNumberIe(IE.callingPartyNumber, '+15551234567'), BEARER_H323],
    });
    const back = decodeQ931(setup);
    expect(back.ies.map((ie) => ie.code)).toEqual([IE.bearerCapability, IE.display, IE.callingPartyNumber, IE.calledPartyNumber, IE.userUser]);
    expect(readDisplay(ieOf(back, IE.display))).toBe('Room 1');
    expect(readPartyNumber(ieOf(back, IE.calledPartyNumber))).toBe('1234567890');
    expect(readPartyNumber(ieOf(back, IE.callingPartyNumber))).toBe('+15551234567');
    const rc = encodeQ931({ callReference: 0x1234, fromDestination: true, type: Q931_TYPE.releaseComplete, ies: [causeIe(21)] });
    const facility = encodeQ931({ callReference: 7, fromDestination: true, type: Q931_TYPE.facility, ies: [FACILITY_EMPTY, userUserIe(readUserUser(ieOf(decodeQ931(FACILITY), IE.userUser)) ?? Buffer.alloc(0))] });
    const [s, r, fa] = tsharkQ931([setup, rc, facility]);
    expect(s?.malformed).toBe(false);
    expect(s?.fields['q931_q931_message_type']).toEqual(['0x05']);
    expect(s?.fields['q931_q931_information_element']).toEqual(['4', '40', '108', '112', '126']);
    expect(s?.fields['q931_q931_called_party_number_digits']).toEqual(['1234567890']);
    expect(s?.fields['q931_q931_calling_party_number_digits']).toEqual(['15551234567']);
    expect(s?.fields['q931_q931_display_information']).toEqual(['Room 1']);
    expect(s?.fields['q931_q931_information_transfer_capability']).toEqual(['0x08']);
    expect(s?.fields['q931_q931_information_transfer_rate']).toEqual(['0x10']);
    expect(s?.fields['q931_q931_number_type']).toEqual(['0x01', '0x00']);
    expect(r?.malformed).toBe(false);
    expect(r?.fields['q931_q931_cause_value']).toEqual(['21']);
    expect(r?.fields['q931_q931_call_ref_flag']).toEqual(['true']);
    expect(fa?.malformed).toBe(false);
    expect(fa?.fields['q931_q931_message_type']).toEqual(['0x62']);
    expect(fa?.fields['h225_h225_h245Tunnelling']).toEqual(['true']);
  });

  it('refuses truncation, a foreign discriminator, a one-octet call reference and IEs past the end with Q931Error only', () => {
    expect(() => decodeQ931(hex('0802'))).toThrow(Q931Error);
    expect(() => decodeQ931(hex('09020001 62'))).toThrow(/discriminator/);
    expect(() => decodeQ931(hex('080101 62 00'))).toThrow(/call reference/);
    expect(() => decodeQ931(hex('08020001 62 28 05 41'))).toThrow(/runs past/);
    expect(() => decodeQ931(hex('08020001 62 7e 00'))).toThrow(/User-user/);
    expect(() => decodeQ931(Buffer.concat([hex('08020001 62'), Buffer.alloc(65 * 2, 0)]))).toThrow(/more than 64/);
    const seeds = [RELEASE, FACILITY];
    fc.assert(
      fc.property(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }), fc.nat(), (seed, flips, cut) => {
        const b = Buffer.from(seed);
        for (const [i, v] of flips) b[i % b.length] = v;
        const m = b.subarray(0, cut % (b.length + 1));
        try {
          const d = decodeQ931(m);
          expect(decodeQ931(encodeQ931(d))).toEqual({ ...d, ies: [...d.ies].sort((x, y) => x.code - y.code) });
        } catch (e) {
          expect(e).toBeInstanceOf(Q931Error);
        }
      }),
      { numRuns: 5000 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        try {
          decodeQ931(Buffer.from(bytes));
        } catch (e) {
          expect(e).toBeInstanceOf(Q931Error);
        }
      }),
      { numRuns: 5000 },
    );
  });
});

describe('Q.931 round trips', () => {
  it('keeps unknown message types, single-octet IEs (shift, sending complete) and a User-user IE over 255 octets', () => {
    const m = {
      callReference: 0x7fff,
      fromDestination: true,
      type: 0x4f,
      ies: [
        { code: 0x96, data: Buffer.alloc(0) },
        { code: IE.sendingComplete, data: Buffer.alloc(0) },
        { code: IE.userUser, data: Buffer.alloc(300, 5) },
        { code: 0x01, data: Buffer.from([1, 2]) },
      ],
    };
    const bytes = encodeQ931(m);
    expect(bytes.subarray(0, 5)).toEqual(hex('0802ffff4f'));
    const back = decodeQ931(bytes);
    expect(messageName(back.type)).toBeUndefined();
    expect(back.ies.map((ie) => ie.code)).toEqual([0x01, 0x7e, 0x96, 0xa1]);
    expect(bytes.subarray(9, 12)).toEqual(hex('7e012c'));
    expect(decodeQ931(encodeQ931(back))).toEqual(back);
  });

  it('decodes what it encodes for any call reference, type and IEs', () => {
    const ie = fc.oneof(
      fc.integer({ min: 0x80, max: 0xff }).map((code) => ({ code, data: Buffer.alloc(0) })),
      fc.tuple(fc.integer({ min: 0, max: 0x7d }), fc.uint8Array({ maxLength: 255 })).map(([code, d]) => ({ code, data: Buffer.from(d) })),
      fc.uint8Array({ maxLength: 1000 }).map((d) => ({ code: IE.userUser, data: Buffer.from(d) })),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0x7fff }), fc.boolean(), fc.integer({ min: 0, max: 0x7f }), fc.array(ie, { maxLength: 64 }), (callReference, fromDestination, type, ies) => {
        const back = decodeQ931(encodeQ931({ callReference, fromDestination, type, ies }));
        expect(back).toEqual({ callReference, fromDestination, type, ies: [...ies].sort((a, b) => a.code - b.code) });
      }),
      { numRuns: 1000 },
    );
  });
});
