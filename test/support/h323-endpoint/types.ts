/**
 * The test endpoint's public types: call options and what it records of the call (`received`, `sent`).
 */
import type { Destination, AudioCodecName } from './build.ts';
import type { H323UserInformation } from './h225.ts';
import type { H245Message } from './h245.ts';
import type { InformationElement } from './q931.ts';

export type CallState = 'idle' | 'calling' | 'proceeding' | 'alerting' | 'connected' | 'released';
export type H245Mode = 'tunnel' | 'separate-we-listen' | 'separate-they-listen';

export interface EndpointOptions {
  /** Our h323-ID (sourceAddress) and Display. */
  readonly name: string;
  readonly localAddress: string;
}

export interface CallOptions {
  readonly host: string;
  readonly port: number;
  readonly destination: readonly Destination[];
  readonly calledNumber?: string;
  readonly fastStart: boolean;
  /** Audio proposals in preference order. */
  readonly audio: readonly AudioCodecName[];
  readonly h245: H245Mode;
  readonly mediaWaitForConnect?: boolean;
  /** Send an empty TPKT right after Setup and then every second (a keep-alive some endpoints use). */
  readonly keepAliveEmptyTpkt?: boolean;
  /** Tunnel one H.245 PDU per Facility (as towards Cisco IOS) instead of grouping them. */
  readonly onePduPerFacility?: boolean;
  /** Advertise the H.239 control capability in our TCS (a room system that presents). */
  readonly h239?: boolean;
  /** H.264 video (session 2, video.ts): Fast Connect proposals both ways (with `fastStart`), H.264 in our TCS, Carillon's video OLC taken. */
  readonly video?: boolean;
}

export interface ReceivedQ931 {
  readonly q931: string;
  readonly flag: boolean;
  readonly crv: number;
  readonly ies: readonly InformationElement[];
  /** The UUIE body's alternative ('connect', 'empty', …). */
  readonly body?: string;
  readonly uuie?: H323UserInformation;
  readonly error?: string;
}
export interface ReceivedH245 {
  readonly h245: string;
  readonly value?: H245Message;
  readonly error?: string;
  readonly via: 'tunnel' | 'tcp';
}
export type Received = ReceivedQ931 | ReceivedH245 | { readonly tpkt: 'empty' } | { readonly closed: 'q931' | 'h245' };

export interface SentUnit {
  readonly channel: 'q931' | 'h245';
  /** One whole TPKT as written. */
  readonly bytes: Buffer;
}

export function kindOf(m: Received): string {
  if ('q931' in m) return m.body !== undefined && m.body !== m.q931 ? `${m.q931}(${m.body})` : m.q931;
  if ('h245' in m) return m.h245;
  if ('tpkt' in m) return 'tpkt-empty';
  return `closed-${m.closed}`;
}
