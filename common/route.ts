import type { PartyIdentity } from './call-leg.ts';
import type { DigestAccount } from './config-snapshot.ts';

/**
 * What routing is asked and what it answers, in no signaling protocol's terms: a SIP INVITE, an
 * H.323 Setup or a WebRTC join each become a RouteRequest on their edge, and each edge turns a
 * RouteDecision's typed next hops into its own messages (STYLE.md 11: a decision says how it was
 * made, in `rule`). The types live in common/ so that every edge (signaling/sip/ua/sip-routing.ts
 * for SIP) and every router (signaling/routing) share them without importing each other.
 */

/** The transports a next hop is reached over. */
export type HopTransport = 'udp' | 'tcp' | 'tls';

/** Whom a caller tried to reach: a number or name, at a host (SIP) or an alias (H.323). */
export interface DialedTarget {
  /** The dialed user part (number or name), escapes resolved; undefined when none was dialed. */
  readonly user: string | undefined;
  /** The host the call was addressed to, lower-cased ('' for a tel: URI or an alias). */
  readonly host: string;
}

/** Where a request came from, as the edge saw it. */
export interface RequestSource {
  readonly address: string;
  readonly port: number;
  readonly transport: HopTransport;
}

/** A username and password Carillon answers a next hop's challenges with (a carrier's). */
export interface UpstreamCredentials {
  readonly username: string;
  readonly password: string;
}

/** The accounts a voice connector accepts (its termination credentials, kept as digest HA1 hashes). */
export type AcceptedAccount = DigestAccount;

/**
 * What the edge's own authentication said of the request's credentials for a realm
 * ('absent': none for this realm; 'stale': an expired or replayed nonce, ask again without
 * counting it; 'failed': a wrong answer, counted against the source).
 */
export type CredentialsResult =
  | { readonly kind: 'ok'; readonly username: string }
  | { readonly kind: 'absent' }
  | { readonly kind: 'stale' }
  | { readonly kind: 'failed'; readonly reason: string };

/** The edge checks the request's credentials (SIP digest, H.235) against a realm's accounts. */
export type CredentialsCheck = (realm: string, accounts: readonly AcceptedAccount[]) => CredentialsResult;

/** Who says they are calling, before routing decides what to assert (the number may be absent). */
export interface CallingParty {
  /** The caller's number or name (escapes resolved), undefined when its signaling names none. */
  readonly user: string | undefined;
  /** The caller asked to stay hidden (SIP: Privacy id/user, or an anonymous From). */
  readonly anonymous: boolean;
}

/** A call about to be routed, whatever protocol brought it. */
export interface RouteRequest {
  readonly dialed: DialedTarget;
  /** The caller as its own signaling names it (SIP: P-Asserted-Identity or From, with privacy). */
  readonly caller: CallingParty;
  /** The number in the caller's From (origination's calling number), undefined when none. */
  readonly fromUser: string | undefined;
  readonly source: RequestSource;
  readonly credentials: CredentialsCheck;
  /** A recording session (SIPREC, RFC 7866) rather than a call to put through. */
  readonly recording: boolean;
  /** What the caller's offer says of its audio: absent (late offer), or whether it is SRTP. */
  readonly audioOffer: 'none' | 'rtp' | 'srtp';
}

/** A call on a voice connector: which one, which way, and the numbers (for metrics, CDRs and events). */
export interface TrunkCall {
  readonly voiceConnectorId: string;
  readonly region: string;
  /** Chime's CDR direction: termination (PBX → phone network) is Outbound, origination Inbound. */
  readonly direction: 'Outbound' | 'Inbound';
  readonly fromNumber: string | undefined;
  readonly toNumber: string;
  readonly fromCountry: string | undefined;
  readonly toCountry: string | undefined;
  /** The voice connector requires encryption: the PBX's leg is SIP over TLS with SDES-SRTP media. */
  readonly encrypted?: boolean;
}

/** Where a call goes next: the peer, and what to ask it for. */
export interface NextHop {
  /** undefined: the edge finds it (SIP: NAPTR, then SRV per transport, RFC 3263 §4.1). */
  readonly transport: HopTransport | undefined;
  /** An IP literal, or a name the edge resolves (SIP: RFC 3263). */
  readonly host: string;
  /** undefined: the edge finds it (SIP: SRV, else the transport's default port). */
  readonly port: number | undefined;
  /** The user to ask the hop for (the dialed number), undefined when the hop takes the call as is. */
  readonly user: string | undefined;
  /** Extra header fields for the hop's request (lower-case names). */
  readonly headers: readonly { readonly name: string; readonly value: string }[];
  /** Credentials for the hop's challenges. */
  readonly credentials?: UpstreamCredentials;
  /** The voice connector this hop serves, when it is not the decision's own (group failover). */
  readonly trunk?: TrunkCall;
}

/** Where a meeting dial-in goes: a meeting it named (by meeting ID, or by host ID as its host), or the IVR. */
export type MeetingTarget =
  | { readonly kind: 'meeting'; readonly meetingId: string; readonly role: 'attendee' | 'host' }
  | { readonly kind: 'ivr' };

/** What the router decided and how. */
export type RouteDecision =
  | {
      readonly kind: 'forward';
      readonly hop: NextHop;
      /** Next hops, tried in order when the one before fails with 408, 5xx, a timeout or a transport error. */
      readonly alternates: readonly NextHop[];
      readonly rule: string;
      readonly trunk?: TrunkCall;
      /** Caller identity for the outbound leg (caller ID, calling name, and whether to hide it). */
      readonly caller?: PartyIdentity;
    }
  /** A SIPREC recording session for a voice connector: Carillon answers it and records (RFC 7866). */
  | { readonly kind: 'record'; readonly rule: string; readonly trunk: TrunkCall }
  /** A dial-in to a meeting: straight into one (as attendee or host), or to the IVR that asks which. */
  | { readonly kind: 'meeting'; readonly rule: string; readonly target: MeetingTarget }
  | {
      readonly kind: 'reject';
      readonly status: number;
      readonly rule: string;
      readonly reason?: string;
      /** Ask for credentials for this realm (SIP: 407 with a digest challenge; `stale`: RFC 7616 stale=true). */
      readonly challenge?: { readonly realm: string; readonly stale: boolean };
      /** Ask the caller to wait this long before trying again (SIP Retry-After). */
      readonly retryAfterSec?: number;
      readonly trunk?: TrunkCall;
      /** Refused by the voice connector's CpsLimit (Chime's Throttles). */
      readonly throttled?: boolean;
    };

/** Anything that routes calls (the voice-connector router; a meeting's dial-in next). */
export interface CallRouter {
  decide(req: RouteRequest): RouteDecision;
}
