/**
 * The media engine's command API (DESIGN.md process model): signaling asks, a media worker owns
 * the sockets and answers. Everything here crosses a worker boundary, so it is plain data.
 * A session holds endpoints (one RTP/RTCP port pair each, toward one far end): open them, tell
 * each where its far end receives, connect any two (packets relay between them), or attach a
 * media function to one (the audio tap now; mixer inputs and prompt players next).
 */

/**
 * The two endpoints of a connection, in the order they were connected: in a two-party call 'a'
 * faces the caller and 'b' the callee.
 */
export type MediaSideName = 'a' | 'b';

/** An endpoint's id within its session (chosen by the caller: a media line and a side, a participant, …). */
export type EndpointId = string;

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

/** How an endpoint is opened. */
export interface EndpointOptions {
  /** SDP media type (audio, video, …). */
  readonly kind: string;
  readonly clockRateHz: number;
  /** Codec name of the line from its SDP rtpmap (PCMU, PCMA, G729, G722, OPUS, …): quality records score it. */
  readonly codec?: string;
  /**
   * The endpoint carries (or must carry) SRTP: its packets go through Carillon's own sockets,
   * which decrypt and encrypt, even where the native mover moves the others.
   */
  readonly secure?: boolean;
  /** A media function will be attached (attach): on Carillon's own sockets too, like `secure`. */
  readonly functions?: boolean;
  /** Where the far end receives, set in the same step (saves a round trip per call). */
  readonly remote?: RemoteMedia;
  /** The port range the pair comes from: SIP's (absent) or H.323's own (Chime: 5100–6200). */
  readonly portRange?: PortRangeName;
}

/** The RTP port ranges a worker draws on: 'main' (SIP's `--rtp-range`) and 'h323' (`--h323-rtp-range`). */
export type PortRangeName = 'main' | 'h323';

/** Opens (or finds) an endpoint: one RTP/RTCP port pair from the worker's range. */
export interface OpenCommand extends EndpointOptions {
  readonly op: 'open';
  readonly session: string;
  readonly endpoint: EndpointId;
}

export interface UpdateCommand {
  readonly op: 'update';
  readonly session: string;
  readonly endpoint: EndpointId;
  readonly remote: RemoteMedia;
  /** The call is answered with this description: start the media timeout too. */
  readonly arm?: boolean;
}

/** Packets relay between `a` and `b` from now on; each leaves the endpoint it was connected to. */
export interface ConnectCommand {
  readonly op: 'connect';
  readonly session: string;
  readonly a: EndpointId;
  readonly b: EndpointId;
}

/** Nothing relays to or from the endpoint any more. */
export interface DisconnectCommand {
  readonly op: 'disconnect';
  readonly session: string;
  readonly endpoint: EndpointId;
}

/**
 * A media function inside the worker, fed with what one endpoint's far end sends.
 * `tap`: its audio (G.711) decoded into fragments of `fragmentMs`, sent up as `audio` events (the
 * stream and recorder).
 * `participant`: the endpoint is a meeting participant (ParticipantCommand sets what it hears and
 * whether it is mixed; PlayCommand plays prompts to it). Its audio is in `codec` (PCMU, PCMA, G722,
 * OPUS) and is sent to it with `payloadType`. A session's participants share one audio bridge,
 * made with the first one and ticking every 20 ms while anyone is in its mix or something plays:
 * a meeting is a session, so it lives on one worker. Attaching it again with the same codec and
 * payload type is a no-op.
 */
export type MediaFunctionSpec =
  | { readonly fn: 'tap'; readonly fragmentMs: number }
  | {
      readonly fn: 'participant';
      readonly codec: string;
      readonly payloadType: number;
      /** Most participants the session's bridge mixes (the meeting's maximum; default 250), set by its first participant. */
      readonly capacity?: number;
    }
  /**
   * `video`: the endpoint is the video of the meeting participant on `audioEndpoint` (attached
   * first): what it sends is switched to the others (media/video), and it is sent the picture of
   * the current speaker. `codec` H264, H263, H263-1998 or H263-2000, sent and received with
   * `payloadType`; `packetizationMode` 0 refuses aggregates and fragments; `keyFrame` how the
   * endpoint is asked for a key frame; `maxBitrateBps` what its SDP allows it to be sent (0: no limit).
   */
  | {
      readonly fn: 'video';
      readonly audioEndpoint: EndpointId;
      readonly codec: string;
      readonly payloadType: number;
      readonly packetizationMode?: number;
      readonly keyFrame: { readonly pli: boolean; readonly fir: boolean; readonly signaling: boolean };
      readonly maxBitrateBps?: number;
      /** H.264: the level_idc Carillon answered (what the endpoint sends at most and decodes at least); a receiver is shown only senders at or below its own. */
      readonly h264Level?: number;
      /** 'content': the participant's presentation stream (RFC 4796 slides, H.239): switched to whoever presents (PresenterCommand), not to the talker. Default 'camera'. */
      readonly role?: 'camera' | 'content';
    };

export interface AttachCommand {
  readonly op: 'attach';
  readonly session: string;
  readonly endpoint: EndpointId;
  readonly function: MediaFunctionSpec;
}

/**
 * A participant's place in its session's bridge. A participant starts outside the mix, hearing
 * nothing but what is played to it (the IVR); `inMeeting` puts it into the bridge (it hears the
 * meeting and, unless muted, is heard), false takes it out again (a moderated meeting's waiting
 * room hears only what is played: the hold audio).
 */
export interface ParticipantCommand {
  readonly op: 'participant';
  readonly session: string;
  readonly endpoint: EndpointId;
  readonly inMeeting?: boolean;
  readonly muted?: boolean;
}

/** A prompt the worker can play, by name (media/prompts: speech in a language, or a tone). */
export type PromptItem =
  | { readonly kind: 'speech'; readonly language: string; readonly name: string }
  | { readonly kind: 'tone'; readonly name: string }
  /** "There are N participants…" in a language (0 ≤ n ≤ 250). */
  | { readonly kind: 'count'; readonly language: string; readonly n: number }
  /** Silence of `ms` (rounded up to 20 ms frames). */
  | { readonly kind: 'pause'; readonly ms: number };

/**
 * Plays prompts, in order, to one participant (replacing what it hears from the meeting while they
 * play), or to everyone in the session's bridge as an announcement on top of the talkers
 * (`endpoint` undefined: join and leave tones). A new play to the same participant replaces the
 * one playing. `loop`: starts over at the end until stopped (hold audio). When the last item ends
 * (not when replaced or stopped) a `played` event names `token`.
 */
export interface PlayCommand {
  readonly op: 'play';
  readonly session: string;
  readonly endpoint?: EndpointId;
  readonly items: readonly PromptItem[];
  readonly loop?: boolean;
  readonly token: number;
}

/**
 * Moves an endpoint into another session of the same worker (the engine answers 'other-worker'
 * itself when the target lives elsewhere); a participant leaves its old session's bridge and
 * belongs to the new one's, outside the mix until a ParticipantCommand puts it in.
 */
export interface MoveCommand {
  readonly op: 'move';
  readonly session: string;
  readonly endpoint: EndpointId;
  readonly to: string;
  /** The target session's bridge capacity, when the move makes it (a meeting's maximum). */
  readonly capacity?: number;
}

/** A receiver of a meeting's video asked for a key frame through signaling (SIP INFO picture_fast_update, H.245 videoFastUpdatePicture). */
export interface KeyFrameCommand {
  readonly op: 'key-frame';
  readonly session: string;
  /** Its video endpoint. */
  readonly endpoint: EndpointId;
}
/** The meeting's presenter (the content floor's holder): its content endpoint's stream goes to every other content endpoint; null: nobody presents. */
export interface PresenterCommand {
  readonly op: 'presenter';
  readonly session: string;
  readonly endpoint: EndpointId | null;
}
/** Stops what is playing to a participant (a digit barged in); it hears the meeting again, if it is in it. */
export interface StopPlayCommand {
  readonly op: 'stop-play';
  readonly session: string;
  readonly endpoint: EndpointId;
}

/**
 * Records a meeting: the session's bridge hands its shared mix (what a participant who is not
 * talking hears, announcements included; silence while nobody talks) up as `audio` events of
 * endpoint MIX_ENDPOINT, 8 kHz fragments of `fragmentMs` (a multiple of 20, at most 10,000)
 * whose timecodes rise by exactly one fragment each. `fragmentMs` 0 stops (the last, shorter
 * fragment goes up before the reply); the session's end stops it too.
 */
export interface RecordCommand {
  readonly op: 'record';
  readonly session: string;
  readonly fragmentMs: number;
}

/** The endpoint id of a recorded meeting's mix in `audio` events (no endpoint has it: ids of lines are `<n>a`/`<n>b`). */
export const MIX_ENDPOINT: EndpointId = 'mix';

/** Closes one endpoint (its ports go back after the release delay); answers its final figures. */
export interface CloseEndpointCommand {
  readonly op: 'close-endpoint';
  readonly session: string;
  readonly endpoint: EndpointId;
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

export type MediaCommand =
  | OpenCommand
  | UpdateCommand
  | ConnectCommand
  | DisconnectCommand
  | AttachCommand
  | ParticipantCommand
  | PlayCommand
  | StopPlayCommand
  | KeyFrameCommand
  | PresenterCommand
  | MoveCommand
  | RecordCommand
  | CloseEndpointCommand
  | ArmCommand
  | DeleteCommand
  | QueryCommand
  | StatusCommand;

/** What one endpoint moved and measured, cumulative since it opened. */
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
  /** Packets the native mover moved whose headers statistics never saw (its ring was full); not in `dropped`. */
  readonly unobserved: number;
  readonly latched: boolean;
  readonly relatches: number;
  readonly duplicates: number;
}

export interface EndpointSnapshot extends SideSnapshot {
  readonly id: EndpointId;
  readonly kind: string;
  readonly clockRateHz: number;
  readonly codec: string | null;
  /** The endpoint it relays with (null: none). */
  readonly connectedTo: EndpointId | null;
  /** A meeting participant's place in the bridge (absent: not a participant). */
  readonly participant?: ParticipantSnapshot;
  /** A meeting participant's video (absent: not a video endpoint of a meeting). */
  readonly video?: VideoSnapshot;
}
/** A meeting participant's video as the switch sees it, cumulative. */
export interface VideoSnapshot {
  readonly codec: string;
  readonly role: 'camera' | 'content';
  /** It has sent video. */
  readonly sending: boolean;
  /** The video endpoint whose picture it is sent now (null: none yet). */
  readonly showing: EndpointId | null;
  /** As a sender: packets taken, malformed ones not forwarded, key frames, key-frame requests Carillon sent it and held back. */
  readonly packetsIn: number;
  readonly invalidPackets: number;
  readonly keyFrames: number;
  readonly keyFrameRequestsSent: number;
  readonly keyFrameRequestsSuppressed: number;
  /** As a receiver: its key-frame requests (PLI, FIR, INFO), packets sent it, pictures switched. */
  readonly keyFrameRequestsReceived: number;
  readonly packetsSent: number;
  readonly switches: number;
  /** What it sends, bit/s (smoothed), and the most it takes (null: no limit known). */
  readonly bitrateBps: number;
  readonly limitBps: number | null;
}

/** A meeting participant as the bridge sees it. */
export interface ParticipantSnapshot {
  readonly codec: string;
  readonly inMeeting: boolean;
  readonly muted: boolean;
  /** One of the mixed talkers now. */
  readonly talking: boolean;
  /** A prompt is playing to it. */
  readonly playing: boolean;
  /** Its jitter buffer, over all its stays in the meeting: frames played, concealed (lost or late), late, discarded. */
  readonly framesPlayed: number;
  readonly framesConcealed: number;
  readonly framesLate: number;
  readonly framesDiscarded: number;
}

export interface SessionSnapshot {
  /** In the order they were opened. */
  readonly endpoints: readonly EndpointSnapshot[];
  /** Connected endpoints, each pair in the order given to connect (`a`, `b`). */
  readonly connections: readonly { readonly a: EndpointId; readonly b: EndpointId }[];
}

/** Whole-worker counters (read at scrape time). */
export interface MediaStatus {
  readonly sessions: number;
  /** Media streams: each connection of two endpoints, and each endpoint connected to none. */
  readonly streams: number;
  readonly portPairsInUse: number;
  readonly portPairsCapacity: number;
  readonly portsSkipped: number;
  readonly packetsRelayed: number;
  readonly bytesRelayed: number;
  readonly packetsDropped: number;
  /** Packets the native mover forwarded while its header ring was full: moved, but unseen by the statistics. */
  readonly packetsUnobserved: number;
  readonly latchEvents: number;
  readonly mediaTimeouts: number;
  readonly dtmfEvents: number;
  readonly rtcpSent: number;
  /** Workers whose packets the native mover moves (the others use Node sockets). */
  readonly nativeWorkers: number;
  /** Audio bridges (meetings) with participants. */
  readonly bridges: number;
  /** Participants in those bridges' mixes. */
  readonly bridgeParticipants: number;
  /** Bridge ticks by how late they ran: one count per bound of BRIDGE_TICK_LAG_BUCKETS_MS (≤ bound, not cumulative), then the rest. */
  readonly bridgeTickLag: readonly number[];
  /** Sum of every bridge tick's lag, ms. */
  readonly bridgeTickLagSumMs: number;
  /** CPU time the bridges' ticks took (mixing, coding, sending), µs. */
  readonly bridgeTickUs: number;
  /** Meeting video: senders shown, packets forwarded, pictures switched, key-frame requests sent and held back, malformed packets not forwarded. */
  readonly videoParticipants: number;
  readonly videoPacketsForwarded: number;
  readonly videoSwitches: number;
  readonly videoKeyFrameRequests: number;
  readonly videoKeyFrameRequestsSuppressed: number;
  readonly videoInvalidPackets: number;
}

/** Upper bounds (ms) of the bridge tick lag histogram's buckets. */
export const BRIDGE_TICK_LAG_BUCKETS_MS: readonly number[] = [0.5, 1, 2, 5, 10, 20, 50, 100];

/** A worker's counters before anything happened (every count 0; the lag histogram's buckets and overflow at 0). */
export function zeroMediaStatus(): MediaStatus {
  return {
    sessions: 0,
    streams: 0,
    portPairsInUse: 0,
    portPairsCapacity: 0,
    portsSkipped: 0,
    packetsRelayed: 0,
    bytesRelayed: 0,
    packetsDropped: 0,
    packetsUnobserved: 0,
    latchEvents: 0,
    mediaTimeouts: 0,
    dtmfEvents: 0,
    rtcpSent: 0,
    nativeWorkers: 0,
    bridges: 0,
    bridgeParticipants: 0,
    bridgeTickLag: new Array<number>(BRIDGE_TICK_LAG_BUCKETS_MS.length + 1).fill(0),
    bridgeTickLagSumMs: 0,
    bridgeTickUs: 0,
    videoParticipants: 0,
    videoPacketsForwarded: 0,
    videoSwitches: 0,
    videoKeyFrameRequests: 0,
    videoKeyFrameRequestsSuppressed: 0,
    videoInvalidPackets: 0,
  };
}

export type MediaReply =
  | { readonly ok: true; readonly port?: number; readonly snapshot?: SessionSnapshot; readonly endpoint?: EndpointSnapshot; readonly status?: MediaStatus }
  | {
      readonly ok: false;
      /** `mixed-paths`: a connect between an endpoint on the native mover and one on sockets; `needs-sockets`: a function attached to an endpoint opened without `functions`. */
      /**
       * `unsupported-codec`: a participant in a codec the bridge cannot mix (or with a payload type
       * that is not a 7-bit RTP one, on an endpoint that is not audio, or attached again with
       * another codec); `meeting-full`: the session already has its capacity of participants;
       * `not-a-participant`: a participant, play or stop-play command for an endpoint with no
       * participant function (or an announcement in a session with none); `bad-prompt`: a prompt
       * the worker has not (an unknown name, a count outside 0–250, a pause outside 0–600,000 ms,
       * a play lasting no frame, prompt files that failed to load); `bad-fragment`: a record
       * command's fragment length that is not 0 or a multiple of 20 ms up to 10 s.
       */
      readonly error:
        | 'ports-exhausted'
        | 'no-such-session'
        | 'no-such-endpoint'
        | 'bad-remote'
        | 'srtp-unavailable'
        | 'mixed-paths'
        | 'needs-sockets'
        | 'unsupported-codec'
        | 'meeting-full'
        | 'not-a-participant'
        | 'bad-prompt'
        | 'bad-fragment'
        | 'internal';
    };

/** Unsolicited events from a worker. */
export type MediaEvent =
  | { readonly ev: 'dtmf'; readonly session: string; readonly endpoint: EndpointId; readonly digit: string; readonly durationMs: number }
  | { readonly ev: 'timeout'; readonly session: string; readonly idleMs: number }
  /**
   * A fragment of what an endpoint's far end sent (8 kHz 16-bit PCM) from a tap, or of a recorded
   * meeting's mix (endpoint MIX_ENDPOINT), its first sample at `timecodeMs` (epoch ms).
   */
  | { readonly ev: 'audio'; readonly session: string; readonly endpoint: EndpointId; readonly timecodeMs: number; readonly pcm: Int16Array }
  /** A meeting participant became one of the mixed talkers, or stopped being one. */
  | { readonly ev: 'speaker'; readonly session: string; readonly endpoint: EndpointId; readonly talking: boolean }
  /** A meeting's video sender must be asked for a key frame through signaling (it takes no RTCP feedback, or asked for both). */
  | { readonly ev: 'key-frame'; readonly session: string; readonly endpoint: EndpointId }
  /** A play ran to its end (`endpoint` undefined: an announcement to everyone). */
  | { readonly ev: 'played'; readonly session: string; readonly endpoint: EndpointId | undefined; readonly token: number };

/** Worker tuning passed at start. */
export interface MediaWorkerOptions {
  readonly bindAddress: string;
  readonly low: number;
  readonly high: number;
  /** This worker's slice of the H.323 media range (inclusive), when there is one. */
  readonly h323?: { readonly low: number; readonly high: number } | undefined;
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
