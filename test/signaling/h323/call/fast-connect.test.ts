import { describe, expect, it } from 'vitest';
import { chooseFastStart, offerOfFastStart } from '../../../../signaling/h323/call/fast-connect.ts';
import type { FastStartProposal } from '../../../../signaling/h323/call/fast-connect.ts';
import { readSdp } from '../../../../signaling/sdp/anchor.ts';

let n = 0;
function proposal(direction: FastStartProposal['direction'], capability: string, extra: Partial<FastStartProposal> = {}): FastStartProposal {
  n += 1;
  return {
    index: n,
    sessionId: 1,
    direction,
    kind: 'audio',
    capability,
    framesPerPacket: 20,
    forwardLogicalChannelNumber: direction === 'to-us' ? 100 + n : 0,
    mediaChannel: direction === 'to-peer' ? { address: '192.0.2.7', port: 5004 } : undefined,
    mediaControlChannel: { address: '192.0.2.7', port: 5005 },
    bidirectional: false,
    ...extra,
  };
}

// What a room system proposes: G.722.1C (unknown here), G.722, G.711 µ/A for each direction, and H.264.
const proposals: FastStartProposal[] = [
  ...['g7221C', 'g722-64k', 'g711Ulaw64k', 'g711Alaw64k'].map((c) => proposal('to-us', c)),
  ...['g7221C', 'g722-64k', 'g711Ulaw64k', 'g711Alaw64k'].map((c) => proposal('to-peer', c)),
  proposal('to-peer', 'genericVideoCapability', { kind: 'video', sessionId: 2 }),
];

describe('Fast Connect in the call model', () => {
  it('offers the audio codecs the caller proposed both ways, in its order, where it receives', () => {
    const sdp = offerOfFastStart(proposals, 1);
    expect(sdp).toBeDefined();
    const line = readSdp(sdp ?? '')?.media[0];
    expect(line).toMatchObject({ type: 'audio', address: '192.0.2.7', port: 5004, rtcpPort: 5005, payloads: [9, 0, 8] });
  });

  it('has no offer when no usable receive channel was proposed (bidirectional, IPv6, a bad port, one direction only)', () => {
    expect(offerOfFastStart([proposal('to-us', 'g711Ulaw64k')], 1)).toBeUndefined();
    expect(offerOfFastStart([proposal('to-us', 'g711Ulaw64k'), proposal('to-peer', 'g711Ulaw64k', { bidirectional: true })], 1)).toBeUndefined();
    expect(offerOfFastStart([proposal('to-us', 'g711Ulaw64k'), proposal('to-peer', 'g711Ulaw64k', { mediaChannel: { address: '::1', port: 5004 } })], 1)).toBeUndefined();
    expect(offerOfFastStart([proposal('to-us', 'g711Ulaw64k'), proposal('to-peer', 'g711Ulaw64k', { mediaChannel: { address: '192.0.2.7', port: 0 } })], 1)).toBeUndefined();
    expect(offerOfFastStart([proposal('to-us', 'g711Ulaw64k'), proposal('to-peer', 'g711Alaw64k')], 1)).toBeUndefined();
  });

  it("picks one proposal per direction: the answer's codec, and Carillon's address from the answer", () => {
    const answer = 'v=0\r\no=- 1 1 IN IP4 203.0.113.1\r\ns=-\r\nc=IN IP4 203.0.113.1\r\nt=0 0\r\nm=audio 5100 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n';
    const c = chooseFastStart(proposals, answer);
    expect(c?.capability).toBe('g711Ulaw64k');
    expect(c?.toUs.direction).toBe('to-us');
    expect(c?.toPeer.direction).toBe('to-peer');
    expect(c?.toUs.capability).toBe('g711Ulaw64k');
    expect(c?.local).toEqual({ address: '203.0.113.1', port: 5100 });
    expect(c?.localRtcp).toEqual({ address: '203.0.113.1', port: 5101 });
  });

  it('refuses Fast Connect when the answer names nothing proposed, or rejects the line', () => {
    expect(chooseFastStart(proposals, 'v=0\r\no=- 1 1 IN IP4 203.0.113.1\r\ns=-\r\nc=IN IP4 203.0.113.1\r\nt=0 0\r\nm=audio 0 RTP/AVP 0\r\n')).toBeUndefined();
    expect(chooseFastStart(proposals, 'v=0\r\no=- 1 1 IN IP4 203.0.113.1\r\ns=-\r\nc=IN IP4 203.0.113.1\r\nt=0 0\r\nm=audio 5100 RTP/AVP 18\r\n')).toBeUndefined();
    expect(chooseFastStart(proposals, 'not sdp')).toBeUndefined();
  });
});
