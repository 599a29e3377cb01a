/**
 * One call's H.245 control session (the minimum set of the H.323 edge's reference, §1.6),
 * whatever carries it (tunnelled in H.225.0 or on its own TCP connection): capability exchange
 * both ways, master/slave determination, logical channels (the peer's accepted or refused, one
 * of Carillon's own), user input (DTMF), key frame requests, round trip delay and the end of the
 * session, and the H.239 presentation token (presentation-token.ts: H.239 generic messages go to
 * it; other generic messages are treated as any message Carillon does not do). It decides and says
 * what to send; its owner (the H.323 leg) carries the PDUs and decides about media.
 */
import type { DtmfDigit } from '../../../common/dtmf-digit.ts';
import { isDtmfDigit } from '../../../common/dtmf-digit.ts';
import type { MultimediaSystemControlMessage, OpenLogicalChannel, TerminalCapabilitySet } from '../asn/h245.ts';
import { UNKNOWN } from '../per/index.ts';
import type { H323AudioCapability, TransportAddr } from './fast-connect.ts';
import {
  closeLogicalChannel,
  closeLogicalChannelAck,
  endSessionCommand,
  functionNotUnderstood,
  masterSlaveDetermination,
  masterSlaveDeterminationAck,
  masterSlaveDeterminationReject,
  openLogicalChannel,
  openLogicalChannelAck,
  openLogicalChannelReject,
  readAudioCapability,
  readH245Address,
  receiveAudioOf,
  requestChannelCloseAck,
  roundTripDelayResponse,
  terminalCapabilitySet,
  terminalCapabilitySetAck,
  userInputDigits,
  userInputSignal,
  videoFastUpdatePicture,
} from './h245-messages.ts';
import { genericOf, readH239Generic } from './h239.ts';
import { receiveH264Of } from './h264-capability.ts';
import type { H264Params } from './h264-capability.ts';
import { CARILLON_TERMINAL_TYPE, determineMasterSlave, MSD_RETRIES } from './master-slave.ts';
import { H239TokenManager } from './presentation-token.ts';

/** What the session tells its owner. */
export interface H245SessionEvents {
  /** PDUs to send, in order (the owner may group them in one Facility or not). */
  send(msgs: readonly MultimediaSystemControlMessage[]): void;
  dtmf(digit: DtmfDigit, durationMs: number): void;
  /** The peer asks for a key frame on a channel Carillon sends. */
  fastUpdate(lcn: number): void;
  /** The peer ended the H.245 session (EndSessionCommand). */
  endSession(): void;
  /**
   * The peer opens its transmit channel (audio, session 1): where Carillon receives it, or
   * undefined to refuse it.
   */
  peerChannel(lcn: number, capability: H323AudioCapability, framesPerPacket: number): { readonly rtp: TransportAddr; readonly rtcp: TransportAddr } | undefined;
  peerChannelClosed(lcn: number): void;
  /**
   * The peer opens a video channel: where Carillon receives it (and the session ID it is in), or
   * the OpenLogicalChannelReject cause (video-channels.ts decides).
   */
  peerVideoChannel(olc: OpenLogicalChannel): { readonly rtp: TransportAddr; readonly rtcp: TransportAddr; readonly sessionId: number } | 'dataTypeNotSupported' | 'unsuitableReverseParameters' | 'invalidSessionID';
  /** The peer accepted Carillon's channel: where it receives RTP. */
  ownChannelAccepted(lcn: number, media: TransportAddr | undefined, rtcp: TransportAddr | undefined): void;
  ownChannelRefused(lcn: number): void;
  /** The peer accepted (or refused) Carillon's video channel (slow start, openVideoChannel). */
  ownVideoAccepted(lcn: number, media: TransportAddr | undefined, rtcp: TransportAddr | undefined): void;
  ownVideoRefused(lcn: number): void;
  /** Capability exchange or master/slave determination moved on (see `ready`). */
  changed(): void;
}

/** Why the session stopped making progress (the owner ends the call with these). */
export type H245Failure = 'msd-failed';

export class H245Session {
  readonly #ev: H245SessionEvents;
  readonly #audio: readonly H323AudioCapability[];
  readonly #draw: () => number;
  #started = false;
  #tcsSeq = 1;
  #tcsAcked = false;
  #peerTcs: TerminalCapabilitySet | undefined;
  #sdn: number;
  #msdTries = 0;
  #role: 'master' | 'slave' | undefined;
  #ended = false;
  #ownLcn: number | undefined;
  #ownVideoLcn: number | undefined;
  readonly #peerChannels = new Map<number, H323AudioCapability>();
  failure: H245Failure | undefined;
  /** How many PDUs the peer sent that Carillon does not do (answered FunctionNotUnderstood or ignored). */
  notUnderstood = 0;
  /** The call's H.239 presentation token (Carillon the token manager); quiet once the session ended. */
  readonly presentation = new H239TokenManager((msgs) => {
    if (!this.#ended) this.#ev.send(msgs);
  });

  /** `audio`: what Carillon receives, in preference order; `draw`: random in [0, 1) for status determination numbers. */
  constructor(ev: H245SessionEvents, audio: readonly H323AudioCapability[], draw: () => number) {
    this.#ev = ev;
    this.#audio = audio;
    this.#draw = draw;
    this.#sdn = this.#newSdn();
  }

  #newSdn(): number {
    return Math.min(0xff_ffff, Math.floor(this.#draw() * 0x100_0000));
  }

  /** Capability exchange and master/slave determination are both done. */
  get ready(): boolean {
    return this.#tcsAcked && this.#peerTcs !== undefined && this.#role !== undefined;
  }

  get started(): boolean {
    return this.#started;
  }

  get role(): 'master' | 'slave' | undefined {
    return this.#role;
  }

  /** What the peer can receive (its TerminalCapabilitySet), in its order; undefined before it sent one. */
  get peerReceives(): readonly H323AudioCapability[] | undefined {
    return this.#peerTcs === undefined ? undefined : receiveAudioOf(this.#peerTcs);
  }

  get peerChannels(): ReadonlyMap<number, H323AudioCapability> {
    return this.#peerChannels;
  }

  get ownChannel(): number | undefined {
    return this.#ownLcn;
  }

  /** Sends Carillon's TCS and MSD (once). */
  start(): void {
    if (this.#started || this.#ended) return;
    this.#started = true;
    this.#ev.send([terminalCapabilitySet(this.#tcsSeq, this.#audio), masterSlaveDetermination(this.#sdn)]);
  }

  /** Opens Carillon's transmit channel (slow start). */
  openChannel(capability: H323AudioCapability, rtcp: TransportAddr, lcn = 1): void {
    if (this.#ownLcn !== undefined || this.#ended) return;
    this.#ownLcn = lcn;
    this.#ev.send([openLogicalChannel(lcn, capability, rtcp)]);
  }

  /** Opens Carillon's video channel (slow start; video-channels.ts writes the OLC). */
  openVideoChannel(olc: OpenLogicalChannel): void {
    if (this.#ownVideoLcn !== undefined || this.#ended) return;
    this.#ownVideoLcn = olc.forwardLogicalChannelNumber;
    this.#ev.send([{ choice: 'request', value: { choice: 'openLogicalChannel', value: olc } }]);
  }

  /** The H.264 the peer receives (its TCS), if any. */
  get peerReceivesH264(): H264Params | undefined {
    return this.#peerTcs === undefined ? undefined : receiveH264Of(this.#peerTcs);
  }

  /** A channel Carillon opened by Fast Connect: it exists without an OLC exchange. */
  adoptOwnChannel(lcn: number): void {
    this.#ownLcn ??= lcn;
  }

  /** A peer channel opened by Fast Connect. */
  adoptPeerChannel(lcn: number, capability: H323AudioCapability): void {
    this.#peerChannels.set(lcn, capability);
  }

  sendDtmf(digit: string, durationMs: number): void {
    if (!this.#ended) this.#ev.send([userInputSignal(digit, durationMs)]);
  }

  requestKeyFrame(lcn: number): void {
    if (!this.#ended) this.#ev.send([videoFastUpdatePicture(lcn)]);
  }

  /** Closes Carillon's channel and ends the session (EndSessionCommand); nothing after. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.presentation.end();
    if (!this.#started) return;
    const out: MultimediaSystemControlMessage[] = [];
    if (this.#ownLcn !== undefined) out.push(closeLogicalChannel(this.#ownLcn));
    if (this.#ownVideoLcn !== undefined) out.push(closeLogicalChannel(this.#ownVideoLcn));
    out.push(endSessionCommand());
    this.#ev.send(out);
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** One PDU from the peer. */
  handle(m: MultimediaSystemControlMessage): void {
    if (m.choice === UNKNOWN || this.#ended) {
      this.notUnderstood++;
      return;
    }
    // H.239 travels as generic messages (request, response, command or indication) with its OID;
    // an H.239 message Carillon cannot read, and any other generic message, go on as unknowns.
    const generic = genericOf(m);
    if (generic !== undefined) {
      const h239 = readH239Generic(generic.envelope, generic.generic);
      if (h239.ok) return this.presentation.handle(h239.message);
    }
    switch (m.choice) {
      case 'request':
        return this.#request(m);
      case 'response':
        return this.#response(m.value);
      case 'command':
        return this.#command(m);
      case 'indication':
        if (m.value.choice === 'userInput') return this.#userInput(m.value.value);
        return;
    }
  }

  #request(m: MultimediaSystemControlMessage & { readonly choice: 'request' }): void {
    const r = m.value;
    switch (r.choice) {
      case 'terminalCapabilitySet':
        this.start();
        this.#peerTcs = r.value;
        this.#ev.send([terminalCapabilitySetAck(r.value.sequenceNumber)]);
        return this.#ev.changed();
      case 'masterSlaveDetermination': {
        this.start();
        const outcome = determineMasterSlave({ terminalType: CARILLON_TERMINAL_TYPE, statusDeterminationNumber: this.#sdn }, r.value);
        if (outcome.local === 'indeterminate') {
          this.#ev.send([masterSlaveDeterminationReject()]);
          return this.#retryMsd();
        }
        this.#role = outcome.local;
        this.#ev.send([masterSlaveDeterminationAck(outcome.ackDecision)]);
        return this.#ev.changed();
      }
      case 'openLogicalChannel':
        return this.#peerOpens(r.value);
      case 'closeLogicalChannel':
        this.#peerChannels.delete(r.value.forwardLogicalChannelNumber);
        this.#ev.send([closeLogicalChannelAck(r.value.forwardLogicalChannelNumber)]);
        return this.#ev.peerChannelClosed(r.value.forwardLogicalChannelNumber);
      case 'requestChannelClose': {
        const lcn = r.value.forwardLogicalChannelNumber;
        this.#ev.send(lcn === this.#ownLcn ? [requestChannelCloseAck(lcn), closeLogicalChannel(lcn)] : [requestChannelCloseAck(lcn)]);
        if (lcn === this.#ownLcn) this.#ownLcn = undefined;
        return;
      }
      case 'roundTripDelayRequest':
        return this.#ev.send([roundTripDelayResponse(r.value.sequenceNumber)]);
      default: {
        this.notUnderstood++;
        const fnu = functionNotUnderstood(m);
        if (fnu !== undefined) this.#ev.send([fnu]);
        return;
      }
    }
  }

  #retryMsd(): void {
    if (++this.#msdTries >= MSD_RETRIES) {
      this.failure = 'msd-failed';
      return this.#ev.changed();
    }
    this.#sdn = this.#newSdn();
    this.#ev.send([masterSlaveDetermination(this.#sdn)]);
  }

  #peerOpens(olc: OpenLogicalChannel): void {
    const lcn = olc.forwardLogicalChannelNumber;
    const fwd = olc.forwardLogicalChannelParameters;
    const mp = fwd.multiplexParameters;
    const session = mp.choice === 'h2250LogicalChannelParameters' ? mp.value.sessionID : undefined;
    if (fwd.dataType.choice === 'videoData') {
      const v = this.#ev.peerVideoChannel(olc);
      this.#ev.send([typeof v === 'string' ? openLogicalChannelReject(lcn, v) : openLogicalChannelAck(lcn, v.rtp, v.rtcp, v.sessionId)]);
      return;
    }
    const audio = fwd.dataType.choice === 'audioData' ? readAudioCapability(fwd.dataType.value) : undefined;
    if (audio === undefined || olc.reverseLogicalChannelParameters !== undefined) {
      this.#ev.send([openLogicalChannelReject(lcn, 'dataTypeNotSupported')]);
      return;
    }
    if (session !== undefined && session !== 1 && session !== 0) {
      this.#ev.send([openLogicalChannelReject(lcn, 'invalidSessionID')]);
      return;
    }
    const local = this.#ev.peerChannel(lcn, audio.capability, audio.framesPerPacket);
    if (local === undefined) {
      this.#ev.send([openLogicalChannelReject(lcn, 'dataTypeNotSupported')]);
      return;
    }
    this.#peerChannels.set(lcn, audio.capability);
    this.#ev.send([openLogicalChannelAck(lcn, local.rtp, local.rtcp)]);
  }

  #response(r: (MultimediaSystemControlMessage & { readonly choice: 'response' })['value']): void {
    switch (r.choice) {
      case 'terminalCapabilitySetAck':
        if (r.value.sequenceNumber === this.#tcsSeq) this.#tcsAcked = true;
        return this.#ev.changed();
      case 'terminalCapabilitySetReject':
        // The peer refuses Carillon's capabilities: media cannot be agreed over H.245.
        this.failure = 'msd-failed';
        return this.#ev.changed();
      case 'masterSlaveDeterminationAck':
        if (r.value.decision.choice !== UNKNOWN) this.#role = r.value.decision.choice;
        return this.#ev.changed();
      case 'masterSlaveDeterminationReject':
        return this.#retryMsd();
      case 'openLogicalChannelAck': {
        const lcn = r.value.forwardLogicalChannelNumber;
        const p = r.value.forwardMultiplexAckParameters;
        const ack = p?.choice === 'h2250LogicalChannelAckParameters' ? p.value : undefined;
        if (lcn === this.#ownVideoLcn) return this.#ev.ownVideoAccepted(lcn, readH245Address(ack?.mediaChannel), readH245Address(ack?.mediaControlChannel));
        if (lcn !== this.#ownLcn) return;
        return this.#ev.ownChannelAccepted(lcn, readH245Address(ack?.mediaChannel), readH245Address(ack?.mediaControlChannel));
      }
      case 'openLogicalChannelReject': {
        const lcn = r.value.forwardLogicalChannelNumber;
        if (lcn === this.#ownVideoLcn) {
          this.#ownVideoLcn = undefined;
          return this.#ev.ownVideoRefused(lcn);
        }
        if (lcn !== this.#ownLcn) return;
        this.#ownLcn = undefined;
        return this.#ev.ownChannelRefused(lcn);
      }
      default:
        return;
    }
  }

  #command(m: MultimediaSystemControlMessage & { readonly choice: 'command' }): void {
    const c = m.value;
    switch (c.choice) {
      case 'endSessionCommand':
        this.#ended = true;
        this.presentation.end();
        return this.#ev.endSession();
      case 'miscellaneousCommand':
        if (c.value.type.choice === 'videoFastUpdatePicture') this.#ev.fastUpdate(c.value.logicalChannelNumber);
        return;
      case 'flowControlCommand':
        // An audio channel's rate is the codec's; video rates are the room-system video work's.
        return;
      default:
        this.notUnderstood++;
        return;
    }
  }

  #userInput(u: Parameters<typeof userInputDigits>[0]): void {
    const { digits, durationMs } = userInputDigits(u);
    for (const d of digits.slice(0, 32)) {
      const digit = d.toUpperCase();
      if (isDtmfDigit(digit)) this.#ev.dtmf(digit, durationMs);
    }
  }
}
