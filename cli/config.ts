import { readFileSync } from 'node:fs';
import os from 'node:os';
import Type from 'typebox';
import type { TSchema } from 'typebox';
import Value from 'typebox/value';
import YAML from 'yaml';
import { ConfigError } from '../common/errors.ts';
import type { StaticRoute } from '../signaling/routing/static-routes.ts';
import { hopOfUri } from '../signaling/sip/resolve/hop-uri.ts';
import type { HopUriFault } from '../signaling/sip/resolve/hop-uri.ts';
import { DEFAULT_AUTH_BAN_SEC, DEFAULT_AUTH_FAILURE_WINDOW_SEC, DEFAULT_AUTH_FAILURES_PER_SOURCE, DEFAULT_AUTH_FAILURES_PER_VOICE_CONNECTOR } from '../signaling/auth/auth-guard.ts';

/** Default ports (SPEC §2, DESIGN "Interfaces"). */
export const DEFAULT_SIP_PORT = 5060;
export const DEFAULT_SIP_TLS_PORT = 5061;
export const DEFAULT_H323_PORT = 1720;
/** BFCP (content floor control, RFC 8855) on TCP and UDP: the port room systems were seen using. */
export const DEFAULT_BFCP_PORT = 5070;
export const DEFAULT_API_PORT = 8080;
export const DEFAULT_RTP_RANGE = '10000-60000';
/** H.323 media's own range, as Chime published it for room systems (SPEC §2). */
export const DEFAULT_H323_RTP_RANGE = '5100-6200';

const Port = Type.Integer({ minimum: -1, maximum: 65535, description: 'port; 0 = pick a free one, -1 = off' });

const RouteSchema = Type.Object(
  {
    match: Type.Object(
      {
        userPrefix: Type.Optional(Type.String({ minLength: 1, description: 'Request-URI user starts with this' })),
        host: Type.Optional(Type.String({ minLength: 1, description: 'Request-URI host equals this' })),
      },
      { additionalProperties: false },
    ),
    target: Type.String({ pattern: '^sips?:', description: 'next hop SIP URI, e.g. sip:127.0.0.1:5080;transport=udp' }),
  },
  { additionalProperties: false },
);

const SipSchema = Type.Object(
  {
    t1Ms: Type.Integer({ minimum: 10, maximum: 10_000, default: 500, description: 'RFC 3261 T1 (RTT estimate), ms' }),
    t2Ms: Type.Integer({ minimum: 100, maximum: 60_000, default: 4000, description: 'RFC 3261 T2, ms' }),
    t4Ms: Type.Integer({ minimum: 0, maximum: 60_000, default: 5000, description: 'RFC 3261 T4, ms' }),
    timerDMs: Type.Integer({ minimum: 0, maximum: 120_000, default: 32_000, description: 'Timer D on UDP, ms' }),
    maxMessageBytes: Type.Integer({ minimum: 1024, maximum: 1_048_576, default: 65_536, description: 'largest SIP message accepted' }),
    sessionExpiresSec: Type.Integer({ minimum: 90, maximum: 86_400, default: 1800, description: 'RFC 4028 session interval asked for and granted' }),
    minSeSec: Type.Integer({ minimum: 90, maximum: 86_400, default: 90, description: 'RFC 4028 Min-SE Carillon accepts' }),
    requestsPerSecPerSource: Type.Integer({ minimum: 1, default: 5000, description: 'per source IP request rate before 503' }),
    burstPerSource: Type.Integer({ minimum: 1, default: 10_000, description: 'per source IP burst allowance' }),
    tcpIdleTimeoutSec: Type.Integer({ minimum: 1, default: 3600, description: 'close idle TCP/TLS connections after this' }),
    maxConnectionsPerSource: Type.Integer({ minimum: 1, default: 512, description: 'TCP/TLS connections per source IP' }),
    messageDeadlineSec: Type.Integer({
      minimum: 1,
      maximum: 600,
      default: 20,
      description: 'TCP/TLS: a message must arrive whole within this many seconds of its first byte, and a connection made to Carillon must send something this soon after it opened (after its TLS handshake, which gets as long); else it is closed',
    }),
    tlsVerifyServer: Type.Boolean({ default: true, description: 'verify certificates of TLS peers Carillon connects to' }),
    optionsPingIntervalSec: Type.Number({ minimum: 0.2, maximum: 3600, default: 30, description: 'SIP OPTIONS ping interval to origination routes and carriers; 3 missed pings take a route out until it answers' }),
    tlsCaFile: Type.Optional(Type.String({ description: 'PEM file of CAs trusted for outbound TLS' })),
    digestAlgorithms: Type.Array(Type.Union([Type.Literal('MD5'), Type.Literal('SHA-256')]), {
      minItems: 1,
      uniqueItems: true,
      default: ['MD5', 'SHA-256'],
      description: 'digest challenges offered to trunks, in order (answers in either are accepted); PBXs built on libre (baresip 1.x) give up on a challenge list naming an algorithm they lack: list MD5 alone for them',
    }),
    authFailuresPerSource: Type.Integer({ minimum: 0, default: DEFAULT_AUTH_FAILURES_PER_SOURCE, description: 'failed termination digest answers from one source IP (IPv6: its /64) within authFailureWindowSec that ban it for authBanSec: 403 to every termination request, the right password included; 0 = off' }),
    authFailuresPerVoiceConnector: Type.Integer({ minimum: 0, default: DEFAULT_AUTH_FAILURES_PER_VOICE_CONNECTOR, description: 'failed answers to one voice connector from all sources within authFailureWindowSec after which, for authBanSec, it refuses every source that failed against it (sources that did not fail keep working); 0 = off' }),
    authFailureWindowSec: Type.Integer({ minimum: 1, maximum: 86_400, default: DEFAULT_AUTH_FAILURE_WINDOW_SEC, description: 'window the authentication failure thresholds count in, s' }),
    authBanSec: Type.Integer({ minimum: 1, maximum: 86_400, default: DEFAULT_AUTH_BAN_SEC, description: 'how long an authentication ban lasts, s' }),
  },
  { additionalProperties: false },
);

export const MediaSchema = Type.Object(
  {
    strictSource: Type.Boolean({ default: false, description: 'accept media only from the SDP address (no symmetric-RTP latching)' }),
    rtcpIntervalMs: Type.Integer({ minimum: 100, maximum: 60_000, default: 5_000, description: "mean interval of Carillon's own RTCP on each leg" }),
    qualityIntervalSec: Type.Integer({ minimum: 1, maximum: 3_600, default: 60, description: 'media quality record interval' }),
    relay: Type.Union([Type.Literal('native'), Type.Literal('sockets')], { default: 'native', description: 'what moves RTP: the native mover (recvmmsg on its own thread; IPv4) when built, else Node sockets' }),
    releaseDelayMs: Type.Integer({ minimum: 0, maximum: 60_000, default: 2_000, description: "how long a finished call's ports stay bound, absorbing late packets" }),
    region: Type.String({ default: 'local', description: 'aws_region written in quality records and logs' }),
    maxMediaLines: Type.Integer({ minimum: 1, maximum: 64, default: 16, description: 'most media lines (m=) one session description may carry; more is refused with 488' }),
    maxPortPairsPerSource: Type.Optional(
      Type.Integer({ minimum: 2, description: 'most RTP/RTCP port pairs the calls from one source address may hold at once (each media line holds one pair per side); more is refused with 503. Default: half the pairs of the RTP range' }),
    ),
  },
  { additionalProperties: false },
);

const AwsTarget = {
  endpoint: Type.Optional(Type.String({ pattern: '^https?://', description: 'endpoint override (a Kinesis-compatible server); absent: AWS' })),
  region: Type.String({ default: 'us-east-1' }),
  accessKeyId: Type.Optional(Type.String({ description: 'absent: the AWS SDK default credential chain' })),
  secretAccessKey: Type.Optional(Type.String()),
};

export const StreamingSchema = Type.Object(
  {
    sink: Type.Union([Type.Literal('file'), Type.Literal('kinesis-video'), Type.Literal('kinesis-data')], {
      default: 'file',
      description:
        'where call audio goes: files under <data>/streams (MKV + WAV), Kinesis Video Streams (PutMedia, one stream per leg from a pool per voice connector, as Chime did), or Kinesis Data Streams (one self-contained MKV record per fragment)',
    }),
    kinesisVideo: Type.Optional(
      Type.Object(
        {
          ...AwsTarget,
          dataEndpoint: Type.Optional(Type.String({ pattern: '^https?://', description: 'PutMedia endpoint override (absent: GetDataEndpoint)' })),
        },
        { additionalProperties: false },
      ),
    ),
    kinesisData: Type.Optional(
      Type.Object(
        {
          ...AwsTarget,
          streamName: Type.String({ minLength: 1, description: 'data stream the audio records go to (PartitionKey = transaction id)' }),
          eventsStreamName: Type.Optional(Type.String({ minLength: 1, description: 'data stream the status events also go to, as JSON' })),
        },
        { additionalProperties: false },
      ),
    ),
    eventBridge: Type.Optional(Type.Object({ ...AwsTarget, eventBusName: Type.String({ default: 'default' }) }, { additionalProperties: false, description: 'where events go for voice connectors whose StreamingNotificationTargets name EventBridge' })),
    sns: Type.Optional(Type.Object({ ...AwsTarget, topicArn: Type.String({ pattern: '^arn:' }) }, { additionalProperties: false, description: 'the topic for voice connectors whose StreamingNotificationTargets name SNS' })),
    sqs: Type.Optional(Type.Object({ ...AwsTarget, queueUrl: Type.String({ pattern: '^https?://' }) }, { additionalProperties: false, description: 'the queue for voice connectors whose StreamingNotificationTargets name SQS' })),
    nats: Type.Optional(
      Type.Object(
        { servers: Type.String({ default: 'nats://127.0.0.1:4222' }), subject: Type.String({ default: 'carillon.streaming', pattern: '^[A-Za-z0-9_.-]+$' }) },
        { additionalProperties: false, description: 'every streaming status event published on <subject>.<voiceConnectorId>' },
      ),
    ),
    fragmentMs: Type.Integer({ minimum: 200, maximum: 10_000, default: 1000, description: 'length of each streamed audio fragment (one MKV Cluster, one Kinesis Video fragment)' }),
    maxQueuedFragments: Type.Integer({ minimum: 1, maximum: 10_000, default: 30, description: "fragments a leg may have waiting on a slow sink before that leg's stream is given up (FAILED)" }),
    webhooks: Type.Array(
      Type.Object({ url: Type.String({ pattern: '^https?://' }), secret: Type.String({ minLength: 16 }) }, { additionalProperties: false }),
      { default: [], description: 'streaming status events POSTed here, signed (Chime-Signature: base64 HMAC-SHA256 of "<Chime-Request-Timestamp>|<body>"), 2 s timeout, two retries' },
    ),
  },
  { additionalProperties: false },
);

export const ConfigSchema = Type.Object(
  {
    data: Type.String({ default: './data', description: 'data directory (SQLite file, CDRs, logs, recordings)' }),
    bind: Type.String({ default: '0.0.0.0', description: 'address every listener binds' }),
    advertise: Type.Optional(Type.String({ description: 'address written into Via/Contact (default: bind, or the first non-loopback IPv4 for 0.0.0.0)' })),
    sipUdp: Type.Integer({ ...Port, default: DEFAULT_SIP_PORT }),
    sipTcp: Type.Integer({ ...Port, default: DEFAULT_SIP_PORT }),
    sipTls: Type.Integer({ ...Port, default: DEFAULT_SIP_TLS_PORT }),
    h323: Type.Integer({ ...Port, default: DEFAULT_H323_PORT }),
    bfcp: Type.Integer({ ...Port, default: DEFAULT_BFCP_PORT, description: "BFCP floor control for meetings' presentation content (TCP and UDP); -1 turns it off" }),
    api: Type.Integer({ ...Port, default: DEFAULT_API_PORT }),
    rtpRange: Type.String({ pattern: '^\\d{1,5}-\\d{1,5}$', default: DEFAULT_RTP_RANGE, description: 'RTP/RTCP port range LOW-HIGH' }),
    h323RtpRange: Type.String({ pattern: '^\\d{1,5}-\\d{1,5}$', default: DEFAULT_H323_RTP_RANGE, description: "H.323 calls' own RTP/RTCP port range LOW-HIGH (apart from --rtp-range)" }),
    domain: Type.String({ default: 'carillon.local', description: 'meeting and voice connector domain' }),
    meetingDomain: Type.Optional(
      Type.String({ pattern: '^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$', description: 'a separate domain meetings are dialed at (e.g. meet.example.com); the --domain name works too' }),
    ),
    meetingLanguage: Type.Union([Type.Literal('en-US'), Type.Literal('pt-BR')], { default: 'en-US', description: 'language of the meeting IVR before a meeting is known (a meeting speaks its own)' }),
    cdrBucket: Type.Optional(Type.String({ pattern: '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$', description: 'S3 bucket CDRs go to (spooled in <data>/cdrs until stored)' })),
    s3Endpoint: Type.Optional(Type.String({ pattern: '^https?://', description: 'S3-compatible endpoint for the CDR bucket (path-style); absent: AWS S3' })),
    accountId: Type.String({ default: '000000000000', pattern: '^\\d{12}$', description: '12-digit account id in the ARNs the API returns (keep the old AWS account id so stored ARNs still match)' }),
    mediaWorkers: Type.Integer({ minimum: 0, maximum: 64, default: 0, description: 'media worker threads; 0 = cores - 1 (at least 1)' }),
    mediaTimeout: Type.Integer({ minimum: 0, maximum: 86_400, default: 60, description: 'seconds without RTP in either direction that end an answered call (0 = never; not while on hold)' }),
    media: Type.Optional(MediaSchema),
    streaming: Type.Optional(StreamingSchema),
    db: Type.Optional(Type.String({ description: 'sqlite file path or postgres:// URL (default: <data>/carillon.sqlite)' })),
    tlsCert: Type.Optional(Type.String({ description: 'PEM certificate for SIP TLS (self-signed pair made in <data> when absent)' })),
    tlsKey: Type.Optional(Type.String({ description: 'PEM private key for SIP TLS' })),
    logLevel: Type.Union([Type.Literal('fatal'), Type.Literal('error'), Type.Literal('warn'), Type.Literal('info'), Type.Literal('debug'), Type.Literal('trace'), Type.Literal('silent')], { default: 'info' }),
    sip: Type.Optional(SipSchema),
    routes: Type.Array(RouteSchema, { default: [], description: 'static SIP routes, first match wins' }),
    dnsServers: Type.Optional(
      Type.Array(Type.String({ pattern: '^(\\d{1,3}(\\.\\d{1,3}){3}(:\\d{1,5})?|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*|\\[[0-9A-Fa-f:.]+\\](:\\d{1,5})?)$' }), {
        minItems: 1,
        maxItems: 8,
        description: 'DNS servers every lookup asks (SIP next hops by NAPTR/SRV/A, pings, CDR bucket, sinks): IP, IP:port or [IPv6]:port; absent: the system resolver configuration',
      }),
    ),
  },
  { additionalProperties: false },
);

export type FileConfig = Type.Static<typeof ConfigSchema>;
export type SipConfig = Type.Static<typeof SipSchema>;

/** The resolved configuration every part of the server reads. */
export type MediaConfig = Type.Static<typeof MediaSchema>;
export type StreamingConfig = Type.Static<typeof StreamingSchema>;

export interface ServerConfig extends Omit<FileConfig, 'sip' | 'media' | 'streaming'> {
  readonly sip: SipConfig;
  readonly media: MediaConfig;
  readonly streaming: StreamingConfig;
  readonly rtpLow: number;
  readonly rtpHigh: number;
  readonly h323RtpLow: number;
  readonly h323RtpHigh: number;
  readonly advertisedAddress: string;
  /** `routes` with each target read once into the next hop it names. */
  readonly staticRoutes: readonly StaticRoute[];
}

/** Flag names (kebab-case) ↔ config keys, with env twins CARILLON_<SNAKE>. */
export const FLAG_KEYS: Readonly<Record<string, keyof FileConfig>> = {
  data: 'data',
  bind: 'bind',
  advertise: 'advertise',
  'sip-udp': 'sipUdp',
  'sip-tcp': 'sipTcp',
  'sip-tls': 'sipTls',
  h323: 'h323',
  bfcp: 'bfcp',
  api: 'api',
  'rtp-range': 'rtpRange',
  'h323-rtp-range': 'h323RtpRange',
  domain: 'domain',
  'meeting-domain': 'meetingDomain',
  'meeting-language': 'meetingLanguage',
  'media-workers': 'mediaWorkers',
  'media-timeout': 'mediaTimeout',
  db: 'db',
  'tls-cert': 'tlsCert',
  'tls-key': 'tlsKey',
  'log-level': 'logLevel',
  'cdr-bucket': 'cdrBucket',
  's3-endpoint': 's3Endpoint',
};

const NUMERIC = new Set<keyof FileConfig>(['sipUdp', 'sipTcp', 'sipTls', 'h323', 'bfcp', 'api', 'mediaWorkers', 'mediaTimeout']);

/** Reads a YAML or JSON config file into an untrusted object. */
export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = YAML.parse(text);
  } catch (err) {
    throw new ConfigError(`config file ${path} is not valid YAML/JSON: ${(err as Error).message}`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError(`config file ${path} must hold an object`);
  return parsed as Record<string, unknown>;
}

/** Config values from CARILLON_* environment variables. */
export function configFromEnv(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [flag, key] of Object.entries(FLAG_KEYS)) {
    const v = env[`CARILLON_${flag.replace(/-/g, '_').toUpperCase()}`];
    if (v !== undefined && v !== '') out[key] = NUMERIC.has(key) ? Number(v) : v;
  }
  return out;
}

/** Config values from parsed CLI flags (kebab-case names). */
export function configFromFlags(flags: Readonly<Record<string, string | boolean | undefined>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [flag, key] of Object.entries(FLAG_KEYS)) {
    const v = flags[flag];
    if (typeof v === 'string') out[key] = NUMERIC.has(key) ? Number(v) : v;
  }
  return out;
}

/** The flag that sets a top-level key, for fault messages ('logLevel' → '--log-level'). */
function flagOf(key: string): string | undefined {
  for (const [flag, k] of Object.entries(FLAG_KEYS)) if (k === key) return `--${flag}`;
  return undefined;
}

/** `/logLevel (--log-level)`: where a fault is, with the flag that sets it. */
function placeOf(instancePath: string): string {
  const top = /^\/([^/]+)$/.exec(instancePath)?.[1];
  const flag = top === undefined ? undefined : flagOf(top);
  return `${instancePath || '/'}${flag === undefined ? '' : ` (${flag})`}`;
}

/**
 * Each fault of a configuration once, in words an operator can act on: a value outside a set
 * names the set ("must be one of: fatal, error, …"), an unknown key says it is unknown, anything
 * else keeps the schema's message with the value that was given.
 */
export function describeConfigFaults(schema: TSchema, value: unknown): string[] {
  const byPath = new Map<string, { allowed: unknown[]; messages: string[]; unknown: boolean }>();
  const at = (p: string) => {
    let e = byPath.get(p);
    if (e === undefined) {
      e = { allowed: [], messages: [], unknown: false };
      byPath.set(p, e);
    }
    return e;
  };
  for (const err of Value.Errors(schema, value)) {
    const e = at(err.instancePath);
    const params = err.params as Record<string, unknown>;
    if (err.keyword === 'const' && 'allowedValue' in params) e.allowed.push(params.allowedValue);
    else if (err.keyword === 'anyOf') continue;
    else if (err.keyword === 'additionalProperties') continue;
    else if (err.message === 'schema is false') e.unknown = true;
    else if (!e.messages.includes(err.message)) e.messages.push(err.message);
  }
  const valueAt = (p: string): unknown => p.split('/').slice(1).reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), value);
  const out: string[] = [];
  for (const [p, e] of byPath) {
    const given = valueAt(p);
    const shown = given === undefined ? '' : ` (given ${JSON.stringify(given)})`;
    if (e.unknown) out.push(`${placeOf(p)} is not a setting Carillon knows`);
    else if (e.allowed.length > 0) out.push(`${placeOf(p)} must be one of: ${e.allowed.map(String).join(', ')}${shown}`);
    else for (const m of e.messages) out.push(`${placeOf(p)} ${m}${shown}`);
  }
  return out;
}

/**
 * Merges layers (later wins: defaults < file < env < flags), validates against the schema and
 * resolves derived values. Bad config throws ConfigError naming every fault once.
 */
export function resolveConfig(...layers: Record<string, unknown>[]): ServerConfig {
  const merged: Record<string, unknown> = {};
  for (const layer of layers) {
    for (const [k, v] of Object.entries(layer)) {
      if (v === undefined) continue;
      if ((k === 'sip' || k === 'media' || k === 'streaming') && typeof v === 'object' && v !== null) merged[k] = { ...(merged[k] as object | undefined), ...v };
      else merged[k] = v;
    }
  }
  merged.sip = merged.sip ?? {};
  merged.media = merged.media ?? {};
  const withDefaults = Value.Default(ConfigSchema, merged);
  const faults = describeConfigFaults(ConfigSchema, withDefaults);
  if (faults.length > 0) throw new ConfigError(`invalid configuration: ${faults.join('; ')}`);
  const cfg = withDefaults as FileConfig;
  const sip = Value.Default(SipSchema, cfg.sip ?? {}) as SipConfig;
  const media = Value.Default(MediaSchema, cfg.media ?? {}) as MediaConfig;
  const streaming = Value.Default(StreamingSchema, cfg.streaming ?? {}) as StreamingConfig;
  const [low, high] = readRange(cfg.rtpRange, '/rtpRange (--rtp-range)', faults);
  const [h323Low, h323High] = readRange(cfg.h323RtpRange, '/h323RtpRange (--h323-rtp-range)', faults);
  if (h323Low <= high && low <= h323High) faults.push(`/h323RtpRange (--h323-rtp-range) ${cfg.h323RtpRange} overlaps /rtpRange (--rtp-range) ${cfg.rtpRange}: the two ranges must be apart`);
  if ((cfg.tlsCert === undefined) !== (cfg.tlsKey === undefined)) faults.push('/tlsCert (--tls-cert) and /tlsKey (--tls-key) go together: give both or neither');
  if (sip.t2Ms < sip.t1Ms) faults.push(`/sip/t2Ms (${sip.t2Ms}) must be ≥ /sip/t1Ms (${sip.t1Ms})`);
  if (sip.sessionExpiresSec < sip.minSeSec) faults.push(`/sip/sessionExpiresSec (${sip.sessionExpiresSec}) must be ≥ /sip/minSeSec (${sip.minSeSec})`);
  const staticRoutes: StaticRoute[] = [];
  cfg.routes.forEach((r, i) => {
    const read = hopOfUri(r.target);
    if (read.ok) staticRoutes.push({ match: r.match, hop: read.hop });
    else faults.push(`/routes/${i}/target ${JSON.stringify(r.target)} ${HOP_FAULTS[read.fault]}`);
  });
  if (faults.length > 0) throw new ConfigError(`invalid configuration: ${faults.join('; ')}`);
  return { ...cfg, sip, media, streaming, rtpLow: low, rtpHigh: high, h323RtpLow: h323Low, h323RtpHigh: h323High, advertisedAddress: cfg.advertise ?? advertisedFor(cfg.bind), staticRoutes };
}

/** LOW-HIGH of a port range, with what is wrong with it added to `faults`. */
function readRange(text: string, name: string, faults: string[]): [number, number] {
  const [low, high] = text.split('-').map(Number) as [number, number];
  if (low < 1024 || high > 65535) faults.push(`${name} ${text} must lie within 1024-65535`);
  if (low >= high) faults.push(`${name} ${text} is reversed or empty: LOW must be below HIGH (e.g. ${Math.min(low, high)}-${Math.max(low, high)})`);
  return [low, high];
}

/** What is wrong with a static route's target, in an operator's words. */
const HOP_FAULTS: Readonly<Record<HopUriFault, string>> = {
  'not-sip': 'is not a sip: or sips: URI',
  'bad-port': 'names a port outside 1-65535',
  'bad-transport': 'names a transport other than udp, tcp or tls (sips: is tls)',
  'unsupported-part': 'may hold only user, host, port and ;transport= (no password, other parameters or headers)',
};

/** The address to advertise for a bind address: itself, or a local non-loopback IPv4 for a wildcard. */
export function advertisedFor(bind: string): string {
  if (bind !== '0.0.0.0' && bind !== '::') return bind;
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}
