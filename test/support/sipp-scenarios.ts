/**
 * SIPp scenario documents for the integration tests and load benchmarks, built from small
 * message blocks so every scenario speaks the same dialect. Each UAC scenario has a UAS twin.
 * UAC requests after the 2xx go to [next_url] with [routes] (rrs="true"), i.e. to the Contact
 * Carillon put in its 200 — a B2BUA answers with its own Contact.
 */

const SDP = (direction: 'sendrecv' | 'sendonly' = 'sendrecv'): string => `v=0
o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0
a=rtpmap:0 PCMU/8000
a=${direction}`;

/** SDP whose media port is the call's line of the injection file (a test RTP peer's port), with telephone-event. */
const SDP_MEDIA = `v=0
o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP4 127.0.0.1
t=0 0
m=audio [field0] RTP/AVP 0 101
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=sendrecv`;

const cdata = (s: string): string => `<![CDATA[\n${s}\n]]>`;

// ---- caller (UAC) side ----
const UAC_FROM = 'From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]';
const UAC_TO = 'To: <sip:[service]@[remote_ip]:[remote_port]>';
const UAC_CONTACT = 'Contact: <sip:sipp@[local_ip]:[local_port];transport=[transport]>';

const uacInvite = (extra = '', sendAttrs = '', sdp = SDP()): string => `  <send retrans="500"${sendAttrs}>${cdata(`INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
${UAC_FROM}
${UAC_TO}
Call-ID: [call_id]
CSeq: 1 INVITE
${UAC_CONTACT}
Max-Forwards: 70
${extra}Content-Type: application/sdp
Content-Length: [len]

${sdp}`)}</send>`;

const uacAck = (cseq: number): string => `  <send>${cdata(`ACK [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
[routes]
${UAC_FROM}
${UAC_TO}[peer_tag_param]
Call-ID: [call_id]
CSeq: ${cseq} ACK
${UAC_CONTACT}
Max-Forwards: 70
Content-Length: 0
`)}</send>`;

const uacBye = (cseq: number): string => `  <send retrans="500">${cdata(`BYE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
[routes]
${UAC_FROM}
${UAC_TO}[peer_tag_param]
Call-ID: [call_id]
CSeq: ${cseq} BYE
Max-Forwards: 70
Content-Length: 0
`)}</send>
  <recv response="200" crlf="true"/>`;

const uacReinvite = (cseq: number): string => `  <send retrans="500">${cdata(`INVITE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
[routes]
${UAC_FROM}
${UAC_TO}[peer_tag_param]
Call-ID: [call_id]
CSeq: ${cseq} INVITE
${UAC_CONTACT}
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

${SDP('sendonly')}`)}</send>
  <recv response="100" optional="true"/>
  <recv response="200" crlf="true"/>
${uacAck(cseq)}`;

/** A non-INVITE request from the caller inside the dialog, answered 200. `tail` = headers after Max-Forwards. */
const uacInDialog = (method: string, cseq: number, tail: string): string => `  <send retrans="500">${cdata(`${method} [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
[routes]
${UAC_FROM}
${UAC_TO}[peer_tag_param]
Call-ID: [call_id]
CSeq: ${cseq} ${method}
${UAC_CONTACT}
Max-Forwards: 70
${tail}`)}</send>
  <recv response="200"/>`;

/** ACK for a failure final: same branch as the INVITE (its Via comes back in the response). */
const uacAckFailure = `<send>${cdata(`ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
[last_Via:]
${UAC_FROM}
${UAC_TO}[peer_tag_param]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0
`)}</send>`;

const provisionals = `  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>`;

/** Answers an in-dialog request from Carillon with 200 (SDP when `sdp`). */
const answer200 = (sdp: boolean): string => `  <send>${cdata(`SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:[local_ip]:[local_port];transport=[transport]>
${sdp ? `Content-Type: application/sdp\nContent-Length: [len]\n\n${SDP()}` : 'Content-Length: 0\n'}`)}</send>`;

const checkSendonly = `    <action><ereg regexp="a=sendonly" search_in="body" check_it="true" assign_to="hold"/></action>`;

/** SIPp refuses variables that are set but never used; declare them referenced. */
const references = (body: string): string => {
  const vars = [...body.matchAll(/assign_to="([^"]+)"/g)].flatMap((m) => (m[1] as string).split(','));
  return vars.length === 0 ? '' : `  <Reference variables="${[...new Set(vars)].join(',')}"/>\n`;
};

const scenario = (name: string, body: string): string =>
  `<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="${name}">\n${body}\n${references(body)}  <ResponseTimeRepartition value="10, 20, 50, 100, 200, 500, 1000"/>\n</scenario>\n`;

// ---- callee (UAS) side ----
const UAS_TAG = ';tag=[pid]SIPpTag01[call_number]';
const uasReply = (status: string, opts: { sdp?: boolean; tag?: boolean; retrans?: boolean; body?: string } = {}): string => `  <send${opts.retrans === true ? ' retrans="500"' : ''}>${cdata(`SIP/2.0 ${status}
[last_Via:]
[last_From:]
[last_To:]${opts.tag === false ? '' : UAS_TAG}
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:[local_ip]:[local_port];transport=[transport]>
${opts.sdp === true ? `Content-Type: application/sdp\nContent-Length: [len]\n\n${opts.body ?? SDP()}` : 'Content-Length: 0\n'}`)}</send>`;

/**
 * Waits for the ACK of the INVITE just answered. A retransmission of that INVITE may still come
 * (it crossed the answer): a UAS absorbs it (RFC 6026 Accepted state), where a bare SIPp recv
 * would abort the call on it.
 */
export const UAS_AWAIT_ACK = '<recv request="INVITE" optional="true"/>\n  <recv request="ACK" crlf="true"/>';

/** Keeps the INVITE's From (the peer, with its tag) and To (us) for requests the callee sends. */
const uasRecvInvite = (): string => `  <recv request="INVITE" crlf="true" rrs="true">
    <action>
      <ereg regexp=".*" search_in="hdr" header="From:" check_it="true" assign_to="peer"/>
      <ereg regexp=".*" search_in="hdr" header="To:" check_it="true" assign_to="local"/>
    </action>
  </recv>`;

/** A request the callee originates inside the dialog (to Carillon's Contact). */
const uasRequest = (method: string, cseq: number, sdp: boolean): string => `  <send retrans="500">${cdata(`${method} [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
[routes]
From: [$local]${UAS_TAG}
To: [$peer]
Call-ID: [call_id]
CSeq: ${cseq} ${method}
Contact: <sip:[local_ip]:[local_port];transport=[transport]>
Max-Forwards: 70
${sdp ? `Content-Type: application/sdp\nContent-Length: [len]\n\n${SDP('sendonly')}` : 'Content-Length: 0\n'}`)}</send>`;

const uasAck = (cseq: number): string => `  <send>${cdata(`ACK [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
[routes]
From: [$local]${UAS_TAG}
To: [$peer]
Call-ID: [call_id]
CSeq: ${cseq} ACK
Content-Length: 0
`)}</send>`;

const recvByeAnswer = `  <recv request="BYE"/>
${answer200(false)}`;

/** Takes a BYE that must say why: Carillon ended the call because no media flowed. */
const recvMediaTimeoutBye = `  <recv request="BYE">
    <action><ereg regexp="Media Timeout" search_in="hdr" header="Reason:" check_it="true" assign_to="why"/></action>
  </recv>
${answer200(false)}`;

/** Every scenario pair, by name. `pause` in ms is where the call holds. */
export const SCENARIOS = {
  /** INVITE → (100/180/183) → 200 → ACK → hold → BYE. */
  'uac-basic': (pauseMs: number) =>
    scenario('uac-basic', `${uacInvite()}\n${provisionals}\n  <recv response="200" rtd="true" rrs="true"/>\n${uacAck(1)}\n  <pause milliseconds="${pauseMs}"/>\n${uacBye(2)}`),
  /** 180 then 200 with SDP, ACK, then waits for the BYE. */
  'uas-basic': () => scenario('uas-basic', `${uasRecvInvite()}\n${uasReply('180 Ringing')}\n${uasReply('200 OK', { sdp: true, retrans: true })}\n  ${UAS_AWAIT_ACK}\n${recvByeAnswer}`),
  /** Answers at once (no 180): the load benchmark's callee. */
  'uas-answer': () => scenario('uas-answer', `${uasRecvInvite()}\n${uasReply('200 OK', { sdp: true, retrans: true })}\n  ${UAS_AWAIT_ACK}\n${recvByeAnswer}`),
  /** INVITE → 180 → CANCEL → 200 (CANCEL) → 487 → ACK. */
  'uac-cancel': () =>
    scenario(
      'uac-cancel',
      `${uacInvite()}\n  <recv response="100" optional="true"/>\n  <recv response="180"/>\n  <send>${cdata(`CANCEL sip:[service]@[remote_ip]:[remote_port] SIP/2.0
[last_Via:]
${UAC_FROM}
${UAC_TO}
Call-ID: [call_id]
CSeq: 1 CANCEL
Max-Forwards: 70
Content-Length: 0
`)}</send>\n  <recv response="200"/>\n  <recv response="487" crlf="true"/>\n${uacAckFailure}`,
    ),
  /** Rings until CANCELled: 200 for the CANCEL, 487 for the INVITE, waits for the ACK. */
  'uas-ring-forever': () =>
    scenario(
      'uas-ring-forever',
      `${uasRecvInvite()}\n${uasReply('180 Ringing')}\n  <recv request="CANCEL"/>\n${uasReply('200 OK', { tag: true })}\n  <send>${cdata(`SIP/2.0 487 Request Terminated
[last_Via:]
[last_From:]
[last_To:]${UAS_TAG}
[last_Call-ID:]
CSeq: [last_cseq_number] INVITE
Content-Length: 0
`)}</send>\n  ${UAS_AWAIT_ACK}`,
    ),
  /** Expects the callee's 486 to reach it. */
  'uac-expect-486': () => scenario('uac-expect-486', `${uacInvite()}\n${provisionals}\n  <recv response="486" crlf="true"/>\n${uacAckFailure}`),
  /** Busy: 486, waits for the ACK. */
  'uas-busy': () => scenario('uas-busy', `${uasRecvInvite()}\n${uasReply('486 Busy Here')}\n  ${UAS_AWAIT_ACK}`),
  /** Caller that waits for the callee's BYE. */
  'uac-receive-bye': () =>
    scenario('uac-receive-bye', `${uacInvite()}\n${provisionals}\n  <recv response="200" rtd="true" rrs="true"/>\n${uacAck(1)}\n${recvByeAnswer}`),
  /** Caller that asks for session timers as refresher (RFC 4028), then never refreshes and waits for BYE. */
  'uac-timer-silent': () =>
    scenario('uac-timer-silent', `${uacInvite('Supported: timer\nSession-Expires: 90;refresher=uac\n')}\n${provisionals}\n  <recv response="200" rtd="true" rrs="true"/>\n${uacAck(1)}\n${recvByeAnswer}`),
  /** Caller that sends INFO (DTMF relay) and UPDATE inside the dialog, then hangs up. */
  'uac-info-update': () =>
    scenario(
      'uac-info-update',
      `${uacInvite()}\n${provisionals}\n  <recv response="200" rtd="true" rrs="true"/>\n${uacAck(1)}\n${uacInDialog('INFO', 2, 'Content-Type: application/dtmf-relay\nContent-Length: [len]\n\nSignal=5\nDuration=160')}\n${uacInDialog('UPDATE', 3, 'Content-Length: 0\n')}\n${uacBye(4)}`,
    ),
  /** Callee that answers INFO (checking the digit arrived) and UPDATE, then waits for BYE. */
  'uas-info-update': () =>
    scenario(
      'uas-info-update',
      `${uasRecvInvite()}\n${uasReply('200 OK', { sdp: true, retrans: true })}\n  ${UAS_AWAIT_ACK}\n  <recv request="INFO">\n    <action><ereg regexp="Signal=5" search_in="body" check_it="true" assign_to="digit"/></action>\n  </recv>\n${answer200(false)}\n  <recv request="UPDATE"/>\n${answer200(false)}\n${recvByeAnswer}`,
    ),
  /** Caller that supports 100rel: PRACKs the reliable 183 (RFC 3262), then completes the call. */
  'uac-100rel': () =>
    scenario(
      'uac-100rel',
      `${uacInvite('Supported: 100rel\n', ' start_txn="invite"')}
  <recv response="100" optional="true" response_txn="invite"/>
  <recv response="183" rrs="true" response_txn="invite">
    <action>
      <ereg regexp="100rel" search_in="hdr" header="Require:" check_it="true" assign_to="req"/>
      <ereg regexp="[0-9]+" search_in="hdr" header="RSeq:" check_it="true" assign_to="rseq"/>
    </action>
  </recv>
  <send retrans="500" start_txn="prack">${cdata(`PRACK [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
[routes]
${UAC_FROM}
${UAC_TO}[peer_tag_param]
Call-ID: [call_id]
CSeq: 2 PRACK
RAck: [$rseq] 1 INVITE
Max-Forwards: 70
Content-Length: 0
`)}</send>
  <recv response="200" response_txn="prack" optional="global"/>
  <recv response="200" rrs="true" response_txn="invite"/>
  <send ack_txn="invite">${cdata(`ACK [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
[routes]
${UAC_FROM}
${UAC_TO}[peer_tag_param]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0
`)}</send>
${uacBye(3)}`,
    ),
  /** Callee that sends a reliable 183 (Require: 100rel, RSeq), waits for Carillon's PRACK, then answers. */
  'uas-100rel': () =>
    scenario(
      'uas-100rel',
      `  <recv request="INVITE" crlf="true" rrs="true">
    <action>
      <ereg regexp=".*" search_in="hdr" header="Via:" check_it="true" assign_to="ivia"/>
      <ereg regexp=".*" search_in="hdr" header="From:" check_it="true" assign_to="peer"/>
      <ereg regexp=".*" search_in="hdr" header="To:" check_it="true" assign_to="local"/>
      <ereg regexp="100rel" search_in="hdr" header="Supported:" check_it="true" assign_to="sup"/>
    </action>
  </recv>
  <send retrans="500">${cdata(`SIP/2.0 183 Session Progress
[last_Via:]
[last_From:]
[last_To:]${UAS_TAG}
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:[local_ip]:[local_port];transport=[transport]>
Require: 100rel
RSeq: 1
Content-Type: application/sdp
Content-Length: [len]

${SDP()}`)}</send>
  <recv request="PRACK">
    <action><ereg regexp="^ *1 1 INVITE" search_in="hdr" header="RAck:" check_it="true" assign_to="rack"/></action>
  </recv>
${answer200(false)}
  <send retrans="500">${cdata(`SIP/2.0 200 OK
Via: [$ivia]
From: [$peer]
To: [$local]${UAS_TAG}
[last_Call-ID:]
CSeq: 1 INVITE
Contact: <sip:[local_ip]:[local_port];transport=[transport]>
Content-Type: application/sdp
Content-Length: [len]

${SDP()}`)}</send>
  ${UAS_AWAIT_ACK}
${recvByeAnswer}`,
    ),
  /** Callee that hangs up after `pauseMs`. */
  'uas-bye': (pauseMs: number) =>
    scenario('uas-bye', `${uasRecvInvite()}\n${uasReply('180 Ringing')}\n${uasReply('200 OK', { sdp: true, retrans: true })}\n  ${UAS_AWAIT_ACK}\n  <pause milliseconds="${pauseMs}"/>\n${uasRequest('BYE', 1, false)}\n  <recv response="200" crlf="true"/>`),
  /** Caller puts the call on hold (re-INVITE a=sendonly), then hangs up. */
  'uac-hold': (pauseMs: number) =>
    scenario('uac-hold', `${uacInvite()}\n${provisionals}\n  <recv response="200" rtd="true" rrs="true"/>\n${uacAck(1)}\n  <pause milliseconds="${pauseMs}"/>\n${uacReinvite(2)}\n  <pause milliseconds="${pauseMs}"/>\n${uacBye(3)}`),
  /** Callee that accepts a re-INVITE (and checks it asks for hold), then waits for BYE. */
  'uas-accept-reinvite': () =>
    scenario(
      'uas-accept-reinvite',
      `${uasRecvInvite()}\n${uasReply('180 Ringing')}\n${uasReply('200 OK', { sdp: true, retrans: true })}\n  ${UAS_AWAIT_ACK}\n  <recv request="INVITE">\n${checkSendonly}\n  </recv>\n${answer200(true)}\n  <recv request="ACK"/>\n${recvByeAnswer}`,
    ),
  /** Callee puts the call on hold, then waits for the caller's BYE. */
  'uas-hold': (pauseMs: number) =>
    scenario(
      'uas-hold',
      `${uasRecvInvite()}\n${uasReply('180 Ringing')}\n${uasReply('200 OK', { sdp: true, retrans: true })}\n  ${UAS_AWAIT_ACK}\n  <pause milliseconds="${pauseMs}"/>\n${uasRequest('INVITE', 1, true)}\n  <recv response="100" optional="true"/>\n  <recv response="200"/>\n${uasAck(1)}\n${recvByeAnswer}`,
    ),
  /** Caller that accepts the callee's re-INVITE (checking it asks for hold), then hangs up. */
  'uac-accept-reinvite': (pauseMs: number) =>
    scenario(
      'uac-accept-reinvite',
      `${uacInvite()}\n${provisionals}\n  <recv response="200" rtd="true" rrs="true"/>\n${uacAck(1)}\n  <recv request="INVITE">\n${checkSendonly}\n  </recv>\n${answer200(true)}\n  <recv request="ACK"/>\n  <pause milliseconds="${pauseMs}"/>\n${uacBye(2)}`,
    ),
  /** Caller whose media is a test RTP peer (injection file): holds the call `pauseMs`, then hangs up. */
  'uac-media': (pauseMs: number) =>
    scenario('uac-media', `${uacInvite('', '', SDP_MEDIA)}\n${provisionals}\n  <recv response="200" rtd="true" rrs="true"/>\n${uacAck(1)}\n  <pause milliseconds="${pauseMs}"/>\n${uacBye(2)}`),
  /** Callee whose media is a test RTP peer (injection file); waits for the BYE. */
  'uas-media': () =>
    scenario('uas-media', `${uasRecvInvite()}\n${uasReply('200 OK', { sdp: true, retrans: true, body: SDP_MEDIA })}\n  ${UAS_AWAIT_ACK}\n${recvByeAnswer}`),
  /** Caller that sends no media and expects Carillon's media-timeout BYE. */
  'uac-media-timeout': () =>
    scenario('uac-media-timeout', `${uacInvite('', '', SDP_MEDIA)}\n${provisionals}\n  <recv response="200" rtd="true" rrs="true"/>\n${uacAck(1)}\n${recvMediaTimeoutBye}`),
  /** Callee that sends no media and expects Carillon's media-timeout BYE. */
  'uas-media-timeout': () =>
    scenario('uas-media-timeout', `${uasRecvInvite()}\n${uasReply('200 OK', { sdp: true, retrans: true, body: SDP_MEDIA })}\n  ${UAS_AWAIT_ACK}\n${recvMediaTimeoutBye}`),
} as const;

export type ScenarioName = keyof typeof SCENARIOS;
