/**
 * A live Matroska writer for one leg's audio as Kinesis Video Streams takes it (PutMedia): one
 * EBML header and one Segment of unknown size with Info and one PCM track, then one Cluster per
 * fragment (Timecode = epoch ms, 20 ms SimpleBlocks) followed by the fragment's Tags. Pure: bytes
 * in, bytes out; every sink gets the same bytes.
 */

/** Element IDs (their marker bits included), Matroska/EBML. */
const ID = {
  EBML: 0x1a45dfa3,
  EBMLVersion: 0x4286,
  EBMLReadVersion: 0x42f7,
  EBMLMaxIDLength: 0x42f2,
  EBMLMaxSizeLength: 0x42f3,
  DocType: 0x4282,
  DocTypeVersion: 0x4287,
  DocTypeReadVersion: 0x4285,
  Segment: 0x18538067,
  Info: 0x1549a966,
  SegmentUID: 0x73a4,
  TimecodeScale: 0x2ad7b1,
  Title: 0x7ba9,
  MuxingApp: 0x4d80,
  WritingApp: 0x5741,
  Tracks: 0x1654ae6b,
  TrackEntry: 0xae,
  TrackNumber: 0xd7,
  TrackUID: 0x73c5,
  TrackType: 0x83,
  Name: 0x536e,
  CodecID: 0x86,
  Audio: 0xe1,
  SamplingFrequency: 0xb5,
  Channels: 0x9f,
  BitDepth: 0x6264,
  Cluster: 0x1f43b675,
  Timecode: 0xe7,
  Position: 0xa7,
  SimpleBlock: 0xa3,
  Tags: 0x1254c367,
  Tag: 0x7373,
  Targets: 0x63c0,
  SimpleTag: 0x67c8,
  TagName: 0x45a3,
  TagString: 0x4487,
} as const;

/** Audio the writer frames: 8 kHz, 16-bit little-endian, mono (audio/L16 as Chime streamed it). */
export const SAMPLE_RATE = 8000;
/** Samples per SimpleBlock (20 ms). */
export const BLOCK_SAMPLES = 160;

function idBytes(id: number): Buffer {
  const len = id > 0xffffff ? 4 : id > 0xffff ? 3 : id > 0xff ? 2 : 1;
  const b = Buffer.alloc(len);
  b.writeUIntBE(id, 0, len);
  return b;
}

/** An EBML variable-size integer holding `n` (the shortest form; 8 bytes at most). */
function sizeBytes(n: number): Buffer {
  for (let len = 1; len <= 8; len++) {
    // Each length leaves 7·len value bits; all ones is reserved for "unknown".
    if (n < 2 ** (7 * len) - 1) {
      const b = Buffer.alloc(len);
      let v = n;
      for (let i = len - 1; i >= 0; i--) {
        b[i] = v % 256;
        v = Math.floor(v / 256);
      }
      b[0] = (b[0] ?? 0) | (0x80 >> (len - 1));
      return b;
    }
  }
  throw new RangeError(`EBML size too large: ${n}`);
}

/** The 8-byte "unknown size" marker (a live Segment or Cluster). */
const UNKNOWN_SIZE = Buffer.from([0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

function el(id: number, payload: Buffer): Buffer {
  return Buffer.concat([idBytes(id), sizeBytes(payload.length), payload]);
}

function master(id: number, children: readonly Buffer[]): Buffer {
  return el(id, Buffer.concat(children));
}

function uint(id: number, n: number): Buffer {
  let len = 1;
  while (len < 8 && n >= 2 ** (8 * len)) len++;
  const b = Buffer.alloc(len);
  let v = n;
  for (let i = len - 1; i >= 0; i--) {
    b[i] = v % 256;
    v = Math.floor(v / 256);
  }
  return el(id, b);
}

function float64(id: number, f: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeDoubleBE(f, 0);
  return el(id, b);
}

function str(id: number, s: string): Buffer {
  return el(id, Buffer.from(s, 'utf8'));
}

export interface MkvStreamInfo {
  /** 16 random bytes naming the Segment. */
  readonly segmentUid: Buffer;
  readonly title: string;
  readonly trackName: string;
  readonly app: string;
}

/** EBML header, the Segment's start (unknown size), Info and Tracks: what every upload begins with. */
export function mkvHeader(info: MkvStreamInfo): Buffer {
  const ebml = master(ID.EBML, [
    uint(ID.EBMLVersion, 1),
    uint(ID.EBMLReadVersion, 1),
    uint(ID.EBMLMaxIDLength, 4),
    uint(ID.EBMLMaxSizeLength, 8),
    str(ID.DocType, 'matroska'),
    uint(ID.DocTypeVersion, 2),
    uint(ID.DocTypeReadVersion, 2),
  ]);
  const segInfo = master(ID.Info, [el(ID.SegmentUID, info.segmentUid), uint(ID.TimecodeScale, 1_000_000), str(ID.Title, info.title), str(ID.MuxingApp, info.app), str(ID.WritingApp, info.app)]);
  const tracks = master(ID.Tracks, [
    master(ID.TrackEntry, [
      uint(ID.TrackNumber, 1),
      uint(ID.TrackUID, 1),
      uint(ID.TrackType, 2),
      str(ID.Name, info.trackName),
      str(ID.CodecID, 'A_PCM/INT/LIT'),
      master(ID.Audio, [float64(ID.SamplingFrequency, SAMPLE_RATE), uint(ID.Channels, 1), uint(ID.BitDepth, 16)]),
    ]),
  ]);
  return Buffer.concat([ebml, idBytes(ID.Segment), UNKNOWN_SIZE, segInfo, tracks]);
}

/**
 * One fragment: a Cluster at `timecodeMs` (epoch ms) holding `pcm` as 20 ms SimpleBlocks (the
 * last one shorter if the fragment is), then Tags with `tags` in order. A Cluster of unknown
 * size is ended by the Tags element that follows it.
 */
export function mkvFragment(timecodeMs: number, pcm: Int16Array, tags: readonly (readonly [string, string])[]): Buffer {
  const parts: Buffer[] = [idBytes(ID.Cluster), UNKNOWN_SIZE, uint(ID.Timecode, timecodeMs), uint(ID.Position, 0)];
  for (let off = 0; off < pcm.length; off += BLOCK_SAMPLES) {
    const n = Math.min(BLOCK_SAMPLES, pcm.length - off);
    const block = Buffer.alloc(4 + 2 * n);
    block[0] = 0x81; // track 1
    block.writeInt16BE(Math.round((off * 1000) / SAMPLE_RATE), 1);
    block[3] = 0x80; // keyframe, no lacing
    for (let i = 0; i < n; i++) block.writeInt16LE(pcm[off + i] ?? 0, 4 + 2 * i);
    parts.push(el(ID.SimpleBlock, block));
  }
  const simpleTags = tags.map(([name, value]) => master(ID.SimpleTag, [str(ID.TagName, name), str(ID.TagString, value)]));
  parts.push(master(ID.Tags, [master(ID.Tag, [master(ID.Targets, []), ...simpleTags])]));
  return Buffer.concat(parts);
}
