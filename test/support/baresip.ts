import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestNetns } from './netns.ts';
import { h264DecodeErrorCount, meanColourOfFile, testPictureGraph } from './video-picture.ts';
import type { NamedPicture, VideoColour } from './video-picture.ts';

export interface BaresipOptions {
  readonly ns: TestNetns;
  readonly user: string;
  /** SIP port on the namespace address (baresip also takes port+1 for TLS). */
  readonly port: number;
  /** Quit after this many seconds. */
  readonly seconds: number;
  /** URI to dial at start; absent = wait and auto-answer. */
  readonly dial?: string;
  /** SIP over TLS (the account's transport) and SDES-SRTP required on the media (mediaenc=srtp-mand). */
  readonly secure?: boolean;
  /** Outbound proxy every request goes through (a PBX trunk: the voice connector's host name is dialed). */
  readonly outbound?: string;
  /** Digest password the account answers challenges with (user name: `user`). */
  readonly authPassword?: string;
  /** PEM file with a certificate and its key: baresip takes SIP over TLS on port + 1 with it. */
  readonly certificate?: string;
  /** The sine tone it sends, Hz (default 440). */
  readonly toneHz?: number;
  /** A WAV file it sends instead of the tone (aufile; 48 kHz stereo 16-bit, as the audio path runs). */
  readonly audioFile?: string;
  /** The one audio codec it offers (baresip's names: PCMU, PCMA, G722, opus; default PCMU). */
  readonly codec?: string;
  /** Writes what it hears (and what it sends) as WAV files into this directory (sndfile: `*-dec.wav` is what it heard). */
  readonly recordTo?: string;
  /**
   * H.264 video as well (absent: audio only, no m=video): the picture is `colour` with a small
   * moving pattern; what it receives is read with takeSnapshot/receivedColour. Also opens
   * baresip's stdin (stdio UI) for commands (BaresipHandle.command).
   */
  readonly video?: BaresipVideo;
}

/**
 * baresip 1.0's avcodec H.264 (libx264 baseline, ultrafast, zerolatency; a key frame every 10 s,
 * fixed in avcodec's encoder, and one on every RTCP PLI, FIR or generic NACK and on a SIP INFO
 * picture_fast_update). avformat reads the picture from lavfi; fakevideo is the display (without
 * a display baresip offers video sendonly); the snapshot filter saves received frames.
 */
export interface BaresipVideo {
  readonly colour: VideoColour;
  /**
   * 0 (default): offers and accepts only H.264 packetization-mode=0 (single NAL units; the encoder
   * keeps each slice under the packet size). 1: offers every avcodec codec in baresip's fixed order —
   * pt 96 H264 mode 0, pt 97 H264 mode 1, H263, MP4V-ES, H265 — since baresip 1.0's account
   * `video_codecs` names codecs without their variant; it then sends mode 1 (FU-A for large NAL
   * units) only when the remote SDP puts mode 1 first or alone (an answer picking pt 97, an offer
   * of mode 1). videoStats().sendMode says which it used.
   */
  readonly packetizationMode?: 0 | 1;
  /** Default 320×240. */
  readonly widthPx?: number;
  readonly heightPx?: number;
  /** Default 15. */
  readonly fps?: number;
  /** Encoder bit rate, default 300 000 bit/s. */
  readonly bitrateBps?: number;
}

/** What baresip printed about its video stream. */
export interface BaresipVideoStats {
  /** packetization-mode of the H.264 it encodes ("Set video encoder: H264 packetization-mode=N"), null before the call. */
  readonly sendMode: 0 | 1 | null;
  /** packetization-mode its decoder was set up for. */
  readonly receiveMode: 0 | 1 | null;
  /** "video: receiving with resolution W x H": the first decoded picture's size. */
  readonly receivedSize: string | null;
  /** Key frames libx264 encoded (its summary at encoder close: the initial IDR plus one per picture update asked). */
  readonly keyFramesSent: number | null;
  /** rtcpsummary's line for the video stream at call end (packets received, sent, lost). */
  readonly summary: boolean;
  readonly rxPackets: number;
  readonly txPackets: number;
  readonly lost: number;
  /** Addresses video RTP came from. */
  readonly rtpFrom: string[];
  /**
   * Times the video SSRC it receives changed ("stream: video: SSRC changed 0x… -> 0x… (N bytes
   * from addr)"): a forwarder that passes each speaker's SSRC through shows here; baresip's jitter
   * buffer restarts on each change and sends no picture update for it.
   */
  readonly ssrcChanges: number;
}

/** baresip's `/video_debug` during a call. */
export interface BaresipVideoDebug {
  /** Frames the source gave the encoder. */
  readonly framesSent: number;
  /** Frames decoded and displayed. */
  readonly framesDisplayed: number;
  readonly keyFramesReceived: number;
  /** Picture updates it asked for (RTCP PLI when the remote SDP has `a=rtcp-fb:* nack…`, else an RFC 2032 FIR, PT 192), resent every 500 ms until a key frame. */
  readonly pictureUpdatesRequested: number;
}

export interface BaresipStats {
  readonly established: boolean;
  readonly terminated: boolean;
  /** Whether the RTCP summary line was printed (it is, when the call ends while baresip runs). */
  readonly summary: boolean;
  readonly txPackets: number;
  readonly rxPackets: number;
  readonly lost: number;
  /** Addresses RTP came from, as baresip logged them. */
  readonly rtpFrom: string[];
}

export interface BaresipHandle {
  readonly done: Promise<number | null>;
  /** Its configuration directory (snapshots are written here). */
  readonly dir: string;
  output(): string;
  stats(): BaresipStats;
  kill(): void;
  /** Types a long command (without its '/') on its stdin; only with `video` (else throws). */
  command(line: string): void;
}

/**
 * A headless baresip (sine-tone source, aubridge sink, G.711) inside the test's namespace.
 */
export function startBaresip(o: BaresipOptions): BaresipHandle {
  const dir = mkdtempSync(path.join(os.tmpdir(), `carillon-baresip-${o.user}-`));
  mkdirSync(dir, { recursive: true });
  const v = o.video;
  writeFileSync(
    path.join(dir, 'config'),
    [
      `sip_listen ${o.ns.address}:${o.port}`,
      o.audioFile === undefined ? `audio_source ausine,${o.toneHz ?? 440}` : `audio_source aufile,${o.audioFile}`,
      'audio_player aubridge,sink',
      ...(o.recordTo === undefined ? [] : [`snd_path ${o.recordTo}`]),
      'ausrc_srate 48000',
      'auplay_srate 48000',
      'ausrc_channels 2',
      'auplay_channels 2',
      'module_path /usr/lib/baresip/modules',
      'module g711.so',
      'module g722.so',
      'module opus.so',
      ...(o.recordTo === undefined ? [] : ['module sndfile.so']),
      ...(o.secure === true ? ['module srtp.so'] : []),
      'module ausine.so',
      ...(o.audioFile === undefined ? [] : ['module aufile.so']),
      'module aubridge.so',
      ...(v === undefined ? [] : videoConfig(v)),
      'module_app account.so',
      'module_app menu.so',
      'module_app rtcpsummary.so',
      `net_interface ${o.ns.iface}`,
      ...(o.certificate === undefined ? [] : [`sip_certificate ${o.certificate}`]),
      '',
    ].join('\n'),
  );
  const transport = o.secure === true ? 'tls' : 'udp';
  const params = [
    'regint=0',
    'answermode=auto',
    `audio_codecs=${o.codec ?? 'PCMU'}`,
    // baresip 1.0 resolves a video codec by name only: "H264" is the first variant registered, mode 0.
    ...(v !== undefined && (v.packetizationMode ?? 0) === 0 ? ['video_codecs=H264'] : []),
    ...(o.secure === true ? ['mediaenc=srtp-mand'] : []),
    ...(o.authPassword === undefined ? [] : [`auth_pass=${o.authPassword}`]),
    ...(o.outbound === undefined ? [] : [`outbound="${o.outbound}"`]),
  ];
  writeFileSync(path.join(dir, 'accounts'), `<sip:${o.user}@${o.ns.address}:${o.port};transport=${transport}>;${params.join(';')}\n`);
  const args = ['baresip', '-f', dir, '-t', String(o.seconds)];
  if (o.dial !== undefined) args.push('-e', `/dial ${o.dial}`);
  // With video, stdin stays open as the stdio UI's keyboard (EOF would make it spin): commands go there.
  const child: ChildProcess = spawn('ip', ['netns', 'exec', o.ns.name, ...args], { stdio: [v === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  let out = '';
  let statusOff = false;
  const command = (line: string): void => {
    if (child.stdin === null) throw new Error('baresip: commands need the video option (stdin is not open)');
    if (child.exitCode === null && child.signalCode === null) child.stdin.write(`/${line}\n`);
  };
  child.stdin?.on('error', () => undefined);
  const onData = (b: Buffer): void => {
    out += b.toString();
    // menu's call status line (every 100 ms) is an in-call command: turn it off once a call is up.
    if (v !== undefined && !statusOff && /Call established/.test(out)) {
      statusOff = true;
      command('statmode');
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const done = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    done,
    dir,
    command,
    output: () => out,
    kill: () => child.kill('SIGKILL'),
    stats(): BaresipStats {
      // rtcpsummary's line at call end: PR packets received, PS sent, PL lost (rx,tx).
      const ex = /EX=BareSip;.*?PR=(\d+);PS=(\d+);PL=(\d+),(\d+);/.exec(out);
      return {
        established: /Call established/.test(out),
        terminated: /terminated \(duration/.test(out),
        summary: ex !== null,
        txPackets: Number(ex?.[2] ?? 0),
        rxPackets: Number(ex?.[1] ?? 0),
        lost: Number(ex?.[3] ?? 0),
        rtpFrom: [...out.matchAll(/receiving from ([\d.]+):\d+/g)].map((m) => m[1] as string),
      };
    },
  };
}

function videoConfig(v: BaresipVideo): string[] {
  const w = v.widthPx ?? 320;
  const h = v.heightPx ?? 240;
  const fps = v.fps ?? 15;
  return [
    `video_source avformat,lavfi,${testPictureGraph(v.colour, w, h, fps)}`,
    'video_display fakevideo,nil',
    `video_size ${w}x${h}`,
    `video_fps ${fps}`,
    `video_bitrate ${v.bitrateBps ?? 300_000}`,
    'module avcodec.so',
    'module avformat.so',
    'module fakevideo.so',
    'module snapshot.so',
    'module stdio.so',
  ];
}

const snapshotState = new WeakMap<BaresipHandle, { seq: number; pending: string | null }>();

/**
 * Saves the next picture baresip decodes (snapshot module, `/snapshot_recv <file>`) and names its
 * colour; null if none was decoded within `timeoutMs` (default 3000). The module saves one frame per
 * request and ignores requests while one is pending: a request that timed out is waited for first.
 */
export async function takeSnapshot(h: BaresipHandle, timeoutMs = 3000): Promise<NamedPicture | null> {
  const st = snapshotState.get(h) ?? { seq: 0, pending: null };
  snapshotState.set(h, st);
  if (st.pending === null) {
    // The module keeps at most 99 characters of the path.
    st.pending = path.join(h.dir, `recv-${++st.seq}.png`);
    h.command(`snapshot_recv ${st.pending}`);
  }
  const file = st.pending;
  const written = `png: wrote ${file}`;
  for (let waited = 0; !h.output().includes(written); waited += 50) {
    if (waited >= timeoutMs) return null;
    await new Promise((r) => setTimeout(r, 50));
  }
  st.pending = null;
  if (!existsSync(file)) return null;
  return meanColourOfFile(file);
}

/** The palette colour of the next picture baresip decodes ('unknown' if none is near; null: nothing decoded). */
export async function receivedColour(h: BaresipHandle, timeoutMs = 3000): Promise<VideoColour | 'unknown' | null> {
  return (await takeSnapshot(h, timeoutMs))?.colour ?? null;
}

/** H.264 decode-error lines in baresip's output so far (libavcodec's and baresip's; see h264DecodeErrorCount). */
export function decoderErrors(h: BaresipHandle): number {
  return h264DecodeErrorCount(h.output());
}

/** Switches the picture it sends to another colour (`/vidsrc`; the encoder carries on, no key frame is forced). */
export function setVideoColour(h: BaresipHandle, colour: VideoColour, v: Omit<BaresipVideo, 'colour'> = {}): void {
  h.command(`vidsrc avformat,lavfi,${testPictureGraph(colour, v.widthPx ?? 320, v.heightPx ?? 240, v.fps ?? 15)}`);
}

export function videoStats(h: BaresipHandle): BaresipVideoStats {
  const out = h.output();
  const mode = (re: RegExp): 0 | 1 | null => {
    const m = re.exec(out);
    return m === null ? null : m[1] === '1' ? 1 : 0;
  };
  // rtcpsummary prints one line per stream at call end, audio first.
  const ex = [...out.matchAll(/EX=BareSip;.*?PR=(\d+);PS=(\d+);PL=(\d+),(\d+);/g)][1];
  const size = /video: receiving with resolution (\d+) x (\d+)/.exec(out);
  const keys = /\[libx264 @ 0x[0-9a-f]+\] frame I:(\d+)/.exec(out);
  return {
    sendMode: mode(/Set video encoder: H264 packetization-mode=(\d)/),
    receiveMode: mode(/Set video decoder: H264 packetization-mode=(\d)/),
    receivedSize: size === null ? null : `${size[1]}x${size[2]}`,
    keyFramesSent: keys === null ? null : Number(keys[1]),
    summary: ex !== undefined,
    rxPackets: Number(ex?.[1] ?? 0),
    txPackets: Number(ex?.[2] ?? 0),
    lost: Number(ex?.[3] ?? 0),
    rtpFrom: [...out.matchAll(/incoming rtp for 'video' established, receiving from ([\d.]+):\d+/g)].map((m) => m[1] as string),
    ssrcChanges: [...out.matchAll(/stream: video: SSRC changed/g)].length,
  };
}

/** Asks `/video_debug` during a call; null if nothing came back within `timeoutMs` (default 2000). */
export async function videoDebug(h: BaresipHandle, timeoutMs = 2000): Promise<BaresipVideoDebug | null> {
  const from = h.output().length;
  h.command('video_debug');
  const re = /source: .*? frames=(\d+)[\s\S]*?vidisp: .*? frames=(\d+)\s+n_keyframes=(\d+), n_picup=(\d+)/;
  for (let waited = 0; waited <= timeoutMs; waited += 50) {
    const m = re.exec(h.output().slice(from));
    if (m !== null) return { framesSent: Number(m[1]), framesDisplayed: Number(m[2]), keyFramesReceived: Number(m[3]), pictureUpdatesRequested: Number(m[4]) };
    await new Promise((r) => setTimeout(r, 50));
  }
  return null;
}
