/**
 * An H.323 call Carillon takes (the caller's leg) as a leg of the call model (common/call-leg.ts,
 * protocol 'h323'): the Setup's fastStart proposals are the SDP offer, the call layer's answer
 * picks one proposal per direction (Fast Connect) and goes back in Connect; with no usable
 * fastStart the call layer's answer is Carillon's offer, realised through H.245 (capability
 * exchange, master/slave, one logical channel each way) and the peer's channels become the SDP
 * answer. H.245 runs tunnelled in H.225.0 when the caller tunnels, else on its own TCP connection
 * (to the caller's h245Address, or the caller connects to Carillon's). Key presses
 * (UserInputIndication, Q.931 keypad) reach the call as DTMF requests; statuses go out as Q.931
 * causes (RFC 3398). H.264 video (Fast Connect proposals, slow-start video channels, the peer's video
 * OLCs, key frame requests both ways) is video-channels.ts's.
 */
import type { Logger } from 'pino';
import type {
  AnswerRole,
  CallLegControl,
  HangupCause,
  HeaderField,
  LegEndReason,
  LegEvents,
  LegWire,
  OfferOutcome,
  PeerRequest,
  PresentationPort,
  SessionBody,
} from '../../../common/call-leg.ts';
import type { TimerHandle, Timers } from '../../../common/clock.ts';
import type { DtmfDigit } from '../../../common/dtmf-digit.ts';
import { isDtmfDigit } from '../../../common/dtmf-digit.ts';
import { parseSipInfoDtmf } from '../../sip/ua/sip-info-dtmf.ts';
import type { H323_UserInformation, H323_UU_PDU } from '../asn/h225.ts';
import type { MultimediaSystemControlMessage, OpenLogicalChannel } from '../asn/h245.ts';
import { MultimediaSystemControlMessage as H245Codec, OpenLogicalChannel as OlcCodec } from '../asn/h245.ts';
import { decode, encode } from '../per/index.ts';
import type { PerLimits } from '../per/index.ts';
import { CAUSE, causeOfSipStatus, sipStatusOfCause } from '../q931/causes.ts';
import { readKeypadFacility } from '../q931/ies.ts';
import { ieOf, IE, Q931_TYPE, readCause } from '../q931/q931.ts';
import type { Q931Message } from '../q931/q931.ts';
import type { TpktConnection } from '../transport/tpkt-listener.ts';
import type { CallState } from './call-state.ts';
import { dispositionOf, statusIes } from './call-state.ts';
import { AUDIO_CODECS, chooseFastStart, localMediaOf, offerOfFastStart } from './fast-connect.ts';
import type { FastStartProposal, H323AudioCapability, TransportAddr } from './fast-connect.ts';
import { alerting, bodyFields, callProceeding, connect, facilityStartH245, facilityTunnel, progress, releaseComplete, status } from './h225-messages.ts';
import type { CallIds } from './h225-messages.ts';
import { fastStartAnswer, h245Name, proposalOf } from './h245-messages.ts';
import { H245Session } from './h245-session.ts';
import { isPictureFastUpdate, VideoChannels, videoOfferLines } from './video-channels.ts';

const SDP = 'application/sdp';

/** What a leg needs of the edge. */
export interface H323LegDeps {
  readonly timers: Timers;
  readonly logger: Logger;
  /** Random in [0, 1) (status determination numbers). */
  readonly draw: () => number;
  /** Connects to the caller's H.245 address (IP literals only); undefined when it cannot. */
  connectH245(to: TransportAddr): Promise<TpktConnection | undefined>;
  /** Listens for the caller's H.245 connection: Carillon's address, and the connection when it comes. */
  listenH245(): Promise<{ readonly address: TransportAddr; readonly accepted: Promise<TpktConnection | undefined>; close(): void } | undefined>;
  /** PER decoding bounds for the peer's messages. */
  readonly perLimits: PerLimits;
  /** How long H.245 may take to give a slow-start call its media, and a call to be answered. */
  readonly h245SetupMs: number;
  readonly answerMs: number;
  /** The leg is over: the edge forgets it and closes its connection. */
  gone(leg: H323CallerLeg): void;
  /** Counted events (metrics). */
  count(what: 'h245-malformed' | 'q931-status'): void;
}

/** A decoded Setup, as the edge hands it to its leg. */
export interface H323Setup {
  readonly q931: Q931Message;
  readonly uu: H323_UserInformation;
}

/** Vendors that take one tunnelled H.245 PDU per Facility (Cisco IOS gateways). */
function onePduPerFacility(setup: H323Setup): boolean {
  const s = setup.uu['h323-uu-pdu']['h323-message-body'];
  if (s.choice !== 'setup') return false;
  const v = s.value.sourceInfo.vendor;
  const product = v?.productId?.toString('latin1') ?? '';
  return /cisco|\bios\b/i.test(product);
}

export class H323CallerLeg implements CallLegControl {
  readonly protocol = 'h323' as const;
  readonly reliableProgress = false;
  readonly secureSignaling = false;
  events: LegEvents;
  readonly ids: CallIds;
  readonly source: { readonly address: string; readonly port: number };
  /** The SDP offer the fastStart proposals amount to (undefined: none usable, a late offer). */
  readonly offer: SessionBody | undefined;
  readonly setupFields: readonly HeaderField[];
  readonly #deps: H323LegDeps;
  readonly #conn: TpktConnection;
  readonly #proposals: { readonly olc: OpenLogicalChannel; readonly p: FastStartProposal }[] = [];
  readonly #mediaWaitForConnect: boolean;
  readonly #onePerFacility: boolean;
  readonly #session: H245Session;
  /** The call's H.264 video (Fast Connect proposals, slow-start channels, key frame requests both ways). */
  readonly #video: VideoChannels;
  #state: CallState = 'incoming-proceeding';
  #tunnelling: boolean;
  #h245: TpktConnection | undefined;
  #h245Listen: { close(): void } | undefined;
  #h245Address: TransportAddr | undefined;
  /** Carillon's H.245 address, when the caller is to connect to it. */
  #h245Own: TransportAddr | undefined;
  /** H.245 PDUs waiting for their carriage (the next Q.931 message, a Facility, or the H.245 connection). */
  #h245Queue: Buffer[] = [];
  #flushScheduled = false;
  #fastStartSent = false;
  #answered = false;
  #confirmed = false;
  #over = false;
  /** Slow start: Carillon's offer's media, and what H.245 has learnt of the peer's. */
  #local: ReturnType<typeof localMediaOf>;
  #peerRtp: TransportAddr | undefined;
  #peerRtcp: TransportAddr | undefined;
  #peerCodec: H323AudioCapability | undefined;
  #openTimer: TimerHandle | undefined;
  #setupTimer: TimerHandle | undefined;
  #answerTimer: TimerHandle | undefined;
  /** The Q.931 cause the call ended with (Carillon's or the peer's), once over. */
  releaseCause: number | undefined;
  /** Called once when Carillon answers (the edge counts it). */
  onAnswered: (() => void) | undefined;

  constructor(conn: TpktConnection, setup: H323Setup, events: LegEvents, deps: H323LegDeps, setupFields: readonly HeaderField[]) {
    this.#conn = conn;
    this.events = events;
    this.#deps = deps;
    this.setupFields = setupFields;
    this.source = conn.remote;
    const pdu = setup.uu['h323-uu-pdu'];
    const body = pdu['h323-message-body'];
    if (body.choice !== 'setup') throw new Error('an H.323 leg begins with a Setup');
    this.ids = { callReference: setup.q931.callReference, callIdentifier: body.value.callIdentifier?.guid ?? body.value.conferenceID, conferenceId: body.value.conferenceID };
    this.#tunnelling = pdu.h245Tunneling === true;
    this.#mediaWaitForConnect = body.value.mediaWaitForConnect === true;
    this.#onePerFacility = onePduPerFacility(setup);
    this.#session = new H245Session(this.#sessionEvents(), ['g722-64k', 'g711Ulaw64k', 'g711Alaw64k'], deps.draw);
    (body.value.fastStart ?? []).slice(0, 32).forEach((bytes, index) => {
      const r = decode(OlcCodec, bytes, deps.perLimits);
      if (r.ok) this.#proposals.push({ olc: r.value, p: proposalOf(r.value, index) });
      else deps.count('h245-malformed');
    });
    this.#video = new VideoChannels({
      timers: deps.timers,
      requestKeyFrame: (lcn) => this.#session.requestKeyFrame(lcn),
      request: (r) => {
        if (!this.#over) this.events.request(r);
      },
      settled: () => this.#maybeConfirm(),
    });
    const sdp = offerOfFastStart(
      this.#proposals.map((x) => x.p),
      Math.floor(deps.draw() * 1e9),
    );
    const video = videoOfferLines(this.#proposals).map((l) => `${l}\r\n`);
    this.offer = sdp === undefined ? undefined : { contentType: SDP, bytes: Buffer.from(sdp + video.join(''), 'utf8') };
    this.#h245Address = bodyFields(pdu).h245Address;
  }

  /** After the call layer took the leg: CallProceeding, the tunnelled H.245 of the Setup, the separate H.245 channel. */
  begin(setup: H323Setup): void {
    const pdu = setup.uu['h323-uu-pdu'];
    this.#tunnelled(pdu);
    const h245 = this.#takeQueue();
    this.#send(callProceeding(this.ids, { tunnelling: this.#tunnelling, h245Control: h245 }));
    if (!this.#tunnelling) this.#openSeparateH245();
    this.#answerTimer = this.#deps.timers.setTimeout(() => this.#timeout(), this.#deps.answerMs);
  }

  // ---- CallLegControl ----

  wire(): LegWire {
    return { protocol: 'h323', transport: 'tcp', wireCallId: this.ids.callIdentifier.toString('hex'), remoteTarget: `${this.source.address}:${this.source.port}`, setupHeaders: this.setupFields };
  }

  get negotiating(): boolean {
    return this.#answered && !this.#confirmed;
  }

  get confirmed(): boolean {
    return this.#confirmed;
  }

  progress(statusCode: number, _reason: string | undefined, body: SessionBody | undefined): void {
    if (this.#over || this.#answered || statusCode < 180) return;
    // Early media (a fastStart answer before Connect) unless the caller waits for Connect.
    const fastStart = body === undefined || this.#mediaWaitForConnect ? undefined : this.#fastStartOf(body);
    const h = { tunnelling: this.#tunnelling, h245Control: this.#takeQueue() };
    if (statusCode === 180 && this.#state === 'incoming-proceeding') {
      this.#state = 'call-received';
      this.#send(alerting(this.ids, h, { fastStart }));
    } else {
      this.#send(progress(this.ids, h, { fastStart }));
    }
  }

  answer(statusCode: number, _reason: string | undefined, body: SessionBody | undefined, _crossing: readonly HeaderField[], _role?: AnswerRole): void {
    if (this.#over || this.#answered) return;
    if (statusCode >= 300) return this.#release(causeOfSipStatus(statusCode));
    if (statusCode < 200) return;
    this.#answered = true;
    this.onAnswered?.();
    this.#deps.timers.clearTimeout(this.#answerTimer);
    let fastStart: Buffer[] | undefined;
    let refused = false;
    if (this.offer !== undefined && !this.#fastStartSent) {
      fastStart = body === undefined ? undefined : this.#fastStartOf(body);
      if (fastStart === undefined) return this.#release(CAUSE.incompatibleDestination, 'Fast Connect answer names no proposal');
    } else if (this.offer === undefined) {
      // Carillon's offer: realised over H.245.
      this.#local = localMediaOf(body);
      this.#video.offered(body?.bytes.toString('utf8') ?? '');
      if (this.#local === undefined || this.#local.codecs.length === 0) return this.#release(CAUSE.incompatibleDestination, 'no audio Carillon can offer over H.245');
      refused = this.#proposals.length > 0;
      this.#setupTimer = this.#deps.timers.setTimeout(() => this.#h245Timeout(), this.#deps.h245SetupMs);
    }
    this.#state = 'active';
    if (this.#tunnelling || this.#h245 !== undefined) this.#session.start();
    this.#send(connect(this.ids, { tunnelling: this.#tunnelling, h245Control: this.#takeQueue(), h245Address: this.#tunnelling ? undefined : this.#h245Own }, { fastStart, fastConnectRefused: refused }));
    if (this.offer !== undefined) {
      // Fast Connect: the answer went in Connect (or earlier); there is no acknowledgement to wait for.
      this.#confirmed = true;
      queueMicrotask(() => {
        if (!this.#over) this.events.confirmed(undefined);
      });
    } else {
      this.#maybeOpen();
    }
  }

  hangup(cause: HangupCause | undefined): void {
    if (this.#over) return;
    const q931 = cause === undefined || (cause.status >= 200 && cause.status < 300) ? CAUSE.normalClearing : causeOfSipStatus(cause.status);
    this.#release(q931);
  }

  confirm(): void {
    // Carillon never places H.323 calls here: nothing to acknowledge.
  }

  reoffer(_method: string, _body: SessionBody | undefined, _crossing: readonly HeaderField[], _hopsLeft: number, done: (o: OfferOutcome) => void): void {
    // H.245 re-opens channels rather than renegotiating an offer: a new SDP offer cannot cross.
    done({ status: 488, reason: 'Not Acceptable Here', body: undefined, crossing: [] });
  }

  relay(method: string, body: SessionBody | undefined, _crossing: readonly HeaderField[], _hopsLeft: number, done: (o: OfferOutcome) => void): void {
    // RFC 5168 picture_fast_update: H.245 videoFastUpdatePicture on the peer's video channel.
    if (method === 'INFO' && isPictureFastUpdate(body)) return done({ status: this.#video.askKeyFrame() ? 200 : 488, reason: undefined, body: undefined, crossing: [] });
    if (method === 'INFO' && body !== undefined) {
      const d = parseSipInfoDtmf(body.contentType, body.bytes);
      if (d.ok) {
        this.#session.sendDtmf(d.digit, d.durationMs);
        return done({ status: 200, reason: undefined, body: undefined, crossing: [] });
      }
    }
    done({ status: method === 'INFO' ? 415 : 501, reason: undefined, body: undefined, crossing: [] });
  }

  sessionUpdated(): void {
    // No session timers on H.323 (TCP and H.245 keep the call alive).
  }

  /** The H.239 presentation token of the call (Carillon the token manager; h245-session.ts). */
  get presentation(): PresentationPort {
    return this.#session.presentation;
  }

  close(): void {
    if (this.#over) return;
    this.#over = true;
    this.#session.presentation.end();
    this.#video.close();
    this.#clearTimers();
    this.#h245Listen?.close();
    this.#h245?.close();
    this.#conn.close();
    this.#deps.gone(this);
  }

  // ---- what the edge passes on ----

  /** A Q.931 message on the call's connection after its Setup. */
  onQ931(m: Q931Message, uu: H323_UserInformation | undefined): void {
    if (this.#over) return;
    if (m.callReference !== this.ids.callReference) {
      // multipleCalls is FALSE: a second call on this connection is refused on its own reference.
      if (m.type === Q931_TYPE.setup) this.#conn.send(releaseComplete({ ...this.ids, callReference: m.callReference }, CAUSE.resourceUnavailable, this.#tunnelling));
      return;
    }
    const d = dispositionOf(this.#state, m.type);
    if (d.kind === 'status-enquiry' || d.kind === 'status') {
      this.#deps.count('q931-status');
      this.#send(status(this.ids, statusIes(this.#state, d.kind === 'status' ? d.cause : CAUSE.statusEnquiryResponse), this.#tunnelling));
      return;
    }
    if (uu !== undefined) {
      const pdu = uu['h323-uu-pdu'];
      this.#tunnelled(pdu);
      const f = bodyFields(pdu);
      if (f.h245Address !== undefined && !this.#tunnelling && this.#h245 === undefined) {
        this.#h245Address = f.h245Address;
        this.#openSeparateH245();
      }
    }
    if (m.type === Q931_TYPE.information) {
      const keys = readKeypadFacility(ieOf(m, IE.keypadFacility));
      for (const k of keys ?? '') if (isDtmfDigit(k)) this.#dtmf(k, 100);
    }
    if (m.type === Q931_TYPE.releaseComplete) {
      const cause = readCause(ieOf(m, IE.cause));
      this.releaseCause = cause ?? CAUSE.normalClearing;
      return this.#peerGone(this.#answered ? 'peer-hangup' : 'peer-cancel', cause === undefined ? undefined : sipStatusOfCause(cause), false);
    }
    this.#flushSoon();
  }

  /** The call's connection closed without a ReleaseComplete. */
  onConnectionClosed(): void {
    if (!this.#over) this.#peerGone('transport-error');
  }

  // ---- internals ----

  #sessionEvents() {
    return {
      send: (msgs: readonly MultimediaSystemControlMessage[]) => {
        for (const m of msgs) {
          this.#deps.logger.trace({ call: this.wire().wireCallId, h245: h245Name(m) }, 'h245 out');
          this.#h245Queue.push(encode(H245Codec, m));
        }
        this.#flushSoon();
      },
      dtmf: (digit: DtmfDigit, durationMs: number) => this.#dtmf(digit, durationMs),
      fastUpdate: (lcn: number) => this.#video.peerAsksKeyFrame(lcn),
      endSession: () => {
        // The peer ends the session: answer in kind, then release the call.
        if (!this.#over) this.#peerGone(this.#answered ? 'peer-hangup' : 'peer-cancel');
      },
      peerChannel: (_lcn: number, capability: H323AudioCapability) => {
        const local = this.#local;
        if (local === undefined || !local.codecs.includes(capability)) return undefined;
        this.#peerCodec ??= capability;
        queueMicrotask(() => this.#maybeOpen());
        return { rtp: local.rtp, rtcp: local.rtcp };
      },
      peerChannelClosed: (lcn: number) => this.#video.peerClosed(lcn),
      peerVideoChannel: (olc: OpenLogicalChannel) => this.#video.peerOpens(olc),
      ownChannelAccepted: (_lcn: number, media: TransportAddr | undefined, rtcp: TransportAddr | undefined) => {
        this.#peerRtp = media;
        this.#peerRtcp = rtcp;
        this.#maybeConfirm();
      },
      ownChannelRefused: () => this.#release(CAUSE.incompatibleDestination, 'the peer refused Carillon’s audio channel'),
      ownVideoAccepted: (_lcn: number, media: TransportAddr | undefined, rtcp: TransportAddr | undefined) => {
        this.#video.ownAccepted(media, rtcp);
        this.#maybeConfirm();
      },
      ownVideoRefused: () => {
        this.#video.ownRefused();
        this.#maybeConfirm();
      },
      changed: () => {
        if (this.#session.failure !== undefined) return this.#release(CAUSE.protocolError, `H.245 ${this.#session.failure}`);
        this.#maybeOpen();
      },
    };
  }

  /** Slow start: once H.245 is ready, Carillon opens its channel (the codec the peer sends, if it opened first). */
  #maybeOpen(): void {
    const local = this.#local;
    if (this.#over || local === undefined || !this.#session.ready) return;
    const video = this.#video.channelToOpen(this.#session.peerReceivesH264);
    if (video !== undefined) this.#session.openVideoChannel(video);
    if (this.#session.ownChannel !== undefined) return this.#maybeConfirm();
    const peer = this.#session.peerReceives ?? [];
    const open = (c: H323AudioCapability): void => {
      this.#deps.timers.clearTimeout(this.#openTimer);
      this.#openTimer = undefined;
      this.#peerCodec ??= c;
      this.#session.openChannel(c, local.rtcp);
    };
    if (this.#peerCodec !== undefined && peer.includes(this.#peerCodec)) return open(this.#peerCodec);
    const common = local.codecs.find((c) => peer.includes(c));
    if (common === undefined) return this.#release(CAUSE.incompatibleDestination, 'no audio codec both sides take');
    // Give the peer a moment to open its channel first, so both directions use one codec.
    this.#openTimer ??= this.#deps.timers.setTimeout(() => {
      this.#openTimer = undefined;
      if (!this.#over && this.#session.ownChannel === undefined) open(this.#peerCodec !== undefined && peer.includes(this.#peerCodec) ? this.#peerCodec : common);
    }, 300);
  }

  /** Slow start: the peer's address and codec known, the answer to Carillon's offer goes to the call. */
  #maybeConfirm(): void {
    if (this.#over || this.#confirmed || this.#peerRtp === undefined) return;
    const codec = this.#peerCodec;
    const video = this.#video.answerLines();
    if (codec === undefined || video === undefined) return;
    this.#confirmed = true;
    this.#deps.timers.clearTimeout(this.#setupTimer);
    const c = AUDIO_CODECS[codec];
    const a = this.#peerRtp;
    const lines = [
      'v=0',
      `o=- ${Math.floor(this.#deps.draw() * 1e9)} 1 IN IP4 ${a.address}`,
      's=-',
      `c=IN IP4 ${a.address}`,
      't=0 0',
      `m=audio ${a.port} RTP/AVP ${c.payloadType}`,
      `a=rtpmap:${c.payloadType} ${c.name}/${c.clockRateHz}`,
      ...(this.#peerRtcp === undefined ? [] : [`a=rtcp:${this.#peerRtcp.port} IN IP4 ${this.#peerRtcp.address}`]),
      'a=sendrecv',
      ...video,
    ];
    this.events.confirmed({ contentType: SDP, bytes: Buffer.from(`${lines.join('\r\n')}\r\n`, 'utf8') });
  }

  /** The fastStart elements an SDP answer (or early answer) stands for, sent now; undefined when it names no proposal. */
  #fastStartOf(body: SessionBody): Buffer[] | undefined {
    if (this.offer === undefined || this.#fastStartSent) return undefined;
    const choice = chooseFastStart(
      this.#proposals.map((x) => x.p),
      body.bytes.toString('utf8'),
    );
    if (choice === undefined) return undefined;
    const local = { rtp: choice.local, rtcp: choice.localRtcp };
    const toUs = this.#proposals.find((x) => x.p === choice.toUs);
    const toPeer = this.#proposals.find((x) => x.p === choice.toPeer);
    if (toUs === undefined || toPeer === undefined) return undefined;
    const ownLcn = 1;
    this.#fastStartSent = true;
    this.#session.adoptOwnChannel(ownLcn);
    this.#session.adoptPeerChannel(toUs.olc.forwardLogicalChannelNumber, choice.capability);
    const video = this.#video.fastStartAnswers(this.#proposals, body.bytes.toString('utf8'));
    return [fastStartAnswer(toUs.olc, toUs.p, local, ownLcn), fastStartAnswer(toPeer.olc, toPeer.p, local, ownLcn), ...video].map((o) => encode(OlcCodec, o));
  }

  /** Tunnelled H.245 PDUs of a message the peer sent. */
  #tunnelled(pdu: H323_UU_PDU): void {
    if (!this.#tunnelling) return;
    for (const bytes of (pdu.h245Control ?? []).slice(0, 32)) this.#h245In(bytes);
  }

  #h245In(bytes: Buffer): void {
    const r = decode(H245Codec, bytes, this.#deps.perLimits);
    if (!r.ok) {
      this.#deps.count('h245-malformed');
      return;
    }
    this.#deps.logger.trace({ call: this.wire().wireCallId, h245: h245Name(r.value) }, 'h245 in');
    this.#session.handle(r.value);
  }

  #takeQueue(): Buffer[] {
    if (!this.#tunnelling) return [];
    if (this.#onePerFacility) return this.#h245Queue.length > 0 ? [this.#h245Queue.shift() as Buffer] : [];
    const q = this.#h245Queue;
    this.#h245Queue = [];
    return q;
  }

  #flushSoon(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    queueMicrotask(() => {
      this.#flushScheduled = false;
      this.#flush();
    });
  }

  /** Sends what H.245 queued: on the H.245 connection, or tunnelled in Facility messages. */
  #flush(): void {
    if (this.#h245Queue.length === 0) return;
    if (this.#tunnelling) {
      while (this.#h245Queue.length > 0) this.#send(facilityTunnel(this.ids, this.#takeQueue()));
      return;
    }
    const c = this.#h245;
    if (c === undefined) return;
    for (const b of this.#h245Queue) c.send(b);
    this.#h245Queue = [];
  }

  #send(q931: Buffer): void {
    if (!this.#conn.send(q931)) this.#peerGone('transport-error');
  }

  #openSeparateH245(): void {
    if (this.#h245 !== undefined || this.#h245Listen !== undefined || this.#over) return;
    const adopt = (c: TpktConnection | undefined): void => {
      if (c === undefined || this.#over || this.#h245 !== undefined) {
        c?.close();
        return;
      }
      this.#h245 = c;
      c.handler = {
        frame: (payload) => this.#h245In(payload),
        closed: () => {
          this.#h245 = undefined;
          if (!this.#over && !this.#session.ended && this.#answered) this.#peerGone('transport-error');
        },
      };
      this.#session.start();
      this.#flush();
    };
    const to = this.#h245Address;
    if (to !== undefined) {
      void this.#deps.connectH245(to).then(adopt);
      return;
    }
    void this.#deps.listenH245().then((l) => {
      if (l === undefined) return;
      if (this.#over) return l.close();
      this.#h245Listen = l;
      this.#h245Own = l.address;
      // Connect carries the address when it has not gone yet; otherwise a Facility asks for the channel.
      if (this.#answered) this.#send(facilityStartH245(this.ids, l.address));
      void l.accepted.then((c) => {
        l.close();
        this.#h245Listen = undefined;
        adopt(c);
      });
    });
  }

  #dtmf(digit: DtmfDigit, durationMs: number): void {
    if (this.#over) return;
    const body = Buffer.from(`Signal=${digit}\r\nDuration=${durationMs}\r\n`, 'utf8');
    const req: PeerRequest = {
      method: 'INFO',
      body: { contentType: 'application/dtmf-relay', bytes: body },
      dtmf: { digit, durationMs },
      crossing: [],
      hopsLeft: 69,
      respond: () => undefined,
    };
    this.events.request(req);
  }

  /** Carillon ends the call: H.245 EndSession (when it ran), ReleaseComplete with the cause, connections closed. */
  #release(cause: number, why?: string): void {
    if (this.#over) return;
    if (why !== undefined) this.#deps.logger.info({ call: this.wire().wireCallId, cause, why }, 'h323 call released');
    const wasAnswered = this.#answered;
    this.#session.end();
    this.#flush();
    this.#state = 'release-request';
    this.releaseCause = cause;
    this.#conn.send(releaseComplete(this.ids, cause, this.#tunnelling));
    this.close();
    // A failure of Carillon's own after the answer ends the call for the call layer too.
    if (wasAnswered && why !== undefined) this.events.ended('transport-error', sipStatusOfCause(cause));
  }

  /** The peer ended the call (ReleaseComplete, EndSession, or its connection went). */
  #peerGone(reason: LegEndReason, statusCode?: number, answerRelease = reason !== 'transport-error'): void {
    if (this.#over) return;
    if (!this.#session.ended && this.#session.started) this.#session.end();
    this.#flush();
    this.releaseCause ??= reason === 'transport-error' ? CAUSE.temporaryFailure : CAUSE.normalClearing;
    if (answerRelease && this.#state !== 'release-request') this.#conn.send(releaseComplete(this.ids, CAUSE.normalClearing, this.#tunnelling));
    this.close();
    this.events.ended(reason, statusCode);
  }

  #timeout(): void {
    if (this.#over || this.#answered) return;
    this.#deps.logger.info({ call: this.wire().wireCallId }, 'h323 call not answered in time');
    this.releaseCause = CAUSE.recoveryOnTimerExpiry;
    this.#conn.send(releaseComplete(this.ids, CAUSE.recoveryOnTimerExpiry, this.#tunnelling));
    this.close();
    this.events.ended('timeout');
  }

  #h245Timeout(): void {
    if (this.#over || this.#confirmed) return;
    this.#release(CAUSE.recoveryOnTimerExpiry, 'H.245 gave the call no media in time');
  }

  #clearTimers(): void {
    this.#deps.timers.clearTimeout(this.#openTimer);
    this.#deps.timers.clearTimeout(this.#setupTimer);
    this.#deps.timers.clearTimeout(this.#answerTimer);
  }
}
