import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FLAG_KEYS } from '../../cli/config.ts';
import { startTestServer } from '../support/server.ts';

const ROOT = path.join(import.meta.dirname, '../..');
/** npm must not look for its own updates or anything else on the network (no DNS from a test). */
const NPM_ENV = { ...process.env, npm_config_update_notifier: 'false', npm_config_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false' };

/** Every pid in the process tree under `pid` (from /proc), the root included. */
function tree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    const parent = out[i] as number;
    for (const e of readdirProc()) if (e.ppid === parent) out.push(e.pid);
  }
  return out;
}

function readdirProc(): { pid: number; ppid: number }[] {
  const list: { pid: number; ppid: number }[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      list.push({ pid: Number(name), ppid });
    } catch {
      // gone meanwhile
    }
  }
  return list;
}

const alive = (pid: number): boolean => existsSync(`/proc/${pid}`) && !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));

async function waitFor(pred: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

describe('the carillon command', () => {
  it('`npm start` is one server process: SIGTERM to npm stops it and leaves nothing running; `--sip-tls -1` turns TLS off', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'carillon-npm-start-'));
    const child = spawn('npm', ['start', '--', '--data', dir, '--bind', '127.0.0.1', '--sip-udp', '0', '--sip-tcp', '0', '--sip-tls', '-1', '--h323', '0', '--bfcp', '0', '--api', '0', '--log-level', 'info'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: NPM_ENV });
    let out = '';
    child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
    try {
      expect(await waitFor(() => existsSync(path.join(dir, 'ports.json')), 30_000), out).toBe(true);
      const ports = JSON.parse(readFileSync(path.join(dir, 'ports.json'), 'utf8')) as { api: number; sipTls: number | null; h323: number | null; bfcp: number | null };
      expect(ports.sipTls).toBeNull();
      // The H.323 listener is on (port 0: a free one) and named in ports.json.
      expect(ports.h323).toBeGreaterThan(0);
      // BFCP for meetings' presentation content likewise.
      expect(ports.bfcp).toBeGreaterThan(0);
      expect((await fetch(`http://127.0.0.1:${ports.api}/readyz`)).status).toBe(200);
      // The log says where the generated admin key went.
      expect(out).toContain(`admin access key generated: its secret is in ${path.join(dir, 'admin-credentials.json')} (mode 0600)`);
      const pids = tree(child.pid as number);
      // npm and the server, nothing in between that would swallow the signal.
      const cmd = (p: number): string => (existsSync(`/proc/${p}/cmdline`) ? readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' ') : '');
      // npm's child is the server itself, no shell in between that would swallow the signal
      // (the server's own helpers, such as tsx's esbuild service, hang below it).
      const children = readdirProc().filter((e) => e.ppid === child.pid).map((e) => cmd(e.pid));
      expect(children, pids.map(cmd).join('\n')).toHaveLength(1);
      expect(children[0]).toMatch(/^node bin\/carillon\.js serve /);
      child.kill('SIGTERM');
      expect(await waitFor(() => pids.every((p) => !alive(p)), 12_000), `still running: ${pids.filter(alive).join(',')}\n${out}`).toBe(true);
    } finally {
      for (const p of tree(child.pid as number)) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('`npx carillon --help` runs and lists every flag, --media-timeout included', () => {
    const r = spawnSync('npx', ['--no-install', 'carillon', '--help'], { cwd: ROOT, encoding: 'utf8', timeout: 30_000, env: NPM_ENV });
    expect(r.status, r.stderr).toBe(0);
    for (const flag of Object.keys(FLAG_KEYS)) expect(r.stdout).toContain(`--${flag} `);
    expect(r.stdout).toContain('--media-timeout');
    expect(r.stdout).toContain('--config FILE');
  });

  it('an unknown flag is one line naming it and pointing at --help (exit 2), not a stack trace', () => {
    const r = spawnSync(process.execPath, ['bin/carillon.js', 'serve', '--role', 'media'], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain("'--role'");
    expect(r.stderr).toContain('--help');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('a bad value names the flag and what it may be, once', () => {
    const r = spawnSync(process.execPath, ['bin/carillon.js', 'serve', '--log-level', 'loud', '--data', os.tmpdir()], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe('carillon: invalid configuration: /logLevel (--log-level) must be one of: fatal, error, warn, info, debug, trace, silent (given "loud")');
  });
});

describe('a fault nothing handled', () => {
  it('is logged and counted in carillon_internal_errors_total, and the server keeps serving', async () => {
    const t = await startTestServer();
    try {
      t.server.reportInternalError(new Error('a rejection nobody caught'));
      const text = await (await fetch(`http://127.0.0.1:${t.ports.api}/metrics`)).text();
      expect(text).toMatch(/^carillon_internal_errors_total 1$/m);
      expect((await fetch(`http://127.0.0.1:${t.ports.api}/readyz`)).status).toBe(200);
    } finally {
      await t.close();
    }
  });
});
