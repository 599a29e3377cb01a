import type { CallRouter, DialedTarget, MeetingTarget, RouteDecision, RouteRequest } from './route.ts';

/**
 * Meeting dial-in (SPEC §2–3: how room systems and phones reached Chime meetings), a pure decision
 * ahead of voice connector routing: `<10-digit meeting ID>@<meeting domain>` joins that meeting,
 * `<13-digit host ID>@…` joins it as its host, and `u@<domain>`, the bare domain, an ID no meeting
 * has, or a phone number assigned to meeting dial-in (called from a carrier) reach the IVR, which
 * asks for the ID. Everything else is the next router's.
 */

/** A meeting's dial-in settings, as the directory knows them (Carillon's additions to the SDK meeting). */
export interface MeetingInfo {
  /** The SDK MeetingId (UUID), or `personal:<userId>` for a user's personal meeting room. */
  readonly meetingId: string;
  readonly externalMeetingId: string | undefined;
  /** The 10-digit meeting ID (a personal room: the user's personal PIN). */
  readonly meetingPin: string;
  /** The 13-digit host ID (a personal room has none). */
  readonly hostPin: string | undefined;
  /** Participants wait until a host or moderator starts the meeting. */
  readonly moderated: boolean;
  /** 4–8 digits entered followed by `#` make a participant moderator (undefined: none set). */
  readonly moderatorPasscode: string | undefined;
  /** Most participants at once (default 250). */
  readonly maxParticipants: number;
  /** Language tag of the prompts (en-US, pt-BR; others fall back to en-US). */
  readonly language: string;
  /** Join and leave tones are played. */
  readonly joinTones: boolean;
  readonly organizerUserId: string | undefined;
  readonly organizerEmail: string | undefined;
  readonly accountId: string | undefined;
}

/** The meetings dial-in can reach, looked up without waiting (an in-memory index of the store). */
export interface MeetingDirectory {
  /** A meeting by its id (MeetingInfo.meetingId). */
  meeting(meetingId: string): MeetingInfo | undefined;
  /** The meeting whose 10-digit meeting ID (or a user's personal meeting PIN) this is. */
  meetingOfId(meetingId: string): string | undefined;
  /** The meeting whose 13-digit host ID this is. */
  meetingOfHostId(hostId: string): string | undefined;
  /** Whether an E.164 number is assigned to meeting dial-in. */
  isDialInNumber(e164: string): boolean;
}

export interface MeetingDialInOptions {
  /** The domains meetings are dialed at (the server's domain, and a separate meeting domain if configured), lower-case. */
  readonly domains: readonly string[];
  readonly directory: MeetingDirectory;
  /** Whether a source address is one of the configured carriers (a dial-in number is called through one). */
  readonly isCarrier: (address: string) => boolean;
}

const MEETING_ID = /^\d{10}$/;
const HOST_ID = /^\d{13}$/;

/** Where a dial-in to a meeting domain goes, or undefined when the request is not one. */
export function meetingTargetOf(dialed: DialedTarget, o: MeetingDialInOptions): MeetingTarget | undefined {
  if (!o.domains.includes(dialed.host)) return undefined;
  const user = dialed.user ?? '';
  if (MEETING_ID.test(user)) {
    const meetingId = o.directory.meetingOfId(user);
    return meetingId === undefined ? { kind: 'ivr' } : { kind: 'meeting', meetingId, role: 'attendee' };
  }
  if (HOST_ID.test(user)) {
    const meetingId = o.directory.meetingOfHostId(user);
    return meetingId === undefined ? { kind: 'ivr' } : { kind: 'meeting', meetingId, role: 'host' };
  }
  // `u@`, the bare domain, anything else at a meeting domain: the IVR asks for the meeting ID.
  return { kind: 'ivr' };
}

/** A dialed E.164 number, as routing compares numbers ('+' and digits only). */
function e164Digits(user: string | undefined): string | undefined {
  if (user === undefined) return undefined;
  const d = user.replace(/[-.() ]/g, '');
  return /^\+\d{3,15}$/.test(d) ? d : /^\d{3,15}$/.test(d) ? `+${d}` : undefined;
}

/** Meeting dial-in ahead of another router (the voice connector router). */
export class MeetingDialInRouter implements CallRouter {
  readonly #o: MeetingDialInOptions;
  readonly #next: CallRouter;

  constructor(o: MeetingDialInOptions, next: CallRouter) {
    this.#o = { ...o, domains: o.domains.map((d) => d.toLowerCase()) };
    this.#next = next;
  }

  decide(req: RouteRequest): RouteDecision {
    const target = meetingTargetOf(req.dialed, this.#o);
    if (target !== undefined) return { kind: 'meeting', rule: target.kind === 'ivr' ? 'meeting-ivr' : `meeting-${target.role}`, target };
    const number = e164Digits(req.dialed.user);
    if (number !== undefined && this.#o.directory.isDialInNumber(number) && this.#o.isCarrier(req.source.address)) return { kind: 'meeting', rule: 'meeting-dial-in-number', target: { kind: 'ivr' } };
    return this.#next.decide(req);
  }
}
