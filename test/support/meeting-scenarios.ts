/**
 * SIPp scenarios of a meeting participant: a room system or phone dialing
 * `sip:<user>@<meeting domain>` (the Request-URI names the meeting domain, the INVITE goes to
 * Carillon's address), its media at the injection file's [field0] port (a MeetingPeer), G.711
 * with telephone-event. After the ACK it may send SIP INFO digits, then either hangs up after a
 * hold or waits for Carillon's BYE.
 */

const cdata = (s: string): string => `<![CDATA[\n${s}\n]]>`;

export interface MeetingUacOptions {
  /** Meeting domain the Request-URI and To name. */
  readonly domain: string;
  /** 0 PCMU or 8 PCMA. */
  readonly payloadType?: 0 | 8;
  /** Digits sent as SIP INFO (application/dtmf-relay) after the ACK, `infoGapMs` apart, after `infoAfterMs`. */
  readonly infoDigits?: string;
  readonly infoAfterMs?: number;
  readonly infoGapMs?: number;
  /** Hang up after this long; absent: wait for Carillon's BYE. */
  readonly holdMs?: number;
  /** Offer SDES-SRTP (RTP/SAVP with a key). */
  readonly srtp?: boolean;
  /**
   * Offer H.264 video too (packetization mode 1, PLI feedback) at the injection file's [field1]
   * port; the answer's video port is logged as `carillon-video-port <n>` (SIPp's -trace_logs).
   */
  readonly video?: boolean;
  /**
   * Offer presentation content too: an H.264 `a=content:slides` line (label 3) at the injection
   * file's [field2] port and a BFCP line (TCP, active, a floor naming label 3).
   */
  readonly content?: boolean;
  /** Expect one re-INVITE from Carillon (its media moved to another endpoint) and answer it with the same media. */
  readonly answerReinvite?: boolean;
}

const FROM = 'From: "Room [call_number]" <sip:room[call_number]@[local_ip]:[local_port]>;tag=[pid]MtgTag[call_number]';

export function meetingUac(o: MeetingUacOptions): string {
  const pt = o.payloadType ?? 0;
  const to = `To: <sip:[service]@${o.domain}>`;
  const sdp = [
    'v=0',
    'o=room 53655765 2353687637 IN IP4 [local_ip]',
    's=-',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    `m=audio [field0] ${o.srtp === true ? 'RTP/SAVP' : 'RTP/AVP'} ${pt} 101`,
    `a=rtpmap:${pt} ${pt === 0 ? 'PCMU' : 'PCMA'}/8000`,
    'a=rtpmap:101 telephone-event/8000',
    'a=fmtp:101 0-15',
    ...(o.srtp === true ? ['a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVzcyAo'] : []),
    'a=ptime:20',
    'a=sendrecv',
    ...(o.video === true ? ['m=video [field1] RTP/AVP 96', 'a=rtpmap:96 H264/90000', 'a=fmtp:96 profile-level-id=42e01f;packetization-mode=1', 'a=rtcp-fb:96 nack pli', 'a=sendrecv'] : []),
    ...(o.content === true
      ? ['m=video [field2] RTP/AVP 96', 'a=rtpmap:96 H264/90000', 'a=fmtp:96 profile-level-id=42e01f;packetization-mode=1', 'a=rtcp-fb:96 nack pli', 'a=content:slides', 'a=label:3', 'a=sendrecv', 'm=application 9 TCP/BFCP *', 'a=floorctrl:c-only', 'a=setup:active', 'a=connection:new', 'a=floorid:1 mstrm:3']
      : []),
  ].join('\n');
  const inDialog = (method: string, cseq: number, tail: string): string => `  <send retrans="500">${cdata(`${method} [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
[routes]
${FROM}
${to}[peer_tag_param]
Call-ID: [call_id]
CSeq: ${cseq} ${method}
Contact: <sip:room@[local_ip]:[local_port];transport=[transport]>
Max-Forwards: 70
${tail}`)}</send>`;
  const steps: string[] = [];
  steps.push(`  <send retrans="500">${cdata(`INVITE sip:[service]@${o.domain} SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
${FROM}
${to}
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:room@[local_ip]:[local_port];transport=[transport]>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

${sdp}`)}</send>`);
  steps.push('  <recv response="100" optional="true"/>', '  <recv response="180" optional="true"/>', o.video === true
      ? '  <recv response="200" rtd="true" rrs="true"><action><ereg regexp="m=video ([0-9]+)" search_in="body" check_it="true" assign_to="vline,vport"/><log message="carillon-video-port [$vport] ([$vline])"/></action></recv>'
      : '  <recv response="200" rtd="true" rrs="true"/>');
  steps.push(`  <send>${cdata(`ACK [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
[routes]
${FROM}
${to}[peer_tag_param]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0
`)}</send>`);
  let cseq = 2;
  if (o.infoDigits !== undefined && o.infoDigits.length > 0) {
    steps.push(`  <pause milliseconds="${o.infoAfterMs ?? 1000}"/>`);
    for (const d of o.infoDigits) {
      steps.push(inDialog('INFO', cseq++, `Content-Type: application/dtmf-relay\nContent-Length: [len]\n\nSignal=${d}\nDuration=160\n`));
      steps.push('  <recv response="200"/>');
      steps.push(`  <pause milliseconds="${o.infoGapMs ?? 200}"/>`);
    }
  }
  if (o.answerReinvite === true) {
    steps.push('  <recv request="INVITE" timeout="80000"/>');
    steps.push(`  <send>${cdata(`SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:room@[local_ip]:[local_port];transport=[transport]>
Content-Type: application/sdp
Content-Length: [len]

${sdp}`)}</send>`);
    steps.push('  <recv request="ACK"/>');
  }
  if (o.holdMs !== undefined) {
    steps.push(`  <pause milliseconds="${o.holdMs}"/>`);
    steps.push(inDialog('BYE', cseq, 'Content-Length: 0\n'));
    steps.push('  <recv response="200" crlf="true"/>');
  } else {
    // Carillon's BYE may take a while (an IVR's three tries, a waiting room): longer than SIPp's default receive timeout.
    steps.push('  <recv request="BYE" timeout="80000"/>');
    steps.push(`  <send>${cdata(`SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0
`)}</send>`);
  }
  return `<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="meeting-uac">\n${steps.join('\n')}\n  <ResponseTimeRepartition value="10, 20, 50, 100, 200, 500, 1000"/>\n</scenario>\n`;
}
