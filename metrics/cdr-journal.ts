import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';

/**
 * How CDRs reach their files without the event loop waiting on the disk for each: the records of
 * an ended call are appended to a journal in one write (before anyone else hears the call ended),
 * then each record's file is written in the background (temporary name, rename). A journal segment
 * is deleted once every file it holds is written; segments left by a process that died are
 * replayed at the next start, so a crash after a call ended never loses its CDRs.
 */
export interface JournalEntry {
  /** The record's file, relative to the CDR directory (its key). */
  readonly key: string;
  /** The record as written to its file. */
  readonly body: string;
}

/** Lines per journal segment before the next one starts. */
const SEGMENT_LINES = 10_000;

export class CdrJournal {
  readonly #dir: string;
  readonly #cdrDir: string;
  readonly #logger: Logger;
  readonly #onWritten: (file: string) => void;
  readonly #pending = new Map<string, number>();
  /** Segments holding a record whose file could not be written: kept for the next start. */
  readonly #keep = new Set<string>();
  readonly #made = new Set<string>();
  readonly #idle: (() => void)[] = [];
  #segment: string | undefined;
  #fd: number | undefined;
  #lines = 0;
  #seq = 0;
  #inFlight = 0;

  constructor(journalDir: string, cdrDir: string, logger: Logger, onWritten: (file: string) => void) {
    this.#dir = journalDir;
    this.#cdrDir = cdrDir;
    this.#logger = logger;
    this.#onWritten = onWritten;
  }

  /** Writes the files of every journal a previous process left (synchronously, before calls are taken). */
  replay(): number {
    if (!existsSync(this.#dir)) return 0;
    let written = 0;
    for (const name of readdirSync(this.#dir).filter((n) => n.endsWith('.jsonl')).sort()) {
      const file = path.join(this.#dir, name);
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        let entry: JournalEntry;
        try {
          entry = JSON.parse(line) as JournalEntry;
        } catch {
          continue; // an empty line, or the line a crash cut short
        }
        const target = path.join(this.#cdrDir, entry.key);
        if (existsSync(target)) continue;
        mkdirSync(path.dirname(target), { recursive: true });
        writeFileSync(`${target}.replay.tmp`, entry.body);
        renameSync(`${target}.replay.tmp`, target);
        this.#onWritten(target);
        written++;
      }
      unlinkSync(file);
    }
    return written;
  }

  /** Journals `entries` (one write), then writes their files in the background. */
  record(entries: readonly JournalEntry[]): void {
    if (this.#fd === undefined || this.#lines >= SEGMENT_LINES) this.#rotate();
    const segment = this.#segment as string;
    writeSync(this.#fd as number, entries.map((e) => `${JSON.stringify(e)}\n`).join(''));
    this.#lines += entries.length;
    this.#pending.set(segment, (this.#pending.get(segment) ?? 0) + entries.length);
    for (const e of entries) void this.#write(segment, e);
  }

  /** Resolves once every file journaled so far is written. */
  flush(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Waits for the files, then ends the journal (nothing left to replay). */
  async close(): Promise<void> {
    await this.flush();
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
    if (this.#segment !== undefined && (this.#pending.get(this.#segment) ?? 0) === 0 && !this.#keep.has(this.#segment)) this.#remove(this.#segment);
    this.#segment = undefined;
  }

  #rotate(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    const old = this.#segment;
    mkdirSync(this.#dir, { recursive: true });
    this.#segment = path.join(this.#dir, `${Date.now()}-${process.pid}-${this.#seq++}.jsonl`);
    this.#fd = openSync(this.#segment, 'a');
    this.#lines = 0;
    if (old !== undefined && (this.#pending.get(old) ?? 0) === 0 && !this.#keep.has(old)) this.#remove(old);
  }

  async #write(segment: string, e: JournalEntry): Promise<void> {
    this.#inFlight++;
    const target = path.join(this.#cdrDir, e.key);
    const dir = path.dirname(target);
    const tmp = `${target}.${process.pid}.${this.#seq++}.tmp`;
    try {
      if (!this.#made.has(dir)) {
        await mkdir(dir, { recursive: true });
        this.#made.add(dir);
      }
      await writeFile(tmp, e.body).catch(async () => {
        // The directory went away (cleared by hand, or emptied by the uploader): make it again.
        await mkdir(dir, { recursive: true });
        await writeFile(tmp, e.body);
      });
      await rename(tmp, target);
      this.#onWritten(target);
    } catch (err) {
      this.#made.delete(dir);
      // Left in the journal: the next start writes it.
      this.#logger.error({ err, cdr: e.key }, 'CDR file not written (kept in the journal)');
      return this.#settle(segment, false);
    }
    this.#settle(segment, true);
  }

  #settle(segment: string, written: boolean): void {
    const left = (this.#pending.get(segment) ?? 1) - 1;
    this.#pending.set(segment, left);
    if (!written) this.#keep.add(segment);
    // A finished segment (not the one being appended to) goes once all its files are there.
    if (left === 0 && segment !== this.#segment && !this.#keep.has(segment)) this.#remove(segment);
    if (--this.#inFlight === 0) for (const r of this.#idle.splice(0)) r();
  }

  #remove(segment: string): void {
    this.#pending.delete(segment);
    try {
      unlinkSync(segment);
    } catch {
      // already gone
    }
  }
}
