import { describe, expect, it } from 'vitest';
import type { EndpointSnapshot, SessionSnapshot } from '../../../media/protocol.ts';
import { CODEC_IMPAIRMENTS, impairmentOf, mos } from '../../../media/quality/mos.ts';
import { audioStream, legFigures, qualityRecord } from '../../../media/quality/record.ts';
import type { QualityContext } from '../../../media/quality/record.ts';

function endpoint(id: string, codec: string | null, over: Partial<EndpointSnapshot> = {}): EndpointSnapshot {
  return {
    id,
    kind: 'audio',
    clockRateHz: 8000,
    codec,
    connectedTo: null,
    rtpPackets: 980,
    rtpBytes: 980 * 172,
    rtcpPackets: 2,
    rtcpBytes: 200,
    packetsExpected: 1000,
    packetsLost: 20,
    jitterUs: 4000,
    sentRtpPackets: 1000,
    sentRtpBytes: 172_000,
    sentRtcpPackets: 2,
    sentRtcpBytes: 200,
    reportedLost: null,
    reportedFractionLost: null,
    reportedJitterUs: null,
    rttUs: 40_000,
    dropped: 0,
    unobserved: 0,
    latched: true,
    relatches: 0,
    duplicates: 0,
    ...over,
  };
}

const ctx: QualityContext = { voiceConnectorId: 'vc', callId: 'c', fromUser: '1', fromCountry: null, toUser: '2', toCountry: null, endpointId: 'e', region: 'r', custSide: 'a' };

describe('quality records from endpoint snapshots', () => {
  it('scores each leg with its own codec (G.729 lower than G.711 at the same loss, jitter and RTT)', () => {
    const g711 = legFigures(endpoint('0a', 'PCMU'));
    const g729 = legFigures(endpoint('0b', 'G729'));
    const inputs = { lossPct: 2, jitterUs: 4000, rttUs: 40_000 };
    expect(g711.mos).toBe(mos(inputs, CODEC_IMPAIRMENTS.PCMU));
    expect(g729.mos).toBe(mos(inputs, CODEC_IMPAIRMENTS.G729));
    expect(g729.mos as number).toBeLessThan(g711.mos as number);
    // No codec known: G.711 with concealment, as before.
    expect(legFigures(endpoint('x', null)).mos).toBe(g711.mos);
  });

  it('knows codec names in any case and G.729 annexes', () => {
    expect(impairmentOf('g729')).toEqual(CODEC_IMPAIRMENTS.G729);
    expect(impairmentOf('G729A')).toEqual(CODEC_IMPAIRMENTS.G729);
    expect(impairmentOf('opus')).toEqual(CODEC_IMPAIRMENTS.OPUS);
    expect(impairmentOf(undefined)).toEqual(CODEC_IMPAIRMENTS.PCMU);
  });

  it('takes the customer and remote legs from the audio connection, a and b in connect order', () => {
    const snap: SessionSnapshot = {
      endpoints: [endpoint('0a', 'PCMU', { rtpPackets: 11, connectedTo: '0b' }), endpoint('0b', 'PCMU', { rtpPackets: 22, connectedTo: '0a' }), endpoint('1a', 'H264', { kind: 'video' })],
      connections: [{ a: '0a', b: '0b' }],
    };
    expect(audioStream(snap)?.a.id).toBe('0a');
    const cust = qualityRecord(ctx, 0, snap, undefined, true);
    expect(cust.cust2vc_rtp_packets).toBe(11);
    expect(cust.rem2vc_rtp_packets).toBe(22);
    const rem = qualityRecord({ ...ctx, custSide: 'b' }, 0, snap, undefined, true);
    expect(rem.cust2vc_rtp_packets).toBe(22);
  });
});
