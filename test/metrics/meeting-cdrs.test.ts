import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import pino from 'pino';
import S3rver from 's3rver';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CdrUploader } from '../../metrics/cdr-upload.ts';
import { parseJournalWith } from '../../metrics/cdr-journal.ts';
import { keySegment, participantCodec, participantJournal, writeMeetingCdrs } from '../../metrics/meeting-cdrs.ts';
import type { MeetingCdrRecord, MeetingCdrWriter } from '../../metrics/meeting-cdrs.ts';
import { MeetingEvents } from '../../signaling/calls/meeting-events.ts';
import { ManualTimers } from '../support/manual-timers.ts';
import { meetingSummary, participantSummary } from '../support/meetings.ts';

const ACCOUNT = '111122223333';
const T0 = Date.UTC(2026, 10, 3, 17, 10, 0, 20);
const logger = pino({ level: 'silent' });

describe('meeting CDRs, one per participant', () => {
  let dir = '';
  let events: MeetingEvents;
  let writer: MeetingCdrWriter;
  let notified: string[];
  const clock = new ManualTimers(T0);

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'carillon-mcdr-'));
    notified = [];
    events = new MeetingEvents((err) => {
      throw err;
    });
    writer = writeMeetingCdrs(events, { dir: path.join(dir, 'cdrs'), accountId: ACCOUNT, region: 'us-east-1', clock, logger, onWritten: (f) => notified.push(f) });
  });
  afterEach(() => {
    writer.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const files = (): string[] => readdirSync(path.join(dir, 'cdrs'), { recursive: true, encoding: 'utf8' }).filter((f) => /_[0-9a-f-]{36}$/.test(f)).sort();
  const record = (rel: string): MeetingCdrRecord => JSON.parse(readFileSync(path.join(dir, 'cdrs', rel), 'utf8')) as MeetingCdrRecord;

  it('writes a dial-in participant its record at participant-left: Chime conference fields, Inbound, the key by meeting and answer time', () => {
    const meeting = meetingSummary({ startedAtMs: T0 + 5_000 });
    const p = participantSummary({ startedAtMs: T0, role: 'host', transport: 'tls', secureMedia: true, codec: 'G722' });
    events.emit({ type: 'participant-connected', meeting: undefined, participant: p });
    events.emit({ type: 'meeting-started', meeting });
    events.emit({ type: 'participant-joined', meeting, participant: { ...p, joinedAtMs: T0 + 5_000 } });
    expect(readdirSync(dir)).toEqual([]);
    const left = { ...p, joinedAtMs: T0 + 5_000, endedAtMs: T0 + 24_000 + 300 };
    events.emit({ type: 'participant-left', meeting, participant: left, reason: 'hangup' });

    const [rel, ...more] = files();
    expect(more).toEqual([]);
    const r = record(rel as string);
    expect(rel).toBe(`Amazon-Chime-Business-Calling-CDRs/json/${ACCOUNT}/2026/11/03/${meeting.meetingId}_2026-11-03-17.10.00.020_${r.CdrId}`);
    expect(notified).toEqual([path.join(dir, 'cdrs', rel as string)]);
    expect(Object.values(r).every((v) => typeof v === 'string')).toBe(true);
    expect(r).toMatchObject({
      SchemaVersion: '2.0',
      ServiceCode: 'AmazonChimeBusinessCalling',
      ChimeAccountId: meeting.accountId,
      AwsAccountId: ACCOUNT,
      ConferenceId: meeting.meetingId,
      ConferencePin: '4155550123',
      OrganizerUserId: 'user-ana',
      OrganizerEmail: 'ana@example.com',
      CallerPhoneNumber: '+12065550100',
      CallerCountry: 'US',
      DestinationPhoneNumber: '4155550123',
      DestinationCountry: '',
      ConferenceStartTimeEpochSeconds: String(Math.floor((T0 + 5_000) / 1000)),
      // The meeting goes on: its end as known is this participant's leaving.
      ConferenceEndTimeEpochSeconds: String(Math.floor((T0 + 24_300) / 1000)),
      StartTimeEpochSeconds: String(Math.floor(T0 / 1000)),
      EndTimeEpochSeconds: String(Math.floor((T0 + 24_300) / 1000)),
      BillableDurationSeconds: '25',
      BillableDurationMinutes: '.5',
      Direction: 'Inbound',
      Leg: 'Caller',
      Status: 'Completed',
      SipStatusCode: '200',
      TransactionId: 'p-1',
      CallId: 'a84b4c76e66710@192.0.2.4',
      Region: 'us-east-1',
      VoiceConnectorId: '',
      ParticipantId: 'p-1',
      ParticipantRole: 'host',
      JoinPath: 'dial-in',
      Transport: 'TLS',
      SecureMedia: 'true',
      Codec: 'G722',
      JoinedTimeEpochSeconds: String(Math.floor((T0 + 5_000) / 1000)),
      LeaveReason: 'hangup',
    });
    expect(r.CdrId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(writer.counters).toEqual({ written: 1, failed: 0 });
  });

  it('a dial-out participant is Outbound, the Callee, and carries the meeting end when the meeting ended before it left', () => {
    const meeting = meetingSummary({ startedAtMs: T0 });
    const p = participantSummary({ participantId: 'p-out', joinPath: 'dial-out', callerNumber: '+12065550199', destinationNumber: '+551130000000', destinationCountry: 'BR', startedAtMs: T0 + 60_000 });
    events.emit({ type: 'meeting-started', meeting });
    events.emit({ type: 'participant-connected', meeting, participant: p });
    events.emit({ type: 'participant-joined', meeting, participant: { ...p, joinedAtMs: T0 + 61_000 } });
    // The moderator ends it: meeting-ended (with its end) comes before the legs' BYEs complete.
    const endMs = T0 + 120_000;
    events.emit({ type: 'meeting-ended', meeting: meetingSummary({ startedAtMs: T0, endedAtMs: endMs }), reason: 'ended-by-moderator', participants: [p] });
    events.emit({ type: 'participant-left', meeting, participant: { ...p, joinedAtMs: T0 + 61_000, endedAtMs: endMs + 400 }, reason: 'meeting-ended' });

    const r = record(files()[0] as string);
    expect(r.Direction).toBe('Outbound');
    expect(r.Leg).toBe('Callee');
    expect(r.JoinPath).toBe('dial-out');
    expect(r.DestinationPhoneNumber).toBe('+551130000000');
    expect(r.DestinationCountry).toBe('BR');
    expect(r.ConferenceStartTimeEpochSeconds).toBe(String(Math.floor(T0 / 1000)));
    expect(r.ConferenceEndTimeEpochSeconds).toBe(String(Math.floor(endMs / 1000)));
    expect(r.BillableDurationSeconds).toBe('61');
    expect(r.BillableDurationMinutes).toBe('1.1');
    expect(r.LeaveReason).toBe('meeting-ended');
  });

  it('a participant the IVR never placed in a meeting gets a record with empty conference fields, filed under its own id', () => {
    const p = participantSummary({ participantId: 'p-ivr', startedAtMs: T0, endedAtMs: T0 + 31_000 });
    events.emit({ type: 'participant-connected', meeting: undefined, participant: p });
    events.emit({ type: 'participant-left', meeting: undefined, participant: p, reason: 'invalid-id' });
    const [rel] = files();
    const r = record(rel as string);
    expect(rel).toMatch(new RegExp(`^Amazon-Chime-Business-Calling-CDRs/json/${ACCOUNT}/2026/11/03/p-ivr_2026-11-03-17\\.10\\.00\\.020_${r.CdrId}$`));
    expect(r).toMatchObject({ ConferenceId: '', ConferencePin: '', ConferenceStartTimeEpochSeconds: '', ConferenceEndTimeEpochSeconds: '', JoinedTimeEpochSeconds: '', BillableDurationSeconds: '31', LeaveReason: 'invalid-id' });
  });

  it('keeps each participant its own record and the key to one path segment', () => {
    const meeting = meetingSummary({ meetingId: 'personal:../../etc', startedAtMs: T0 });
    for (const id of ['a', 'b', 'c']) {
      const p = participantSummary({ participantId: id, startedAtMs: T0, endedAtMs: T0 + 1_000 });
      events.emit({ type: 'participant-joined', meeting, participant: p });
      events.emit({ type: 'participant-left', meeting, participant: p, reason: 'hangup' });
    }
    const all = files();
    expect(all).toHaveLength(3);
    for (const f of all) expect(path.basename(f)).toMatch(/^personal:\.\._\.\._etc_/);
    expect(new Set(all.map((f) => record(f).ParticipantId))).toEqual(new Set(['a', 'b', 'c']));
    expect(keySegment('..')).toBe('_');
    expect(keySegment('')).toBe('_');
  });

  it('a disk error loses that record (logged and counted), never throws into the meeting layer', () => {
    writer.close();
    const blocked = path.join(dir, 'not-a-dir');
    writeFileSync(blocked, 'x');
    const errors: unknown[] = [];
    const ev = new MeetingEvents((err) => errors.push(err));
    const w = writeMeetingCdrs(ev, { dir: blocked, accountId: ACCOUNT, region: 'us-east-1', clock, logger });
    const p = participantSummary({ startedAtMs: T0, endedAtMs: T0 + 1_000 });
    ev.emit({ type: 'participant-left', meeting: meetingSummary(), participant: p, reason: 'hangup' });
    expect(errors).toEqual([]);
    expect(w.counters).toEqual({ written: 0, failed: 1 });
    w.close();
  });
});

describe('meeting CDRs of participants in progress at a crash (the participants\' journal)', () => {
  let dir = '';
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'carillon-mcdr-j-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const journalFile = (): string => path.join(dir, 'journal', 'meeting-cdrs.jsonl');
  const make = (clock: ManualTimers, events: MeetingEvents, notified: string[] = []): MeetingCdrWriter =>
    writeMeetingCdrs(events, {
      dir: path.join(dir, 'cdrs'),
      accountId: ACCOUNT,
      region: 'us-east-1',
      clock,
      logger,
      onWritten: (f) => notified.push(f),
      journal: participantJournal({ file: journalFile(), clock, timers: clock, logger, heartbeatMs: 5_000 }),
    });
  const bus = (): MeetingEvents =>
    new MeetingEvents((err) => {
      throw err;
    });
  const records = (): MeetingCdrRecord[] =>
    readdirSync(path.join(dir, 'cdrs'), { recursive: true, encoding: 'utf8' })
      .filter((f) => /_[0-9a-f-]{36}$/.test(f))
      .map((f) => JSON.parse(readFileSync(path.join(dir, 'cdrs', f), 'utf8')) as MeetingCdrRecord)
      .sort((a, b) => a.ParticipantId.localeCompare(b.ParticipantId));

  it('writes an Interrupted record, ended at the last heartbeat, for each participant the journal shows open; the ended one keeps its own', () => {
    const clock = new ManualTimers(T0);
    let events = bus();
    let w = make(clock, events);
    expect(w.start()).toBe(0);
    const meeting = meetingSummary({ startedAtMs: T0 });
    const a = participantSummary({ participantId: 'a', startedAtMs: T0 });
    const b = participantSummary({ participantId: 'b', startedAtMs: T0, joinPath: 'dial-out', role: 'moderator' });
    const ivr = participantSummary({ participantId: 'ivr', startedAtMs: T0 });
    events.emit({ type: 'participant-connected', meeting: undefined, participant: a });
    events.emit({ type: 'participant-connected', meeting, participant: b });
    events.emit({ type: 'participant-connected', meeting: undefined, participant: ivr });
    events.emit({ type: 'meeting-started', meeting });
    events.emit({ type: 'participant-joined', meeting, participant: { ...a, joinedAtMs: T0 + 2_000 } });
    events.emit({ type: 'participant-joined', meeting, participant: { ...b, joinedAtMs: T0 + 3_000 } });
    clock.advance(12_000); // two heartbeats
    events.emit({ type: 'participant-left', meeting, participant: { ...b, joinedAtMs: T0 + 3_000, endedAtMs: T0 + 12_000 }, reason: 'hangup' });
    clock.advance(4_000); // the process dies 16 s in; the last heartbeat said 15 s
    const left = readFileSync(journalFile());
    const parsed = parseJournalWith(left.toString('utf8'), participantCodec);
    expect(parsed.ok && [...parsed.contents.open.keys()].sort()).toEqual(['a', 'ivr']);
    w.close();
    writeFileSync(journalFile(), left);

    events = bus();
    const notified: string[] = [];
    w = make(new ManualTimers(T0 + 600_000), events, notified);
    expect(w.start()).toBe(2);
    expect(notified).toHaveLength(2);
    const [ra, rb, rivr] = records();
    expect(rb).toMatchObject({ ParticipantId: 'b', Status: 'Completed', BillableDurationSeconds: '12', Direction: 'Outbound', ParticipantRole: 'moderator' });
    expect(ra).toMatchObject({
      ParticipantId: 'a',
      Status: 'Interrupted',
      LeaveReason: 'interrupted',
      ConferenceId: meeting.meetingId,
      ConferencePin: meeting.meetingPin,
      OrganizerEmail: 'ana@example.com',
      JoinedTimeEpochSeconds: String(Math.floor((T0 + 2_000) / 1000)),
      EndTimeEpochSeconds: String(Math.floor((T0 + 15_000) / 1000)),
      ConferenceEndTimeEpochSeconds: String(Math.floor((T0 + 15_000) / 1000)),
      BillableDurationSeconds: '15',
      Direction: 'Inbound',
    });
    expect(ra?.CdrId).not.toBe(rb?.CdrId);
    expect(rivr).toMatchObject({ ParticipantId: 'ivr', Status: 'Interrupted', ConferenceId: '', JoinedTimeEpochSeconds: '' });
    // A fresh journal: nothing open, nothing written twice at the start after.
    w.close();
    w = make(new ManualTimers(T0 + 700_000), bus());
    expect(w.start()).toBe(0);
    expect(records()).toHaveLength(3);
    w.close();
  });

  it('a crash between a participant\'s file and its end record keeps the file it wrote (same CdrId, Completed)', () => {
    const clock = new ManualTimers(T0);
    const events = bus();
    let w = make(clock, events);
    w.start();
    const meeting = meetingSummary({ startedAtMs: T0 });
    const a = participantSummary({ participantId: 'a', startedAtMs: T0, joinedAtMs: T0 });
    events.emit({ type: 'participant-connected', meeting, participant: a });
    const before = readFileSync(journalFile());
    events.emit({ type: 'participant-left', meeting, participant: { ...a, endedAtMs: T0 + 9_000 }, reason: 'hangup' });
    w.close();
    writeFileSync(journalFile(), before);
    w = make(new ManualTimers(T0 + 60_000), bus());
    expect(w.start()).toBe(1);
    const all = records();
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ Status: 'Completed', BillableDurationSeconds: '9' });
    w.close();
  });

  it('a damaged begin line naming a path elsewhere is skipped', () => {
    const evil = participantCodec.encode({ cdrId: '1a234567-89bc-41d2-8456-e78f9f01234e', accountId: ACCOUNT, region: 'us-east-1', meeting: undefined, participant: participantSummary() }).replace(ACCOUNT, '../../../etc');
    const parsed = parseJournalWith(`{"t":"journal","v":1,"ms":${T0}}\n${evil}`, participantCodec);
    expect(parsed.ok && parsed.contents.open.size).toBe(0);
    expect(parsed.ok && parsed.contents.skipped).toBe(1);
  });
});

describe('meeting CDRs to an S3-compatible bucket (s3rver on loopback)', () => {
  let s3server: S3rver;
  let s3dir = '';
  let data = '';
  let endpoint = '';
  const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };

  beforeAll(async () => {
    s3dir = mkdtempSync(path.join(os.tmpdir(), 'carillon-s3-'));
    data = mkdtempSync(path.join(os.tmpdir(), 'carillon-mcdr-up-'));
    s3server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: s3dir, configureBuckets: [{ name: 'cdrs' }] });
    const { port } = await s3server.run();
    endpoint = `http://127.0.0.1:${port}`;
    process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
    process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
  });
  afterAll(async () => {
    await s3server?.close();
    if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
    else process.env.AWS_ACCESS_KEY_ID = saved.id;
    if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
    else process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
    rmSync(s3dir, { recursive: true, force: true });
    rmSync(data, { recursive: true, force: true });
  });

  it('puts each participant record under its key and empties the spool', async () => {
    const clock = new ManualTimers(T0);
    const spool = path.join(data, 'cdrs');
    const uploader = new CdrUploader({ spool, bucket: () => 'cdrs', endpoint, region: 'us-east-1', logger, timers: clock });
    const events = new MeetingEvents((err) => {
      throw err;
    });
    const w = writeMeetingCdrs(events, { dir: spool, accountId: ACCOUNT, region: 'us-east-1', clock, logger, onWritten: (f) => uploader.enqueue(f) });
    uploader.start();
    const meeting = meetingSummary({ startedAtMs: T0 });
    for (const [id, joinPath] of [['p-in', 'dial-in'], ['p-out', 'dial-out']] as const) {
      const p = participantSummary({ participantId: id, joinPath, startedAtMs: T0, endedAtMs: T0 + 10_000 });
      events.emit({ type: 'participant-left', meeting, participant: p, reason: 'hangup' });
    }
    await uploader.idle();
    const s3 = new S3Client({ endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    const keys = ((await s3.send(new ListObjectsV2Command({ Bucket: 'cdrs' }))).Contents ?? []).map((o) => o.Key ?? '');
    expect(keys).toHaveLength(2);
    const bodies: MeetingCdrRecord[] = [];
    for (const k of keys) {
      expect(k).toMatch(new RegExp(`^Amazon-Chime-Business-Calling-CDRs/json/${ACCOUNT}/2026/11/03/${meeting.meetingId}_2026-11-03-17\\.10\\.00\\.020_[0-9a-f-]{36}$`));
      const o = await s3.send(new GetObjectCommand({ Bucket: 'cdrs', Key: k }));
      bodies.push(JSON.parse(await (o.Body?.transformToString() ?? Promise.resolve('{}'))) as MeetingCdrRecord);
    }
    expect(bodies.map((b) => b.Direction).sort()).toEqual(['Inbound', 'Outbound']);
    expect(readdirSync(spool, { recursive: true, encoding: 'utf8' }).filter((f) => /_[0-9a-f-]{36}$/.test(f))).toEqual([]);
    expect(uploader.counters).toEqual({ uploaded: 2, failed: 0 });
    w.close();
    s3.destroy();
    await uploader.close();
  });
});
