import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ATTR, type BfcpAttribute, REQUEST_STATUS } from '../../../signaling/bfcp/attributes.ts';
import { type CommonHeader, ERROR_CODE, PRIMITIVE, type Primitive } from '../../../signaling/bfcp/common-header.ts';
import { type BfcpPeer, canTransition, FloorServer, type FloorServerOptions, REQUEST_TRANSITIONS, type RequestState } from '../../../signaling/bfcp/floor-server.ts';
import { encodeMessage, groupAttr, parseMessage, requestStatusAttr, u16Attr, u16Of } from '../../../signaling/bfcp/messages.ts';
import { ManualTimers } from '../../support/manual-timers.ts';

const CONF = 4711;
const A = 10;
const B = 20;
const C = 30;

interface Sent {
  readonly kind: 'respond' | 'notify';
  readonly primitive: Primitive;
  readonly userId: number;
  readonly transactionId: number | undefined;
  readonly attributes: readonly BfcpAttribute[];
}

class FakePeer implements BfcpPeer {
  readonly sent: Sent[] = [];
  respond(request: CommonHeader, primitive: Primitive, attributes: readonly BfcpAttribute[]): void {
    this.sent.push({ kind: 'respond', primitive, userId: request.userId, transactionId: request.transactionId, attributes });
  }
  notify(_version: 1 | 2, _conferenceId: number, userId: number, primitive: Primitive, attributes: readonly BfcpAttribute[]): void {
    this.sent.push({ kind: 'notify', primitive, userId, transactionId: undefined, attributes });
  }
  take(): Sent[] {
    return this.sent.splice(0);
  }
}

/** The request id, status name and queue position a FloorRequestStatus / FLOOR-REQUEST-INFORMATION carries. */
function statusOf(attrs: readonly BfcpAttribute[]): { id: number; status: string; queue: number } | undefined {
  const fri = attrs.find((a) => a.type === ATTR.FloorRequestInformation);
  if (fri?.kind !== 'group') return undefined;
  const ors = fri.children.find((a) => a.type === ATTR.OverallRequestStatus);
  const rs = ors?.kind === 'group' ? ors.children.find((a) => a.kind === 'request-status') : undefined;
  if (rs?.kind !== 'request-status') return undefined;
  const name = Object.entries(REQUEST_STATUS).find(([, v]) => v === rs.status)?.[0] ?? '?';
  return { id: fri.id, status: name, queue: rs.queuePosition };
}

function errorOf(s: Sent | undefined): number | undefined {
  if (s?.primitive !== PRIMITIVE.Error) return undefined;
  const e = s.attributes.find((a) => a.kind === 'error-code');
  return e?.kind === 'error-code' ? e.code : undefined;
}

let tid = 1;
/** A message from `userId`, through the codec (so the server sees what a parser gives it). */
function send(server: FloorServer, peer: BfcpPeer, userId: number, primitive: Primitive, attributes: readonly BfcpAttribute[] = [], extra: { conferenceId?: number; version?: 1 | 2; responder?: boolean } = {}): void {
  const bytes = encodeMessage({ version: extra.version ?? 2, responder: extra.responder ?? false, primitive, conferenceId: extra.conferenceId ?? CONF, transactionId: tid++, userId, attributes });
  server.receive(parseMessage(bytes), peer);
}

function setup(opts: Partial<FloorServerOptions> = {}) {
  const timers = new ManualTimers();
  const presenters: (number | undefined)[] = [];
  const changes: [number, number | undefined][] = [];
  const server = new FloorServer(
    { conferenceId: CONF, ...opts },
    {
      clock: timers,
      events: {
        presenterChanged: (f, u) => {
          presenters.push(u);
          changes.push([f, u]);
        },
      },
    },
  );
  const peers = { a: new FakePeer(), b: new FakePeer(), c: new FakePeer() };
  expect(server.addUser(A, { displayName: 'Room A', uri: 'sip:a@192.0.2.1' })).toBe('added');
  expect(server.addUser(B)).toBe('added');
  expect(server.addUser(C)).toBe('added');
  const request = (peer: FakePeer, user: number, floor = 1): void => send(server, peer, user, PRIMITIVE.FloorRequest, [u16Attr(ATTR.FloorId, floor)]);
  const release = (peer: FakePeer, user: number, id: number): void => send(server, peer, user, PRIMITIVE.FloorRelease, [u16Attr(ATTR.FloorRequestId, id)]);
  return { server, timers, presenters, changes, peers, request, release };
}

const summary = (sent: readonly Sent[]): string[] => sent.map((s) => `${s.kind} ${s.primitive} ${JSON.stringify(statusOf(s.attributes) ?? errorOf(s) ?? null)}`);

describe('request state table', () => {
  const states: RequestState[] = ['Pending', 'Accepted', 'Granted', 'Denied', 'Cancelled', 'Released', 'Revoked'];
  const legal = new Set(['Pending>Accepted', 'Pending>Granted', 'Pending>Denied', 'Pending>Cancelled', 'Accepted>Granted', 'Accepted>Denied', 'Accepted>Cancelled', 'Granted>Released', 'Granted>Revoked']);
  it.each(states.flatMap((from) => states.map((to) => [from, to] as const)))('%s → %s', (from, to) => {
    expect(canTransition(from, to)).toBe(legal.has(`${from}>${to}`));
  });
  it('terminal states lead nowhere', () => {
    for (const s of ['Denied', 'Cancelled', 'Released', 'Revoked'] as const) expect(REQUEST_TRANSITIONS[s]).toEqual([]);
  });
});

describe('FloorServer (RFC 8855 §13)', () => {
  it('Hello → HelloAck with the supported primitives and attributes', () => {
    const { server, peers } = setup();
    send(server, peers.a, A, PRIMITIVE.Hello);
    const [ack] = peers.a.take();
    expect(ack?.primitive).toBe(PRIMITIVE.HelloAck);
    const prims = ack?.attributes.find((a) => a.type === ATTR.SupportedPrimitives);
    const attrs = ack?.attributes.find((a) => a.type === ATTR.SupportedAttributes);
    expect(prims?.kind === 'list' && prims.values).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 13, 14, 15, 16, 17]);
    expect(attrs?.kind === 'list' && attrs.values).toEqual(Array.from({ length: 18 }, (_, i) => i + 1));
  });

  it('a free floor: Pending in the answer, then Granted; the presenter changes', () => {
    const { server, peers, presenters, request } = setup();
    request(peers.a, A);
    expect(summary(peers.a.take())).toEqual([`respond 4 {"id":1,"status":"Pending","queue":0}`, `notify 4 {"id":1,"status":"Granted","queue":0}`]);
    expect(presenters).toEqual([A]);
    expect(server.presenter()).toBe(A);
    expect(server.requestsOf(A)).toEqual([{ id: 1, state: 'Granted', queuePosition: 0 }]);
  });

  it('the FLOOR-REQUEST-INFORMATION names the floor and the beneficiary', () => {
    const { peers, request } = setup();
    request(peers.a, A);
    const fri = peers.a.take()[1]?.attributes[0];
    expect(fri?.kind === 'group' && fri.children.map((c) => c.type)).toEqual([ATTR.OverallRequestStatus, ATTR.FloorRequestStatus, ATTR.BeneficiaryInformation]);
    const ben = fri?.kind === 'group' ? fri.children[2] : undefined;
    expect(ben).toMatchObject({ kind: 'group', id: A, children: [{ text: 'Room A' }, { text: 'sip:a@192.0.2.1' }] });
  });

  it('a held floor queues with positions; release hands over to the next, positions move up', () => {
    const { server, peers, presenters, request, release } = setup();
    request(peers.a, A);
    request(peers.b, B);
    request(peers.c, C);
    peers.a.take();
    expect(summary(peers.b.take())).toEqual([`respond 4 {"id":2,"status":"Pending","queue":0}`, `notify 4 {"id":2,"status":"Accepted","queue":1}`]);
    expect(summary(peers.c.take())).toEqual([`respond 4 {"id":3,"status":"Pending","queue":0}`, `notify 4 {"id":3,"status":"Accepted","queue":2}`]);
    release(peers.a, A, 1);
    expect(summary(peers.a.take())).toEqual([`respond 4 {"id":1,"status":"Released","queue":0}`]);
    expect(summary(peers.b.take())).toEqual([`notify 4 {"id":2,"status":"Granted","queue":0}`]);
    expect(summary(peers.c.take())).toEqual([`notify 4 {"id":3,"status":"Accepted","queue":1}`]);
    // One change for the hand-over, never "nobody" in between.
    expect(presenters).toEqual([A, B]);
    expect(server.presenter()).toBe(B);
  });

  it('releasing a queued request cancels it', () => {
    const { server, peers, request, release } = setup();
    request(peers.a, A);
    request(peers.b, B);
    peers.b.take();
    release(peers.b, B, 2);
    expect(summary(peers.b.take())).toEqual([`respond 4 {"id":2,"status":"Cancelled","queue":0}`]);
    expect(server.presenter()).toBe(A);
    expect(server.requestCount).toBe(1);
  });

  it('deny policy: a request for a held floor is answered Denied and not kept', () => {
    const { server, peers, request } = setup({ policy: 'deny' });
    request(peers.a, A);
    request(peers.b, B);
    expect(summary(peers.b.take())).toEqual([`respond 4 {"id":2,"status":"Denied","queue":0}`]);
    expect(server.requestCount).toBe(1);
  });

  it('FloorRequestQuery answers the request status; an unknown id is Error 7', () => {
    const { server, peers, request } = setup();
    request(peers.a, A);
    peers.a.take();
    send(server, peers.b, B, PRIMITIVE.FloorRequestQuery, [u16Attr(ATTR.FloorRequestId, 1)]);
    expect(summary(peers.b.take())).toEqual([`respond 4 {"id":1,"status":"Granted","queue":0}`]);
    send(server, peers.b, B, PRIMITIVE.FloorRequestQuery, [u16Attr(ATTR.FloorRequestId, 99)]);
    expect(errorOf(peers.b.take()[0])).toBe(ERROR_CODE.FloorRequestIdDoesNotExist);
  });

  it('UserQuery lists the user’s requests; for another user with BENEFICIARY-INFORMATION; an unknown one is Error 2', () => {
    const { server, peers, request } = setup();
    request(peers.a, A);
    peers.a.take();
    send(server, peers.a, A, PRIMITIVE.UserQuery);
    const [own] = peers.a.take();
    expect(own?.primitive).toBe(PRIMITIVE.UserStatus);
    expect(own?.attributes.map((a) => a.type)).toEqual([ATTR.FloorRequestInformation]);
    send(server, peers.b, B, PRIMITIVE.UserQuery, [u16Attr(ATTR.BeneficiaryId, A)]);
    const [other] = peers.b.take();
    expect(other?.attributes.map((a) => a.type)).toEqual([ATTR.BeneficiaryInformation, ATTR.FloorRequestInformation]);
    send(server, peers.b, B, PRIMITIVE.UserQuery, [u16Attr(ATTR.BeneficiaryId, 999)]);
    expect(errorOf(peers.b.take()[0])).toBe(ERROR_CODE.UserDoesNotExist);
  });

  it('FloorQuery subscribes: FloorStatus now and on every change; an empty one unsubscribes; an unknown floor is Error 6', () => {
    const { server, peers, request, release } = setup();
    send(server, peers.c, C, PRIMITIVE.FloorQuery, [u16Attr(ATTR.FloorId, 1)]);
    const [first] = peers.c.take();
    expect(first?.kind).toBe('respond');
    expect(first?.primitive).toBe(PRIMITIVE.FloorStatus);
    expect(first && u16Of(first.attributes, ATTR.FloorId)).toBe(1);
    request(peers.a, A);
    const [change] = peers.c.take();
    expect(change).toMatchObject({ kind: 'notify', primitive: PRIMITIVE.FloorStatus, userId: C });
    expect(statusOf(change?.attributes ?? [])).toEqual({ id: 1, status: 'Granted', queue: 0 });
    release(peers.a, A, 1);
    const [released] = peers.c.take();
    expect(statusOf(released?.attributes ?? [])).toEqual({ id: 1, status: 'Released', queue: 0 });
    send(server, peers.c, C, PRIMITIVE.FloorQuery);
    expect(peers.c.take().map((s) => [s.primitive, s.attributes.length])).toEqual([[PRIMITIVE.FloorStatus, 0]]);
    request(peers.a, A);
    expect(peers.c.take()).toEqual([]);
    send(server, peers.c, C, PRIMITIVE.FloorQuery, [u16Attr(ATTR.FloorId, 5)]);
    expect(errorOf(peers.c.take()[0])).toBe(ERROR_CODE.InvalidFloorId);
  });

  it('FloorQuery for several floors: the first answered, the others notified', () => {
    const { server, peers } = setup({ floorIds: [1, 2] });
    send(server, peers.c, C, PRIMITIVE.FloorQuery, [u16Attr(ATTR.FloorId, 1), u16Attr(ATTR.FloorId, 2)]);
    expect(peers.c.take().map((s) => [s.kind, s.primitive, u16Of(s.attributes, ATTR.FloorId)])).toEqual([
      ['respond', PRIMITIVE.FloorStatus, 1],
      ['notify', PRIMITIVE.FloorStatus, 2],
    ]);
  });

  it('Goodbye → GoodbyeAck, the user’s floor released and handed over', () => {
    const { server, peers, presenters, request } = setup();
    request(peers.a, A);
    request(peers.b, B);
    peers.b.take();
    send(server, peers.a, A, PRIMITIVE.Goodbye);
    expect(peers.a.take().map((s) => s.primitive)).toEqual([PRIMITIVE.FloorRequestStatus, PRIMITIVE.FloorRequestStatus, PRIMITIVE.GoodbyeAck]);
    expect(summary(peers.b.take())).toEqual([`notify 4 {"id":2,"status":"Granted","queue":0}`]);
    expect(presenters).toEqual([A, B]);
    expect(server.presenter()).toBe(B);
  });

  it('removeUser releases the leaving user’s floor and hands over; revoke takes a granted floor or denies a queued request', () => {
    const { server, peers, presenters, request } = setup();
    request(peers.a, A);
    request(peers.b, B);
    request(peers.c, C);
    for (const p of Object.values(peers)) p.take();
    expect(server.removeUser(A)).toBe(true);
    expect(server.removeUser(A)).toBe(false);
    expect(server.presenter()).toBe(B);
    expect(summary(peers.b.take())).toEqual([`notify 4 {"id":2,"status":"Granted","queue":0}`]);
    expect(summary(peers.c.take())).toEqual([`notify 4 {"id":3,"status":"Accepted","queue":1}`]);
    expect(server.revoke(3)).toBe(true);
    expect(summary(peers.c.take())).toEqual([`notify 4 {"id":3,"status":"Denied","queue":0}`]);
    expect(server.revoke(2)).toBe(true);
    expect(summary(peers.b.take())).toEqual([`notify 4 {"id":2,"status":"Revoked","queue":0}`]);
    expect(server.revoke(2)).toBe(false);
    expect(presenters).toEqual([A, B, undefined]);
    send(server, peers.a, A, PRIMITIVE.Hello);
    expect(errorOf(peers.a.take()[0])).toBe(ERROR_CODE.UserDoesNotExist);
  });

  it('answers the errors of §13.8 with their codes', () => {
    const { server, peers, request } = setup({ maxRequestsPerUser: 1 });
    const cases: [() => void, FakePeer, number][] = [
      [() => send(server, peers.a, A, PRIMITIVE.Hello, [], { conferenceId: 1 }), peers.a, ERROR_CODE.ConferenceDoesNotExist],
      [() => send(server, peers.a, 999, PRIMITIVE.Hello), peers.a, ERROR_CODE.UserDoesNotExist],
      [() => server.receive(parseMessage(Buffer.from('40 12 0000 00001267 0001 000a'.replace(/ /g, ''), 'hex')), peers.a), peers.a, ERROR_CODE.UnknownPrimitive],
      [() => send(server, peers.a, A, PRIMITIVE.FloorStatus), peers.a, ERROR_CODE.UnknownPrimitive],
      [() => send(server, peers.a, A, PRIMITIVE.Hello, [{ kind: 'unknown', type: 99, mandatory: true, data: Buffer.alloc(2) }]), peers.a, ERROR_CODE.UnknownMandatoryAttribute],
      [() => send(server, peers.a, A, PRIMITIVE.ChairAction, [groupAttr(ATTR.FloorRequestInformation, 1, [groupAttr(ATTR.FloorRequestStatus, 1, [requestStatusAttr(3)])])]), peers.a, ERROR_CODE.UnauthorizedOperation],
      [() => send(server, peers.a, A, PRIMITIVE.FloorRequest, [u16Attr(ATTR.FloorId, 1), u16Attr(ATTR.BeneficiaryId, B)]), peers.a, ERROR_CODE.UnauthorizedOperation],
      [() => send(server, peers.b, A, PRIMITIVE.Hello), peers.b, ERROR_CODE.UnauthorizedOperation],
      [() => send(server, peers.a, A, PRIMITIVE.FloorRequest, [u16Attr(ATTR.FloorId, 2)]), peers.a, ERROR_CODE.InvalidFloorId],
      [() => send(server, peers.a, A, PRIMITIVE.FloorRelease, [u16Attr(ATTR.FloorRequestId, 77)]), peers.a, ERROR_CODE.FloorRequestIdDoesNotExist],
      [() => request(peers.a, A), peers.a, ERROR_CODE.MaxFloorRequestsReached],
      [() => send(server, peers.b, B, PRIMITIVE.FloorRelease, [u16Attr(ATTR.FloorRequestId, 1)]), peers.b, ERROR_CODE.UnauthorizedOperation],
      [() => server.receive(parseMessage(Buffer.from('40 0b 0001 00001267 0001 000a'.replace(/ /g, ''), 'hex')), peers.a), peers.a, ERROR_CODE.IncorrectMessageLength],
      [() => server.receive(parseMessage(Buffer.from('a0 0b 0000 00001267 0001 000a'.replace(/ /g, ''), 'hex')), peers.a), peers.a, ERROR_CODE.UnsupportedVersion],
      [() => send(server, peers.a, A, PRIMITIVE.FloorRelease), peers.a, ERROR_CODE.UnableToParseMessage],
    ];
    send(server, peers.a, A, PRIMITIVE.Hello);
    request(peers.a, A);
    peers.a.take();
    for (const [act, peer, code] of cases) {
      act();
      const sent = peer.take();
      expect([code, sent.map(errorOf)]).toEqual([code, [code]]);
    }
    expect(server.counters.errorsSent[ERROR_CODE.UnauthorizedOperation]).toBe(4);
    expect(server.presenter()).toBe(A);
  });

  it('the unknown mandatory attributes are listed in the Error', () => {
    const { server, peers } = setup();
    send(server, peers.a, A, PRIMITIVE.Hello, [{ kind: 'unknown', type: 99, mandatory: true, data: Buffer.alloc(2) }, { kind: 'unknown', type: 100, mandatory: true, data: Buffer.alloc(2) }]);
    const e = peers.a.take()[0]?.attributes[0];
    expect(e?.kind === 'error-code' && [...e.details]).toEqual([99 << 1, 100 << 1]);
  });

  it('never answers a response, an Error or an acknowledgement', () => {
    const { server, peers } = setup();
    send(server, peers.a, A, PRIMITIVE.Hello, [], { responder: true, conferenceId: 1 });
    server.receive(parseMessage(Buffer.from('58 0d 0001 00001267 0001 000a'.replace(/ /g, ''), 'hex')), peers.a);
    server.receive(parseMessage(Buffer.from('40 0d 0001 00001267 0001 000a'.replace(/ /g, ''), 'hex')), peers.a);
    for (const p of [PRIMITIVE.FloorRequestStatusAck, PRIMITIVE.FloorStatusAck, PRIMITIVE.GoodbyeAck, PRIMITIVE.ChairActionAck]) send(server, peers.a, A, p);
    send(server, peers.a, A, PRIMITIVE.Error, [{ kind: 'error-code', type: ATTR.ErrorCode, mandatory: true, code: 14, details: Buffer.alloc(0) }]);
    server.receive(parseMessage(Buffer.alloc(4)), peers.a);
    expect(peers.a.take()).toEqual([]);
  });

  it('a user whose peer closed may come back on another', () => {
    const { server, peers } = setup();
    send(server, peers.a, A, PRIMITIVE.Hello);
    server.peerClosed(peers.a);
    send(server, peers.b, A, PRIMITIVE.Hello);
    expect(peers.b.take().map((s) => s.primitive)).toEqual([PRIMITIVE.HelloAck]);
  });

  it('a flood is dropped beyond the burst, and answered again once the bucket refills; memory does not grow', () => {
    const { server, peers, timers } = setup({ messagesPerSec: 10, messageBurst: 5 });
    for (let i = 0; i < 1000; i++) send(server, peers.a, A, PRIMITIVE.FloorRequest, [u16Attr(ATTR.FloorId, 1)]);
    expect(peers.a.take().filter((s) => s.kind === 'respond')).toHaveLength(5);
    expect(server.counters.rateLimited).toBe(995);
    expect(server.requestCount).toBe(2);
    timers.advance(1000);
    send(server, peers.a, A, PRIMITIVE.Hello);
    expect(peers.a.take().map((s) => s.primitive)).toEqual([PRIMITIVE.HelloAck]);
  });

  it('bounds the users; ids are 16-bit and non-zero', () => {
    const timers = new ManualTimers();
    const server = new FloorServer({ conferenceId: CONF, maxUsers: 2 }, { clock: timers });
    expect([server.addUser(1), server.addUser(1), server.addUser(2), server.addUser(3), server.addUser(0)]).toEqual(['added', 'exists', 'added', 'full', 'full']);
    expect(server.userCount).toBe(2);
  });

  it('long names, texts and many floors still fit the 255-octet FLOOR-REQUEST-INFORMATION', () => {
    const floorIds = Array.from({ length: 40 }, (_, i) => i + 1);
    const timers = new ManualTimers();
    const server = new FloorServer({ conferenceId: CONF, floorIds }, { clock: timers });
    server.addUser(A, { displayName: '会議室'.repeat(60), uri: `sip:${'r'.repeat(300)}@192.0.2.1` });
    const peer = new FakePeer();
    send(server, peer, A, PRIMITIVE.FloorRequest, [u16Attr(ATTR.FloorId, 1), { kind: 'text', type: ATTR.ParticipantProvidedInfo, mandatory: true, text: 'é'.repeat(120) }]);
    send(server, peer, A, PRIMITIVE.FloorRequest, floorIds.map((f) => u16Attr(ATTR.FloorId, f)));
    const sent = peer.take();
    expect(sent.map((x) => statusOf(x.attributes)?.status)).toEqual(['Pending', 'Granted', 'Pending', 'Accepted']);
    for (const x of sent) {
      const bytes = encodeMessage({ version: 2, responder: false, primitive: x.primitive, conferenceId: CONF, transactionId: 1, userId: A, attributes: x.attributes });
      expect(parseMessage(bytes).ok).toBe(true);
    }
  });

  it('revokeFloor takes the floor from its holder and hands it on', () => {
    const { server, peers, request } = setup();
    expect(server.revokeFloor()).toBe(false);
    request(peers.a, A);
    request(peers.b, B);
    expect(server.revokeFloor(1)).toBe(true);
    expect(server.presenter()).toBe(B);
  });

  it('random operations keep one holder per floor, presenter events in step, and state bounded', () => {
    const op = fc.oneof(
      fc.record({ k: fc.constant('request' as const), u: fc.constantFrom(A, B, C), f: fc.constantFrom(1, 2, 3) }),
      fc.record({ k: fc.constant('release' as const), u: fc.constantFrom(A, B, C), id: fc.integer({ min: 0, max: 12 }) }),
      fc.record({ k: fc.constant('query' as const), u: fc.constantFrom(A, B, C), f: fc.constantFrom(1, 2) }),
      fc.record({ k: fc.constant('goodbye' as const), u: fc.constantFrom(A, B, C) }),
      fc.record({ k: fc.constant('remove' as const), u: fc.constantFrom(A, B, C) }),
      fc.record({ k: fc.constant('add' as const), u: fc.constantFrom(A, B, C) }),
      fc.record({ k: fc.constant('revoke' as const), id: fc.integer({ min: 0, max: 12 }) }),
      fc.record({ k: fc.constant('time' as const), ms: fc.integer({ min: 0, max: 5000 }) }),
    );
    fc.assert(
      fc.property(fc.constantFrom('queue' as const, 'deny' as const), fc.array(op, { maxLength: 60 }), (policy, ops) => {
        const { server, peers, changes, timers, request, release } = setup({ policy, floorIds: [1, 2], maxRequestsPerUser: 2 });
        const peerOf = { [A]: peers.a, [B]: peers.b, [C]: peers.c } as Record<number, FakePeer>;
        for (const o of ops) {
          if (o.k === 'request') request(peerOf[o.u] as FakePeer, o.u, o.f);
          else if (o.k === 'release') release(peerOf[o.u] as FakePeer, o.u, o.id);
          else if (o.k === 'query') send(server, peerOf[o.u] as FakePeer, o.u, PRIMITIVE.FloorQuery, [u16Attr(ATTR.FloorId, o.f)]);
          else if (o.k === 'goodbye') send(server, peerOf[o.u] as FakePeer, o.u, PRIMITIVE.Goodbye);
          else if (o.k === 'remove') server.removeUser(o.u);
          else if (o.k === 'add') server.addUser(o.u);
          else if (o.k === 'revoke') server.revoke(o.id);
          else timers.advance(o.ms);
          const granted = [A, B, C].flatMap((u) => server.requestsOf(u).filter((r) => r.state === 'Granted'));
          expect(granted.length).toBeLessThanOrEqual(2);
          expect(server.requestCount).toBeLessThanOrEqual(3 * 2 * 2);
          expect(server.counters.illegalTransitions).toBe(0);
          // The events told the meeting exactly who presents on each floor now.
          for (const f of [1, 2]) expect(changes.filter(([cf]) => cf === f).at(-1)?.[1]).toBe(server.presenter(f));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('close() ends everything once and says nobody presents', () => {
    const { server, peers, presenters, request } = setup();
    request(peers.a, A);
    server.close();
    server.close();
    expect(presenters).toEqual([A, undefined]);
    send(server, peers.a, A, PRIMITIVE.Hello);
    expect(peers.a.take().filter((s) => s.primitive === PRIMITIVE.HelloAck)).toEqual([]);
    expect(server.addUser(5)).toBe('full');
  });
});
