import { closeSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import Type from 'typebox';
import type { Static } from 'typebox';
import Value from 'typebox/value';
import type { Clock, TimerHandle, Timers } from '../common/clock.ts';
import type { TrunkCall } from '../common/route.ts';

/**
 * The journal of answered voice connector calls, so that a call in progress when the process dies
 * still gets its CDRs. One JSON line per event, appended with one synchronous write to a file
 * descriptor held open for the whole run (`<data>/journal/cdrs.jsonl`, outside the CDR spool the
 * bucket uploader walks):
 *
 *   {"t":"journal","v":1,"ms":…}   first line, written with the file (temporary name + rename)
 *   {"t":"begin",…}                a call was answered: all that both its CDRs need (JournaledCall)
 *   {"t":"end","tx":…,"ms":…}      the call's CDR files are written
 *   {"t":"beat","ms":…}            every `heartbeatMs` (5 s) while a call is open
 *
 * No fsync: a process that dies (kill -9, a crash) leaves what it wrote in the page cache, which
 * the kernel writes out anyway. A machine that loses power can lose the journal's last seconds
 * (the kernel's writeback delay, ~30 s on Linux), so calls answered in them get no CDR.
 *
 * At the next start every call with a begin and no end is one the crash interrupted. Its end is
 * the last moment known: the latest time any record of the journal names (heartbeats, answers,
 * ends), never before the call's own answer. The crash came at most one heartbeat interval after
 * that (plus however long the event loop was stalled), so an interrupted call's end and billable
 * duration are short by less than `heartbeatMs`.
 *
 * Only answered calls are journaled: a call still being set up (ringing) when the process dies
 * gets no CDR, where it would have had a "Failed" one had it ended unanswered: it had no billable
 * time, and journaling every attempt would add two appends to every call that fails too.
 *
 * The file is compacted (rewritten with only the calls still open, temporary name + rename) when
 * it passes `compactBytes` and twice its live size, so it stays small through a long run.
 *
 * RecordJournal is that journal over any kind of begin record (a JournalCodec); CdrJournal is the
 * trunk calls' (JournaledCall, keyed by transaction id). Meeting participants keep their own
 * (`<data>/journal/meeting-cdrs.jsonl`, meeting-cdrs.ts), in the same format with their own begin lines.
 */

/** What a begin record holds: everything both CDRs of the call need (wall-clock ms). */
export interface JournaledCall {
  readonly transactionId: string;
  readonly accountId: string;
  readonly trunk: TrunkCall;
  readonly callerCallId: string;
  readonly calleeCallId: string;
  readonly startMs: number;
  readonly answerMs: number;
  /** The CdrIds of the Caller and Callee records, chosen at answer (the CDR files' names). */
  readonly cdrIds: readonly [string, string];
}

/** A call a crash interrupted, with the end it is given (wall-clock ms, ≥ answerMs). */
export interface InterruptedCall extends JournaledCall {
  readonly endMs: number;
}

/**
 * How one kind of record is journaled (the trunk calls' JournaledCall by default; the meeting
 * participants' in meeting-cdrs.ts): its begin line's fields, read back checked (they name files),
 * its key (what its end line names) and its answer (an interrupted one never ends before it).
 */
export interface JournalCodec<T> {
  /** The begin line, newline included (`{"t":"begin",…}`). */
  encode(rec: T): string;
  /** The record a parsed begin line holds, or undefined when it is not a valid one. */
  decode(line: unknown): T | undefined;
  key(rec: T): string;
  answerMs(rec: T): number;
}

/** A record a crash interrupted, with the end it is given (wall-clock ms, ≥ its answer). */
export type Interrupted<T> = T & { readonly endMs: number };

export const DEFAULT_JOURNAL_HEARTBEAT_MS = 5_000;
/** Size past which the journal is compacted (also only once it is twice its live size). */
export const DEFAULT_JOURNAL_COMPACT_BYTES = 1 << 20;

const Uuid = Type.String({ pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' });
const Ms = Type.Integer({ minimum: 0 });
const Text = Type.String({ maxLength: 1024 });
const HeaderLine = Type.Object({ t: Type.Literal('journal'), v: Type.Literal(1), ms: Ms });
const BeginLine = Type.Object({
  t: Type.Literal('begin'),
  // These name the CDR files (ConferenceId, account, CdrId): checked, so a damaged line can't point a path elsewhere.
  tx: Uuid,
  account: Type.String({ pattern: '^[0-9]{12}$' }),
  trunk: Type.Object({
    voiceConnectorId: Text,
    region: Text,
    direction: Type.Union([Type.Literal('Outbound'), Type.Literal('Inbound')]),
    fromNumber: Type.Optional(Text),
    toNumber: Text,
    fromCountry: Type.Optional(Text),
    toCountry: Type.Optional(Text),
  }),
  caller: Text,
  callee: Text,
  start: Ms,
  answer: Ms,
  ids: Type.Tuple([Uuid, Uuid]),
});
const EndLine = Type.Object({ t: Type.Literal('end'), tx: Type.String(), ms: Ms });
const BeatLine = Type.Object({ t: Type.Literal('beat'), ms: Ms });
const OtherLine = Type.Union([EndLine, BeatLine, HeaderLine]);

/** The trunk calls' begin records. */
export const trunkCallCodec: JournalCodec<JournaledCall> = {
  encode: (c) => beginLine(c),
  decode(v) {
    if (!Value.Check(BeginLine, v)) return undefined;
    return {
      transactionId: v.tx,
      accountId: v.account,
      trunk: {
        voiceConnectorId: v.trunk.voiceConnectorId,
        region: v.trunk.region,
        direction: v.trunk.direction,
        fromNumber: v.trunk.fromNumber,
        toNumber: v.trunk.toNumber,
        fromCountry: v.trunk.fromCountry,
        toCountry: v.trunk.toCountry,
      },
      callerCallId: v.caller,
      calleeCallId: v.callee,
      startMs: v.start,
      answerMs: v.answer,
      cdrIds: [v.ids[0], v.ids[1]],
    };
  },
  key: (c) => c.transactionId,
  answerMs: (c) => c.answerMs,
};

/** The begin record of a call (one line, newline included). */
export function beginLine(c: JournaledCall): string {
  const t = c.trunk;
  return `${JSON.stringify({
    t: 'begin',
    tx: c.transactionId,
    account: c.accountId,
    trunk: { voiceConnectorId: t.voiceConnectorId, region: t.region, direction: t.direction, fromNumber: t.fromNumber, toNumber: t.toNumber, fromCountry: t.fromCountry, toCountry: t.toCountry },
    caller: c.callerCallId,
    callee: c.calleeCallId,
    start: c.startMs,
    answer: c.answerMs,
    ids: c.cdrIds,
  })}\n`;
}

const headerLine = (ms: number): string => `{"t":"journal","v":1,"ms":${ms}}\n`;
const beatLine = (ms: number): string => `{"t":"beat","ms":${ms}}\n`;

export interface JournalContents<T = JournaledCall> {
  /** Records begun and not ended, by key (a call's transaction id), in the order they began. */
  readonly open: ReadonlyMap<string, T>;
  /** The latest time any record names (wall-clock ms); undefined when no record has one. */
  readonly lastMs: number | undefined;
  /** Complete lines that are not records (damage), skipped. */
  readonly skipped: number;
  /** The last line has no newline: a write the crash cut short, skipped. */
  readonly torn: boolean;
}

export type JournalParse<T = JournaledCall> = { readonly ok: true; readonly contents: JournalContents<T> } | { readonly ok: false; readonly reason: 'no-header' };

/** Reads a journal's text. Never throws: a journal whose first line is not the header is garbage. */
export function parseJournal(text: string): JournalParse {
  return parseJournalWith(text, trunkCallCodec);
}

/** Reads a journal of `codec`'s records (parseJournal: the trunk calls'). */
export function parseJournalWith<T>(text: string, codec: JournalCodec<T>): JournalParse<T> {
  const lines = text.split('\n');
  // The piece after the last newline: '' when the file ends cleanly, else a torn write.
  const tail = lines.pop() ?? '';
  const open = new Map<string, T>();
  let lastMs: number | undefined;
  let skipped = 0;
  if (lines.length === 0) return tail === '' ? { ok: true, contents: { open, lastMs, skipped, torn: false } } : { ok: false, reason: 'no-header' };
  for (let i = 0; i < lines.length; i++) {
    const rec = parseLine(lines[i] as string, codec);
    if (i === 0 && rec?.t !== 'journal') return { ok: false, reason: 'no-header' };
    if (rec === undefined) {
      skipped++;
      continue;
    }
    const ms = rec.t === 'begin' ? codec.answerMs(rec.rec) : rec.ms;
    if (lastMs === undefined || ms > lastMs) lastMs = ms;
    if (rec.t === 'begin') open.set(codec.key(rec.rec), rec.rec);
    else if (rec.t === 'end') open.delete(rec.tx);
  }
  return { ok: true, contents: { open, lastMs, skipped, torn: tail !== '' } };
}

type ParsedLine<T> = Static<typeof OtherLine> | { readonly t: 'begin'; readonly rec: T };

function parseLine<T>(line: string, codec: JournalCodec<T>): ParsedLine<T> | undefined {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof v === 'object' && v !== null && 't' in v && v.t === 'begin') {
    const rec = codec.decode(v);
    return rec === undefined ? undefined : { t: 'begin', rec };
  }
  return Value.Check(OtherLine, v) ? v : undefined;
}

/** The calls a journal shows open, each ended at the last moment known (never before its answer). */
export function interruptedCalls(contents: JournalContents): InterruptedCall[] {
  return interruptedRecords(contents, trunkCallCodec);
}

/** The records a journal shows open, each ended at the last moment known (never before its answer). */
export function interruptedRecords<T>(contents: JournalContents<T>, codec: JournalCodec<T>): Interrupted<T>[] {
  const out: Interrupted<T>[] = [];
  for (const c of contents.open.values()) {
    const answer = codec.answerMs(c);
    out.push({ ...c, endMs: Math.max(contents.lastMs ?? answer, answer) });
  }
  return out;
}

export interface CdrJournalOptions {
  /** The journal file (`<data>/journal/cdrs.jsonl`). */
  readonly file: string;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly logger: Logger;
  /** Heartbeat interval, ms (default 5 s): the bound on how short an interrupted call's end is. */
  readonly heartbeatMs?: number;
  /** Compaction threshold, bytes (default 1 MiB). */
  readonly compactBytes?: number;
}

/**
 * Owns the journal file for a run: `open()` at start (before SIP listens) hands the calls the
 * previous run left open to the CDR writer and starts a fresh journal; `begin`/`end` append;
 * `close()` stops the heartbeat and the file. Never throws: a journal it can't write is logged and
 * the run goes on without one (CDRs of calls that end are still written).
 */
export class RecordJournal<T> {
  readonly #opts: CdrJournalOptions;
  readonly #codec: JournalCodec<T>;
  readonly #heartbeatMs: number;
  readonly #compactBytes: number;
  /** Begin lines of the calls still open, by transaction id. */
  readonly #open = new Map<string, string>();
  /** What a compaction would write (UTF-16 length of the open calls' lines: bytes for the ASCII they are). */
  #liveBytes = 0;
  #bytes = 0;
  #fd: number | undefined;
  #timer: TimerHandle | undefined;
  #failing = false;
  readonly counters = { appendFailures: 0, compactions: 0 };

  constructor(opts: CdrJournalOptions, codec: JournalCodec<T>) {
    this.#opts = opts;
    this.#codec = codec;
    this.#heartbeatMs = opts.heartbeatMs ?? DEFAULT_JOURNAL_HEARTBEAT_MS;
    this.#compactBytes = opts.compactBytes ?? DEFAULT_JOURNAL_COMPACT_BYTES;
  }

  /** Calls open now (answered, CDRs not yet written). */
  get openCount(): number {
    return this.#open.size;
  }

  /**
   * Reads what the previous run left, passes each call it interrupted to `writeInterrupted`
   * (true = its CDRs are on disk), then starts a fresh journal and the heartbeat. A journal that
   * is garbage, or whose calls could not all be written, is kept beside it under another name.
   */
  open(writeInterrupted: (call: Interrupted<T>) => boolean): number {
    const { file, logger, clock } = this.#opts;
    let interrupted = 0;
    let text: string | undefined;
    try {
      mkdirSync(path.dirname(file), { recursive: true });
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.#moveAside('unreadable', err);
    }
    if (text !== undefined) {
      const parsed = parseJournalWith(text, this.#codec);
      if (!parsed.ok) {
        this.#moveAside('garbage', parsed.reason);
      } else {
        const c = parsed.contents;
        if (c.torn || c.skipped > 0) logger.warn({ journal: file, torn: c.torn, skipped: c.skipped }, 'CDR journal: lines cut short or damaged, skipped');
        let unwritten = 0;
        for (const call of interruptedRecords(c, this.#codec)) {
          if (writeInterrupted(call)) interrupted++;
          else unwritten++;
        }
        if (interrupted > 0) logger.warn({ calls: interrupted, endMs: c.lastMs }, 'CDRs written for calls in progress when the last run stopped (Status Interrupted)');
        if (unwritten > 0) this.#moveAside('unwritten', `${unwritten} interrupted calls' CDRs not written`);
      }
    }
    this.#open.clear();
    this.#rewrite(clock.nowMs());
    this.#schedule();
    return interrupted;
  }

  /** Appends the begin record of an answered call. */
  begin(call: T): void {
    const key = this.#codec.key(call);
    if (this.#fd === undefined || this.#open.has(key)) return;
    const line = this.#codec.encode(call);
    this.#open.set(key, line);
    this.#liveBytes += line.length;
    this.#append(line);
  }

  /** Appends the end record of a call whose CDR files are written. */
  end(transactionId: string): void {
    const line = this.#open.get(transactionId);
    if (line === undefined) return;
    this.#open.delete(transactionId);
    this.#liveBytes -= line.length;
    this.#append(`{"t":"end","tx":${JSON.stringify(transactionId)},"ms":${this.#opts.clock.nowMs()}}\n`);
  }

  /** Stops the heartbeat and closes the file (a last heartbeat first if calls are still open). Idempotent. */
  close(): void {
    this.#opts.timers.clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#fd === undefined) return;
    if (this.#open.size > 0) this.#append(beatLine(this.#opts.clock.nowMs()));
    const fd = this.#fd;
    this.#fd = undefined;
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
  }

  #schedule(): void {
    if (this.#fd === undefined) return;
    this.#timer = this.#opts.timers.setTimeout(() => {
      if (this.#open.size > 0) this.#append(beatLine(this.#opts.clock.nowMs()));
      this.#schedule();
    }, this.#heartbeatMs);
  }

  #append(line: string): void {
    const fd = this.#fd;
    if (fd === undefined) return;
    try {
      this.#bytes += writeSync(fd, line);
      if (this.#failing) {
        this.#failing = false;
        this.#opts.logger.warn({ journal: this.#opts.file }, 'CDR journal written again');
      }
    } catch (err) {
      this.counters.appendFailures++;
      if (!this.#failing) this.#opts.logger.error({ err, journal: this.#opts.file }, 'CDR journal not written: calls in progress now would get no CDR after a crash');
      this.#failing = true;
      return;
    }
    if (this.#bytes > this.#compactBytes && this.#bytes > 2 * this.#liveBytes) this.#rewrite(this.#opts.clock.nowMs());
  }

  /** Writes the journal anew (header, the open calls, a heartbeat) under a temporary name, then renames it over the old. */
  #rewrite(nowMs: number): void {
    const { file, logger } = this.#opts;
    const body = `${headerLine(nowMs)}${[...this.#open.values()].join('')}${this.#open.size > 0 ? beatLine(nowMs) : ''}`;
    const tmp = `${file}.tmp`;
    let fd: number | undefined;
    try {
      writeFileSync(tmp, body);
      fd = openSync(tmp, 'a');
      renameSync(tmp, file);
    } catch (err) {
      if (fd !== undefined) closeSync(fd);
      logger.error({ err, journal: file }, this.#fd === undefined ? 'CDR journal not started: calls in progress at a crash would get no CDR' : 'CDR journal not compacted');
      return;
    }
    if (this.#fd !== undefined) {
      this.counters.compactions++;
      try {
        closeSync(this.#fd);
      } catch {
        // already closed
      }
    }
    this.#fd = fd;
    this.#bytes = Buffer.byteLength(body);
  }

  #moveAside(why: 'garbage' | 'unreadable' | 'unwritten', detail: unknown): void {
    const { file, logger, clock } = this.#opts;
    const aside = `${file}.${why}-${clock.nowMs()}`;
    try {
      renameSync(file, aside);
      logger.error({ journal: file, keptAs: aside, why, detail }, 'CDR journal moved aside');
    } catch (err) {
      logger.error({ journal: file, why, detail, err }, 'CDR journal could not be moved aside');
    }
  }
}

/** The journal of answered voice connector calls (`<data>/journal/cdrs.jsonl`). */
export class CdrJournal extends RecordJournal<JournaledCall> {
  constructor(opts: CdrJournalOptions) {
    super(opts, trunkCallCodec);
  }
}
