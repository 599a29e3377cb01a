import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SCENARIOS } from './sipp-scenarios.ts';
import type { ScenarioName } from './sipp-scenarios.ts';

export interface SippOptions {
  readonly scenario: ScenarioName | { readonly name: string; readonly xml: string };
  /** Hold/pause in the scenario, ms (scenarios that take one). Default 100. */
  readonly pauseMs?: number;
  /** Where the UAC sends ('127.0.0.1:5060'); absent for a UAS. */
  readonly remote?: string;
  /** Local SIP port SIPp binds on 127.0.0.1. */
  readonly port: number;
  readonly transport: 'udp' | 'tcp';
  /** Calls to make (UAC) or to take before exiting (UAS). */
  readonly calls: number;
  /** Calls per second (UAC). */
  readonly rate?: number;
  /** Most simultaneous calls (UAC). */
  readonly limit?: number;
  /** Overall limit; SIPp exits by itself then. Default 60 s. */
  readonly timeoutSec?: number;
  /** Request-URI user. Default '+12065550100'. */
  readonly service?: string;
  readonly extraArgs?: readonly string[];
  /** Injection file lines ([field0]… per call, in order), e.g. each call's media port. */
  readonly injection?: readonly string[];
  /** Local address SIPp binds (default 127.0.0.1; any 127.0.0.0/8 address is this machine). */
  readonly localIp?: string;
  /** Pin SIPp to this CPU (taskset), for benchmarks that keep generator and server apart. */
  readonly cpu?: number;
  /**
   * The digest `uri` SIPp answers challenges with, without the `sip:` SIPp puts in front. SIPp's
   * own default is `remote_ip:remote_port`; a PBX answers with the Request-URI (RFC 3261 §22.4).
   */
  readonly authUri?: string;
}

export interface SippResult {
  readonly exitCode: number | null;
  readonly successful: number;
  readonly failed: number;
  readonly retransmissions: number;
  readonly output: string;
  /** Text of SIPp's error trace, if it wrote one. */
  readonly errors: string;
  readonly dir: string;
}

export interface SippHandle {
  readonly done: Promise<SippResult>;
  /** Its working directory (its trace files). */
  readonly dir: string;
  readonly child: ChildProcess;
  kill(): void;
  /** SIGUSR1: SIPp takes no new calls and exits once its calls are over, printing its final counts. */
  stop(): Promise<SippResult>;
}

const running = new Set<ChildProcess>();

/** Starts SIPp with a scenario from SCENARIOS; resolves when it exits. */
export function startSipp(opts: SippOptions): SippHandle {
  const name = typeof opts.scenario === 'string' ? opts.scenario : opts.scenario.name;
  const dir = mkdtempSync(path.join(os.tmpdir(), `carillon-sipp-${name}-`));
  const file = path.join(dir, `${name}.xml`);
  writeFileSync(file, typeof opts.scenario === 'string' ? SCENARIOS[opts.scenario](opts.pauseMs ?? 100) : opts.scenario.xml);
  const args = [
    '-sf', file,
    '-i', opts.localIp ?? '127.0.0.1',
    '-p', String(opts.port),
    '-t', opts.transport === 'udp' ? 'u1' : 't1',
    '-m', String(opts.calls),
    '-s', opts.service ?? '+12065550100',
    '-nostdin',
    '-buff_size', '4194304',
    '-timeout', `${opts.timeoutSec ?? 60}s`,
    '-timeout_error',
    '-recv_timeout', '10000',
    '-trace_err',
    '-trace_stat',
    '-fd', '1',
    '-max_recv_loops', '10000',
  ];
  if (opts.rate !== undefined) args.push('-r', String(opts.rate));
  if (opts.limit !== undefined) args.push('-l', String(opts.limit));
  if (opts.authUri !== undefined) args.push('-auth_uri', opts.authUri);
  if (opts.extraArgs !== undefined) args.push(...opts.extraArgs);
  if (opts.injection !== undefined) {
    const inf = path.join(dir, 'injection.csv');
    writeFileSync(inf, `SEQUENTIAL\n${opts.injection.map((l) => `${l};`).join('\n')}\n`);
    args.push('-inf', inf);
  }
  if (opts.remote !== undefined) args.unshift(opts.remote);
  const child =
    opts.cpu === undefined
      ? spawn('sipp', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('taskset', ['-c', String(opts.cpu), 'sipp', ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let output = '';
  child.stdout?.on('data', (b: Buffer) => {
    output += b.toString('latin1');
    if (output.length > 2_000_000) output = output.slice(-1_000_000);
  });
  child.stderr?.on('data', (b: Buffer) => (output += b.toString('latin1')));
  const done = new Promise<SippResult>((resolve) => {
    child.on('close', (code) => {
      running.delete(child);
      resolve(summarize(code, output, dir));
    });
  });
  return {
    done,
    dir,
    child,
    kill: () => child.kill('SIGKILL'),
    stop: () => {
      child.kill('SIGUSR1');
      return done;
    },
  };
}

/** Runs a SIPp UAC to completion. */
export function runSipp(opts: SippOptions): Promise<SippResult> {
  return startSipp(opts).done;
}

/** Kills every SIPp still running (afterEach/afterAll safety net). */
export function killAllSipp(): void {
  for (const c of running) c.kill('SIGKILL');
  running.clear();
}

function lastCount(output: string, label: string): number {
  const re = new RegExp(`${label}\\s*\\|\\s*(\\d+)\\s*\\|\\s*(\\d+)`, 'g');
  let m: RegExpExecArray | null;
  let last = 0;
  while ((m = re.exec(output)) !== null) last = Number(m[2]);
  return last;
}

function summarize(code: number | null, output: string, dir: string): SippResult {
  let errors = '';
  for (const f of readdirSync(dir)) if (f.endsWith('_errors.log')) errors += readFileSync(path.join(dir, f), 'latin1');
  return {
    exitCode: code,
    successful: lastCount(output, 'Successful call'),
    failed: lastCount(output, 'Failed call'),
    retransmissions: lastCount(output, 'Retransmissions'),
    output,
    errors,
    dir,
  };
}

/**
 * SIPp's error trace minus the benign kind: a response retransmitted by the peer (it was slow to
 * see the first copy under CI load) reaching a call SIPp had already finished successfully.
 */
export function realErrors(r: SippResult): string {
  return r.errors
    .split(/(?=\d{4}-\d{2}-\d{2}\t)/)
    .filter((e) => e.includes('\t') && !/Dead call \S+ \(successful\)/.test(e))
    .join('')
    .slice(0, 2000);
}
