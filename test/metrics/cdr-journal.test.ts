import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { beginLine, CdrJournal, parseJournal } from '../../metrics/cdr-journal.ts';
import type { InterruptedCall, JournaledCall } from '../../metrics/cdr-journal.ts';
import { ManualTimers } from '../support/manual-timers.ts';

const W = 1_700_000_000_000;
const uuid = (n: number): string => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

/** A voice connector call answered at `answerMs` (wall clock). */
function journaledCall(n: number, answerMs: number): JournaledCall {
  return {
    transactionId: uuid(n),
    accountId: '111122223333',
    trunk: { voiceConnectorId: 'abcdefghijklmnopqrstuv', region: 'us-east-1', direction: 'Outbound', fromNumber: '+12065550111', toNumber: '+14155550123', fromCountry: 'US', toCountry: 'US' },
    callerCallId: `caller-${n}@pbx`,
    calleeCallId: `callee-${n}@carillon`,
    startMs: answerMs - 2_000,
    answerMs,
    cdrIds: [uuid(1000 + n), uuid(2000 + n)],
  };
}

interface LogLine {
  level: number;
  why?: string;
  torn?: boolean;
  skipped?: number;
}

describe('CDR journal', () => {
  let dir = '';
  let file = '';
  let clock: ManualTimers;
  let logs: LogLine[];
  const logger = (): pino.Logger => pino({ level: 'trace' }, { write: (s: string) => void logs.push(JSON.parse(s) as LogLine) });
  const journal = (opts: { compactBytes?: number } = {}): CdrJournal => new CdrJournal({ file, clock, timers: clock, logger: logger(), heartbeatMs: 5_000, ...opts });
  /** Starts a journal over the file as it is; returns it and the calls it found interrupted. */
  const restart = (write: (c: InterruptedCall) => boolean = () => true): { j: CdrJournal; found: InterruptedCall[] } => {
    const j = journal();
    const found: InterruptedCall[] = [];
    j.open((c) => {
      found.push(c);
      return write(c);
    });
    return { j, found };
  };
  /** The process dies now: what is on disk is what it had written; nothing more is. */
  const crash = (j: CdrJournal): void => {
    const left = readFileSync(file);
    j.close();
    writeFileSync(file, left);
  };

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'carillon-journal-'));
    file = path.join(dir, 'journal', 'cdrs.jsonl');
    clock = new ManualTimers(W);
    logs = [];
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('journals an answered call and, once it ends, shows it open no more', () => {
    const { j, found } = restart();
    expect(found).toEqual([]);
    j.begin(journaledCall(1, clock.nowMs()));
    expect(j.openCount).toBe(1);
    clock.advance(3_000);
    j.end(uuid(1));
    expect(j.openCount).toBe(0);
    crash(j);
    const parsed = parseJournal(readFileSync(file, 'utf8'));
    expect(parsed.ok && [...parsed.contents.open.keys()]).toEqual([]);
    expect(restart().found).toEqual([]);
  });

  it('ends a call open at a crash at the latest heartbeat before it, never before the call was answered', () => {
    const { j } = restart();
    clock.advance(1_000);
    const early = journaledCall(1, clock.nowMs()); // answered at W+1 s
    j.begin(early);
    clock.advance(10_500); // heartbeats at W+5 s and W+10 s
    const late = journaledCall(2, clock.nowMs()); // answered at W+11.5 s, after the last heartbeat
    j.begin(late);
    clock.advance(2_000);
    const crashedAt = clock.nowMs();
    crash(j);
    clock.advance(60_000);
    const { found } = restart();
    // The last moment known is the later call's answer (W+11.5 s): both end there.
    expect(found).toEqual([{ ...early, endMs: late.answerMs }, { ...late, endMs: late.answerMs }]);
    for (const c of found) expect(crashedAt - c.endMs).toBeLessThanOrEqual(5_000);
    // The calls' CDRs are written: the fresh journal shows nothing open.
    expect(restart().found).toEqual([]);
  });

  it('writes heartbeats while a call is open, and only then', () => {
    const { j } = restart();
    const idle = statSync(file).size;
    clock.advance(60_000);
    expect(statSync(file).size).toBe(idle);
    j.begin(journaledCall(1, clock.nowMs()));
    clock.advance(16_000);
    const beats = readFileSync(file, 'utf8').split('\n').filter((l) => l.includes('"beat"'));
    expect(beats).toEqual([W + 65_000, W + 70_000, W + 75_000].map((ms) => `{"t":"beat","ms":${ms}}`));
    crash(j);
    expect(restart().found.map((c) => c.endMs)).toEqual([W + 75_000]);
  });

  it('skips a last line a crash cut short, and a damaged line, and still recovers the rest', () => {
    const { j } = restart();
    j.begin(journaledCall(1, clock.nowMs()));
    j.begin(journaledCall(2, clock.nowMs()));
    clock.advance(5_000);
    crash(j);
    appendFileSync(file, 'not a record\n');
    appendFileSync(file, `{"t":"end","tx":"${uuid(2)}","ms":${W + 6_000}`); // the end of call 2, torn
    const { found } = restart();
    expect(found.map((c) => [c.transactionId, c.endMs])).toEqual([
      [uuid(1), W + 5_000],
      [uuid(2), W + 5_000],
    ]);
    expect(logs.find((l) => l.torn === true)).toMatchObject({ level: 40, torn: true, skipped: 1 });
  });

  it('compacts a long run into the calls still open, keeping the file small', () => {
    const c = journal({ compactBytes: 4_096 });
    c.open(() => true);
    const kept = [journaledCall(1, clock.nowMs()), journaledCall(2, clock.nowMs()), journaledCall(3, clock.nowMs())];
    for (const k of kept) c.begin(k);
    let largest = 0;
    for (let n = 10; n < 2_010; n++) {
      c.begin(journaledCall(n, clock.nowMs()));
      clock.advance(10);
      c.end(uuid(n));
      largest = Math.max(largest, statSync(file).size);
    }
    expect(c.counters.compactions).toBeGreaterThan(10);
    // Bounded by the threshold plus one call's two lines, against ~1 MB of records written.
    expect(largest).toBeLessThan(4_096 + beginLine(kept[0] as JournaledCall).length + 100);
    crash(c);
    const { found } = restart();
    expect(found.map(({ endMs: _e, ...call }) => call)).toEqual(kept);
    expect(new Set(found.map((f) => f.endMs)).size).toBe(1);
  });

  it('moves a garbage journal aside with a log line and starts a fresh one', () => {
    mkdirSync(path.dirname(file), { recursive: true });
    const junk = Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x0a, 0x7b, 0x0a, 0x00, 0xff]);
    writeFileSync(file, junk);
    const { j, found } = restart();
    expect(found).toEqual([]);
    const aside = readdirSync(path.dirname(file)).filter((f) => f.startsWith('cdrs.jsonl.garbage-'));
    expect(aside.length).toBe(1);
    expect(readFileSync(path.join(path.dirname(file), aside[0] as string))).toEqual(junk);
    expect(logs.find((l) => l.why === 'garbage')).toMatchObject({ level: 50 });
    // The fresh journal works.
    j.begin(journaledCall(1, clock.nowMs()));
    crash(j);
    expect(restart().found.map((c) => c.transactionId)).toEqual([uuid(1)]);
  });

  it('moves aside a journal that is not a file at all, and still starts', () => {
    mkdirSync(file, { recursive: true });
    const { j, found } = restart();
    expect(found).toEqual([]);
    expect(logs.find((l) => l.why === 'unreadable')).toMatchObject({ level: 50 });
    j.begin(journaledCall(1, clock.nowMs()));
    crash(j);
    expect(restart().found.length).toBe(1);
  });

  it('keeps the old journal aside when an interrupted call’s CDRs could not be written', () => {
    const { j } = restart();
    j.begin(journaledCall(1, clock.nowMs()));
    crash(j);
    const before = readFileSync(file, 'utf8');
    const { found } = restart(() => false);
    expect(found.length).toBe(1);
    const aside = readdirSync(path.dirname(file)).filter((f) => f.startsWith('cdrs.jsonl.unwritten-'));
    expect(aside.map((f) => readFileSync(path.join(path.dirname(file), f), 'utf8'))).toEqual([before]);
    expect(restart().found).toEqual([]);
  });

  it('refuses a begin record whose ids would name a path outside the CDR directory', () => {
    const evil = beginLine(journaledCall(1, W)).replace(uuid(1001), '../../../etc/passwd');
    const parsed = parseJournal(`{"t":"journal","v":1,"ms":${W}}\n${evil}`);
    expect(parsed.ok && { open: parsed.contents.open.size, skipped: parsed.contents.skipped }).toEqual({ open: 0, skipped: 1 });
  });

  it('never throws on arbitrary text, with or without a header', () => {
    const header = `{"t":"journal","v":1,"ms":${W}}\n`;
    const line = fc.oneof(fc.string(), fc.constant(beginLine(journaledCall(1, W)).slice(0, -1)), fc.constant(`{"t":"end","tx":"${uuid(1)}","ms":1}`), fc.json());
    fc.assert(
      fc.property(fc.boolean(), fc.array(line), fc.boolean(), (withHeader, lines, newline) => {
        const r = parseJournal(`${withHeader ? header : ''}${lines.join('\n')}${newline ? '\n' : ''}`);
        if (withHeader) expect(r.ok).toBe(true);
      }),
    );
    fc.assert(fc.property(fc.uint8Array(), (bytes) => void parseJournal(Buffer.from(bytes).toString('utf8'))));
  });

  it('does nothing before it is opened and after it is closed', () => {
    const j = journal();
    j.begin(journaledCall(1, W));
    j.end(uuid(1));
    expect(existsSync(file)).toBe(false);
    j.open(() => true);
    expect(clock.pendingCount).toBe(1); // the heartbeat
    j.close();
    j.close();
    expect(clock.pendingCount).toBe(0);
    j.begin(journaledCall(2, W));
    expect(restart().found).toEqual([]);
  });
});
