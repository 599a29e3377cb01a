import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { H323_UserInformation } from '../../../../signaling/h323/asn/h225.ts';
import { MultimediaSystemControlMessage } from '../../../../signaling/h323/asn/h245.ts';
import { decode, encode, PerError } from '../../../../signaling/h323/per/index.ts';
import type { Codec } from '../../../../signaling/h323/per/index.ts';
import { decodeQ931, IE, ieOf, readUserUser } from '../../../../signaling/h323/q931/q931.ts';
import { TpktReader } from '../../../../signaling/h323/q931/tpkt.ts';

interface Frame {
  readonly frame: number;
  readonly channel: 'q931' | 'h245';
  readonly kind: string;
  readonly tcpPayloadHex: string;
}
const fixture = JSON.parse(readFileSync(new URL('../../../fixtures/h323-endpoint/h323-capture.json', import.meta.url), 'utf8')) as { frames: Frame[] };

/** The PER payloads of each frame: the User-user PER of a Q.931 message, or each H.245 message. */
function payloads(f: Frame): Buffer[] {
  const { frames } = new TpktReader(65_531).push(Buffer.from(f.tcpPayloadHex, 'hex'));
  if (f.channel === 'h245') return [...frames];
  return frames.map((q) => readUserUser(ieOf(decodeQ931(q), IE.userUser)) ?? Buffer.alloc(0));
}

function roundTrip<T>(codec: Codec<T>, p: Buffer): void {
  const r = decode(codec, p);
  expect(r.ok).toBe(true);
  if (r.ok) expect(encode(codec, r.value).toString('hex')).toBe(p.toString('hex'));
}

describe('the generated codecs on a real H.323 call', () => {
  it('decode every H.225.0 and H.245 message of the capture to what tshark shows', () => {
    const kinds: string[] = [];
    for (const f of fixture.frames) {
      for (const p of payloads(f)) {
        if (f.channel === 'q931') {
          const r = decode(H323_UserInformation, p);
          expect(r.ok, `frame ${f.frame}: ${r.ok ? '' : r.error.message}`).toBe(true);
          if (!r.ok) continue;
          const body = r.value['h323-uu-pdu']['h323-message-body'];
          kinds.push(body.choice);
          if (body.choice === 'setup') {
            expect(body.value.protocolIdentifier).toEqual([0, 0, 8, 2250, 0, 4]);
            const src = body.value.sourceAddress?.[0];
            expect(src?.choice === 'h323-ID' ? src.value : undefined).toBe('m.jemec');
            expect(body.value.conferenceID.toString('hex')).toBe('f8fdf93ecd9ed6119ab2000476222017');
            expect(body.value.callIdentifier?.guid.toString('hex')).toBe('c0fef93ecd9ed6119ab2000476222017');
            expect(body.value.conferenceGoal.choice).toBe('create');
            expect(r.value['h323-uu-pdu'].h245Tunneling).toBe(false);
          }
        } else {
          const r = decode(MultimediaSystemControlMessage, p);
          expect(r.ok, `frame ${f.frame}: ${r.ok ? '' : r.error.message}`).toBe(true);
          if (!r.ok) continue;
          const m = r.value;
          kinds.push(m.choice === '$unknown' ? 'unknown' : `${m.choice}.${'value' in m && typeof m.value === 'object' && m.value !== null && 'choice' in m.value ? String(m.value.choice) : ''}`);
          if (m.choice === 'request' && m.value.choice === 'terminalCapabilitySet') expect(m.value.value.protocolIdentifier.slice(0, 5)).toEqual([0, 0, 8, 245, 0]);
          if (m.choice === 'request' && m.value.choice === 'openLogicalChannel') {
            const dt = m.value.value.forwardLogicalChannelParameters.dataType;
            expect(dt.choice === 'audioData' ? dt.value.choice : dt.choice).toBe('g711Alaw64k');
          }
        }
      }
    }
    expect(kinds).toEqual(expect.arrayContaining(['setup', 'callProceeding', 'alerting', 'connect', 'request.terminalCapabilitySet', 'request.masterSlaveDetermination', 'response.terminalCapabilitySetAck', 'response.masterSlaveDeterminationAck', 'request.openLogicalChannel', 'response.openLogicalChannelAck']));
  });

  it('re-encode each decoded message to the bytes it came as', () => {
    for (const f of fixture.frames) {
      for (const p of payloads(f)) {
        if (f.channel === 'q931') roundTrip(H323_UserInformation, p);
        else roundTrip(MultimediaSystemControlMessage, p);
      }
    }
  });

  it('refuse mutated frames with PerError only', () => {
    const seeds = fixture.frames.flatMap((f) => payloads(f).map((p) => ({ p, h245: f.channel === 'h245' })));
    fc.assert(
      fc.property(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), fc.nat(), (seed, flips, cut) => {
        const b = Buffer.from(seed.p);
        for (const [i, v] of flips) b[i % b.length] = v;
        const m = b.subarray(0, Math.max(1, cut % (b.length + 1)));
        const r = seed.h245 ? decode(MultimediaSystemControlMessage, m) : decode(H323_UserInformation, m);
        if (!r.ok) expect(r.error).toBeInstanceOf(PerError);
      }),
      { numRuns: 3000 },
    );
  });
});
