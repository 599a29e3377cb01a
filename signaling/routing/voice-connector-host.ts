/**
 * A voice connector's own host name, `<voiceConnectorId>.voiceconnector.<domain>` (its
 * OutboundHostName): what a PBX addresses termination calls and OPTIONS keepalives to.
 */

/** The voice connector id a host names under `domain` (case-insensitive), or undefined when it names none. */
export function voiceConnectorIdOfHost(host: string, domain: string): string | undefined {
  const suffix = `.voiceconnector.${domain.toLowerCase()}`;
  const h = host.toLowerCase();
  if (!h.endsWith(suffix) || h.length === suffix.length) return undefined;
  return h.slice(0, -suffix.length);
}

/** A voice connector's host name under `domain`: the digest realm and OutboundHostName. */
export function voiceConnectorHost(voiceConnectorId: string, domain: string): string {
  return `${voiceConnectorId}.voiceconnector.${domain.toLowerCase()}`;
}
