import { readFileSync } from 'node:fs';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { PeerRequest, SessionBody } from '../../../common/call-leg.ts';
import type { IncomingCall } from '../../../common/incoming-call.ts';
import { socketsWithLookup } from '../../../common/sockets.ts';
import { H323_UserInformation } from '../../../signaling/h323/asn/h225.ts';
import type { H323_UserInformation as UserInformation } from '../../../signaling/h323/asn/h225.ts';
import { MultimediaSystemControlMessage, OpenLogicalChannel } from '../../../signaling/h323/asn/h245.ts';
import * as h225 from '../../../signaling/h323/call/h225-messages.ts';
import * as h245 from '../../../signaling/h323/call/h245-messages.ts';
import { MEDIA_CONTROL_TYPE, PICTURE_FAST_UPDATE_XML } from '../../../signaling/h323/call/video-channels.ts';
import { H323Edge } from '../../../signaling/h323/h323-edge.ts';
import { decode, encode } from '../../../signaling/h323/per/index.ts';
import { decodeQ931, encodeQ931, ieOf, IE, readUserUser, userUserIe } from '../../../signaling/h323/q931/q931.ts';
import { TpktReader } from '../../../signaling/h323/q931/tpkt.ts';
import { ManualTimers } from '../../support/manual-timers.ts';
import { MemoryConnection } from '../../support/memory-tpkt.ts';
import { audioProposals, videoProposals } from './video-proposals.ts';

/**
 * The H.323 leg's video in process (memory TPKT, manual timers), on the capture's real Setup with
 * Fast Connect proposals for G.711 and H.264: the offer carries an `m=video` H.264 line, the
 * answer's video line goes back as the video fastStart answers, the call layer's RFC 5168 INFO
 * becomes videoFastUpdatePicture on the caller's channel, the caller's VFUs become (bounded) INFO
 * requests, and its video OLCs are taken or refused.
 */

const fixture = JSON.parse(readFileSync(new URL('../../fixtures/h323-endpoint/h323-capture.json', import.meta.url), 'utf8')) as { frames: { channel: string; kind: string; tcpPayloadHex: string }[] };
const setupFrame = fixture.frames.find((f) => f.kind === 'setup');
const setupQ931 = decodeQ931(new TpktReader(65_531).push(Buffer.from(setupFrame?.tcpPayloadHex ?? '', 'hex')).frames[0] as Buffer);
const setupUu = decode(H323_UserInformation, readUserUser(ieOf(setupQ931, IE.userUser)) as Buffer);

function setupWithVideo(fastStart = true, peerVideo = true): Buffer {
  if (!setupUu.ok) throw new Error('capture Setup undecodable');
  const uu: UserInformation = structuredClone(setupUu.value);
  const pdu = uu['h323-uu-pdu'];
  const body = pdu['h323-message-body'];
  if (body.choice !== 'setup') throw new Error('not a Setup');
  if (fastStart) body.value.fastStart = [...audioProposals(), ...videoProposals().map((x) => x.olc)].map((o) => encode(OpenLogicalChannel, o));
  else delete body.value.fastStart;
  body.value.mediaWaitForConnect = false;
  pdu.h245Tunneling = true;
  pdu.h245Control = [h245.terminalCapabilitySet(1, ['g711Ulaw64k'], peerVideo), h245.masterSlaveDetermination(0x10)].map((m) => encode(MultimediaSystemControlMessage, m));
  return encodeQ931({ ...setupQ931, ies: [...setupQ931.ies.filter((ie) => ie.code !== IE.userUser), userUserIe(encode(H323_UserInformation, uu))] });
}

/** A Facility from the caller tunnelling `msgs`. */
function callerFacility(msgs: readonly MultimediaSystemControlMessage[]): Buffer {
  const ids = { callReference: setupQ931.callReference, callIdentifier: Buffer.alloc(16), conferenceId: Buffer.alloc(16) };
  const m = decodeQ931(h225.facilityTunnel(ids, msgs.map((x) => encode(MultimediaSystemControlMessage, x))));
  return encodeQ931({ ...m, fromDestination: false });
}

/** Carillon's messages: the fastStart elements and the tunnelled H.245 PDUs, decoded. */
function sentOf(c: MemoryConnection): { fastStart: OpenLogicalChannel[]; h245: MultimediaSystemControlMessage[] } {
  const fastStart: OpenLogicalChannel[] = [];
  const out: MultimediaSystemControlMessage[] = [];
  for (const b of c.sent) {
    const uu = decode(H323_UserInformation, readUserUser(ieOf(decodeQ931(b), IE.userUser)) ?? Buffer.alloc(0));
    if (!uu.ok) continue;
    const body = uu.value['h323-uu-pdu']['h323-message-body'];
    if (body.choice === 'connect') for (const f of body.value.fastStart ?? []) { const r = decode(OpenLogicalChannel, f); if (r.ok) fastStart.push(r.value); }
    for (const p of uu.value['h323-uu-pdu'].h245Control ?? []) { const r = decode(MultimediaSystemControlMessage, p); if (r.ok) out.push(r.value); }
  }
  return { fastStart, h245: out };
}

const answerSdp = (videoPort: number): string =>
  `v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 5100 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=rtcp:5101\r\nm=video ${videoPort} RTP/AVP 109\r\nb=AS:2048\r\na=rtpmap:109 H264/90000\r\na=fmtp:109 profile-level-id=42e01f;packetization-mode=1\r\na=sendrecv\r\na=rtcp:${videoPort + 1}\r\n`;

async function videoCall(videoPort: number, setup = setupWithVideo()): Promise<{ c: MemoryConnection; incoming: IncomingCall; requests: PeerRequest[]; timers: ManualTimers; offer: string; confirmed: (SessionBody | undefined)[] }> {
  const timers = new ManualTimers();
  const edge = new H323Edge({ bindAddress: '127.0.0.1', advertisedAddress: '127.0.0.1', port: 0, domain: 'carillon.local' }, { sockets: socketsWithLookup(() => undefined as never), timers, logger: pino({ level: 'silent' }), draw: () => 0.5 });
  const requests: PeerRequest[] = [];
  const confirmed: (SessionBody | undefined)[] = [];
  let incoming: IncomingCall | undefined;
  edge.onCall = (i: IncomingCall) => {
    incoming = i;
    i.leg.events = { ...i.leg.events, confirmed: (b) => confirmed.push(b), ended: () => undefined, request: (r) => requests.push(r) };
    queueMicrotask(() => i.leg.answer(200, undefined, { contentType: 'application/sdp', bytes: Buffer.from(answerSdp(videoPort)) }, []));
  };
  const c = new MemoryConnection();
  edge.accept(c);
  c.handler.frame(setup);
  await new Promise((r) => setTimeout(r, 20));
  if (incoming === undefined) throw new Error('no call');
  return { c, incoming, requests, timers, offer: incoming.offer?.bytes.toString('utf8') ?? '', confirmed };
}

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 10));
const vfuOf = (m: MultimediaSystemControlMessage): number | undefined =>
  m.choice === 'command' && m.value.choice === 'miscellaneousCommand' && m.value.value.type.choice === 'videoFastUpdatePicture' ? m.value.value.logicalChannelNumber : undefined;
const info = (): SessionBody => ({ contentType: MEDIA_CONTROL_TYPE, bytes: Buffer.from(PICTURE_FAST_UPDATE_XML, 'utf8') });

describe('the H.323 leg’s video', () => {
  it('offers the caller’s H.264 as m=video (no rtcp-fb); the answer’s video line goes back as two video fastStart answers', async () => {
    const { c, offer } = await videoCall(5102);
    expect(offer).toContain('m=audio 7000 RTP/AVP 0');
    expect(offer).toMatch(/m=video 7002 RTP\/AVP 109\r\nc=IN IP4 192\.0\.2\.20\r\n/);
    expect(offer).toContain('a=rtpmap:109 H264/90000');
    expect(offer).toContain('a=fmtp:109 profile-level-id=42e01f;packetization-mode=1');
    expect(offer).not.toContain('rtcp-fb');
    const { fastStart } = sentOf(c);
    expect(fastStart).toHaveLength(4);
    const video = fastStart.filter((o) => o.forwardLogicalChannelParameters.dataType.choice === 'videoData' || o.reverseLogicalChannelParameters?.dataType.choice === 'videoData');
    expect(video).toHaveLength(2);
    // The caller's channel 2 to Carillon, with Carillon's video RTP and RTCP.
    const toUs = video.find((o) => o.forwardLogicalChannelNumber === 2 && o.reverseLogicalChannelParameters === undefined);
    const mp = toUs?.forwardLogicalChannelParameters.multiplexParameters;
    expect(mp?.choice === 'h2250LogicalChannelParameters' ? [h245.readH245Address(mp.value.mediaChannel)?.port, h245.readH245Address(mp.value.mediaControlChannel)?.port, mp.value.sessionID] : []).toEqual([5102, 5103, 2]);
    c.close();
  });

  it('INFO picture_fast_update → videoFastUpdatePicture on the caller’s channel; the caller’s VFU flood → one INFO per 500 ms', async () => {
    const { c, incoming, requests, timers } = await videoCall(5102);
    const outcomes: number[] = [];
    incoming.leg.relay('INFO', info(), [], 70, (o) => outcomes.push(o.status));
    await settle();
    expect(outcomes).toEqual([200]);
    expect(sentOf(c).h245.map(vfuOf).filter((x) => x !== undefined)).toEqual([2]);
    // The caller asks for key frames of Carillon's channel (2) twenty times at once.
    c.handler.frame(callerFacility(Array.from({ length: 20 }, () => h245.videoFastUpdatePicture(2))));
    await settle();
    const infos = (): PeerRequest[] => requests.filter((r) => r.method === 'INFO' && r.body?.contentType === MEDIA_CONTROL_TYPE);
    expect(infos()).toHaveLength(1);
    expect(infos()[0]?.body?.bytes.toString('utf8')).toContain('<picture_fast_update/>');
    timers.advance(500);
    c.handler.frame(callerFacility([h245.videoFastUpdatePicture(2), h245.videoFastUpdatePicture(2)]));
    await settle();
    expect(infos()).toHaveLength(2);
    // A VFU about a channel that is not Carillon's video is not a request for its picture.
    timers.advance(500);
    c.handler.frame(callerFacility([h245.videoFastUpdatePicture(1)]));
    await settle();
    expect(infos()).toHaveLength(2);
    c.close();
  });

  it('the caller’s video OLC over H.245: acked on Carillon’s video port (session 2); a bidirectional or audio-session one refused', async () => {
    const { c } = await videoCall(5102);
    const [toUs] = videoProposals();
    const olc = toUs?.olc as OpenLogicalChannel;
    const fwd = olc.forwardLogicalChannelParameters;
    const mp = fwd.multiplexParameters;
    if (mp.choice !== 'h2250LogicalChannelParameters') throw new Error('h2250');
    const req = (o: OpenLogicalChannel): MultimediaSystemControlMessage => ({ choice: 'request', value: { choice: 'openLogicalChannel', value: o } });
    c.handler.frame(
      callerFacility([
        { choice: 'request', value: { choice: 'closeLogicalChannel', value: { forwardLogicalChannelNumber: 2, source: { choice: 'user', value: null } } } },
        req({ ...olc, forwardLogicalChannelNumber: 12 }),
        req({ ...olc, forwardLogicalChannelNumber: 13, reverseLogicalChannelParameters: { dataType: fwd.dataType, multiplexParameters: mp } }),
        req({ ...olc, forwardLogicalChannelNumber: 14, forwardLogicalChannelParameters: { ...fwd, multiplexParameters: { ...mp, value: { ...mp.value, sessionID: 1 } } } }),
      ]),
    );
    await settle();
    const responses = sentOf(c).h245.flatMap((m) => (m.choice === 'response' ? [m.value] : []));
    const ack = responses.find((r) => r.choice === 'openLogicalChannelAck' && r.value.forwardLogicalChannelNumber === 12);
    const p = ack?.choice === 'openLogicalChannelAck' ? ack.value.forwardMultiplexAckParameters : undefined;
    expect(p?.choice === 'h2250LogicalChannelAckParameters' ? [p.value.sessionID, h245.readH245Address(p.value.mediaChannel)?.port, h245.readH245Address(p.value.mediaControlChannel)?.port] : []).toEqual([2, 5102, 5103]);
    const rejects = responses.flatMap((r) => (r.choice === 'openLogicalChannelReject' ? [[r.value.forwardLogicalChannelNumber, r.value.cause.choice]] : []));
    expect(rejects).toEqual([
      [13, 'unsuitableReverseParameters'],
      [14, 'invalidSessionID'],
    ]);
    c.close();
  });

  it('an answer that rejects video (port 0): no video fastStart answers, video OLCs refused, INFO key frame requests answered 488', async () => {
    const { c, incoming } = await videoCall(0);
    expect(sentOf(c).fastStart).toHaveLength(2);
    const [toUs] = videoProposals();
    c.handler.frame(callerFacility([{ choice: 'request', value: { choice: 'openLogicalChannel', value: { ...(toUs?.olc as OpenLogicalChannel), forwardLogicalChannelNumber: 12 } } }, h245.videoFastUpdatePicture(2)]));
    const outcomes: number[] = [];
    incoming.leg.relay('INFO', info(), [], 70, (o) => outcomes.push(o.status));
    await settle();
    expect(outcomes).toEqual([488]);
    const responses = sentOf(c).h245.flatMap((m) => (m.choice === 'response' && m.value.choice === 'openLogicalChannelReject' ? [m.value.value.cause.choice] : []));
    expect(responses).toEqual(['dataTypeNotSupported']);
    expect(sentOf(c).h245.map(vfuOf).filter((x) => x !== undefined)).toEqual([]);
    c.close();
  });

  it('slow start: Carillon’s offer with H.264 is realised over H.245 — its video OLC, the caller’s acked on Carillon’s video port — and the caller’s OLCAck is the answer’s video line', async () => {
    const { c, timers, confirmed } = await videoCall(5102, setupWithVideo(false));
    const rtp = (port: number) => ({ address: '192.0.2.20', port });
    c.handler.frame(callerFacility([h245.terminalCapabilitySetAck(1)]));
    await settle();
    // Carillon's video channel goes at once (the peer receives H.264); its audio after the 300 ms wait for the caller's.
    const olcs = (): OpenLogicalChannel[] => sentOf(c).h245.flatMap((m) => (m.choice === 'request' && m.value.choice === 'openLogicalChannel' ? [m.value.value] : []));
    expect(olcs().map((o) => [o.forwardLogicalChannelNumber, o.forwardLogicalChannelParameters.dataType.choice])).toEqual([[2, 'videoData']]);
    const [toUs] = videoProposals();
    c.handler.frame(callerFacility([{ choice: 'request', value: { choice: 'openLogicalChannel', value: { ...(toUs?.olc as OpenLogicalChannel), forwardLogicalChannelNumber: 12 } } }]));
    timers.advance(300);
    await settle();
    expect(olcs().map((o) => o.forwardLogicalChannelNumber)).toEqual([2, 1]);
    const ack = sentOf(c).h245.flatMap((m) => (m.choice === 'response' && m.value.choice === 'openLogicalChannelAck' ? [m.value.value] : [])).find((a) => a.forwardLogicalChannelNumber === 12);
    const p = ack?.forwardMultiplexAckParameters;
    expect(p?.choice === 'h2250LogicalChannelAckParameters' ? [p.value.sessionID, h245.readH245Address(p.value.mediaChannel)?.port] : []).toEqual([2, 5102]);
    // The audio ack alone does not confirm: the video is not settled yet.
    c.handler.frame(callerFacility([h245.openLogicalChannelAck(1, rtp(7000), rtp(7001))]));
    await settle();
    expect(confirmed).toHaveLength(0);
    c.handler.frame(callerFacility([h245.openLogicalChannelAck(2, rtp(7002), rtp(7003), 2)]));
    await settle();
    expect(confirmed).toHaveLength(1);
    const answer = confirmed[0]?.bytes.toString('utf8') ?? '';
    expect(answer).toContain('m=audio 7000 RTP/AVP 0');
    expect(answer).toMatch(/m=video 7002 RTP\/AVP 109\r\nc=IN IP4 192\.0\.2\.20\r\na=rtpmap:109 H264\/90000\r\na=fmtp:109 profile-level-id=42e01f;packetization-mode=1\r\na=rtcp:7003 IN IP4 192\.0\.2\.20\r\n/);
    c.close();
  });

  it('slow start: a peer that never answers Carillon’s video OLC gets the call without video after 5 s (port 0), not a release', async () => {
    const { c, timers, confirmed } = await videoCall(5102, setupWithVideo(false));
    c.handler.frame(callerFacility([h245.terminalCapabilitySetAck(1)]));
    timers.advance(300);
    await settle();
    c.handler.frame(callerFacility([h245.openLogicalChannelAck(1, { address: '192.0.2.20', port: 7000 }, { address: '192.0.2.20', port: 7001 })]));
    await settle();
    expect(confirmed).toHaveLength(0);
    timers.advance(5000);
    await settle();
    expect(confirmed[0]?.bytes.toString('utf8')).toContain('m=video 0 RTP/AVP 109');
    expect(c.closed).toBe(false);
    c.close();
  });

  it('slow start toward a peer without H.264 in its TCS: no video channel, the answer’s video line is port 0', async () => {
    const { c, timers, confirmed } = await videoCall(5102, setupWithVideo(false, false));
    c.handler.frame(callerFacility([h245.terminalCapabilitySetAck(1)]));
    timers.advance(300);
    await settle();
    const olcs = sentOf(c).h245.flatMap((m) => (m.choice === 'request' && m.value.choice === 'openLogicalChannel' ? [m.value.value.forwardLogicalChannelNumber] : []));
    expect(olcs).toEqual([1]);
    c.handler.frame(callerFacility([h245.openLogicalChannelAck(1, { address: '192.0.2.20', port: 7000 }, { address: '192.0.2.20', port: 7001 })]));
    await settle();
    expect(confirmed[0]?.bytes.toString('utf8')).toContain('m=video 0 RTP/AVP 109');
    c.close();
  });
});
