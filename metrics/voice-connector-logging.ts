import type { LoggingDocument } from '../common/config-documents.ts';
import type { ConfigSnapshot } from '../common/config-snapshot.ts';

/**
 * A voice connector's logging configuration (PutVoiceConnectorLoggingConfiguration): SIP message
 * logs and media metric logs, both off when it has none.
 */
export function loggingOf(snap: ConfigSnapshot, voiceConnectorId: string): LoggingDocument {
  return snap.voiceConnectors.get(voiceConnectorId)?.documents.logging ?? {};
}

/**
 * Whether any voice connector keeps SIP message logs, read once per snapshot generation (the SIP
 * log's tap asks this for every message).
 */
export function sipLogsAnywhere(): (snap: ConfigSnapshot) => boolean {
  let seen = { generation: -1, any: false };
  return (snap) => {
    if (seen.generation !== snap.generation) seen = { generation: snap.generation, any: [...snap.voiceConnectors.values()].some((vc) => vc.documents.logging?.EnableSIPLogs === true) };
    return seen.any;
  };
}
