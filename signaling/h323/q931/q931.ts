/**
 * Q.931 messages in the H.225.0 profile: protocol discriminator 08, a two-octet call reference
 * (15 bits and the flag: set on everything the side that took the call sends), the message
 * type, then information elements in ascending code order. Single-octet IEs (bit 8 set) have no
 * length; User-user (7E) has a two-octet length; every other IE one octet. Decoding keeps each
 * IE's contents as they came; the H.225.0 layer reads the ones it needs. Errors are Q931Error.
 */
import { CarillonError } from '../../../common/errors.ts';

export const Q931_TYPE = {
  alerting: 0x01,
  callProceeding: 0x02,
  progress: 0x03,
  setup: 0x05,
  connect: 0x07,
  setupAcknowledge: 0x0d,
  releaseComplete: 0x5a,
  facility: 0x62,
  notify: 0x6e,
  statusEnquiry: 0x75,
  information: 0x7b,
  status: 0x7d,
} as const;

export type Q931MessageName = keyof typeof Q931_TYPE;

const NAME_OF = new Map<number, Q931MessageName>(Object.entries(Q931_TYPE).map(([k, v]) => [v, k as Q931MessageName]));

/** The name of a message type, undefined for one Q.931/H.225.0 does not define here. */
export function messageName(type: number): Q931MessageName | undefined {
  return NAME_OF.get(type);
}

export const IE = {
  bearerCapability: 0x04,
  cause: 0x08,
  callState: 0x14,
  facility: 0x1c,
  progressIndicator: 0x1e,
  notificationIndicator: 0x27,
  display: 0x28,
  keypadFacility: 0x2c,
  signal: 0x34,
  callingPartyNumber: 0x6c,
  calledPartyNumber: 0x70,
  userUser: 0x7e,
  sendingComplete: 0xa1,
} as const;

export interface Q931Ie {
  readonly code: number;
  /** The contents after the length (empty for a single-octet IE). */
  readonly data: Buffer;
}

export interface Q931Message {
  /** 0 … 32767. */
  readonly callReference: number;
  /** The flag: set when the message comes from the side the call was placed to. */
  readonly fromDestination: boolean;
  readonly type: number;
  readonly ies: readonly Q931Ie[];
}

export type Q931ErrorCode = 'Q931_TRUNCATED' | 'Q931_DISCRIMINATOR' | 'Q931_CALL_REFERENCE' | 'Q931_IE_LENGTH' | 'Q931_TOO_MANY_IES' | 'Q931_ENCODE';

/** The only error the Q.931 codec throws. */
export class Q931Error extends CarillonError {
  readonly q931Code: Q931ErrorCode;

  constructor(code: Q931ErrorCode, message: string) {
    super(code, message, { sipStatus: 400, httpStatus: 400, errorType: 'BadRequestException' });
    this.name = 'Q931Error';
    this.q931Code = code;
  }
}

/** More IEs than this in one message is refused (H.225.0 messages carry a handful). */
export const MAX_IES = 64;

export function decodeQ931(buf: Buffer): Q931Message {
  if (buf.length < 5) throw new Q931Error('Q931_TRUNCATED', `Q.931 message of ${buf.length} octets`);
  if (buf[0] !== 0x08) throw new Q931Error('Q931_DISCRIMINATOR', `protocol discriminator ${buf[0] ?? 0}`);
  if (((buf[1] ?? 0) & 0x0f) !== 2) throw new Q931Error('Q931_CALL_REFERENCE', `call reference of ${(buf[1] ?? 0) & 0x0f} octets (H.225.0 uses 2)`);
  const crv = buf.readUInt16BE(2);
  const type = (buf[4] ?? 0) & 0x7f;
  const ies: Q931Ie[] = [];
  let at = 5;
  while (at < buf.length) {
    if (ies.length >= MAX_IES) throw new Q931Error('Q931_TOO_MANY_IES', `more than ${MAX_IES} information elements`);
    const code = buf[at] ?? 0;
    if ((code & 0x80) !== 0) {
      ies.push({ code, data: Buffer.alloc(0) });
      at += 1;
      continue;
    }
    let len: number;
    let start: number;
    if (code === IE.userUser) {
      if (at + 3 > buf.length) throw new Q931Error('Q931_IE_LENGTH', 'User-user IE without its length');
      len = buf.readUInt16BE(at + 1);
      start = at + 3;
    } else {
      if (at + 2 > buf.length) throw new Q931Error('Q931_IE_LENGTH', `IE ${code} without its length`);
      len = buf[at + 1] ?? 0;
      start = at + 2;
    }
    if (start + len > buf.length) throw new Q931Error('Q931_IE_LENGTH', `IE ${code} of ${len} octets runs past the message`);
    ies.push({ code, data: Buffer.from(buf.subarray(start, start + len)) });
    at = start + len;
  }
  return { callReference: crv & 0x7fff, fromDestination: (crv & 0x8000) !== 0, type, ies };
}

export function encodeQ931(m: Q931Message): Buffer {
  if (!Number.isInteger(m.callReference) || m.callReference < 0 || m.callReference > 0x7fff) throw new Q931Error('Q931_ENCODE', `call reference ${m.callReference}`);
  const parts: Buffer[] = [Buffer.from([0x08, 0x02, (m.fromDestination ? 0x80 : 0) | (m.callReference >> 8), m.callReference & 0xff, m.type & 0x7f])];
  const ies = [...m.ies].sort((a, b) => a.code - b.code);
  for (const ie of ies) {
    if ((ie.code & 0x80) !== 0) parts.push(Buffer.from([ie.code]));
    else if (ie.code === IE.userUser) {
      if (ie.data.length > 0xffff) throw new Q931Error('Q931_ENCODE', 'User-user IE over 65535 octets');
      parts.push(Buffer.from([ie.code, ie.data.length >> 8, ie.data.length & 0xff]), ie.data);
    } else {
      if (ie.data.length > 255) throw new Q931Error('Q931_ENCODE', `IE ${ie.code} over 255 octets`);
      parts.push(Buffer.from([ie.code, ie.data.length]), ie.data);
    }
  }
  return Buffer.concat(parts);
}

/** The first IE with `code`, if any. */
export function ieOf(m: Q931Message, code: number): Q931Ie | undefined {
  return m.ies.find((ie) => ie.code === code);
}

// ---- IE contents H.225.0 uses

/** User-user: protocol discriminator 05 (X.208/X.209 coded) and the PER H323-UserInformation. */
export function userUserIe(per: Buffer): Q931Ie {
  return { code: IE.userUser, data: Buffer.concat([Buffer.from([0x05]), per]) };
}

/** The PER octets of a User-user IE; undefined when it is not H.225.0's. */
export function readUserUser(ie: Q931Ie | undefined): Buffer | undefined {
  if (ie === undefined || ie.data.length < 2 || ie.data[0] !== 0x05) return undefined;
  return ie.data.subarray(1);
}

/** Cause: coding standard CCITT, location user (or `location`), the cause value. */
export function causeIe(cause: number, location = 0): Q931Ie {
  return { code: IE.cause, data: Buffer.from([0x80 | (location & 0x0f), 0x80 | (cause & 0x7f)]) };
}

/** The cause value of a Cause IE (octet 3a may precede it). */
export function readCause(ie: Q931Ie | undefined): number | undefined {
  if (ie === undefined || ie.data.length < 2) return undefined;
  const octet3 = ie.data[0] ?? 0;
  const valueAt = (octet3 & 0x80) !== 0 ? 1 : 2;
  const v = ie.data[valueAt];
  return v === undefined ? undefined : v & 0x7f;
}

/** Display: IA5 text, at most 82 characters (printable only). */
export function displayIe(text: string): Q931Ie {
  const clean = text.replace(/[^\x20-\x7e]/g, '').slice(0, 82);
  return { code: IE.display, data: Buffer.from(clean, 'latin1') };
}

export function readDisplay(ie: Q931Ie | undefined): string | undefined {
  if (ie === undefined) return undefined;
  const text = ie.data.toString('latin1').replace(/[^\x20-\x7e]/g, '');
  return text.length === 0 ? undefined : text.slice(0, 82);
}

/** Called/Calling party number: type of number and plan (unknown/ISDN, or international), IA5 digits. */
export function partyNumberIe(code: typeof IE.calledPartyNumber | typeof IE.callingPartyNumber, digits: string): Q931Ie {
  const international = digits.startsWith('+');
  const body = digits.replace(/^\+/, '').replace(/[^0-9*#]/g, '').slice(0, 32);
  const octet3 = 0x80 | (international ? 0x10 : 0x00) | 0x01;
  // Calling party number carries octet 3a (presentation allowed, user-provided not screened) unless octet 3 ends the group.
  const head = code === IE.callingPartyNumber ? [octet3 & 0x7f, 0x80] : [octet3];
  return { code, data: Buffer.concat([Buffer.from(head), Buffer.from(body, 'latin1')]) };
}

export function readPartyNumber(ie: Q931Ie | undefined): string | undefined {
  if (ie === undefined || ie.data.length < 2) return undefined;
  const octet3 = ie.data[0] ?? 0;
  const digitsAt = (octet3 & 0x80) !== 0 ? 1 : 2;
  const digits = ie.data.subarray(digitsAt).toString('latin1');
  if (!/^[0-9*#]{1,32}$/.test(digits)) return undefined;
  return ((octet3 >> 4) & 0x07) === 1 ? `+${digits}` : digits;
}

/** Bearer capability of an H.323 call: unrestricted digital information, 64 kbit/s circuit, H.221/H.242 layer 1. */
export const BEARER_H323: Q931Ie = { code: IE.bearerCapability, data: Buffer.from([0x88, 0x90, 0xa5]) };

/** Facility IE of length 0, as H.225.0 Facility messages carry it. */
export const FACILITY_EMPTY: Q931Ie = { code: IE.facility, data: Buffer.alloc(0) };

/** Call state IE (Status answers carry it): the Q.931 state number. */
export function callStateIe(state: number): Q931Ie {
  return { code: IE.callState, data: Buffer.from([state & 0x3f]) };
}
