/**
 * A BFCP floor control server for one conference (RFC 8855 §13): floors by id (a meeting has one
 * content floor), floor requests through their states, FloorStatus to the users that asked with
 * FloorQuery, Hello/Goodbye, and the Error answers of §13.8. Carillon is the floor control
 * server and nobody chairs over BFCP: the moderator acts through `revoke` and `removeUser`.
 *
 * Message in, messages out: the transport (transport.ts) parses, hands `receive` the result with
 * the BfcpPeer it came from, and the server answers and notifies through peers. No sockets, no
 * timers (retransmission is the transport's); the clock paces the per-peer rate limit.
 * Bounded: users per conference, ongoing requests per user and floor, messages per peer.
 */
import type { Clock } from '../../common/clock.ts';
import { ATTR, attributeLength, BFCP_MAX_ATTRIBUTE_BYTES, type BfcpAttribute, REQUEST_STATUS } from './attributes.ts';
import { type BfcpResult, type CommonHeader, ERROR_CODE, type ErrorCodeValue, PRIMITIVE, type Primitive } from './common-header.ts';
import {
  type BfcpMessage,
  errorCodeAttr,
  groupAttr,
  listAttr,
  priorityAttr,
  requestStatusAttr,
  SERVER_SUPPORTED_ATTRIBUTES,
  SERVER_SUPPORTED_PRIMITIVES,
  textAttr,
  u16Attr,
  u16Of,
  u16sOf,
} from './messages.ts';

/** Where messages to one participant go: a TCP connection or a UDP remote (transport.ts builds them). */
export interface BfcpPeer {
  /** Answers `request` (its version, conference, transaction and user ids; R set over UDP). */
  respond(request: CommonHeader, primitive: Primitive, attributes: readonly BfcpAttribute[]): void;
  /**
   * A server-initiated message (FloorRequestStatus, FloorStatus): transaction id 0 over TCP
   * (RFC 8855 §8: no response expected), a fresh one retransmitted until acknowledged over UDP.
   */
  notify(version: 1 | 2, conferenceId: number, userId: number, primitive: Primitive, attributes: readonly BfcpAttribute[]): void;
}

/** What happens to a FloorRequest while the floor is held by someone else. */
export type FloorPolicy = 'queue' | 'deny';

/** Floor request states (RFC 8855 §5.2.5 Table 4). */
export type RequestState = 'Pending' | 'Accepted' | 'Granted' | 'Denied' | 'Cancelled' | 'Released' | 'Revoked';

/**
 * The legal transitions of a floor request. "Cancelled" ends a request released before it was
 * granted, "Released" one released after (§13.2.2); "Revoked" takes a granted floor away, a
 * request still waiting is "Denied" instead.
 */
export const REQUEST_TRANSITIONS = {
  Pending: ['Accepted', 'Granted', 'Denied', 'Cancelled'],
  Accepted: ['Granted', 'Denied', 'Cancelled'],
  Granted: ['Released', 'Revoked'],
  Denied: [],
  Cancelled: [],
  Released: [],
  Revoked: [],
} as const satisfies Record<RequestState, readonly RequestState[]>;

export function canTransition(from: RequestState, to: RequestState): boolean {
  return (REQUEST_TRANSITIONS[from] as readonly RequestState[]).includes(to);
}

const ACTIVE: ReadonlySet<RequestState> = new Set(['Pending', 'Accepted', 'Granted']);

export interface FloorServerOptions {
  readonly conferenceId: number;
  /** The floors (a=floorid); default [DEFAULT_FLOOR_ID]. */
  readonly floorIds?: readonly number[];
  /** Default 'queue'. */
  readonly policy?: FloorPolicy;
  /** Users the conference takes (addUser beyond answers 'full'); default 256. */
  readonly maxUsers?: number;
  /** Ongoing requests one user may have for one floor (more: Error 8); default 2. */
  readonly maxRequestsPerUser?: number;
  /** Messages per second one peer may send (more are dropped); default 20, burst 40. */
  readonly messagesPerSec?: number;
  readonly messageBurst?: number;
}

/** The content floor's id when SDP names none. */
export const DEFAULT_FLOOR_ID = 1;

export interface FloorServerEvents {
  /** The floor's holder changed (undefined: nobody presents). Fired once per operation, after hand-over. */
  presenterChanged?(floorId: number, userId: number | undefined): void;
}

export interface FloorServerDeps {
  readonly clock: Clock;
  readonly events?: FloorServerEvents;
}

/** What the meeting knows of a participant (BENEFICIARY-INFORMATION). */
export interface FloorUserInfo {
  readonly displayName?: string;
  readonly uri?: string;
}

/** Counters, read at scrape time. */
export interface FloorServerCounters {
  received: number;
  rateLimited: number;
  unparsable: number;
  errorsSent: Record<ErrorCodeValue, number>;
  granted: number;
  illegalTransitions: number;
}

interface User {
  readonly id: number;
  readonly info: FloorUserInfo;
  peer: BfcpPeer | undefined;
  version: 1 | 2;
  subscriptions: readonly number[];
}

interface FloorRequest {
  readonly id: number;
  readonly userId: number;
  readonly floorIds: readonly number[];
  readonly priority: number | undefined;
  readonly participantInfo: string | undefined;
  state: RequestState;
  queuePosition: number;
  /** What the owner was last told (a change is notified). */
  reportedState: RequestState | undefined;
  reportedQueue: number;
}

interface Bucket {
  tokens: number;
  atMs: number;
}

const STATUS_VALUE: Readonly<Record<RequestState, number>> = REQUEST_STATUS;
/** Octets of a display name, URI or participant text Carillon repeats (a FLOOR-REQUEST-INFORMATION holds at most 255). */
const MAX_TEXT_BYTES = 60;

export class FloorServer {
  readonly conferenceId: number;
  readonly floorIds: readonly number[];
  readonly counters: FloorServerCounters = {
    received: 0,
    rateLimited: 0,
    unparsable: 0,
    errorsSent: { 1: 0, 2: 0, 3: 0, 4: 0, 5: 0, 6: 0, 7: 0, 8: 0, 9: 0, 10: 0, 11: 0, 12: 0, 13: 0, 14: 0 },
    granted: 0,
    illegalTransitions: 0,
  };
  readonly #deps: FloorServerDeps;
  readonly #policy: FloorPolicy;
  readonly #maxUsers: number;
  readonly #maxRequests: number;
  readonly #rate: number;
  readonly #burst: number;
  readonly #users = new Map<number, User>();
  /** Insertion order is arrival order: the queue. */
  readonly #requests = new Map<number, FloorRequest>();
  readonly #buckets = new WeakMap<BfcpPeer, Bucket>();
  readonly #presenter = new Map<number, number | undefined>();
  readonly #touchedFloors = new Set<number>();
  readonly #ended: FloorRequest[] = [];
  #nextRequestId = 1;
  #closed = false;

  constructor(opts: FloorServerOptions, deps: FloorServerDeps) {
    this.conferenceId = opts.conferenceId;
    this.floorIds = [...new Set(opts.floorIds ?? [DEFAULT_FLOOR_ID])];
    this.#policy = opts.policy ?? 'queue';
    this.#maxUsers = opts.maxUsers ?? 256;
    this.#maxRequests = opts.maxRequestsPerUser ?? 2;
    this.#rate = opts.messagesPerSec ?? 20;
    this.#burst = opts.messageBurst ?? 40;
    this.#deps = deps;
    for (const f of this.floorIds) this.#presenter.set(f, undefined);
  }

  // ---- The meeting's API ----

  /** A participant with this BFCP user id (the a=userid of its SDP answer) joins. */
  addUser(userId: number, info: FloorUserInfo = {}): 'added' | 'exists' | 'full' {
    if (this.#users.has(userId)) return 'exists';
    if (this.#closed || this.#users.size >= this.#maxUsers || userId <= 0 || userId > 0xffff) return 'full';
    this.#users.set(userId, { id: userId, info, peer: undefined, version: 2, subscriptions: [] });
    return 'added';
  }

  /** The participant left the meeting: its requests end (a held floor is released and handed on). */
  removeUser(userId: number): boolean {
    const user = this.#users.get(userId);
    if (user === undefined) return false;
    this.#endRequestsOf(userId);
    this.#users.delete(userId);
    this.#settle();
    return true;
  }

  /**
   * A floor request made for a user outside BFCP (an H.323 room system's H.239 presentation-token
   * request): granted at once when the floor is free, else denied — a token request is answered
   * now, it does not wait in the queue.
   */
  requestFor(userId: number, floorId: number = this.floorIds[0] ?? DEFAULT_FLOOR_ID): 'granted' | 'denied' {
    if (this.#closed || !this.#users.has(userId) || !this.floorIds.includes(floorId)) return 'denied';
    const holder = this.#holder(floorId);
    if (holder !== undefined) return holder.userId === userId ? 'granted' : 'denied';
    const id = this.#allocateRequestId();
    if (id === undefined) return 'denied';
    this.#requests.set(id, { id, userId, floorIds: [floorId], priority: undefined, participantInfo: undefined, state: 'Pending', queuePosition: 0, reportedState: undefined, reportedQueue: 0 });
    this.#settle();
    return this.#holder(floorId)?.userId === userId ? 'granted' : 'denied';
  }

  /** Ends a user's requests made outside BFCP (an H.239 token release); a held floor is handed on. */
  releaseFor(userId: number): void {
    if (!this.#users.has(userId)) return;
    this.#endRequestsOf(userId);
    this.#settle();
  }

  /** The moderator takes the floor from a request (Revoked if granted, Denied if waiting). */
  revoke(floorRequestId: number): boolean {
    const req = this.#requests.get(floorRequestId);
    if (req === undefined) return false;
    this.#transition(req, req.state === 'Granted' ? 'Revoked' : 'Denied');
    this.#settle();
    return true;
  }

  /** The moderator takes the floor from whoever holds it (the granted request is Revoked); false when nobody does. */
  revokeFloor(floorId: number = this.floorIds[0] ?? DEFAULT_FLOOR_ID): boolean {
    const held = this.#holder(floorId);
    return held === undefined ? false : this.revoke(held.id);
  }

  /** Who holds the floor (undefined: nobody). */
  presenter(floorId: number = this.floorIds[0] ?? DEFAULT_FLOOR_ID): number | undefined {
    for (const r of this.#requests.values()) if (r.state === 'Granted' && r.floorIds.includes(floorId)) return r.userId;
    return undefined;
  }

  /** The floor request ids the user has ongoing, in arrival order. */
  requestsOf(userId: number): { readonly id: number; readonly state: RequestState; readonly queuePosition: number }[] {
    return [...this.#requests.values()].filter((r) => r.userId === userId).map((r) => ({ id: r.id, state: r.state, queuePosition: r.queuePosition }));
  }

  get userCount(): number {
    return this.#users.size;
  }

  get requestCount(): number {
    return this.#requests.size;
  }

  /** The transport's peer is gone (connection closed, UDP remote expired): users bound to it are unbound, their requests stay. */
  peerClosed(peer: BfcpPeer): void {
    for (const u of this.#users.values()) if (u.peer === peer) u.peer = undefined;
  }

  /** Ends every request without notifying; idempotent. The meeting is over. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#requests.clear();
    this.#users.clear();
    for (const f of this.floorIds) {
      if (this.#presenter.get(f) !== undefined) {
        this.#presenter.set(f, undefined);
        this.#deps.events?.presenterChanged?.(f, undefined);
      }
    }
  }

  // ---- Messages from participants ----

  /** One parsed message (or the parse error) from `peer`. */
  receive(result: BfcpResult<BfcpMessage>, peer: BfcpPeer): void {
    if (this.#closed) return;
    this.counters.received++;
    if (!this.#takeToken(peer)) {
      this.counters.rateLimited++;
      return;
    }
    if (!result.ok) {
      const h = result.header;
      // Never answer a response or an Error with an Error (no loops); without a header there is nothing to answer.
      if (h === undefined || h.responder || h.primitive === PRIMITIVE.Error) {
        this.counters.unparsable++;
        return;
      }
      this.#error(peer, h, result.errorCode, result.unknownTypes);
      return;
    }
    const msg = result.value;
    const h = msg.header;
    // §13.8 / §13: "If the Conference ID ... does not correspond to an existing conference" → 1.
    if (h.conferenceId !== this.conferenceId) return this.#error(peer, h, ERROR_CODE.ConferenceDoesNotExist);
    switch (msg.primitive) {
      case PRIMITIVE.Error:
      case PRIMITIVE.FloorRequestStatusAck:
      case PRIMITIVE.FloorStatusAck:
      case PRIMITIVE.GoodbyeAck:
      case PRIMITIVE.ChairActionAck:
        // Acknowledgements are the transport's; a participant's Error is not answered.
        return;
      default:
        break;
    }
    const user = this.#users.get(h.userId);
    if (user === undefined) return this.#error(peer, h, ERROR_CODE.UserDoesNotExist);
    if (user.peer !== undefined && user.peer !== peer) return this.#error(peer, h, ERROR_CODE.UnauthorizedOperation, [], 'user bound to another connection');
    user.peer = peer;
    user.version = h.version === 1 ? 1 : 2;
    this.#dispatch(msg, user, peer);
    this.#settle();
  }

  #dispatch(msg: BfcpMessage, user: User, peer: BfcpPeer): void {
    const h = msg.header;
    const p = msg.primitive;
    switch (p) {
      case PRIMITIVE.FloorRequest:
        return this.#floorRequest(msg, user, peer);
      case PRIMITIVE.FloorRelease:
        return this.#floorRelease(msg, user, peer);
      case PRIMITIVE.FloorRequestQuery: {
        const req = this.#requests.get(u16Of(msg.attributes, ATTR.FloorRequestId) ?? 0);
        if (req === undefined) return this.#error(peer, h, ERROR_CODE.FloorRequestIdDoesNotExist);
        return peer.respond(h, PRIMITIVE.FloorRequestStatus, [this.#requestInfo(req)]);
      }
      case PRIMITIVE.UserQuery:
        return this.#userQuery(msg, user, peer);
      case PRIMITIVE.FloorQuery:
        return this.#floorQuery(msg, user, peer);
      case PRIMITIVE.Hello:
        // §13.5.2: HelloAck with the primitives and attributes the server supports.
        return peer.respond(h, PRIMITIVE.HelloAck, [listAttr(ATTR.SupportedPrimitives, SERVER_SUPPORTED_PRIMITIVES), listAttr(ATTR.SupportedAttributes, SERVER_SUPPORTED_ATTRIBUTES)]);
      case PRIMITIVE.Goodbye:
        // §13.6: GoodbyeAck; the user's requests end and its subscriptions with them.
        this.#endRequestsOf(user.id);
        user.subscriptions = [];
        peer.respond(h, PRIMITIVE.GoodbyeAck, []);
        user.peer = undefined;
        return;
      case PRIMITIVE.ChairAction:
        // Nobody chairs over BFCP in Carillon: the moderator acts through the API.
        return this.#error(peer, h, ERROR_CODE.UnauthorizedOperation, [], 'no chair');
      case PRIMITIVE.FloorRequestStatus:
      case PRIMITIVE.UserStatus:
      case PRIMITIVE.FloorStatus:
      case PRIMITIVE.HelloAck:
        // Server-to-participant primitives: a floor control server does not take them.
        return this.#error(peer, h, ERROR_CODE.UnknownPrimitive);
      case PRIMITIVE.Error:
      case PRIMITIVE.FloorRequestStatusAck:
      case PRIMITIVE.FloorStatusAck:
      case PRIMITIVE.GoodbyeAck:
      case PRIMITIVE.ChairActionAck:
        return;
      default: {
        const never: never = p;
        return never;
      }
    }
  }

  /** §13.1: a participant asks for floors. */
  #floorRequest(msg: BfcpMessage, user: User, peer: BfcpPeer): void {
    const h = msg.header;
    const floorIds = [...new Set(u16sOf(msg.attributes, ATTR.FloorId))];
    if (floorIds.some((f) => !this.floorIds.includes(f))) return this.#error(peer, h, ERROR_CODE.InvalidFloorId);
    // A third-party request (BENEFICIARY-ID of someone else) is a chair's: §13.1.1.
    const beneficiary = u16Of(msg.attributes, ATTR.BeneficiaryId);
    if (beneficiary !== undefined && beneficiary !== user.id) return this.#error(peer, h, ERROR_CODE.UnauthorizedOperation, [], 'third-party request');
    for (const f of floorIds) {
      let ongoing = 0;
      for (const r of this.#requests.values()) if (r.userId === user.id && r.floorIds.includes(f)) ongoing++;
      if (ongoing >= this.#maxRequests) return this.#error(peer, h, ERROR_CODE.MaxFloorRequestsReached);
    }
    const id = this.#allocateRequestId();
    if (id === undefined) return this.#error(peer, h, ERROR_CODE.GenericError, [], 'no floor request id free');
    const prio = msg.attributes.find((a) => a.kind === 'priority');
    const ppi = msg.attributes.find((a) => a.kind === 'text' && a.type === ATTR.ParticipantProvidedInfo);
    const req: FloorRequest = {
      id,
      userId: user.id,
      floorIds,
      priority: prio?.kind === 'priority' ? prio.priority : undefined,
      participantInfo: ppi?.kind === 'text' ? ppi.text : undefined,
      state: 'Pending',
      queuePosition: 0,
      reportedState: undefined,
      reportedQueue: 0,
    };
    this.#requests.set(id, req);
    // Deny policy: a request for a floor someone holds ends at once, the answer says Denied.
    if (this.#policy === 'deny' && floorIds.some((f) => this.#holder(f) !== undefined)) this.#transition(req, 'Denied');
    // §13.1.2: the answer is a FloorRequestStatus with the request's status; later changes are notified.
    this.#respondStatus(peer, h, req);
  }

  /** §13.2: a participant releases (or cancels) one of its requests. */
  #floorRelease(msg: BfcpMessage, user: User, peer: BfcpPeer): void {
    const h = msg.header;
    const req = this.#requests.get(u16Of(msg.attributes, ATTR.FloorRequestId) ?? 0);
    if (req === undefined) return this.#error(peer, h, ERROR_CODE.FloorRequestIdDoesNotExist);
    if (req.userId !== user.id) return this.#error(peer, h, ERROR_CODE.UnauthorizedOperation, [], 'not your request');
    this.#transition(req, req.state === 'Granted' ? 'Released' : 'Cancelled');
    this.#respondStatus(peer, h, req);
  }

  /** §13.3: UserStatus lists a user's ongoing requests. */
  #userQuery(msg: BfcpMessage, user: User, peer: BfcpPeer): void {
    const h = msg.header;
    const beneficiary = u16Of(msg.attributes, ATTR.BeneficiaryId);
    const target = beneficiary === undefined ? user : this.#users.get(beneficiary);
    if (target === undefined) return this.#error(peer, h, ERROR_CODE.UserDoesNotExist);
    const attrs: BfcpAttribute[] = [];
    // "If the UserQuery contained a BENEFICIARY-ID, ... the UserStatus ... BENEFICIARY-INFORMATION".
    if (beneficiary !== undefined) attrs.push(this.#beneficiaryInfo(target.id));
    for (const r of this.#requests.values()) if (r.userId === target.id) attrs.push(this.#requestInfo(r));
    peer.respond(h, PRIMITIVE.UserStatus, attrs);
  }

  /**
   * §13.4: FloorQuery replaces the user's subscription; the answer is the first floor's
   * FloorStatus, the others follow as notifications. An empty FloorQuery unsubscribes.
   */
  #floorQuery(msg: BfcpMessage, user: User, peer: BfcpPeer): void {
    const h = msg.header;
    const floorIds = [...new Set(u16sOf(msg.attributes, ATTR.FloorId))];
    if (floorIds.some((f) => !this.floorIds.includes(f))) return this.#error(peer, h, ERROR_CODE.InvalidFloorId);
    user.subscriptions = floorIds;
    const [first, ...rest] = floorIds;
    peer.respond(h, PRIMITIVE.FloorStatus, first === undefined ? [] : this.#floorStatusAttrs(first, []));
    for (const f of rest) peer.notify(user.version, this.conferenceId, user.id, PRIMITIVE.FloorStatus, this.#floorStatusAttrs(f, []));
  }

  // ---- State ----

  #transition(req: FloorRequest, to: RequestState): boolean {
    if (!canTransition(req.state, to)) {
      this.counters.illegalTransitions++;
      return false;
    }
    req.state = to;
    if (to === 'Granted') this.counters.granted++;
    for (const f of req.floorIds) this.#touchedFloors.add(f);
    if (!ACTIVE.has(to)) {
      req.queuePosition = 0;
      this.#requests.delete(req.id);
      this.#ended.push(req);
    }
    return true;
  }

  #endRequestsOf(userId: number): void {
    for (const r of [...this.#requests.values()]) if (r.userId === userId) this.#transition(r, r.state === 'Granted' ? 'Released' : 'Cancelled');
  }

  #holder(floorId: number): FloorRequest | undefined {
    for (const r of this.#requests.values()) if (r.state === 'Granted' && r.floorIds.includes(floorId)) return r;
    return undefined;
  }

  /**
   * After every operation: grant waiting requests in arrival order where all their floors are
   * free (hand-over), queue the rest with their positions, tell owners what changed, send
   * FloorStatus to subscribers of the floors touched, and announce presenter changes.
   */
  #settle(): void {
    for (const r of [...this.#requests.values()]) {
      if (r.state !== 'Pending' && r.state !== 'Accepted') continue;
      if (r.floorIds.every((f) => this.#holder(f) === undefined)) this.#transition(r, 'Granted');
      else if (this.#policy === 'deny') this.#transition(r, 'Denied');
      else if (r.state === 'Pending') this.#transition(r, 'Accepted');
    }
    // Queue positions (§5.2.5: "Queue Position ... 0 ... when not applicable"): 1 is next.
    const ahead = new Map<number, number>();
    for (const r of this.#requests.values()) {
      if (r.state !== 'Accepted') {
        r.queuePosition = 0;
        continue;
      }
      const f = r.floorIds[0] ?? DEFAULT_FLOOR_ID;
      const n = (ahead.get(f) ?? 0) + 1;
      ahead.set(f, n);
      if (r.queuePosition !== Math.min(n, 255)) this.#touchedFloors.add(f);
      r.queuePosition = Math.min(n, 255);
    }
    const changed = [...this.#ended, ...this.#requests.values()].filter((r) => r.reportedState !== r.state || r.reportedQueue !== r.queuePosition);
    for (const r of changed) {
      const owner = this.#users.get(r.userId);
      r.reportedState = r.state;
      r.reportedQueue = r.queuePosition;
      if (owner?.peer !== undefined) owner.peer.notify(owner.version, this.conferenceId, owner.id, PRIMITIVE.FloorRequestStatus, [this.#requestInfo(r)]);
    }
    for (const f of this.#touchedFloors) {
      const ended = this.#ended.filter((r) => r.floorIds.includes(f));
      for (const u of this.#users.values()) {
        if (u.peer !== undefined && u.subscriptions.includes(f)) u.peer.notify(u.version, this.conferenceId, u.id, PRIMITIVE.FloorStatus, this.#floorStatusAttrs(f, ended));
      }
    }
    this.#touchedFloors.clear();
    this.#ended.length = 0;
    for (const f of this.floorIds) {
      const now = this.#holder(f)?.userId;
      if (this.#presenter.get(f) !== now) {
        this.#presenter.set(f, now);
        this.#deps.events?.presenterChanged?.(f, now);
      }
    }
  }

  #allocateRequestId(): number | undefined {
    for (let i = 0; i < 0xffff; i++) {
      const id = this.#nextRequestId;
      this.#nextRequestId = id >= 0xffff ? 1 : id + 1;
      if (!this.#requests.has(id)) return id;
    }
    return undefined;
  }

  #takeToken(peer: BfcpPeer): boolean {
    const now = this.#deps.clock.monoMs();
    let b = this.#buckets.get(peer);
    if (b === undefined) {
      b = { tokens: this.#burst, atMs: now };
      this.#buckets.set(peer, b);
    } else if (now > b.atMs) {
      b.tokens = Math.min(this.#burst, b.tokens + ((now - b.atMs) * this.#rate) / 1000);
      b.atMs = now;
    }
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  // ---- Building answers ----

  #respondStatus(peer: BfcpPeer, h: CommonHeader, req: FloorRequest): void {
    req.reportedState = req.state;
    req.reportedQueue = req.queuePosition;
    peer.respond(h, PRIMITIVE.FloorRequestStatus, [this.#requestInfo(req)]);
  }

  /**
   * FLOOR-REQUEST-INFORMATION (§5.2.15):
   *
   *     FLOOR-REQUEST-INFORMATION = (FLOOR-REQUEST-INFORMATION-HEADER) [OVERALL-REQUEST-STATUS]
   *                                 1*FLOOR-REQUEST-STATUS [BENEFICIARY-INFORMATION]
   *                                 [REQUESTED-BY-INFORMATION] [PRIORITY] [PARTICIPANT-PROVIDED-INFO]
   *
   * The status goes in OVERALL-REQUEST-STATUS and in each FLOOR-REQUEST-STATUS (room systems read either).
   */
  #requestInfo(req: FloorRequest): BfcpAttribute {
    const status = requestStatusAttr(STATUS_VALUE[req.state], req.queuePosition);
    const required: BfcpAttribute[] = [groupAttr(ATTR.OverallRequestStatus, req.id, [status])];
    for (const f of req.floorIds) required.push(groupAttr(ATTR.FloorRequestStatus, f, [status]));
    // The 8-bit Length bounds the whole group: optional parts are left out, last first, until it fits.
    const optional: BfcpAttribute[] = [this.#beneficiaryInfo(req.userId)];
    if (req.priority !== undefined) optional.push(priorityAttr(req.priority));
    if (req.participantInfo !== undefined) optional.push(textAttr(ATTR.ParticipantProvidedInfo, req.participantInfo, MAX_TEXT_BYTES));
    for (;;) {
      const candidate: BfcpAttribute = { kind: 'group', type: ATTR.FloorRequestInformation, mandatory: true, id: req.id, children: [...required, ...optional] };
      if (attributeLength(candidate) <= BFCP_MAX_ATTRIBUTE_BYTES) return candidate;
      if (optional.length === 0) return this.#bareInfo(req, required);
      optional.pop();
    }
  }

  /** Too many floors for one group: the overall status and as many floors as fit. */
  #bareInfo(req: FloorRequest, required: BfcpAttribute[]): BfcpAttribute {
    const maxFloors = Math.floor((BFCP_MAX_ATTRIBUTE_BYTES - 4 - 8) / 8);
    return { kind: 'group', type: ATTR.FloorRequestInformation, mandatory: true, id: req.id, children: required.slice(0, 1 + maxFloors) };
  }

  /** BENEFICIARY-INFORMATION (§5.2.14): the id, with display name and URI when the meeting gave them (cut to fit). */
  #beneficiaryInfo(userId: number): BfcpAttribute {
    const info = this.#users.get(userId)?.info ?? {};
    const children: BfcpAttribute[] = [];
    if (info.displayName !== undefined) children.push(textAttr(ATTR.UserDisplayName, info.displayName, MAX_TEXT_BYTES));
    if (info.uri !== undefined) children.push(textAttr(ATTR.UserUri, info.uri, MAX_TEXT_BYTES));
    return groupAttr(ATTR.BeneficiaryInformation, userId, children);
  }

  /** FloorStatus (§5.3.8): FLOOR-ID and a FLOOR-REQUEST-INFORMATION per request on it (and those that just ended). */
  #floorStatusAttrs(floorId: number, ended: readonly FloorRequest[]): BfcpAttribute[] {
    const attrs: BfcpAttribute[] = [u16Attr(ATTR.FloorId, floorId)];
    for (const r of ended) attrs.push(this.#requestInfo(r));
    for (const r of this.#requests.values()) if (r.floorIds.includes(floorId)) attrs.push(this.#requestInfo(r));
    return attrs;
  }

  #error(peer: BfcpPeer, h: CommonHeader, code: ErrorCodeValue, unknownTypes: readonly number[] = [], info?: string): void {
    // A message with R set is a response (§5.1): an Error to it could start a loop; it is dropped.
    if (h.responder) {
      this.counters.unparsable++;
      return;
    }
    this.counters.errorsSent[code]++;
    const attrs: BfcpAttribute[] = [errorCodeAttr(code, unknownTypes)];
    if (info !== undefined) attrs.push(textAttr(ATTR.ErrorInfo, info));
    peer.respond(h, PRIMITIVE.Error, attrs);
  }
}
