/**
 * Branded identifiers. Each has one constructor at the boundary where it is minted or parsed;
 * everything past that point carries the brand, so a CallId can't be passed where a LegId goes.
 */
declare const brand: unique symbol;
export type Brand<T, B extends string> = T & { readonly [brand]: B };

export type CallId = Brand<string, 'CallId'>;
export type LegId = Brand<string, 'LegId'>;
export type SipCallId = Brand<string, 'SipCallId'>;
export type VoiceConnectorId = Brand<string, 'VoiceConnectorId'>;

export const callId = (s: string): CallId => s as CallId;
export const legId = (s: string): LegId => s as LegId;
export const sipCallId = (s: string): SipCallId => s as SipCallId;

const VC_ID = /^[a-z0-9]{22}$/;
/** Voice connector ids are 22 lowercase letters/digits (Chime). Returns undefined when malformed. */
export function voiceConnectorId(s: string): VoiceConnectorId | undefined {
  return VC_ID.test(s) ? (s as VoiceConnectorId) : undefined;
}
