/**
 * SIPp scenarios for voice connector trunks: a PBX placing termination calls to
 * `<number>@<voiceConnectorId>.voiceconnector.<domain>` (with digest credentials when asked), and
 * carriers/PBXs on the far side that answer, refuse with a given status, or never answer.
 */
import { UAS_AWAIT_ACK } from './sipp-scenarios.ts';

const cdata = (s: string): string => `<![CDATA[\n${s}\n]]>`;

/** SDP on SIPp's media port, or (`injected`) on the port in the call's injection line (a test RTP peer's). */
const sdp = (injected = false): string => `v=0
o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP4 127.0.0.1
t=0 0
m=audio ${injected ? '[field0]' : '[media_port]'} RTP/AVP 0
a=rtpmap:0 PCMU/8000
a=sendrecv`;

const doc = (name: string, body: string): string => {
  const vars = [...body.matchAll(/assign_to="([^"]+)"/g)].map((m) => m[1] as string);
  const refs = vars.length === 0 ? '' : `  <Reference variables="${[...new Set(vars)].join(',')}"/>\n`;
  return `<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="${name}">\n${body}\n${refs}</scenario>\n`;
};

export interface TrunkCallerOptions {
  /** Request-URI host: `<voiceConnectorId>.voiceconnector.<domain>`. */
  readonly host: string;
  /** The From number the PBX sends. */
  readonly from: string;
  /** 'answer' = a full call with BYE after `pauseMs`; a number = the final failure status expected. */
  readonly expect: 'answer' | number;
  /** Answer a 407 challenge with these credentials (a wrong password makes the second INVITE fail). */
  readonly auth?: { readonly username: string; readonly password: string };
  readonly pauseMs?: number;
  /** Offer the media port of the call's injection line (a test RTP peer) instead of SIPp's. */
  readonly injectedMedia?: boolean;
  /** Header lines added to the INVITE (each ending in a newline), e.g. P-Asserted-Identity and Privacy. */
  readonly extraHeaders?: string;
}

export function trunkCaller(o: TrunkCallerOptions): string {
  const ruri = `sip:[service]@${o.host}`;
  const from = `From: <sip:${o.from}@[local_ip]:[local_port]>;tag=[pid]PBX[call_number]`;
  const to = `To: <${ruri}>`;
  const invite = (cseq: number, extra: string): string => `  <send retrans="500">${cdata(`INVITE ${ruri} SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
${from}
${to}
Call-ID: [call_id]
CSeq: ${cseq} INVITE
Contact: <sip:pbx@[local_ip]:[local_port];transport=[transport]>
Max-Forwards: 70
${o.extraHeaders ?? ''}${extra}Content-Type: application/sdp
Content-Length: [len]

${sdp(o.injectedMedia === true)}`)}</send>`;
  const ackFailure = (cseq: number): string => `  <send>${cdata(`ACK ${ruri} SIP/2.0
[last_Via:]
${from}
${to}[peer_tag_param]
Call-ID: [call_id]
CSeq: ${cseq} ACK
Max-Forwards: 70
Content-Length: 0
`)}</send>`;
  const inDialog = (method: string, cseq: number): string => `  <send${method === 'BYE' ? ' retrans="500"' : ''}>${cdata(`${method} [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
[routes]
${from}
${to}[peer_tag_param]
Call-ID: [call_id]
CSeq: ${cseq} ${method}
Max-Forwards: 70
Content-Length: 0
`)}</send>`;
  const provisionals = `  <recv response="100" optional="true"/>\n  <recv response="180" optional="true"/>\n  <recv response="183" optional="true"/>`;
  let body = '';
  let cseq = 1;
  if (o.auth !== undefined) {
    body += `${invite(1, '')}\n  <recv response="100" optional="true"/>\n  <recv response="407" auth="true"/>\n${ackFailure(1)}\n`;
    cseq = 2;
    body += invite(2, `[authentication username=${o.auth.username} password=${o.auth.password}]\n`);
  } else {
    body += invite(1, '');
  }
  if (o.expect === 'answer') {
    body += `\n${provisionals}\n  <recv response="200" rtd="true" rrs="true"/>\n${inDialog('ACK', cseq)}\n  <pause milliseconds="${o.pauseMs ?? 200}"/>\n${inDialog('BYE', cseq + 1)}\n  <recv response="200" crlf="true"/>`;
  } else {
    body += `\n${provisionals}\n  <recv response="${o.expect}" crlf="true"/>\n${ackFailure(cseq)}`;
  }
  return doc('trunk-caller', body);
}

const reply = (status: string, withSdp: boolean, injected = false): string => `  <send${withSdp ? ' retrans="500"' : ''}>${cdata(`SIP/2.0 ${status}
[last_Via:]
[last_From:]
[last_To:];tag=[pid]FAR[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:[local_ip]:[local_port];transport=[transport]>
${withSdp ? `Content-Type: application/sdp\nContent-Length: [len]\n\n${sdp(injected)}` : 'Content-Length: 0\n'}`)}</send>`;

/** 200 to the request just received. */
const OK_TO_LAST = `  <send>${cdata(`SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0
`)}</send>`;

/** Takes the BYE that ends an answered call and answers it 200. */
const BYE_OK = `  <recv request="BYE"/>\n${OK_TO_LAST}`;

/**
 * The far side (carrier for termination, PBX route for origination): answers and waits for the
 * BYE, or refuses every call with `status`. `check` regexps must match the INVITE's headers.
 */
export function farEnd(o: { readonly answer: true; readonly check?: readonly { header: string; regexp: string }[]; readonly injectedMedia?: boolean } | { readonly answer: false; readonly status: string }): string {
  const checks = o.answer ? (o.check ?? []) : [];
  // header '' searches the whole message (the request line included).
  const actions = checks
    .map((c, i) => (c.header === '' ? `      <ereg regexp="${c.regexp}" search_in="msg" check_it="true" assign_to="c${i}"/>` : `      <ereg regexp="${c.regexp}" search_in="hdr" header="${c.header}:" check_it="true" assign_to="c${i}"/>`))
    .join('\n');
  const recvInvite = `  <recv request="INVITE" crlf="true">${actions === '' ? '' : `\n    <action>\n${actions}\n    </action>\n  `}</recv>`;
  if (!o.answer) return doc('far-refuse', `${recvInvite}\n${reply(o.status, false)}\n  ${UAS_AWAIT_ACK}`);
  return doc(
    'far-answer',
    `${recvInvite}\n${reply('180 Ringing', false)}\n${reply('200 OK', true, o.injectedMedia === true)}\n  ${UAS_AWAIT_ACK}\n${BYE_OK}`,
  );
}

/** A PBX keepalive: OPTIONS to its voice connector's host name, expecting 200. */
export function trunkOptions(host: string): string {
  return doc(
    'trunk-options',
    `  <send retrans="500">${cdata(`OPTIONS sip:${host} SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:pbx@[local_ip]:[local_port]>;tag=[pid]OPT[call_number]
To: <sip:${host}>
Call-ID: [call_id]
CSeq: 1 OPTIONS
Max-Forwards: 70
Content-Length: 0
`)}</send>
  <recv response="200" crlf="true"/>`,
  );
}

/**
 * A carrier that wants credentials: 401 with an MD5 challenge, then checks the second INVITE's
 * Authorization with SIPp's own digest code (verifyauth reads Authorization only) — answers 200
 * when it is right, 403 when not.
 */
export function challengingCarrier(username: string, password: string): string {
  const challenge = `  <send>${cdata(`SIP/2.0 401 Unauthorized
[last_Via:]
[last_From:]
[last_To:];tag=[pid]FAR[call_number]
[last_Call-ID:]
[last_CSeq:]
WWW-Authenticate: Digest realm="carrier.example", nonce="[pid]n[call_number]", algorithm=MD5
Content-Length: 0
`)}</send>`;
  return doc(
    'carrier-challenge',
    `  <recv request="INVITE" crlf="true"/>
${challenge}
  <recv request="ACK"/>
  <recv request="INVITE" crlf="true">
    <action><verifyauth assign_to="authok" username="${username}" password="${password}"/></action>
  </recv>
  <nop hide="true" test="authok" next="good"/>
${reply('403 Forbidden', false)}
  <recv request="ACK" next="end"/>
  <label id="good"/>
${reply('200 OK', true)}
  <recv request="ACK" crlf="true"/>
${BYE_OK}
  <label id="end"/>`,
  );
}

/** The rs-metadata (RFC 7865) a recording client sends: two participants, each sending one stream. */
export const RS_METADATA = `<?xml version="1.0" encoding="UTF-8"?>
<recording xmlns="urn:ietf:params:xml:ns:recording:1">
  <datamode>complete</datamode>
  <session session_id="hVpd7YQgRW2nD22h7q60JQ=="><sipSessionID>ab30317f1a784dc48ff824d0d3715d86;remote=47755a9de7794ba387653f2099600ef2</sipSessionID></session>
  <participant participant_id="srfBElmCRp2QB23b7Mpk0w=="><nameID aor="sip:+12065550111@pbx.example"/></participant>
  <participant participant_id="zSfPoSvdSDCmU3A3TRDxAw=="><nameID aor="sip:+14155550123@carrier.example"/></participant>
  <stream stream_id="UAAMm5GRQKSCMVvLyl4rFw==" session_id="hVpd7YQgRW2nD22h7q60JQ=="><label>1</label></stream>
  <stream stream_id="i1Pz3to5hGk8fuXl+PbwCw==" session_id="hVpd7YQgRW2nD22h7q60JQ=="><label>2</label></stream>
  <participantstreamassoc participant_id="srfBElmCRp2QB23b7Mpk0w=="><send>UAAMm5GRQKSCMVvLyl4rFw==</send><recv>i1Pz3to5hGk8fuXl+PbwCw==</recv></participantstreamassoc>
  <participantstreamassoc participant_id="zSfPoSvdSDCmU3A3TRDxAw=="><send>i1Pz3to5hGk8fuXl+PbwCw==</send><recv>UAAMm5GRQKSCMVvLyl4rFw==</recv></participantstreamassoc>
</recording>`;

/**
 * A session recording client (an SBC doing SIPREC, RFC 7866) opening a recording session at a
 * voice connector: Require siprec, +sip.src, multipart SDP (two sendonly streams labelled 1 and 2
 * on the ports of the injection line's two fields) and rs-metadata; BYE after `pauseMs`.
 */
export function recordingClient(o: { readonly host: string; readonly pauseMs: number; readonly byeFromCarillon?: boolean }): string {
  const ruri = `sip:[service]@${o.host}`;
  const from = `From: <sip:src@[local_ip]:[local_port]>;tag=[pid]SRC[call_number]`;
  const to = `To: <${ruri}>`;
  const body = `--rec-boundary
Content-Type: application/sdp

v=0
o=src 1 1 IN IP4 127.0.0.1
s=recording
c=IN IP4 127.0.0.1
t=0 0
m=audio [field0] RTP/AVP 0
a=rtpmap:0 PCMU/8000
a=label:1
a=sendonly
m=audio [field1] RTP/AVP 0
a=rtpmap:0 PCMU/8000
a=label:2
a=sendonly

--rec-boundary
Content-Type: application/rs-metadata+xml
Content-Disposition: recording-session

${RS_METADATA}
--rec-boundary--`;
  return doc(
    'recording-client',
    `  <send retrans="500">${cdata(`INVITE ${ruri} SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
${from}
${to}
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:src@[local_ip]:[local_port];transport=[transport]>;+sip.src
Require: siprec
Max-Forwards: 70
Content-Type: multipart/mixed;boundary=rec-boundary
Content-Length: [len]

${body}`)}</send>
  <recv response="100" optional="true"/>
  <recv response="200" rrs="true">
    <action><ereg regexp="a=recvonly" search_in="body" check_it="true" assign_to="recv"/></action>
  </recv>
  <send>${cdata(`ACK [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
${from}
${to}[peer_tag_param]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0
`)}</send>
${
  o.byeFromCarillon === true
    ? `  <recv request="BYE" timeout="${o.pauseMs}">
    <action><ereg regexp="Recording ended" search_in="hdr" header="Reason:" check_it="true" assign_to="why"/></action>
  </recv>
${OK_TO_LAST}`
    : `  <pause milliseconds="${o.pauseMs}"/>
  <send retrans="500">${cdata(`BYE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
${from}
${to}[peer_tag_param]
Call-ID: [call_id]
CSeq: 2 BYE
Max-Forwards: 70
Content-Length: 0
`)}</send>
  <recv response="200" crlf="true"/>`
}`,
  );
}
