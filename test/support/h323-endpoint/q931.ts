/**
 * Q.931 as H.225.0 uses it, for the test endpoint: protocol discriminator 08, a 2-octet call reference
 * (flag in bit 8 of the first octet), the message type, then information elements in ascending order.
 * User-user (7E) alone has a 2-octet length, which covers its protocol discriminator 05 (X.208/X.209)
 * before the PER H323-UserInformation.
 */

export const Q931_MESSAGE = {
  alerting: 0x01,
  callProceeding: 0x02,
  progress: 0x03,
  setup: 0x05,
  connect: 0x07,
  releaseComplete: 0x5a,
  facility: 0x62,
  notify: 0x6e,
  statusEnquiry: 0x75,
  information: 0x7b,
  status: 0x7d,
} as const;
export type Q931MessageName = keyof typeof Q931_MESSAGE;

export const IE = {
  cause: 0x08,
  callState: 0x14,
  facility: 0x1c,
  progressIndicator: 0x1e,
  bearerCapability: 0x04,
  display: 0x28,
  callingPartyNumber: 0x6c,
  calledPartyNumber: 0x70,
  userUser: 0x7e,
} as const;

export interface InformationElement {
  readonly id: number;
  readonly data: Buffer;
}

export interface Q931Message {
  /** true: sent to the originating side (the callee's messages). */
  readonly flag: boolean;
  readonly crv: number;
  readonly type: number;
  readonly ies: readonly InformationElement[];
}

export function q931Name(type: number): Q931MessageName | `0x${string}` {
  for (const [name, code] of Object.entries(Q931_MESSAGE)) if (code === type) return name as Q931MessageName;
  return `0x${type.toString(16).padStart(2, '0')}`;
}

/** Encodes a message; IEs are written in the order given (callers pass them ascending). */
export function encodeQ931(m: Q931Message): Buffer {
  const parts: Buffer[] = [Buffer.from([0x08, 0x02, ((m.crv >> 8) & 0x7f) | (m.flag ? 0x80 : 0), m.crv & 0xff, m.type])];
  for (const ie of m.ies) {
    if (ie.id >= 0x80) {
      parts.push(Buffer.from([ie.id]));
    } else if (ie.id === IE.userUser) {
      if (ie.data.length > 0xffff) throw new RangeError('User-user IE too long');
      parts.push(Buffer.from([ie.id, ie.data.length >> 8, ie.data.length & 0xff]), ie.data);
    } else {
      if (ie.data.length > 0xff) throw new RangeError(`IE ${ie.id} too long`);
      parts.push(Buffer.from([ie.id, ie.data.length]), ie.data);
    }
  }
  return Buffer.concat(parts);
}

export class Q931Error extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Q931Error';
  }
}

/** Decodes a message; throws Q931Error (only) on anything it cannot frame. */
export function decodeQ931(buf: Buffer): Q931Message {
  if (buf.length < 5) throw new Q931Error('shorter than a Q.931 header');
  if (buf[0] !== 0x08) throw new Q931Error(`protocol discriminator ${buf[0] ?? -1}`);
  if (buf[1] !== 2) throw new Q931Error(`call reference length ${buf[1] ?? -1}`);
  const c0 = buf[2] ?? 0;
  const flag = (c0 & 0x80) !== 0;
  const crv = ((c0 & 0x7f) << 8) | (buf[3] ?? 0);
  const type = buf[4] ?? 0;
  const ies: InformationElement[] = [];
  let i = 5;
  while (i < buf.length) {
    if (ies.length >= 64) throw new Q931Error('too many information elements');
    const id = buf[i] ?? 0;
    if (id >= 0x80) {
      ies.push({ id, data: Buffer.alloc(0) });
      i += 1;
      continue;
    }
    let len: number;
    let start: number;
    if (id === IE.userUser) {
      if (i + 3 > buf.length) throw new Q931Error('truncated User-user length');
      len = buf.readUInt16BE(i + 1);
      start = i + 3;
    } else {
      if (i + 2 > buf.length) throw new Q931Error(`truncated length of IE ${id}`);
      len = buf[i + 1] ?? 0;
      start = i + 2;
    }
    if (start + len > buf.length) throw new Q931Error(`IE ${id} runs past the message`);
    ies.push({ id, data: Buffer.from(buf.subarray(start, start + len)) });
    i = start + len;
  }
  return { flag, crv, type, ies };
}

export function findIe(m: Q931Message, id: number): Buffer | undefined {
  return m.ies.find((ie) => ie.id === id)?.data;
}

/** Cause IE contents: coding ITU-T, location user, the cause value with the extension bit. */
export function causeIe(cause: number): InformationElement {
  return { id: IE.cause, data: Buffer.from([0x80, 0x80 | (cause & 0x7f)]) };
}

/** The cause value of a Cause IE (octet 3 may carry a recommendation octet 3a before the value). */
export function causeValue(data: Buffer): number | undefined {
  if (data.length < 2) return undefined;
  const b0 = data[0] ?? 0;
  const at = (b0 & 0x80) !== 0 ? 1 : 2;
  const v = data[at];
  return v === undefined ? undefined : v & 0x7f;
}

/** Called party number: type unknown / ISDN numbering plan, then IA5 digits. */
export function calledPartyIe(digits: string): InformationElement {
  return { id: IE.calledPartyNumber, data: Buffer.concat([Buffer.from([0x81]), Buffer.from(digits, 'latin1')]) };
}

/** User-user contents: protocol discriminator 05 then the PER bytes. */
export function userUserIe(per: Buffer): InformationElement {
  return { id: IE.userUser, data: Buffer.concat([Buffer.from([0x05]), per]) };
}
