import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Timers } from '../../common/clock.ts';
import type { Random } from '../../common/random.ts';
import type { MediaControl } from '../../media/engine.ts';
import type { TrunkCall } from '../routing/route.ts';
import { readSdp } from '../sdp/anchor.ts';
import { DEFAULT_MAX_MEDIA_LINES } from './call-media.ts';
import { parseMultipart } from '../sdp/multipart.ts';
import { getHeader, getHeaderValues } from '../sip/message/headers.ts';
import type { SipRequest } from '../sip/message/types.ts';
import type { ServerTransaction } from '../sip/transaction/types.ts';
import type { Destination, TransportName } from '../sip/transport/types.ts';
import { Retransmitter } from '../sip/ua/retransmitter.ts';
import { createResponse } from '../sip/ua/responses.ts';
import { contactUri, cseqOf, fromTagOf, stripTag, toTagOf } from './sip-util.ts';
import { Dialog } from '../sip/dialog/dialog.ts';

/**
 * Carillon as a SIPREC recording server (RFC 7866): a recording-session INVITE from a session
 * recording client (an SBC or PBX on a voice connector whose streaming is on) — multipart SDP
 * plus rs-metadata — is answered here, every audio stream received (recvonly) and streamed like
 * a call leg, the metadata kept for the streaming events. Nothing is forwarded anywhere.
 */
export interface RecordedStream {
  readonly index: number;
  readonly label: string;
  /** Carillon's port the recording client sends this stream to. */
  readonly port: number;
  /** The G.711 payload type answered (0 PCMU, 8 PCMA). */
  readonly pt: number;
}

export interface RecordingSession {
  /** The media session (and streaming key). */
  readonly id: string;
  readonly transactionId: string;
  readonly callId: string;
  readonly trunk: TrunkCall;
  readonly invite: SipRequest;
  metadata: string | undefined;
  readonly streams: RecordedStream[];
  readonly localTag: string;
  readonly ackWait: Retransmitter;
  inviteCseq: number;
  /** The dialog with the recording client (Carillon's side), for the BYE it may have to send. */
  readonly dialog: Dialog;
}

export interface RecorderDeps {
  readonly control: MediaControl;
  /** Address written into the answer's c= line. */
  readonly address: string;
  readonly random: Random;
  readonly timers: Timers;
  readonly t1Ms: number;
  readonly t2Ms: number;
  readonly logger: Logger;
  readonly contactFor: (transport: TransportName) => string | undefined;
  /** Sends a request outside any call (the BYE ending a recording session whose media stopped). */
  readonly sendRequest: (req: SipRequest, dest: Destination) => void;
  /** The fragment length a voice connector's recordings stream in, undefined when its streaming is off. */
  readonly fragmentMsFor: (voiceConnectorId: string) => number | undefined;
  readonly onBegin: (s: RecordingSession) => void;
  /** The metadata changed (a re-INVITE): UPDATED. */
  readonly onUpdate: (s: RecordingSession, req: SipRequest) => void;
  readonly onEnd: (s: RecordingSession) => void;
  /** Most media lines a recording session's offer may carry (more → 488); default DEFAULT_MAX_MEDIA_LINES. */
  readonly maxMediaLines?: number;
}

function partsOf(req: SipRequest): { sdp: Buffer | undefined; metadata: string | undefined } {
  const ct = getHeader(req, 'content-type') ?? '';
  if (ct.toLowerCase().startsWith('application/sdp')) return { sdp: req.body, metadata: undefined };
  const parts = parseMultipart(req.body, ct) ?? [];
  return {
    sdp: parts.find((p) => p.contentType.startsWith('application/sdp'))?.body,
    metadata: parts.find((p) => p.contentType.startsWith('application/rs-metadata+xml'))?.body.toString('utf8'),
  };
}

/** Carillon's side of the dialog a recording-session INVITE opens (confirmed with the 2xx). */
function dialogOf(tx: ServerTransaction, localTag: string): Dialog {
  const req = tx.request;
  const src = tx.source;
  const from = getHeader(req, 'from') ?? '';
  return new Dialog({
    callId: getHeader(req, 'call-id') ?? '',
    localTag,
    remoteTag: fromTagOf(req) ?? '',
    localUri: stripTag(getHeader(req, 'to') ?? ''),
    remoteUri: stripTag(from),
    localSeq: 0,
    remoteSeq: cseqOf(req)?.seq ?? 0,
    remoteTarget: contactUri(req) ?? stripTag(from),
    routeSet: getHeaderValues(req, 'record-route'),
    flow: src.connectionId === undefined ? { transport: src.transport, address: src.address, port: src.port } : { transport: src.transport, address: src.address, port: src.port, connectionId: src.connectionId },
    state: 'confirmed',
  });
}

export class Recorder {
  /** Recording sessions by dialog key (Call-ID + Carillon's tag). */
  readonly sessions = new Map<string, RecordingSession>();
  readonly #d: RecorderDeps;

  constructor(deps: RecorderDeps) {
    this.#d = deps;
  }

  /** Answers a recording-session INVITE that routing accepted for `trunk`. */
  take(tx: ServerTransaction, trunk: TrunkCall): void {
    const req = tx.request;
    const d = this.#d;
    const fragmentMs = d.fragmentMsFor(trunk.voiceConnectorId);
    const refuse = (status: number, reason: string): void => tx.respond(createResponse(req, status, { toTag: d.random.token(10), reason }));
    if (fragmentMs === undefined) return refuse(403, 'Streaming Not Enabled');
    const { sdp, metadata } = partsOf(req);
    const offer = sdp === undefined ? undefined : readSdp(sdp.toString('utf8'));
    const contact = d.contactFor(tx.source.transport);
    const localTag = d.random.token(10);
    if (offer === undefined || contact === undefined) return refuse(488, 'Recording Session Needs SDP');
    if (offer.media.length > (d.maxMediaLines ?? DEFAULT_MAX_MEDIA_LINES)) return refuse(488, 'Too Many Media Lines');
    const session: RecordingSession = {
      id: `rec-${d.random.token(16)}`,
      transactionId: randomUUID(),
      callId: getHeader(req, 'call-id') ?? '',
      trunk,
      invite: req,
      metadata,
      streams: [],
      localTag,
      ackWait: new Retransmitter(d.timers, d.t1Ms, d.t2Ms),
      inviteCseq: cseqOf(req)?.seq ?? 0,
      dialog: dialogOf(tx, localTag),
    };
    void this.#open(session, offer, fragmentMs).then(
      (answer) => {
        if (session.streams.length === 0) return refuse(488, 'No Audio To Record');
        this.sessions.set(`${session.callId}\u0000${session.localTag}`, session);
        this.#answer(tx, session, answer, contact);
        // A client that stops sending (and never says BYE) ends at the media timeout.
        void d.control.arm(session.id);
        d.onBegin(session);
      },
      (err: unknown) => {
        d.logger.warn({ err, callId: session.callId }, 'recording session not opened');
        void d.control.delete(session.id);
        refuse(503, 'Media Unavailable');
      },
    );
  }

  /** An in-dialog request for a recording session (true when it was one). */
  onRequest(tx: ServerTransaction): boolean {
    const s = this.#sessionOf(tx.request);
    if (s === undefined) return false;
    const req = tx.request;
    if (req.method === 'BYE') {
      tx.respond(createResponse(req, 200));
      this.#end(s);
    } else if (req.method === 'INVITE' && req.body.length > 0) {
      // New metadata (participants joined or left): the same streams go on.
      const { metadata } = partsOf(req);
      if (metadata !== undefined) s.metadata = metadata;
      s.inviteCseq = cseqOf(req)?.seq ?? s.inviteCseq;
      this.#answer(tx, s, this.#answerSdp(s, s.streams), this.#d.contactFor(tx.source.transport) ?? '');
      this.#d.onUpdate(s, req);
    } else {
      tx.respond(createResponse(req, 200));
    }
    return true;
  }

  /** The ACK of a 2xx Carillon sent a recording client (true when it was one). */
  onAck(ack: SipRequest): boolean {
    const s = this.#sessionOf(ack);
    if (s === undefined) return false;
    if (cseqOf(ack)?.seq === s.inviteCseq) s.ackWait.stop();
    return true;
  }

  /** Ends every recording session with a BYE (shutdown). */
  closeAll(): void {
    for (const s of [...this.sessions.values()]) this.#hangUp(s);
  }

  /** A media session that went quiet: if it is a recording session's, Carillon ends it (BYE). */
  onMediaTimeout(session: string): void {
    for (const s of this.sessions.values()) if (s.id === session) return this.#hangUp(s);
  }

  #hangUp(s: RecordingSession): void {
    const dest = s.dialog.destination();
    const contact = this.#d.contactFor(s.dialog.flow.transport);
    if (dest !== undefined && contact !== undefined) this.#d.sendRequest(s.dialog.createRequest('BYE', contact, [{ name: 'reason', value: 'SIP;cause=200;text="Recording ended"' }]), dest);
    this.#end(s);
  }

  #sessionOf(req: SipRequest): RecordingSession | undefined {
    const tag = toTagOf(req);
    return tag === undefined ? undefined : this.sessions.get(`${getHeader(req, 'call-id') ?? ''}\u0000${tag}`);
  }

  /** Opens a receive-only, streamed media line per audio line of the offer; the answer's lines. */
  async #open(s: RecordingSession, offer: NonNullable<ReturnType<typeof readSdp>>, fragmentMs: number): Promise<string> {
    const lines: { index: number; port: number; label: string; pt: number }[] = [];
    for (const m of offer.media) {
      const pt = m.payloads.find((p) => p === 0 || p === 8);
      const label = String((offer.parsed.media[m.index] as { label?: string | number } | undefined)?.label ?? m.index);
      if (m.type !== 'audio' || m.port === 0 || pt === undefined) {
        lines.push({ index: m.index, port: 0, label, pt: m.payloads[0] ?? 0 });
        continue;
      }
      // sendrecv, though the client only sends: "sendonly" would read as a hold and keep the media timeout off.
      const remote = { address: m.address, port: m.port, rtcpPort: m.rtcpPort, rtcpMux: m.rtcpMux, direction: 'sendrecv' as const, dtmfPayloadTypes: [] };
      const ports = await this.#d.control.allocate(s.id, m.index, 'audio', 8000, { then: { side: 'a', remote }, tapFragmentMs: fragmentMs });
      if (ports === 'ports-exhausted') throw new Error('media ports exhausted');
      s.streams.push({ index: m.index, label, port: ports.aPort, pt });
      lines.push({ index: m.index, port: ports.aPort, label, pt });
    }
    return this.#answerSdp(s, lines);
  }

  #answerSdp(s: RecordingSession, lines: readonly { index: number; port: number; label: string; pt: number }[]): string {
    const a = this.#d.address;
    const ip = a.includes(':') ? 'IP6' : 'IP4';
    const out = ['v=0', `o=Carillon ${s.transactionId.replace(/\D/g, '').slice(0, 12) || '1'} 1 IN ${ip} ${a}`, 's=Carillon recording', `c=IN ${ip} ${a}`, 't=0 0'];
    for (const l of lines) {
      out.push(`m=audio ${l.port} RTP/AVP ${l.pt}`);
      if (l.port === 0) continue;
      out.push(`a=rtpmap:${l.pt} ${l.pt === 8 ? 'PCMA' : 'PCMU'}/8000`, `a=label:${l.label}`, 'a=recvonly', `a=rtcp:${l.port + 1}`);
    }
    return `${out.join('\r\n')}\r\n`;
  }

  #answer(tx: ServerTransaction, s: RecordingSession, sdp: string, contact: string): void {
    const res = createResponse(tx.request, 200, {
      toTag: s.localTag,
      headers: [
        { name: 'contact', value: `${contact};+sip.srs` },
        { name: 'content-type', value: 'application/sdp' },
      ],
      body: Buffer.from(sdp, 'utf8'),
    });
    tx.respond(res);
    s.ackWait.start(
      tx.source.transport !== 'udp',
      () => tx.respond(res),
      () => this.#end(s),
    );
  }

  #end(s: RecordingSession): void {
    const key = `${s.callId}\u0000${s.localTag}`;
    if (!this.sessions.delete(key)) return;
    s.ackWait.stop();
    // Closing the media sends the last fragments up before the session's end is told.
    void this.#d.control.delete(s.id).finally(() => this.#d.onEnd(s));
  }
}
