import { isIPv4, isIPv6 } from 'node:net';
import Type from 'typebox';
import type { Static, TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import Format from 'typebox/format';

/**
 * A voice connector's configuration documents as Carillon stores them (reference §2.2–2.4): one
 * TypeBox schema per document kind. The API checks a Put body against it and stores the
 * document it derives only once that passes again (control-plane/api/chime/voice-connector-config.ts);
 * the configuration snapshot reads each stored document back through the same schema
 * (common/config-snapshot.ts), so whoever reads a document gets its type, never a cast.
 */

/** `pattern: \S` — at least one non-whitespace character (Smithy patterns are not anchored). */
export const NON_BLANK = '\\S';
export const E164_PATTERN = '^\\+?[1-9]\\d{1,14}$';
export const ALPHA2_PATTERN = '^[A-Z]{2}$';

/** `format: 'cidr'`: an IPv4 or IPv6 address, a slash and a prefix length the family allows. */
Format.Set('cidr', (s) => {
  const [addr, bits, extra] = s.split('/');
  return extra === undefined && addr !== undefined && bits !== undefined && /^\d{1,3}$/.test(bits) && ((isIPv4(addr) && Number(bits) <= 32) || (isIPv6(addr) && Number(bits) <= 128));
});

export const Str = (minLength: number, maxLength: number, pattern?: string, description?: string): ReturnType<typeof Type.String> =>
  Type.String({ minLength, maxLength, ...(pattern === undefined ? {} : { pattern }), ...(description === undefined ? {} : { description }) });

export const E164Number = Str(2, 16, E164_PATTERN, 'E.164 number, + optional');
export const CountryCode = Str(2, 2, ALPHA2_PATTERN, 'ISO 3166-1 alpha-2');

const Count = (min: number, max: number): ReturnType<typeof Type.Integer> => Type.Integer({ minimum: min, maximum: max });

/** PutVoiceConnectorTermination's Termination; stored with CpsLimit filled in (default 1). */
export const TerminationDocument = Type.Object({
  CpsLimit: Type.Optional(Count(1, 1_000_000)),
  DefaultPhoneNumber: Type.Optional(E164Number),
  // Documented as required although the model does not mark it (reference §2.2).
  CallingRegions: Type.Array(CountryCode, { minItems: 1, maxItems: 300 }),
  CidrAllowedList: Type.Optional(Type.Array(Type.String({ format: 'cidr' }), { maxItems: 100 })),
  Disabled: Type.Optional(Type.Boolean()),
});
export type TerminationDocument = Static<typeof TerminationDocument>;

/** One origination route: Port 0 (like absent) means the transport's default. */
export const OriginationRouteDocument = Type.Object({
  Host: Str(1, 253, NON_BLANK),
  Port: Type.Optional(Count(0, 65535)),
  Protocol: Type.Optional(Type.Enum(['TCP', 'UDP'])),
  Priority: Type.Optional(Count(1, 100)),
  Weight: Type.Optional(Count(1, 100)),
});
export type OriginationRouteDocument = Static<typeof OriginationRouteDocument>;

/** PutVoiceConnectorOrigination's Origination; stored with each route's Port filled in (default 5060). */
export const OriginationDocument = Type.Object({
  Routes: Type.Optional(Type.Array(OriginationRouteDocument, { maxItems: 20 })),
  Disabled: Type.Optional(Type.Boolean()),
});
export type OriginationDocument = Static<typeof OriginationDocument>;

export const NOTIFICATION_TARGETS = ['EventBridge', 'SNS', 'SQS'] as const;
export type NotificationTarget = (typeof NOTIFICATION_TARGETS)[number];

export const StreamingDocument = Type.Object({
  DataRetentionInHours: Count(0, 1_000_000),
  Disabled: Type.Boolean(),
  StreamingNotificationTargets: Type.Optional(Type.Array(Type.Object({ NotificationTarget: Type.Optional(Type.Enum([...NOTIFICATION_TARGETS])) }), { minItems: 1, maxItems: 3 })),
  MediaInsightsConfiguration: Type.Optional(Type.Object({ Disabled: Type.Optional(Type.Boolean()), ConfigurationArn: Type.Optional(Str(1, 1024, '^arn[/:\\-_.a-zA-Z0-9]+$')) })),
});
export type StreamingDocument = Static<typeof StreamingDocument>;

export const LoggingDocument = Type.Object({ EnableSIPLogs: Type.Optional(Type.Boolean()), EnableMediaMetricLogs: Type.Optional(Type.Boolean()) });
export type LoggingDocument = Static<typeof LoggingDocument>;

/** An emergency calling DNIS entry: where a country's emergency (or test) number goes. */
export const EmergencyDnisDocument = Type.Object({ EmergencyPhoneNumber: E164Number, TestPhoneNumber: Type.Optional(E164Number), CallingCountry: CountryCode });
export type EmergencyDnisDocument = Static<typeof EmergencyDnisDocument>;

export const EmergencyDocument = Type.Object({ DNIS: Type.Optional(Type.Array(EmergencyDnisDocument)) });
export type EmergencyDocument = Static<typeof EmergencyDocument>;

export const SBC_TYPES = ['RIBBON_SBC', 'ORACLE_ACME_PACKET_SBC', 'AVAYA_SBCE', 'CISCO_UNIFIED_BORDER_ELEMENT', 'AUDIOCODES_MEDIANT_SBC'];
export const CONTACT_CENTER_TYPES = ['GENESYS_ENGAGE_ON_PREMISES', 'AVAYA_AURA_CALL_CENTER_ELITE', 'AVAYA_AURA_CONTACT_CENTER', 'CISCO_UNIFIED_CONTACT_CENTER_ENTERPRISE'];

export const ExternalSystemsDocument = Type.Object({ SessionBorderControllerTypes: Type.Optional(Type.Array(Type.Enum(SBC_TYPES))), ContactCenterSystemTypes: Type.Optional(Type.Array(Type.Enum(CONTACT_CENTER_TYPES))) });
export type ExternalSystemsDocument = Static<typeof ExternalSystemsDocument>;

/** The Proxy as GetVoiceConnectorProxy answers it (the Put's PhoneNumberPoolCountries stored as PhoneNumberCountries). */
export const ProxyDocument = Type.Object({
  DefaultSessionExpiryMinutes: Count(0, 1_000_000),
  PhoneNumberCountries: Type.Array(Str(0, 2, '^$|^[A-Z]{2,2}$'), { minItems: 1, maxItems: 100 }),
  FallBackPhoneNumber: Type.Optional(E164Number),
  Disabled: Type.Optional(Type.Boolean()),
});
export type ProxyDocument = Static<typeof ProxyDocument>;

/** GetVoiceConnectorTerminationHealth: when and from where the voice connector's PBX last sent OPTIONS. */
export const TerminationHealthDocument = Type.Object({ Timestamp: Type.String(), Source: Type.String() });
export type TerminationHealthDocument = Static<typeof TerminationHealthDocument>;

/** Each document kind (the store's `kind` column) and its schema. */
export const DOCUMENT_SCHEMAS = {
  termination: TerminationDocument,
  origination: OriginationDocument,
  streaming: StreamingDocument,
  logging: LoggingDocument,
  emergency: EmergencyDocument,
  proxy: ProxyDocument,
  'external-systems': ExternalSystemsDocument,
  'termination-health': TerminationHealthDocument,
} as const satisfies { readonly [K in keyof DocumentTypes]: TSchema };

export type DocumentKind = keyof DocumentTypes;

/** Each kind's document type. */
export interface DocumentTypes {
  termination: TerminationDocument;
  origination: OriginationDocument;
  streaming: StreamingDocument;
  logging: LoggingDocument;
  emergency: EmergencyDocument;
  proxy: ProxyDocument;
  'external-systems': ExternalSystemsDocument;
  'termination-health': TerminationHealthDocument;
}

/** The document of a kind. */
export type DocumentOf<K extends DocumentKind> = DocumentTypes[K];

/** A voice connector's documents, each present once stored (frozen in a snapshot). */
export type VoiceConnectorDocuments = { readonly [K in DocumentKind]?: DocumentOf<K> };

export const DOCUMENT_KINDS: readonly DocumentKind[] = Object.freeze(Object.keys(DOCUMENT_SCHEMAS).filter(isDocumentKind));

export function isDocumentKind(kind: string): kind is DocumentKind {
  return Object.prototype.hasOwnProperty.call(DOCUMENT_SCHEMAS, kind);
}

type Checks = { readonly [K in DocumentKind]: (value: unknown) => value is DocumentOf<K> };

function compileChecks(): Checks {
  const check = <S extends TSchema>(schema: S): ((value: unknown) => value is Static<S>) => {
    const v = Compile(schema);
    return (value: unknown): value is Static<S> => v.Check(value);
  };
  return {
    termination: check(TerminationDocument),
    origination: check(OriginationDocument),
    streaming: check(StreamingDocument),
    logging: check(LoggingDocument),
    emergency: check(EmergencyDocument),
    proxy: check(ProxyDocument),
    'external-systems': check(ExternalSystemsDocument),
    'termination-health': check(TerminationHealthDocument),
  };
}

/** One compiled check per document kind: `DOCUMENT_CHECKS.termination(value)` narrows `value` to a TerminationDocument. */
export const DOCUMENT_CHECKS: Checks = compileChecks();

/**
 * Reads a stored document's JSON text as the kind's document, or undefined when the text is not
 * JSON or not a valid document of that kind (the store holds only documents that passed on the
 * way in; an entry that no longer does is left out rather than read half-right).
 */
export function readDocument<K extends DocumentKind>(kind: K, text: string): DocumentOf<K> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const check: (v: unknown) => v is DocumentOf<K> = DOCUMENT_CHECKS[kind];
  return check(value) ? value : undefined;
}
