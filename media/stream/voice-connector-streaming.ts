import type { NotificationTarget } from '../../common/config-documents.ts';
import type { ConfigSnapshot } from '../../common/config-snapshot.ts';
import type { HeaderField } from '../../common/call-leg.ts';

/**
 * Which calls stream and what their streams carry, from a voice connector's streaming
 * configuration (PutVoiceConnectorStreamingConfiguration): a voice connector streams while it has
 * a streaming document that is not Disabled; its StreamingNotificationTargets pick among
 * EventBridge, SNS and SQS; DataRetentionInHours goes with each leg's metadata.
 */

/** Whether voice connector `voiceConnectorId`'s calls stream ('default', the static routes' calls, never does). */
export function streamsCalls(snap: ConfigSnapshot, voiceConnectorId: string): boolean {
  if (voiceConnectorId === 'default') return false;
  const doc = snap.voiceConnectors.get(voiceConnectorId)?.documents.streaming;
  return doc !== undefined && doc.Disabled !== true;
}

/** Whether a voice connector asked for its streaming status events at `target`. */
export function notificationAsked(snap: ConfigSnapshot, voiceConnectorId: string, target: NotificationTarget): boolean {
  const doc = snap.voiceConnectors.get(voiceConnectorId)?.documents.streaming;
  return (doc?.StreamingNotificationTargets ?? []).some((t) => t.NotificationTarget === target);
}

/** How long a voice connector's streams are kept, hours (0 when it says nothing). */
export function retentionHoursOf(snap: ConfigSnapshot, voiceConnectorId: string): number {
  return snap.voiceConnectors.get(voiceConnectorId)?.documents.streaming?.DataRetentionInHours ?? 0;
}

/** The INVITE headers Chime puts in a stream's `inviteHeaders`, lower-case names. */
const INVITE_HEADERS = ['from', 'to', 'call-id', 'cseq', 'contact', 'content-type', 'content-length'] as const;

/** A leg's setup fields as a stream's `inviteHeaders` (the first of each name). */
export function inviteHeadersOf(fields: readonly HeaderField[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of INVITE_HEADERS) {
    const v = fields.find((f) => f.name === name)?.value;
    if (v !== undefined) out[name] = v;
  }
  return out;
}
