import type { Logger } from 'pino';
import type { PresentationPort } from '../../common/call-leg.ts';
import type { Clock, Timers } from '../../common/clock.ts';
import type { Random } from '../../common/random.ts';
import type { SocketFactory } from '../../common/sockets.ts';
import type { MediaControl } from '../../media/engine.ts';
import { DEFAULT_FLOOR_ID, FloorServer } from '../bfcp/floor-server.ts';
import { answerBfcpOffer, readBfcpSdp } from '../bfcp/sdp.ts';
import { BfcpTcpTransport } from '../bfcp/transport.ts';
import { BfcpUdpTransport } from '../bfcp/udp-transport.ts';
import { videoEndpointOf } from './meeting-video.ts';

/**
 * A meeting's presentation content: its floor (one presenter at a time), for SIP room systems
 * over BFCP (RFC 8855; Carillon the floor control server, RFC 8856 SDP) and for H.323 room
 * systems through the H.239 presentation token, the same floor. Whoever holds it is the
 * presenter: the media worker sends its content stream (`a=content:slides`) to every other
 * participant's content stream. One TCP listener and one UDP socket (the `--bfcp` port) serve
 * every meeting; messages find their meeting by Conference ID.
 */

export interface MeetingContentOptions {
  readonly control: MediaControl;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly sockets: SocketFactory;
  readonly random: Random;
  readonly logger: Logger;
}

interface Member {
  readonly participantId: string;
  readonly userId: number;
  /** It has a content stream in the meeting's session (its `<id>.c` endpoint). */
  content: boolean;
  /** An H.323 participant's H.239 token. */
  presentation: PresentationPort | undefined;
}

interface Conference {
  readonly meetingId: string;
  readonly session: string;
  readonly id: number;
  readonly floor: FloorServer;
  readonly members: Map<number, Member>;
  readonly byParticipant: Map<string, Member>;
  nextUserId: number;
  presenter: string | undefined;
}

/** What the answer to a participant's BFCP line is, and what Carillon must do for it. */
export interface BfcpLineAnswer {
  readonly index: number;
  readonly lines: readonly string[];
}

export class MeetingContent {
  readonly #o: MeetingContentOptions;
  readonly #byMeeting = new Map<string, Conference>();
  readonly #byId = new Map<number, Conference>();
  #tcp: BfcpTcpTransport | undefined;
  #udp: BfcpUdpTransport | undefined;
  #port = 0;
  readonly counters = { floorGrants: 0, presenterChanges: 0, bfcpLinesAnswered: 0, bfcpLinesRefused: 0, h239Requests: 0, h239Denied: 0 };

  constructor(o: MeetingContentOptions) {
    this.#o = o;
  }

  /** Listens for BFCP on TCP and UDP `port` of `bindAddress` (0: one the system picks for both); resolves the port. */
  async start(bindAddress: string, port: number): Promise<number> {
    const router = (conferenceId: number): FloorServer | undefined => this.#byId.get(conferenceId)?.floor;
    this.#tcp = new BfcpTcpTransport({ sockets: this.#o.sockets, timers: this.#o.timers, router });
    this.#port = await this.#tcp.listen(bindAddress, port);
    this.#udp = new BfcpUdpTransport({ sockets: this.#o.sockets, timers: this.#o.timers, clock: this.#o.clock, router });
    await this.#udp.bind(bindAddress, this.#port);
    return this.#port;
  }

  get port(): number {
    return this.#port;
  }

  /** BFCP connections open (TCP). */
  get bfcpConnections(): number {
    return this.#tcp?.connections ?? 0;
  }

  get conferences(): number {
    return this.#byMeeting.size;
  }

  /** The presenter of a meeting (a participant id), if anyone presents. */
  presenterOf(meetingId: string): string | undefined {
    return this.#byMeeting.get(meetingId)?.presenter;
  }

  #conference(meetingId: string, session: string): Conference {
    const existing = this.#byMeeting.get(meetingId);
    if (existing !== undefined) return existing;
    let id = 0;
    // A random 32-bit Conference ID, never 0 and not one in use (RFC 8855 §5.1: it identifies the conference).
    while (id === 0 || this.#byId.has(id)) id = (Math.floor(this.#o.random.float() * 0xffffffff) + 1) >>> 0;
    const c: Conference = {
      meetingId,
      session,
      id,
      floor: new FloorServer({ conferenceId: id }, { clock: this.#o.clock, events: { presenterChanged: (_f, userId) => this.#presenterChanged(c, userId) } }),
      members: new Map(),
      byParticipant: new Map(),
      nextUserId: 1,
      presenter: undefined,
    };
    this.#byMeeting.set(meetingId, c);
    this.#byId.set(id, c);
    return c;
  }

  #member(c: Conference, participantId: string): Member | undefined {
    const existing = c.byParticipant.get(participantId);
    if (existing !== undefined) return existing;
    if (c.nextUserId > 0xffff) return undefined;
    const m: Member = { participantId, userId: c.nextUserId++, content: false, presentation: undefined };
    if (c.floor.addUser(m.userId) === 'full') return undefined;
    c.members.set(m.userId, m);
    c.byParticipant.set(participantId, m);
    return m;
  }

  /**
   * Answers the BFCP line of a participant's offer (`sdp`, its text) in `meetingId`: Carillon
   * is the floor control server on its BFCP port, the participant's user id is its own, the floor
   * names the content line Carillon answered (`contentLabel`). Undefined when the offer has no
   * BFCP line; a line Carillon cannot serve is answered rejected (port 0).
   */
  answer(meetingId: string, session: string, participantId: string, sdp: string, contentLabel: string | undefined): BfcpLineAnswer | undefined {
    const read = readBfcpSdp(sdp);
    const offer = read.bfcp;
    if (offer === undefined) return undefined;
    const refuse = (): BfcpLineAnswer => {
      this.counters.bfcpLinesRefused++;
      return { index: offer.mediaIndex, lines: [`m=application 0 ${offer.proto} *`] };
    };
    if (this.#tcp === undefined || contentLabel === undefined) return refuse();
    const c = this.#conference(meetingId, session);
    const m = this.#member(c, participantId);
    if (m === undefined) return refuse();
    m.content = true;
    const a = answerBfcpOffer(offer, { port: this.#port, conferenceId: c.id, userId: m.userId, floorId: DEFAULT_FLOOR_ID, contentLabel });
    if (!a.ok) return refuse();
    // A passive offerer waits for Carillon to connect (RFC 4145): to its offered address and port.
    if (a.transport === 'tcp' && a.setup === 'active' && offer.address !== undefined) {
      void this.#tcp.connect(offer.address, offer.port).catch(() => false);
    }
    this.counters.bfcpLinesAnswered++;
    return { index: offer.mediaIndex, lines: a.lines };
  }

  /** An H.323 participant in the meeting: its H.239 presentation-token requests take the same floor. */
  joinH323(meetingId: string, session: string, participantId: string, port: PresentationPort): void {
    const c = this.#conference(meetingId, session);
    const m = this.#member(c, participantId);
    if (m === undefined) return;
    m.presentation = port;
    port.onRequest = (grant) => {
      this.counters.h239Requests++;
      const r = c.floor.requestFor(m.userId);
      if (r === 'denied') this.counters.h239Denied++;
      grant(r === 'granted');
    };
    port.onRelease = () => c.floor.releaseFor(m.userId);
  }

  /** The participant left: its floor requests end (a presenter's floor goes to the next in line). */
  leave(meetingId: string, participantId: string): void {
    const c = this.#byMeeting.get(meetingId);
    const m = c?.byParticipant.get(participantId);
    if (c === undefined || m === undefined) return;
    c.byParticipant.delete(participantId);
    c.members.delete(m.userId);
    if (m.presentation !== undefined) {
      m.presentation.onRequest = undefined;
      m.presentation.onRelease = undefined;
    }
    c.floor.removeUser(m.userId);
  }

  /** The moderator stops whoever presents; false when nobody does. */
  stopPresenting(meetingId: string): boolean {
    return this.#byMeeting.get(meetingId)?.floor.revokeFloor() ?? false;
  }

  /** The meeting ended: its floor and Conference ID go. */
  end(meetingId: string): void {
    const c = this.#byMeeting.get(meetingId);
    if (c === undefined) return;
    this.#byMeeting.delete(meetingId);
    this.#byId.delete(c.id);
    c.floor.close();
  }

  #presenterChanged(c: Conference, userId: number | undefined): void {
    const m = userId === undefined ? undefined : c.members.get(userId);
    const before = c.presenter === undefined ? undefined : c.byParticipant.get(c.presenter);
    c.presenter = m?.participantId;
    this.counters.presenterChanges++;
    if (m !== undefined) this.counters.floorGrants++;
    // An H.323 presenter that lost the floor (revoked by the moderator, handed on) gives the token back.
    if (before !== undefined && before !== m && before.presentation?.holding === true) before.presentation.revoke();
    const endpoint = m !== undefined && m.content ? videoEndpointOf(m.participantId, 'content') : null;
    void this.#o.control.presenter(c.session, endpoint).catch((err: unknown) => this.#o.logger.debug({ err, meeting: c.meetingId }, 'presenter not set in media'));
  }

  async close(): Promise<void> {
    for (const id of [...this.#byMeeting.keys()]) this.end(id);
    await this.#tcp?.close();
    this.#udp?.close();
  }
}
