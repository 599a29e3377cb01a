/**
 * The test H.323 endpoint running whole calls on loopback against a tiny scripted callee written in
 * this file (its messages come from the endpoint's own encoders): Fast Connect with tunnelled H.245,
 * slow start on a separate H.245 connection (Facility startH245, and the caller listening), RTP tones
 * both ways, DTMF, Status Enquiry, round-trip delay, channel close, hang-up either side.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { decode, encode, UNKNOWN } from '../../../signaling/h323/per/index.ts';
import { ULAW_TO_LINEAR } from '../../../media/codecs/g711.ts';
import { writeRtpHeader } from '../../../media/rtp/rtp-header.ts';
import { goertzel } from '../../support/goertzel.ts';
import { until } from '../../support/rtp-peer.ts';
import { H323TestEndpoint } from '../../support/h323-endpoint/index.ts';
import * as b from '../../support/h323-endpoint/build.ts';
import type { H323UserInformation } from '../../support/h323-endpoint/h225.ts';
import { H225_PROTOCOL_V4 } from '../../support/h323-endpoint/h225.ts';
import { openLogicalChannel } from '../../support/h323-endpoint/h245.ts';
import type { H245Message, OpenLogicalChannel } from '../../support/h323-endpoint/h245.ts';
import { decodeH245, decodeSignalling, encodeH245, encodeSignalling } from '../../support/h323-endpoint/messages.ts';
import type { DecodedQ931 } from '../../support/h323-endpoint/messages.ts';
import { causeIe, causeValue, findIe, IE, Q931_MESSAGE } from '../../support/h323-endpoint/q931.ts';
import { tpkt, TpktReader } from '../../support/h323-endpoint/tpkt.ts';

const LOCAL = '127.0.0.1';

function kind(m: H245Message): string {
  if (m.choice === UNKNOWN) return 'unknown';
  return m.value.choice === UNKNOWN ? 'unknown' : m.value.choice;
}

/** The scripted callee: one TCP call, H.245 tunnelled or on its own connection, one RTP socket. */
class Responder {
  readonly server = net.createServer((s) => this.#attach(s));
  readonly q931: DecodedQ931[] = [];
  readonly h245: H245Message[] = [];
  readonly rtpIn: Buffer[] = [];
  emptyTpkts = 0;
  readonly rtp = dgram.createSocket('udp4');
  sock: net.Socket | undefined;
  h245Sock: net.Socket | undefined;
  h245Server: net.Server | undefined;
  crv = 0;
  callId: Buffer = Buffer.alloc(16);
  confId: Buffer = Buffer.alloc(16);

  static async open(): Promise<Responder> {
    const r = new Responder();
    await new Promise<void>((resolve) => r.server.listen(0, LOCAL, resolve));
    await new Promise<void>((resolve) => r.rtp.bind(0, LOCAL, resolve));
    r.rtp.on('message', (m) => r.rtpIn.push(Buffer.from(m)));
    return r;
  }

  get port(): number {
    const a = this.server.address();
    return a !== null && typeof a !== 'string' ? a.port : 0;
  }

  get rtpPort(): number {
    return this.rtp.address().port;
  }

  #attach(s: net.Socket): void {
    this.sock = s;
    const reader = new TpktReader();
    s.on('data', (d) => {
      for (const ev of reader.push(d)) {
        if (!('payload' in ev)) continue;
        if (ev.payload.length === 0) {
          this.emptyTpkts++;
          continue;
        }
        const m = decodeSignalling(ev.payload);
        if (!('message' in m)) throw new Error(m.error);
        if (m.q931 === 'setup') {
          const body = m.uuie?.['h323-uu-pdu']['h323-message-body'];
          if (body?.choice !== 'setup') throw new Error('setup without a Setup-UUIE');
          this.crv = m.message.crv;
          this.callId = body.value.callIdentifier?.guid ?? Buffer.alloc(16);
          this.confId = body.value.conferenceID;
        }
        this.q931.push(m);
        for (const t of m.tunnelled) if (t.value !== undefined) this.h245.push(t.value);
      }
    });
    s.on('error', () => undefined);
  }

  #attachH245(s: net.Socket): void {
    this.h245Sock = s;
    const reader = new TpktReader();
    s.on('data', (d) => {
      for (const ev of reader.push(d)) {
        if (!('payload' in ev) || ev.payload.length === 0) continue;
        const h = decodeH245(ev.payload);
        if (h.value !== undefined) this.h245.push(h.value);
      }
    });
    s.on('error', () => undefined);
  }

  async listenH245(): Promise<number> {
    const server = net.createServer((s) => this.#attachH245(s));
    this.h245Server = server;
    await new Promise<void>((resolve) => server.listen(0, LOCAL, resolve));
    const a = server.address();
    return a !== null && typeof a !== 'string' ? a.port : 0;
  }

  async connectH245(port: number): Promise<void> {
    const s = net.connect({ host: LOCAL, port });
    await new Promise<void>((resolve) => s.once('connect', () => resolve()));
    this.#attachH245(s);
  }

  send(type: number, ies: Parameters<typeof encodeSignalling>[1], info: H323UserInformation | undefined): void {
    this.sock?.write(tpkt(encodeSignalling({ type, crv: this.crv, flag: true }, ies, info)));
  }

  tunnel(msgs: readonly H245Message[]): void {
    this.send(Q931_MESSAGE.facility, [{ id: IE.facility, data: Buffer.alloc(0) }], b.facilityEmpty(true, msgs.map(encodeH245)));
  }

  sendH245(msgs: readonly H245Message[]): void {
    for (const m of msgs) this.h245Sock?.write(tpkt(encodeH245(m)));
  }

  async q(name: string): Promise<DecodedQ931> {
    await until(() => this.q931.some((m) => m.q931 === name));
    const m = this.q931.find((x) => x.q931 === name);
    if (m === undefined) throw new Error(name);
    return m;
  }

  async pdu(name: string, count = 1): Promise<H245Message[]> {
    await until(() => this.h245.filter((m) => kind(m) === name).length >= count);
    return this.h245.filter((m) => kind(m) === name);
  }

  /** Paced-enough µ-law tone to the endpoint (the receiver does not care about timing). */
  sendTone(hz: number, port: number, packets = 20): void {
    let n = 0;
    for (let p = 0; p < packets; p++) {
      const buf = Buffer.alloc(172);
      writeRtpHeader({ marker: false, payloadType: 0, sequence: p, timestamp: p * 160, ssrc: 77 }, buf);
      for (let i = 0; i < 160; i++, n++) buf[12 + i] = muLaw(Math.round(8000 * Math.sin((2 * Math.PI * hz * n) / 8000)));
      this.rtp.send(buf, port, LOCAL);
    }
  }

  async close(): Promise<void> {
    this.sock?.destroy();
    this.h245Sock?.destroy();
    this.rtp.close();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    const h = this.h245Server;
    if (h !== undefined) await new Promise<void>((resolve) => h.close(() => resolve()));
  }
}

function muLaw(v: number): number {
  // Search the decoder table (test-only, 256 entries): the code whose value is nearest.
  let best = 0;
  for (let c = 0; c < 256; c++) if (Math.abs((ULAW_TO_LINEAR[c] ?? 0) - v) < Math.abs((ULAW_TO_LINEAR[best] ?? 0) - v)) best = c;
  return best;
}

const calleeInfo = b.VENDOR;

function uu(body: H323UserInformation['h323-uu-pdu']['h323-message-body'], tunneling: boolean, control: readonly H245Message[] = []): H323UserInformation {
  return { 'h323-uu-pdu': { 'h323-message-body': body, h245Tunneling: tunneling, ...(control.length > 0 ? { h245Control: control.map(encodeH245) } : {}) } };
}

function callProceeding(r: Responder, tunneling: boolean, fastStart?: readonly Buffer[]): H323UserInformation {
  return uu(
    {
      choice: 'callProceeding',
      value: {
        protocolIdentifier: [...H225_PROTOCOL_V4],
        destinationInfo: calleeInfo,
        callIdentifier: { guid: r.callId },
        ...(fastStart !== undefined ? { fastStart: [...fastStart] } : {}),
        multipleCalls: false,
        maintainConnection: false,
      },
    },
    tunneling,
  );
}

function connect(r: Responder, tunneling: boolean, control: readonly H245Message[] = []): H323UserInformation {
  return uu(
    {
      choice: 'connect',
      value: {
        protocolIdentifier: [...H225_PROTOCOL_V4],
        destinationInfo: calleeInfo,
        conferenceID: r.confId,
        callIdentifier: { guid: r.callId },
        multipleCalls: false,
        maintainConnection: false,
      },
    },
    tunneling,
    control,
  );
}

function h245Msd(terminalType: number): H245Message {
  return { choice: 'request', value: { choice: 'masterSlaveDetermination', value: { terminalType, statusDeterminationNumber: 99 } } };
}

function rtpToneLevel(packets: readonly Buffer[], hz: number): number {
  const pcm: number[] = [];
  for (const p of packets) if (((p[1] ?? 0) & 0x7f) === 0) for (const c of p.subarray(12)) pcm.push(ULAW_TO_LINEAR[c] ?? 0);
  return goertzel(pcm, hz, 8000);
}

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function setUp(): Promise<{ ep: H323TestEndpoint; r: Responder }> {
  const r = await Responder.open();
  const ep = new H323TestEndpoint({ name: 'Room 1', localAddress: LOCAL });
  cleanup.push(() => r.close(), () => ep.close());
  return { ep, r };
}

describe('the test endpoint against a scripted callee', () => {
  test('Fast Connect, tunnelled H.245, tones both ways, DTMF, RTD, CLC, Status Enquiry, our hang-up', async () => {
    const { ep, r } = await setUp();
    await ep.call({
      host: LOCAL,
      port: r.port,
      destination: [{ dialedDigits: '1234567890' }],
      calledNumber: '1234567890',
      fastStart: true,
      audio: ['g722-64k', 'g711Ulaw64k'],
      h245: 'tunnel',
    });
    const setup = await r.q('setup');
    expect(setup.message.flag).toBe(false);
    expect(setup.message.crv).toBe(ep.crv);
    expect(findIe(setup.message, IE.calledPartyNumber)?.subarray(1).toString()).toBe('1234567890');
    const body = setup.uuie?.['h323-uu-pdu']['h323-message-body'];
    if (body?.choice !== 'setup') throw new Error('no Setup-UUIE');
    expect(body.value.destinationAddress).toEqual([{ choice: 'dialedDigits', value: '1234567890' }]);
    expect(body.value.sourceAddress).toEqual([{ choice: 'h323-ID', value: 'Room 1' }]);
    expect(body.value.conferenceID.equals(ep.conferenceId)).toBe(true);
    expect(setup.tunnelled.map((t) => t.h245)).toEqual(['terminalCapabilitySet', 'masterSlaveDetermination']);
    const proposals = (body.value.fastStart ?? []).map((e) => {
      const d = decode(openLogicalChannel, e);
      if (!d.ok) throw d.error;
      return d.value;
    });
    expect(proposals).toHaveLength(4);

    // Accept G.711 µ-law both ways: our RTP address in the caller's transmit proposal, a new channel number on its receive one.
    const isUlaw = (o: OpenLogicalChannel): boolean => {
      const dt = o.reverseLogicalChannelParameters?.dataType ?? o.forwardLogicalChannelParameters.dataType;
      return dt.choice === 'audioData' && dt.value.choice === 'g711Ulaw64k';
    };
    const fwd = proposals.find((o) => isUlaw(o) && o.reverseLogicalChannelParameters === undefined);
    const rev = proposals.find((o) => isUlaw(o) && o.reverseLogicalChannelParameters !== undefined);
    if (fwd === undefined || rev === undefined) throw new Error('no µ-law proposals');
    const mp = fwd.forwardLogicalChannelParameters.multiplexParameters;
    if (mp.choice !== 'h2250LogicalChannelParameters') throw new Error('no H.225.0 parameters');
    const answerFwd: OpenLogicalChannel = {
      ...fwd,
      forwardLogicalChannelParameters: {
        ...fwd.forwardLogicalChannelParameters,
        multiplexParameters: { choice: 'h2250LogicalChannelParameters', value: { ...mp.value, mediaChannel: b.unicast({ ip: LOCAL, port: r.rtpPort }) } },
      },
    };
    const answerRev: OpenLogicalChannel = { ...rev, forwardLogicalChannelNumber: 7 };
    r.send(Q931_MESSAGE.callProceeding, [], callProceeding(r, true, [encode(openLogicalChannel, answerFwd), encode(openLogicalChannel, answerRev)]));
    await ep.waitFor((m) => 'q931' in m && m.q931 === 'callProceeding');
    expect(ep.state).toBe('proceeding');
    expect(ep.fastStartState).toBe('accepted');
    expect(ep.codec).toBe('g711Ulaw64k');
    expect(ep.remoteRtp).toEqual({ address: LOCAL, port: r.rtpPort });

    r.send(Q931_MESSAGE.connect, [], connect(r, true, [b.terminalCapabilitySet(1, ['g711Ulaw64k']), h245Msd(190)]));
    await ep.waitFor((m) => 'q931' in m && m.q931 === 'connect');
    expect(ep.state).toBe('connected');
    expect(ep.tunnelingAccepted).toBe(true);
    expect(ep.checkEchoes()).toEqual([]);
    const [tcsAck] = await r.pdu('terminalCapabilitySetAck');
    expect(tcsAck).toEqual(b.terminalCapabilitySetAck(1));
    const [msdAck] = await r.pdu('masterSlaveDeterminationAck');
    expect(msdAck).toEqual(b.answerMasterSlave(190, 99, ep.statusDeterminationNumber));
    expect(JSON.stringify(msdAck)).toContain('"master"');
    r.tunnel([b.terminalCapabilitySetAck(1), { choice: 'response', value: { choice: 'masterSlaveDeterminationAck', value: { decision: { choice: 'slave', value: null } } } }]);
    await until(() => ep.msdRole !== undefined);
    expect(ep.msdRole).toBe('slave');
    expect(ep.ownChannel).toBeUndefined(); // fast-started: no slow-start OLC

    // Media both ways.
    ep.startTone(1000);
    await until(() => r.rtpIn.length >= 20);
    ep.stopTone();
    expect(rtpToneLevel(r.rtpIn, 1000)).toBeGreaterThan(4000);
    expect(rtpToneLevel(r.rtpIn, 1700)).toBeLessThan(800);
    const port = ep.localRtpPort;
    if (port === undefined) throw new Error('no RTP port');
    expect(port % 2).toBe(0);
    r.sendTone(700, port);
    await until(() => (ep.rtp?.received.length ?? 0) >= 20);
    expect(ep.rtp?.level(700)).toBeGreaterThan(4000);

    // DTMF, RTD, CLC, Status Enquiry.
    ep.sendDtmf('1#', 'signal');
    ep.sendDtmf('5', 'alphanumeric');
    const uii = await r.pdu('userInput', 3);
    expect(uii).toEqual([b.userInputSignal('1'), b.userInputSignal('#'), b.userInputAlphanumeric('5')]);
    r.tunnel([
      { choice: 'request', value: { choice: 'roundTripDelayRequest', value: { sequenceNumber: 3 } } },
      { choice: 'request', value: { choice: 'closeLogicalChannel', value: { forwardLogicalChannelNumber: 7, source: { choice: 'user', value: null } } } },
    ]);
    expect((await r.pdu('roundTripDelayResponse'))[0]).toEqual(b.roundTripDelayResponse(3));
    expect((await r.pdu('closeLogicalChannelAck'))[0]).toEqual(b.closeLogicalChannelAck(7));
    ep.statusEnquiry();
    await r.q('statusEnquiry');

    await ep.hangup();
    const rc = await r.q('releaseComplete');
    expect(causeValue(findIe(rc.message, IE.cause) ?? Buffer.alloc(0))).toBe(16);
    const rcBody = rc.uuie?.['h323-uu-pdu']['h323-message-body'];
    expect(rcBody?.choice === 'releaseComplete' && rcBody.value.reason?.choice).toBe('undefinedReason');
    expect(r.h245.map(kind).at(-1)).toBe('endSessionCommand');
    expect(r.q931.indexOf(rc)).toBeGreaterThan(r.q931.findIndex((m) => m.tunnelled.some((t) => t.h245 === 'endSessionCommand')));
    expect(ep.state).toBe('released');
  });

  test('slow start on a separate H.245 connection the callee offers in Facility(startH245); the callee hangs up', async () => {
    const { ep, r } = await setUp();
    await ep.call({ host: LOCAL, port: r.port, destination: [{ h323Id: 'meeting' }], fastStart: false, audio: ['g722-64k', 'g711Alaw64k'], h245: 'separate-they-listen' });
    const setup = await r.q('setup');
    expect(setup.uuie?.['h323-uu-pdu'].h245Tunneling).toBe(false);
    const sb = setup.uuie?.['h323-uu-pdu']['h323-message-body'];
    expect(sb?.choice === 'setup' && sb.value.h245Address).toBe(undefined);
    expect(sb?.choice === 'setup' && sb.value.fastStart).toBe(undefined);
    r.send(Q931_MESSAGE.callProceeding, [], callProceeding(r, false));
    const h245Port = await r.listenH245();
    r.send(
      Q931_MESSAGE.facility,
      [{ id: IE.facility, data: Buffer.alloc(0) }],
      uu(
        {
          choice: 'facility',
          value: {
            protocolIdentifier: [...H225_PROTOCOL_V4],
            reason: { choice: 'startH245', value: null },
            callIdentifier: { guid: r.callId },
            h245Address: { choice: 'ipAddress', value: { ip: b.ipv4Bytes(LOCAL), port: h245Port } },
            multipleCalls: false,
            maintainConnection: false,
          },
        },
        false,
      ),
    );
    await r.pdu('terminalCapabilitySet');
    await r.pdu('masterSlaveDetermination');
    r.sendH245([b.terminalCapabilitySet(5, ['g711Alaw64k']), h245Msd(190)]);
    expect((await r.pdu('terminalCapabilitySetAck'))[0]).toEqual(b.terminalCapabilitySetAck(5));
    await r.pdu('masterSlaveDeterminationAck');
    r.send(Q931_MESSAGE.connect, [], connect(r, false));
    r.sendH245([b.terminalCapabilitySetAck(1), { choice: 'response', value: { choice: 'masterSlaveDeterminationAck', value: { decision: { choice: 'slave', value: null } } } }]);
    // Our transmit channel: the codec the callee can receive (A-law, not our first choice G.722).
    const [olc] = await r.pdu('openLogicalChannel');
    if (olc?.choice !== 'request' || olc.value.choice !== 'openLogicalChannel') throw new Error('no OLC');
    expect(olc.value.value.forwardLogicalChannelParameters.dataType).toEqual({ choice: 'audioData', value: { choice: 'g711Alaw64k', value: 20 } });
    expect(ep.codec).toBe('g711Alaw64k');
    r.sendH245([b.openLogicalChannelAck(olc.value.value.forwardLogicalChannelNumber, { ip: LOCAL, port: r.rtpPort }, { ip: LOCAL, port: r.rtpPort + 1 })]);
    await until(() => ep.remoteRtp !== undefined);
    expect(ep.remoteRtp).toEqual({ address: LOCAL, port: r.rtpPort });
    // The callee's own transmit channel: we answer with our RTP address.
    r.sendH245([b.openLogicalChannel(b.forwardOlc(9, 'g711Alaw64k', { ip: LOCAL, port: r.rtpPort + 1 }))]);
    const [ack] = await r.pdu('openLogicalChannelAck');
    expect(ack).toEqual(b.openLogicalChannelAck(9, { ip: LOCAL, port: ep.localRtpPort ?? 0 }, { ip: LOCAL, port: (ep.localRtpPort ?? 0) + 1 }));
    expect(ep.state).toBe('connected');

    ep.sendDtmf('9', 'signal');
    expect((await r.pdu('userInput'))[0]).toEqual(b.userInputSignal('9'));
    r.sendH245([b.endSessionCommand()]);
    await r.pdu('endSessionCommand');
    r.send(Q931_MESSAGE.releaseComplete, [causeIe(16)], uu({ choice: 'releaseComplete', value: { protocolIdentifier: [...H225_PROTOCOL_V4], reason: { choice: 'destinationRejection', value: null }, callIdentifier: { guid: r.callId } } }, false));
    r.sock?.end();
    await ep.waitFor((m) => 'closed' in m && m.closed === 'q931');
    expect(ep.releaseCause).toBe(16);
    expect(ep.releaseReason).toBe('destinationRejection');
    expect(ep.state).toBe('released');
    expect(ep.checkEchoes()).toEqual([]);
  });

  test('the caller listens for H.245 (h245Address in Setup) and sends empty TPKT keep-alives; one PDU per Facility when tunnelling', async () => {
    const { ep, r } = await setUp();
    await ep.call({ host: LOCAL, port: r.port, destination: [{ url: 'h323:42@example.com' }], fastStart: false, audio: ['g711Ulaw64k'], h245: 'separate-we-listen', keepAliveEmptyTpkt: true });
    const setup = await r.q('setup');
    const sb = setup.uuie?.['h323-uu-pdu']['h323-message-body'];
    if (sb?.choice !== 'setup' || sb.value.h245Address?.choice !== 'ipAddress') throw new Error('no h245Address in Setup');
    expect(sb.value.destinationAddress).toEqual([{ choice: 'url-ID', value: 'h323:42@example.com' }]);
    await r.connectH245(sb.value.h245Address.value.port);
    await r.pdu('terminalCapabilitySet');
    await r.pdu('masterSlaveDetermination');
    await until(() => r.emptyTpkts >= 1);

    const { ep: ep2, r: r2 } = await setUp();
    await ep2.call({ host: LOCAL, port: r2.port, destination: [{ email: 'room@example.com' }], fastStart: false, audio: ['g711Ulaw64k'], h245: 'tunnel', onePduPerFacility: true });
    await r2.q('setup');
    r2.send(Q931_MESSAGE.connect, [], connect(r2, true, [b.terminalCapabilitySet(1, ['g711Ulaw64k']), h245Msd(10)]));
    await r2.pdu('masterSlaveDeterminationAck');
    const facilities = r2.q931.filter((m) => m.q931 === 'facility');
    expect(facilities.length).toBeGreaterThanOrEqual(2);
    for (const f of facilities) expect(f.tunnelled).toHaveLength(1);
    expect(JSON.stringify((await r2.pdu('masterSlaveDeterminationAck'))[0])).toContain('"slave"');
  });

  test('a callee that turns tunnelling down and gives an h245Address gets H.245 on its own connection', async () => {
    const { ep, r } = await setUp();
    await ep.call({ host: LOCAL, port: r.port, destination: [{ dialedDigits: '77' }], fastStart: false, audio: ['g711Ulaw64k'], h245: 'tunnel' });
    await r.q('setup');
    const h245Port = await r.listenH245();
    const cp = callProceeding(r, false);
    const body = cp['h323-uu-pdu']['h323-message-body'];
    if (body.choice !== 'callProceeding') throw new Error('not a callProceeding');
    const withAddress: H323UserInformation = {
      'h323-uu-pdu': { ...cp['h323-uu-pdu'], 'h323-message-body': { choice: 'callProceeding', value: { ...body.value, h245Address: { choice: 'ipAddress', value: { ip: b.ipv4Bytes(LOCAL), port: h245Port } } } } },
    };
    r.send(Q931_MESSAGE.callProceeding, [], withAddress);
    await r.pdu('terminalCapabilitySet', 2); // once tunnelled in Setup, once on the new connection
    await until(() => r.h245Sock !== undefined);
    expect(ep.tunnelingAccepted).toBe(false);
  });
});
