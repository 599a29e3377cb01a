/**
 * SIP codec micro-benchmark on a 1 KB INVITE with SDP, against a same-run reference that only
 * decodes the bytes to a string.
 *   npx tsx load/bench/sip-parse.ts
 */
import { parseMessage } from '../../signaling/sip/message/parse.ts';
import { serializeMessage } from '../../signaling/sip/message/serialize.ts';
import { opsPerSec, report } from './measure.ts';

const sdp = 'v=0\r\no=- 123 456 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 10000 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=sendrecv\r\n';
const text =
  'INVITE sip:+12065550100@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1234-1-0;rport\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKabc\r\n' +
  'Max-Forwards: 70\r\nFrom: "Alice" <sip:alice@127.0.0.1:5070>;tag=1234SIPpTag001\r\nTo: <sip:+12065550100@127.0.0.1:5060>\r\nCall-ID: 1-1234@127.0.0.1\r\nCSeq: 1 INVITE\r\n' +
  'Contact: <sip:alice@127.0.0.1:5070>\r\nAllow: INVITE, ACK, CANCEL, BYE, OPTIONS\r\nSupported: timer, 100rel\r\nSession-Expires: 1800\r\nSubject: Performance Test\r\n' +
  `Content-Type: application/sdp\r\nContent-Length: ${sdp.length}\r\n\r\n${sdp}`;
const buf = Buffer.from(text, 'latin1');
const parsed = parseMessage(buf);
if (!parsed.ok) throw new Error(parsed.reason);
const msg = parsed.message;
let sink = 0;

const reference = opsPerSec(() => {
  sink += buf.toString('latin1').length;
});
report('reference: bytes → string', reference, reference);
report('parseMessage (with validation)', opsPerSec(() => {
  const r = parseMessage(buf);
  if (r.ok) sink += r.message.headers.length;
}), reference);
report('serializeMessage', opsPerSec(() => {
  sink += serializeMessage(msg).length;
}), reference);
if (sink === -1) console.log(sink);
