/**
 * Packet-path micro-benchmark: RTP header parse-into and the per-packet statistics update,
 * against a same-run reference that only reads the three header words.
 *   npx tsx load/bench/rtp-parse.ts
 */
import { StreamStats } from '../../media/quality/stream-stats.ts';
import { createRtpHeader, parseRtpInto, writeRtpHeader } from '../../media/rtp/rtp-header.ts';
import { opsPerSec, report } from './measure.ts';

const buf = Buffer.alloc(172);
writeRtpHeader({ marker: false, payloadType: 0, sequence: 1, timestamp: 160, ssrc: 42 }, buf);
const h = createRtpHeader();
const stats = new StreamStats(8000);
let sink = 0;
let seq = 0;

const reference = opsPerSec(() => {
  sink += buf.readUInt16BE(2) + buf.readUInt32BE(4) + buf.readUInt32BE(8);
});
report('reference: read 3 header words', reference, reference);
report('parseRtpInto', opsPerSec(() => {
  parseRtpInto(buf, 172, h);
  sink += h.sequence;
}), reference);
report('parseRtpInto + StreamStats.update', opsPerSec(() => {
  parseRtpInto(buf, 172, h);
  seq = (seq + 1) & 0xffff;
  stats.update(seq, seq * 160, seq * 20, h.payloadLength);
}), reference);
if (sink === -1) console.log(sink);
