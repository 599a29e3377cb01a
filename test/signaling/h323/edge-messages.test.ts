import { describe, expect, it } from 'vitest';
import { MultimediaSystemControlMessage, OpenLogicalChannel } from '../../../signaling/h323/asn/h245.ts';
import { statusIes } from '../../../signaling/h323/call/call-state.ts';
import * as h225 from '../../../signaling/h323/call/h225-messages.ts';
import * as h245 from '../../../signaling/h323/call/h245-messages.ts';
import { encode } from '../../../signaling/h323/per/index.ts';
import { encodeTpkt } from '../../../signaling/h323/q931/tpkt.ts';
import { decodeWithTshark, fieldValue, fieldValues } from '../../support/tshark-oracle.ts';
import type { TsharkPacket } from '../../support/tshark-oracle.ts';

/**
 * The tshark oracle over every message the H.323 edge can send: each is wrapped in a pcap (TCP
 * from 1720), decoded with `tshark -V`, and must show no "Malformed" and the intended values:
 * the H.225.0 body, the Q.931 cause, and for every H.245 PDU its kind and its key fields
 * (tshark decodes H.245 tunnelled in h245Control).
 */

const ids = { callReference: 0x1234, callIdentifier: Buffer.from('c0fef93ecd9ed6119ab2000476222017', 'hex'), conferenceId: Buffer.from('f8fdf93ecd9ed6119ab2000476222017', 'hex') };
const guid = 'c0fef93e-cd9e-d611-9ab2-000476222017';
const rtp = { address: '192.0.2.10', port: 5100 };
const rtcp = { address: '192.0.2.10', port: 5101 };
const enc = (m: MultimediaSystemControlMessage): Buffer => encode(MultimediaSystemControlMessage, m);

async function tshark(q931: readonly Buffer[]): Promise<TsharkPacket[]> {
  const pkts = await decodeWithTshark(q931.map((p) => ({ payload: encodeTpkt(p), srcPort: 1720, dstPort: 40000 })));
  expect(pkts).toHaveLength(q931.length);
  for (const p of pkts) expect(p.malformed, p.errors.join('; ')).toBe(false);
  return pkts;
}

/** The caller's fastStart proposals as the test endpoint sends them: one channel each way, G.711 µ-law. */
function proposals(): { toUs: OpenLogicalChannel; toPeer: OpenLogicalChannel } {
  const toUs: OpenLogicalChannel = {
    forwardLogicalChannelNumber: 1,
    forwardLogicalChannelParameters: { dataType: { choice: 'audioData', value: { choice: 'g711Ulaw64k', value: 20 } }, multiplexParameters: { choice: 'h2250LogicalChannelParameters', value: { sessionID: 1, mediaControlChannel: h245.h245Address({ address: '192.0.2.20', port: 7001 }) as never } } },
  };
  const toPeer: OpenLogicalChannel = {
    forwardLogicalChannelNumber: 101,
    forwardLogicalChannelParameters: { dataType: { choice: 'nullData', value: null }, multiplexParameters: { choice: 'none', value: null } },
    reverseLogicalChannelParameters: {
      dataType: { choice: 'audioData', value: { choice: 'g711Ulaw64k', value: 20 } },
      multiplexParameters: { choice: 'h2250LogicalChannelParameters', value: { sessionID: 1, mediaChannel: h245.h245Address({ address: '192.0.2.20', port: 7000 }) as never, mediaControlChannel: h245.h245Address({ address: '192.0.2.20', port: 7001 }) as never } },
    },
  };
  return { toUs, toPeer };
}

describe('every H.225.0 message the edge sends, through tshark', () => {
  it('CallProceeding, Alerting, Progress, Connect (fastStart answer), Facility (startH245), Status, ReleaseComplete', async () => {
    const { toUs, toPeer } = proposals();
    const fs = [h245.fastStartAnswer(toUs, h245.proposalOf(toUs, 0), { rtp, rtcp }, 1), h245.fastStartAnswer(toPeer, h245.proposalOf(toPeer, 1), { rtp, rtcp }, 1)].map((o) => encode(OpenLogicalChannel, o));
    const msgs = [
      h225.callProceeding(ids, { tunnelling: true }),
      h225.alerting(ids, { tunnelling: false, h245Address: { address: '192.0.2.10', port: 40100 } }),
      h225.progress(ids, { tunnelling: true }, { fastStart: fs }),
      h225.connect(ids, { tunnelling: true }, { fastStart: fs }),
      h225.connect(ids, { tunnelling: false }, { fastConnectRefused: true }),
      h225.facilityStartH245(ids, { address: '192.0.2.10', port: 40101 }),
      h225.status(ids, statusIes('active', 30), true),
      h225.releaseComplete(ids, 16, true),
      h225.releaseComplete(ids, 1, false),
      h225.releaseComplete(ids, 21, false),
    ];
    const p = await tshark(msgs);
    // H323-UU-PDU h323-message-body alternatives: callProceeding 1, connect 2, alerting 3, releaseComplete 5, facility 6, progress 7, status 9.
    expect(p.map((x) => fieldValue(x, 'h225.h323_message_body'))).toEqual(['1', '3', '7', '2', '2', '6', '9', '5', '5', '5']);
    // Q.931 message types and the flag: from the called side.
    expect(p.map((x) => fieldValue(x, 'q931.message_type'))).toEqual(['0x02', '0x01', '0x03', '0x07', '0x07', '0x62', '0x7d', '0x5a', '0x5a', '0x5a']);
    for (const x of p) {
      expect(fieldValue(x, 'q931.call_ref_flag')).toMatch(/^(1|True)$/);
      expect(fieldValue(x, 'h225.protocolIdentifier')).toBe('0.0.8.2250.0.4');
      expect(fieldValues(x, 'h225.guid')).toContain(guid);
    }
    // Connect echoes the conferenceID, carries the two fastStart answers, and no Bearer capability.
    expect(fieldValues(p[3], 'h225.conferenceID')).toContain('f8fdf93e-cd9e-d611-9ab2-000476222017');
    expect(fieldValues(p[3], 'h225.FastStart_item')).toHaveLength(2);
    expect(fieldValues(p[3], 'h245.tsapIdentifier')).toEqual(expect.arrayContaining(['5100', '5101']));
    expect(fieldValues(p[3], 'q931.information_element')).not.toContain('0x04');
    expect(fieldValues(p[4], 'h225.fastConnectRefused_element')).toHaveLength(1);
    // Alerting and the Facility give Carillon's H.245 address; the Facility's reason is startH245 (5).
    expect(fieldValues(p[1], 'h225.h245Ip')).toContain('192.0.2.10');
    expect(fieldValue(p[5], 'h225.reason')).toBe('5');
    expect(fieldValue(p[6], 'q931.call_state')).toBe('0x0a');
    expect(fieldValue(p[6], 'q931.cause_value')).toBe('30');
    expect(p.slice(7).map((x) => fieldValue(x, 'q931.cause_value'))).toEqual(['16', '1', '21']);
    // ReleaseComplete reasons: undefinedReason 11, unreachableDestination 2, destinationRejection 3.
    expect(p.slice(7).map((x) => fieldValue(x, 'h225.reason'))).toEqual(['11', '2', '3']);
  });

  it('every H.245 PDU, tunnelled one per Facility (body empty)', async () => {
    const pdus: [MultimediaSystemControlMessage, string, string][] = [
      // [PDU, pdu_type.index, a field tshark must show]
      [h245.terminalCapabilitySet(1, ['g722-64k', 'g711Ulaw64k', 'g711Alaw64k']), '0.2', 'h245.g711Alaw64k'],
      [h245.terminalCapabilitySetAck(7), '1.3', 'h245.sequenceNumber'],
      [h245.terminalCapabilitySetReject(7), '1.4', 'h245.sequenceNumber'],
      [h245.masterSlaveDetermination(0x123456), '0.1', 'h245.statusDeterminationNumber'],
      [h245.masterSlaveDeterminationAck('slave'), '1.1', 'h245.slave_element'],
      [h245.masterSlaveDeterminationReject(), '1.2', 'h245.identicalNumbers_element'],
      [h245.openLogicalChannel(1, 'g711Ulaw64k', rtcp), '0.3', 'h245.forwardLogicalChannelNumber'],
      [h245.openLogicalChannelAck(2, rtp, rtcp), '1.5', 'h245.tsapIdentifier'],
      [h245.openLogicalChannelReject(3), '1.6', 'h245.forwardLogicalChannelNumber'],
      [h245.closeLogicalChannel(1), '0.4', 'h245.forwardLogicalChannelNumber'],
      [h245.closeLogicalChannelAck(2), '1.7', 'h245.forwardLogicalChannelNumber'],
      [h245.requestChannelCloseAck(1), '1.8', 'h245.forwardLogicalChannelNumber'],
      [h245.roundTripDelayResponse(9), '1.16', 'h245.sequenceNumber'],
      [h245.endSessionCommand(), '2.5', 'h245.disconnect_element'],
      [h245.videoFastUpdatePicture(4), '2.6', 'h245.videoFastUpdatePicture_element'],
      [h245.userInputSignal('#', 250), '3.13', 'h245.signalType'],
      [h245.functionNotUnderstood({ choice: 'request', value: { choice: 'roundTripDelayRequest', value: { sequenceNumber: 3 } } }) as MultimediaSystemControlMessage, '3.1', 'h245.sequenceNumber'],
    ];
    const p = await tshark(pdus.map(([m]) => h225.facilityTunnel(ids, [enc(m)])));
    const kinds = ['request', 'response', 'command', 'indication'];
    pdus.forEach(([, kind, field], i) => {
      const [type, index] = kind.split('.') as [string, string];
      const pkt = p[i];
      expect(fieldValue(pkt, 'h225.h323_message_body'), kind).toBe('8');
      expect(fieldValue(pkt, 'h245.pdu_type'), kind).toBe(type);
      expect(fieldValue(pkt, `h245.${kinds[Number(type)]}`), kind).toBe(index);
      expect(fieldValues(pkt, field).length, `${kind}: ${field}`).toBeGreaterThan(0);
    });
    // The TCS advertises H.239 control (genericControlCapability {0 0 8 239 1 1}) after the audio and user input.
    expect(fieldValues(p[0], 'h245.standardOid')).toEqual(['0.0.8.239.1.1', '0.0.8.241.0.0.1', '0.0.8.241.0.0.1']);
    expect(fieldValue(p[3], 'h245.statusDeterminationNumber')).toBe(String(0x123456));
    expect(fieldValue(p[3], 'h245.terminalType')).toBe('190');
    expect(fieldValue(p[15], 'h245.signalType')).toBe('#');
    expect(fieldValue(p[15], 'h245.duration')).toBe('250');
  });
});
