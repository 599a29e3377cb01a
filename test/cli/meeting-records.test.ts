import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import pino from 'pino';
import client from 'prom-client';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMeetingRecords } from '../../cli/meeting-records.ts';
import { AppendFiles } from '../../common/append-files.ts';
import { fileEventTarget, StatusEvents } from '../../media/stream/status-events.ts';
import type { MeetingCdrRecord } from '../../metrics/meeting-cdrs.ts';
import { WEEK_MS } from '../../metrics/usage-report.ts';
import { MeetingEvents } from '../../signaling/calls/meeting-events.ts';
import { ManualTimers } from '../support/manual-timers.ts';
import { meetingSummary, participantSummary } from '../support/meetings.ts';

const SUN = Date.UTC(2026, 10, 1);
const logger = pino({ level: 'silent' });

describe('meeting records wired over one meeting event bus', () => {
  let s3server: S3rver;
  let s3dir = '';
  let data = '';
  let endpoint = '';
  const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };

  beforeAll(async () => {
    s3dir = mkdtempSync(path.join(os.tmpdir(), 'carillon-s3-'));
    data = mkdtempSync(path.join(os.tmpdir(), 'carillon-mrec-'));
    s3server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: s3dir, configureBuckets: [{ name: 'reports' }] });
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

  it('a meeting gives its participant CDRs, metrics, events on the targets, and the week\'s usage report in the bucket', async () => {
    const clock = new ManualTimers(SUN + 3_600_000);
    const events = new MeetingEvents((err) => {
      throw err;
    });
    const registry = new client.Registry();
    const files = new AppendFiles();
    const streamsDir = path.join(data, 'streams');
    const status = new StatusEvents([fileEventTarget(files, streamsDir)], (t, err) => {
      throw new Error(`${t}: ${String(err)}`);
    });
    const cdrFiles: string[] = [];
    const records = createMeetingRecords({
      events,
      dataDir: data,
      accountId: '111122223333',
      region: 'us-east-1',
      clock,
      timers: clock,
      logger,
      statusEvents: status,
      onCdrWritten: (f) => cdrFiles.push(f),
      usage: {
        directory: () =>
          Promise.resolve([
            { accountId: 'acct-1', name: 'Example Sales', users: [{ userId: 'user-ana', displayName: 'Ana', email: 'ana@example.com', registrationStatus: 'Registered', createdAtMs: SUN - 86_400_000, lastLoginMs: undefined }] },
          ]),
        bucket: () => 'reports',
        endpoint,
      },
    });
    expect(records.startCdrs()).toBe(0);
    await records.startReports();
    records.addMetrics(registry);

    const meeting = meetingSummary({ startedAtMs: clock.nowMs() });
    const host = participantSummary({ participantId: 'host', role: 'host', startedAtMs: clock.nowMs() });
    events.emit({ type: 'participant-connected', meeting, participant: host });
    events.emit({ type: 'meeting-started', meeting });
    events.emit({ type: 'participant-joined', meeting, participant: { ...host, joinedAtMs: clock.nowMs() } });
    expect(await registry.getSingleMetricAsString('carillon_meetings_active')).toMatch(/^carillon_meetings_active 1$/m);
    clock.advance(30_000);
    events.emit({ type: 'participant-left', meeting, participant: { ...host, joinedAtMs: SUN + 3_600_000, endedAtMs: clock.nowMs() }, reason: 'hangup' });
    events.emit({ type: 'meeting-ended', meeting: { ...meeting, endedAtMs: clock.nowMs() }, reason: 'last-left', participants: [] });

    expect(cdrFiles).toHaveLength(1);
    const cdr = JSON.parse(readFileSync(cdrFiles[0] as string, 'utf8')) as MeetingCdrRecord;
    expect(cdr).toMatchObject({ ConferenceId: meeting.meetingId, ParticipantRole: 'host', BillableDurationSeconds: '30', Region: 'us-east-1' });
    await status.settled();
    await files.flush();
    const types = readFileSync(path.join(streamsDir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { detail: { eventType: string } }).detail.eventType);
    expect(types).toEqual(['chime:MeetingStarted', 'chime:AttendeeJoined', 'chime:AttendeeLeft', 'chime:MeetingEnded']);
    expect(await registry.getSingleMetricAsString('carillon_meetings_active')).toMatch(/^carillon_meetings_active 0$/m);

    clock.advance(WEEK_MS);
    await records.usage.idle();
    await records.close();
    const s3 = new S3Client({ endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    const keys = ((await s3.send(new ListObjectsV2Command({ Bucket: 'reports' }))).Contents ?? []).map((o) => o.Key ?? '');
    expect(keys).toEqual(['Amazon-Chime-User-Activity-Reports/csv/111122223333/2026/11/01/Example+Sales_acct-1_20261101.csv']);
    const o = await s3.send(new GetObjectCommand({ Bucket: 'reports', Key: keys[0] }));
    expect(o.ContentType).toBe('text/csv');
    expect((await o.Body?.transformToString())?.split('\r\n')[1]).toBe('Example Sales,20261101,Ana,ana@example.com,Registered,20261031,,1,1,0');
    // Put, then removed from the local report directory.
    expect(readdirSync(path.join(data, 'reports'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.csv'))).toEqual([]);
    s3.destroy();
  });
});
