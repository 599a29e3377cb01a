/**
 * The media engine's command API (DESIGN.md process model): signaling asks, a media worker owns
 * the sockets and answers. Everything here crosses a worker boundary, so it is plain data.
 */

/** 'a' faces the caller, 'b' the callee. */
export type MediaSideName = 'a' | 'b';

export type MediaDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

/** Where an endpoint says it receives one stream (its SDP). */
export interface RemoteMedia {
  /** undefined: no address (c=0.0.0.0 hold, or the line was rejected). */
  readonly address: string | undefined;
  readonly port: number;
  readonly rtcpPort: number;
  readonly rtcpMux: boolean;
  readonly direction: MediaDirection;
  /** Payload types that carry RFC 4733 telephone-event. */
  readonly dtmfPayloadTypes: readonly number[];
  /** SDES-SRTP on this leg (RFC 4568): the endpoint's key (what it sends with) and Carillon's (what it sends the endpoint with). */
  readonly srtp?: SrtpLeg;
}

/** One leg's SRTP keys, base64 of master key || master salt (30 bytes), as `a=crypto` inline carries them. */
export interface SrtpLeg {
  readonly suite: 'AES_CM_128_HMAC_SHA1_80' | 'AES_CM_128_HMAC_SHA1_32';
  readonly receiveKey: string;
  readonly sendKey: string;
}

export interface AllocateCommand {
  readonly op: 'allocate';
  readonly session: string;
  readonly index: number;
  readonly kind: string;
  readonly clockRateHz: number;
  /** Where one side receives, set in the same step (saves a round trip per call). */
  readonly then?: { readonly side: MediaSideName; readonly remote: RemoteMedia };
  /**
   * A side of this stream carries SRTP (or must): its packets go through Carillon's own sockets,
   * which decrypt and encrypt, even where the native mover relays the others.
   */
  readonly secure?: boolean;
  /**
   * Stream this (audio) stream's sound: each side's G.711 decoded into fragments of this many ms,
   * sent up as `audio` events (on Carillon's sockets too, like `secure`).
   */
  readonly tapFragmentMs?: number;
}

export interface UpdateCommand {
  readonly op: 'update';
  readonly session: string;
  readonly index: number;
  readonly side: MediaSideName;
  readonly remote: RemoteMedia;
  /** The call is answered with this description: start the media timeout too. */
  readonly arm?: boolean;
}

export interface DeleteCommand {
  readonly op: 'delete';
  readonly session: string;
}

export interface QueryCommand {
  readonly op: 'query';
  readonly session: string;
}

/** The call is answered: the media timeout counts from now (never while it rings). */
export interface ArmCommand {
  readonly op: 'arm';
  readonly session: string;
}

export interface StatusCommand {
  readonly op: 'status';
}

export type MediaCommand = AllocateCommand | UpdateCommand | ArmCommand | DeleteCommand | QueryCommand | StatusCommand;

/** Ports Carillon opened for one stream: `a` is what the caller sends to, `b` the callee. */
export interface AllocatedPorts {
  readonly aPort: number;
  readonly bPort: number;
}

/** One endpoint's side of a stream, cumulative since the stream began. */
export interface SideSnapshot {
  /** Endpoint → Carillon. */
  readonly rtpPackets: number;
  readonly rtpBytes: number;
  readonly rtcpPackets: number;
  readonly rtcpBytes: number;
  readonly packetsExpected: number;
  readonly packetsLost: number;
  /** RFC 3550 interarrival jitter of what the endpoint sends, µs. */
  readonly jitterUs: number;
  /** Carillon → endpoint. */
  readonly sentRtpPackets: number;
  readonly sentRtpBytes: number;
  readonly sentRtcpPackets: number;
  readonly sentRtcpBytes: number;
  /** The endpoint's own RTCP reports about what it receives from Carillon (null: none sent). */
  readonly reportedLost: number | null;
  readonly reportedFractionLost: number | null;
  readonly reportedJitterUs: number | null;
  /** Round trip between Carillon and the endpoint, µs (null: not measured). */
  readonly rttUs: number | null;
  readonly dropped: number;
  readonly latched: boolean;
  readonly relatches: number;
  readonly duplicates: number;
}

export interface StreamSnapshot {
  readonly index: number;
  readonly kind: string;
  readonly clockRateHz: number;
  readonly a: SideSnapshot;
  readonly b: SideSnapshot;
}

export interface SessionSnapshot {
  readonly streams: readonly StreamSnapshot[];
}

/** Whole-worker counters (read at scrape time). */
export interface MediaStatus {
  readonly sessions: number;
  readonly streams: number;
  readonly portPairsInUse: number;
  readonly portPairsCapacity: number;
  readonly portsSkipped: number;
  readonly packetsRelayed: number;
  readonly bytesRelayed: number;
  readonly packetsDropped: number;
  readonly latchEvents: number;
  readonly mediaTimeouts: number;
  readonly dtmfEvents: number;
  readonly rtcpSent: number;
  /** Workers whose packets the native mover moves (the others use Node sockets). */
  readonly nativeWorkers: number;
}

export type MediaReply =
  | { readonly ok: true; readonly ports?: AllocatedPorts; readonly snapshot?: SessionSnapshot; readonly status?: MediaStatus }
  | { readonly ok: false; readonly error: 'ports-exhausted' | 'no-such-session' | 'no-such-stream' | 'bad-remote' | 'srtp-unavailable' | 'internal' };

/** Unsolicited events from a worker. */
export type MediaEvent =
  | { readonly ev: 'dtmf'; readonly session: string; readonly side: MediaSideName; readonly digit: string; readonly durationMs: number }
  | { readonly ev: 'timeout'; readonly session: string; readonly idleMs: number }
  /** A fragment of what one side sent (8 kHz 16-bit PCM), its first sample at `timecodeMs` (epoch ms). */
  | { readonly ev: 'audio'; readonly session: string; readonly index: number; readonly side: MediaSideName; readonly timecodeMs: number; readonly pcm: Int16Array };

/** Worker tuning passed at start. */
export interface MediaWorkerOptions {
  readonly bindAddress: string;
  readonly low: number;
  readonly high: number;
  /** Accept media only from the SDP address (no latching). */
  readonly strict: boolean;
  /** No RTP in either direction for this long ends the call (0 = never). */
  readonly mediaTimeoutMs: number;
  /** Mean interval of Carillon's own RTCP on each leg (RFC 3550: 5 s). */
  readonly rtcpIntervalMs: number;
  readonly cname: string;
  /** How long a finished call's ports stay bound (absorbing late packets) before reuse. */
  readonly releaseDelayMs: number;
  /** Move RTP with the native mover when it is built (IPv4); else with Node sockets. */
  readonly nativeRelay: boolean;
}
