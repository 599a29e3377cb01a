import crypto from 'node:crypto';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Clock } from '../common/clock.ts';
import type { CallEvent, CallEvents } from '../signaling/calls/call-events.ts';
import type { Call } from '../signaling/calls/call.ts';
import type { TrunkCall } from '../signaling/routing/static-routes.ts';

/**
 * Call detail records for voice connector calls, one per call leg, in Chime's CDR JSON (SPEC.md
 * §7: every value a string, SchemaVersion "2.0") under Chime's key layout, written to
 * `<data>/cdrs/<key>` when the call ends. Each file is written whole to a temporary name and
 * renamed, before the end of the call is reported anywhere else: a process that dies after a
 * call ended has its CDRs on disk. Fields Chime had for meetings (ConferencePin, Organizer…) are
 * empty strings; the voice connector fields Chime's Voice Connector CDRs carried
 * (VoiceConnectorId, TransactionId, CallId, Region, Status) are added.
 */
export interface CdrRecord {
  readonly SchemaVersion: '2.0';
  readonly CdrId: string;
  readonly ServiceCode: string;
  readonly ChimeAccountId: string;
  readonly AwsAccountId: string;
  readonly ConferenceId: string;
  readonly ConferencePin: string;
  readonly OrganizerUserId: string;
  readonly OrganizerEmail: string;
  readonly CallerPhoneNumber: string;
  readonly CallerCountry: string;
  readonly DestinationPhoneNumber: string;
  readonly DestinationCountry: string;
  readonly ConferenceStartTimeEpochSeconds: string;
  readonly ConferenceEndTimeEpochSeconds: string;
  readonly StartTimeEpochSeconds: string;
  readonly EndTimeEpochSeconds: string;
  readonly BillableDurationSeconds: string;
  readonly BillableDurationMinutes: string;
  readonly Direction: 'Inbound' | 'Outbound';
  readonly VoiceConnectorId: string;
  readonly TransactionId: string;
  readonly CallId: string;
  readonly Region: string;
  /** 'Caller' (customer side of a termination call, carrier side of an origination call) or 'Callee'. */
  readonly Leg: 'Caller' | 'Callee';
  readonly Status: 'Completed' | 'Failed';
  readonly SipStatusCode: string;
}

/** Chime's minutes with one decimal and no leading zero: 24 s → ".4", 90 s → "1.5", 0 → "0". */
export function billableMinutes(seconds: number): string {
  if (seconds <= 0) return '0';
  const tenths = Math.ceil((seconds / 60) * 10 - 1e-9);
  const s = (tenths / 10).toFixed(1);
  return s.startsWith('0.') ? s.slice(1) : s;
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** `Amazon-Chime-Business-Calling-CDRs/json/<account>/<yyyy>/<mm>/<dd>/<conferenceId>_<yyyy-mm-dd-HH.MM.SS.mmm>_<cdrId>` (UTC). */
export function cdrKey(r: CdrRecord, startMs: number): string {
  const d = new Date(startMs);
  const [y, m, day] = [d.getUTCFullYear(), pad(d.getUTCMonth() + 1), pad(d.getUTCDate())];
  const stamp = `${y}-${m}-${day}-${pad(d.getUTCHours())}.${pad(d.getUTCMinutes())}.${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}`;
  return `Amazon-Chime-Business-Calling-CDRs/json/${r.AwsAccountId}/${y}/${m}/${day}/${r.ConferenceId}_${stamp}_${r.CdrId}`;
}

export interface CdrTimes {
  /** Wall-clock ms: call start, answer (if any), end. */
  readonly startMs: number;
  readonly answerMs: number | undefined;
  readonly endMs: number;
}

/** The two legs' records of one ended call. */
export function buildCdrs(call: Call, trunk: TrunkCall, times: CdrTimes, accountId: string, transactionId: string): CdrRecord[] {
  const secs = (ms: number): string => String(Math.floor(ms / 1000));
  const billable = times.answerMs === undefined ? 0 : Math.max(0, Math.ceil((times.endMs - times.answerMs) / 1000));
  const common = {
    SchemaVersion: '2.0' as const,
    ServiceCode: 'AmazonChimeVoiceConnector',
    ChimeAccountId: '',
    AwsAccountId: accountId,
    ConferenceId: transactionId,
    ConferencePin: '',
    OrganizerUserId: '',
    OrganizerEmail: '',
    CallerPhoneNumber: trunk.fromNumber ?? '',
    CallerCountry: trunk.fromCountry ?? '',
    DestinationPhoneNumber: trunk.toNumber,
    DestinationCountry: trunk.toCountry ?? '',
    ConferenceStartTimeEpochSeconds: secs(times.startMs),
    ConferenceEndTimeEpochSeconds: secs(times.endMs),
    StartTimeEpochSeconds: secs(times.answerMs ?? times.startMs),
    EndTimeEpochSeconds: secs(times.endMs),
    BillableDurationSeconds: String(billable),
    BillableDurationMinutes: billableMinutes(billable),
    Direction: trunk.direction,
    VoiceConnectorId: trunk.voiceConnectorId,
    TransactionId: transactionId,
    Region: trunk.region,
    Status: times.answerMs === undefined ? ('Failed' as const) : ('Completed' as const),
    SipStatusCode: String(call.finalStatus ?? ''),
  };
  return [
    { ...common, CdrId: crypto.randomUUID(), CallId: call.a.dialog?.callId ?? '', Leg: 'Caller' },
    { ...common, CdrId: crypto.randomUUID(), CallId: call.b.dialog?.callId ?? '', Leg: 'Callee' },
  ];
}

export interface CdrWriterOptions {
  readonly dir: string;
  readonly accountId: string;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Told of each CDR file once it is complete on disk (the bucket uploader). */
  readonly onWritten?: ((file: string) => void) | undefined;
}

/** Writes every ended voice connector call's CDRs; returns a function that stops listening. */
export function writeCdrs(events: CallEvents, opts: CdrWriterOptions): () => void {
  let seq = 0;
  // Day directories made so far (one mkdir per day, not per record); forgotten if one vanishes.
  const made = new Set<string>();
  return events.on((e: CallEvent) => {
    if (e.type !== 'ended' || e.call.trunk === undefined) return;
    const call = e.call;
    const trunk = call.trunk as TrunkCall;
    // Mono → wall: the call's times are monotonic; anchor them on now.
    const wallNow = opts.clock.nowMs();
    const monoNow = opts.clock.monoMs();
    const wall = (mono: number): number => Math.round(wallNow - (monoNow - mono));
    const times: CdrTimes = { startMs: wall(call.startedMs), answerMs: call.answeredMs === undefined ? undefined : wall(call.answeredMs), endMs: wall(call.endedMs ?? monoNow) };
    for (const r of buildCdrs(call, trunk, times, opts.accountId, call.transactionId)) {
      const file = path.join(opts.dir, cdrKey(r, times.startMs));
      const dir = path.dirname(file);
      const tmp = `${file}.${process.pid}.${seq++}.tmp`;
      const body = `${JSON.stringify(r)}\n`;
      try {
        if (!made.has(dir)) {
          mkdirSync(dir, { recursive: true });
          made.add(dir);
        }
        try {
          writeFileSync(tmp, body);
        } catch {
          // The directory went away (cleared by hand, or a spool sweep): make it again once.
          mkdirSync(dir, { recursive: true });
          writeFileSync(tmp, body);
        }
        renameSync(tmp, file);
        opts.onWritten?.(file);
      } catch (err) {
        made.delete(dir);
        opts.logger.error({ err, call: call.id, cdr: r.CdrId }, 'CDR not written');
      }
    }
  });
}
