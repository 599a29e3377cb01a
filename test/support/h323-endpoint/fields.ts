/**
 * Readers of the fields the test endpoint takes from Carillon's messages: addresses out of H.225.0 and
 * H.245 TransportAddresses, audio capability names, and the UUIE fields common to several bodies.
 */
import { UNKNOWN } from '../../../signaling/h323/per/index.ts';
import { PAYLOAD_TYPE } from './build.ts';
import type { AudioCodecName, Endpoint } from './build.ts';
import type { MessageBody, TransportAddress } from './h225.ts';
import type { H245Message, H245TransportAddress } from './h245.ts';
import { H239_MESSAGE } from './h245.ts';

export function endpointOf(ta: TransportAddress | undefined): Endpoint | undefined {
  if (ta?.choice !== 'ipAddress') return undefined;
  return { ip: [...ta.value.ip].join('.'), port: ta.value.port };
}

export function h245EndpointOf(ta: H245TransportAddress | undefined): Endpoint | undefined {
  if (ta?.choice !== 'unicastAddress' || ta.value.choice !== 'iPAddress') return undefined;
  return { ip: [...ta.value.value.network].join('.'), port: ta.value.value.tsapIdentifier };
}

export function audioName(c: { readonly choice: string }): AudioCodecName | undefined {
  return c.choice in PAYLOAD_TYPE ? (c.choice as AudioCodecName) : undefined;
}

/** The fields the endpoint reads from whichever UUIE body carries them. */
export function bodyFields(body: MessageBody): {
  h245Address?: TransportAddress | undefined;
  fastStart?: readonly Buffer[] | undefined;
  callId?: Buffer | undefined;
  conferenceId?: Buffer | undefined;
  fastConnectRefused: boolean;
  reason?: string | undefined;
} {
  switch (body.choice) {
    case 'callProceeding':
    case 'alerting':
      return { h245Address: body.value.h245Address, fastStart: body.value.fastStart, callId: body.value.callIdentifier?.guid, fastConnectRefused: body.value.fastConnectRefused !== undefined };
    case 'connect':
      return {
        h245Address: body.value.h245Address,
        fastStart: body.value.fastStart,
        callId: body.value.callIdentifier?.guid,
        conferenceId: body.value.conferenceID,
        fastConnectRefused: body.value.fastConnectRefused !== undefined,
      };
    case 'progress':
      return { h245Address: body.value.h245Address, fastStart: body.value.fastStart, callId: body.value.callIdentifier.guid, fastConnectRefused: body.value.fastConnectRefused !== undefined };
    case 'facility': {
      const r = body.value.reason;
      return {
        h245Address: body.value.h245Address,
        fastStart: body.value.fastStart,
        callId: body.value.callIdentifier?.guid,
        conferenceId: body.value.conferenceID,
        fastConnectRefused: body.value.fastConnectRefused !== undefined,
        reason: r.choice === UNKNOWN ? `extension#${r.index}` : r.choice,
      };
    }
    case 'releaseComplete': {
      const r = body.value.reason;
      return { callId: body.value.callIdentifier?.guid, fastConnectRefused: false, reason: r === undefined ? undefined : r.choice === UNKNOWN ? `extension#${r.index}` : r.choice };
    }
    case 'status':
    case 'statusInquiry':
      return { callId: body.value.callIdentifier.guid, fastConnectRefused: false };
    default:
      return { fastConnectRefused: false };
  }
}


/** An H.239 message as the endpoint saw it: its envelope, subMessageIdentifier and standard parameters (logical ones as true). */
export interface H239Seen {
  readonly envelope: 'genericRequest' | 'genericResponse' | 'genericCommand' | 'genericIndication';
  readonly sub: number | undefined;
  readonly params: ReadonlyMap<number, number | true>;
}

/** The H.239 message an H.245 PDU carries (messageIdentifier {0 0 8 239 2}), if any. */
export function h239Of(m: H245Message): H239Seen | undefined {
  if (m.choice === UNKNOWN || m.value.choice === UNKNOWN) return undefined;
  const v = m.value;
  if (v.choice !== 'genericRequest' && v.choice !== 'genericResponse' && v.choice !== 'genericCommand' && v.choice !== 'genericIndication') return undefined;
  const id = v.value.messageIdentifier;
  if (id.choice !== 'standard' || id.value.join('.') !== H239_MESSAGE.join('.')) return undefined;
  const params = new Map<number, number | true>();
  for (const p of v.value.messageContent ?? []) {
    if (p.parameterIdentifier.choice !== 'standard') continue;
    const pv = p.parameterValue;
    if (pv.choice === 'logical') params.set(p.parameterIdentifier.value, true);
    else if (pv.choice === 'unsignedMin' || pv.choice === 'unsignedMax' || pv.choice === 'unsigned32Min' || pv.choice === 'unsigned32Max' || pv.choice === 'booleanArray') params.set(p.parameterIdentifier.value, pv.value);
  }
  return { envelope: v.choice, sub: v.value.subMessageIdentifier, params };
}
