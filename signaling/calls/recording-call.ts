import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { CallLegControl, HeaderField, LegEvents, SessionBody } from '../../common/call-leg.ts';
import type { Random } from '../../common/random.ts';
import type { MediaControl } from '../../media/engine.ts';
import type { TrunkCall } from '../routing/route.ts';
import { readSdp } from '../sdp/anchor.ts';
import { parseMultipart } from '../sdp/multipart.ts';
import { DEFAULT_MAX_MEDIA_LINES, lineEndpoint } from './call-media.ts';
import type { IncomingCall } from '../../common/incoming-call.ts';

/**
 * Carillon as a recording server (SIPREC, RFC 7866): a recording session from a recording client
 * (an SBC or PBX on a voice connector whose streaming is on) is a call of one leg whose other end
 * is Carillon's recorder. Its offer — a session description plus rs-metadata — is answered here,
 * every audio stream received (recvonly) and streamed like a call leg, the metadata kept for the
 * streaming events. Nothing is forwarded anywhere.
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
  /** The recording client's call identifier on its wire. */
  readonly callId: string;
  readonly trunk: TrunkCall;
  /** The fields of the request that opened the session. */
  readonly setupHeaders: readonly HeaderField[];
  metadata: string | undefined;
  readonly streams: RecordedStream[];
  /** The recording client's leg. */
  readonly leg: CallLegControl;
  /** The description Carillon answered with (a new offer gets it again). */
  answer: SessionBody | undefined;
}

export interface RecorderDeps {
  readonly control: MediaControl;
  /** Address written into the answer's c= line. */
  readonly address: string;
  readonly random: Random;
  readonly logger: Logger;
  /** The fragment length a voice connector's recordings stream in, undefined when its streaming is off. */
  readonly fragmentMsFor: (voiceConnectorId: string) => number | undefined;
  readonly onBegin: (s: RecordingSession) => void;
  /** The metadata changed (a new offer): UPDATED, with the fields of the request that changed it. */
  readonly onUpdate: (s: RecordingSession, fields: readonly HeaderField[]) => void;
  readonly onEnd: (s: RecordingSession) => void;
  /** Most media lines a recording session's offer may carry (more → 488); default DEFAULT_MAX_MEDIA_LINES. */
  readonly maxMediaLines?: number;
}

const SDP = 'application/sdp';

function partsOf(body: SessionBody | undefined): { sdp: Buffer | undefined; metadata: string | undefined } {
  if (body === undefined) return { sdp: undefined, metadata: undefined };
  if (body.contentType.toLowerCase().startsWith(SDP)) return { sdp: body.bytes, metadata: undefined };
  const parts = parseMultipart(body.bytes, body.contentType) ?? [];
  return {
    sdp: parts.find((p) => p.contentType.startsWith(SDP))?.body,
    metadata: parts.find((p) => p.contentType.startsWith('application/rs-metadata+xml'))?.body.toString('utf8'),
  };
}

export class RecordingCalls {
  /** Recording sessions by media session id. */
  readonly sessions = new Map<string, RecordingSession>();
  readonly #d: RecorderDeps;

  constructor(deps: RecorderDeps) {
    this.#d = deps;
  }

  /** Answers a recording session that routing accepted for `trunk`. */
  take(incoming: IncomingCall, trunk: TrunkCall): void {
    const d = this.#d;
    const fragmentMs = d.fragmentMsFor(trunk.voiceConnectorId);
    if (fragmentMs === undefined) return incoming.refuse({ status: 403, reason: 'Streaming Not Enabled' });
    const { sdp, metadata } = partsOf(incoming.offer);
    const offer = sdp === undefined ? undefined : readSdp(sdp.toString('utf8'));
    if (offer === undefined) return incoming.refuse({ status: 488, reason: 'Recording Session Needs SDP' });
    if (offer.media.length > (d.maxMediaLines ?? DEFAULT_MAX_MEDIA_LINES)) return incoming.refuse({ status: 488, reason: 'Too Many Media Lines' });
    const leg = incoming.leg;
    const session: RecordingSession = {
      id: `rec-${d.random.token(16)}`,
      transactionId: randomUUID(),
      callId: incoming.wireCallId,
      trunk,
      setupHeaders: leg.wire().setupHeaders,
      metadata,
      streams: [],
      leg,
      answer: undefined,
    };
    let cancelled = false;
    leg.events = this.#events(session, () => {
      cancelled = true;
    });
    void this.#open(session, offer, fragmentMs).then(
      (answer) => {
        if (cancelled) return void d.control.delete(session.id);
        if (session.streams.length === 0) {
          void d.control.delete(session.id);
          return incoming.refuse({ status: 488, reason: 'No Audio To Record' });
        }
        this.sessions.set(session.id, session);
        session.answer = { contentType: SDP, bytes: Buffer.from(answer, 'utf8') };
        leg.answer(200, undefined, session.answer, [], 'recording-server');
        // A client that stops sending (and never says BYE) ends at the media timeout.
        void d.control.arm(session.id);
        d.onBegin(session);
      },
      (err: unknown) => {
        d.logger.warn({ err, callId: session.callId }, 'recording session not opened');
        void d.control.delete(session.id);
        incoming.refuse({ status: 503, reason: 'Media Unavailable' });
      },
    );
  }

  /** The recording client's leg events; `cancelled`: it gave up before the answer. */
  #events(s: RecordingSession, cancelled: () => void): LegEvents {
    return {
      progress: () => undefined,
      answered: () => undefined,
      failed: () => undefined,
      confirmed: () => undefined,
      reoffer: (offer) => {
        // New metadata (participants joined or left): the same streams go on.
        const { metadata } = partsOf(offer.body);
        if (metadata !== undefined) s.metadata = metadata;
        offer.answer(200, undefined, s.answer, []);
        this.#d.onUpdate(s, offer.fields);
      },
      request: (req) => req.respond(200, undefined, undefined, []),
      refreshed: () => undefined,
      ended: (reason) => {
        if (this.sessions.has(s.id)) return this.#end(s);
        // Before the answer (a CANCEL, a lost connection): the request is refused and nothing begins.
        cancelled();
        s.leg.answer(reason === 'peer-cancel' ? 487 : 500, undefined, undefined, []);
        s.leg.close();
      },
    };
  }

  /** Ends every recording session with a BYE (shutdown). */
  closeAll(): void {
    for (const s of [...this.sessions.values()]) this.#hangUp(s);
  }

  /** A media session that went quiet: if it is a recording session's, Carillon ends it (BYE). */
  onMediaTimeout(session: string): void {
    const s = this.sessions.get(session);
    if (s !== undefined) this.#hangUp(s);
  }

  #hangUp(s: RecordingSession): void {
    s.leg.hangup({ status: 200, text: 'Recording ended' });
    this.#end(s);
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
      // The recorder is one endpoint per line, its audio tapped.
      const endpoint = lineEndpoint(m.index, 'a');
      const [port] = await Promise.all([
        this.#d.control.openEndpoint(s.id, endpoint, { kind: 'audio', clockRateHz: 8000, codec: pt === 8 ? 'PCMA' : 'PCMU', functions: true, remote }),
        this.#d.control.attach(s.id, endpoint, { fn: 'tap', fragmentMs }).catch(() => undefined),
      ]);
      if (port === 'ports-exhausted') throw new Error('media ports exhausted');
      s.streams.push({ index: m.index, label, port, pt });
      lines.push({ index: m.index, port, label, pt });
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

  #end(s: RecordingSession): void {
    if (!this.sessions.delete(s.id)) return;
    s.leg.close();
    // Closing the media sends the last fragments up before the session's end is told.
    void this.#d.control.delete(s.id).finally(() => this.#d.onEnd(s));
  }
}
