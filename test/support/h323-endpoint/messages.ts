/**
 * One decoded signalling unit for the test endpoint: a Q.931 message with its H.225.0 User-user
 * contents, or an H.245 MultimediaSystemControlMessage, plus the kind names tests assert on.
 */
import { decode, encode, UNKNOWN } from '../../../signaling/h323/per/index.ts';
import type { PerResult } from '../../../signaling/h323/per/index.ts';
import { h323UserInformation } from './h225.ts';
import type { H323UserInformation } from './h225.ts';
import { multimediaSystemControlMessage } from './h245.ts';
import type { H245Message } from './h245.ts';
import { decodeQ931, encodeQ931, findIe, IE, Q931Error, q931Name, userUserIe } from './q931.ts';
import type { InformationElement, Q931Message } from './q931.ts';

export interface DecodedQ931 {
  readonly q931: string;
  readonly message: Q931Message;
  /** The UUIE body's alternative name ('connect', 'empty', …) when the User-user IE decodes. */
  readonly body?: string;
  readonly uuie?: H323UserInformation;
  readonly uuieError?: string;
  /** Decoded h245Control PDUs (tunnelled H.245). */
  readonly tunnelled: readonly DecodedH245[];
}

export interface DecodedH245 {
  /** The message's innermost known kind, e.g. 'terminalCapabilitySet'; 'undecodable' on a PER error. */
  readonly h245: string;
  readonly value?: H245Message;
  readonly error?: string;
  readonly bytes: Buffer;
}

export function encodeUuie(info: H323UserInformation): Buffer {
  return encode(h323UserInformation, info);
}

export function decodeUuie(buf: Buffer): PerResult<H323UserInformation> {
  return decode(h323UserInformation, buf);
}

export function encodeH245(m: H245Message): Buffer {
  return encode(multimediaSystemControlMessage, m);
}

export function h245Kind(m: H245Message): string {
  if (m.choice === UNKNOWN) return `extension#${m.index}`;
  const inner = m.value;
  return inner.choice === UNKNOWN ? `${m.choice}.extension#${inner.index}` : inner.choice;
}

export function decodeH245(bytes: Buffer): DecodedH245 {
  const r = decode(multimediaSystemControlMessage, bytes);
  if (!r.ok) return { h245: 'undecodable', error: r.error.message, bytes };
  return { h245: h245Kind(r.value), value: r.value, bytes };
}

/** A whole Q.931 message with a UUIE; other IEs go before User-user (ascending order is the caller's job). */
export function encodeSignalling(
  head: { readonly type: number; readonly crv: number; readonly flag: boolean },
  ies: readonly InformationElement[],
  info: H323UserInformation | undefined,
): Buffer {
  const all = info === undefined ? ies : [...ies, userUserIe(encodeUuie(info))];
  return encodeQ931({ ...head, ies: all });
}

export function decodeSignalling(payload: Buffer): DecodedQ931 | { readonly q931: 'undecodable'; readonly error: string } {
  let message: Q931Message;
  try {
    message = decodeQ931(payload);
  } catch (e) {
    if (e instanceof Q931Error) return { q931: 'undecodable', error: e.message };
    throw e;
  }
  const q931 = q931Name(message.type);
  const uu = findIe(message, IE.userUser);
  if (uu === undefined) return { q931, message, tunnelled: [] };
  if (uu[0] !== 0x05) return { q931, message, uuieError: `User-user protocol discriminator ${uu[0] ?? -1}`, tunnelled: [] };
  const r = decodeUuie(uu.subarray(1));
  if (!r.ok) return { q931, message, uuieError: r.error.message, tunnelled: [] };
  const pdu = r.value['h323-uu-pdu'];
  const b = pdu['h323-message-body'];
  const body = b.choice === UNKNOWN ? `extension#${b.index}` : b.choice;
  const tunnelled = (pdu.h245Control ?? []).map((bytes) => decodeH245(bytes));
  return { q931, message, body, uuie: r.value, tunnelled };
}
