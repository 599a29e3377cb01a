import Type from 'typebox';
import type { Static } from 'typebox';
import Value from 'typebox/value';

/**
 * The `Chime VoiceConnector Streaming Status` event as Chime documented it (EventBridge envelope,
 * source aws.chime), one schema per status: required fields required, optional ones typed, and
 * nothing else allowed in the detail.
 */
const Iso = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{3})?Z$' });
const Headers = Type.Record(Type.String({ pattern: '^[a-z-]+$' }), Type.String());
const Base = {
  version: Type.Literal('0'),
  voiceConnectorId: Type.String({ minLength: 1 }),
  transactionId: Type.String({ minLength: 1 }),
  callId: Type.String({ minLength: 1 }),
};
const Described = {
  direction: Type.Union([Type.Literal('Inbound'), Type.Literal('Outbound')]),
  mediaType: Type.Literal('audio/L16'),
  startFragmentNumber: Type.String({ pattern: '^\\d{20,}$' }),
  startTime: Iso,
  // A Kinesis Video stream (Chime's form), or the Kinesis data stream the audio went to.
  streamArn: Type.String({ pattern: '^arn:aws:(kinesisvideo:[a-z0-9-]+:\\d{12}:stream/ChimeVoiceConnector-[a-z0-9]+-[0-9a-f-]+/\\d+|kinesis:[a-z0-9-]+:\\d{12}:stream/[A-Za-z0-9_.-]+)$' }),
  fromNumber: Type.Optional(Type.String()),
  toNumber: Type.Optional(Type.String()),
  isCaller: Type.Optional(Type.Boolean()),
  inviteHeaders: Type.Optional(Headers),
  siprecMetadata: Type.Optional(Type.String()),
  sdp: Type.Optional(Type.Object({ mediaIndex: Type.Integer(), mediaLabel: Type.String() }, { additionalProperties: false })),
};
const Detail = Type.Union([
  Type.Object({ streamingStatus: Type.Literal('STARTED'), ...Base, ...Described }, { additionalProperties: false }),
  Type.Object({ streamingStatus: Type.Literal('ENDED'), ...Base, ...Described, endTime: Iso }, { additionalProperties: false }),
  Type.Object({ streamingStatus: Type.Literal('UPDATED'), ...Base, updateHeaders: Type.Optional(Headers), siprecMetadata: Type.Optional(Type.String()) }, { additionalProperties: false }),
  Type.Object(
    { streamingStatus: Type.Literal('FAILED'), ...Base, direction: Type.Union([Type.Literal('Inbound'), Type.Literal('Outbound')]), failTime: Iso, failureReason: Type.String({ minLength: 1 }) },
    { additionalProperties: false },
  ),
]);
export const StreamingEventSchema = Type.Object(
  {
    version: Type.Literal('0'),
    id: Type.String({ pattern: '^[0-9a-f-]{36}$' }),
    'detail-type': Type.Literal('Chime VoiceConnector Streaming Status'),
    source: Type.Literal('aws.chime'),
    account: Type.String({ pattern: '^\\d{12}$' }),
    time: Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z$' }),
    region: Type.String({ minLength: 1 }),
    resources: Type.Array(Type.String()),
    detail: Detail,
  },
  { additionalProperties: false },
);
export type StreamingEvent = Static<typeof StreamingEventSchema>;

/** The schema's complaints about `event` (empty when it conforms). */
export function streamingEventProblems(event: unknown): string[] {
  return [...Value.Errors(StreamingEventSchema, event)].map((e) => `${e.instancePath} ${e.message}`);
}
