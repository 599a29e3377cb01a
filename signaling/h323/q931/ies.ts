/**
 * Contents of the Q.931 information elements H.225.0 calls carry, beyond the ones q931.ts
 * builds for the edge's own messages (User-user, a plain Cause, Display, party numbers, the
 * 64 kbit/s bearer, the empty Facility IE, Call state). Builders take Carillon's own values and
 * throw Q931Error('Q931_ENCODE') when those are out of range; readers take a peer's IE and give
 * undefined for contents they cannot read, never an exception. Codings: Q.931 §4.5 (octet
 * groups close with bit 8 set; an octet with bit 8 clear is followed by its "a" octet).
 */
import { IE, Q931Error } from './q931.ts';
import type { Q931Ie } from './q931.ts';

const EMPTY = Buffer.alloc(0);

function encodeError(message: string): Q931Error {
  return new Q931Error('Q931_ENCODE', message);
}

function checkField(name: string, value: number, max: number): number {
  if (!Number.isInteger(value) || value < 0 || value > max) throw encodeError(`${name} ${value} out of 0…${max}`);
  return value;
}

// ---- Bearer capability (0x04), Q.931 §4.5.5

/** Information transfer capability, octet 3 bits 5–1. */
export const TRANSFER_CAPABILITY = {
  speech: 0x00,
  unrestrictedDigital: 0x08,
  restrictedDigital: 0x09,
  audio3k1: 0x10,
  unrestrictedDigitalWithTones: 0x11,
  video: 0x18,
} as const;

/** Information transfer rate, octet 4 bits 5–1 (multirate carries a multiplier of 64 kbit/s in octet 4.1). */
export const TRANSFER_RATE = {
  kbit64: 0x10,
  kbit2x64: 0x11,
  kbit384: 0x13,
  kbit1536: 0x15,
  kbit1920: 0x17,
  multirate: 0x18,
} as const;

/** User information layer 1 protocol, octet 5 bits 5–1. */
export const LAYER1_PROTOCOL = {
  v110: 0x01,
  g711Mu: 0x02,
  g711A: 0x03,
  g721: 0x04,
  h221: 0x05,
} as const;

export interface BearerCapability {
  /** 0 ITU-T (CCITT), 1 ISO/IEC, 2 national, 3 network-specific. */
  readonly codingStandard: number;
  readonly transferCapability: number;
  /** 0 circuit mode, 2 packet mode. */
  readonly transferMode: number;
  readonly transferRate: number;
  /** Present with `transferRate` multirate: the number of 64 kbit/s channels. */
  readonly rateMultiplier?: number;
  /** User information layer 1 protocol, when octet 5 is present. */
  readonly layer1Protocol?: number;
}

/**
 * A Bearer capability IE; the defaults give what H.323 stacks put in Setup,
 * `04 03 88 93 A5`: unrestricted digital, circuit mode, 384 kbit/s, H.221/H.242 layer 1.
 */
export function bearerCapabilityIe(b: Partial<BearerCapability> & { readonly omitLayer1?: boolean } = {}): Q931Ie {
  const coding = checkField('coding standard', b.codingStandard ?? 0, 3);
  const capability = checkField('transfer capability', b.transferCapability ?? TRANSFER_CAPABILITY.unrestrictedDigital, 0x1f);
  const mode = checkField('transfer mode', b.transferMode ?? 0, 3);
  const rate = checkField('transfer rate', b.transferRate ?? TRANSFER_RATE.kbit384, 0x1f);
  const octets = [0x80 | (coding << 5) | capability, 0x80 | (mode << 5) | rate];
  if (rate === TRANSFER_RATE.multirate) octets.push(0x80 | checkField('rate multiplier', b.rateMultiplier ?? 1, 0x7f));
  if (b.omitLayer1 !== true) octets.push(0x80 | 0x20 | checkField('layer 1 protocol', b.layer1Protocol ?? LAYER1_PROTOCOL.h221, 0x1f));
  return { code: IE.bearerCapability, data: Buffer.from(octets) };
}

export function readBearerCapability(ie: Q931Ie | undefined): BearerCapability | undefined {
  if (ie === undefined || ie.code !== IE.bearerCapability) return undefined;
  const d = ie.data;
  let at = 0;
  const o3 = d[at++];
  if (o3 === undefined) return undefined;
  // An octet 3 without bit 8 would be followed by 3a, which Q.931 does not define for this IE: skip to the group's end.
  if ((o3 & 0x80) === 0) at = groupEnd(d, at - 1);
  const o4 = d[at++];
  if (o4 === undefined) return undefined;
  if ((o4 & 0x80) === 0) at = groupEnd(d, at - 1);
  const rate = o4 & 0x1f;
  let rateMultiplier: number | undefined;
  if (rate === TRANSFER_RATE.multirate) {
    const m = d[at++];
    if (m === undefined) return undefined;
    rateMultiplier = m & 0x7f;
  }
  let layer1Protocol: number | undefined;
  const o5 = d[at];
  if (o5 !== undefined && ((o5 >> 5) & 0x03) === 1) layer1Protocol = o5 & 0x1f;
  return {
    codingStandard: (o3 >> 5) & 0x03,
    transferCapability: o3 & 0x1f,
    transferMode: (o4 >> 5) & 0x03,
    transferRate: rate,
    ...(rateMultiplier === undefined ? {} : { rateMultiplier }),
    ...(layer1Protocol === undefined ? {} : { layer1Protocol }),
  };
}

/** The index after the octet group that starts at `start` (the first octet with bit 8 set closes it). */
function groupEnd(d: Buffer, start: number): number {
  let at = start;
  while (at < d.length && ((d[at] ?? 0) & 0x80) === 0) at++;
  return Math.min(at + 1, d.length);
}

// ---- Cause (0x08), Q.931 §4.5.12 / Q.850

export interface CauseDetails {
  readonly codingStandard: number;
  /** 0 user, 1 private network serving the local user, 2 public local, … 7 international, 10 beyond interworking. */
  readonly location: number;
  /** Octet 3a when present (0 = Q.931). */
  readonly recommendation?: number;
  readonly value: number;
  /** Octets after the cause value (diagnostics), as sent. */
  readonly diagnostics: Buffer;
}

/** Everything a Cause IE says; undefined when it is shorter than octets 3 and 4. */
export function readCauseDetails(ie: Q931Ie | undefined): CauseDetails | undefined {
  if (ie === undefined || ie.code !== IE.cause || ie.data.length < 2) return undefined;
  const o3 = ie.data[0] ?? 0;
  let at = 1;
  let recommendation: number | undefined;
  if ((o3 & 0x80) === 0) {
    recommendation = (ie.data[at] ?? 0) & 0x7f;
    at++;
  }
  const o4 = ie.data[at];
  if (o4 === undefined) return undefined;
  return {
    codingStandard: (o3 >> 5) & 0x03,
    location: o3 & 0x0f,
    ...(recommendation === undefined ? {} : { recommendation }),
    value: o4 & 0x7f,
    diagnostics: Buffer.from(ie.data.subarray(at + 1)),
  };
}

// ---- Progress indicator (0x1E), Q.931 §4.5.23

export const PROGRESS = {
  notEndToEndIsdn: 1,
  destinationNotIsdn: 2,
  originNotIsdn: 3,
  returnedToIsdn: 4,
  interworking: 5,
  inbandInformation: 8,
} as const;

export interface ProgressIndicator {
  readonly codingStandard: number;
  readonly location: number;
  readonly description: number;
}

/** Progress indicator; `80 88` (ITU-T, user, in-band information available) by default. */
export function progressIndicatorIe(description: number = PROGRESS.inbandInformation, location = 0): Q931Ie {
  checkField('progress description', description, 0x7f);
  checkField('location', location, 0x0f);
  return { code: IE.progressIndicator, data: Buffer.from([0x80 | location, 0x80 | description]) };
}

export function readProgressIndicator(ie: Q931Ie | undefined): ProgressIndicator | undefined {
  if (ie === undefined || ie.code !== IE.progressIndicator || ie.data.length < 2) return undefined;
  const o3 = ie.data[0] ?? 0;
  const o4 = ie.data[1] ?? 0;
  return { codingStandard: (o3 >> 5) & 0x03, location: o3 & 0x0f, description: o4 & 0x7f };
}

// ---- Call state (0x14), Q.931 §4.5.7 (the builder is q931.ts callStateIe)

/** The call state value (bits 6–1); undefined for an empty IE. */
export function readCallState(ie: Q931Ie | undefined): number | undefined {
  if (ie === undefined || ie.code !== IE.callState) return undefined;
  const o3 = ie.data[0];
  return o3 === undefined ? undefined : o3 & 0x3f;
}

// ---- Notification indicator (0x27), Q.931 §4.5.22

export const NOTIFICATION = { userSuspended: 0x00, userResumed: 0x01, bearerServiceChange: 0x02 } as const;

export function notificationIndicatorIe(description: number): Q931Ie {
  checkField('notification description', description, 0x7f);
  return { code: IE.notificationIndicator, data: Buffer.from([0x80 | description]) };
}

export function readNotificationIndicator(ie: Q931Ie | undefined): number | undefined {
  if (ie === undefined || ie.code !== IE.notificationIndicator) return undefined;
  const o3 = ie.data[0];
  return o3 === undefined ? undefined : o3 & 0x7f;
}

// ---- Signal (0x34), Q.931 §4.5.28

export const SIGNAL = {
  dialToneOn: 0x00,
  ringBackToneOn: 0x01,
  interceptToneOn: 0x02,
  networkCongestionToneOn: 0x03,
  busyToneOn: 0x04,
  confirmToneOn: 0x05,
  answerToneOn: 0x06,
  callWaitingToneOn: 0x07,
  offHookWarningToneOn: 0x08,
  preemptionToneOn: 0x09,
  tonesOff: 0x3f,
  alertingOnPattern0: 0x40,
  alertingOff: 0x4f,
} as const;

export function signalIe(value: number): Q931Ie {
  checkField('signal value', value, 0xff);
  return { code: IE.signal, data: Buffer.from([value]) };
}

export function readSignal(ie: Q931Ie | undefined): number | undefined {
  if (ie === undefined || ie.code !== IE.signal) return undefined;
  return ie.data[0];
}

// ---- Keypad facility (0x2C), Q.931 §4.5.18: IA5 characters; endpoints send DTMF digits this way

/** The longest keypad string read or written (Q.931 leaves the bound to the network). */
export const MAX_KEYPAD = 32;
const KEYPAD = /^[0-9*#A-D]+$/;

export function keypadFacilityIe(keys: string): Q931Ie {
  if (keys.length === 0 || keys.length > MAX_KEYPAD || !KEYPAD.test(keys)) throw encodeError(`keypad string of ${keys.length} characters`);
  return { code: IE.keypadFacility, data: Buffer.from(keys, 'latin1') };
}

/** The keys (0–9 * # A–D, upper-cased); undefined for anything else. */
export function readKeypadFacility(ie: Q931Ie | undefined): string | undefined {
  if (ie === undefined || ie.code !== IE.keypadFacility || ie.data.length === 0 || ie.data.length > MAX_KEYPAD) return undefined;
  const keys = ie.data.toString('latin1').toUpperCase();
  return KEYPAD.test(keys) ? keys : undefined;
}

// ---- Called (0x70) and Calling (0x6C) party number with their octets 3 / 3a, Q.931 §4.5.8, §4.5.10

export const TYPE_OF_NUMBER = { unknown: 0, international: 1, national: 2, networkSpecific: 3, subscriber: 4, abbreviated: 6 } as const;
export const NUMBERING_PLAN = { unknown: 0, isdn: 1, data: 3, telex: 4, national: 8, private: 9 } as const;

export interface PartyNumber {
  readonly typeOfNumber: number;
  readonly numberingPlan: number;
  /** Calling party number octet 3a: 0 allowed, 1 restricted, 2 not available. */
  readonly presentation?: number;
  /** Calling party number octet 3a: 0 user-provided not screened, 1 passed, 2 failed, 3 network provided. */
  readonly screening?: number;
  /** IA5 digits 0–9, *, #. */
  readonly digits: string;
}

/** The longest number read or written (E.164 is 15 digits; private plans go a little longer). */
export const MAX_PARTY_DIGITS = 32;
const PARTY_DIGITS = /^[0-9*#]*$/;

/** A party number IE with explicit octet 3 (and 3a when presentation or screening is given). */
export function partyNumberDetailsIe(code: typeof IE.calledPartyNumber | typeof IE.callingPartyNumber, n: PartyNumber): Q931Ie {
  if (n.digits.length > MAX_PARTY_DIGITS || !PARTY_DIGITS.test(n.digits)) throw encodeError(`party number digits of ${n.digits.length} characters`);
  const o3 = (checkField('type of number', n.typeOfNumber, 7) << 4) | checkField('numbering plan', n.numberingPlan, 0x0f);
  const with3a = code === IE.callingPartyNumber && (n.presentation !== undefined || n.screening !== undefined);
  const head = with3a ? [o3, 0x80 | (checkField('presentation', n.presentation ?? 0, 3) << 5) | checkField('screening', n.screening ?? 0, 3)] : [0x80 | o3];
  return { code, data: Buffer.concat([Buffer.from(head), Buffer.from(n.digits, 'latin1')]) };
}

/** Octet 3 (and 3a) and the digits of a party number IE; undefined when the digits are not IA5 0–9 * #. */
export function readPartyNumberDetails(ie: Q931Ie | undefined): PartyNumber | undefined {
  if (ie === undefined || (ie.code !== IE.calledPartyNumber && ie.code !== IE.callingPartyNumber) || ie.data.length < 1) return undefined;
  const o3 = ie.data[0] ?? 0;
  let at = 1;
  let presentation: number | undefined;
  let screening: number | undefined;
  if ((o3 & 0x80) === 0) {
    const o3a = ie.data[1];
    if (o3a === undefined) return undefined;
    presentation = (o3a >> 5) & 0x03;
    screening = o3a & 0x03;
    at = 2;
  }
  const digits = ie.data.subarray(at).toString('latin1');
  if (digits.length > MAX_PARTY_DIGITS || !PARTY_DIGITS.test(digits)) return undefined;
  return {
    typeOfNumber: (o3 >> 4) & 0x07,
    numberingPlan: o3 & 0x0f,
    ...(presentation === undefined ? {} : { presentation }),
    ...(screening === undefined ? {} : { screening }),
    digits,
  };
}

// ---- Single-octet IEs

/** Sending complete (0xA1): the called number is whole. */
export const SENDING_COMPLETE: Q931Ie = { code: IE.sendingComplete, data: EMPTY };

/** Whether a message's IEs include Sending complete. */
export function hasSendingComplete(ies: readonly Q931Ie[]): boolean {
  return ies.some((ie) => ie.code === IE.sendingComplete);
}
