/**
 * The tshark oracle itself (test/support/tshark-oracle.ts): its pcap is one that tshark reads as
 * loopback TCP, TPKTs split over segments are reassembled, H.245 on its own port decodes with a
 * decode-as, and broken PDUs come back flagged.
 */
import { describe, expect, it } from 'vitest';
import { encodeTpkt } from '../../../signaling/h323/q931/tpkt.ts';
import { decodeWithTshark, fieldValue, fieldValues, hasLayer, tcpPcap } from '../../support/tshark-oracle.ts';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
// The two hand-encoded PDUs checked with tshark for the H.323 edge (GUID of the first zeroed).
const RELEASE = hex('080280015a 08028090 7e0023 05 25c0 06 0008914a0004 588800 11 00 00000000000000000000000000000000 1080 0100');
const FACILITY = hex('08020001 62 1c00 7e0013 05 2810 0100 10c0 0180 09 01 07 6d81 04 46a00063');
// The H.245 PDU tunnelled in FACILITY: indication userInput signal '5', 100 ms.
const USER_INPUT = hex('6d810446a00063');

describe('tshark oracle', () => {
  it('writes a classic pcap of raw IPv4 with sequence numbers running on per direction', () => {
    const pcap = tcpPcap([
      { payload: Buffer.from('ab'), srcPort: 40000, dstPort: 1720 },
      { payload: Buffer.from('cde'), srcPort: 40000, dstPort: 1720 },
      { payload: Buffer.from('f'), srcPort: 1720, dstPort: 40000 },
    ]);
    expect(pcap.readUInt32LE(0)).toBe(0xa1b2c3d4);
    expect(pcap.readUInt32LE(20)).toBe(101);
    const first = 24 + 16;
    expect(pcap.subarray(first + 12, first + 20)).toEqual(Buffer.from([127, 0, 0, 1, 127, 0, 0, 1]));
    const second = first + 42 + 16;
    expect(pcap.readUInt32BE(second + 20 + 4)).toBe(3); // seq 1 + 2 octets
    const third = second + 43 + 16;
    expect(pcap.readUInt32BE(third + 20 + 4)).toBe(1);
    expect(pcap.readUInt32BE(third + 20 + 8)).toBe(6); // acks all five octets
  });

  it('decodes TPKTs on 1720 as Q.931 / H.225.0, reassembling one split over segments', async () => {
    const rc = encodeTpkt(RELEASE);
    const [a, b, c] = await decodeWithTshark([
      { payload: rc.subarray(0, 9), srcPort: 40000, dstPort: 1720 },
      { payload: rc.subarray(9), srcPort: 40000, dstPort: 1720 },
      { payload: encodeTpkt(FACILITY), srcPort: 1720, dstPort: 40000 },
    ]);
    expect(hasLayer(a, 'q931')).toBe(false);
    expect(b?.malformed).toBe(false);
    expect(fieldValue(b, 'q931.message_type')).toBe('0x5a');
    expect(fieldValue(b, 'q931.call_ref_flag')).toBe('1');
    expect(fieldValue(b, 'q931.cause_value')).toBe('16');
    expect(fieldValue(b, 'h225.protocolIdentifier')).toBe('0.0.8.2250.0.4');
    expect(fieldValues(b, 'q931.information_element')).toEqual(['8', '126']);
    expect(c?.malformed).toBe(false);
    expect(fieldValue(c, 'h225.h245Tunnelling')).toBe('1');
    expect(hasLayer(c, 'h245')).toBe(true);
    expect(fieldValues(c, 'h245.signalType')).toEqual(['5']);
  });

  it('decodes H.245 on a port of its own when told to', async () => {
    const frames = [{ payload: encodeTpkt(USER_INPUT), srcPort: 40001, dstPort: 50000 }];
    const [plain] = await decodeWithTshark(frames);
    expect(hasLayer(plain, 'h245')).toBe(false);
    const [h245] = await decodeWithTshark(frames, { decodeAs: ['tcp.port==40001,h245'] });
    expect(h245?.malformed).toBe(false);
    expect(fieldValues(h245, 'h245.signalType')).toEqual(['5']);
    expect(fieldValues(h245, 'h245.duration')).toEqual(['100']);
  });

  it('flags a broken PDU as malformed with its expert error', async () => {
    const [h245, q931] = await decodeWithTshark(
      [
        { payload: encodeTpkt(USER_INPUT.subarray(0, 3)), srcPort: 40001, dstPort: 50000 },
        { payload: encodeTpkt(FACILITY.subarray(0, FACILITY.length - 2)), srcPort: 40000, dstPort: 1720 },
      ],
      { decodeAs: ['tcp.port==40001,h245'] },
    );
    expect(h245?.malformed).toBe(true);
    expect(h245?.errors.length).toBeGreaterThan(0);
    expect(q931?.malformed).toBe(true);
  });
});
