import type { DialOutResult, LiveMeetings } from '../../../signaling/calls/meeting-events.ts';
import type { MeetingTable } from '../../store/store.ts';
import type { ChimeApiDeps } from '../chime/deps.ts';
import { normalizeE164 } from '../chime/phone-numbers.ts';
import type { ChimeScope } from '../chime/schema.ts';
import { ChimeError, badRequest, notFound } from '../errors.ts';
import { CreateMeetingDialOut, MeetingLabel } from './schema.ts';

/**
 * Dial-out ("call me"): the legacy chime API's CreateMeetingDialOut (`POST /chime/meetings/{id}/dial-outs`,
 * reference docs/reference/chime-sdk-meetings-api.md §6) and Carillon's own route (carillon-routes.ts)
 * hand the meeting call layer (LiveMeetings.dialOut) a number to call through the carriers; the
 * answered leg joins the meeting.
 */

/** The live meeting layer, or ServiceUnavailableException when this server has none wired. */
export function liveMeetingsOf(deps: Pick<ChimeApiDeps, 'liveMeetings'>): LiveMeetings {
  if (deps.liveMeetings === undefined) throw new ChimeError('ServiceUnavailableException', 'Live meeting control is not available on this server (no meeting call layer)');
  return deps.liveMeetings;
}

/** The Chime error a refused dial-out is answered with (reference §6). */
export function dialOutError(r: Extract<DialOutResult, { ok: false }>, meetingId: string): ChimeError {
  switch (r.reason) {
    case 'no-such-meeting':
      return notFound(`Meeting ${meetingId} not found: ${r.message}`);
    case 'bad-number':
      return badRequest(`ToPhoneNumber cannot be called: ${r.message}`);
    case 'no-route':
      return badRequest(`No carrier routes the number: ${r.message}`);
    case 'meeting-full':
      return new ChimeError('ResourceLimitExceededException', `Meeting ${meetingId} is full: ${r.message}`);
    case 'locked':
      return new ChimeError('ForbiddenException', `Meeting ${meetingId} is locked: ${r.message}`);
    default: {
      const never: never = r.reason;
      return new ChimeError('ServiceFailureException', `Dial-out failed (${String(never)})`);
    }
  }
}

/**
 * Whether a caller ID is one of this Carillon's own numbers, as Chime "ensures that the From number
 * belongs to the customer": an ordered number (Unassigned or Assigned, not the imported inventory
 * nor one being deleted) or a number assigned to meeting dial-in.
 */
export async function ownsNumber(deps: Pick<ChimeApiDeps, 'store'>, e164: string): Promise<boolean> {
  const { db } = deps.store;
  const ordered = await db.selectFrom('phone_numbers').select('e164').where('e164', '=', e164).where('status', 'in', ['Unassigned', 'Assigned']).executeTakeFirst();
  if (ordered !== undefined) return true;
  return (await db.selectFrom('meeting_dial_in_numbers').select('e164').where('e164', '=', e164).executeTakeFirst()) !== undefined;
}

/** Checks the caller ID and places the dial-out; answers the TransactionId. */
export async function placeDialOut(deps: ChimeApiDeps, meetingId: string, to: string, from: string | undefined): Promise<string> {
  const toNumber = normalizeE164(to);
  const fromNumber = from === undefined ? undefined : normalizeE164(from);
  if (fromNumber !== undefined && !(await ownsNumber(deps, fromNumber))) throw badRequest(`FromPhoneNumber ${fromNumber} is not a number of this account (order it, or assign it to meeting dial-in)`);
  const result = liveMeetingsOf(deps).dialOut(meetingId, toNumber, fromNumber);
  if (!result.ok) throw dialOutError(result, meetingId);
  return result.transactionId;
}

/** CreateMeetingDialOut of the legacy API (registered under /chime with the accounts and users). */
export function registerLegacyDialOutRoute(app: ChimeScope, deps: ChimeApiDeps): void {
  const { db } = deps.store;
  app.post('/meetings/:meetingId/dial-outs', { config: { action: 'chime:CreateMeetingDialOut' }, schema: { params: MeetingLabel, body: CreateMeetingDialOut } }, async (req, reply) => {
    const id = req.params.meetingId.toLowerCase();
    const m: Pick<MeetingTable, 'id'> | undefined = await db.selectFrom('meetings').select('id').where('id', '=', id).executeTakeFirst();
    if (m === undefined) throw notFound(`Meeting ${req.params.meetingId} not found`);
    // Chime requires the join token of one of the meeting's attendees: the dialed party joins as that attendee.
    const attendee = await db.selectFrom('attendees').select('id').where('meeting_id', '=', m.id).where('join_token', '=', req.body.JoinToken).executeTakeFirst();
    if (attendee === undefined) throw badRequest(`JoinToken is not the join token of an attendee of meeting ${m.id}`);
    const transactionId = await placeDialOut(deps, m.id, req.body.ToPhoneNumber, req.body.FromPhoneNumber);
    return reply.code(201).send({ TransactionId: transactionId });
  });
}
