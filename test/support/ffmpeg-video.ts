import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestNetns } from './netns.ts';
import { h264DecodeErrorCount, h264DecodeErrorLines, nameColour, testPictureGraph } from './video-picture.ts';
import type { NamedPicture, VideoColour } from './video-picture.ts';

/**
 * ffmpeg as an H.264 RTP video peer, on loopback or inside a namespace of the test: a sender
 * (lavfi picture → libx264 baseline, zerolatency → ffmpeg's RTP muxer, packetization-mode=1: FU-A
 * for NAL units over the payload size, single NAL units else; SPS/PPS in band before every IDR, no
 * sprop-parameter-sets in its SDP) and a receiver (SDP → RTP demuxer → libavcodec's h264 decoder →
 * each frame's mean colour). Neither speaks RTCP feedback: the sender ignores PLI/FIR, so a key
 * frame comes only every `gopFrames`.
 */
export interface FfmpegSenderOptions {
  readonly colour: VideoColour;
  /** RTP destination (RTCP goes to port + 1). */
  readonly port: number;
  /** Default 127.0.0.1. */
  readonly address?: string;
  /** Sends for this long, then exits. */
  readonly seconds: number;
  /** Key-frame interval in frames (libx264 -g), default 30 (2 s at 15 fps). */
  readonly gopFrames?: number;
  readonly fps?: number;
  readonly widthPx?: number;
  readonly heightPx?: number;
  /** Default 96. */
  readonly payloadType?: number;
  readonly ssrc?: number;
  /** RTP payload size limit in bytes (ffmpeg -pkt_size is the whole datagram; default 1200). */
  readonly packetBytes?: number;
  /** Runs inside this namespace (address: one of its own). */
  readonly ns?: TestNetns;
}

export interface FfmpegSender {
  /** The SDP ffmpeg wrote (-sdp_file) once it started: m=video <port> RTP/AVP <pt>, a=fmtp:<pt> packetization-mode=1. */
  readonly sdp: string;
  readonly done: Promise<number | null>;
  output(): string;
  kill(): void;
}

/** Starts the sender; resolves once ffmpeg wrote its SDP (rejects after 5 s without). */
export async function startFfmpegH264Sender(o: FfmpegSenderOptions): Promise<FfmpegSender> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'carillon-ffmpeg-tx-'));
  const sdpFile = path.join(dir, 'out.sdp');
  const fps = o.fps ?? 15;
  const args = [
    'ffmpeg', '-hide_banner', '-nostdin', '-nostats', '-loglevel', 'info',
    '-re', '-f', 'lavfi', '-i', testPictureGraph(o.colour, o.widthPx ?? 320, o.heightPx ?? 240, fps),
    '-t', String(o.seconds),
    '-c:v', 'libx264', '-profile:v', 'baseline', '-preset', 'ultrafast', '-tune', 'zerolatency',
    '-g', String(o.gopFrames ?? 30), '-pix_fmt', 'yuv420p',
    '-payload_type', String(o.payloadType ?? 96),
    ...(o.ssrc === undefined ? [] : ['-ssrc', String(o.ssrc)]),
    '-f', 'rtp', '-sdp_file', sdpFile,
    `rtp://${o.address ?? '127.0.0.1'}:${o.port}?pkt_size=${(o.packetBytes ?? 1200) + 12}`,
  ];
  const child = spawnBounded(o.ns === undefined ? args : o.ns.exec(args), o.seconds + 5);
  for (let i = 0; i < 100 && !existsSync(sdpFile); i++) await new Promise((r) => setTimeout(r, 50));
  if (!existsSync(sdpFile)) {
    child.kill();
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`ffmpeg wrote no SDP\n${child.output()}`);
  }
  const sdp = readFileSync(sdpFile, 'utf8');
  rmSync(dir, { recursive: true, force: true });
  return { sdp, done: child.done, output: child.output, kill: child.kill };
}

/**
 * The SDP ffmpeg's RTP muxer writes for the sender (startFfmpegH264Sender's `sdp`), made without
 * starting it: a receiver given this listens before the first packet, so it gets the first IDR.
 */
export function h264RtpSdp(o: { readonly port: number; readonly address?: string; readonly payloadType?: number }): string {
  const a = o.address ?? '127.0.0.1';
  const pt = o.payloadType ?? 96;
  return `v=0\r\no=- 0 0 IN IP4 ${a}\r\ns=No Name\r\nc=IN IP4 ${a}\r\nt=0 0\r\na=tool:libavformat LIBAVFORMAT_VERSION\r\nm=video ${o.port} RTP/AVP ${pt}\r\na=rtpmap:${pt} H264/90000\r\na=fmtp:${pt} packetization-mode=1\r\n`;
}

export interface FfmpegReceiverOptions {
  /** The SDP of the stream it receives (ffmpeg listens on the c= address and m= port). */
  readonly sdp: string;
  /** Receives for at most this long of decoded video, and the process is killed `seconds` + 5 s after start whatever happens. */
  readonly seconds: number;
  /** RTP demuxer's reorder queue in packets (ffmpeg's default 500 holds packets back behind a gap until it fills); default 500. */
  readonly reorderQueuePackets?: number;
  readonly ns?: TestNetns;
}

export interface FfmpegReceiver {
  readonly done: Promise<number | null>;
  /** Every decoded frame's mean colour, in order. */
  frames(): NamedPicture[];
  /** The palette names of frames(), repeats folded: ['red', 'blue'] after a switch. */
  colours(): string[];
  /** h264DecodeErrorCount of its log. */
  decodeErrors(): number;
  decodeErrorLines(): string[];
  output(): string;
  kill(): void;
}

/**
 * Starts the receiver. Until the first IDR (with its in-band SPS/PPS) ffmpeg cannot even open the
 * stream: joined mid-GOP it prints `[h264 @ 0x…] non-existing PPS 0 referenced`, `decode_slice_header
 * error` and `no frame!` for every slice before it, and outputs the first frame from that IDR on.
 */
export function startFfmpegH264Receiver(o: FfmpegReceiverOptions): FfmpegReceiver {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'carillon-ffmpeg-rx-'));
  const sdpFile = path.join(dir, 'in.sdp');
  writeFileSync(sdpFile, o.sdp);
  const args = [
    'ffmpeg', '-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error',
    '-protocol_whitelist', 'file,udp,rtp', '-reorder_queue_size', String(o.reorderQueuePackets ?? 500),
    '-i', sdpFile,
    '-t', String(o.seconds), '-map', '0:v:0',
    // One 1×1 RGB pixel per decoded frame, no frame dropped or repeated to a constant rate.
    '-vf', 'scale=1:1:flags=area', '-fps_mode', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1',
  ];
  let pixels = Buffer.alloc(0);
  const child = spawnBounded(o.ns === undefined ? args : o.ns.exec(args), o.seconds + 5, (b) => {
    pixels = Buffer.concat([pixels, b]);
  });
  const done = child.done.then((code) => {
    rmSync(dir, { recursive: true, force: true });
    return code;
  });
  const frames = (): NamedPicture[] => {
    const out: NamedPicture[] = [];
    for (let i = 0; i + 3 <= pixels.length; i += 3) out.push(nameColour({ r: pixels[i] as number, g: pixels[i + 1] as number, b: pixels[i + 2] as number }));
    return out;
  };
  return {
    done,
    frames,
    colours: () => frames().map((f) => f.colour).filter((c, i, a) => i === 0 || a[i - 1] !== c),
    decodeErrors: () => h264DecodeErrorCount(child.output()),
    decodeErrorLines: () => h264DecodeErrorLines(child.output()),
    output: child.output,
    kill: child.kill,
  };
}

/** A child killed with SIGKILL `limitSec` after start at the latest; stderr (and stdout unless taken) collected. */
function spawnBounded(argv: readonly string[], limitSec: number, onStdout?: (b: Buffer) => void): { done: Promise<number | null>; output(): string; kill(): void } {
  const [cmd, ...rest] = argv;
  const child: ChildProcess = spawn(cmd as string, rest, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout?.on('data', (b: Buffer) => (onStdout === undefined ? (log += b.toString()) : onStdout(b)));
  child.stderr?.on('data', (b: Buffer) => (log += b.toString()));
  const kill = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  const timer = setTimeout(kill, limitSec * 1000);
  const done = new Promise<number | null>((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve(code);
    }),
  );
  return { done, output: () => log, kill };
}
