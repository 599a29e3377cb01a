import { execFileSync } from 'node:child_process';

/**
 * What a video test peer shows and how a received picture is told apart: each endpoint sends one
 * solid colour from this palette (with a small moving test pattern in the middle, so P-frames
 * carry real residuals), and a receiver names the palette colour nearest to a picture's mean.
 * The palette's colours are at least 255 apart (RGB distance), so a decoded picture is named
 * reliably although YUV 4:2:0 and limited-range conversions shift it by up to ~45.
 */
export const VIDEO_COLOURS = {
  red: [255, 0, 0],
  green: [0, 255, 0],
  blue: [0, 0, 255],
  yellow: [255, 255, 0],
  cyan: [0, 255, 255],
  magenta: [255, 0, 255],
  white: [255, 255, 255],
  black: [0, 0, 0],
} as const satisfies Record<string, readonly [number, number, number]>;

export type VideoColour = keyof typeof VIDEO_COLOURS;

export interface Rgb {
  readonly r: number;
  readonly g: number;
  readonly b: number;
}

/** A picture's mean colour and the palette colour it is nearest to. */
export interface NamedPicture extends Rgb {
  /** The nearest palette colour, or 'unknown' when none is within `UNKNOWN_DISTANCE` (a grey or green corrupt picture). */
  readonly colour: VideoColour | 'unknown';
  /** RGB distance to that colour. */
  readonly distance: number;
}

/** Beyond this RGB distance from every palette colour a picture is 'unknown'. */
export const UNKNOWN_DISTANCE = 100;

/** The colour as ffmpeg's colour syntax (`0xRRGGBB`). */
export function ffmpegColour(c: VideoColour): string {
  return `0x${VIDEO_COLOURS[c].map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}

/**
 * The lavfi graph of a test peer's picture: `colour` filling `width`×`height` at `fps`, a 64×48
 * testsrc2 (moving) in the middle, yuv420p. 90-odd characters: baresip 1.0 keeps at most 127 of
 * `video_source` after the module name.
 */
export function testPictureGraph(c: VideoColour, width: number, height: number, fps: number): string {
  const x = Math.max(0, Math.floor(width / 2) - 32);
  const y = Math.max(0, Math.floor(height / 2) - 24);
  return `color=c=${ffmpegColour(c)}:s=${width}x${height}:r=${fps}[a];testsrc2=s=64x48:r=${fps}[b];[a][b]overlay=${x}:${y},format=yuv420p`;
}

export function nameColour(rgb: Rgb): NamedPicture {
  let best: VideoColour | 'unknown' = 'unknown';
  let bestDistance = Infinity;
  for (const [name, [r, g, b]] of Object.entries(VIDEO_COLOURS)) {
    const d = Math.hypot(rgb.r - r, rgb.g - g, rgb.b - b);
    if (d < bestDistance) {
      bestDistance = d;
      best = name as VideoColour;
    }
  }
  return { ...rgb, colour: bestDistance <= UNKNOWN_DISTANCE ? best : 'unknown', distance: Math.round(bestDistance) };
}

/** The mean colour of a picture file (PNG), decoded by ffmpeg to one RGB pixel (area average). */
export function meanColourOfFile(file: string): NamedPicture {
  const px = execFileSync('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'error', '-i', file, '-vf', 'scale=1:1:flags=area', '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { timeout: 10_000 });
  if (px.length < 3) throw new Error(`${file}: ffmpeg decoded no pixel`);
  return nameColour({ r: px[0] as number, g: px[1] as number, b: px[2] as number });
}

/**
 * Lines in a libavcodec-based decoder's log that say an H.264 picture was not decoded cleanly.
 *
 * libavcodec's h264 decoder logs at error level, prefixed `[h264 @ 0x…]`: a stream joined mid-GOP
 * (no SPS/PPS yet) gives `non-existing PPS 0 referenced`, `decode_slice_header error`, `no frame!`
 * for every slice until the next IDR; a lost or damaged slice gives `error while decoding MB x y`,
 * `concealing N DC, N AC, N MV errors in P frame`, `Invalid NAL unit size`, `left/top block
 * unavailable`, `reference picture missing during reorder`, `Missing reference picture`,
 * `mmco: unref short failure`. ffmpeg folds repeats into `    Last message repeated N times`,
 * which counts N more. baresip's avcodec wrapper adds its own lines (`avcodec: avcodec_send_packet
 * error …`, `video: H264 decode error (seq=…)`, `avcodec: H264 forbidden bit set!`, `avcodec:
 * unknown NAL type`, `avcodec_receive_frame error`); its "decoder waiting for keyframe" is debug
 * level (baresip -v only) and counts nothing here.
 */
export function h264DecodeErrorCount(log: string): number {
  let n = 0;
  let lastWasError = false;
  for (const line of log.split(/\r?\n|\r/)) {
    const repeated = /^\s+Last message repeated (\d+) times/.exec(line);
    if (repeated !== null) {
      if (lastWasError) n += Number(repeated[1]);
      continue;
    }
    lastWasError = H264_ERROR_LINE.test(line);
    if (lastWasError) n++;
  }
  return n;
}

/** The lines h264DecodeErrorCount counts (first occurrence of each repeat), for assertion messages. */
export function h264DecodeErrorLines(log: string): string[] {
  return log.split(/\r?\n|\r/).filter((l) => H264_ERROR_LINE.test(l));
}

const H264_ERROR_LINE =
  /\[h264 @ 0x[0-9a-f]+\] |avcodec: avcodec_send_packet error|video: H264 decode error|avcodec: H264 forbidden bit set|avcodec: unknown NAL type|avcodec_receive_frame error|avcodec: decode buffer size exceeded/;
