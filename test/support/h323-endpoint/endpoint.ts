/**
 * H323TestEndpoint: an independent H.323 caller ("room system") for Carillon's acceptance tests. It
 * dials over TCP, sends Setup (optionally with Fast Connect proposals and tunnelled TCS/MSD), follows
 * the callee's answers, runs the H.245 procedures it needs (TCS/MSD answers, OLC/OLCAck both ways,
 * CLC, RTD, UII, EndSession) tunnelled or on a separate TCP connection, and owns an RTP/RTCP pair.
 * Everything it hears is kept in `received` for assertions. Real sockets and timers: test support.
 */
import { randomBytes, randomInt } from 'node:crypto';
import net from 'node:net';
import { decode, encode, UNKNOWN } from '../../../signaling/h323/per/index.ts';
import * as b from './build.ts';
import type { AudioCodecName, Endpoint } from './build.ts';
import type { CallOptions, CallState, EndpointOptions, Received, SentUnit } from './types.ts';
import { kindOf } from './types.ts';
import type { H323UserInformation } from './h225.ts';
import { audioName, bodyFields, endpointOf, h239Of, h245EndpointOf } from './fields.ts';
import type { H239Seen } from './fields.ts';
import { openLogicalChannel as olcCodec } from './h245.ts';
import type { H245Message, OpenLogicalChannel } from './h245.ts';
import { decodeH245, decodeSignalling, encodeH245, encodeSignalling } from './messages.ts';
import { calledPartyIe, causeIe, causeValue, findIe, IE, Q931_MESSAGE } from './q931.ts';
import type { InformationElement } from './q931.ts';
import { RtpPair } from './rtp.ts';
import { tpkt, TpktReader } from './tpkt.ts';
import { EndpointVideo, VIDEO_TX_LCN, videoFastUpdatePicture } from './video.ts';

interface Waiter {
  readonly pred: (m: Received) => boolean;
  readonly resolve: (m: Received) => void;
  readonly reject: (e: Error) => void;
  readonly timer: NodeJS.Timeout;
}

const CALL_STATE_IE: Readonly<Record<CallState, number>> = { idle: 0, calling: 1, proceeding: 3, alerting: 4, connected: 10, released: 0 };

export class H323TestEndpoint {
  readonly name: string;
  readonly localAddress: string;
  readonly received: Received[] = [];
  readonly sent: SentUnit[] = [];
  state: CallState = 'idle';
  /** Our call reference value, callIdentifier and conferenceID (what Carillon must echo). */
  readonly crv = randomInt(1, 0x7fff);
  readonly callId = randomBytes(16);
  readonly conferenceId = randomBytes(16);
  readonly statusDeterminationNumber = randomInt(0, 0x1000000);
  /** Q.931 cause and UUIE reason of Carillon's ReleaseComplete. */
  releaseCause: number | undefined;
  releaseReason: string | undefined;
  /** Where Carillon receives our RTP (and sends from, symmetric RTP). */
  remoteRtp: { address: string; port: number } | undefined;
  /** The audio codec in use (Fast Connect answer, or our slow-start OLC / Carillon's OLC). */
  codec: AudioCodecName | undefined;
  /** What Carillon's MSDAck said we are. */
  msdRole: 'master' | 'slave' | undefined;
  /** Carillon's first response said h245Tunneling TRUE. */
  tunnelingAccepted: boolean | undefined;
  fastStartState: 'unused' | 'pending' | 'accepted' | 'refused' = 'unused';
  /** Logical channels Carillon opened towards us, and ours to Carillon. */
  readonly remoteChannels = new Map<number, AudioCodecName | undefined>();
  ownChannel: number | undefined;
  /** H.239 messages Carillon sent us, in order. */
  readonly h239: H239Seen[] = [];
  /** Our view of the H.239 presentation token: asked for, held, or not ours. */
  presentationToken: 'none' | 'requested' | 'held' = 'none';
  /** The terminalLabel and channelId our token requests quote (Carillon must echo them). */
  h239Labels = { terminalLabel: 0x0101, channelId: 3 };
  #rtp: RtpPair | undefined;
  #video: EndpointVideo | undefined;
  #opts: CallOptions | undefined;
  #sock: net.Socket | undefined;
  #h245Sock: net.Socket | undefined;
  #h245Server: net.Server | undefined;
  #h245Queue: Buffer[] = [];
  #keepAlive: NodeJS.Timeout | undefined;
  #waiters: Waiter[] = [];
  #remoteTcs: H245Message | undefined;
  #ourTcsAcked = false;
  #h245Started = false;
  #endSessionSent = false;
  #h245OverTcp = false;
  #closed = false;

  constructor(opts: EndpointOptions) {
    this.name = opts.name;
    this.localAddress = opts.localAddress;
  }

  get localRtpPort(): number | undefined {
    return this.#rtp?.rtpPort;
  }

  get rtp(): RtpPair | undefined {
    return this.#rtp;
  }

  /** Our H.264 video (with `video` in the call options). */
  get video(): EndpointVideo | undefined {
    return this.#video;
  }

  /** Opens media and signalling and sends Setup; resolves once it is written (follow the call with waitFor). */
  async call(opts: CallOptions): Promise<void> {
    if (this.state !== 'idle') throw new Error('one call per endpoint');
    this.#opts = opts;
    this.#rtp = await RtpPair.open(this.localAddress);
    if (opts.video === true) this.#video = await EndpointVideo.open(this.localAddress, randomInt(1, 0x7fff_ffff));
    let h245Address: Endpoint | undefined;
    if (opts.h245 === 'separate-we-listen') {
      const server = net.createServer((s) => this.#attachH245(s));
      this.#h245Server = server;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, this.localAddress, () => resolve());
      });
      const addr = server.address();
      if (addr === null || typeof addr === 'string') throw new Error('H.245 listener has no port');
      h245Address = { ip: this.localAddress, port: addr.port };
    }
    const sock = net.connect({ host: opts.host, port: opts.port, localAddress: this.localAddress });
    this.#sock = sock;
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.once('connect', () => {
        sock.off('error', reject);
        resolve();
      });
    });
    sock.on('error', () => undefined);
    const reader = new TpktReader();
    sock.on('data', (d) => {
      for (const ev of reader.push(d)) {
        if ('error' in ev) this.#record({ q931: 'undecodable', flag: false, crv: 0, ies: [], error: ev.error });
        else if (ev.payload.length === 0) this.#record({ tpkt: 'empty' });
        else this.#onQ931(ev.payload);
      }
    });
    sock.on('close', () => {
      this.#record({ closed: 'q931' });
      this.state = 'released';
    });

    const control = opts.h245 === 'tunnel' ? [b.terminalCapabilitySet(1, opts.audio, opts.h239 === true, opts.video === true), b.masterSlaveDetermination(this.statusDeterminationNumber)] : [];
    if (control.length > 0) this.#h245Started = true;
    this.fastStartState = opts.fastStart ? 'pending' : 'unused';
    const ies: InformationElement[] = [
      { id: IE.bearerCapability, data: Buffer.from([0x80, 0x90, 0xa5]) },
      { id: IE.display, data: Buffer.from(`${this.name}\0`, 'latin1') },
    ];
    if (opts.calledNumber !== undefined) ies.push(calledPartyIe(opts.calledNumber));
    const info = b.setupUuie({
      name: this.name,
      destination: opts.destination,
      conferenceId: this.conferenceId,
      callId: this.callId,
      fastStart: opts.fastStart ? this.#fastStartProposals(opts.audio) : [],
      mediaWaitForConnect: opts.mediaWaitForConnect === true,
      tunneling: opts.h245 === 'tunnel',
      h245Address,
      h245Control: control.map(encodeH245),
    });
    this.state = 'calling';
    this.#sendQ931(Q931_MESSAGE.setup, ies, info);
    if (opts.keepAliveEmptyTpkt === true) {
      this.sendRaw(tpkt(Buffer.alloc(0)));
      this.#keepAlive = setInterval(() => this.sendRaw(tpkt(Buffer.alloc(0))), 1000);
    }
  }

  #fastStartProposals(audio: readonly AudioCodecName[]): Buffer[] {
    const rtp = this.#rtpEndpoint();
    const rtcp = { ip: this.localAddress, port: rtp.port + 1 };
    const out: Buffer[] = [];
    audio.forEach((codec, i) => {
      out.push(encode(olcCodec, b.forwardOlc(1 + i, codec, rtcp)));
      out.push(encode(olcCodec, b.reverseOlc(101 + i, codec, rtp, rtcp)));
    });
    for (const o of this.#video?.proposals() ?? []) out.push(encode(olcCodec, o));
    return out;
  }

  #rtpEndpoint(): Endpoint {
    const rtp = this.#rtp;
    if (rtp === undefined) throw new Error('no media sockets');
    return { ip: this.localAddress, port: rtp.rtpPort };
  }

  // ------------------------------------------------------------ sending

  /** Writes raw bytes on the call-signalling connection. */
  sendRaw(buf: Buffer): void {
    if (this.#sock === undefined || this.#sock.destroyed) return;
    this.#sock.write(buf);
  }

  /** Wraps `payload` in a TPKT on the call-signalling connection. */
  sendTpkt(payload: Buffer): void {
    this.sendRaw(tpkt(payload));
  }

  #sendQ931(type: number, ies: readonly InformationElement[], info: H323UserInformation | undefined): void {
    const bytes = tpkt(encodeSignalling({ type, crv: this.crv, flag: false }, ies, info));
    this.sent.push({ channel: 'q931', bytes });
    this.sendRaw(bytes);
  }

  #sendH245(msgs: readonly H245Message[]): void {
    const opts = this.#opts;
    if (opts === undefined || msgs.length === 0) return;
    const pdus = msgs.map(encodeH245);
    if (opts.h245 === 'tunnel' && !this.#h245OverTcp) {
      const groups = opts.onePduPerFacility === true ? pdus.map((p) => [p]) : [pdus];
      for (const g of groups) this.#sendQ931(Q931_MESSAGE.facility, [{ id: IE.facility, data: Buffer.alloc(0) }], b.facilityEmpty(true, g));
      return;
    }
    for (const p of pdus) {
      const bytes = tpkt(p);
      this.sent.push({ channel: 'h245', bytes });
      if (this.#h245Sock !== undefined && !this.#h245Sock.destroyed && !this.#h245Sock.connecting) this.#h245Sock.write(bytes);
      else this.#h245Queue.push(bytes);
    }
  }

  /** DTMF as UserInputIndication, one per digit: `signal` (signalType + duration 100) or `alphanumeric`. */
  sendDtmf(digits: string, how: 'signal' | 'alphanumeric'): void {
    this.#sendH245([...digits].map((d) => (how === 'signal' ? b.userInputSignal(d) : b.userInputAlphanumeric(d))));
  }

  /** H.239 presentationTokenRequest (genericRequest) with our labels; `symmetryBreaking` 1..127. */
  requestPresentationToken(symmetryBreaking = 64): void {
    if (this.presentationToken === 'none') this.presentationToken = 'requested';
    this.#sendH245([b.presentationTokenRequest(this.h239Labels.terminalLabel, this.h239Labels.channelId, symmetryBreaking)]);
  }

  /** H.239 presentationTokenRelease (genericCommand): we stop presenting. */
  releasePresentationToken(): void {
    this.presentationToken = 'none';
    this.#sendH245([b.presentationTokenRelease(this.h239Labels.terminalLabel, this.h239Labels.channelId)]);
  }

  /** videoFastUpdatePicture on Carillon's video channel to us (`times` at once: a flooding peer). */
  sendVideoFastUpdate(times = 1): void {
    const lcn = this.#video?.remoteLcn;
    if (lcn !== undefined) this.#sendH245(Array.from({ length: times }, () => videoFastUpdatePicture(lcn)));
  }

  /** Opens our video channel over H.245 (`lcn`), e.g. reopening after Fast Connect. */
  openVideoChannel(lcn: number): void {
    if (this.#video !== undefined) this.#sendH245([this.#video.openChannel(lcn)]);
  }

  /** Sends any H.245 PDU built with the endpoint's own schema (tests of odd or flooding peers). */
  sendH245(msgs: readonly H245Message[]): void {
    this.#sendH245(msgs);
  }

  /** Resolves with the `nth` (1-based) H.239 message of subMessageIdentifier `sub` Carillon sent. */
  async waitForH239(sub: number, nth = 1, ms = 5000): Promise<H239Seen> {
    const seen = (): H239Seen[] => this.received.flatMap((m) => ('h245' in m && m.value !== undefined ? [h239Of(m.value)] : [])).filter((h): h is H239Seen => h?.sub === sub);
    await this.waitFor(() => seen().length >= nth, ms);
    const h = seen()[nth - 1];
    if (h === undefined) throw new Error('H.239 message vanished');
    return h;
  }

  /** Carillon's H.239: answers to our requests move our token; a request from the token manager takes it back (we acknowledge). */
  #onH239(h: H239Seen): void {
    this.h239.push(h);
    if (h.sub === b.H239_SUB.presentationTokenResponse && this.presentationToken === 'requested') {
      this.presentationToken = h.params.get(b.H239_PARAM.acknowledge) === true ? 'held' : 'none';
    } else if (h.sub === b.H239_SUB.presentationTokenRequest) {
      this.presentationToken = 'none';
      this.#sendH245([b.presentationTokenResponse(true, this.h239Labels.terminalLabel, this.h239Labels.channelId)]);
    }
  }

  /** Q.931 Status Enquiry (with a StatusInquiry UUIE). */
  statusEnquiry(): void {
    this.#sendQ931(Q931_MESSAGE.statusEnquiry, [], b.statusUuie('statusInquiry', this.callId, this.#opts?.h245 === 'tunnel'));
  }

  /** Sends a tone to Carillon on the negotiated codec (G.711: the tone; G.722: a constant payload). */
  startTone(hz: number): void {
    this.#rtp?.startTone(hz, b.PAYLOAD_TYPE[this.codec ?? 'g711Ulaw64k']);
  }

  stopTone(): void {
    this.#rtp?.stopTone();
  }

  /** EndSessionCommand(disconnect), ReleaseComplete (cause 16, undefinedReason), then closes. */
  async hangup(): Promise<void> {
    if (this.#h245Started && !this.#endSessionSent) {
      this.#endSessionSent = true;
      this.#sendH245([b.endSessionCommand()]);
    }
    if (this.state !== 'released') {
      this.#sendQ931(Q931_MESSAGE.releaseComplete, [causeIe(16)], b.releaseCompleteUuie(this.callId, this.#opts?.h245 === 'tunnel'));
    }
    this.state = 'released';
    await this.close();
  }

  // ------------------------------------------------------------ receiving

  #record(m: Received): void {
    this.received.push(m);
    for (const w of [...this.#waiters]) {
      if (!w.pred(m)) continue;
      clearTimeout(w.timer);
      this.#waiters = this.#waiters.filter((x) => x !== w);
      w.resolve(m);
    }
  }

  #onQ931(payload: Buffer): void {
    const d = decodeSignalling(payload);
    if (!('message' in d)) {
      this.#record({ q931: 'undecodable', flag: false, crv: 0, ies: [], error: d.error });
      return;
    }
    const m = d.message;
    this.#record({
      q931: d.q931,
      flag: m.flag,
      crv: m.crv,
      ies: m.ies,
      ...(d.body !== undefined ? { body: d.body } : {}),
      ...(d.uuie !== undefined ? { uuie: d.uuie } : {}),
      ...(d.uuieError !== undefined ? { error: d.uuieError } : {}),
    });
    const pdu = d.uuie?.['h323-uu-pdu'];
    const f = pdu === undefined ? undefined : bodyFields(pdu['h323-message-body']);
    if (pdu !== undefined && this.tunnelingAccepted === undefined && d.q931 !== 'releaseComplete') this.tunnelingAccepted = pdu.h245Tunneling === true;
    if (f !== undefined) {
      if (f.fastStart !== undefined && this.fastStartState === 'pending') this.#onFastStartAnswer(f.fastStart);
      else if (f.fastConnectRefused && this.fastStartState === 'pending') this.fastStartState = 'refused';
      const h245 = endpointOf(f.h245Address);
      // A callee that turns tunnelling down and gives an h245Address gets H.245 on its own connection.
      const refusedTunnel = this.#opts?.h245 === 'tunnel' && this.tunnelingAccepted === false;
      if (h245 !== undefined && (this.#opts?.h245 === 'separate-they-listen' || refusedTunnel) && this.#h245Sock === undefined) {
        if (refusedTunnel) {
          this.#h245OverTcp = true;
          this.#h245Started = false;
        }
        this.#connectH245(h245);
      }
    }
    switch (d.q931) {
      case 'callProceeding':
        if (this.state === 'calling') this.state = 'proceeding';
        break;
      case 'alerting':
        if (this.state === 'calling' || this.state === 'proceeding') this.state = 'alerting';
        break;
      case 'connect':
        this.state = 'connected';
        if (this.fastStartState === 'pending') this.fastStartState = 'refused';
        this.#updateTarget();
        break;
      case 'releaseComplete': {
        const cause = findIe(m, IE.cause);
        this.releaseCause = cause === undefined ? undefined : causeValue(cause);
        this.releaseReason = f?.reason;
        this.state = 'released';
        this.stopTone();
        break;
      }
      case 'statusEnquiry':
        this.#sendQ931(
          Q931_MESSAGE.status,
          [causeIe(30), { id: IE.callState, data: Buffer.from([CALL_STATE_IE[this.state]]) }],
          b.statusUuie('status', this.callId, this.#opts?.h245 === 'tunnel'),
        );
        break;
      default:
        break;
    }
    for (const t of d.tunnelled) {
      this.#record({ h245: t.h245, ...(t.value !== undefined ? { value: t.value } : {}), ...(t.error !== undefined ? { error: t.error } : {}), via: 'tunnel' });
      if (t.value !== undefined) this.#onH245(t.value);
    }
    this.#maybeOpenOwnChannel();
  }

  #onFastStartAnswer(elements: readonly Buffer[]): void {
    this.fastStartState = 'accepted';
    for (const e of elements) {
      const r = decode(olcCodec, e);
      if (!r.ok) continue;
      const olc: OpenLogicalChannel = r.value;
      if (this.#video?.onFastStartAnswer(olc) === true) continue;
      const fwd = olc.forwardLogicalChannelParameters;
      if (fwd.dataType.choice === 'audioData') {
        // Our transmit proposal, returned with Carillon's RTP receive address.
        this.codec ??= audioName(fwd.dataType.value);
        const mp = fwd.multiplexParameters;
        const media = mp.choice === 'h2250LogicalChannelParameters' ? h245EndpointOf(mp.value.mediaChannel) : undefined;
        if (media !== undefined) this.remoteRtp = { address: media.ip, port: media.port };
      } else if (olc.reverseLogicalChannelParameters?.dataType.choice === 'audioData') {
        this.remoteChannels.set(olc.forwardLogicalChannelNumber, audioName(olc.reverseLogicalChannelParameters.dataType.value));
        this.codec ??= audioName(olc.reverseLogicalChannelParameters.dataType.value);
      }
    }
    this.#updateTarget();
  }

  /** Media goes out once Carillon's address is known (and, with mediaWaitForConnect, once connected). */
  #updateTarget(): void {
    const rtp = this.#rtp;
    if (rtp === undefined || this.remoteRtp === undefined) return;
    if (this.#opts?.mediaWaitForConnect === true && this.state !== 'connected') return;
    rtp.target = this.remoteRtp;
  }

  #onH245(m: H245Message): void {
    if (m.choice === UNKNOWN) return;
    const h239 = h239Of(m);
    if (h239 !== undefined) return this.#onH239(h239);
    const video = this.#video?.onH245(m);
    if (video !== undefined) return this.#sendH245(video);
    const v = m.value;
    if (v.choice === UNKNOWN) return;
    const rtp = this.#rtpEndpoint();
    const rtcp = { ip: this.localAddress, port: rtp.port + 1 };
    switch (v.choice) {
      case 'terminalCapabilitySet':
        this.#remoteTcs = m;
        this.#startH245();
        this.#sendH245([b.terminalCapabilitySetAck(v.value.sequenceNumber)]);
        break;
      case 'masterSlaveDetermination':
        this.#startH245();
        this.#sendH245([b.answerMasterSlave(v.value.terminalType, v.value.statusDeterminationNumber, this.statusDeterminationNumber)]);
        break;
      case 'terminalCapabilitySetAck':
        this.#ourTcsAcked = true;
        break;
      case 'masterSlaveDeterminationAck':
        this.msdRole = v.value.decision.choice === 'master' ? 'master' : 'slave';
        break;
      case 'openLogicalChannel': {
        const dt = v.value.forwardLogicalChannelParameters.dataType;
        const lcn = v.value.forwardLogicalChannelNumber;
        if (dt.choice !== 'audioData') {
          this.#sendH245([b.openLogicalChannelReject(lcn)]);
          break;
        }
        const codec = audioName(dt.value);
        this.remoteChannels.set(lcn, codec);
        this.codec ??= codec;
        this.#sendH245([b.openLogicalChannelAck(lcn, rtp, rtcp)]);
        break;
      }
      case 'openLogicalChannelAck': {
        const p = v.value.forwardMultiplexAckParameters;
        const media = p?.choice === 'h2250LogicalChannelAckParameters' ? h245EndpointOf(p.value.mediaChannel) : undefined;
        if (media !== undefined) this.remoteRtp = { address: media.ip, port: media.port };
        this.#updateTarget();
        break;
      }
      case 'closeLogicalChannel':
        this.remoteChannels.delete(v.value.forwardLogicalChannelNumber);
        this.#sendH245([b.closeLogicalChannelAck(v.value.forwardLogicalChannelNumber)]);
        break;
      case 'roundTripDelayRequest':
        this.#sendH245([b.roundTripDelayResponse(v.value.sequenceNumber)]);
        break;
      case 'endSessionCommand':
        if (!this.#endSessionSent) {
          this.#endSessionSent = true;
          this.#sendH245([b.endSessionCommand()]);
        }
        break;
      default:
        break;
    }
    this.#maybeOpenOwnChannel();
  }

  /** Separate H.245: sends our TCS and MSD the first time the channel is usable. */
  #startH245(): void {
    if (this.#h245Started || this.#opts === undefined) return;
    this.#h245Started = true;
    this.#sendH245([b.terminalCapabilitySet(1, this.#opts.audio, this.#opts.h239 === true, this.#opts.video === true), b.masterSlaveDetermination(this.statusDeterminationNumber)]);
  }

  /** Slow start (or a refused Fast Connect): open our transmit channel once TCS and MSD are done. */
  #maybeOpenOwnChannel(): void {
    const opts = this.#opts;
    if (opts === undefined || this.ownChannel !== undefined || this.state === 'released') return;
    if (this.fastStartState === 'pending' || this.fastStartState === 'accepted') return;
    if (this.#remoteTcs === undefined || !this.#ourTcsAcked || this.msdRole === undefined) return;
    const codec = this.#pickCodec(opts.audio);
    this.codec ??= codec;
    this.ownChannel = 1;
    this.#sendH245([b.openLogicalChannel(b.forwardOlc(this.ownChannel, this.codec, { ip: this.localAddress, port: this.#rtpEndpoint().port + 1 }))]);
    // With video, our H.264 channel too (slow start).
    if (this.#video !== undefined && this.#video.ownLcn === undefined && this.#video.refused === undefined) this.#sendH245([this.#video.openChannel(VIDEO_TX_LCN)]);
  }

  /** Our first proposal Carillon can receive (its TCS), else our first. */
  #pickCodec(audio: readonly AudioCodecName[]): AudioCodecName {
    const tcs = this.#remoteTcs;
    const theirs = new Set<string>();
    if (tcs?.choice === 'request' && tcs.value.choice === 'terminalCapabilitySet') {
      for (const e of tcs.value.value.capabilityTable ?? []) {
        const c = e.capability;
        if (c?.choice === 'receiveAudioCapability' || c?.choice === 'receiveAndTransmitAudioCapability') theirs.add(c.value.choice);
      }
    }
    const first = audio[0];
    if (first === undefined) throw new Error('no audio proposals');
    return audio.find((a) => theirs.has(a)) ?? first;
  }

  // ------------------------------------------------------------ separate H.245 connection

  #connectH245(to: Endpoint): void {
    const s = net.connect({ host: to.ip, port: to.port, localAddress: this.localAddress });
    s.once('connect', () => this.#startH245());
    this.#attachH245(s);
  }

  #attachH245(s: net.Socket): void {
    if (this.#h245Sock !== undefined) {
      s.destroy();
      return;
    }
    this.#h245Sock = s;
    s.on('error', () => undefined);
    const reader = new TpktReader();
    s.on('data', (d) => {
      for (const ev of reader.push(d)) {
        if ('error' in ev) {
          this.#record({ h245: 'undecodable', error: ev.error, via: 'tcp' });
          continue;
        }
        if (ev.payload.length === 0) continue;
        const h = decodeH245(ev.payload);
        this.#record({ h245: h.h245, ...(h.value !== undefined ? { value: h.value } : {}), ...(h.error !== undefined ? { error: h.error } : {}), via: 'tcp' });
        if (h.value !== undefined) this.#onH245(h.value);
      }
    });
    s.on('close', () => this.#record({ closed: 'h245' }));
    const flush = (): void => {
      for (const q of this.#h245Queue) s.write(q);
      this.#h245Queue = [];
    };
    if (s.connecting) s.once('connect', flush);
    else {
      flush();
      this.#startH245();
    }
  }

  // ------------------------------------------------------------ observing

  /** Resolves with the first message (already received or to come) matching `pred`. */
  waitFor(pred: (m: Received) => boolean, ms = 5000): Promise<Received> {
    const seen = this.received.find(pred);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w.timer !== timer);
        reject(new Error(`timed out after ${ms} ms; received: ${this.received.map(kindOf).join(', ')}`));
      }, ms);
      this.#waiters.push({ pred, resolve, reject, timer });
    });
  }

  /** Problems with Carillon's messages: flag must be 1, the CRV ours, callIdentifier/conferenceID echoed. */
  checkEchoes(): string[] {
    const out: string[] = [];
    for (const m of this.received) {
      if (!('q931' in m) || m.q931 === 'undecodable') continue;
      if (!m.flag) out.push(`${m.q931}: call reference flag 0`);
      if (m.crv !== this.crv) out.push(`${m.q931}: CRV ${m.crv} is not ours (${this.crv})`);
      const body = m.uuie?.['h323-uu-pdu']['h323-message-body'];
      if (body === undefined) continue;
      const f = bodyFields(body);
      if (f.callId !== undefined && !f.callId.equals(this.callId)) out.push(`${m.q931}: callIdentifier not echoed`);
      if (m.q931 === 'connect' && (f.conferenceId === undefined || !f.conferenceId.equals(this.conferenceId))) out.push('connect: conferenceID not echoed');
    }
    return out;
  }

  /** Closes every socket and timer; pending waitFor calls are rejected. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#keepAlive);
    for (const w of this.#waiters) {
      clearTimeout(w.timer);
      w.reject(new Error('endpoint closed'));
    }
    this.#waiters = [];
    this.#rtp?.close();
    this.#video?.close();
    const ends: Promise<void>[] = [];
    for (const s of [this.#sock, this.#h245Sock]) {
      if (s === undefined || s.destroyed) continue;
      ends.push(new Promise((resolve) => s.once('close', () => resolve())));
      s.end();
    }
    const server = this.#h245Server;
    if (server !== undefined) ends.push(new Promise((resolve) => server.close(() => resolve())));
    let guard: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => {
      guard = setTimeout(resolve, 500);
    });
    // A peer that never closes its side must not hold the test: give it half a second, then cut.
    const ended = Promise.all(ends).then(() => undefined);
    await Promise.race([ended, timedOut]);
    clearTimeout(guard);
    this.#sock?.destroy();
    this.#h245Sock?.destroy();
  }
}
