import { ChimeSDKMeetingsClient, CreateMeetingCommand } from '@aws-sdk/client-chime-sdk-meetings';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { signedFetch } from './chime-api.ts';
import { MeetingPeer } from './meeting-peer.ts';
import { meetingUac } from './meeting-scenarios.ts';
import type { MeetingUacOptions } from './meeting-scenarios.ts';
import { freePort } from './ports.ts';
import { until } from './rtp-peer.ts';
import { startSipp } from './sipp.ts';
import type { SippHandle } from './sipp.ts';
import type { TestServer } from './server.ts';

/** A test meeting: its SDK id and the IDs dialed. */
export interface TestMeeting {
  readonly meetingId: string;
  readonly pin: string;
  readonly hostId: string;
}

/** One participant: SIPp's call and its media. */
export interface TestParticipant {
  readonly sipp: SippHandle;
  readonly media: MeetingPeer;
}

/** The meetings of a test server, driven as its admin: the official SDK client and signed Carillon routes. */
export interface MeetingHarness {
  readonly meetings: ChimeSDKMeetingsClient;
  api(method: string, p: string, body?: unknown): Promise<Response>;
  /** Creates a meeting (SDK) and applies Carillon's settings when given. */
  create(settings?: Record<string, unknown>): Promise<TestMeeting>;
  /** Dials `user@<domain>` with SIPp, its media on a fresh MeetingPeer (started: Carillon's first packet names where to send). */
  dial(user: string, o?: Partial<MeetingUacOptions> & { readonly start?: boolean; readonly transport?: 'udp' | 'tcp'; readonly videoPort?: number; readonly contentPort?: number }): Promise<TestParticipant>;
  /** The live view of a meeting (GET /carillon/v1/meetings/{id}). */
  live(meetingId: string): Promise<{ Participants?: { ParticipantId: string; State: string; Muted: boolean }[]; Locked?: boolean; Started?: boolean } | undefined>;
  closeAll(): void;
}

export function meetingHarness(t: TestServer, domain = 'carillon.local'): MeetingHarness {
  const endpoint = `http://127.0.0.1:${t.ports.api}`;
  const creds = JSON.parse(readFileSync(path.join(t.dataDir, 'admin-credentials.json'), 'utf8')) as { AccessKeyId: string; SecretAccessKey: string };
  const key = { accessKeyId: creds.AccessKeyId, secretAccessKey: creds.SecretAccessKey };
  const meetings = new ChimeSDKMeetingsClient({ endpoint, region: 'us-east-1', credentials: key });
  const api = (method: string, p: string, body?: unknown): Promise<Response> => signedFetch(endpoint, key, method, p, body);
  const peers: MeetingPeer[] = [];
  const calls: SippHandle[] = [];
  return {
    meetings,
    api,
    async create(settings) {
      const created = await meetings.send(new CreateMeetingCommand({ ClientRequestToken: `t-${Math.random().toString(36).slice(2)}`, MediaRegion: 'us-east-1', ExternalMeetingId: `ext-${Math.random().toString(36).slice(2, 10)}` }));
      const meetingId = created.Meeting?.MeetingId ?? '';
      if (settings !== undefined) {
        const r = await api('PATCH', `/carillon/v1/meetings/${meetingId}/settings`, settings);
        if (r.status !== 200) throw new Error(`settings not applied: ${r.status} ${await r.text()}`);
      }
      const r = await api('GET', `/carillon/v1/meetings/${meetingId}`);
      const m = ((await r.json()) as { Meeting: { DialInMeetingId: string; HostId: string } }).Meeting;
      return { meetingId, pin: m.DialInMeetingId, hostId: m.HostId };
    },
    async dial(user, o = {}) {
      const media = await MeetingPeer.open(o.payloadType ?? 0);
      peers.push(media);
      const sipp = startSipp({
        scenario: { name: 'meeting-uac', xml: meetingUac({ domain, ...o, ...(o.videoPort === undefined ? {} : { video: true }), ...(o.contentPort === undefined ? {} : { content: true }) }) },
        remote: `127.0.0.1:${o.transport === 'tcp' ? t.ports.sipTcp : t.ports.sipUdp}`,
        port: await freePort(),
        transport: o.transport ?? 'udp',
        calls: 1,
        service: user,
        injection: [o.videoPort === undefined && o.contentPort === undefined ? String(media.port) : `${media.port};${o.videoPort ?? 0};${o.contentPort ?? 0}`],
        ...(o.videoPort === undefined && o.contentPort === undefined ? {} : { extraArgs: ['-trace_logs', '-trace_msg'] }),
        timeoutSec: 90,
      });
      calls.push(sipp);
      if (o.start !== false) await media.start();
      return { sipp, media };
    },
    async live(meetingId) {
      const r = await api('GET', `/carillon/v1/meetings/${meetingId}`);
      const body = (await r.json()) as { Meeting?: { Live?: { Participants?: { ParticipantId: string; State: string; Muted: boolean }[]; Locked?: boolean; Started?: boolean } } };
      return body.Meeting?.Live;
    },
    closeAll() {
      for (const p of peers) p.close();
      for (const c of calls) c.kill();
    },
  };
}

/** Carillon's 200 OK SDP to a participant that offered video or content (SIPp's message trace, -trace_msg). */
export async function answeredSdp(p: TestParticipant, must = 'm='): Promise<string> {
  let sdp = '';
  await until(() => {
    const f = readdirSync(p.sipp.dir).find((x) => x.endsWith('_messages.log'));
    const text = f === undefined ? '' : readFileSync(path.join(p.sipp.dir, f), 'latin1');
    const m = /SIP\/2\.0 200 OK[\s\S]*?\r?\n\r?\n(v=0[\s\S]*?)(?:\r?\n\r?\n|-{10})/.exec(text);
    sdp = m?.[1] ?? '';
    return sdp.includes(must);
  }, 10_000);
  return sdp;
}

/** The video port Carillon answered, as the SIPp scenario logged it. */
export async function answeredVideoPort(p: TestParticipant): Promise<number> {
  let port = 0;
  await until(() => {
    const log = readdirSync(p.sipp.dir).find((f) => f.endsWith('_logs.log'));
    const m = log === undefined ? null : /carillon-video-port (\d+)/.exec(readFileSync(path.join(p.sipp.dir, log), 'utf8'));
    port = m === null ? 0 : Number(m[1]);
    return port > 0;
  }, 10_000);
  return port;
}

/** Waits `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
