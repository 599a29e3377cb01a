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
  TooManyTagsException,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateAttendeeCapabilitiesCommand,
  paginateListAttendees,
} from '@aws-sdk/client-chime-sdk-meetings';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChimeApi } from '../support/chime-api.ts';
import type { ChimeApiUnderTest } from '../support/chime-api.ts';

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
