import crypto from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Clock } from '../common/clock.ts';
import type { CdrJournal, InterruptedCall, JournaledCall } from './cdr-journal.ts';
import type { CallEvent, CallEvents } from '../signaling/calls/call-events.ts';
import type { CallSummary } from '../signaling/calls/call-summary.ts';
import { legOf } from '../signaling/calls/call-summary.ts';
import type { TrunkCall } from '../common/route.ts';

/**
 * Call detail records for voice connector calls, one per call leg, in Chime's CDR JSON (SPEC.md
 * §7: every value a string, SchemaVersion "2.0") under Chime's key layout, written to
 * `<data>/cdrs/<key>` when the call ends. Each file is written whole to a temporary name and
 * renamed, before the end of the call is reported anywhere else: a process that dies after a
 * call ended has its CDRs on disk; a call in progress when it dies gets its CDRs at the next start,
 * from the journal of answered calls (cdr-journal.ts), with Status "Interrupted". Fields Chime had for meetings (ConferencePin, Organizer…) are
 * empty strings; the voice connector fields Chime's Voice Connector CDRs carried
 * (VoiceConnectorId, TransactionId, CallId, Region, Status) are added.
 */
export interface CdrRecord {
  readonly SchemaVersion: '2.0';
  readonly CdrId: string;
  readonly ServiceCode: string;
  readonly ChimeAccountId: string;
  readonly AwsAccountId: string;
  readonly ConferenceId: string;
  readonly ConferencePin: string;
  readonly OrganizerUserId: string;
  readonly OrganizerEmail: string;
  readonly CallerPhoneNumber: string;
  readonly CallerCountry: string;
  readonly DestinationPhoneNumber: string;
  readonly DestinationCountry: string;
  readonly ConferenceStartTimeEpochSeconds: string;
  readonly ConferenceEndTimeEpochSeconds: string;
  readonly StartTimeEpochSeconds: string;
  readonly EndTimeEpochSeconds: string;
  readonly BillableDurationSeconds: string;
  readonly BillableDurationMinutes: string;
  readonly Direction: 'Inbound' | 'Outbound';
  readonly VoiceConnectorId: string;
  readonly TransactionId: string;
  readonly CallId: string;
  readonly Region: string;
  /** 'Caller' (customer side of a termination call, carrier side of an origination call) or 'Callee'. */
  readonly Leg: 'Caller' | 'Callee';
  /** Failed: never answered. Interrupted: answered and in progress when the process died (cdr-journal.ts). */
  readonly Status: 'Completed' | 'Failed' | 'Interrupted';
  readonly SipStatusCode: string;
}

/** Chime's minutes with one decimal and no leading zero: 24 s → ".4", 90 s → "1.5", 0 → "0". */
export function billableMinutes(seconds: number): string {
  if (seconds <= 0) return '0';
  const tenths = Math.ceil((seconds / 60) * 10 - 1e-9);
  const s = (tenths / 10).toFixed(1);
  return s.startsWith('0.') ? s.slice(1) : s;
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** `Amazon-Chime-Business-Calling-CDRs/json/<account>/<yyyy>/<mm>/<dd>/<conferenceId>_<yyyy-mm-dd-HH.MM.SS.mmm>_<cdrId>` (UTC). */
export function cdrKey(r: CdrRecord, startMs: number): string {
  return cdrKeyOf(r.AwsAccountId, r.ConferenceId, r.CdrId, startMs);
}

/** Chime's CDR key from its parts (the account, the conference id it is filed under, the record's id, the leg's start). */
export function cdrKeyOf(account: string, conferenceId: string, cdrId: string, startMs: number): string {
  const d = new Date(startMs);
  const [y, m, day] = [d.getUTCFullYear(), pad(d.getUTCMonth() + 1), pad(d.getUTCDate())];
  const stamp = `${y}-${m}-${day}-${pad(d.getUTCHours())}.${pad(d.getUTCMinutes())}.${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}`;
  return `Amazon-Chime-Business-Calling-CDRs/json/${account}/${y}/${m}/${day}/${conferenceId}_${stamp}_${cdrId}`;
}

/**
 * Writes record files whole under a directory (a temporary name, then a rename), making each day's
 * directory once (made again if it vanished: cleared by hand, or a spool sweep).
 */
export class CdrFiles {
  readonly #dir: string;
  readonly #made = new Set<string>();
  #seq = 0;

  constructor(dir: string) {
    this.#dir = dir;
  }

  /**
   * Writes `body` at `<dir>/<key>`; returns the file. With `keepExisting`, a file already there is
   * kept (a crash between a call's files and its journal's end record: they are its own records).
   * Throws on a disk error.
   */
  write(key: string, body: string, keepExisting = false): string {
    const file = path.join(this.#dir, key);
    if (keepExisting && existsSync(file)) return file;
    const dir = path.dirname(file);
    const tmp = `${file}.${process.pid}.${this.#seq++}.tmp`;
    try {
      if (!this.#made.has(dir)) {
        mkdirSync(dir, { recursive: true });
        this.#made.add(dir);
      }
      try {
        writeFileSync(tmp, body);
      } catch {
        mkdirSync(dir, { recursive: true });
        writeFileSync(tmp, body);
      }
      renameSync(tmp, file);
    } catch (err) {
      this.#made.delete(dir);
      throw err;
    }
    return file;
  }
}

export interface CdrTimes {
  /** Wall-clock ms: call start, answer (if any), end. */
  readonly startMs: number;
  readonly answerMs: number | undefined;
  readonly endMs: number;
}

/** What the two legs' records of a call are made from. */
export interface CdrInput {
  readonly trunk: TrunkCall;
  readonly times: CdrTimes;
  readonly accountId: string;
  readonly transactionId: string;
  readonly callerCallId: string;
  readonly calleeCallId: string;
  readonly status: CdrRecord['Status'];
  readonly sipStatusCode: string;
  /** CdrIds of the Caller and Callee records. */
  readonly cdrIds: readonly [string, string];
}

/** The Caller and Callee records of one call. */
export function cdrRecords(i: CdrInput): CdrRecord[] {
  const { trunk, times } = i;
  const secs = (ms: number): string => String(Math.floor(ms / 1000));
  const billable = times.answerMs === undefined ? 0 : Math.max(0, Math.ceil((times.endMs - times.answerMs) / 1000));
  const common = {
    SchemaVersion: '2.0' as const,
    ServiceCode: 'AmazonChimeVoiceConnector',
    ChimeAccountId: '',
    AwsAccountId: i.accountId,
    ConferenceId: i.transactionId,
    ConferencePin: '',
    OrganizerUserId: '',
    OrganizerEmail: '',
    CallerPhoneNumber: trunk.fromNumber ?? '',
    CallerCountry: trunk.fromCountry ?? '',
    DestinationPhoneNumber: trunk.toNumber,
    DestinationCountry: trunk.toCountry ?? '',
    ConferenceStartTimeEpochSeconds: secs(times.startMs),
    ConferenceEndTimeEpochSeconds: secs(times.endMs),
    StartTimeEpochSeconds: secs(times.answerMs ?? times.startMs),
    EndTimeEpochSeconds: secs(times.endMs),
    BillableDurationSeconds: String(billable),
    BillableDurationMinutes: billableMinutes(billable),
    Direction: trunk.direction,
    VoiceConnectorId: trunk.voiceConnectorId,
    TransactionId: i.transactionId,
    Region: trunk.region,
    Status: i.status,
    SipStatusCode: i.sipStatusCode,
  };
  return [
    { ...common, CdrId: i.cdrIds[0], CallId: i.callerCallId, Leg: 'Caller' },
    { ...common, CdrId: i.cdrIds[1], CallId: i.calleeCallId, Leg: 'Callee' },
  ];
}

/** The two legs' records of one ended call (CdrIds chosen here unless the call was journaled with them). */
export function buildCdrs(
  call: CallSummary,
  trunk: TrunkCall,
  times: CdrTimes,
  accountId: string,
  transactionId: string,
  cdrIds: readonly [string, string] = [crypto.randomUUID(), crypto.randomUUID()],
): CdrRecord[] {
  return cdrRecords({
    trunk,
    times,
    accountId,
    transactionId,
    callerCallId: legOf(call, 'caller')?.wireCallId ?? '',
    calleeCallId: legOf(call, 'callee')?.wireCallId ?? '',
    status: times.answerMs === undefined ? 'Failed' : 'Completed',
    sipStatusCode: String(call.finalStatus ?? ''),
    cdrIds,
  });
}

/**
 * The records of a call a crash interrupted: ended at the journal's last moment known, billed
 * from its answer to then, Status "Interrupted", SipStatusCode 200 (it was answered).
 */
export function interruptedCdrs(c: InterruptedCall): CdrRecord[] {
  return cdrRecords({
    trunk: c.trunk,
    times: { startMs: c.startMs, answerMs: c.answerMs, endMs: c.endMs },
    accountId: c.accountId,
    transactionId: c.transactionId,
    callerCallId: c.callerCallId,
    calleeCallId: c.calleeCallId,
    status: 'Interrupted',
    sipStatusCode: '200',
    cdrIds: c.cdrIds,
  });
}

export interface CdrWriterOptions {
  readonly dir: string;
  readonly accountId: string;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Told of each CDR file once it is complete on disk (the bucket uploader). */
  readonly onWritten?: ((file: string) => void) | undefined;
  /** The journal of answered calls (a call in progress at a crash gets its CDRs at the next start); absent: none. */
  readonly journal?: CdrJournal | undefined;
}

export interface CdrWriter {
  /**
   * Writes the CDRs of the calls the journal shows in progress when the last run died, then
   * starts a fresh journal. Call before SIP listens. Returns how many calls it wrote.
   */
  start(): number;
  /** Closes the journal (a call that ends after this still gets its CDRs). Idempotent. */
  close(): void;
}

/**
 * Writes every ended voice connector call's CDRs. An answered call is journaled (one append) with
 * its wall-clock start and answer and its CdrIds; when it ends, its two files are written, then
 * the journal's end record, then the uploader hears of the files.
 */
export function writeCdrs(events: CallEvents, opts: CdrWriterOptions): CdrWriter {
  const files = new CdrFiles(opts.dir);
  /** Answered calls: their journal record and the wall − monotonic offset taken at answer. */
  const answered = new Map<string, { readonly journaled: JournaledCall; readonly offsetMs: number }>();
  const journal = opts.journal;

  /** Writes one record whole (temporary name + rename); returns its file. Throws on a disk error. */
  const writeFile = (r: CdrRecord, startMs: number, keepExisting: boolean): string => files.write(cdrKey(r, startMs), `${JSON.stringify(r)}\n`, keepExisting);

  const onAnswered = (call: CallSummary, trunk: TrunkCall): void => {
    if (answered.has(call.id)) return;
    const offsetMs = opts.clock.nowMs() - opts.clock.monoMs();
    const journaled: JournaledCall = {
      transactionId: call.transactionId,
      accountId: opts.accountId,
      trunk,
      callerCallId: legOf(call, 'caller')?.wireCallId ?? '',
      calleeCallId: legOf(call, 'callee')?.wireCallId ?? '',
      startMs: Math.round(call.startedMs + offsetMs),
      answerMs: Math.round((call.answeredMs ?? opts.clock.monoMs()) + offsetMs),
      cdrIds: [crypto.randomUUID(), crypto.randomUUID()],
    };
    answered.set(call.id, { journaled, offsetMs });
    journal?.begin(journaled);
  };

  const onEnded = (call: CallSummary, trunk: TrunkCall): void => {
    const a = answered.get(call.id);
    answered.delete(call.id);
    // Mono → wall: the call's times are monotonic; anchored at the answer when it had one, else now.
    const offsetMs = a?.offsetMs ?? opts.clock.nowMs() - opts.clock.monoMs();
    const wall = (mono: number): number => Math.round(mono + offsetMs);
    const times: CdrTimes = a !== undefined
      ? { startMs: a.journaled.startMs, answerMs: a.journaled.answerMs, endMs: wall(call.endedMs ?? opts.clock.monoMs()) }
      : { startMs: wall(call.startedMs), answerMs: call.answeredMs === undefined ? undefined : wall(call.answeredMs), endMs: wall(call.endedMs ?? opts.clock.monoMs()) };
    const written: string[] = [];
    for (const r of buildCdrs(call, trunk, times, opts.accountId, call.transactionId, a?.journaled.cdrIds)) {
      try {
        written.push(writeFile(r, times.startMs, false));
      } catch (err) {
        opts.logger.error({ err, call: call.id, cdr: r.CdrId }, 'CDR not written');
      }
    }
    // After the files (a crash before this leaves the call open; the next start finds its files and
    // keeps them), and before the uploader can remove them. Ended even when a file failed: the call
    // did end, and an "Interrupted" record at the next start would bill it to a later time.
    if (a !== undefined) journal?.end(call.transactionId);
    for (const f of written) opts.onWritten?.(f);
  };

  events.on((e: CallEvent) => {
    if ((e.type !== 'answered' && e.type !== 'ended') || e.call.trunk === undefined) return;
    if (e.type === 'answered') onAnswered(e.call, e.call.trunk);
    else onEnded(e.call, e.call.trunk);
  });

  return {
    start() {
      if (journal === undefined) return 0;
      return journal.open((c) => {
        const files: string[] = [];
        try {
          for (const r of interruptedCdrs(c)) files.push(writeFile(r, c.startMs, true));
        } catch (err) {
          opts.logger.error({ err, transactionId: c.transactionId }, 'CDR of an interrupted call not written');
          return false;
        } finally {
          for (const f of files) opts.onWritten?.(f);
        }
        return true;
      });
    },
    close() {
      journal?.close();
    },
  };
}
