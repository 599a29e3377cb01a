/**
 * The journal's cost per answered voice connector call (its begin and end records: two
 * synchronous appends to an open file), against a same-run reference: the CDR writer writing the
 * call's two CDR files on the same disk (temporary name + rename each), without the journal.
 * Then the writer with the journal, to show the sum. Each measurement gets a fresh directory;
 * medians of interleaved rounds.
 *   npx tsx load/bench/cdr-journal.ts [DIR]     (default the system's temporary directory;
 *                                              /dev/shm leaves the disk out: syscalls only)
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { nodeTimers, systemClock } from '../../common/clock.ts';
import { writeCdrs } from '../../metrics/cdr.ts';
import { CdrJournal } from '../../metrics/cdr-journal.ts';
import type { JournaledCall } from '../../metrics/cdr-journal.ts';
import { CallEvents } from '../../signaling/calls/call-events.ts';
import type { CallSummary } from '../../signaling/calls/call-summary.ts';
import type { TrunkCall } from '../../common/route.ts';
import { opsPerSec, report } from './measure.ts';

const root = mkdtempSync(path.join(process.argv[2] ?? os.tmpdir(), 'carillon-bench-journal-'));
const logger = pino({ level: 'silent' });
const trunk: TrunkCall = { voiceConnectorId: 'abcdefghijklmnopqrstuv', region: 'us-east-1', direction: 'Outbound', fromNumber: '+12065550111', toNumber: '+14155550123', fromCountry: 'US', toCountry: 'US' };
let n = 0;
const fresh = (name: string): string => path.join(root, `${name}-${n++}`);

/** One answered call through the writer: 'answered' then 'ended', as the B2BUA emits them. */
function callThrough(events: CallEvents): void {
  const now = systemClock.monoMs();
  const leg = (role: 'caller' | 'callee', wireCallId: string) => ({ role, protocol: 'sip' as const, transport: 'udp' as const, wireCallId, remoteTarget: undefined, setupHeaders: [] });
  const call: CallSummary = {
    id: 'bench' as CallSummary['id'],
    trunk,
    transactionId: crypto.randomUUID(),
    attempts: 1,
    legs: [leg('caller', 'a84b4c76e66710@pbx.example.com'), leg('callee', '3848276298220188511@127.0.0.1')],
    startedMs: now - 2_000,
    answeredMs: now - 1_000,
    endedMs: undefined,
    finalStatus: 200,
  };
  events.emit({ type: 'answered', call });
  events.emit({ type: 'ended', call: { ...call, endedMs: now }, reason: 'caller-bye', status: 200 });
}

function writer(withJournal: boolean): { events: CallEvents; close(): void } {
  const dir = fresh('w');
  const events = new CallEvents((err) => {
    throw err;
  });
  const journal = withJournal ? new CdrJournal({ file: path.join(dir, 'journal', 'cdrs.jsonl'), clock: systemClock, timers: nodeTimers, logger }) : undefined;
  const w = writeCdrs(events, { dir: path.join(dir, 'cdrs'), accountId: '111122223333', clock: systemClock, logger, journal });
  w.start();
  return { events, close: () => w.close() };
}

/** The journal alone: a call's begin record (built as the writer builds it) and its end record. */
function journalOnly(): { run(): void; close(): number } {
  const j = new CdrJournal({ file: path.join(fresh('j'), 'cdrs.jsonl'), clock: systemClock, timers: nodeTimers, logger });
  j.open(() => true);
  return {
    run() {
      const now = Date.now();
      const c: JournaledCall = {
        transactionId: crypto.randomUUID(),
        accountId: '111122223333',
        trunk,
        callerCallId: 'a84b4c76e66710@pbx.example.com',
        calleeCallId: '3848276298220188511@127.0.0.1',
        startMs: now - 2_000,
        answerMs: now - 1_000,
        cdrIds: [crypto.randomUUID(), crypto.randomUUID()],
      };
      j.begin(c);
      j.end(c.transactionId);
    },
    close() {
      j.close();
      return j.counters.compactions;
    },
  };
}

// Rounds interleave the three so that a busy disk or neighbour weighs on all of them alike.
const ROUNDS = 7;
const results = { files: [] as number[], journal: [] as number[], both: [] as number[] };
let compactions = 0;
// Each measurement starts with the disk's dirty pages written out (`sync`, not timed): the files of
// one measurement otherwise slow the next by the kernel's writeback.
const settle = (): void => void execFileSync('sync');
for (let round = 0; round < ROUNDS; round++) {
  settle();
  const plain = writer(false);
  results.files.push(opsPerSec(() => callThrough(plain.events), 500));
  plain.close();
  settle();
  const j = journalOnly();
  results.journal.push(opsPerSec(() => j.run(), 500));
  compactions += j.close();
  settle();
  const w = writer(true);
  results.both.push(opsPerSec(() => callThrough(w.events), 500));
  w.close();
  rmSync(root, { recursive: true, force: true });
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const reference = median(results.files);
report('reference: CDR files of a call (2)', reference, reference);
report('journal begin + end of a call', median(results.journal), reference);
report('CDR files + journal of a call', median(results.both), reference);
const us = (ops: number): string => (1e6 / ops).toFixed(1);
console.log(
  `medians of ${ROUNDS} rounds, per call: CDR files ${us(reference)} µs (rounds ${results.files.map(us).join(', ')}), ` +
    `journal ${us(median(results.journal))} µs = ${((100 * reference) / median(results.journal)).toFixed(1)} % of the CDR files (rounds ${results.journal.map(us).join(', ')}), ` +
    `files + journal ${us(median(results.both))} µs; ${compactions} compactions`,
);
