import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { csvField, keyAccountName, parseUsageJournal, UsageReports, usageCsv, usageReportKey, weekStartOf, WEEK_MS } from '../../metrics/usage-report.ts';
import type { UsageAccount } from '../../metrics/usage-report.ts';
import { MeetingEvents } from '../../signaling/calls/meeting-events.ts';
import type { MeetingSummary } from '../../signaling/calls/meeting-events.ts';
import { ManualTimers } from '../support/manual-timers.ts';
import { meetingSummary, participantSummary } from '../support/meetings.ts';

const SUN = Date.UTC(2026, 10, 1); // Sunday 2026-11-01 00:00:00.000 UTC
const NEXT_SUN = SUN + WEEK_MS; // Sunday 2026-11-08
const logger = pino({ level: 'silent' });
const ACCOUNT_ID = '86efea2f-96af-40f7-be75-be057ff52c8c';

const accounts: UsageAccount[] = [
  {
    accountId: ACCOUNT_ID,
    name: 'Example Sales',
    users: [
      { userId: 'user-ana', displayName: 'Ana Carolina Silva', email: 'ana@example.com', registrationStatus: 'Registered', createdAtMs: Date.UTC(2022, 6, 8), lastLoginMs: Date.UTC(2026, 9, 8, 20, 58, 35) },
      { userId: 'user-akua', displayName: 'Akua Mansa', email: 'akua@example.com', registrationStatus: 'Suspended', createdAtMs: Date.UTC(2019, 1, 27), lastLoginMs: undefined },
    ],
  },
];

describe('usage report format', () => {
  it('puts a time in its Sunday-to-Saturday UTC week: Saturday 23:59:59.999 is the old week, Sunday 00:00 the new', () => {
    expect(weekStartOf(SUN)).toBe(SUN);
    expect(weekStartOf(NEXT_SUN - 1)).toBe(SUN);
    expect(weekStartOf(NEXT_SUN)).toBe(NEXT_SUN);
    expect(weekStartOf(SUN + 3 * 86_400_000 + 5)).toBe(SUN);
    expect(weekStartOf(Date.UTC(1970, 0, 1))).toBe(Date.UTC(1969, 11, 28));
  });

  it('names the file the Chime way, dated by the week start', () => {
    expect(usageReportKey('123456789012', { accountId: ACCOUNT_ID, name: 'Example Sales' }, SUN)).toBe(`Amazon-Chime-User-Activity-Reports/csv/123456789012/2026/11/01/Example+Sales_${ACCOUNT_ID}_20261101.csv`);
    expect(keyAccountName('a/b..c d')).toBe('a%2Fb..c+d');
    expect(keyAccountName("O'Brien & Co (BR)")).toBe('O%27Brien+%26+Co+%28BR%29');
  });

  it('quotes fields with commas, quotes, line breaks or edge spaces (RFC 4180)', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('Silva, Ana')).toBe('"Silva, Ana"');
    expect(csvField('Ana "the host"')).toBe('"Ana ""the host"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField(' padded')).toBe('" padded"');
    const csv = usageCsv(
      { accountId: 'x', name: 'Acme, Inc.', users: [{ userId: 'u', displayName: 'Doe, "JD"', email: 'jd@example.com', registrationStatus: 'Registered', createdAtMs: Date.UTC(2020, 0, 2), lastLoginMs: undefined }] },
      SUN,
      () => ({ attended: 3, hosted: 1 }),
    );
    expect(csv).toBe(
      'account_name,week_start,display_name,email,registration_status,account_creation_date,last_login,meetings_attended,meetings_hosted,chat_sent\r\n' +
        '"Acme, Inc.",20261101,"Doe, ""JD""",jd@example.com,Registered,20200102,,3,1,0\r\n',
    );
  });
});

describe('weekly usage reports', () => {
  let data = '';
  let clock: ManualTimers;
  let events: MeetingEvents;
  let reports: UsageReports | undefined;
  let directoryCalls = 0;
  let written: string[] = [];
  const reportsDir = (): string => path.join(data, 'reports');
  const journal = (): string => path.join(data, 'journal', 'usage.jsonl');

  const make = (directory = (): Promise<readonly UsageAccount[]> => Promise.resolve(accounts)): UsageReports => {
    events = new MeetingEvents((err) => {
      throw err;
    });
    const r = new UsageReports(events, {
      dir: reportsDir(),
      journalFile: journal(),
      awsAccountId: '123456789012',
      directory: () => {
        directoryCalls++;
        return directory();
      },
      clock,
      timers: clock,
      logger,
      onWritten: (f) => written.push(f),
      retryMs: 60_000,
    });
    reports = r;
    return r;
  };
  const reportFiles = (): string[] => (existsSync(reportsDir()) ? readdirSync(reportsDir(), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.csv')).sort() : []);
  const rows = (rel: string): string[][] => readFileSync(path.join(reportsDir(), rel), 'utf8').trimEnd().split('\r\n').map((l) => l.split(','));
  /** The organizer's meeting starts at `atMs`; its host joins with the host ID when `hostJoins`. */
  const meetingAt = (meetingId: string, atMs: number, hostJoins: boolean, organizerUserId: string | undefined = 'user-ana'): MeetingSummary => {
    const m = meetingSummary({ meetingId, startedAtMs: atMs, organizerUserId });
    events.emit({ type: 'meeting-started', meeting: m });
    // A PIN caller counts for nobody.
    events.emit({ type: 'participant-joined', meeting: m, participant: participantSummary({ participantId: `${meetingId}-pin`, joinedAtMs: atMs }) });
    if (hostJoins) events.emit({ type: 'participant-joined', meeting: m, participant: participantSummary({ participantId: `${meetingId}-host`, role: 'host', joinedAtMs: atMs }) });
    return m;
  };
  /** The process dies now: the journal as written, nothing flushed or added by a clean close. */
  const crash = async (r: UsageReports): Promise<void> => {
    const left = readFileSync(journal());
    await r.close();
    writeFileSync(journal(), left);
  };
  const ANA = 'Example Sales,20261101,Ana Carolina Silva,ana@example.com,Registered,20220708,2026-10-08T20:58:35.000Z';

  beforeEach(() => {
    data = mkdtempSync(path.join(os.tmpdir(), 'carillon-usage-'));
    written = [];
    directoryCalls = 0;
  });
  afterEach(async () => {
    await reports?.close();
    reports = undefined;
    rmSync(data, { recursive: true, force: true });
  });

  it('counts the week up to Saturday 23:59:59.999 and makes its report at Sunday 00:00:00.000, once', async () => {
    clock = new ManualTimers(SUN + 3_600_000);
    const r = make();
    await r.start();
    expect(reportFiles()).toEqual([]);
    meetingAt('m1', SUN + 3_600_000, true);
    meetingAt('m2', SUN + 86_400_000, false);
    // Joining the same meeting again counts it once.
    events.emit({ type: 'participant-joined', meeting: meetingSummary({ meetingId: 'm1' }), participant: participantSummary({ participantId: 'again', role: 'host', joinedAtMs: SUN + 3_700_000 }) });
    clock.advance(NEXT_SUN - 1 - clock.nowMs());
    meetingAt('m3', NEXT_SUN - 1, true); // Saturday 23:59:59.999: this week
    await r.idle();
    expect(reportFiles()).toEqual([]);
    clock.advance(1); // Sunday 00:00:00.000
    meetingAt('m4', NEXT_SUN, true); // next week's
    await r.idle();
    const files = reportFiles();
    expect(files).toEqual([`Amazon-Chime-User-Activity-Reports/csv/123456789012/2026/11/01/Example+Sales_${ACCOUNT_ID}_20261101.csv`]);
    expect(written).toEqual([path.join(reportsDir(), files[0] as string)]);
    const csv = rows(files[0] as string);
    expect(csv[0]).toEqual(['account_name', 'week_start', 'display_name', 'email', 'registration_status', 'account_creation_date', 'last_login', 'meetings_attended', 'meetings_hosted', 'chat_sent']);
    expect(csv.slice(1).map((c) => c.join(','))).toEqual(['Example Sales,20261101,Akua Mansa,akua@example.com,Suspended,20190227,,0,0,0', `${ANA},2,3,0`]);
    expect(directoryCalls).toBe(1);

    // A week later: the next week's report, and only it.
    clock.advance(WEEK_MS);
    await r.idle();
    expect(reportFiles()).toHaveLength(2);
    expect(rows(reportFiles()[1] as string)[2]?.slice(-3)).toEqual(['1', '1', '0']);
    expect(directoryCalls).toBe(2);
  });

  it('keeps the tallies across a crash (journal) and makes the missed week at the next start, then never again', async () => {
    clock = new ManualTimers(SUN + 1_000);
    let r = make();
    await r.start();
    meetingAt('m1', SUN + 2_000, true);
    meetingAt('m2', SUN + 3_000, true);
    await crash(r);

    // Down until Tuesday of the following week: the finished week is made at start.
    clock = new ManualTimers(NEXT_SUN + 2 * 86_400_000);
    r = make();
    meetingAt('too-early', SUN + 4_000, true); // before start(): not counted twice nor lost the journal's
    await r.start();
    const files = reportFiles();
    expect(files).toHaveLength(1);
    expect(rows(files[0] as string)[2]?.join(',')).toBe(`${ANA},3,3,0`);
    await r.close();

    // Restarted again in the same week: nothing to make; the report is not rewritten even if removed.
    unlinkSync(path.join(reportsDir(), files[0] as string));
    clock = new ManualTimers(NEXT_SUN + 3 * 86_400_000);
    directoryCalls = 0;
    r = make();
    await r.start();
    expect(reportFiles()).toEqual([]);
    expect(directoryCalls).toBe(0);
    // The journal holds only what is not reported: the current week's.
    const j = parseUsageJournal(readFileSync(journal(), 'utf8'));
    expect(j?.since).toBe(NEXT_SUN);
    expect(j?.entries.every((e) => e.week === NEXT_SUN)).toBe(true);
  });

  it('makes every missed week in order after a long stop, each once', async () => {
    clock = new ManualTimers(SUN + 1_000);
    let r = make();
    await r.start();
    meetingAt('m1', SUN + 2_000, true);
    await crash(r);
    clock = new ManualTimers(SUN + 3 * WEEK_MS + 5_000);
    r = make();
    await r.start();
    expect(reportFiles().map((f) => f.slice(-12))).toEqual(['20261101.csv', '20261108.csv', '20261115.csv']);
    expect(rows(reportFiles()[0] as string)[2]?.slice(-3)).toEqual(['1', '1', '0']);
    expect(rows(reportFiles()[1] as string)[2]?.slice(-3)).toEqual(['0', '0', '0']);
  });

  it('a crash after the files but before the journal says so makes the same files again, under the same names', async () => {
    clock = new ManualTimers(SUN + 1_000);
    let r = make();
    await r.start();
    meetingAt('m1', SUN + 2_000, false);
    const before = readFileSync(journal());
    clock.advance(WEEK_MS);
    await r.idle();
    const first = reportFiles();
    const body = readFileSync(path.join(reportsDir(), first[0] as string), 'utf8');
    await r.close();
    writeFileSync(journal(), before); // the done line and the compaction lost
    clock = new ManualTimers(NEXT_SUN + 10_000);
    r = make();
    await r.start();
    expect(reportFiles()).toEqual(first);
    expect(readFileSync(path.join(reportsDir(), first[0] as string), 'utf8')).toBe(body);
  });

  it('retries when the directory fails, and a journal that is garbage is moved aside', async () => {
    const jdir = path.join(data, 'journal');
    clock = new ManualTimers(SUN + 1_000);
    let failing = true;
    // Garbage first: a fresh journal starting this week.
    mkdirSync(jdir, { recursive: true });
    writeFileSync(journal(), 'not a journal\n');
    const r = make(() => (failing ? Promise.reject(new Error('store down')) : Promise.resolve(accounts)));
    await r.start();
    expect(readdirSync(jdir).some((f) => f.startsWith('usage.jsonl.garbage-'))).toBe(true);
    meetingAt('m1', SUN + 2_000, true);
    clock.advance(WEEK_MS);
    await r.idle();
    expect(reportFiles()).toEqual([]);
    expect(r.counters.failures).toBe(1);
    failing = false;
    clock.advance(60_000);
    await r.idle();
    expect(reportFiles()).toHaveLength(1);
    expect(rows(reportFiles()[0] as string)[2]?.slice(-3)).toEqual(['1', '1', '0']);
  });
});
