import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { EbmlDataTag, EbmlMasterTag, EbmlStreamDecoder, EbmlTagId, EbmlTagPosition, SimpleBlock } from 'ebml-stream';
import type { EbmlTag } from 'ebml-stream';

/**
 * Independent checks of a streamed MKV: mkvinfo (mkvtoolnix), ffprobe/ffmpeg, and ebml-stream's
 * decoder — the parser Chime's own streaming consumers used.
 */

export interface MkvinfoReport {
  /** Lines naming a warning or an error (a clean file has none; the exit code alone says nothing). */
  readonly problems: string[];
  readonly simpleBlocks: number;
  readonly transactionIdTags: number;
  readonly text: string;
}

export function mkvinfo(file: string): MkvinfoReport {
  const text = execFileSync('mkvinfo', ['-v', file], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const lines = text.split('\n');
  return {
    problems: lines.filter((l) => /warning|error/i.test(l)),
    simpleBlocks: lines.filter((l) => /Simple block/.test(l)).length,
    transactionIdTags: lines.filter((l) => /Name: TransactionId/.test(l)).length,
    text,
  };
}

export interface AudioProbe {
  readonly codec_name: string;
  readonly sample_rate: string;
  readonly channels: number;
  readonly bits_per_sample: number;
}

export function ffprobeAudio(file: string): AudioProbe | undefined {
  const out = execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name,sample_rate,channels,bits_per_sample', '-of', 'json', file], { encoding: 'utf8' });
  return (JSON.parse(out) as { streams: AudioProbe[] }).streams[0];
}

/** The file's audio decoded by ffmpeg to raw s16le. */
export function ffmpegPcm(file: string): Buffer {
  return execFileSync('ffmpeg', ['-v', 'error', '-i', file, '-f', 's16le', '-c:a', 'pcm_s16le', '-'], { maxBuffer: 256 * 1024 * 1024 });
}

/** G.711 bytes decoded by ffmpeg (an independent decoder) to raw s16le. */
export function ffmpegG711(bytes: Buffer, law: 'mulaw' | 'alaw'): Buffer {
  return execFileSync('ffmpeg', ['-v', 'error', '-f', law, '-ar', '8000', '-ac', '1', '-i', 'pipe:0', '-f', 's16le', '-c:a', 'pcm_s16le', '-'], { input: bytes, maxBuffer: 256 * 1024 * 1024 });
}

/** A decoded SimpleTag's name and value (undefined for any other element). */
export function simpleTagOf(tag: EbmlTag): [string, string] | undefined {
  if (tag.id !== (EbmlTagId.SimpleTag as number) || !(tag instanceof EbmlMasterTag)) return undefined;
  const name = tag.Children.find((c) => c.id === (EbmlTagId.TagName as number));
  const value = tag.Children.find((c) => c.id === (EbmlTagId.TagString as number));
  return name instanceof EbmlDataTag && value instanceof EbmlDataTag ? [String(name.data), String(value.data)] : undefined;
}

export interface DecodedFragment {
  readonly timecodeMs: number;
  readonly blocks: number;
  readonly pcm: Buffer;
  readonly tags: Record<string, string>;
}

/** Every Cluster of an MKV byte stream, with the SimpleTags that follow it (ebml-stream). */
export async function ebmlFragments(bytes: Buffer): Promise<DecodedFragment[]> {
  const decoder = new EbmlStreamDecoder({ bufferTagIds: [EbmlTagId.SimpleTag] });
  const out: { timecodeMs: number; blocks: number; pcm: Buffer[]; tags: Record<string, string> }[] = [];
  const done = new Promise<void>((resolve, reject) => {
    decoder.on('data', (tag: EbmlTag) => {
      const cur = out.at(-1);
      if (tag.id === (EbmlTagId.Cluster as number) && tag.position === EbmlTagPosition.Start) out.push({ timecodeMs: -1, blocks: 0, pcm: [], tags: {} });
      else if (cur !== undefined && tag.id === (EbmlTagId.Timecode as number) && tag instanceof EbmlDataTag) cur.timecodeMs = Number(tag.data);
      else if (cur !== undefined && tag instanceof SimpleBlock) {
        cur.blocks++;
        cur.pcm.push(tag.payload);
      } else if (cur !== undefined) {
        const st = simpleTagOf(tag);
        if (st !== undefined) cur.tags[st[0]] = st[1];
      }
    });
    decoder.on('end', resolve);
    decoder.on('error', reject);
  });
  decoder.end(bytes);
  await done;
  return out.map((f) => ({ timecodeMs: f.timecodeMs, blocks: f.blocks, pcm: Buffer.concat(f.pcm), tags: f.tags }));
}

export function ebmlFragmentsOf(file: string): Promise<DecodedFragment[]> {
  return ebmlFragments(readFileSync(file));
}
