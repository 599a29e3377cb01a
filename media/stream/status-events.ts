import crypto from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import type { NodeLookup } from '../../common/resolver.ts';
import type { AppendFiles } from '../../common/append-files.ts';

/**
 * `Chime VoiceConnector Streaming Status` events in the EventBridge envelope (source
 * `aws.chime`), one per leg and status, and their best-effort delivery: every target gets every
 * event on its own, failures are counted, nothing waits for them.
 */
export type StreamingStatus = 'STARTED' | 'UPDATED' | 'ENDED' | 'FAILED';

/** The detail of one event; keys left undefined are left out (as Chime's model did). */
export interface StreamingDetail {
  readonly streamingStatus: StreamingStatus;
  /** A call leg's (absent for a recorded meeting's mix). */
  readonly voiceConnectorId?: string | undefined;
  readonly transactionId: string;
  /** A call leg's SIP Call-ID (absent for a recorded meeting's mix). */
  readonly callId?: string | undefined;
  /** A recorded meeting's mix: which meeting (Carillon's addition; absent for call legs). */
  readonly meetingId?: string | undefined;
  readonly meetingPin?: string | undefined;
  readonly externalMeetingId?: string | undefined;
  readonly organizerUserId?: string | undefined;
  readonly organizerEmail?: string | undefined;
  readonly direction?: 'Inbound' | 'Outbound' | undefined;
  readonly mediaType?: 'audio/L16' | undefined;
  readonly startFragmentNumber?: string | undefined;
  readonly startTime?: string | undefined;
  readonly endTime?: string | undefined;
  readonly streamArn?: string | undefined;
  readonly fromNumber?: string | undefined;
  readonly toNumber?: string | undefined;
  readonly isCaller?: boolean | undefined;
  readonly inviteHeaders?: Readonly<Record<string, string>> | undefined;
  readonly updateHeaders?: Readonly<Record<string, string>> | undefined;
  readonly siprecMetadata?: string | undefined;
  readonly sdp?: { readonly mediaIndex: number; readonly mediaLabel: string } | undefined;
  readonly failTime?: string | undefined;
  readonly failureReason?: string | undefined;
}

/** The detail types Carillon sends: voice connector streaming status, and meeting lifecycle events. */
export type ChimeDetailType = 'Chime VoiceConnector Streaming Status' | 'Chime Meeting State Change';

export interface StreamingEnvelope {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': ChimeDetailType;
  readonly source: 'aws.chime';
  readonly account: string;
  readonly time: string;
  readonly region: string;
  readonly resources: readonly string[];
  readonly detail: Record<string, unknown>;
}

/** The envelope for `detail`, detail keys in alphabetical order with `version` "0", absent ones left out. */
export function streamingEnvelope(detail: StreamingDetail, account: string, region: string, nowMs: number): StreamingEnvelope {
  return chimeEnvelope('Chime VoiceConnector Streaming Status', { ...detail }, account, region, nowMs);
}

/** An `aws.chime` EventBridge envelope for `detail` (keys sorted, `version` "0" added, undefined ones left out). */
export function chimeEnvelope(detailType: ChimeDetailType, detail: Readonly<Record<string, unknown>>, account: string, region: string, nowMs: number): StreamingEnvelope {
  const full: Record<string, unknown> = { ...detail, version: '0' };
  const sorted: Record<string, unknown> = {};
  for (const k of Object.keys(full).sort()) if (full[k] !== undefined) sorted[k] = full[k];
  return {
    version: '0',
    id: crypto.randomUUID(),
    'detail-type': detailType,
    source: 'aws.chime',
    account,
    time: `${new Date(nowMs).toISOString().slice(0, 19)}Z`,
    region,
    resources: [],
    detail: sorted,
  };
}

/** Somewhere events go (a file, a webhook, a bus). */
export interface EventTarget {
  readonly name: string;
  /** Whether this event is for this target (absent: every event is). */
  readonly wants?: (event: StreamingEnvelope) => boolean;
  deliver(event: StreamingEnvelope, body: string): Promise<void>;
}

export interface DeliveryCounters {
  delivered: number;
  failed: number;
}

/** Hands every event to every target, in the background; a target's failure is counted and reported, never thrown. */
export class StatusEvents {
  readonly counters = new Map<string, DeliveryCounters>();
  readonly #targets: readonly EventTarget[];
  readonly #onError: (target: string, err: unknown) => void;
  readonly #pending = new Set<Promise<void>>();

  constructor(targets: readonly EventTarget[], onError: (target: string, err: unknown) => void) {
    this.#targets = targets;
    this.#onError = onError;
    for (const t of targets) this.counters.set(t.name, { delivered: 0, failed: 0 });
  }

  emit(event: StreamingEnvelope): void {
    const body = JSON.stringify(event);
    for (const t of this.#targets) {
      if (t.wants !== undefined && !t.wants(event)) continue;
      const c = this.counters.get(t.name) as DeliveryCounters;
      const p = t.deliver(event, body).then(
        () => void c.delivered++,
        (err: unknown) => {
          c.failed++;
          this.#onError(t.name, err);
        },
      );
      this.#pending.add(p);
      void p.finally(() => this.#pending.delete(p));
    }
  }

  /** Resolves once every delivery started so far has finished (shutdown, tests). */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }
}

/** `<data>/streams/events.jsonl`: one envelope per line. */
export function fileEventTarget(files: AppendFiles, dir: string): EventTarget {
  const file = path.join(dir, 'events.jsonl');
  return {
    name: 'file',
    deliver(_event, body) {
      files.append(file, `${body}\n`);
      return Promise.resolve();
    },
  };
}

export interface WebhookOptions {
  readonly url: string;
  /** HMAC key: `Chime-Signature` = base64 HMAC-SHA256 over `<timestamp>|<body>`. */
  readonly secret: string;
  readonly timeoutMs?: number;
  readonly retries?: number;
  /** How the webhook's host name resolves (the process's Resolver); absent: the system's. */
  readonly lookup?: NodeLookup | undefined;
}

/** The signature a webhook receiver checks: base64 HMAC-SHA256 of `<timestamp>|<body>`. */
export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return crypto.createHmac('sha256', secret).update(`${timestamp}|${body}`).digest('base64');
}

/**
 * A signed webhook: POST of the envelope with `Chime-Request-Timestamp` (epoch ms) and
 * `Chime-Signature`; anything but a 2xx within the timeout (2 s) is retried twice.
 */
export function webhookTarget(o: WebhookOptions): EventTarget {
  const timeoutMs = o.timeoutMs ?? 2000;
  const attempts = 1 + (o.retries ?? 2);
  const url = new URL(o.url);
  return {
    name: `webhook:${new URL(o.url).host}`,
    async deliver(_event, body) {
      let last: unknown;
      for (let i = 0; i < attempts; i++) {
        const timestamp = String(Date.now());
        try {
          const status = await postOnce(
            url,
            { 'content-type': 'application/json', 'chime-request-timestamp': timestamp, 'chime-signature': webhookSignature(o.secret, timestamp, body) },
            body,
            timeoutMs,
            o.lookup,
          );
          if (status >= 200 && status < 300) return;
          last = new Error(`HTTP ${status}`);
        } catch (err) {
          last = err;
        }
      }
      throw last;
    },
  };
}

/**
 * One POST (node:http, whose `lookup` the process's Resolver answers; fetch takes none): the
 * status once the whole answer has been read; rejects on a network error or past `timeoutMs`.
 */
function postOnce(url: URL, headers: Record<string, string>, body: string, timeoutMs: number, lookup: NodeLookup | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const lib = url.protocol === 'https:' ? https : http;
    const req = lib.request(
      url,
      { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, signal: AbortSignal.timeout(timeoutMs), ...(lookup === undefined ? {} : { lookup }) },
      (res) => {
        res.on('error', reject);
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('close', () => reject(new Error('answer cut short')));
        res.resume();
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
