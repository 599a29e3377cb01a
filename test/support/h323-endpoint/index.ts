/**
 * A test H.323 endpoint (a "room system" caller) written from the ITU tables, sharing only the PER
 * runtime with Carillon. See endpoint.ts for the call flow it runs.
 */
export { H323TestEndpoint } from './endpoint.ts';
export { kindOf } from './types.ts';
export type { CallOptions, CallState, EndpointOptions, H245Mode, Received, ReceivedH245, ReceivedQ931, SentUnit } from './types.ts';
export type { AudioCodecName, Destination } from './build.ts';
export { PAYLOAD_TYPE } from './build.ts';
export { decodeH245, decodeSignalling } from './messages.ts';
export type { DecodedH245, DecodedQ931 } from './messages.ts';
