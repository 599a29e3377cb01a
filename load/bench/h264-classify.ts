/**
 * Video switch micro-benchmark: the per-packet cost of classifyH264 (media/video/h264.ts) over a
 * realistic mix of H.264 RTP packets (RFC 6184, packetization mode 1), against a same-run
 * reference of parseRtpInto alone over the same packets (what every packet costs before the switch
 * looks at it). The mix is two GOPs of a 1 Mbit/s, 30 frame/s camera, 60 frames each: P frames of
 * ≈ 4,200 bytes in four FU-A fragments of ≤ 1,200 bytes (every tenth P frame small enough to go as
 * one single NAL unit), and a key frame four times that size as an IDR in FU-A, its SPS and PPS
 * once as single NAL units (one GOP) and once in a STAP-A (the other, as WebRTC encoders send
 * them). Rounds interleave the two so a busy neighbour weighs on both alike; medians reported.
 *   npx tsx load/bench/h264-classify.ts
 */
import { createRtpHeader, parseRtpInto, writeRtpHeader } from '../../media/rtp/rtp-header.ts';
import { classifyH264 } from '../../media/video/h264.ts';
import { opsPerSec, report } from './measure.ts';

const MAX_PAYLOAD = 1200;
const FRAME_BYTES = 4166;
const KEY_MULT = 4;
const GOP = 60;
const ROUNDS = 5;

let seq = 0;
const packets: Buffer[] = [];
const push = (payload: Buffer, marker: boolean, ts: number): void => {
  const b = Buffer.alloc(12 + payload.length, 0xa5);
  writeRtpHeader({ marker, payloadType: 96, sequence: seq++ & 0xffff, timestamp: ts, ssrc: 0x1234 }, b);
  payload.copy(b, 12);
  packets.push(b);
};
/** One NAL unit (header octet `nal`, `size` bytes) as a single packet or FU-A fragments. */
const nalUnit = (nal: number, size: number, ts: number): void => {
  if (size <= MAX_PAYLOAD) {
    const p = Buffer.alloc(size, 0xa5);
    p[0] = nal;
    push(p, true, ts);
    return;
  }
  const chunk = MAX_PAYLOAD - 2;
  const frags = Math.ceil((size - 1) / chunk);
  for (let i = 0; i < frags; i++) {
    const len = i < frags - 1 ? chunk : size - 1 - chunk * (frags - 1);
    const p = Buffer.alloc(2 + len, 0xa5);
    p[0] = (nal & 0xe0) | 28;
    p[1] = (i === 0 ? 0x80 : 0) | (i === frags - 1 ? 0x40 : 0) | (nal & 0x1f);
    push(p, i === frags - 1, ts);
  }
};
const sps = Buffer.from([0x67, 0x42, 0xe0, 0x1f, 0x8d, 0x68, 0x05, 0x00]);
const pps = Buffer.from([0x68, 0xce, 0x3c, 0x80]);
for (let gop = 0; gop < 2; gop++) {
  for (let f = 0; f < GOP; f++) {
    const ts = (gop * GOP + f) * 3000;
    if (f === 0) {
      if (gop === 0) {
        push(sps, false, ts);
        push(pps, false, ts);
      } else {
        const stap = Buffer.alloc(1 + 2 + sps.length + 2 + pps.length);
        stap[0] = 0x78;
        stap.writeUInt16BE(sps.length, 1);
        sps.copy(stap, 3);
        stap.writeUInt16BE(pps.length, 3 + sps.length);
        pps.copy(stap, 5 + sps.length);
        push(stap, false, ts);
      }
      nalUnit(0x65, FRAME_BYTES * KEY_MULT, ts);
    } else {
      nalUnit(0x41, f % 10 === 0 ? 900 : FRAME_BYTES, ts);
    }
  }
}
const classes = { key: 0, delta: 0, invalid: 0 };
const h = createRtpHeader();
for (const p of packets) {
  if (parseRtpInto(p, p.length, h) !== undefined) throw new Error('mix: a packet does not parse');
  classes[classifyH264(p, h.payloadOffset, h.payloadLength, false)]++;
}
if (classes.invalid !== 0) throw new Error('mix: an invalid packet');

let at = 0;
let sink = 0;
const parseOnly = (): void => {
  const p = packets[at] as Buffer;
  at = at + 1 === packets.length ? 0 : at + 1;
  parseRtpInto(p, p.length, h);
  sink += h.payloadLength;
};
const parseAndClassify = (): void => {
  const p = packets[at] as Buffer;
  at = at + 1 === packets.length ? 0 : at + 1;
  parseRtpInto(p, p.length, h);
  sink += h.payloadLength;
  if (classifyH264(p, h.payloadOffset, h.payloadLength, false) === 'key') sink++;
};

const results = { parse: [] as number[], both: [] as number[] };
for (let round = 0; round < ROUNDS; round++) {
  results.parse.push(opsPerSec(parseOnly, 500));
  results.both.push(opsPerSec(parseAndClassify, 500));
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const reference = median(results.parse);
const both = median(results.both);
console.log(`node ${process.version}; mix of ${packets.length} packets: ${classes.key} key, ${classes.delta} delta`);
report('reference: parseRtpInto', reference, reference);
report('parseRtpInto + classifyH264', both, reference);
const ns = (ops: number): string => (1e9 / ops).toFixed(1);
console.log(
  `medians of ${ROUNDS} rounds, per packet: parse ${ns(reference)} ns (rounds ${results.parse.map(ns).join(', ')}), ` +
    `parse + classify ${ns(both)} ns (rounds ${results.both.map(ns).join(', ')}), classifyH264 ≈ ${(1e9 / both - 1e9 / reference).toFixed(1)} ns`,
);
if (sink === -1) console.log(sink);
