import type { MeetingDirectory, MeetingInfo } from '../signaling/routing/meeting-dial-in.ts';
import { DEFAULT_MAX_PARTICIPANTS, DEFAULT_PROMPT_LANGUAGE, PERSONAL_PREFIX, PROMPT_LANGUAGES } from './api/meetings/schema.ts';
import type { PromptLanguage } from './api/meetings/schema.ts';
import { CoalescedRebuild } from './coalesced-rebuild.ts';
import type { Store } from './store/store.ts';

/**
 * The meetings dial-in can reach, as an in-memory index of the store (signaling looks meetings up
 * synchronously while routing an INVITE): Chime SDK meetings by their 10-digit meeting ID, 13-digit
 * host ID and MeetingId; every active user's personal meeting room (`personal:<UserId>`, reached by
 * the user's 10-digit personal PIN, the user its organizer); the numbers assigned to meeting
 * dial-in. Rebuilt from the store at start and after every API change (chime/plugin.ts calls
 * refresh() where it refreshes the configuration snapshot); a lookup never waits for a rebuild, it
 * reads the last complete index.
 */

export interface MeetingDirectoryOptions {
  /** Prompt language when neither the meeting nor its account names one (default en-US). */
  readonly defaultLanguage?: PromptLanguage | undefined;
}

/** One complete index, swapped in whole. */
interface Index {
  readonly byId: ReadonlyMap<string, MeetingInfo>;
  readonly byPin: ReadonlyMap<string, string>;
  readonly byHostPin: ReadonlyMap<string, string>;
  readonly dialInNumbers: ReadonlySet<string>;
}

const EMPTY_INDEX: Index = { byId: new Map(), byPin: new Map(), byHostPin: new Map(), dialInNumbers: new Set() };

/** The personal meeting room id of a user. */
export const personalRoomId = (userId: string): string => `${PERSONAL_PREFIX}${userId}`;

/** The user whose personal room this id names, or undefined for any other id. */
export function userOfPersonalRoom(meetingId: string): string | undefined {
  return meetingId.startsWith(PERSONAL_PREFIX) ? meetingId.slice(PERSONAL_PREFIX.length) : undefined;
}

function languageOf(stored: string | null, fallback: PromptLanguage): PromptLanguage {
  return PROMPT_LANGUAGES.find((l) => l === stored) ?? fallback;
}

export class StoreMeetingDirectory implements MeetingDirectory {
  readonly #store: Store;
  readonly #defaultLanguage: PromptLanguage;
  readonly #listeners = new Set<() => void>();
  #index: Index = EMPTY_INDEX;
  readonly #rebuild = new CoalescedRebuild(async () => {
    this.#index = await this.#build();
    this.#generation++;
    for (const l of this.#listeners) {
      try {
        l();
      } catch {
        // a listener's fault is its own; the index is already current
      }
    }
  });
  #generation = 0;

  constructor(store: Store, opts: MeetingDirectoryOptions = {}) {
    this.#store = store;
    this.#defaultLanguage = opts.defaultLanguage ?? DEFAULT_PROMPT_LANGUAGE;
  }

  /** The prompt language of meetings and accounts that name none. */
  get defaultLanguage(): PromptLanguage {
    return this.#defaultLanguage;
  }

  /** How many complete rebuilds have been swapped in (0 before the first). */
  get generation(): number {
    return this.#generation;
  }

  meeting(meetingId: string): MeetingInfo | undefined {
    return this.#index.byId.get(meetingId.toLowerCase());
  }

  meetingOfId(meetingId: string): string | undefined {
    return this.#index.byPin.get(meetingId);
  }

  meetingOfHostId(hostId: string): string | undefined {
    return this.#index.byHostPin.get(hostId);
  }

  isDialInNumber(e164: string): boolean {
    return this.#index.dialInNumbers.has(e164);
  }

  /**
   * Called after each rebuild is swapped in (the meeting call layer can re-read a meeting in
   * progress: its settings may have changed). A listener that throws does not stop the others.
   */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Rebuilds from the store; changes arriving during a rebuild coalesce into one more. */
  refresh(): Promise<void> {
    return this.#rebuild.refresh();
  }

  async #build(): Promise<Index> {
    const db = this.#store.db;
    const [meetings, users, accounts, numbers] = await Promise.all([
      db.selectFrom('meetings').select(['id', 'external_meeting_id', 'meeting_pin', 'host_pin', 'moderated', 'moderator_passcode', 'max_participants', 'language', 'join_tones']).execute(),
      db.selectFrom('users').select(['id', 'account_id', 'email', 'pin', 'registration_status']).execute(),
      db.selectFrom('accounts').select(['id', 'meeting_language']).where('deleted_at', 'is', null).execute(),
      db.selectFrom('meeting_dial_in_numbers').select('e164').execute(),
    ]);
    const byId = new Map<string, MeetingInfo>();
    const byPin = new Map<string, string>();
    const byHostPin = new Map<string, string>();
    const accountLanguage = new Map(accounts.map((a) => [a.id, languageOf(a.meeting_language, this.#defaultLanguage)]));
    // Personal rooms first: a meeting's ID wins over a personal PIN should the two ever collide
    // (both allocators rule that out; the store's history may not).
    for (const u of users) {
      const language = accountLanguage.get(u.account_id);
      if (language === undefined || u.registration_status === 'Suspended') continue;
      const info: MeetingInfo = Object.freeze({
        meetingId: personalRoomId(u.id),
        externalMeetingId: undefined,
        meetingPin: u.pin,
        hostPin: undefined,
        moderated: false,
        moderatorPasscode: undefined,
        maxParticipants: DEFAULT_MAX_PARTICIPANTS,
        language,
        joinTones: true,
        organizerUserId: u.id,
        organizerEmail: u.email,
        accountId: u.account_id,
      });
      byId.set(info.meetingId, info);
      byPin.set(u.pin, info.meetingId);
    }
    for (const m of meetings) {
      const info: MeetingInfo = Object.freeze({
        meetingId: m.id,
        externalMeetingId: m.external_meeting_id,
        meetingPin: m.meeting_pin,
        hostPin: m.host_pin,
        moderated: m.moderated === 1,
        moderatorPasscode: m.moderator_passcode ?? undefined,
        maxParticipants: m.max_participants,
        language: languageOf(m.language, this.#defaultLanguage),
        joinTones: m.join_tones === 1,
        organizerUserId: undefined,
        organizerEmail: undefined,
        accountId: undefined,
      });
      byId.set(m.id, info);
      byPin.set(m.meeting_pin, m.id);
      byHostPin.set(m.host_pin, m.id);
    }
    return { byId, byPin, byHostPin, dialInNumbers: new Set(numbers.map((n) => n.e164)) };
  }
}
