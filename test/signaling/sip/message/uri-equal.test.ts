import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sameRequestUri } from '../../../../signaling/sip/message/uri-equal.ts';

const R = 'sip:+14155550123@vc.voiceconnector.carillon.local';

describe('digest uri against the Request-URI (RFC 3261 §19.1.4)', () => {
  it.each([
    [R, R, true],
    [` ${R} `, R, true],
    ['SIP:+14155550123@VC.VoiceConnector.Carillon.Local', R, true],
    [`${R};transport=udp`, R, true],
    [`${R};transport=UDP`, `${R};transport=udp`, true],
    ['sip:%2B14155550123@vc.voiceconnector.carillon.local', R, false],
    ['sip:%61lice@vc.voiceconnector.carillon.local', 'sip:alice@vc.voiceconnector.carillon.local', true],
    ['sip:+14155550199@vc.voiceconnector.carillon.local', R, false],
    ['sip:+14155550123@other.voiceconnector.carillon.local', R, false],
    ['sip:PBX@vc.voiceconnector.carillon.local', 'sip:pbx@vc.voiceconnector.carillon.local', false],
    [`sips:+14155550123@vc.voiceconnector.carillon.local`, R, false],
    ['sip:+14155550123@vc.voiceconnector.carillon.local:5060', R, false],
    ['sip:+14155550123@vc.voiceconnector.carillon.local:5060', 'sip:+14155550123@vc.voiceconnector.carillon.local:5060', true],
    [`${R};user=phone`, R, false],
    [`${R};maddr=192.0.2.1`, R, false],
    [`${R};transport=tcp`, `${R};transport=udp`, false],
    [`${R}?x-a=1&x-b=2`, `${R}?x-b=2&x-a=1`, true],
    [`${R}?x-a=1`, R, false],
    ['sip:127.0.0.1:5060', R, false],
    ['tel:+14155550123', 'tel:+14155550123', true],
    ['tel:+14155550123;phone-context=x', 'tel:+14155550123', false],
    ['tel:+14155550123', R, false],
    ['', R, false],
    ['not a uri', R, false],
  ])('%s vs %s → %s', (digestUri, requestUri, same) => {
    expect(sameRequestUri(digestUri, requestUri)).toBe(same);
    expect(sameRequestUri(requestUri, digestUri)).toBe(same);
  });

  it('never throws on any text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), fc.constantFrom(R, 'tel:+1', 'x'), (a, b) => {
        sameRequestUri(a, b);
        expect(sameRequestUri(a, a)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});
