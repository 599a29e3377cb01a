import type { LiveActionResult, LiveMeeting } from '../../../signaling/calls/meeting-events.ts';
import { personalRoomId, userOfPersonalRoom } from '../../meeting-directory.ts';
import type { AccountTable, MeetingTable, UserTable } from '../../store/store.ts';
import type { ChimeApiDeps } from '../chime/deps.ts';
import { normalizeE164 } from '../chime/phone-numbers.ts';
import { Labels } from '../chime/schema.ts';
import type { ChimeScope } from '../chime/schema.ts';
import { ChimeError, badRequest, notFound } from '../errors.ts';
import { liveMeetingsOf, placeDialOut } from './dial-out.ts';
import { meetingWire } from './routes.ts';
import {
  AccountMeetingSettings,
  CarillonDialOut,
  CarillonMeetingLabel,
  DEFAULT_MAX_PARTICIPANTS,
  DEFAULT_PROMPT_LANGUAGE,
  DialInNumber,
  DialInNumberLabel,
  LockMeeting,
  MeetingSettings,
  MuteAllOthers,
  MuteParticipant,
  ParticipantLabels,
} from './schema.ts';

/**
 * Carillon's meeting routes (reference docs/reference/chime-sdk-meetings-api.md §5–6), SigV4-signed
 * and audited like the rest, actions `carillon:*`: a meeting's dial-in IDs, settings and live
 * state; moderator actions on a meeting in progress; dial-out; the numbers assigned to meeting
 * dial-in; an account's default prompt language. A meeting is its SDK MeetingId or a user's
 * personal meeting room `personal:<UserId>`.
 */

type Resolved = { readonly kind: 'meeting'; readonly meeting: MeetingTable } | { readonly kind: 'personal'; readonly user: UserTable; readonly account: AccountTable };

/** A stored associations column (JSON list of { Name, Value }); anything else reads as none. */
function associationsOf(text: string): readonly { readonly Name?: unknown }[] {
  try {
    const v: unknown = JSON.parse(text);
    return Array.isArray(v) ? v.filter((x): x is { Name?: unknown } => typeof x === 'object' && x !== null) : [];
  } catch {
    return [];
  }
}

function liveWire(l: LiveMeeting): Record<string, unknown> {
  return {
    Started: l.started,
    Locked: l.locked,
    Recording: l.recording,
    Participants: l.participants.map((p) => ({
      ParticipantId: p.participantId,
      Role: p.role,
      JoinPath: p.joinPath,
      Protocol: p.protocol,
      Transport: p.transport,
      CallerNumber: p.callerNumber,
      Codec: p.codec,
      State: p.state,
      Muted: p.muted,
      Talking: p.talking,
      Mos: p.mos,
      Video: p.video === null ? null : { Codec: p.video.codec, Sending: p.video.sending },
      Presenting: p.presenting,
      JoinedTimestamp: new Date(p.joinedAtMs).toISOString(),
    })),
  };
}

export function registerCarillonMeetingRoutes(app: ChimeScope, deps: ChimeApiDeps): void {
  const { db } = deps.store;
  const now = (): string => new Date(deps.clock.nowMs()).toISOString();
  const defaultLanguage = (): string => deps.directory?.defaultLanguage ?? DEFAULT_PROMPT_LANGUAGE;

  const resolve = async (raw: string): Promise<Resolved> => {
    const id = raw.toLowerCase();
    const userId = userOfPersonalRoom(id);
    if (userId === undefined) {
      const meeting = await db.selectFrom('meetings').selectAll().where('id', '=', id).executeTakeFirst();
      if (meeting === undefined) throw notFound(`Meeting ${raw} not found`);
      return { kind: 'meeting', meeting };
    }
    const user = await db.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirst();
    const account = user === undefined ? undefined : await db.selectFrom('accounts').selectAll().where('id', '=', user.account_id).where('deleted_at', 'is', null).executeTakeFirst();
    if (user === undefined || account === undefined || user.registration_status === 'Suspended') throw notFound(`Personal meeting room ${raw} not found (no active user ${userId})`);
    return { kind: 'personal', user, account };
  };
  const idOf = (r: Resolved): string => (r.kind === 'meeting' ? r.meeting.id : personalRoomId(r.user.id));

  const settingsWire = (r: Resolved): Record<string, unknown> => {
    if (r.kind === 'personal') {
      const language = r.account.meeting_language;
      return { Moderated: false, ModeratorPasscode: null, MaxParticipants: DEFAULT_MAX_PARTICIPANTS, Language: null, PromptLanguage: language ?? defaultLanguage(), JoinTones: true };
    }
    const m = r.meeting;
    return { Moderated: m.moderated === 1, ModeratorPasscode: m.moderator_passcode, MaxParticipants: m.max_participants, Language: m.language, PromptLanguage: m.language ?? defaultLanguage(), JoinTones: m.join_tones === 1 };
  };

  /** A moderator action's result: done, or NotFoundException naming what was not there. */
  const acted = (r: LiveActionResult, meetingId: string, participantId?: string): void => {
    if (r === 'no-such-meeting') throw notFound(`Meeting ${meetingId} is not in progress`);
    if (r === 'no-such-participant') throw notFound(`Participant ${participantId ?? ''} is not in meeting ${meetingId}`);
  };

  app.get('/carillon/v1/meetings/:meetingId', { config: { action: 'carillon:GetMeeting' }, schema: { params: CarillonMeetingLabel } }, async (req) => {
    const r = await resolve(req.params.meetingId);
    const id = idOf(r);
    const live = deps.liveMeetings?.live(id);
    const base =
      r.kind === 'meeting'
        ? { ...meetingWire(deps, r.meeting), DialInMeetingId: r.meeting.meeting_pin, HostId: r.meeting.host_pin }
        : { MeetingId: id, PersonalMeetingRoom: true, DialInMeetingId: r.user.pin, OrganizerUserId: r.user.id, OrganizerEmail: r.user.email, AccountId: r.account.id };
    return { Meeting: { ...base, Settings: settingsWire(r), ...(live === undefined ? {} : { Live: liveWire(live) }) } };
  });

  // PATCH: only the members sent change (null clears the passcode or the language).
  app.patch('/carillon/v1/meetings/:meetingId/settings', { config: { action: 'carillon:UpdateMeetingSettings' }, schema: { params: CarillonMeetingLabel, body: MeetingSettings } }, async (req) => {
    const r = await resolve(req.params.meetingId);
    if (r.kind === 'personal') throw badRequest('A personal meeting room has fixed settings (its language is its account\'s: PUT /carillon/v1/accounts/{AccountId}/meeting-settings)');
    const b = req.body;
    const set = {
      ...(b.Moderated === undefined ? {} : { moderated: b.Moderated ? 1 : 0 }),
      ...(b.ModeratorPasscode === undefined ? {} : { moderator_passcode: b.ModeratorPasscode }),
      ...(b.MaxParticipants === undefined ? {} : { max_participants: b.MaxParticipants }),
      ...(b.Language === undefined ? {} : { language: b.Language }),
      ...(b.JoinTones === undefined ? {} : { join_tones: b.JoinTones ? 1 : 0 }),
    };
    if (Object.keys(set).length > 0) await db.updateTable('meetings').set(set).where('id', '=', r.meeting.id).execute();
    return { Settings: settingsWire({ kind: 'meeting', meeting: { ...r.meeting, ...set } }) };
  });

  const meetingUrl = '/carillon/v1/meetings/:meetingId';
  app.post(`${meetingUrl}/participants/:participantId/mute`, { config: { action: 'carillon:MuteMeetingParticipant' }, schema: { params: ParticipantLabels, body: MuteParticipant } }, async (req, reply) => {
    const id = idOf(await resolve(req.params.meetingId));
    acted(liveMeetingsOf(deps).mute(id, req.params.participantId, req.body.Muted), id, req.params.participantId);
    return reply.code(204).send();
  });

  app.post(`${meetingUrl}/mute-all-others`, { config: { action: 'carillon:MuteAllOtherParticipants' }, schema: { params: CarillonMeetingLabel, body: MuteAllOthers } }, async (req, reply) => {
    const id = idOf(await resolve(req.params.meetingId));
    const except = req.body.ExceptParticipantId;
    acted(liveMeetingsOf(deps).muteAllOthers(id, except), id, except);
    return reply.code(204).send();
  });

  app.delete(`${meetingUrl}/participants/:participantId`, { config: { action: 'carillon:RemoveMeetingParticipant' }, schema: { params: ParticipantLabels } }, async (req, reply) => {
    const id = idOf(await resolve(req.params.meetingId));
    acted(liveMeetingsOf(deps).remove(id, req.params.participantId), id, req.params.participantId);
    return reply.code(204).send();
  });

  app.put(`${meetingUrl}/lock`, { config: { action: 'carillon:LockMeeting' }, schema: { params: CarillonMeetingLabel, body: LockMeeting } }, async (req, reply) => {
    const id = idOf(await resolve(req.params.meetingId));
    acted(liveMeetingsOf(deps).lock(id, req.body.Locked), id);
    return reply.code(204).send();
  });

  app.post(`${meetingUrl}/stop-presenting`, { config: { action: 'carillon:StopMeetingPresentation' }, schema: { params: CarillonMeetingLabel } }, async (req, reply) => {
    const id = idOf(await resolve(req.params.meetingId));
    acted(liveMeetingsOf(deps).stopPresenting(id), id);
    return reply.code(204).send();
  });

  app.post(`${meetingUrl}/end`, { config: { action: 'carillon:EndMeeting' }, schema: { params: CarillonMeetingLabel } }, async (req, reply) => {
    const id = idOf(await resolve(req.params.meetingId));
    acted(liveMeetingsOf(deps).end(id, 'ended-by-api'), id);
    return reply.code(204).send();
  });

  app.post(`${meetingUrl}/dial-outs`, { config: { action: 'carillon:CreateMeetingDialOut' }, schema: { params: CarillonMeetingLabel, body: CarillonDialOut } }, async (req, reply) => {
    const id = idOf(await resolve(req.params.meetingId));
    const transactionId = await placeDialOut(deps, id, req.body.ToPhoneNumber, req.body.FromPhoneNumber);
    return reply.code(201).send({ TransactionId: transactionId });
  });

  // Numbers assigned to meeting dial-in: a call to one from a carrier reaches the meeting IVR.
  const numbersUrl = '/carillon/v1/meeting-dial-in-numbers';
  const numberWire = (n: { e164: string; created_at: string }): Record<string, unknown> => ({ E164PhoneNumber: n.e164, CreatedTimestamp: n.created_at });
  app.get(numbersUrl, { config: { action: 'carillon:ListMeetingDialInNumbers' } }, async () => ({
    PhoneNumbers: (await db.selectFrom('meeting_dial_in_numbers').selectAll().orderBy('e164').execute()).map(numberWire),
  }));

  app.post(numbersUrl, { config: { action: 'carillon:AddMeetingDialInNumber' }, schema: { body: DialInNumber } }, async (req, reply) => {
    const e164 = normalizeE164(req.body.E164PhoneNumber);
    const existing = await db.selectFrom('meeting_dial_in_numbers').selectAll().where('e164', '=', e164).executeTakeFirst();
    if (existing !== undefined) return reply.code(200).send({ PhoneNumber: numberWire(existing) });
    // A number routed to a voice connector (or group) is the trunk's: one number, one destination.
    const routed = await db.selectFrom('phone_numbers').select('associations').where('e164', '=', e164).where('status', '=', 'Assigned').executeTakeFirst();
    if (routed !== undefined && associationsOf(routed.associations).some((a) => a.Name === 'VoiceConnectorId' || a.Name === 'VoiceConnectorGroupId')) throw new ChimeError('ConflictException', `${e164} is assigned to a voice connector; disassociate it first`);
    const row = { e164, created_at: now() };
    try {
      await db.insertInto('meeting_dial_in_numbers').values(row).execute();
    } catch (err) {
      // A concurrent add of the same number won: answer it.
      const same = await db.selectFrom('meeting_dial_in_numbers').selectAll().where('e164', '=', e164).executeTakeFirst();
      if (same === undefined) throw err;
      return reply.code(200).send({ PhoneNumber: numberWire(same) });
    }
    return reply.code(201).send({ PhoneNumber: numberWire(row) });
  });

  app.delete(`${numbersUrl}/:e164`, { config: { action: 'carillon:RemoveMeetingDialInNumber' }, schema: { params: DialInNumberLabel } }, async (req, reply) => {
    const e164 = normalizeE164(req.params.e164);
    const r = await db.deleteFrom('meeting_dial_in_numbers').where('e164', '=', e164).executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) throw notFound(`${e164} is not a meeting dial-in number`);
    return reply.code(204).send();
  });

  // An account's default prompt language: its users' personal rooms speak it.
  const accountUrl = '/carillon/v1/accounts/:accountId/meeting-settings';
  const account = async (id: string): Promise<AccountTable> => {
    const a = await db.selectFrom('accounts').selectAll().where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst();
    if (a === undefined) throw notFound(`Account ${id} not found`);
    return a;
  };
  const accountSettingsWire = (language: string | null): Record<string, unknown> => ({ MeetingSettings: { Language: language, PromptLanguage: language ?? defaultLanguage() } });
  app.get(accountUrl, { config: { action: 'carillon:GetAccountMeetingSettings' }, schema: { params: Labels('accountId') } }, async (req) => accountSettingsWire((await account(req.params.accountId)).meeting_language));
  app.put(accountUrl, { config: { action: 'carillon:UpdateAccountMeetingSettings' }, schema: { params: Labels('accountId'), body: AccountMeetingSettings } }, async (req) => {
    const a = await account(req.params.accountId);
    await db.updateTable('accounts').set({ meeting_language: req.body.Language }).where('id', '=', a.id).execute();
    return accountSettingsWire(req.body.Language);
  });
}
