import { closeSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Clock, TimerHandle, Timers } from '../common/clock.ts';
import { CdrFiles } from './cdr.ts';
import { keySegment } from './meeting-cdrs.ts';
import type { MeetingEvent, MeetingEvents } from '../signaling/calls/meeting-events.ts';

/**
 * The weekly usage report (SPEC.md §7, Chime's "User Activity Reports"): one CSV per Chime account
 * and week, Sunday 00:00:00.000 to Saturday 23:59:59.999 UTC, under
 * `Amazon-Chime-User-Activity-Reports/csv/<aws account>/<yyyy>/<mm>/<dd>/<AccountName>_<accountId>_<yyyymmdd>.csv`
 * (the date is the week's Sunday, as in Chime's example; the account name with spaces as `+` and
 * anything else outside letters, digits and `-._~` percent-encoded, as Chime's `Example+Sales`).
 * Written whole to the report directory (`<data>/reports`), from which the bucket uploader, when a
 * bucket is set, puts it and removes it.
 *
 * What is counted, per user and week (each meeting once per user and week):
 * - meetings_hosted: meetings whose organizer is the user (their personal meeting room, a meeting
 *   created for them) that started in the week (meeting-started: a first participant joined).
 * - meetings_attended: meetings the user joined with their 13-digit host ID, in the week they
 *   joined. A participant by PIN or passcode is a phone or a room system, not a user: its call
 *   counts for nobody (its CDR names its number).
 * - chat_sent: always 0 (Carillon has no chat).
 * Users are the directory's at the time the report is made (`directory`, which the lead wires
 * from the store): a user deleted since has no row; a user with no activity has a row of zeros.
 *
 * Tallies survive restarts in an append-only journal (`<data>/journal/usage.jsonl`): a header,
 * then one line per counted (week, user, meeting), then a `done` line per week reported. After a
 * week's reports are written the journal is rewritten (temporary name + rename) with only the
 * weeks not yet reported, so it holds at most the current week and any not yet reported; and a
 * week holds at most `maxEntries` lines (then counting stops for it, logged). No fsync (as the CDR
 * journal: a power loss can lose the last seconds).
 *
 * A finished week's reports are made once, at the first moment after the week ends (a timer set
 * for Sunday 00:00 UTC on the injected clock), or at the next start when the process was down
 * then: every week from the journal's first through the last finished one not yet reported, in
 * order. A failure (the directory, the disk) is retried every `retryMs` (5 min). A crash between
 * the files and the `done` line makes the same files again at the next start (same names, same
 * contents as far as the tallies go): no week is ever reported twice under two names, nor skipped.
 */

export const WEEK_MS = 7 * 24 * 3600 * 1000;
const DAY_MS = 24 * 3600 * 1000;

/** The Sunday 00:00:00.000 UTC that starts the week `ms` falls in. */
export function weekStartOf(ms: number): number {
  const day = Math.floor(ms / DAY_MS);
  // 1970-01-01 was a Thursday: day 0 is 4 days after a Sunday.
  const sinceSunday = (((day + 4) % 7) + 7) % 7;
  return (day - sinceSunday) * DAY_MS;
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** `yyyymmdd` (UTC). */
export function ymd(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}`;
}

/** A user as the report lists it. */
export interface UsageUser {
  readonly userId: string;
  readonly displayName: string;
  readonly email: string;
  /** Chime's UserRegistrationStatus: Registered, Unregistered, Suspended. */
  readonly registrationStatus: string;
  /** When the user was created (epoch ms), if known. */
  readonly createdAtMs: number | undefined;
  /** The user's last login (epoch ms), if any. */
  readonly lastLoginMs: number | undefined;
}

/** A Chime account and its users. */
export interface UsageAccount {
  readonly accountId: string;
  readonly name: string;
  readonly users: readonly UsageUser[];
}

/** Every account with its users, now (the store's, through the lead's wiring). */
export type UsageDirectory = () => Promise<readonly UsageAccount[]>;

/** One user's counts for a week. */
export interface UsageCounts {
  readonly attended: number;
  readonly hosted: number;
}

export const USAGE_COLUMNS = ['account_name', 'week_start', 'display_name', 'email', 'registration_status', 'account_creation_date', 'last_login', 'meetings_attended', 'meetings_hosted', 'chat_sent'] as const;

/** One CSV field (RFC 4180): quoted when it holds a comma, quote, CR, LF or edge spaces; quotes doubled. */
export function csvField(v: string): string {
  return /[",\r\n]|^\s|\s$/.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
}

/** The report of one account for one week (header row, then a row per user; CRLF line ends). */
export function usageCsv(account: UsageAccount, weekStartMs: number, counts: (userId: string) => UsageCounts): string {
  const rows = [USAGE_COLUMNS.join(',')];
  const users = [...account.users].sort((a, b) => (a.displayName < b.displayName ? -1 : a.displayName > b.displayName ? 1 : a.email < b.email ? -1 : a.email > b.email ? 1 : 0));
  for (const u of users) {
    const c = counts(u.userId);
    rows.push(
      [
        account.name,
        ymd(weekStartMs),
        u.displayName,
        u.email,
        u.registrationStatus,
        u.createdAtMs === undefined ? '' : ymd(u.createdAtMs),
        u.lastLoginMs === undefined ? '' : new Date(u.lastLoginMs).toISOString(),
        String(c.attended),
        String(c.hosted),
        '0',
      ]
        .map(csvField)
        .join(','),
    );
  }
  return `${rows.join('\r\n')}\r\n`;
}

/** The account name as Chime wrote it in the key: spaces as `+`, the rest percent-encoded (at most 100 characters of it). */
export function keyAccountName(name: string): string {
  const n = encodeURIComponent(name.slice(0, 100)).replace(/%20/g, '+').replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return n === '' ? '_' : n;
}

/** `Amazon-Chime-User-Activity-Reports/csv/<aws account>/<yyyy>/<mm>/<dd>/<AccountName>_<accountId>_<yyyymmdd>.csv`, dated by the week's Sunday. */
export function usageReportKey(awsAccountId: string, account: { readonly accountId: string; readonly name: string }, weekStartMs: number): string {
  const d = new Date(weekStartMs);
  return `Amazon-Chime-User-Activity-Reports/csv/${awsAccountId}/${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}/${keyAccountName(account.name)}_${keySegment(account.accountId)}_${ymd(weekStartMs)}.csv`;
}

/** A week's tallies: per kind, per user, the meetings counted. */
interface WeekTally {
  readonly hosted: Map<string, Set<string>>;
  readonly attended: Map<string, Set<string>>;
  entries: number;
}

type Kind = 'hosted' | 'attended';

/** What a journal's text holds (never throws: damaged lines are skipped, a bad header is garbage). */
export interface UsageJournalContents {
  /** The first week the journal counted (epoch ms of its Sunday). */
  readonly since: number;
  /** The weeks reported (done), at or after `since`. */
  readonly reported: ReadonlySet<number>;
  readonly entries: readonly { readonly kind: Kind; readonly week: number; readonly userId: string; readonly meetingId: string }[];
  readonly skipped: number;
}

const isWeek = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && weekStartOf(v) === v;
const isText = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 256;

export function parseUsageJournal(text: string): UsageJournalContents | undefined {
  const lines = text.split('\n');
  const first = parseObject(lines[0] ?? '');
  if (first?.t !== 'usage' || first.v !== 1 || !isWeek(first.since)) return undefined;
  const since = first.since;
  const reported = new Set<number>();
  const entries: { kind: Kind; week: number; userId: string; meetingId: string }[] = [];
  let skipped = 0;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line === '') continue;
    const o = parseObject(line);
    if (o === undefined || !isWeek(o.w)) {
      skipped++;
    } else if (o.t === 'done') {
      reported.add(o.w);
    } else if ((o.t === 'h' || o.t === 'a') && isText(o.u) && isText(o.m)) {
      entries.push({ kind: o.t === 'h' ? 'hosted' : 'attended', week: o.w, userId: o.u, meetingId: o.m });
    } else {
      skipped++;
    }
  }
  return { since, reported, entries, skipped };
}

function parseObject(line: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(line);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export interface UsageReportsOptions {
  /** Where the reports are written (`<data>/reports`): their keys under it. */
  readonly dir: string;
  /** The journal (`<data>/journal/usage.jsonl`). */
  readonly journalFile: string;
  /** The AWS account id (12 digits) in the key. */
  readonly awsAccountId: string;
  readonly directory: UsageDirectory;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly logger: Logger;
  /** Told of each report once it is whole on disk (the bucket uploader). */
  readonly onWritten?: ((file: string) => void) | undefined;
  /** Retry interval after a failed production, ms (default 5 min). */
  readonly retryMs?: number;
  /** Most lines one week may hold (default 1,000,000). */
  readonly maxEntries?: number;
}

export class UsageReports {
  readonly #opts: UsageReportsOptions;
  readonly #files: CdrFiles;
  readonly #weeks = new Map<number, WeekTally>();
  readonly #reported = new Set<number>();
  #since = 0;
  #fd: number | undefined;
  #timer: TimerHandle | undefined;
  #running: Promise<void> | undefined;
  #closed = false;
  #off: (() => void) | undefined;
  readonly counters = { reports: 0, weeks: 0, failures: 0, dropped: 0 };

  constructor(events: MeetingEvents, opts: UsageReportsOptions) {
    this.#opts = opts;
    this.#files = new CdrFiles(opts.dir);
    const off = events.on((e) => this.#onEvent(e));
    this.#off = () => void off();
  }

  /** The counts of one user for the week starting `weekStartMs` (so far). */
  counts(weekStartMs: number, userId: string): UsageCounts {
    const w = this.#weeks.get(weekStartMs);
    return { attended: w?.attended.get(userId)?.size ?? 0, hosted: w?.hosted.get(userId)?.size ?? 0 };
  }

  /**
   * Reads the journal (tallies of the weeks not yet reported), starts a fresh one with them, makes
   * the reports of every finished week not yet made, then sets the timer for the next week's end.
   * Resolves once the missed reports are written (or failed, to be retried).
   */
  async start(): Promise<void> {
    this.#load();
    await this.#produceDue();
  }

  /** Resolves when no production is under way. */
  async idle(): Promise<void> {
    while (this.#running !== undefined) await this.#running;
  }

  /** Stops counting and the timer, closes the journal (after any production under way). */
  async close(): Promise<void> {
    this.#closed = true;
    this.#off?.();
    this.#opts.timers.clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.idle();
    if (this.#fd !== undefined) {
      try {
        closeSync(this.#fd);
      } catch {
        // already closed
      }
      this.#fd = undefined;
    }
  }

  #onEvent(e: MeetingEvent): void {
    if (this.#closed) return;
    if (e.type === 'meeting-started' && e.meeting.organizerUserId !== undefined) {
      this.#count('hosted', weekStartOf(e.meeting.startedAtMs), e.meeting.organizerUserId, e.meeting.meetingId);
    } else if (e.type === 'participant-joined' && e.participant.role === 'host' && e.meeting.organizerUserId !== undefined) {
      this.#count('attended', weekStartOf(e.participant.joinedAtMs ?? this.#opts.clock.nowMs()), e.meeting.organizerUserId, e.meeting.meetingId);
    }
  }

  /** Counts one (week, user, meeting) once, journaled. A week already reported counts nothing more. */
  #count(kind: Kind, week: number, userId: string, meetingId: string): void {
    if (this.#reported.has(week) || week < this.#since) return;
    if (this.#add(kind, week, userId, meetingId)) this.#append(`${JSON.stringify({ t: kind === 'hosted' ? 'h' : 'a', w: week, u: userId, m: meetingId })}\n`);
  }

  /** Adds to the tallies; false when already counted or the week is full. */
  #add(kind: Kind, week: number, userId: string, meetingId: string): boolean {
    let w = this.#weeks.get(week);
    if (w === undefined) this.#weeks.set(week, (w = { hosted: new Map(), attended: new Map(), entries: 0 }));
    let s = w[kind].get(userId);
    if (s?.has(meetingId) === true) return false;
    if (w.entries >= (this.#opts.maxEntries ?? 1_000_000)) {
      if (this.counters.dropped++ === 0) this.#opts.logger.error({ week: ymd(week) }, 'usage journal: too many meetings counted this week; the rest are not');
      return false;
    }
    if (s === undefined) w[kind].set(userId, (s = new Set()));
    s.add(meetingId);
    w.entries++;
    return true;
  }

  #load(): void {
    const { journalFile, logger, clock } = this.#opts;
    let text: string | undefined;
    try {
      mkdirSync(path.dirname(journalFile), { recursive: true });
      text = readFileSync(journalFile, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') logger.error({ err, journal: journalFile }, 'usage journal unreadable: tallies start afresh');
    }
    const parsed = text === undefined ? undefined : parseUsageJournal(text);
    if (text !== undefined && parsed === undefined) {
      const aside = `${journalFile}.garbage-${clock.nowMs()}`;
      try {
        renameSync(journalFile, aside);
      } catch {
        // left where it is; rewritten below
      }
      logger.error({ journal: journalFile, keptAs: aside }, 'usage journal has no header: moved aside, tallies start afresh');
    }
    if (parsed === undefined) {
      this.#since = weekStartOf(clock.nowMs());
    } else {
      this.#since = parsed.since;
      for (const w of parsed.reported) this.#reported.add(w);
      for (const e of parsed.entries) if (!this.#reported.has(e.week) && e.week >= this.#since) this.#add(e.kind, e.week, e.userId, e.meetingId);
      // Counted before start() for a week the journal shows reported: too late for its report.
      for (const w of this.#reported) this.#weeks.delete(w);
      for (const w of [...this.#weeks.keys()]) if (w < this.#since) this.#weeks.delete(w);
      if (parsed.skipped > 0) logger.warn({ journal: journalFile, skipped: parsed.skipped }, 'usage journal: damaged lines skipped');
    }
    this.#rewrite();
  }

  /** The journal anew: header, the reported weeks still after `since`'s pruning, the tallies not reported. */
  #rewrite(): void {
    const { journalFile, logger } = this.#opts;
    // Reported weeks before the oldest unreported one are summed up by moving `since` past them.
    const firstOpen = this.#firstUnreported();
    for (const w of [...this.#reported]) if (w < firstOpen) this.#reported.delete(w);
    this.#since = Math.max(this.#since, firstOpen);
    const lines = [`${JSON.stringify({ t: 'usage', v: 1, since: this.#since })}\n`];
    for (const w of [...this.#reported].sort((a, b) => a - b)) lines.push(`{"t":"done","w":${w}}\n`);
    for (const [week, t] of [...this.#weeks].sort((a, b) => a[0] - b[0])) {
      for (const kind of ['hosted', 'attended'] as const) {
        for (const [u, ms] of t[kind]) for (const m of ms) lines.push(`${JSON.stringify({ t: kind === 'hosted' ? 'h' : 'a', w: week, u, m })}\n`);
      }
    }
    const tmp = `${journalFile}.tmp`;
    let fd: number | undefined;
    try {
      writeFileSync(tmp, lines.join(''));
      fd = openSync(tmp, 'a');
      renameSync(tmp, journalFile);
    } catch (err) {
      if (fd !== undefined) closeSync(fd);
      logger.error({ err, journal: journalFile }, 'usage journal not written: tallies of this run would not survive a restart');
      return;
    }
    if (this.#fd !== undefined) {
      try {
        closeSync(this.#fd);
      } catch {
        // already closed
      }
    }
    this.#fd = fd;
  }

  /** The first week not reported, from `since` on (the current week at the latest). */
  #firstUnreported(): number {
    let w = this.#since;
    while (this.#reported.has(w)) w += WEEK_MS;
    return w;
  }

  #append(line: string): void {
    if (this.#fd === undefined) return;
    try {
      writeSync(this.#fd, line);
    } catch (err) {
      this.#opts.logger.error({ err, journal: this.#opts.journalFile }, 'usage journal not written');
    }
  }

  /** Produces every finished week not reported, one production at a time, then sets the next timer. */
  #produceDue(): Promise<void> {
    if (this.#running !== undefined) return this.#running;
    // The promise is kept before anything of it runs (its end, even a synchronous one, comes after).
    const run = this.#produceAll()
      .catch((err: unknown) => {
        this.#opts.logger.error({ err }, 'usage reports not made; retried');
        return true;
      })
      .then((failed) => {
      this.#running = undefined;
      this.#schedule(failed);
    });
    this.#running = run;
    return run;
  }

  /** Produces the finished weeks in order; true when one failed (to be retried). */
  async #produceAll(): Promise<boolean> {
    for (;;) {
      const week = this.#firstUnreported();
      if (this.#closed || week + WEEK_MS > this.#opts.clock.nowMs()) return false;
      if (!(await this.#produce(week))) return true;
    }
  }

  /** Writes one week's reports (one per account); true once they are all on disk and journaled. */
  async #produce(week: number): Promise<boolean> {
    const { logger, clock } = this.#opts;
    let accounts: readonly UsageAccount[];
    try {
      accounts = await this.#opts.directory();
    } catch (err) {
      this.counters.failures++;
      logger.error({ err, week: ymd(week) }, 'usage report not made: the account directory failed; retried');
      return false;
    }
    const written: string[] = [];
    try {
      for (const a of accounts) {
        const csv = usageCsv(a, week, (userId) => this.counts(week, userId));
        written.push(this.#files.write(usageReportKey(this.#opts.awsAccountId, a, week), csv));
      }
    } catch (err) {
      this.counters.failures++;
      logger.error({ err, week: ymd(week) }, 'usage report not written; retried');
      return false;
    }
    this.#reported.add(week);
    this.#weeks.delete(week);
    this.#append(`{"t":"done","w":${week}}\n`);
    this.#rewrite();
    this.counters.weeks++;
    this.counters.reports += written.length;
    logger.info({ week: ymd(week), accounts: written.length, atMs: clock.nowMs() }, 'weekly usage reports written');
    for (const f of written) this.#opts.onWritten?.(f);
    return true;
  }

  /** The timer: the retry interval after a failure, else the end of the current week (Sunday 00:00:00.000 UTC, the first moment of the next). */
  #schedule(failed: boolean): void {
    if (this.#closed) return;
    this.#opts.timers.clearTimeout(this.#timer);
    const now = this.#opts.clock.nowMs();
    const delay = failed ? (this.#opts.retryMs ?? 300_000) : weekStartOf(now) + WEEK_MS - now;
    this.#timer = this.#opts.timers.setTimeout(() => {
      this.#timer = undefined;
      void this.#produceDue();
    }, Math.max(0, delay));
  }
}

/** The weekly usage reports over a meeting event bus; `start()` it once the journal's directory may be written. */
export function createUsageReports(events: MeetingEvents, opts: UsageReportsOptions): UsageReports {
  return new UsageReports(events, opts);
}
