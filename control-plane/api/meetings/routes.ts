import crypto from 'node:crypto';
import Type from 'typebox';
import type { AttendeeTable, MeetingTable, StoreDb } from '../../store/store.ts';
import { ChimeError, badRequest, notFound } from '../errors.ts';
import type { ChimeApiDeps } from '../chime/deps.ts';
import { decodeToken, listPage } from '../chime/paging.ts';
import { Paging } from '../chime/schema.ts';
import type { ChimeScope } from '../chime/schema.ts';
import { PinsExhausted, allocatePins, isUniqueViolation } from './ids.ts';
import {
  AttendeeLabels,
  BatchCreateAttendee,
  BatchUpdateExcept,
  CreateAttendee,
  CreateMeeting,
  CreateMeetingWithAttendees,
  DEFAULT_MAX_ATTENDEES,
  DEFAULT_MAX_PARTICIPANTS,
  MEDIA_REGIONS,
  MeetingLabel,
  UUID_PATTERN,
  UpdateCapabilities,
} from './schema.ts';
import type { AttendeeItemT, CapabilitiesT, CreateMeetingT, MeetingFeaturesT } from './schema.ts';

/**
 * The Chime SDK Meetings API (restJson1, signing name `chime`; reference
 * docs/reference/chime-sdk-meetings-api.md): meetings and attendees in the store, answered in the
 * SDK's shapes (Carillon's own routes: carillon-routes.ts).
 */

/** Meeting ARNs name the control region, as Chime's do (meetings are not regional resources there). */
const CONTROL_REGION = 'us-east-1';
const JOIN_TOKEN_LENGTH = 48;
const DEFAULT_CAPABILITIES: CapabilitiesT = { Audio: 'SendReceive', Video: 'SendReceive', Content: 'SendReceive' };
/** Carillon's dial-in settings of a new meeting (migration 0008's defaults; PATCH …/settings changes them). */
const DEFAULT_SETTINGS = { moderated: 0, moderator_passcode: null, max_participants: DEFAULT_MAX_PARTICIPANTS, language: null, join_tones: 1 } satisfies Partial<MeetingTable>;
const MEETING_ARN = new RegExp(`^arn:aws:chime:[a-z0-9-]+:\\d{12}:meeting/(${UUID_PATTERN.slice(1, -1)})$`);

export function meetingArn(deps: Pick<ChimeApiDeps, 'accountId'>, id: string): string {
  return `arn:aws:chime:${CONTROL_REGION}:${deps.accountId}:meeting/${id}`;
}

/** The meeting ID a meeting ARN names, or undefined for any other ARN. */
export function meetingIdOfArn(arn: string): string | undefined {
  return MEETING_ARN.exec(arn)?.[1]?.toLowerCase();
}

/**
 * Where a client would send media: Carillon's own advertised host. Placeholders until the WebRTC
 * edge exists (reference §4): the shapes are Chime's, nothing listens on them yet.
 */
function mediaPlacement(host: string, id: string): Record<string, string> {
  return {
    AudioHostUrl: `${host}:3478`,
    AudioFallbackUrl: `wss://${host}:443/calls/${id}`,
    SignalingUrl: `wss://${host}/control/${id}`,
    TurnControlUrl: `https://${host}/v2/turn_sessions`,
    ScreenDataUrl: `wss://${host}/v2/screen/${id}`,
    ScreenViewingUrl: `wss://${host}/ws/connect?passcode=null&viewer_uuid=null&X-BitHub-Call-Id=${id}`,
    ScreenSharingUrl: `wss://${host}/v2/screen/${id}`,
    EventIngestionUrl: `https://${host}/v1/client-events`,
  };
}

function featuresOf(m: MeetingTable): MeetingFeaturesT | undefined {
  return m.features === null ? undefined : (JSON.parse(m.features) as MeetingFeaturesT);
}

export function meetingWire(deps: ChimeApiDeps, m: MeetingTable): Record<string, unknown> {
  const tenants = JSON.parse(m.tenant_ids) as string[];
  const features = featuresOf(m);
  return {
    MeetingId: m.id,
    ...(m.meeting_host_id === null ? {} : { MeetingHostId: m.meeting_host_id }),
    ExternalMeetingId: m.external_meeting_id,
    MediaRegion: m.media_region,
    MediaPlacement: mediaPlacement(deps.domain, m.id),
    ...(features === undefined ? {} : { MeetingFeatures: features }),
    ...(m.primary_meeting_id === null ? {} : { PrimaryMeetingId: m.primary_meeting_id }),
    ...(tenants.length === 0 ? {} : { TenantIds: tenants }),
    MeetingArn: meetingArn(deps, m.id),
  };
}

function attendeeWire(a: AttendeeTable): Record<string, unknown> {
  return { ExternalUserId: a.external_user_id, AttendeeId: a.id, JoinToken: a.join_token, Capabilities: JSON.parse(a.capabilities) as CapabilitiesT };
}

const receives = (c: CapabilitiesT[keyof CapabilitiesT]): boolean => c === 'SendReceive' || c === 'Receive';

/** Chime's capability rules (reference §2.5): content needs video receive; a feature set to None allows no video/content. */
export function checkCapabilities(c: CapabilitiesT, features: MeetingFeaturesT | undefined): void {
  if (receives(c.Content) && !receives(c.Video)) throw badRequest('Capabilities.Content SendReceive or Receive needs Capabilities.Video SendReceive or Receive');
  if (features?.Video?.MaxResolution === 'None' && c.Video !== 'None') throw badRequest('The meeting has no video (MeetingFeatures.Video.MaxResolution None): Capabilities.Video must be None');
  if (features?.Content?.MaxResolution === 'None' && c.Content !== 'None') throw badRequest('The meeting has no content sharing (MeetingFeatures.Content.MaxResolution None): Capabilities.Content must be None');
}

/** The capabilities an attendee gets: as asked, or every one the meeting's features allow. */
function capabilitiesFor(asked: CapabilitiesT | undefined, features: MeetingFeaturesT | undefined): CapabilitiesT {
  if (asked !== undefined) {
    checkCapabilities(asked, features);
    return asked;
  }
  return {
    Audio: DEFAULT_CAPABILITIES.Audio,
    Video: features?.Video?.MaxResolution === 'None' ? 'None' : DEFAULT_CAPABILITIES.Video,
    Content: features?.Content?.MaxResolution === 'None' ? 'None' : DEFAULT_CAPABILITIES.Content,
  };
}

export function registerMeetingRoutes(app: ChimeScope, deps: ChimeApiDeps): void {
  const { db } = deps.store;
  const now = (): string => new Date(deps.clock.nowMs()).toISOString();

  const load = async (id: string): Promise<MeetingTable> => {
    const m = await db.selectFrom('meetings').selectAll().where('id', '=', id.toLowerCase()).executeTakeFirst();
    if (m === undefined) throw notFound(`Meeting ${id} not found`);
    return m;
  };

  const createMeeting = async (body: CreateMeetingT): Promise<{ meeting: MeetingTable; created: boolean }> => {
    const token = body.ClientRequestToken ?? null;
    if (token !== null) {
      const same = await db.selectFrom('meetings').selectAll().where('client_request_token', '=', token).executeTakeFirst();
      if (same !== undefined) return { meeting: same, created: false };
    }
    if (!MEDIA_REGIONS.includes(body.MediaRegion)) throw badRequest(`MediaRegion ${body.MediaRegion} is not a supported region`);
    if (body.PrimaryMeetingId !== undefined) {
      if (!new RegExp(UUID_PATTERN).test(body.PrimaryMeetingId)) throw badRequest('PrimaryMeetingId is not a meeting ID');
      await load(body.PrimaryMeetingId);
    }
    const base = {
      id: crypto.randomUUID(),
      external_meeting_id: body.ExternalMeetingId,
      media_region: body.MediaRegion,
      meeting_host_id: body.MeetingHostId ?? null,
      client_request_token: token,
      features: body.MeetingFeatures === undefined ? null : JSON.stringify(body.MeetingFeatures),
      primary_meeting_id: body.PrimaryMeetingId?.toLowerCase() ?? null,
      tenant_ids: JSON.stringify(body.TenantIds ?? []),
      created_at: now(),
    };
    try {
      const meeting = await allocatePins<{ meeting: MeetingTable; created: boolean }>(
        deps.random,
        async (pin) => (await db.selectFrom('users').select('id').where('pin', '=', pin).executeTakeFirst()) !== undefined,
        async (meetingPin, hostPin) => {
          const row: MeetingTable = { ...base, ...DEFAULT_SETTINGS, meeting_pin: meetingPin, host_pin: hostPin };
          try {
            await db.transaction().execute(async (tx) => {
              await tx.insertInto('meetings').values(row).execute();
              for (const t of body.Tags ?? []) {
                await tx.deleteFrom('tags').where('resource_arn', '=', meetingArn(deps, row.id)).where('key', '=', t.Key).execute();
                await tx.insertInto('tags').values({ resource_arn: meetingArn(deps, row.id), key: t.Key, value: t.Value }).execute();
              }
            });
          } catch (err) {
            // A concurrent request with the same token won the race: answer its meeting (not a PIN collision).
            if (token !== null && isUniqueViolation(err)) {
              const same = await db.selectFrom('meetings').selectAll().where('client_request_token', '=', token).executeTakeFirst();
              if (same !== undefined) return { meeting: same, created: false };
            }
            throw err;
          }
          return { meeting: row, created: true };
        },
      );
      return meeting;
    } catch (err) {
      if (err instanceof PinsExhausted) throw new ChimeError('ServiceFailureException', 'No free meeting ID could be allocated; retry');
      throw err;
    }
  };

  /** Creates (or, for an ExternalUserId already there, returns) each attendee; refuses the lot if the meeting would overflow. */
  const createAttendees = async (m: MeetingTable, items: readonly AttendeeItemT[]): Promise<AttendeeTable[]> => {
    const features = featuresOf(m);
    const caps = items.map((it) => capabilitiesFor(it.Capabilities, features));
    const limit = features?.Attendee?.MaxCount ?? DEFAULT_MAX_ATTENDEES;
    const run = (): Promise<AttendeeTable[]> => db.transaction().execute(async (tx: StoreDb) => {
      const out: AttendeeTable[] = [];
      for (const [i, it] of items.entries()) {
        const existing = await tx.selectFrom('attendees').selectAll().where('meeting_id', '=', m.id).where('external_user_id', '=', it.ExternalUserId).executeTakeFirst();
        if (existing !== undefined) {
          out.push(existing);
          continue;
        }
        const row: AttendeeTable = {
          meeting_id: m.id,
          id: crypto.randomUUID(),
          external_user_id: it.ExternalUserId,
          join_token: deps.random.token(JOIN_TOKEN_LENGTH),
          capabilities: JSON.stringify(caps[i] ?? DEFAULT_CAPABILITIES),
          created_at: now(),
        };
        await tx.insertInto('attendees').values(row).execute();
        out.push(row);
      }
      const count = await tx.selectFrom('attendees').select((eb) => eb.fn.countAll<string>().as('n')).where('meeting_id', '=', m.id).executeTakeFirst();
      if (Number(count?.n ?? 0) > limit) throw new ChimeError('LimitExceededException', `A meeting holds at most ${limit} attendees`);
      return out;
    });
    try {
      return await run();
    } catch (err) {
      // A concurrent request created the same ExternalUserId first: the second run answers that attendee.
      if (isUniqueViolation(err)) return run();
      throw err;
    }
  };

  const loadAttendee = async (meetingId: string, attendeeId: string): Promise<AttendeeTable> => {
    const m = await load(meetingId);
    const a = await db.selectFrom('attendees').selectAll().where('meeting_id', '=', m.id).where('id', '=', attendeeId.toLowerCase()).executeTakeFirst();
    if (a === undefined) throw notFound(`Attendee ${attendeeId} not found in meeting ${meetingId}`);
    return a;
  };

  app.post('/meetings', { config: { action: 'chime:CreateMeeting' }, schema: { body: CreateMeeting } }, async (req) => {
    const { meeting } = await createMeeting(req.body);
    return { Meeting: meetingWire(deps, meeting) };
  });

  app.post('/meetings', { constraints: { operation: 'create-attendees' }, config: { action: 'chime:CreateMeetingWithAttendees' }, schema: { body: CreateMeetingWithAttendees } }, async (req) => {
    const { Attendees: items, ...meetingBody } = req.body;
    // Checked before the meeting exists: a refused attendee list creates nothing.
    const features = meetingBody.MeetingFeatures;
    for (const it of items) if (it.Capabilities !== undefined) checkCapabilities(it.Capabilities, features);
    const { meeting } = await createMeeting(meetingBody);
    const attendees = await createAttendees(meeting, items);
    return { Meeting: meetingWire(deps, meeting), Attendees: attendees.map(attendeeWire), Errors: [] };
  });

  app.get('/meetings/:meetingId', { config: { action: 'chime:GetMeeting' }, schema: { params: MeetingLabel } }, async (req) => ({ Meeting: meetingWire(deps, await load(req.params.meetingId)) }));

  app.delete('/meetings/:meetingId', { config: { action: 'chime:DeleteMeeting' }, schema: { params: MeetingLabel } }, async (req, reply) => {
    const m = await load(req.params.meetingId);
    await db.transaction().execute(async (tx) => {
      await tx.deleteFrom('attendees').where('meeting_id', '=', m.id).execute();
      await tx.deleteFrom('tags').where('resource_arn', '=', meetingArn(deps, m.id)).execute();
      await tx.deleteFrom('meetings').where('id', '=', m.id).execute();
    });
    // A meeting in progress ends with it (every leg gets BYE); one nobody is in answers no-such-meeting, which is fine.
    deps.liveMeetings?.end(m.id, 'deleted');
    return reply.code(204).send();
  });

  app.post('/meetings/:meetingId/attendees', { config: { action: 'chime:CreateAttendee' }, schema: { params: MeetingLabel, body: CreateAttendee } }, async (req) => {
    const m = await load(req.params.meetingId);
    const [a] = await createAttendees(m, [req.body]);
    if (a === undefined) throw new ChimeError('ServiceFailureException', 'The attendee was not created');
    return { Attendee: attendeeWire(a) };
  });

  app.post('/meetings/:meetingId/attendees', { constraints: { operation: 'batch-create' }, config: { action: 'chime:BatchCreateAttendee' }, schema: { params: MeetingLabel, body: BatchCreateAttendee } }, async (req) => {
    const m = await load(req.params.meetingId);
    const attendees = await createAttendees(m, req.body.Attendees);
    return { Attendees: attendees.map(attendeeWire), Errors: [] };
  });

  app.get('/meetings/:meetingId/attendees/:attendeeId', { config: { action: 'chime:GetAttendee' }, schema: { params: AttendeeLabels } }, async (req) => ({
    Attendee: attendeeWire(await loadAttendee(req.params.meetingId, req.params.attendeeId)),
  }));

  app.get('/meetings/:meetingId/attendees', { config: { action: 'chime:ListAttendees' }, schema: { params: MeetingLabel, querystring: Type.Object(Paging(100)) } }, async (req) => {
    const m = await load(req.params.meetingId);
    const limit = req.query['max-results'] ?? 100;
    const after = decodeToken(req.query['next-token']);
    let query = db.selectFrom('attendees').selectAll().where('meeting_id', '=', m.id).orderBy('id').limit(limit + 1);
    if (after !== undefined) query = query.where('id', '>', after);
    return listPage(await query.execute(), limit, 'Attendees', attendeeWire, (a) => a.id);
  });

  app.delete('/meetings/:meetingId/attendees/:attendeeId', { config: { action: 'chime:DeleteAttendee' }, schema: { params: AttendeeLabels } }, async (req, reply) => {
    const a = await loadAttendee(req.params.meetingId, req.params.attendeeId);
    await db.deleteFrom('attendees').where('meeting_id', '=', a.meeting_id).where('id', '=', a.id).execute();
    return reply.code(204).send();
  });

  app.put('/meetings/:meetingId/attendees/:attendeeId/capabilities', { config: { action: 'chime:UpdateAttendeeCapabilities' }, schema: { params: AttendeeLabels, body: UpdateCapabilities } }, async (req) => {
    const a = await loadAttendee(req.params.meetingId, req.params.attendeeId);
    const m = await load(a.meeting_id);
    checkCapabilities(req.body.Capabilities, featuresOf(m));
    const next: AttendeeTable = { ...a, capabilities: JSON.stringify(req.body.Capabilities) };
    await db.updateTable('attendees').set({ capabilities: next.capabilities }).where('meeting_id', '=', a.meeting_id).where('id', '=', a.id).execute();
    return { Attendee: attendeeWire(next) };
  });

  app.put(
    '/meetings/:meetingId/attendees/capabilities',
    { constraints: { operation: 'batch-update-except' }, config: { action: 'chime:BatchUpdateAttendeeCapabilitiesExcept' }, schema: { params: MeetingLabel, body: BatchUpdateExcept } },
    async (req, reply) => {
      const m = await load(req.params.meetingId);
      checkCapabilities(req.body.Capabilities, featuresOf(m));
      const excluded = req.body.ExcludedAttendeeIds.map((x) => x.AttendeeId.toLowerCase());
      await db.updateTable('attendees').set({ capabilities: JSON.stringify(req.body.Capabilities) }).where('meeting_id', '=', m.id).where('id', 'not in', excluded).execute();
      return reply.code(200).send();
    },
  );
}

/** For the shared tag routes: the stored ARN of an existing meeting, or ResourceNotFoundException. */
export async function meetingTagResource(deps: ChimeApiDeps, arn: string): Promise<string | undefined> {
  const id = meetingIdOfArn(arn);
  if (id === undefined) return undefined;
  const m = await deps.store.db.selectFrom('meetings').select('id').where('id', '=', id).executeTakeFirst();
  if (m === undefined) throw new ChimeError('ResourceNotFoundException', `No resource ${arn}`);
  return meetingArn(deps, m.id);
}
