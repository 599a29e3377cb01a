import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MultimediaSystemControlMessage, OpenLogicalChannel } from '../../../signaling/h323/asn/h245.ts';
import * as h225 from '../../../signaling/h323/call/h225-messages.ts';
import * as h245 from '../../../signaling/h323/call/h245-messages.ts';
import { h264Capability, h241LevelOf, levelIdcOf, readH264 } from '../../../signaling/h323/call/h264-capability.ts';
import { localVideoOf, VideoChannels, videoOfferLines } from '../../../signaling/h323/call/video-channels.ts';
import type { Proposal } from '../../../signaling/h323/call/video-channels.ts';
import { videoProposals } from './video-proposals.ts';
import { decode, encode } from '../../../signaling/h323/per/index.ts';
import { encodeTpkt } from '../../../signaling/h323/q931/tpkt.ts';
import { ManualTimers } from '../../support/manual-timers.ts';
import { decodeWithTshark, fieldValue, fieldValues } from '../../support/tshark-oracle.ts';
import type { TsharkPacket } from '../../support/tshark-oracle.ts';

/**
 * H.264 video of the H.323 edge (H.241): Carillon's TCS entries, the fastStart answers for a
 * caller's video proposals, the OLCAck/OLCReject for its video OLCs and videoFastUpdatePicture go
 * through tshark with no "Malformed" and the intended values (profile 41 then level 42); the
 * capability reads back into SDP terms; the proposals become an `m=video` line.
 */

const ids = { callReference: 0x1234, callIdentifier: Buffer.from('c0fef93ecd9ed6119ab2000476222017', 'hex'), conferenceId: Buffer.from('f8fdf93ecd9ed6119ab2000476222017', 'hex') };
const enc = (m: MultimediaSystemControlMessage): Buffer => encode(MultimediaSystemControlMessage, m);

async function tshark(q931: readonly Buffer[]): Promise<TsharkPacket[]> {
  const pkts = await decodeWithTshark(q931.map((p) => ({ payload: encodeTpkt(p), srcPort: 1720, dstPort: 40000 })));
  expect(pkts).toHaveLength(q931.length);
  for (const p of pkts) expect(p.malformed, p.errors.join('; ')).toBe(false);
  return pkts;
}

const ANSWER = 'v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 5100 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\nm=video 5102 RTP/AVP 109\r\na=rtpmap:109 H264/90000\r\na=fmtp:109 profile-level-id=42e01f;packetization-mode=1\r\na=rtcp:5103\r\n';

function channels(): { v: VideoChannels; asked: number[]; infos: string[]; timers: ManualTimers } {
  const asked: number[] = [];
  const infos: string[] = [];
  const timers = new ManualTimers();
  const v = new VideoChannels({ timers, requestKeyFrame: (lcn) => asked.push(lcn), request: (r) => infos.push(`${r.method} ${r.body?.contentType ?? ''} ${r.body?.bytes.toString('utf8').includes('picture_fast_update') === true}`), settled: () => undefined });
  return { v, asked, infos, timers };
}

describe('H.264 capability (H.241)', () => {
  it('levels map both ways; Carillon advertises Baseline at 3.1 (71), 2048 kbit/s', () => {
    expect([10, 13, 21, 30, 31, 40].map(h241LevelOf)).toEqual([15, 36, 50, 64, 71, 85]);
    expect([15, 36, 71, 72, 85].map(levelIdcOf)).toEqual([10, 13, 31, 31, 40]);
    expect(levelIdcOf(3)).toBeUndefined();
    expect(readH264({ choice: 'genericVideoCapability', value: h264Capability() })).toEqual({ profiles: 64, levelIdc: 31, maxBitRateBps: 2_048_000 });
    // Not H.264 (H.239 control OID), no level, or a profile Carillon cannot send to: not read.
    expect(readH264({ choice: 'genericVideoCapability', value: { capabilityIdentifier: { choice: 'standard', value: [0, 0, 8, 239, 1, 1] } } })).toBeUndefined();
    expect(readH264({ choice: 'genericVideoCapability', value: { ...h264Capability(), collapsing: [] } })).toBeUndefined();
    const extendedOnly = { ...h264Capability(), collapsing: [{ parameterIdentifier: { choice: 'standard' as const, value: 41 }, parameterValue: { choice: 'booleanArray' as const, value: 16 } }, { parameterIdentifier: { choice: 'standard' as const, value: 42 }, parameterValue: { choice: 'unsignedMin' as const, value: 71 } }] };
    expect(readH264({ choice: 'genericVideoCapability', value: extendedOnly })).toBeUndefined();
  });

  it('the proposals become one m=video line: the caller’s receive address, H264/90000, Constrained Baseline at its level, its mode, no rtcp-fb', () => {
    expect(videoOfferLines(videoProposals(50))).toEqual(['m=video 7002 RTP/AVP 109', 'c=IN IP4 192.0.2.20', 'b=AS:768', 'a=rtpmap:109 H264/90000', 'a=fmtp:109 profile-level-id=42e015;packetization-mode=1', 'a=rtcp:7003 IN IP4 192.0.2.20', 'a=sendrecv']);
    expect(videoOfferLines(videoProposals(85, true))).toContain('a=fmtp:109 profile-level-id=42e01f;packetization-mode=0');
    expect(videoOfferLines(videoProposals().slice(0, 1))).toEqual([]);
    expect(localVideoOf(ANSWER)).toEqual({ rtp: { address: '192.0.2.10', port: 5102 }, rtcp: { address: '192.0.2.10', port: 5103 }, payloadType: 109 });
    expect(localVideoOf(ANSWER.replace('m=video 5102', 'm=video 0'))).toBeUndefined();
  });
});

describe('video channels', () => {
  it('an answer with video picks both proposals; without it, none', () => {
    const { v } = channels();
    expect(v.fastStartAnswers(videoProposals(), ANSWER.replace('m=video 5102', 'm=video 0'))).toEqual([]);
    expect(v.agreed).toBe(false);
    const out = v.fastStartAnswers(videoProposals(), ANSWER);
    expect(out.map((o) => o.forwardLogicalChannelNumber)).toEqual([2, 2]);
    expect(v.peerLcn).toBe(2);
    expect(v.ownLcn).toBe(2);
  });

  it('the peer’s video OLCs: taken onto the agreed video, refused when malformed or not agreed', () => {
    const { v } = channels();
    const [toUs] = videoProposals();
    const olc = (toUs as Proposal).olc;
    expect(v.peerOpens(olc), 'no video agreed').toBe('dataTypeNotSupported');
    v.fastStartAnswers(videoProposals(), ANSWER);
    expect(v.peerOpens({ ...olc, forwardLogicalChannelNumber: 7 })).toEqual({ rtp: { address: '192.0.2.10', port: 5102 }, rtcp: { address: '192.0.2.10', port: 5103 }, sessionId: 2 });
    expect(v.peerLcn).toBe(7);
    const fwd = olc.forwardLogicalChannelParameters;
    const mp = fwd.multiplexParameters;
    if (mp.choice !== 'h2250LogicalChannelParameters') throw new Error('h2250');
    expect(v.peerOpens({ ...olc, reverseLogicalChannelParameters: { dataType: fwd.dataType, multiplexParameters: mp } })).toBe('unsuitableReverseParameters');
    expect(v.peerOpens({ ...olc, forwardLogicalChannelParameters: { ...fwd, multiplexParameters: { ...mp, value: { ...mp.value, sessionID: 1 } } } })).toBe('invalidSessionID');
    expect(v.peerOpens({ ...olc, forwardLogicalChannelParameters: { ...fwd, dataType: { choice: 'videoData', value: { choice: 'genericVideoCapability', value: { capabilityIdentifier: { choice: 'standard', value: [0, 0, 8, 241, 0, 0, 1] } } } } } })).toBe('dataTypeNotSupported');
    v.peerClosed(7);
    expect(v.askKeyFrame(), 'no peer channel after it closed').toBe(false);
  });

  it('key frames: INFO → videoFastUpdatePicture on the peer’s channel; the peer’s VFUs → at most one INFO per 500 ms', () => {
    const { v, asked, infos, timers } = channels();
    expect(v.askKeyFrame()).toBe(false);
    v.fastStartAnswers(videoProposals(), ANSWER);
    expect(v.askKeyFrame()).toBe(true);
    expect(asked).toEqual([2]);
    for (let i = 0; i < 50; i++) v.peerAsksKeyFrame(2);
    v.peerAsksKeyFrame(99);
    expect(infos).toEqual(['INFO application/media_control+xml true']);
    expect(v.keyFramesDropped).toBe(49);
    timers.advance(500);
    v.peerAsksKeyFrame(2);
    expect(infos).toHaveLength(2);
    v.close();
    timers.advance(500);
    v.peerAsksKeyFrame(2);
    expect(infos).toHaveLength(2);
  });
});

describe('mutated video proposals and OLCs', () => {
  it('whatever decodes is read, offered, answered or refused without an exception', () => {
    const valid = videoProposals().map((x) => encode(OpenLogicalChannel, x.olc));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }), (which, flips) => {
        const b = Buffer.from(valid[which] as Buffer);
        for (const [at, v] of flips) b[at % b.length] = v;
        const r = decode(OpenLogicalChannel, b);
        if (!r.ok) return;
        const mutated: Proposal = { olc: r.value, p: h245.proposalOf(r.value, which) };
        const others = videoProposals().filter((_, i) => i !== which);
        const { v } = channels();
        videoOfferLines([mutated, ...others]);
        const answers = v.fastStartAnswers([mutated, ...others], ANSWER);
        for (const a of answers) encode(OpenLogicalChannel, a);
        const out = v.peerOpens(r.value);
        expect(typeof out === 'string' || out.sessionId === 2).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('every video PDU Carillon sends, through tshark', () => {
  it('TCS with H.264 receive and transmit (41 Baseline, 42 level 3.1), Connect with the video fastStart answers, Carillon’s video OLC, OLCAck (session 2), OLCReject, videoFastUpdatePicture', async () => {
    const { v } = channels();
    const fs = v.fastStartAnswers(videoProposals(), ANSWER).map((o) => encode(OpenLogicalChannel, o));
    for (const b of fs) expect(decode(OpenLogicalChannel, b).ok).toBe(true);
    const pdus = [
      h245.terminalCapabilitySet(1, ['g722-64k', 'g711Ulaw64k', 'g711Alaw64k']),
      h245.openLogicalChannelAck(7, { address: '192.0.2.10', port: 5102 }, { address: '192.0.2.10', port: 5103 }, 2),
      h245.openLogicalChannelReject(8, 'unsuitableReverseParameters'),
      h245.openLogicalChannelReject(9, 'invalidSessionID'),
      h245.videoFastUpdatePicture(2),
    ];
    // Slow start: Carillon's own video OLC toward a peer receiving H.264 at level 2.1 (50).
    const slow = channels().v;
    slow.offered(ANSWER);
    const own = slow.channelToOpen({ profiles: 64, levelIdc: 21, maxBitRateBps: undefined });
    if (own === undefined) throw new Error('no video OLC');
    pdus.push({ choice: 'request', value: { choice: 'openLogicalChannel', value: own } });
    const p = await tshark([...pdus.map((m) => h225.facilityTunnel(ids, [enc(m)])), h225.connect(ids, { tunnelling: true }, { fastStart: fs })]);
    const [tcs, ack, rej1, rej2, vfu, olc, connect] = p;
    expect(fieldValues(tcs, 'h245.standardOid')).toEqual(['0.0.8.239.1.1', '0.0.8.241.0.0.1', '0.0.8.241.0.0.1']);
    expect(fieldValues(tcs, 'h245.standard'), 'profile (41) before level (42)').toEqual(['41', '42', '41', '42']);
    expect(fieldValues(tcs, 'h245.booleanArray')).toEqual(['64', '64']);
    expect(fieldValues(tcs, 'h245.unsignedMin')).toEqual(['71', '71']);
    expect(fieldValues(tcs, 'h245.maxBitRate')).toEqual(['20480', '20480']);
    expect(fieldValues(tcs, 'h245.receiveVideoCapability')).toHaveLength(1);
    expect(fieldValues(tcs, 'h245.transmitVideoCapability')).toHaveLength(1);
    // The audio and H.239 entries keep their numbers (1–6); video is 7 and 8, each an alternative set of its own.
    expect(fieldValues(tcs, 'h245.capabilityTableEntryNumber')).toEqual(['1', '2', '3', '4', '5', '6', '7', '8']);
    expect(fieldValue(tcs, 'h245.simultaneousCapabilities')).toBe('5');
    expect(fieldValues(ack, 'h245.sessionID')).toEqual(['2']);
    expect(fieldValues(ack, 'h245.tsapIdentifier')).toEqual(['5102', '5103']);
    expect(fieldValues(rej1, 'h245.unsuitableReverseParameters_element')).toHaveLength(1);
    expect(fieldValues(rej2, 'h245.invalidSessionID_element')).toHaveLength(1);
    expect(fieldValue(vfu, 'h245.logicalChannelNumber')).toBe('2');
    expect(fieldValues(vfu, 'h245.videoFastUpdatePicture_element')).toHaveLength(1);
    expect(fieldValues(olc, 'h245.forwardLogicalChannelNumber')).toEqual(['2']);
    expect(fieldValues(olc, 'h245.standardOid')).toEqual(['0.0.8.241.0.0.1']);
    expect(fieldValues(olc, 'h245.dynamicRTPPayloadType')).toEqual(['109']);
    expect(fieldValues(olc, 'h245.standard')).toEqual(['41', '42']);
    expect(fieldValues(olc, 'h245.unsignedMin')).toEqual(['50']);
    expect(fieldValues(olc, 'h245.sessionID')).toEqual(['2']);
    expect(fieldValues(olc, 'h245.tsapIdentifier')).toEqual(['5103']);
    expect(fieldValues(connect, 'h225.FastStart_item')).toHaveLength(2);
    expect(fieldValues(connect, 'h245.standardOid')).toEqual(['0.0.8.241.0.0.1', '0.0.8.241.0.0.1']);
    expect(fieldValues(connect, 'h245.sessionID')).toEqual(['2', '2']);
    expect(fieldValues(connect, 'h245.tsapIdentifier')).toEqual(expect.arrayContaining(['5102', '5103', '7002']));
    expect(fieldValues(connect, 'h245.dynamicRTPPayloadType')).toContain('109');
  });
});
