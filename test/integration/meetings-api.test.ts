import {
  BadRequestException,
  BatchCreateAttendeeCommand,
  BatchUpdateAttendeeCapabilitiesExceptCommand,
  ChimeSDKMeetingsClient,
  CreateAttendeeCommand,
  CreateMeetingCommand,
  CreateMeetingWithAttendeesCommand,
  DeleteAttendeeCommand,
  DeleteMeetingCommand,
  GetAttendeeCommand,
  GetMeetingCommand,
  LimitExceededException,
  ListAttendeesCommand,
  ListTagsForResourceCommand,
  NotFoundException,
  ResourceNotFoundException,
  ThrottlingException,
  TooManyTagsException,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateAttendeeCapabilitiesCommand,
  paginateListAttendees,
} from '@aws-sdk/client-chime-sdk-meetings';
import {
  BadRequestException as LegacyBadRequest,
  CreateAccountCommand,
  CreateMeetingDialOutCommand,
  CreateUserCommand,
  ForbiddenException,
  NotFoundException as LegacyNotFound,
  ResourceLimitExceededException,
  ServiceUnavailableException as LegacyServiceUnavailable,
} from '@aws-sdk/client-chime';
import type { ChimeClient } from '@aws-sdk/client-chime';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChimeApi } from '../support/chime-api.ts';
import type { ChimeApiUnderTest } from '../support/chime-api.ts';
import { InMemoryLiveMeetings } from '../support/live-meetings.ts';

/** The Chime SDK Meetings API driven by the official client with an endpoint override (SigV4, signing name chime). */
const MISSING = '0f0e0d0c-0b0a-4909-8807-060504030201';

function meetingsClient(api: ChimeApiUnderTest): ChimeSDKMeetingsClient {
  return new ChimeSDKMeetingsClient({ endpoint: api.endpoint, region: 'us-east-1', credentials: { accessKeyId: api.admin.accessKeyId, secretAccessKey: api.admin.secretAccessKey }, maxAttempts: 1 });
}

async function dialIn(api: ChimeApiUnderTest, meetingId: string): Promise<{ DialInMeetingId: string; HostId: string }> {
  const res = await api.signedFetch('GET', `/carillon/v1/meetings/${meetingId}`);
  expect(res.status).toBe(200);
  const body = (await res.json()) as { Meeting: { DialInMeetingId: string; HostId: string } };
  return body.Meeting;
}

describe('Chime SDK Meetings API through @aws-sdk/client-chime-sdk-meetings (sqlite store)', () => {
  let api: ChimeApiUnderTest;
  let c: ChimeSDKMeetingsClient;
  beforeAll(async () => {
    api = await startChimeApi('sqlite');
    c = meetingsClient(api);
  });
  afterAll(async () => {
    c.destroy();
    await api.close();
  });

  it('creates, gets and deletes a meeting; media placement names Carillon’s host; dial-in IDs are 10 and 13 digits', async () => {
    const created = await c.send(new CreateMeetingCommand({ ExternalMeetingId: 'weekly-sync', MediaRegion: 'eu-west-2', MeetingHostId: 'host-1', MeetingFeatures: { Audio: { EchoReduction: 'AVAILABLE' } } }));
    const m = created.Meeting;
    expect(m?.MeetingId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(m?.ExternalMeetingId).toBe('weekly-sync');
    expect(m?.MediaRegion).toBe('eu-west-2');
    expect(m?.MeetingHostId).toBe('host-1');
    expect(m?.MeetingFeatures?.Audio?.EchoReduction).toBe('AVAILABLE');
    expect(m?.MeetingArn).toBe(`arn:aws:chime:us-east-1:000000000000:meeting/${m?.MeetingId}`);
    expect(m?.MediaPlacement?.AudioHostUrl).toBe('carillon.test:3478');
    expect(m?.MediaPlacement?.SignalingUrl).toBe(`wss://carillon.test/control/${m?.MeetingId}`);
    const id = m?.MeetingId as string;
    expect((await c.send(new GetMeetingCommand({ MeetingId: id }))).Meeting).toEqual(m);
    const pins = await dialIn(api, id);
    expect(pins.DialInMeetingId).toMatch(/^\d{10}$/);
    expect(pins.HostId).toMatch(/^\d{13}$/);
    expect((await c.send(new DeleteMeetingCommand({ MeetingId: id }))).$metadata.httpStatusCode).toBe(204);
    await expect(c.send(new GetMeetingCommand({ MeetingId: id }))).rejects.toBeInstanceOf(NotFoundException);
    await expect(c.send(new DeleteMeetingCommand({ MeetingId: id }))).rejects.toBeInstanceOf(NotFoundException);
  });

  it('answers the same meeting for the same ClientRequestToken, and a new one otherwise; dial-in IDs never repeat', async () => {
    const a = await c.send(new CreateMeetingCommand({ ExternalMeetingId: 'idem', MediaRegion: 'us-east-1', ClientRequestToken: 'token-abc-123' }));
    const b = await c.send(new CreateMeetingCommand({ ExternalMeetingId: 'idem', MediaRegion: 'us-east-1', ClientRequestToken: 'token-abc-123' }));
    expect(b.Meeting?.MeetingId).toBe(a.Meeting?.MeetingId);
    const seen = new Set<string>();
    for (let i = 0; i < 12; i++) {
      // The SDK fills in a fresh ClientRequestToken when none is given.
      const m = await c.send(new CreateMeetingCommand({ ExternalMeetingId: `room-${i}`, MediaRegion: 'us-west-2' }));
      const pins = await dialIn(api, m.Meeting?.MeetingId as string);
      seen.add(pins.DialInMeetingId);
      seen.add(pins.HostId);
    }
    expect(seen.size).toBe(24);
  });

  it('refuses bad meeting input with BadRequestException', async () => {
    await expect(c.send(new CreateMeetingCommand({ ExternalMeetingId: 'x1', MediaRegion: 'mars-north-1' }))).rejects.toBeInstanceOf(BadRequestException);
    await expect(c.send(new CreateMeetingCommand({ ExternalMeetingId: 'x'.repeat(65), MediaRegion: 'us-east-1' }))).rejects.toBeInstanceOf(BadRequestException);
    await expect(c.send(new CreateMeetingCommand({ ExternalMeetingId: 'x', MediaRegion: 'us-east-1' }))).rejects.toBeInstanceOf(BadRequestException);
    await expect(c.send(new CreateMeetingCommand({ ExternalMeetingId: 'ok', MediaRegion: 'us-east-1', ClientRequestToken: 'has spaces!' }))).rejects.toBeInstanceOf(BadRequestException);
    await expect(c.send(new GetMeetingCommand({ MeetingId: 'not-a-uuid' }))).rejects.toBeInstanceOf(BadRequestException);
    await expect(c.send(new CreateMeetingCommand({ ExternalMeetingId: 'ok', MediaRegion: 'us-east-1', PrimaryMeetingId: MISSING }))).rejects.toBeInstanceOf(NotFoundException);
  });

  it('creates, gets, lists (paged), updates and deletes attendees; an ExternalUserId already there answers its attendee', async () => {
    const id = (await c.send(new CreateMeetingCommand({ ExternalMeetingId: 'attendees', MediaRegion: 'us-east-1' }))).Meeting?.MeetingId as string;
    const a = (await c.send(new CreateAttendeeCommand({ MeetingId: id, ExternalUserId: 'alice@example.com' }))).Attendee;
    expect(a?.AttendeeId).toMatch(/^[0-9a-f-]{36}$/);
    expect(a?.JoinToken?.length).toBeGreaterThanOrEqual(40);
    expect(a?.Capabilities).toEqual({ Audio: 'SendReceive', Video: 'SendReceive', Content: 'SendReceive' });
    const again = (await c.send(new CreateAttendeeCommand({ MeetingId: id, ExternalUserId: 'alice@example.com' }))).Attendee;
    expect(again).toEqual(a);
    expect((await c.send(new GetAttendeeCommand({ MeetingId: id, AttendeeId: a?.AttendeeId as string }))).Attendee).toEqual(a);

    const batch = await c.send(new BatchCreateAttendeeCommand({ MeetingId: id, Attendees: [1, 2, 3, 4].map((i) => ({ ExternalUserId: `user-${i}`, Capabilities: { Audio: 'SendReceive', Video: 'None', Content: 'None' } })) }));
    expect(batch.Attendees?.length).toBe(4);
    expect(batch.Errors).toEqual([]);
    expect(new Set([a?.JoinToken, ...(batch.Attendees ?? []).map((x) => x.JoinToken)]).size).toBe(5);

    const first = await c.send(new ListAttendeesCommand({ MeetingId: id, MaxResults: 2 }));
    expect(first.Attendees?.length).toBe(2);
    expect(first.NextToken).toBeDefined();
    const all: string[] = [];
    for await (const page of paginateListAttendees({ client: c, pageSize: 2 }, { MeetingId: id })) for (const x of page.Attendees ?? []) all.push(x.ExternalUserId as string);
    expect(all.sort()).toEqual(['alice@example.com', 'user-1', 'user-2', 'user-3', 'user-4']);

    const upd = await c.send(new UpdateAttendeeCapabilitiesCommand({ MeetingId: id, AttendeeId: a?.AttendeeId as string, Capabilities: { Audio: 'Receive', Video: 'Receive', Content: 'None' } }));
    expect(upd.Attendee?.Capabilities).toEqual({ Audio: 'Receive', Video: 'Receive', Content: 'None' });
    await expect(c.send(new UpdateAttendeeCapabilitiesCommand({ MeetingId: id, AttendeeId: a?.AttendeeId as string, Capabilities: { Audio: 'SendReceive', Video: 'None', Content: 'SendReceive' } }))).rejects.toBeInstanceOf(BadRequestException);
    await c.send(new BatchUpdateAttendeeCapabilitiesExceptCommand({ MeetingId: id, ExcludedAttendeeIds: [{ AttendeeId: a?.AttendeeId as string }], Capabilities: { Audio: 'Send', Video: 'None', Content: 'None' } }));
    const u1 = batch.Attendees?.[0]?.AttendeeId as string;
    expect((await c.send(new GetAttendeeCommand({ MeetingId: id, AttendeeId: u1 }))).Attendee?.Capabilities?.Audio).toBe('Send');
    expect((await c.send(new GetAttendeeCommand({ MeetingId: id, AttendeeId: a?.AttendeeId as string }))).Attendee?.Capabilities?.Audio).toBe('Receive');

    expect((await c.send(new DeleteAttendeeCommand({ MeetingId: id, AttendeeId: u1 }))).$metadata.httpStatusCode).toBe(204);
    await expect(c.send(new GetAttendeeCommand({ MeetingId: id, AttendeeId: u1 }))).rejects.toBeInstanceOf(NotFoundException);
    await expect(c.send(new DeleteAttendeeCommand({ MeetingId: id, AttendeeId: u1 }))).rejects.toBeInstanceOf(NotFoundException);
    expect((await c.send(new ListAttendeesCommand({ MeetingId: id }))).Attendees?.length).toBe(4);
  });

  it('a missing meeting is NotFoundException for every attendee operation', async () => {
    await expect(c.send(new GetMeetingCommand({ MeetingId: MISSING }))).rejects.toBeInstanceOf(NotFoundException);
    await expect(c.send(new CreateAttendeeCommand({ MeetingId: MISSING, ExternalUserId: 'nobody' }))).rejects.toBeInstanceOf(NotFoundException);
    await expect(c.send(new BatchCreateAttendeeCommand({ MeetingId: MISSING, Attendees: [{ ExternalUserId: 'nobody' }] }))).rejects.toBeInstanceOf(NotFoundException);
    await expect(c.send(new ListAttendeesCommand({ MeetingId: MISSING }))).rejects.toBeInstanceOf(NotFoundException);
    await expect(c.send(new GetAttendeeCommand({ MeetingId: MISSING, AttendeeId: MISSING }))).rejects.toBeInstanceOf(NotFoundException);
  });

  it('a 1 MB ExternalUserId is BadRequestException and disturbs nothing', async () => {
    const id = (await c.send(new CreateMeetingCommand({ ExternalMeetingId: 'big-input', MediaRegion: 'us-east-1' }))).Meeting?.MeetingId as string;
    await expect(c.send(new CreateAttendeeCommand({ MeetingId: id, ExternalUserId: 'u'.repeat(1024 * 1024) }))).rejects.toBeInstanceOf(BadRequestException);
    await expect(c.send(new CreateAttendeeCommand({ MeetingId: id, ExternalUserId: 'u'.repeat(65) }))).rejects.toBeInstanceOf(BadRequestException);
    await expect(c.send(new CreateAttendeeCommand({ MeetingId: id, ExternalUserId: 'u' }))).rejects.toBeInstanceOf(BadRequestException);
    await expect(c.send(new CreateAttendeeCommand({ MeetingId: id, ExternalUserId: 'aws:reserved' }))).rejects.toBeInstanceOf(BadRequestException);
    await expect(c.send(new CreateAttendeeCommand({ MeetingId: id, ExternalUserId: 'bad\u0000nul' }))).rejects.toBeInstanceOf(BadRequestException);
    expect((await c.send(new CreateAttendeeCommand({ MeetingId: id, ExternalUserId: 'José Müller <jm@example.com>'.replace(/[<>]/g, '') }))).Attendee?.ExternalUserId).toBe('José Müller jm@example.com');
    expect((await c.send(new ListAttendeesCommand({ MeetingId: id }))).Attendees?.length).toBe(1);
    const ok = await c.send(new CreateAttendeeCommand({ MeetingId: id, ExternalUserId: 'after-the-flood' }));
    expect(ok.Attendee?.ExternalUserId).toBe('after-the-flood');
  });

  it('any JSON body to the create operations is answered 200 or a 4xx Chime error, never a failure', async () => {
    const id = (await c.send(new CreateMeetingCommand({ ExternalMeetingId: 'fuzzed', MediaRegion: 'us-east-1' }))).Meeting?.MeetingId as string;
    const member = fc.oneof(fc.string({ maxLength: 80 }), fc.integer(), fc.constant(null), fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }));
    const body = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      fc.record({ ExternalMeetingId: member, MediaRegion: fc.oneof(member, fc.constantFrom('us-east-1', 'eu-west-2')), ClientRequestToken: member, Tags: member, MeetingFeatures: member }, { requiredKeys: [] }),
      fc.record({ ExternalUserId: member, Capabilities: fc.oneof(member, fc.record({ Audio: fc.constantFrom('SendReceive', 'None', 'x'), Video: fc.constantFrom('Receive', 'None'), Content: fc.constantFrom('SendReceive', 'None') })) }, { requiredKeys: [] }),
    );
    const paths = ['/meetings', '/meetings?operation=create-attendees', `/meetings/${id}/attendees`, `/meetings/${id}/attendees?operation=batch-create`];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...paths), body, async (p, b) => {
        const res = await api.signedFetch('POST', p, b);
        const text = await res.text();
        expect(res.status === 200 || (res.status >= 400 && res.status < 500), `${res.status} ${text}`).toBe(true);
        if (res.status !== 200) expect(res.headers.get('x-amzn-errortype')).toMatch(/Exception$/);
      }),
      { numRuns: 150 },
    );
    expect((await c.send(new GetMeetingCommand({ MeetingId: id }))).Meeting?.MeetingId).toBe(id);
  });

  it('creates a meeting with attendees, and refuses a batch past the attendee limit as a whole', async () => {
    const r = await c.send(new CreateMeetingWithAttendeesCommand({ ExternalMeetingId: 'with-people', MediaRegion: 'sa-east-1', MeetingFeatures: { Attendee: { MaxCount: 3 } }, Attendees: [{ ExternalUserId: 'p-1' }, { ExternalUserId: 'p-2' }] }));
    const id = r.Meeting?.MeetingId as string;
    expect(r.Attendees?.map((x) => x.ExternalUserId)).toEqual(['p-1', 'p-2']);
    expect(r.Errors).toEqual([]);
    await expect(c.send(new BatchCreateAttendeeCommand({ MeetingId: id, Attendees: [{ ExternalUserId: 'p-3' }, { ExternalUserId: 'p-4' }] }))).rejects.toBeInstanceOf(LimitExceededException);
    expect((await c.send(new ListAttendeesCommand({ MeetingId: id }))).Attendees?.length).toBe(2);
    await c.send(new CreateAttendeeCommand({ MeetingId: id, ExternalUserId: 'p-3' }));
    await expect(c.send(new CreateAttendeeCommand({ MeetingId: id, ExternalUserId: 'p-4' }))).rejects.toBeInstanceOf(LimitExceededException);
    await expect(c.send(new CreateMeetingWithAttendeesCommand({ ExternalMeetingId: 'too-many', MediaRegion: 'us-east-1', Attendees: Array.from({ length: 11 }, (_, i) => ({ ExternalUserId: `q-${i}` })) }))).rejects.toBeInstanceOf(BadRequestException);
    await expect(
      c.send(new CreateMeetingWithAttendeesCommand({ ExternalMeetingId: 'no-video', MediaRegion: 'us-east-1', MeetingFeatures: { Video: { MaxResolution: 'None' } }, Attendees: [{ ExternalUserId: 'v-1', Capabilities: { Audio: 'SendReceive', Video: 'Send', Content: 'None' } }] })),
    ).rejects.toBeInstanceOf(BadRequestException);
  });

  it('tags meetings (at creation and after), lists and removes tags; an unknown meeting ARN is ResourceNotFoundException', async () => {
    const m = (await c.send(new CreateMeetingCommand({ ExternalMeetingId: 'tagged', MediaRegion: 'us-east-1', Tags: [{ Key: 'team', Value: 'sales' }] }))).Meeting;
    const arn = m?.MeetingArn as string;
    await c.send(new TagResourceCommand({ ResourceARN: arn, Tags: [{ Key: 'env', Value: 'prod' }, { Key: 'team', Value: 'support' }] }));
    expect((await c.send(new ListTagsForResourceCommand({ ResourceARN: arn }))).Tags).toEqual([{ Key: 'env', Value: 'prod' }, { Key: 'team', Value: 'support' }]);
    await c.send(new UntagResourceCommand({ ResourceARN: arn, TagKeys: ['env'] }));
    expect((await c.send(new ListTagsForResourceCommand({ ResourceARN: arn }))).Tags).toEqual([{ Key: 'team', Value: 'support' }]);
    await expect(c.send(new TagResourceCommand({ ResourceARN: arn, Tags: Array.from({ length: 50 }, (_, i) => ({ Key: `k${i}`, Value: 'v' })) }))).rejects.toBeInstanceOf(TooManyTagsException);
    expect((await c.send(new ListTagsForResourceCommand({ ResourceARN: arn }))).Tags).toEqual([{ Key: 'team', Value: 'support' }]);
    const ghost = `arn:aws:chime:us-east-1:000000000000:meeting/${MISSING}`;
    await expect(c.send(new TagResourceCommand({ ResourceARN: ghost, Tags: [{ Key: 'a', Value: 'b' }] }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    await c.send(new DeleteMeetingCommand({ MeetingId: m?.MeetingId as string }));
    await expect(c.send(new ListTagsForResourceCommand({ ResourceARN: arn }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    expect(await api.store.db.selectFrom('tags').selectAll().where('resource_arn', '=', arn).execute()).toEqual([]);
  });
});

describe('Chime SDK Meetings API on the PostgreSQL store', () => {
  let api: ChimeApiUnderTest;
  let c: ChimeSDKMeetingsClient;
  beforeAll(async () => {
    api = await startChimeApi('postgres');
    c = meetingsClient(api);
  });
  afterAll(async () => {
    c.destroy();
    await api.close();
  });

  it('meetings and attendees round-trip, idempotency and NotFound hold', async () => {
    const a = await c.send(new CreateMeetingCommand({ ExternalMeetingId: 'pg-room', MediaRegion: 'eu-central-1', ClientRequestToken: 'pg-token-1' }));
    const b = await c.send(new CreateMeetingCommand({ ExternalMeetingId: 'pg-room', MediaRegion: 'eu-central-1', ClientRequestToken: 'pg-token-1' }));
    const id = a.Meeting?.MeetingId as string;
    expect(b.Meeting?.MeetingId).toBe(id);
    const pins = await dialIn(api, id);
    expect(pins.DialInMeetingId).toMatch(/^\d{10}$/);
    const batch = await c.send(new BatchCreateAttendeeCommand({ MeetingId: id, Attendees: [{ ExternalUserId: 'pg-1' }, { ExternalUserId: 'pg-2' }] }));
    expect(batch.Attendees?.length).toBe(2);
    expect((await c.send(new ListAttendeesCommand({ MeetingId: id }))).Attendees?.length).toBe(2);
    // Concurrent duplicates (one token, one ExternalUserId) answer one meeting and one attendee.
    const same = await Promise.all([1, 2, 3, 4].map(() => c.send(new CreateMeetingCommand({ ExternalMeetingId: 'pg-race', MediaRegion: 'us-east-1', ClientRequestToken: 'pg-race-token' }))));
    expect(new Set(same.map((r) => r.Meeting?.MeetingId)).size).toBe(1);
    const twins = await Promise.all([1, 2, 3, 4].map(() => c.send(new CreateAttendeeCommand({ MeetingId: id, ExternalUserId: 'pg-twin' }))));
    expect(new Set(twins.map((r) => r.Attendee?.AttendeeId)).size).toBe(1);
    await c.send(new DeleteMeetingCommand({ MeetingId: id }));
    await expect(c.send(new GetMeetingCommand({ MeetingId: id }))).rejects.toBeInstanceOf(NotFoundException);
  });
});

/** Carillon's meeting routes (signed HTTP) and the legacy CreateMeetingDialOut (the official legacy client), with an in-memory live meeting layer. */
describe.each(['sqlite', 'postgres'] as const)('Carillon meeting routes (%s store)', (backend) => {
  let api: ChimeApiUnderTest;
  let c: ChimeSDKMeetingsClient;
  let legacy: ChimeClient;
  const live = new InMemoryLiveMeetings();
  beforeAll(async () => {
    api = await startChimeApi(backend, { liveMeetings: live });
    c = meetingsClient(api);
    legacy = api.legacyClient();
  });
  afterAll(async () => {
    c.destroy();
    legacy.destroy();
    await api.close();
  });

  const newMeeting = async (name: string): Promise<string> => (await c.send(new CreateMeetingCommand({ ExternalMeetingId: name, MediaRegion: 'us-east-1' }))).Meeting?.MeetingId as string;
  const call = async (method: string, p: string, body?: unknown): Promise<{ status: number; type: string | null; body: Record<string, unknown> }> => {
    const res = await api.signedFetch(method, p, body);
    const text = await res.text();
    return { status: res.status, type: res.headers.get('x-amzn-errortype'), body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
  };
  const meetingOf = async (id: string): Promise<Record<string, unknown>> => {
    const r = await call('GET', `/carillon/v1/meetings/${id}`);
    expect(r.status).toBe(200);
    return r.body.Meeting as Record<string, unknown>;
  };

  it('settings: defaults on a new meeting; PATCH changes only what it sends; passcode exactly 4–8 digits, 2..250 participants, en-US or pt-BR', async () => {
    const id = await newMeeting('settings-room');
    expect((await meetingOf(id)).Settings).toEqual({ Moderated: false, ModeratorPasscode: null, MaxParticipants: 250, Language: null, PromptLanguage: 'en-US', JoinTones: true });
    const ok = await call('PATCH', `/carillon/v1/meetings/${id}/settings`, { Moderated: true, ModeratorPasscode: '0042', MaxParticipants: 2 });
    expect(ok.status).toBe(200);
    expect(ok.body.Settings).toEqual({ Moderated: true, ModeratorPasscode: '0042', MaxParticipants: 2, Language: null, PromptLanguage: 'en-US', JoinTones: true });
    expect((await call('PATCH', `/carillon/v1/meetings/${id}/settings`, { Language: 'pt-BR', JoinTones: false, ModeratorPasscode: '12345678' })).body.Settings).toEqual({
      Moderated: true,
      ModeratorPasscode: '12345678',
      MaxParticipants: 2,
      Language: 'pt-BR',
      PromptLanguage: 'pt-BR',
      JoinTones: false,
    });
    for (const bad of [
      { ModeratorPasscode: '123' },
      { ModeratorPasscode: '123456789' },
      { ModeratorPasscode: '12a4' },
      { ModeratorPasscode: ' 1234' },
      { ModeratorPasscode: 1234 },
      { MaxParticipants: 1 },
      { MaxParticipants: 251 },
      { MaxParticipants: 2.5 },
      { Language: 'fr-FR' },
      { Moderated: 'yes' },
      { JoinTones: null },
    ]) {
      const r = await call('PATCH', `/carillon/v1/meetings/${id}/settings`, bad);
      expect([r.status, r.type], JSON.stringify(bad)).toEqual([400, 'BadRequestException']);
    }
    expect((await meetingOf(id)).Settings).toMatchObject({ ModeratorPasscode: '12345678', MaxParticipants: 2, Language: 'pt-BR' });
    expect((await call('PATCH', `/carillon/v1/meetings/${MISSING}/settings`, { Moderated: true })).type).toBe('NotFoundException');
  });

  it('GET shows the live meeting (who, how joined, muted, talking, MOS) while it is in progress, and nothing live otherwise', async () => {
    const id = await newMeeting('live-view');
    expect((await meetingOf(id)).Live).toBeUndefined();
    live.start(id, [{ role: 'host', talking: true }, { joinPath: 'dial-out', codec: 'OPUS', mos: null, transport: 'tls' }]);
    expect((await meetingOf(id)).Live).toEqual({
      Started: true,
      Locked: false,
      Recording: false,
      Participants: [
        { ParticipantId: 'p-1', Role: 'host', JoinPath: 'dial-in', Protocol: 'sip', Transport: 'udp', CallerNumber: '+14155550100', Codec: 'PCMU', State: 'in-meeting', Muted: false, Talking: true, Mos: 4.3, Video: null, Presenting: false, JoinedTimestamp: '2026-01-01T00:00:00.000Z' },
        { ParticipantId: 'p-2', Role: 'attendee', JoinPath: 'dial-out', Protocol: 'sip', Transport: 'tls', CallerNumber: '+14155550101', Codec: 'OPUS', State: 'in-meeting', Muted: false, Talking: false, Mos: null, Video: null, Presenting: false, JoinedTimestamp: '2026-01-01T00:00:00.000Z' },
      ],
    });
  });

  it('moderator actions: mute/unmute one, mute all others, remove, lock/unlock, end; NotFoundException for an unknown meeting, participant, or a meeting not in progress', async () => {
    const id = await newMeeting('moderated-live');
    const base = `/carillon/v1/meetings/${id}`;
    expect((await call('POST', `${base}/end`)).type).toBe('NotFoundException');
    live.start(id, [{}, {}, {}]);
    expect((await call('POST', `${base}/participants/p-2/mute`, { Muted: true })).status).toBe(204);
    expect(live.live(id)?.participants.map((p) => p.muted)).toEqual([false, true, false]);
    expect((await call('POST', `${base}/participants/p-2/mute`, { Muted: false })).status).toBe(204);
    expect(live.live(id)?.participants.map((p) => p.muted)).toEqual([false, false, false]);
    expect((await call('POST', `${base}/participants/p-9/mute`, { Muted: true })).type).toBe('NotFoundException');
    expect((await call('POST', `${base}/participants/p-2/mute`, { Muted: 'on' })).type).toBe('BadRequestException');
    expect((await call('POST', `${base}/participants/p-2/mute`, {})).type).toBe('BadRequestException');

    expect((await call('POST', `${base}/mute-all-others`, { ExceptParticipantId: 'p-1' })).status).toBe(204);
    expect(live.live(id)?.participants.map((p) => p.muted)).toEqual([false, true, true]);
    expect((await call('POST', `${base}/mute-all-others`, { ExceptParticipantId: 'p-9' })).type).toBe('NotFoundException');
    expect((await call('POST', `${base}/mute-all-others`)).status).toBe(204);
    expect(live.live(id)?.participants.every((p) => p.muted)).toBe(true);

    expect((await call('DELETE', `${base}/participants/p-3`)).status).toBe(204);
    expect(live.live(id)?.participants.map((p) => p.participantId)).toEqual(['p-1', 'p-2']);
    expect((await call('DELETE', `${base}/participants/p-3`)).type).toBe('NotFoundException');

    expect((await call('PUT', `${base}/lock`, { Locked: true })).status).toBe(204);
    expect((await meetingOf(id)).Live).toMatchObject({ Locked: true });
    expect((await call('PUT', `${base}/lock`, { Locked: false })).status).toBe(204);
    expect(live.live(id)?.locked).toBe(false);
    expect((await call('PUT', `${base}/lock`, {})).type).toBe('BadRequestException');

    expect((await call('POST', `${base}/stop-presenting`)).status).toBe(204);
    expect(live.calls.at(-1)).toEqual({ op: 'stop-presenting', meetingId: id, args: [] });

    expect((await call('POST', `${base}/end`)).status).toBe(204);
    expect(live.calls.at(-1)).toEqual({ op: 'end', meetingId: id, args: ['ended-by-api'] });
    expect(live.live(id)).toBeUndefined();
    expect((await call('POST', `${base}/end`)).type).toBe('NotFoundException');
    expect((await call('POST', `/carillon/v1/meetings/${MISSING}/end`)).type).toBe('NotFoundException');

    const audit = (await call('GET', '/carillon/v1/audit?action=carillon:MuteMeetingParticipant')).body.AuditEvents as { Resource: string; Status: number }[];
    expect(audit.some((e) => e.Resource === id && e.Status === 204)).toBe(true);
  });

  it('DeleteMeeting ends the meeting in progress (reason deleted)', async () => {
    const id = await newMeeting('deleted-live');
    live.start(id, [{}]);
    await c.send(new DeleteMeetingCommand({ MeetingId: id }));
    expect(live.calls.at(-1)).toEqual({ op: 'end', meetingId: id, args: ['deleted'] });
    expect(live.live(id)).toBeUndefined();
    expect((await call('GET', `/carillon/v1/meetings/${id}`)).type).toBe('NotFoundException');
  });

  it("a user's personal room answers on the Carillon routes as `personal:<UserId>`; its settings are fixed", async () => {
    const accountId = (await legacy.send(new CreateAccountCommand({ Name: `Rooms ${backend}` }))).Account?.AccountId as string;
    const user = (await legacy.send(new CreateUserCommand({ AccountId: accountId, Email: 'pat@example.com' }))).User;
    const room = `personal:${user?.UserId as string}`;
    const path = `/carillon/v1/meetings/${encodeURIComponent(room)}`;
    const got = await call('GET', path);
    expect(got.status).toBe(200);
    expect(got.body.Meeting).toMatchObject({ MeetingId: room, PersonalMeetingRoom: true, DialInMeetingId: user?.PersonalPIN, OrganizerUserId: user?.UserId, OrganizerEmail: 'pat@example.com', AccountId: accountId });
    expect((await call('PATCH', `${path}/settings`, { Moderated: true })).type).toBe('BadRequestException');
    live.start(room, [{}]);
    expect((await call('POST', `${path}/participants/p-1/mute`, { Muted: true })).status).toBe(204);
    expect(live.live(room)?.participants[0]?.muted).toBe(true);
    expect((await call('GET', `/carillon/v1/meetings/personal%3A${MISSING}`)).type).toBe('NotFoundException');
  });

  it('meeting IDs with letters, 40 digits or junk are BadRequestException on every Carillon route, never a failure', async () => {
    const routes: [string, string, unknown][] = [
      ['GET', '', undefined],
      ['PATCH', '/settings', { Moderated: true }],
      ['POST', '/participants/p-1/mute', { Muted: true }],
      ['POST', '/mute-all-others', {}],
      ['DELETE', '/participants/p-1', undefined],
      ['PUT', '/lock', { Locked: true }],
      ['POST', '/stop-presenting', undefined],
      ['POST', '/end', undefined],
      ['POST', '/dial-outs', { ToPhoneNumber: '+14155550123' }],
    ];
    for (const bad of ['abcdefghij', '1'.repeat(40), '1234567890', `${MISSING}x`, 'personal:me', '%00', '%E0%A4%A', '..%2F..%2Fetc', 'x'.repeat(5000)]) {
      for (const [method, suffix, body] of routes) {
        const r = await call(method, `/carillon/v1/meetings/${bad}${suffix}`, body);
        expect(r.status >= 400 && r.status < 500, `${method} ${bad}${suffix}: ${r.status}`).toBe(true);
        expect(['BadRequestException', 'NotFoundException', 'ForbiddenException'], `${method} ${bad.slice(0, 40)}${suffix}: ${r.status}`).toContain(r.type);
      }
    }
    // Longer than the router keeps a path label: 414 in Chime's shape, the path not echoed.
    const long = await call('GET', `/carillon/v1/meetings/${'9'.repeat(5000)}`);
    expect([long.status, long.type, long.body.Code]).toEqual([414, 'BadRequestException', 'UriTooLong']);
    expect(JSON.stringify(long.body)).not.toContain('9999');
    const id = await newMeeting('bad-participant');
    live.start(id, [{}]);
    for (const p of ['a'.repeat(200), 'p%201', '%F0%9F%98%80']) expect((await call('POST', `/carillon/v1/meetings/${id}/participants/${p}/mute`, { Muted: true })).type).toBe('BadRequestException');
  });

  it('any JSON body to the Carillon meeting routes is answered 2xx or a 4xx Chime error, never a failure', async () => {
    const id = await newMeeting('fuzzed-carillon');
    live.start(id, [{}, {}]);
    const member = fc.oneof(fc.string({ maxLength: 12 }), fc.stringMatching(/^\+?\d{0,17}$/), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 2 }));
    const body = fc.oneof(
      fc.jsonValue({ maxDepth: 2 }),
      fc.record({ Moderated: member, ModeratorPasscode: member, MaxParticipants: member, Language: fc.oneof(member, fc.constantFrom('en-US', 'pt-BR')), JoinTones: member }, { requiredKeys: [] }),
      fc.record({ Muted: member, Locked: member, ExceptParticipantId: fc.oneof(member, fc.constantFrom('p-1', 'p-2')), ToPhoneNumber: member, FromPhoneNumber: member }, { requiredKeys: [] }),
    );
    const paths: [string, string][] = [
      ['PATCH', `/carillon/v1/meetings/${id}/settings`],
      ['POST', `/carillon/v1/meetings/${id}/participants/p-2/mute`],
      ['POST', `/carillon/v1/meetings/${id}/mute-all-others`],
      ['PUT', `/carillon/v1/meetings/${id}/lock`],
      ['POST', `/carillon/v1/meetings/${id}/dial-outs`],
      ['POST', '/carillon/v1/meeting-dial-in-numbers'],
    ];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...paths), body, async ([method, p], b) => {
        const r = await call(method, p, b);
        expect(r.status < 300 || (r.status >= 400 && r.status < 500), `${method} ${p} ${JSON.stringify(b)} → ${r.status}`).toBe(true);
        if (r.status >= 400) expect(r.type).toMatch(/Exception$/);
      }),
      { numRuns: 120 },
    );
    expect((await meetingOf(id)).MeetingId).toBe(id);
  });

  it('CreateMeetingDialOut (legacy client): 201 TransactionId; validates E.164, the meeting, the join token (one of its attendees) and the caller ID (a number of ours)', async () => {
    const id = await newMeeting('dial-out');
    const other = await newMeeting('dial-out-other');
    const token = (await c.send(new CreateAttendeeCommand({ MeetingId: id, ExternalUserId: 'callee' }))).Attendee?.JoinToken as string;
    const foreign = (await c.send(new CreateAttendeeCommand({ MeetingId: other, ExternalUserId: 'elsewhere' }))).Attendee?.JoinToken as string;
    expect((await call('POST', '/carillon/v1/meeting-dial-in-numbers', { E164PhoneNumber: '+12065550100' })).status).toBe(201);
    const placed = await legacy.send(new CreateMeetingDialOutCommand({ MeetingId: id, FromPhoneNumber: '+12065550100', ToPhoneNumber: '14155550123', JoinToken: token }));
    expect(placed.$metadata.httpStatusCode).toBe(201);
    expect(placed.TransactionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(live.calls.at(-1)).toEqual({ op: 'dialOut', meetingId: id, args: ['+14155550123', '+12065550100'] });

    const n = live.calls.length;
    const dial = (o: { MeetingId?: string; FromPhoneNumber?: string; ToPhoneNumber?: string; JoinToken?: string }): Promise<unknown> =>
      legacy.send(new CreateMeetingDialOutCommand({ MeetingId: id, FromPhoneNumber: '+12065550100', ToPhoneNumber: '+14155550123', JoinToken: token, ...o }));
    await expect(dial({ JoinToken: foreign })).rejects.toBeInstanceOf(LegacyBadRequest);
    await expect(dial({ JoinToken: 'notatoken0000' })).rejects.toBeInstanceOf(LegacyBadRequest);
    await expect(dial({ JoinToken: 'has spaces' })).rejects.toBeInstanceOf(LegacyBadRequest);
    await expect(dial({ ToPhoneNumber: '+0123' })).rejects.toBeInstanceOf(LegacyBadRequest);
    await expect(dial({ ToPhoneNumber: '+1415555012345678' })).rejects.toBeInstanceOf(LegacyBadRequest);
    await expect(dial({ ToPhoneNumber: 'sip:bob@example.com' })).rejects.toBeInstanceOf(LegacyBadRequest);
    await expect(dial({ FromPhoneNumber: '+19995550000' })).rejects.toBeInstanceOf(LegacyBadRequest);
    await expect(dial({ MeetingId: MISSING })).rejects.toBeInstanceOf(LegacyNotFound);
    await expect(dial({ MeetingId: 'not-a-meeting' })).rejects.toBeInstanceOf(LegacyBadRequest);
    expect(live.calls.length).toBe(n);
  });

  it("dial-out results the meeting layer refuses map to Chime's errors; Carillon's dial-out needs no join token", async () => {
    const id = await newMeeting('dial-out-errors');
    const token = (await c.send(new CreateAttendeeCommand({ MeetingId: id, ExternalUserId: 'callee' }))).Attendee?.JoinToken as string;
    await call('POST', '/carillon/v1/meeting-dial-in-numbers', { E164PhoneNumber: '+12065550100' });
    const cases = [
      ['no-such-meeting', LegacyNotFound, 'NotFoundException'],
      ['bad-number', LegacyBadRequest, 'BadRequestException'],
      ['no-route', LegacyBadRequest, 'BadRequestException'],
      ['meeting-full', ResourceLimitExceededException, 'ResourceLimitExceededException'],
      ['locked', ForbiddenException, 'ForbiddenException'],
    ] as const;
    try {
      for (const [reason, type, name] of cases) {
        live.dialOutAnswer = () => ({ ok: false, reason, message: `refused: ${reason}` });
        await expect(legacy.send(new CreateMeetingDialOutCommand({ MeetingId: id, FromPhoneNumber: '+12065550100', ToPhoneNumber: '+14155550123', JoinToken: token }))).rejects.toBeInstanceOf(type);
        const r = await call('POST', `/carillon/v1/meetings/${id}/dial-outs`, { ToPhoneNumber: '+14155550123' });
        expect(r.type).toBe(name);
      }
    } finally {
      live.dialOutAnswer = undefined;
    }
    const placed = await call('POST', `/carillon/v1/meetings/${id}/dial-outs`, { ToPhoneNumber: '4155550123' });
    expect(placed.status).toBe(201);
    expect(placed.body.TransactionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(live.calls.at(-1)).toEqual({ op: 'dialOut', meetingId: id, args: ['+4155550123', undefined] });
    expect((await call('POST', `/carillon/v1/meetings/${id}/dial-outs`, { ToPhoneNumber: '+14155550123', FromPhoneNumber: '+19995550000' })).type).toBe('BadRequestException');
    expect((await call('POST', `/carillon/v1/meetings/${id}/dial-outs`, {})).type).toBe('BadRequestException');
    expect((await call('POST', `/carillon/v1/meetings/${MISSING}/dial-outs`, { ToPhoneNumber: '+14155550123' })).type).toBe('NotFoundException');
  });
});

describe('Meetings API without a live meeting layer, throttling and oversized bodies (sqlite store)', () => {
  let api: ChimeApiUnderTest;
  beforeAll(async () => {
    api = await startChimeApi('sqlite');
  });
  afterAll(async () => {
    await api.close();
  });

  it('live routes and dial-out answer ServiceUnavailableException; GET and settings still work; DeleteMeeting still deletes', async () => {
    const c = meetingsClient(api);
    const legacy = api.legacyClient();
    try {
      const id = (await c.send(new CreateMeetingCommand({ ExternalMeetingId: 'no-live', MediaRegion: 'us-east-1' }))).Meeting?.MeetingId as string;
      const token = (await c.send(new CreateAttendeeCommand({ MeetingId: id, ExternalUserId: 'callee' }))).Attendee?.JoinToken as string;
      const got = await api.signedFetch('GET', `/carillon/v1/meetings/${id}`);
      expect(got.status).toBe(200);
      expect(((await got.json()) as { Meeting: Record<string, unknown> }).Meeting.Live).toBeUndefined();
      expect((await api.signedFetch('PATCH', `/carillon/v1/meetings/${id}/settings`, { Moderated: true })).status).toBe(200);
      for (const [method, suffix, body] of [
        ['POST', '/participants/p-1/mute', { Muted: true }],
        ['POST', '/mute-all-others', {}],
        ['DELETE', '/participants/p-1', undefined],
        ['PUT', '/lock', { Locked: true }],
        ['POST', '/end', undefined],
        ['POST', '/dial-outs', { ToPhoneNumber: '+14155550123' }],
      ] as const) {
        const r = await api.signedFetch(method, `/carillon/v1/meetings/${id}${suffix}`, body);
        expect([r.status, r.headers.get('x-amzn-errortype')], `${method} ${suffix}`).toEqual([503, 'ServiceUnavailableException']);
      }
      await api.signedFetch('POST', '/carillon/v1/meeting-dial-in-numbers', { E164PhoneNumber: '+12065550100' });
      await expect(legacy.send(new CreateMeetingDialOutCommand({ MeetingId: id, FromPhoneNumber: '+12065550100', ToPhoneNumber: '+14155550123', JoinToken: token }))).rejects.toBeInstanceOf(LegacyServiceUnavailable);
      expect((await c.send(new DeleteMeetingCommand({ MeetingId: id }))).$metadata.httpStatusCode).toBe(204);
    } finally {
      c.destroy();
      legacy.destroy();
    }
  });

  it('a 1 MB ExternalUserId under the body limit is 400, one over it 413 (both BadRequestException with a Chime body, the connection closed after the 413); the next request works', async () => {
    const c = meetingsClient(api);
    try {
      const id = (await c.send(new CreateMeetingCommand({ ExternalMeetingId: 'one-mb', MediaRegion: 'us-east-1' }))).Meeting?.MeetingId as string;
      const under = await api.signedFetch('POST', `/meetings/${id}/attendees`, { ExternalUserId: 'u'.repeat(1_000_000) });
      expect([under.status, under.headers.get('x-amzn-errortype')]).toEqual([400, 'BadRequestException']);
      const underBody = (await under.json()) as { Code: string; Message: string };
      expect(underBody.Code).toBe('BadRequest');
      expect(underBody.Message.length).toBeLessThan(200);
      const over = await api.signedFetch('POST', `/meetings/${id}/attendees`, { ExternalUserId: 'u'.repeat(1024 * 1024) });
      expect([over.status, over.headers.get('x-amzn-errortype'), over.headers.get('connection')]).toEqual([413, 'BadRequestException', 'close']);
      expect(((await over.json()) as { Code: string }).Code).toBe('RequestEntityTooLarge');
      expect((await c.send(new CreateAttendeeCommand({ MeetingId: id, ExternalUserId: 'after-one-mb' }))).Attendee?.ExternalUserId).toBe('after-one-mb');
      expect((await c.send(new ListAttendeesCommand({ MeetingId: id }))).Attendees?.length).toBe(1);
    } finally {
      c.destroy();
    }
  });

  it('the Meetings API throttles with ThrottlingException (its SDK’s type); the Voice and legacy APIs keep ThrottledClientException', async () => {
    const tight = await startChimeApi('sqlite', { rateLimit: { perSec: 0.0001, burst: 1 } });
    const c = meetingsClient(tight);
    try {
      await c.send(new CreateMeetingCommand({ ExternalMeetingId: 'throttled', MediaRegion: 'us-east-1' }));
      await expect(c.send(new CreateMeetingCommand({ ExternalMeetingId: 'throttled-2', MediaRegion: 'us-east-1' }))).rejects.toBeInstanceOf(ThrottlingException);
      const voice = await tight.signedFetch('GET', '/voice-connectors');
      expect([voice.status, voice.headers.get('x-amzn-errortype')]).toEqual([429, 'ThrottledClientException']);
      const carillon = await tight.signedFetch('GET', '/carillon/v1/meeting-dial-in-numbers');
      expect([carillon.status, carillon.headers.get('x-amzn-errortype')]).toEqual([429, 'ThrottledClientException']);
    } finally {
      c.destroy();
      await tight.close();
    }
  });
});
