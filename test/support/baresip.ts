import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestNetns } from './netns.ts';

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
  /** The one audio codec it offers (baresip's names: PCMU, PCMA, G722, opus; default PCMU). */
  readonly codec?: string;
  /** Writes what it hears (and what it sends) as WAV files into this directory (sndfile: `*-dec.wav` is what it heard). */
  readonly recordTo?: string;
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
  output(): string;
  stats(): BaresipStats;
  kill(): void;
}

/**
 * A headless baresip (sine-tone source, aubridge sink, G.711) inside the test's namespace.
 */
export function startBaresip(o: BaresipOptions): BaresipHandle {
  const dir = mkdtempSync(path.join(os.tmpdir(), `carillon-baresip-${o.user}-`));
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    path.join(dir, 'config'),
    [
      `sip_listen ${o.ns.address}:${o.port}`,
      `audio_source ausine,${o.toneHz ?? 440}`,
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
      'module aubridge.so',
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
    ...(o.secure === true ? ['mediaenc=srtp-mand'] : []),
    ...(o.authPassword === undefined ? [] : [`auth_pass=${o.authPassword}`]),
    ...(o.outbound === undefined ? [] : [`outbound="${o.outbound}"`]),
  ];
  writeFileSync(path.join(dir, 'accounts'), `<sip:${o.user}@${o.ns.address}:${o.port};transport=${transport}>;${params.join(';')}\n`);
  const args = ['baresip', '-f', dir, '-t', String(o.seconds)];
  if (o.dial !== undefined) args.push('-e', `/dial ${o.dial}`);
  const child: ChildProcess = spawn('ip', ['netns', 'exec', o.ns.name, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  const done = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    done,
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
