/**
 * The test H.323 endpoint's own checks: (a) every message it can send, put in a pcap, decodes in tshark
 * with the intended fields and nothing Malformed; (b) its decoders read the frames of a real call
 * (test/fixtures/h323-endpoint/h323-capture.json) with the values tshark shows, and re-encode them
 * to encodings that decode to the same values.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { decode, encode } from '../../../signaling/h323/per/index.ts';
import * as b from '../../support/h323-endpoint/build.ts';
import { h323UserInformation } from '../../support/h323-endpoint/h225.ts';
import { multimediaSystemControlMessage, openLogicalChannel } from '../../support/h323-endpoint/h245.ts';
import type { H245Message } from '../../support/h323-endpoint/h245.ts';
import { decodeH245, decodeSignalling, encodeH245, encodeSignalling } from '../../support/h323-endpoint/messages.ts';
import type { DecodedQ931 } from '../../support/h323-endpoint/messages.ts';
import { tcpPcap } from '../../support/tshark-oracle.ts';
import type { TsharkFrame as PcapSegment } from '../../support/tshark-oracle.ts';
import { calledPartyIe, causeIe, IE, Q931_MESSAGE } from '../../support/h323-endpoint/q931.ts';
import { tpkt, TpktReader } from '../../support/h323-endpoint/tpkt.ts';

const TSHARK = '/usr/bin/tshark';
const H245_PORT = 40002;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'h323ep-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** tshark -V of the segments; H.245 on its own connection is on H245_PORT. */
function tsharkText(segments: readonly PcapSegment[], name: string): string {
  const file = path.join(tmp, `${name}.pcap`);
  writeFileSync(file, tcpPcap(segments));
  return execFileSync(TSHARK, ['-r', file, '-d', `tcp.port==${H245_PORT},h245`, '-V', '-O', 'q931,h225,h245'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
}

const CRV = 0x1234;
const CALL_ID = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
const CONF_ID = Buffer.from('ffeeddccbbaa99887766554433221100', 'hex');
const RTP = { ip: '127.0.0.1', port: 5004 };
const RTCP = { ip: '127.0.0.1', port: 5005 };

function q931(type: number, ies: Parameters<typeof encodeSignalling>[1], info: Parameters<typeof encodeSignalling>[2]): PcapSegment {
  return { srcPort: 40000, dstPort: 1720, payload: tpkt(encodeSignalling({ type, crv: CRV, flag: false }, ies, info)) };
}

function setupMessage(destination: readonly b.Destination[], fastStart: boolean, tunnel: boolean): PcapSegment {
  const fs = fastStart ? [encode(openLogicalChannel, b.forwardOlc(1, 'g722-64k', RTCP)), encode(openLogicalChannel, b.reverseOlc(101, 'g722-64k', RTP, RTCP))] : [];
  return q931(
    Q931_MESSAGE.setup,
    [{ id: IE.bearerCapability, data: Buffer.from([0x80, 0x90, 0xa5]) }, { id: IE.display, data: Buffer.from('Room 1\0') }, calledPartyIe('1234567890')],
    b.setupUuie({
      name: 'Room 1',
      destination,
      conferenceId: CONF_ID,
      callId: CALL_ID,
      fastStart: fs,
      mediaWaitForConnect: true,
      tunneling: tunnel,
      h245Address: tunnel ? undefined : { ip: '127.0.0.1', port: 1800 },
      h245Control: tunnel ? [encodeH245(b.terminalCapabilitySet(1, ['g722-64k', 'g711Ulaw64k', 'g711Alaw64k'])), encodeH245(b.masterSlaveDetermination(4242))] : [],
    }),
  );
}

/** Every H.245 PDU the endpoint sends, with a line tshark must print for it. */
const H245_PDUS: readonly (readonly [H245Message, RegExp])[] = [
  [b.terminalCapabilitySet(1, ['g711Ulaw64k', 'g711Alaw64k']), /g711Alaw64k: 20[\s\S]*receiveUserInputCapability: dtmf/],
  [b.masterSlaveDetermination(4242), /terminalType: 50\s+statusDeterminationNumber: 4242/],
  [b.answerMasterSlave(190, 1, 2), /decision: master/],
  [b.answerMasterSlave(10, 1, 2), /decision: slave/],
  [b.answerMasterSlave(50, 7, 7), /masterSlaveDeterminationReject[\s\S]*identicalNumbers/],
  [b.terminalCapabilitySetAck(9), /terminalCapabilitySetAck\s+sequenceNumber: 9/],
  [b.openLogicalChannel(b.forwardOlc(1, 'g711Ulaw64k', RTCP)), /forwardLogicalChannelNumber: 1[\s\S]*g711Ulaw64k: 20[\s\S]*tsapIdentifier: 5005/],
  [b.openLogicalChannelAck(33, RTP, RTCP), /forwardLogicalChannelNumber: 33[\s\S]*mediaChannel[\s\S]*tsapIdentifier: 5004[\s\S]*tsapIdentifier: 5005/],
  [b.openLogicalChannelReject(34), /openLogicalChannelReject\s+forwardLogicalChannelNumber: 34\s+cause: dataTypeNotSupported/],
  [b.closeLogicalChannelAck(33), /closeLogicalChannelAck\s+forwardLogicalChannelNumber: 33/],
  [b.roundTripDelayResponse(7), /roundTripDelayResponse\s+sequenceNumber: 7/],
  [b.userInputSignal('#'), /signalType: #\s+duration: 100/],
  [b.userInputSignal('D'), /signalType: D/],
  [b.userInputAlphanumeric('5'), /alphanumeric: 5/],
  [b.endSessionCommand(), /endSessionCommand: disconnect/],
];

function expectClean(text: string): void {
  expect(text).not.toMatch(/Malformed|Expert Info|unknown PER|UNKNOWN PER/i);
}

describe.skipIf(!existsSync(TSHARK))('(a) what the endpoint sends, decoded by tshark', () => {
  test('Setup with Fast Connect and tunnelled TCS/MSD, each kind of destination alias', () => {
    const dests: b.Destination[] = [{ dialedDigits: '1234567890#*,' }, { h323Id: 'meeting 42' }, { url: 'h323:room@example.com' }, { email: 'room@example.com' }];
    const text = tsharkText([setupMessage(dests, true, true)], 'setup');
    expectClean(text);
    expect(text).toMatch(/Call reference flag: Message sent from originating side\s+Call reference value: 1234\s+Message type: SETUP/);
    expect(text).toContain('Called party number digits: 1234567890');
    expect(text).toContain('protocolIdentifier: 0.0.8.2250.0.4');
    expect(text).toMatch(/sourceAddress: 1 item[\s\S]*h323-ID: Room 1/);
    expect(text).toContain('productId: Carillon test room');
    expect(text).toContain('dialledDigits: 1234567890#*,');
    expect(text).toContain('h323-ID: meeting 42');
    expect(text).toContain('url-ID: h323:room@example.com');
    expect(text).toContain('email-ID: room@example.com');
    expect(text).toContain('activeMC: False');
    expect(text).toContain('conferenceID: ffeeddcc-bbaa-9988-7766-554433221100');
    expect(text).toContain('conferenceGoal: create');
    expect(text).toContain('callType: pointToPoint');
    expect(text).toContain('guid: 00112233-4455-6677-8899-aabbccddeeff');
    expect(text).toMatch(/fastStart: 2 items[\s\S]*audioData: g722-64k[\s\S]*nullData[\s\S]*multiplexParameters: none[\s\S]*reverseLogicalChannelParameters[\s\S]*tsapIdentifier: 5004/);
    expect(text).toContain('mediaWaitForConnect: True');
    for (const f of ['canOverlapSend', 'multipleCalls', 'maintainConnection']) expect(text).toContain(`${f}: False`);
    expect(text).toContain('h245Tunnelling: True');
    expect(text).toMatch(/h245Control: 2 items[\s\S]*terminalCapabilitySet[\s\S]*masterSlaveDetermination/);
  });

  test('Setup for separate H.245 (our h245Address, tunnelling off, no fastStart)', () => {
    const text = tsharkText([setupMessage([{ dialedDigits: '1234' }], false, false)], 'setup-separate');
    expectClean(text);
    expect(text).toMatch(/h245Address: ipAddress[\s\S]*ip: 127.0.0.1\s+port: 1800/);
    expect(text).toContain('h245Tunnelling: False');
    expect(text).not.toContain('fastStart');
  });

  test('every H.245 PDU, tunnelled in Facility(empty) and on its own connection', () => {
    const pdus = H245_PDUS.map(([m]) => encodeH245(m));
    const tunnelled = tsharkText(
      pdus.map((p) => q931(Q931_MESSAGE.facility, [{ id: IE.facility, data: Buffer.alloc(0) }], b.facilityEmpty(true, [p]))),
      'facility',
    );
    expectClean(tunnelled);
    expect(tunnelled).toMatch(/Message type: FACILITY[\s\S]*h323-message-body: empty/);
    const separate = tsharkText(pdus.map((p) => ({ srcPort: 40001, dstPort: H245_PORT, payload: tpkt(p) })), 'h245');
    expectClean(separate);
    for (const [, re] of H245_PDUS) {
      expect(tunnelled).toMatch(re);
      expect(separate).toMatch(re);
    }
    // Several PDUs in one Facility too.
    const grouped = tsharkText([q931(Q931_MESSAGE.facility, [{ id: IE.facility, data: Buffer.alloc(0) }], b.facilityEmpty(true, pdus))], 'grouped');
    expectClean(grouped);
    expect(grouped).toContain(`h245Control: ${pdus.length} items`);
  });

  test('ReleaseComplete, Status Enquiry and Status', () => {
    const text = tsharkText(
      [
        q931(Q931_MESSAGE.releaseComplete, [causeIe(16)], b.releaseCompleteUuie(CALL_ID, true)),
        q931(Q931_MESSAGE.statusEnquiry, [], b.statusUuie('statusInquiry', CALL_ID, true)),
        q931(Q931_MESSAGE.status, [causeIe(30), { id: IE.callState, data: Buffer.from([10]) }], b.statusUuie('status', CALL_ID, true)),
      ],
      'release',
    );
    expectClean(text);
    expect(text).toMatch(/RELEASE COMPLETE[\s\S]*Cause value: Normal call clearing \(16\)[\s\S]*reason: undefinedReason[\s\S]*guid: 00112233/);
    expect(text).toMatch(/STATUS ENQUIRY[\s\S]*h323-message-body: statusInquiry/);
    expect(text).toMatch(/Message type: STATUS \(0x7d\)[\s\S]*Cause value: Response to STATUS ENQUIRY \(30\)[\s\S]*Call state: Active \(0x0a\)[\s\S]*h323-message-body: status/);
  });
});

// ---------------------------------------------------------------- (b) the real capture

interface Frame {
  readonly frame: number;
  readonly channel: 'q931' | 'h245';
  readonly tcpPayloadHex: string;
}
const capture = JSON.parse(readFileSync(path.join(import.meta.dirname, '../../fixtures/h323-endpoint/h323-capture.json'), 'utf8')) as { frames: Frame[] };

function payloads(n: number): Buffer[] {
  const f = capture.frames.find((x) => x.frame === n);
  if (f === undefined) throw new Error(`frame ${n} not in the fixture`);
  return new TpktReader().push(Buffer.from(f.tcpPayloadHex, 'hex')).map((ev) => {
    if (!('payload' in ev)) throw new Error(ev.error);
    return ev.payload;
  });
}

function signalling(n: number): DecodedQ931 {
  const [p] = payloads(n);
  if (p === undefined) throw new Error('no payload');
  const d = decodeSignalling(p);
  if (!('message' in d) || d.uuie === undefined) throw new Error(`frame ${n} did not decode: ${JSON.stringify(d)}`);
  // Re-encoding may differ in the bytes (this v3 stack sizes extension bitmaps for its own version, with
  // trailing zero bits) but must decode to the same value.
  const again = decode(h323UserInformation, encode(h323UserInformation, d.uuie));
  expect(again.ok && again.value).toEqual(d.uuie);
  return d;
}

function h245(n: number): H245Message[] {
  return payloads(n).map((p) => {
    const d = decodeH245(p);
    if (d.value === undefined) throw new Error(`frame ${n}: ${d.error ?? ''}`);
    const again = decode(multimediaSystemControlMessage, encode(multimediaSystemControlMessage, d.value));
    expect(again.ok && again.value).toEqual(d.value);
    return d.value;
  });
}

const ip = (s: string): Buffer => Buffer.from(s.split('.').map(Number));

describe('(b) decoding the frames of a real call', () => {
  test('CallProceeding (frame 10)', () => {
    const d = signalling(10);
    expect(d.q931).toBe('callProceeding');
    expect(d.message.flag).toBe(true);
    expect(d.message.crv).toBe(0x77f4);
    const body = d.uuie?.['h323-uu-pdu']['h323-message-body'];
    if (body?.choice !== 'callProceeding') throw new Error('not a callProceeding body');
    expect(body.value.protocolIdentifier).toEqual([0, 0, 8, 2250, 0, 3]);
    expect(body.value.destinationInfo.vendor?.productId?.toString()).toBe('310i');
    expect(body.value.destinationInfo.terminal).toEqual({});
    expect(body.value.callIdentifier?.guid.toString('hex')).toBe('c0fef93ecd9ed6119ab2000476222017');
    expect(body.value.multipleCalls).toBe(false);
    expect(d.uuie?.['h323-uu-pdu'].h245Tunneling).toBe(false);
  });

  test('Connect (frame 18)', () => {
    const d = signalling(18);
    expect(d.q931).toBe('connect');
    const body = d.uuie?.['h323-uu-pdu']['h323-message-body'];
    if (body?.choice !== 'connect') throw new Error('not a connect body');
    expect(body.value.h245Address).toEqual({ choice: 'ipAddress', value: { ip: ip('10.1.6.18'), port: 1232 } });
    expect(body.value.conferenceID.toString('hex')).toBe('f8fdf93ecd9ed6119ab2000476222017');
    expect(body.value.callIdentifier?.guid.toString('hex')).toBe('c0fef93ecd9ed6119ab2000476222017');
    expect(body.value.maintainConnection).toBe(false);
  });

  test('TerminalCapabilitySet (frame 25) and MasterSlaveDetermination (frame 27)', () => {
    const [tcs] = h245(25);
    expect(tcs).toEqual({
      choice: 'request',
      value: {
        choice: 'terminalCapabilitySet',
        value: {
          sequenceNumber: 1,
          protocolIdentifier: [0, 0, 8, 245, 0, 5],
          capabilityTable: [{ capabilityTableEntryNumber: 7110, capability: { choice: 'receiveAudioCapability', value: { choice: 'g711Alaw64k', value: 30 } } }],
          capabilityDescriptors: [{ capabilityDescriptorNumber: 0, simultaneousCapabilities: [[7110]] }],
        },
      },
    });
    expect(h245(27)).toEqual([
      { choice: 'request', value: { choice: 'masterSlaveDetermination', value: { terminalType: 0, statusDeterminationNumber: 9588693 } } },
    ]);
    // The other side's TCS (frame 29: h2250Capability with MediaDistributionCapability) and the two Acks in one segment (32).
    expect(h245(29)[0]?.choice).toBe('request');
    expect(h245(32).map((m) => (m.choice === 'response' ? m.value.choice : m.choice))).toEqual(['terminalCapabilitySetAck', 'masterSlaveDeterminationAck']);
  });

  test('OpenLogicalChannel (frame 39) and its Acks (frames 41, 42)', () => {
    const [olc] = h245(39);
    expect(olc).toEqual({
      choice: 'request',
      value: {
        choice: 'openLogicalChannel',
        value: {
          forwardLogicalChannelNumber: 61,
          forwardLogicalChannelParameters: {
            dataType: { choice: 'audioData', value: { choice: 'g711Alaw64k', value: 30 } },
            multiplexParameters: {
              choice: 'h2250LogicalChannelParameters',
              value: { sessionID: 1, mediaControlChannel: b.unicast({ ip: '10.1.6.18', port: 2007 }) },
            },
          },
        },
      },
    });
    const ack = (n: number): unknown => {
      const [m] = h245(n);
      if (m?.choice !== 'response' || m.value.choice !== 'openLogicalChannelAck') throw new Error('not an OLCAck');
      return m.value.value;
    };
    expect(ack(41)).toEqual({
      forwardLogicalChannelNumber: 61,
      forwardMultiplexAckParameters: {
        choice: 'h2250LogicalChannelAckParameters',
        value: {
          sessionID: 1,
          mediaChannel: b.unicast({ ip: '10.1.3.143', port: 5000 }),
          mediaControlChannel: b.unicast({ ip: '10.1.3.143', port: 5001 }),
          flowControlToZero: false,
        },
      },
    });
    expect(ack(42)).toMatchObject({ forwardLogicalChannelNumber: 101, forwardMultiplexAckParameters: { value: { flowControlToZero: true } } });
  });

  test('every fixture frame decodes (Setup, Alerting and the other side of the H.245 exchange too)', () => {
    for (const f of capture.frames) {
      for (const p of payloads(f.frame)) {
        if (f.channel === 'q931') expect(decodeSignalling(p)).toHaveProperty('uuie');
        else expect(decodeH245(p).error).toBeUndefined();
      }
    }
  });

  test('truncated and bit-flipped frames end in errors, never exceptions', () => {
    for (const f of capture.frames) {
      for (const p of payloads(f.frame)) {
        for (let cut = 0; cut < p.length; cut += 3) {
          if (f.channel === 'q931') decodeSignalling(p.subarray(0, cut));
          else decodeH245(p.subarray(0, cut));
        }
        for (let bit = 0; bit < p.length * 8; bit += 5) {
          const q = Buffer.from(p);
          q[bit >>> 3] = (q[bit >>> 3] ?? 0) ^ (0x80 >>> (bit & 7));
          if (f.channel === 'q931') decodeSignalling(q);
          else decodeH245(q);
        }
      }
    }
  });
});
