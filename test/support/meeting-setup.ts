/**
 * Run inside a test's network namespace (runScriptInNetns), where Carillon's API listens: creates
 * a meeting through the official Chime SDK Meetings client, applies Carillon's settings if given,
 * and prints `{ meetingId, pin, hostId }`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ChimeSDKMeetingsClient, CreateMeetingCommand } from '@aws-sdk/client-chime-sdk-meetings';
import { signedFetch } from './chime-api.ts';

export interface MeetingSetupInput {
  readonly endpoint: string;
  readonly dataDir: string;
  readonly settings?: Record<string, unknown>;
}

const input = JSON.parse(process.argv[2] ?? '{}') as MeetingSetupInput;
const creds = JSON.parse(readFileSync(path.join(input.dataDir, 'admin-credentials.json'), 'utf8')) as { AccessKeyId: string; SecretAccessKey: string };
const key = { accessKeyId: creds.AccessKeyId, secretAccessKey: creds.SecretAccessKey };
const meetings = new ChimeSDKMeetingsClient({ endpoint: input.endpoint, region: 'us-east-1', credentials: key });
const created = await meetings.send(new CreateMeetingCommand({ ClientRequestToken: `netns-${Date.now()}`, MediaRegion: 'us-east-1', ExternalMeetingId: 'room-systems' }));
const meetingId = created.Meeting?.MeetingId ?? '';
if (input.settings !== undefined) {
  const r = await signedFetch(input.endpoint, key, 'PATCH', `/carillon/v1/meetings/${meetingId}/settings`, input.settings);
  if (r.status !== 200) throw new Error(`settings: ${r.status} ${await r.text()}`);
}
const got = (await (await signedFetch(input.endpoint, key, 'GET', `/carillon/v1/meetings/${meetingId}`)).json()) as { Meeting: { DialInMeetingId: string; HostId: string } };
console.log(JSON.stringify({ meetingId, pin: got.Meeting.DialInMeetingId, hostId: got.Meeting.HostId }));
