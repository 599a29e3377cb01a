import path from 'node:path';
import { AppendFiles } from '../common/append-files.ts';
import type { Clock } from '../common/clock.ts';
import type { CallEvent, CallEvents } from '../signaling/calls/call-events.ts';
import type { TrunkCall } from '../common/route.ts';

/**
 * SIP message logs per voice connector (SPEC.md §4), written only for voice connectors whose
 * logging configuration has EnableSIPLogs: one JSON line per message Carillon received or sent
 * on either leg of their calls, `{voice_connector_id, aws_region, event_timestamp, call_id,
 * sip_message}`, to `<data>/logs/voice-connector/<id>/sip-messages.jsonl`. Digest credentials
 * are redacted. Messages are matched to calls by Call-ID once the call is known (the INVITE that
 * starts a call is seen before routing names its voice connector, so matching waits one turn).
 */
interface Pending {
  readonly callId: string;
  readonly text: string;
  readonly atMs: number;
}

/** What a SIP Call-ID belongs to: a voice connector call, or a request the voice connector refused. */
interface Owner {
  readonly trunk: TrunkCall;
  /** The call's transaction id, or the refused request's own Call-ID. */
  readonly logId: string;
  endedMs: number | undefined;
}

/** How long a message whose Call-ID is not known yet waits for its call (a challenged INVITE waits for the authenticated one). */
const WAIT_MS = 10_000;
/** Messages kept waiting at most (oldest dropped first). */
const MAX_WAITING = 20_000;

const CALL_ID = /^(?:call-id|i)[ \t]*:[ \t]*(\S+)/im;
const CREDENTIALS = /^((?:proxy-)?authorization[ \t]*:).*$/gim;

/** A message with its digest credentials replaced (usernames and responses are not for logs). */
export function redactSip(text: string): string {
  return text.replace(CREDENTIALS, '$1 <redacted>');
}

export interface SipMessageLogOptions {
  readonly dir: string;
  readonly clock: Clock;
  /** Whether a voice connector's logging configuration asks for SIP logs; `anyEnabled` short-cuts the common case of none. */
  readonly enabled: (voiceConnectorId: string) => boolean;
  readonly anyEnabled: () => boolean;
}

export class SipMessageLog {
  readonly #opts: SipMessageLogOptions;
  readonly #byCallId = new Map<string, Owner>();
  /** Live trunk calls (by Carillon's call id) and the SIP Call-IDs of their legs. */
  readonly #active = new Map<string, string[]>();
  /** Call-IDs whose call ended (or was refused), oldest first: forgotten 64 s later. */
  readonly #ended: { readonly id: string; readonly atMs: number }[] = [];
  readonly #files = new AppendFiles();
  #pending: Pending[] = [];
  #scheduled = false;

  constructor(events: CallEvents, opts: SipMessageLogOptions) {
    this.#opts = opts;
    events.on((e: CallEvent) => this.#onEvent(e));
  }

  #onEvent(e: CallEvent): void {
    // Nothing is tracked while no voice connector logs SIP (the common case costs nothing).
    if (e.type === 'started' && e.call.trunk !== undefined && this.#opts.anyEnabled()) {
      const ids: string[] = [];
      this.#active.set(e.call.id, ids);
      for (const leg of e.call.legs) this.#own(leg.wireCallId, e.call.trunk, e.call.transactionId, ids);
    } else if (e.type === 'refused' && e.trunk !== undefined && e.wireCallId !== undefined && !this.#byCallId.has(e.wireCallId) && this.#opts.anyEnabled()) {
      const now = this.#opts.clock.monoMs();
      this.#byCallId.set(e.wireCallId, { trunk: e.trunk, logId: e.wireCallId, endedMs: now });
      this.#ended.push({ id: e.wireCallId, atMs: now });
    } else if (e.type === 'ended') {
      const ids = this.#active.get(e.call.id);
      if (ids === undefined) return;
      this.#active.delete(e.call.id);
      const now = this.#opts.clock.monoMs();
      for (const id of ids) {
        const entry = this.#byCallId.get(id);
        if (entry !== undefined) entry.endedMs = now;
        this.#ended.push({ id, atMs: now });
      }
      this.#forgetOld(now);
    }
  }

  /** Messages after the end (the 200 to a BYE, retransmissions) still find their call for 64 s; then it is forgotten. */
  #forgetOld(now: number): void {
    let n = 0;
    while (n < this.#ended.length && (this.#ended[n] as { atMs: number }).atMs < now - 64_000) {
      const { id } = this.#ended[n] as { id: string };
      const entry = this.#byCallId.get(id);
      if (entry?.endedMs !== undefined && entry.endedMs < now - 64_000) this.#byCallId.delete(id);
      n++;
    }
    if (n > 0) this.#ended.splice(0, n);
  }

  /** A SIP message crossed the wire (`buf` as received or as sent). */
  tap(buf: Buffer): void {
    if (!this.#opts.anyEnabled()) return;
    const text = buf.toString('utf8');
    const m = CALL_ID.exec(text);
    if (m === null) return;
    this.#pending.push({ callId: m[1] as string, text, atMs: this.#opts.clock.nowMs() });
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.#flush());
    }
  }

  /** Records that SIP Call-ID `wireCallId` belongs to a call (its voice connector, its log id). */
  #own(wireCallId: string | undefined, trunk: TrunkCall, logId: string, ids: string[]): void {
    if (wireCallId === undefined || ids.includes(wireCallId)) return;
    ids.push(wireCallId);
    this.#byCallId.set(wireCallId, { trunk, logId, endedMs: undefined });
  }

  #ownerOf(callId: string): Owner | undefined {
    return this.#byCallId.get(callId);
  }

  #flush(): void {
    this.#scheduled = false;
    const batch = this.#pending;
    this.#pending = [];
    const now = this.#opts.clock.nowMs();
    for (const p of batch) {
      const owner = this.#ownerOf(p.callId);
      if (owner === undefined) {
        // Not known yet: wait a while for its call (bounded in time and count).
        if (now - p.atMs < WAIT_MS) this.#pending.push(p);
        continue;
      }
      const trunk = owner.trunk;
      if (!this.#opts.enabled(trunk.voiceConnectorId)) continue;
      const line = { voice_connector_id: trunk.voiceConnectorId, aws_region: trunk.region, event_timestamp: new Date(p.atMs).toISOString(), call_id: owner.logId, sip_message: redactSip(p.text) };
      this.#files.append(path.join(this.#opts.dir, trunk.voiceConnectorId, 'sip-messages.jsonl'), `${JSON.stringify(line)}\n`);
    }
    if (this.#pending.length > MAX_WAITING) this.#pending.splice(0, this.#pending.length - MAX_WAITING);
    if (this.#pending.length > 0 && !this.#scheduled) {
      this.#scheduled = true;
      setTimeout(() => this.#flush(), 250).unref();
    }
    this.#forgetOld(this.#opts.clock.monoMs());
  }

  /** Writes out what is pending and closes the files. */
  flush(): Promise<void> {
    this.#flush();
    return this.#files.flush();
  }
}
