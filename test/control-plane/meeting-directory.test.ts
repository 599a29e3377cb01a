import { BatchSuspendUserCommand, CreateAccountCommand, CreateUserCommand, ResetPersonalPINCommand } from '@aws-sdk/client-chime';
import type { ChimeClient } from '@aws-sdk/client-chime';
import { ChimeSDKMeetingsClient, CreateMeetingCommand, DeleteMeetingCommand } from '@aws-sdk/client-chime-sdk-meetings';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreMeetingDirectory, personalRoomId, userOfPersonalRoom } from '../../control-plane/meeting-directory.ts';
import { MeetingDialInRouter } from '../../signaling/routing/meeting-dial-in.ts';
import type { CallRouter, RouteRequest } from '../../signaling/routing/route.ts';
import { startChimeApi } from '../support/chime-api.ts';
import type { ChimeApiUnderTest } from '../support/chime-api.ts';

/** The meeting directory over a real store, kept current by the API's writes (rebuilt where the snapshot is). */
describe.each(['sqlite', 'postgres'] as const)('meeting directory (%s store)', (backend) => {
  let api: ChimeApiUnderTest;
  let meetings: ChimeSDKMeetingsClient;
  let legacy: ChimeClient;
  beforeAll(async () => {
    api = await startChimeApi(backend);
    meetings = new ChimeSDKMeetingsClient({ endpoint: api.endpoint, region: 'us-east-1', credentials: { accessKeyId: api.admin.accessKeyId, secretAccessKey: api.admin.secretAccessKey }, maxAttempts: 1 });
    legacy = api.legacyClient();
  });
  afterAll(async () => {
    meetings.destroy();
    legacy.destroy();
    await api.close();
  });

  const pinsOf = async (id: string): Promise<{ DialInMeetingId: string; HostId: string }> => ((await (await api.signedFetch('GET', `/carillon/v1/meetings/${id}`)).json()) as { Meeting: { DialInMeetingId: string; HostId: string } }).Meeting;

  it('finds a meeting by its meeting ID, host ID and MeetingId as soon as CreateMeeting answers; settings changes show; DeleteMeeting takes it out', async () => {
    const id = (await meetings.send(new CreateMeetingCommand({ ExternalMeetingId: 'directory-room', MediaRegion: 'us-east-1' }))).Meeting?.MeetingId as string;
    const pins = await pinsOf(id);
    expect(api.directory.meetingOfId(pins.DialInMeetingId)).toBe(id);
    expect(api.directory.meetingOfHostId(pins.HostId)).toBe(id);
    expect(api.directory.meetingOfId(pins.HostId)).toBeUndefined();
    expect(api.directory.meeting(id)).toEqual({
      meetingId: id,
      externalMeetingId: 'directory-room',
      meetingPin: pins.DialInMeetingId,
      hostPin: pins.HostId,
      moderated: false,
      moderatorPasscode: undefined,
      maxParticipants: 250,
      language: 'en-US',
      joinTones: true,
      organizerUserId: undefined,
      organizerEmail: undefined,
      accountId: undefined,
    });
    expect(api.directory.meeting(id.toUpperCase())?.meetingId).toBe(id);

    const patched = await api.signedFetch('PATCH', `/carillon/v1/meetings/${id}/settings`, { Moderated: true, ModeratorPasscode: '4321', MaxParticipants: 12, Language: 'pt-BR', JoinTones: false });
    expect(patched.status).toBe(200);
    expect(api.directory.meeting(id)).toMatchObject({ moderated: true, moderatorPasscode: '4321', maxParticipants: 12, language: 'pt-BR', joinTones: false });
    expect((await api.signedFetch('PATCH', `/carillon/v1/meetings/${id}/settings`, { ModeratorPasscode: null, Language: null })).status).toBe(200);
    expect(api.directory.meeting(id)).toMatchObject({ moderated: true, moderatorPasscode: undefined, maxParticipants: 12, language: 'en-US', joinTones: false });

    await meetings.send(new DeleteMeetingCommand({ MeetingId: id }));
    expect(api.directory.meeting(id)).toBeUndefined();
    expect(api.directory.meetingOfId(pins.DialInMeetingId)).toBeUndefined();
    expect(api.directory.meetingOfHostId(pins.HostId)).toBeUndefined();
  });

  it("a user's personal PIN is their personal room (the user its organizer, the account's language); a reset PIN moves it; a suspended user's room is gone", async () => {
    const accountId = (await legacy.send(new CreateAccountCommand({ Name: `Directory ${backend}` }))).Account?.AccountId as string;
    const user = (await legacy.send(new CreateUserCommand({ AccountId: accountId, Email: 'dora@example.com' }))).User;
    const userId = user?.UserId as string;
    const first = user?.PersonalPIN as string;
    const room = personalRoomId(userId);
    expect(userOfPersonalRoom(room)).toBe(userId);
    expect(api.directory.meetingOfId(first)).toBe(room);
    expect(api.directory.meetingOfHostId(first)).toBeUndefined();
    expect(api.directory.meeting(room)).toEqual({
      meetingId: room,
      externalMeetingId: undefined,
      meetingPin: first,
      hostPin: undefined,
      moderated: false,
      moderatorPasscode: undefined,
      maxParticipants: 250,
      language: 'en-US',
      joinTones: true,
      organizerUserId: userId,
      organizerEmail: 'dora@example.com',
      accountId,
    });

    const put = await api.signedFetch('PUT', `/carillon/v1/accounts/${accountId}/meeting-settings`, { Language: 'pt-BR' });
    expect(put.status).toBe(200);
    expect(await put.json()).toEqual({ MeetingSettings: { Language: 'pt-BR', PromptLanguage: 'pt-BR' } });
    expect(api.directory.meeting(room)?.language).toBe('pt-BR');
    expect((await api.signedFetch('PUT', `/carillon/v1/accounts/${accountId}/meeting-settings`, { Language: 'fr-FR' })).status).toBe(400);

    const next = (await legacy.send(new ResetPersonalPINCommand({ AccountId: accountId, UserId: userId }))).User?.PersonalPIN as string;
    expect(next).not.toBe(first);
    expect(api.directory.meetingOfId(next)).toBe(room);
    expect(api.directory.meetingOfId(first)).toBeUndefined();
    expect(api.directory.meeting(room)?.meetingPin).toBe(next);

    // Team accounts: suspending removes the user, and their room with them.
    await legacy.send(new BatchSuspendUserCommand({ AccountId: accountId, UserIdList: [userId] }));
    expect(api.directory.meetingOfId(next)).toBeUndefined();
    expect(api.directory.meeting(room)).toBeUndefined();
  });

  it('dial-in numbers: added, listed and removed through the API, and the dial-in router sends a carrier’s call to one to the IVR', async () => {
    expect(api.directory.isDialInNumber('+14155550199')).toBe(false);
    const added = await api.signedFetch('POST', '/carillon/v1/meeting-dial-in-numbers', { E164PhoneNumber: '14155550199' });
    expect(added.status).toBe(201);
    expect(((await added.json()) as { PhoneNumber: { E164PhoneNumber: string } }).PhoneNumber.E164PhoneNumber).toBe('+14155550199');
    expect((await api.signedFetch('POST', '/carillon/v1/meeting-dial-in-numbers', { E164PhoneNumber: '+14155550199' })).status).toBe(200);
    expect(api.directory.isDialInNumber('+14155550199')).toBe(true);
    const listed = (await (await api.signedFetch('GET', '/carillon/v1/meeting-dial-in-numbers')).json()) as { PhoneNumbers: { E164PhoneNumber: string }[] };
    expect(listed.PhoneNumbers.map((n) => n.E164PhoneNumber)).toEqual(['+14155550199']);

    const next: CallRouter = { decide: () => ({ kind: 'reject', status: 404, rule: 'next' }) };
    const router = new MeetingDialInRouter({ domains: ['meet.carillon.test'], directory: api.directory, isCarrier: (a) => a === '192.0.2.1' }, next);
    const call = (user: string, address: string): RouteRequest => ({
      dialed: { user, host: '192.0.2.50' },
      caller: { user: '+12065550111', anonymous: false },
      fromUser: '+12065550111',
      source: { address, port: 5060, transport: 'udp' },
      credentials: () => ({ kind: 'absent' }),
      recording: false,
      audioOffer: 'rtp',
    });
    expect(router.decide(call('+14155550199', '192.0.2.1'))).toMatchObject({ kind: 'meeting', rule: 'meeting-dial-in-number' });
    expect(router.decide(call('+14155550199', '198.51.100.7')).kind).toBe('reject');

    expect((await api.signedFetch('POST', '/carillon/v1/meeting-dial-in-numbers', { E164PhoneNumber: '+0123' })).status).toBe(400);
    expect((await api.signedFetch('DELETE', '/carillon/v1/meeting-dial-in-numbers/%2B14155550199')).status).toBe(204);
    expect(api.directory.isDialInNumber('+14155550199')).toBe(false);
    const gone = await api.signedFetch('DELETE', '/carillon/v1/meeting-dial-in-numbers/%2B14155550199');
    expect(gone.status).toBe(404);
    expect(gone.headers.get('x-amzn-errortype')).toBe('NotFoundException');
    expect((await api.signedFetch('DELETE', '/carillon/v1/meeting-dial-in-numbers/not-a-number')).status).toBe(400);
  });

  it("straight from the store: a meeting's ID wins over a personal PIN that collides with it; a deleted account's users have no rooms; unknown languages fall back", async () => {
    const id = (await meetings.send(new CreateMeetingCommand({ ExternalMeetingId: 'collision', MediaRegion: 'us-east-1' }))).Meeting?.MeetingId as string;
    const { DialInMeetingId } = await pinsOf(id);
    const at = new Date().toISOString();
    const account = (n: string, deleted: boolean, language: string | null) => ({ id: `00000000-0000-4000-8000-${n}`, name: n, type: 'Team', status: 'Active', default_license: 'Pro', settings: '{}', created_at: at, deleted_at: deleted ? at : null, meeting_language: language });
    const user = (n: string, accountId: string, pin: string) => ({ id: `10000000-0000-4000-8000-${n}`, account_id: accountId, email: `${n}@example.com`, display_name: null, license: 'Pro', user_type: 'PrivateUser', registration_status: 'Registered', invitation_status: 'Accepted', invited_at: at, registered_at: at, pin, settings: '{}' });
    const live = account('00000000000a', false, 'xx-XX');
    const gone = account('00000000000b', true, null);
    await api.store.db.insertInto('accounts').values([live, gone]).execute();
    await api.store.db.insertInto('users').values([user('00000000000a', live.id, DialInMeetingId), user('00000000000b', live.id, '5550001111'), user('00000000000c', gone.id, '5550002222')]).execute();
    await api.directory.refresh();
    expect(api.directory.meetingOfId(DialInMeetingId)).toBe(id);
    expect(api.directory.meetingOfId('5550001111')).toBe(personalRoomId('10000000-0000-4000-8000-00000000000b'));
    expect(api.directory.meeting(personalRoomId('10000000-0000-4000-8000-00000000000b'))?.language).toBe('en-US');
    expect(api.directory.meetingOfId('5550002222')).toBeUndefined();
    expect(api.directory.meeting(personalRoomId('10000000-0000-4000-8000-00000000000c'))).toBeUndefined();
  });

  it('a directory built on its own from the same store sees what the API wrote; lookups before the first rebuild find nothing', async () => {
    const id = (await meetings.send(new CreateMeetingCommand({ ExternalMeetingId: 'standalone', MediaRegion: 'us-east-1' }))).Meeting?.MeetingId as string;
    const own = new StoreMeetingDirectory(api.store, { defaultLanguage: 'pt-BR' });
    let changes = 0;
    own.onChange(() => {
      throw new Error('a faulty listener');
    });
    own.onChange(() => changes++);
    expect(own.generation).toBe(0);
    expect(own.meeting(id)).toBeUndefined();
    // Concurrent refreshes coalesce: every caller waits for a build that began after it asked.
    await Promise.all([own.refresh(), own.refresh(), own.refresh()]);
    expect(own.generation).toBeGreaterThanOrEqual(1);
    expect(own.generation).toBeLessThanOrEqual(2);
    expect(changes).toBe(own.generation);
    expect(own.meeting(id)?.language).toBe('pt-BR');
    expect(own.meetingOfId((await pinsOf(id)).DialInMeetingId)).toBe(id);
  });
});
