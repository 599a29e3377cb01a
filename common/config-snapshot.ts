import type { VoiceConnectorDocuments } from './config-documents.ts';

/**
 * The configuration signaling reads (DESIGN.md): an immutable snapshot of everything calls need
 * — voice connectors with their typed configuration documents and digest credentials, groups,
 * carriers, and which voice connector or group each number belongs to. The control plane builds
 * one from its store after every change (control-plane/config-snapshot.ts) and swaps it in whole;
 * routing, streaming, logging and metrics read it and never see a half-applied change.
 */

/** A termination credential as the store keeps it: digest HA1 hashes (RFC 7616), never the password. */
export interface DigestAccount {
  readonly username: string;
  readonly realm: string;
  readonly ha1Md5: string;
  readonly ha1Sha256: string;
}

export interface VoiceConnectorConfig {
  readonly id: string;
  readonly name: string;
  readonly awsRegion: string;
  readonly requireEncryption: boolean;
  /** Configuration documents by kind (each checked against its schema, common/config-documents.ts). */
  readonly documents: VoiceConnectorDocuments;
  readonly credentials: readonly DigestAccount[];
}

export type CarrierProtocol = 'UDP' | 'TCP' | 'TLS';

export interface CarrierConfig {
  readonly id: string;
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly protocol: CarrierProtocol;
  readonly priority: number;
  readonly weight: number;
  readonly prefixes: readonly string[];
  readonly credentials: { readonly username: string; readonly password: string } | undefined;
}

export interface NumberConfig {
  readonly kind: 'VoiceConnectorId' | 'VoiceConnectorGroupId';
  readonly id: string;
  /** The number's own calling name (CNAM), if set. */
  readonly callingName: string | undefined;
}

export interface GroupMember {
  readonly voiceConnectorId: string;
  readonly priority: number;
}

export interface ConfigSnapshot {
  /** Increases by one with every rebuild. */
  readonly generation: number;
  readonly voiceConnectors: ReadonlyMap<string, VoiceConnectorConfig>;
  /** A group's members, by priority (low first). */
  readonly groups: ReadonlyMap<string, readonly GroupMember[]>;
  /** E.164 → the voice connector or group it is associated with. */
  readonly numbers: ReadonlyMap<string, NumberConfig>;
  /** Upstream gateways to the phone network, by priority then id. */
  readonly carriers: readonly CarrierConfig[];
  /** The account's default calling name (UpdatePhoneNumberSettings), if set. */
  readonly defaultCallingName: string | undefined;
  /** The CDR bucket of the global settings (UpdateGlobalSettings VoiceConnector.CdrBucket), if set. */
  readonly cdrBucket: string | undefined;
}

/** The configuration with nothing in it (the control plane off, or not read yet). */
export const EMPTY_SNAPSHOT: ConfigSnapshot = Object.freeze({ generation: 0, voiceConnectors: new Map(), groups: new Map(), numbers: new Map(), carriers: [], defaultCallingName: undefined, cdrBucket: undefined });
