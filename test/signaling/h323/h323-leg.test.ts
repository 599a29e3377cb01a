import { readFileSync } from 'node:fs';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { nodeTimers } from '../../../common/clock.ts';
import type { IncomingCall } from '../../../common/incoming-call.ts';
import { socketsWithLookup } from '../../../common/sockets.ts';
import { H323_UserInformation } from '../../../signaling/h323/asn/h225.ts';
import type { H323_UserInformation as UserInformation } from '../../../signaling/h323/asn/h225.ts';
import { MultimediaSystemControlMessage } from '../../../signaling/h323/asn/h245.ts';
import * as h245 from '../../../signaling/h323/call/h245-messages.ts';
import { H323Edge } from '../../../signaling/h323/h323-edge.ts';
import { decode, encode } from '../../../signaling/h323/per/index.ts';
import { decodeQ931, encodeQ931, ieOf, IE, readUserUser, userUserIe } from '../../../signaling/h323/q931/q931.ts';
import { TpktReader } from '../../../signaling/h323/q931/tpkt.ts';
import { MemoryConnection } from '../../support/memory-tpkt.ts';

/**
 * The H.323 leg in process, on the capture's real Setup changed where a test needs it: toward a
 * Cisco IOS caller Carillon tunnels one H.245 PDU per message; a tunnelled slow-start call gets
 * Carillon's TCS and MSD in its first answer and the acks of the Setup's.
 */

const fixture = JSON.parse(readFileSync(new URL('../../fixtures/h323-endpoint/h323-capture.json', import.meta.url), 'utf8')) as { frames: { channel: string; kind: string; tcpPayloadHex: string }[] };
const setupFrame = fixture.frames.find((f) => f.kind === 'setup');
const setupQ931 = decodeQ931(new TpktReader(65_531).push(Buffer.from(setupFrame?.tcpPayloadHex ?? '', 'hex')).frames[0] as Buffer);
const setupUu = decode(H323_UserInformation, readUserUser(ieOf(setupQ931, IE.userUser)) as Buffer);

/** The capture's Setup with tunnelled H.245 (TCS + MSD) and a vendor productId. */
function setupWith(productId: string): Buffer {
  if (!setupUu.ok) throw new Error('capture Setup undecodable');
  const uu: UserInformation = structuredClone(setupUu.value);
  const pdu = uu['h323-uu-pdu'];
  const body = pdu['h323-message-body'];
  if (body.choice !== 'setup') throw new Error('not a Setup');
  body.value.sourceInfo = { ...body.value.sourceInfo, vendor: { vendor: { t35CountryCode: 181, t35Extension: 0, manufacturerCode: 18 }, productId: Buffer.from(productId, 'latin1') } };
  delete body.value.fastStart;
  pdu.h245Tunneling = true;
  pdu.h245Control = [h245.terminalCapabilitySet(1, ['g711Ulaw64k']), h245.masterSlaveDetermination(0x10)].map((m) => encode(MultimediaSystemControlMessage, m));
  return encodeQ931({ ...setupQ931, ies: [...setupQ931.ies.filter((ie) => ie.code !== IE.userUser), userUserIe(encode(H323_UserInformation, uu))] });
}

const OFFER = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 5100 RTP/AVP 9 0 8\r\na=rtpmap:9 G722/8000\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n';

/** What Carillon sent: each Q.931 message's type and its tunnelled H.245 PDUs by name. */
function sentOf(c: MemoryConnection): { type: number; h245: string[] }[] {
  return c.sent.map((b) => {
    const m = decodeQ931(b);
    const uu = decode(H323_UserInformation, readUserUser(ieOf(m, IE.userUser)) ?? Buffer.alloc(0));
    const pdus = uu.ok ? (uu.value['h323-uu-pdu'].h245Control ?? []) : [];
    return { type: m.type, h245: pdus.map((p) => { const r = decode(MultimediaSystemControlMessage, p); return r.ok ? h245.h245Name(r.value) : 'undecodable'; }) };
  });
}

async function answeredCall(productId: string): Promise<MemoryConnection> {
  const edge = new H323Edge(
    { bindAddress: '127.0.0.1', advertisedAddress: '127.0.0.1', port: 0, domain: 'carillon.local' },
    { sockets: socketsWithLookup(() => undefined as never), timers: nodeTimers, logger: pino({ level: 'silent' }), draw: () => 0.5 },
  );
  edge.onCall = (i: IncomingCall) => {
    expect(i.offer, 'no fastStart: a late offer').toBeUndefined();
    i.leg.events = { ...i.leg.events, confirmed: () => undefined, ended: () => undefined };
    queueMicrotask(() => i.leg.answer(200, undefined, { contentType: 'application/sdp', bytes: Buffer.from(OFFER) }, []));
  };
  const c = new MemoryConnection();
  edge.accept(c);
  c.handler.frame(setupWith(productId));
  await new Promise((r) => setTimeout(r, 20));
  return c;
}

describe('the H.323 leg in process', () => {
  it('answers a tunnelled slow-start Setup: the Setup’s TCS and MSD acked and Carillon’s own sent in the first messages', async () => {
    const c = await answeredCall('RealPresence Desktop');
    const sent = sentOf(c);
    expect(sent[0]?.type).toBe(0x02);
    const all = sent.flatMap((s) => s.h245);
    for (const k of ['response.terminalCapabilitySetAck', 'response.masterSlaveDeterminationAck', 'request.terminalCapabilitySet', 'request.masterSlaveDetermination']) expect(all).toContain(k);
    // The peer's acks were never sent here, so Carillon opens no channel yet and several PDUs share a message.
    expect(sent.some((s) => s.h245.length > 1)).toBe(true);
    expect(sent.map((s) => s.type)).toContain(0x07);
    c.close();
  });

  it('toward a Cisco IOS caller, one tunnelled H.245 PDU per message', async () => {
    const c = await answeredCall('Cisco IOS');
    const sent = sentOf(c);
    expect(sent.every((s) => s.h245.length <= 1), JSON.stringify(sent)).toBe(true);
    expect(sent.flatMap((s) => s.h245)).toEqual(expect.arrayContaining(['response.terminalCapabilitySetAck', 'response.masterSlaveDeterminationAck', 'request.terminalCapabilitySet', 'request.masterSlaveDetermination']));
    c.close();
  });
});
