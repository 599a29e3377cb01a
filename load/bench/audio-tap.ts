/**
 * Streaming's per-packet cost in the relay: AudioTap.write (G.711 table decode of a 160-byte
 * payload into the current fragment, placed by timestamp), against a same-run reference that
 * only copies the 160 payload bytes. Fragments of 1 s are handed to a no-op listener.
 *   npx tsx load/bench/audio-tap.ts
 */
import { AudioTap } from '../../media/stream/audio-tap.ts';
import { opsPerSec, report } from './measure.ts';

const packet = Buffer.alloc(172, 0x55);
const copy = Buffer.alloc(160);
let fragments = 0;
const tap = new AudioTap(1000, () => void fragments++);
let ts = 0;
let wall = 1_764_000_000_000;

const reference = opsPerSec(() => {
  packet.copy(copy, 0, 12, 172);
});
report('reference: copy a 160-byte payload', reference, reference);
report('AudioTap.write (G.711 → fragment)', opsPerSec(() => {
  tap.write(packet, 12, 160, 0, ts, wall);
  ts = (ts + 160) >>> 0;
  wall += 20;
}), reference);
if (fragments === -1) console.log(fragments);
