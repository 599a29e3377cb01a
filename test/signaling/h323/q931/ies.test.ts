/**
 * The IE contents of q931/ies.ts (and the ones q931.ts builds): known octets, read back, what
 * tshark makes of each inside a Q.931 message, and readers that give undefined, never throw, on
 * a peer's garbage.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CAUSE, causeName } from '../../../../signaling/h323/q931/causes.ts';
import {
  bearerCapabilityIe,
  hasSendingComplete,
  keypadFacilityIe,
  LAYER1_PROTOCOL,
  notificationIndicatorIe,
  NOTIFICATION,
  partyNumberDetailsIe,
  PROGRESS,
  progressIndicatorIe,
  readBearerCapability,
  readCallState,
  readCauseDetails,
  readKeypadFacility,
  readNotificationIndicator,
  readPartyNumberDetails,
  readProgressIndicator,
  readSignal,
  SENDING_COMPLETE,
  SIGNAL,
  signalIe,
  TRANSFER_CAPABILITY,
  TRANSFER_RATE,
} from '../../../../signaling/h323/q931/ies.ts';
import { BEARER_H323, callStateIe, causeIe, decodeQ931, displayIe, encodeQ931, FACILITY_EMPTY, IE, ieOf, Q931_TYPE, Q931Error, readUserUser, userUserIe } from '../../../../signaling/h323/q931/q931.ts';
import type { Q931Ie } from '../../../../signaling/h323/q931/q931.ts';
import { encodeTpkt } from '../../../../signaling/h323/q931/tpkt.ts';
import { decodeWithTshark, fieldValue, fieldValues } from '../../../support/tshark-oracle.ts';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
// The hand-encoded Facility checked with tshark for the H.323 edge (empty body, h245Tunnelling TRUE, a tunnelled user-input signal).
const FACILITY = hex('08020001 62 1c00 7e0013 05 2810 0100 10c0 0180 09 01 07 6d81 04 46a00063');

/** The octets of one IE as a message carries it. */
function wire(ie: Q931Ie): Buffer {
  return encodeQ931({ callReference: 1, fromDestination: false, type: Q931_TYPE.setup, ies: [ie] }).subarray(5);
}

function toTshark(messages: Buffer[]): ReturnType<typeof decodeWithTshark> {
  return decodeWithTshark(messages.map((m, i) => ({ payload: encodeTpkt(m), srcPort: i % 2 === 0 ? 40000 : 1720, dstPort: i % 2 === 0 ? 1720 : 40000 })));
}

describe('Q.931 IE contents for H.225.0', () => {
  it('builds the Bearer capability H.323 stacks send in Setup and reads any', () => {
    expect(wire(bearerCapabilityIe())).toEqual(hex('04 03 88 93 a5'));
    expect(wire(BEARER_H323)).toEqual(hex('04 03 88 90 a5'));
    expect(readBearerCapability(bearerCapabilityIe())).toEqual({
      codingStandard: 0,
      transferCapability: TRANSFER_CAPABILITY.unrestrictedDigital,
      transferMode: 0,
      transferRate: TRANSFER_RATE.kbit384,
      layer1Protocol: LAYER1_PROTOCOL.h221,
    });
    const multirate = bearerCapabilityIe({ transferRate: TRANSFER_RATE.multirate, rateMultiplier: 30 });
    expect(wire(multirate)).toEqual(hex('04 04 88 98 9e a5'));
    expect(readBearerCapability(multirate)).toMatchObject({ transferRate: TRANSFER_RATE.multirate, rateMultiplier: 30, layer1Protocol: 5 });
    const speech = bearerCapabilityIe({ transferCapability: TRANSFER_CAPABILITY.speech, transferRate: TRANSFER_RATE.kbit64, layer1Protocol: LAYER1_PROTOCOL.g711Mu });
    expect(wire(speech)).toEqual(hex('04 03 80 90 a2'));
    expect(readBearerCapability(bearerCapabilityIe({ omitLayer1: true }))).not.toHaveProperty('layer1Protocol');
    expect(readBearerCapability({ code: IE.bearerCapability, data: hex('88') })).toBeUndefined();
    expect(() => bearerCapabilityIe({ transferRate: 32 })).toThrow(Q931Error);
  });

  it('writes cause 16 as 08 02 80 90, reads location, octet 3a and diagnostics, and names the causes it uses', () => {
    expect(wire(causeIe(CAUSE.normalClearing))).toEqual(hex('08 02 80 90'));
    expect(readCauseDetails(causeIe(16))).toEqual({ codingStandard: 0, location: 0, value: 16, diagnostics: Buffer.alloc(0) });
    expect(readCauseDetails({ code: IE.cause, data: hex('02 80 e1 7b') })).toEqual({ codingStandard: 0, location: 2, recommendation: 0, value: 97, diagnostics: hex('7b') });
    expect(readCauseDetails({ code: IE.cause, data: hex('02 80') })).toBeUndefined();
    const used = [1, 16, 17, 18, 19, 21, 27, 28, 31, 34, 38, 41, 42, 47, 58, 63, 65, 79, 88, 95, 96, 97, 98, 100, 101, 102, 111, 127];
    for (const c of used) expect(causeName(c)).toBeDefined();
    expect(causeName(CAUSE.userBusy)).toBe('userBusy');
    expect(causeName(126)).toBeUndefined();
  });

  it('reads back what it builds: progress, call state, notification, signal, keypad, party numbers, sending complete', () => {
    expect(wire(progressIndicatorIe())).toEqual(hex('1e 02 80 88'));
    expect(readProgressIndicator(progressIndicatorIe(PROGRESS.interworking, 2))).toEqual({ codingStandard: 0, location: 2, description: 5 });
    expect(readCallState(callStateIe(10))).toBe(10);
    expect(readNotificationIndicator(notificationIndicatorIe(NOTIFICATION.userResumed))).toBe(1);
    expect(readSignal(signalIe(SIGNAL.ringBackToneOn))).toBe(1);
    expect(readKeypadFacility(keypadFacilityIe('12#*'))).toBe('12#*');
    expect(readKeypadFacility({ code: IE.keypadFacility, data: Buffer.from('1a') })).toBe('1A');
    expect(readKeypadFacility({ code: IE.keypadFacility, data: Buffer.from('1x') })).toBeUndefined();
    expect(() => keypadFacilityIe('')).toThrow(Q931Error);
    expect(() => keypadFacilityIe('1'.repeat(33))).toThrow(Q931Error);
    const calling = partyNumberDetailsIe(IE.callingPartyNumber, { typeOfNumber: 2, numberingPlan: 1, presentation: 1, screening: 3, digits: '5551234' });
    expect(wire(calling)).toEqual(hex('6c 09 21 a3 35353531323334'));
    expect(readPartyNumberDetails(calling)).toEqual({ typeOfNumber: 2, numberingPlan: 1, presentation: 1, screening: 3, digits: '5551234' });
    const called = partyNumberDetailsIe(IE.calledPartyNumber, { typeOfNumber: 0, numberingPlan: 1, digits: '99*1#' });
    expect(wire(called)).toEqual(hex('70 06 81 39392a3123'));
    expect(readPartyNumberDetails(called)).toEqual({ typeOfNumber: 0, numberingPlan: 1, digits: '99*1#' });
    expect(() => partyNumberDetailsIe(IE.calledPartyNumber, { typeOfNumber: 0, numberingPlan: 1, digits: '12a' })).toThrow(Q931Error);
    expect(readPartyNumberDetails({ code: IE.calledPartyNumber, data: hex('01') })).toBeUndefined();
    expect(wire(SENDING_COMPLETE)).toEqual(hex('a1'));
    expect(hasSendingComplete(decodeQ931(encodeQ931({ callReference: 1, fromDestination: false, type: Q931_TYPE.setup, ies: [SENDING_COMPLETE, called] })).ies)).toBe(true);
  });

  it('says through tshark what each IE means, in messages tshark finds well formed', async () => {
    const uu = readUserUser(ieOf(decodeQ931(FACILITY), IE.userUser)) ?? Buffer.alloc(0);
    const setup = encodeQ931({
      callReference: 0x2345,
      fromDestination: false,
      type: Q931_TYPE.setup,
      ies: [
        userUserIe(uu),
        partyNumberDetailsIe(IE.calledPartyNumber, { typeOfNumber: 0, numberingPlan: 1, digits: '99*1#' }),
        partyNumberDetailsIe(IE.callingPartyNumber, { typeOfNumber: 2, numberingPlan: 1, presentation: 1, screening: 3, digits: '5551234' }),
        displayIe('Board Room'),
        bearerCapabilityIe(),
        SENDING_COMPLETE,
        keypadFacilityIe('42#'),
      ],
    });
    const alerting = encodeQ931({ callReference: 0x2345, fromDestination: true, type: Q931_TYPE.alerting, ies: [signalIe(SIGNAL.ringBackToneOn), progressIndicatorIe(), userUserIe(uu)] });
    const notify = encodeQ931({ callReference: 0x2345, fromDestination: false, type: Q931_TYPE.notify, ies: [notificationIndicatorIe(NOTIFICATION.userSuspended)] });
    const status = encodeQ931({ callReference: 0x2345, fromDestination: true, type: Q931_TYPE.status, ies: [causeIe(CAUSE.statusEnquiryResponse), callStateIe(10)] });
    const facility = encodeQ931({ callReference: 0x2345, fromDestination: true, type: Q931_TYPE.facility, ies: [FACILITY_EMPTY, userUserIe(uu)] });
    const release = encodeQ931({ callReference: 0x2345, fromDestination: true, type: Q931_TYPE.releaseComplete, ies: [causeIe(CAUSE.normalClearing)] });
    const [s, al, n, st, fa, rc] = await toTshark([setup, alerting, notify, status, facility, release]);
    for (const p of [s, al, n, st, fa, rc]) expect(p?.errors).toEqual([]);
    for (const p of [s, al, n, st, fa, rc]) expect(p?.malformed).toBe(false);

    expect(fieldValue(s, 'q931.message_type')).toBe('0x05');
    expect(fieldValue(s, 'q931.call_ref')).toBe('23:45');
    expect(fieldValues(s, 'q931.information_element')).toEqual(['4', '40', '44', '108', '112', '126']);
    expect(fieldValue(s, 'q931.information_transfer_capability')).toBe('0x08');
    expect(fieldValue(s, 'q931.information_transfer_rate')).toBe('0x13');
    expect(fieldValue(s, 'q931.uil1')).toBe('0x05');
    expect(fieldValue(s, 'q931.display_information')).toBe('Board Room');
    expect(fieldValue(s, 'q931.keypad_facility')).toBe('42#');
    expect(fieldValue(s, 'q931.calling_party_number.digits')).toBe('5551234');
    expect(fieldValue(s, 'q931.called_party_number.digits')).toBe('99*1#');
    expect(fieldValues(s, 'q931.number_type')).toEqual(['0x02', '0x00']);
    expect(fieldValue(s, 'q931.presentation_ind')).toBe('0x01');
    expect(fieldValue(s, 'q931.screening_ind')).toBe('0x03');
    expect(fieldValues(s, 'q931.sending_complete')).toHaveLength(1);
    expect(fieldValue(s, 'q931.user.protocol_discriminator')).toBe('0x05');
    expect(fieldValue(s, 'h225.h245Tunnelling')).toBe('1');

    expect(fieldValue(al, 'q931.call_ref_flag')).toBe('1');
    expect(fieldValue(al, 'q931.signal')).toBe('0x01');
    expect(fieldValue(al, 'q931.progress_indicator.description')).toBe('0x08');
    expect(fieldValue(n, 'q932.nd')).toBe('0x00');
    expect(fieldValue(st, 'q931.cause_value')).toBe('30');
    expect(fieldValue(st, 'q931.call_state')).toBe('0x0a');
    expect(fieldValue(fa, 'q932.ie.type')).toBe('0x1c');
    expect(fieldValue(fa, 'q932.ie.len')).toBe('0');
    expect(fieldValues(fa, 'h245.signalType')).toEqual(['5']);
    expect(fieldValue(rc, 'q931.cause_value')).toBe('16');
    expect(fieldValue(rc, 'q931.cause_location')).toBe('0');
  });

  it('readers take any contents without throwing', () => {
    const readers: [number, (ie: Q931Ie) => unknown][] = [
      [IE.bearerCapability, readBearerCapability],
      [IE.cause, readCauseDetails],
      [IE.progressIndicator, readProgressIndicator],
      [IE.callState, readCallState],
      [IE.notificationIndicator, readNotificationIndicator],
      [IE.signal, readSignal],
      [IE.keypadFacility, readKeypadFacility],
      [IE.callingPartyNumber, readPartyNumberDetails],
      [IE.calledPartyNumber, readPartyNumberDetails],
    ];
    fc.assert(
      fc.property(fc.constantFrom(...readers), fc.uint8Array({ maxLength: 255 }), ([code, read], bytes) => {
        read({ code, data: Buffer.from(bytes) });
        // An IE of another code is not read as this one.
        expect(read({ code: code ^ 0x01, data: Buffer.from(bytes) })).toBeUndefined();
      }),
      { numRuns: 3000 },
    );
  });
});
