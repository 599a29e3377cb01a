import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { billableMinutes, cdrKey, writeCdrs } from '../../metrics/cdr.ts';
import type { CdrRecord, CdrWriter } from '../../metrics/cdr.ts';
import { CdrJournal, parseJournal } from '../../metrics/cdr-journal.ts';
import { CallEvents } from '../../signaling/calls/call-events.ts';
import type { CallSummary, LegSummary } from '../../signaling/calls/call-summary.ts';
import type { TrunkCall } from '../../common/route.ts';
import { ManualTimers } from '../support/manual-timers.ts';

describe('CDR format', () => {
  it('writes billable minutes the way Chime does (one decimal, no leading zero, rounded up)', () => {
    expect(billableMinutes(24)).toBe('.4');
    expect(billableMinutes(0)).toBe('0');
    expect(billableMinutes(1)).toBe('.1');
    expect(billableMinutes(60)).toBe('1.0');
    expect(billableMinutes(90)).toBe('1.5');
    expect(billableMinutes(61)).toBe('1.1');
  });

  it('names the object by account, UTC date, conference id, start time and CDR id', () => {
    const r = { AwsAccountId: '111122223333', ConferenceId: 'c0ffee00-0000-4000-8000-000000000001', CdrId: '1a234567-89bc-41d2-8456-e78f9f01234e' } as CdrRecord;
    expect(cdrKey(r, Date.UTC(2019, 2, 1, 17, 10, 0, 20))).toBe(
      'Amazon-Chime-Business-Calling-CDRs/json/111122223333/2019/03/01/c0ffee00-0000-4000-8000-000000000001_2019-03-01-17.10.00.020_1a234567-89bc-41d2-8456-e78f9f01234e',
    );
  });
});

describe('CDR writer with the journal of answered calls', () => {
  const W = 1_700_000_000_000;
  const TX = 'c0ffee00-0000-4000-8000-000000000001';
  const trunk: TrunkCall = { voiceConnectorId: 'abcdefghijklmnopqrstuv', region: 'us-east-1', direction: 'Outbound', fromNumber: '+12065550111', toNumber: '+14155550123', fromCountry: 'US', toCountry: 'US' };
  let dir = '';
  let clock: ManualTimers;
  let events: CallEvents;
  let notified: string[];
  const logger = pino({ level: 'silent' });
  const journalFile = (): string => path.join(dir, 'journal', 'cdrs.jsonl');
  const writer = (): CdrWriter => {
    events = new CallEvents((err) => {
      throw err;
    });
    const journal = new CdrJournal({ file: journalFile(), clock, timers: clock, logger, heartbeatMs: 5_000 });
    return writeCdrs(events, { dir: path.join(dir, 'cdrs'), accountId: '111122223333', clock, logger, journal, onWritten: (f) => notified.push(f) });
  };
  /** A voice connector call as the B2BUA summarises it on the event bus (its times change as it goes). */
  interface Live {
    answeredMs: number | undefined;
    endedMs: number | undefined;
    finalStatus: number | undefined;
    readonly startedMs: number;
  }
  const leg = (role: LegSummary['role'], wireCallId: string): LegSummary => ({ role, protocol: 'sip', transport: 'udp', wireCallId, remoteTarget: undefined, setupHeaders: [] });
  const summary = (c: Live): CallSummary => ({ id: 'call-1' as CallSummary['id'], trunk, transactionId: TX, attempts: 1, legs: [leg('caller', 'pbx-call@10.0.0.1'), leg('callee', 'carillon-leg@127.0.0.1')], ...c });
  const call = (): Live => ({ startedMs: clock.monoMs(), answeredMs: undefined, endedMs: undefined, finalStatus: undefined });
  const answer = (c: Live): void => {
    c.answeredMs = clock.monoMs();
    events.emit({ type: 'answered', call: summary(c) });
    c.finalStatus = 200;
  };
  const end = (c: Live): void => {
    c.endedMs = clock.monoMs();
    events.emit({ type: 'ended', call: summary(c), reason: 'caller-bye', status: 200 });
  };
  /** The process dies now: the journal as it was written, nothing more. */
  const crash = (w: CdrWriter): void => {
    const left = readFileSync(journalFile());
    w.close();
    writeFileSync(journalFile(), left);
  };
  const cdrs = (): CdrRecord[] =>
    readdirSync(path.join(dir, 'cdrs'), { recursive: true, encoding: 'utf8' })
      .filter((f) => /_[0-9a-f-]{36}$/.test(f))
      .map((f) => JSON.parse(readFileSync(path.join(dir, 'cdrs', f), 'utf8')) as CdrRecord)
      .sort((x, y) => x.Leg.localeCompare(y.Leg));

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'carillon-cdr-'));
    clock = new ManualTimers(W);
    notified = [];
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a call that ends its Completed CDRs under the ids journaled at answer, and leaves nothing open', () => {
    const w = writer();
    expect(w.start()).toBe(0);
    const c = call();
    clock.advance(2_000);
    answer(c);
    const begun = parseJournal(readFileSync(journalFile(), 'utf8'));
    const ids = begun.ok ? begun.contents.open.get(TX)?.cdrIds : undefined;
    clock.advance(30_500);
    end(c);
    const written = cdrs();
    expect(written.map((r) => [r.Leg, r.CdrId, r.Status, r.SipStatusCode, r.BillableDurationSeconds, r.StartTimeEpochSeconds, r.EndTimeEpochSeconds])).toEqual([
      ['Callee', ids?.[1], 'Completed', '200', '31', String((W + 2_000) / 1000), String(Math.floor((W + 32_500) / 1000))],
      ['Caller', ids?.[0], 'Completed', '200', '31', String((W + 2_000) / 1000), String(Math.floor((W + 32_500) / 1000))],
    ]);
    expect(written.map((r) => r.CallId).sort()).toEqual(['carillon-leg@127.0.0.1', 'pbx-call@10.0.0.1']);
    const after = parseJournal(readFileSync(journalFile(), 'utf8'));
    expect(after.ok && after.contents.open.size).toBe(0);
    expect(notified.length).toBe(2);
    crash(w);
    // Nothing to write at the next start: the call's CDRs are its own, once.
    notified = [];
    expect(writer().start()).toBe(0);
    expect(cdrs().length).toBe(2);
    expect(notified).toEqual([]);
  });

  it('at the next start, writes Interrupted CDRs for a call in progress at a crash, ended at the last heartbeat, and hands them to the uploader', () => {
    const w = writer();
    w.start();
    const c = call();
    clock.advance(1_500);
    answer(c);
    clock.advance(13_000); // heartbeats at W+5 s, W+10 s; the crash at W+14.5 s
    crash(w);
    clock.advance(120_000);
    const next = writer();
    expect(next.start()).toBe(1);
    const written = cdrs();
    expect(written.map((r) => [r.Leg, r.Status, r.SipStatusCode, r.TransactionId, r.ConferenceStartTimeEpochSeconds, r.StartTimeEpochSeconds, r.EndTimeEpochSeconds, r.BillableDurationSeconds, r.BillableDurationMinutes])).toEqual([
      ['Callee', 'Interrupted', '200', TX, String(W / 1000), String(Math.floor((W + 1_500) / 1000)), String((W + 10_000) / 1000), '9', '.2'],
      ['Caller', 'Interrupted', '200', TX, String(W / 1000), String(Math.floor((W + 1_500) / 1000)), String((W + 10_000) / 1000), '9', '.2'],
    ]);
    expect(notified.sort()).toEqual(readdirSync(path.join(dir, 'cdrs'), { recursive: true, encoding: 'utf8' }).filter((f) => /_[0-9a-f-]{36}$/.test(f)).map((f) => path.join(dir, 'cdrs', f)).sort());
    // Written once: a further restart finds nothing open.
    next.close();
    expect(writer().start()).toBe(0);
    expect(cdrs().length).toBe(2);
  });

  it('keeps a call’s own CDRs when the crash came between its files and its end record', () => {
    const w = writer();
    w.start();
    const c = call();
    answer(c);
    clock.advance(4_000);
    end(c);
    const completed = cdrs();
    crash(w);
    // The end record never reached the journal.
    writeFileSync(journalFile(), readFileSync(journalFile(), 'utf8').split('\n').filter((l) => !l.startsWith('{"t":"end"')).join('\n'));
    expect(writer().start()).toBe(1);
    expect(cdrs()).toEqual(completed);
  });
});
