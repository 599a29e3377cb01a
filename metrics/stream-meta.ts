import type { MediaSideName } from '../media/protocol.ts';
import type { StreamLegMeta } from '../media/stream/streaming.ts';
import { inviteHeadersOf } from '../media/stream/voice-connector-streaming.ts';
import { legOf } from '../signaling/calls/call-summary.ts';
import type { CallSummary } from '../signaling/calls/call-summary.ts';

/**
 * A streamed call leg's metadata (what its stream's STARTED event and MKV tags say), read from the
 * call's latest summary when the leg's first fragment is stored: by then the callee's leg (after
 * any failover) is the one that answered. undefined for a call on no voice connector.
 */
export function streamLegMetaOf(call: CallSummary, side: MediaSideName, retentionHours: (voiceConnectorId: string) => number): StreamLegMeta | undefined {
  const trunk = call.trunk;
  const leg = legOf(call, side === 'a' ? 'caller' : 'callee');
  if (trunk === undefined || leg?.wireCallId === undefined) return undefined;
  return {
    voiceConnectorId: trunk.voiceConnectorId,
    transactionId: call.transactionId,
    callId: leg.wireCallId,
    direction: trunk.direction,
    isCaller: side === 'a',
    fromNumber: trunk.fromNumber,
    toNumber: trunk.toNumber,
    inviteHeaders: inviteHeadersOf(leg.setupHeaders.length > 0 ? leg.setupHeaders : (legOf(call, 'caller')?.setupHeaders ?? [])),
    region: trunk.region,
    retentionHours: retentionHours(trunk.voiceConnectorId),
  };
}
