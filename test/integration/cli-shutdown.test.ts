import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../support/ports.ts';
import { killAllSipp, realErrors, startSipp } from '../support/sipp.ts';

const ROOT = path.join(import.meta.dirname, '../..');

afterEach(() => killAllSipp());

describe('carillon serve (the CLI)', () => {
  it('writes ports.json, and on SIGTERM ends live calls with BYE on both legs and exits 0 within 10 s', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'carillon-cli-'));
    const [uasPort, uacPort] = [await freePort(), await freePort()];
    writeFileSync(path.join(dir, 'c.json'), JSON.stringify({ logLevel: 'warn', routes: [{ match: { userPrefix: '+1' }, target: `sip:127.0.0.1:${uasPort};transport=udp` }] }));
    const child = spawn(process.execPath, ['--import', 'tsx', 'cli/carillon.ts', 'serve', '--data', path.join(dir, 'data'), '--bind', '127.0.0.1',
      '--sip-udp', '0', '--sip-tcp', '0', '--sip-tls', '0', '--h323=-1', '--bfcp=-1', '--api', '0', '--config', path.join(dir, 'c.json')], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    try {
      const portsFile = path.join(dir, 'data', 'ports.json');
      for (let i = 0; i < 300 && !existsSync(portsFile); i++) await new Promise((r) => setTimeout(r, 100));
      const ports = JSON.parse(readFileSync(portsFile, 'utf8')) as Record<string, number | null>;
      expect(Object.keys(ports).sort()).toEqual(['api', 'bfcp', 'h323', 'sipTcp', 'sipTls', 'sipUdp']);
      expect(out).toContain('carillon ports');
      const health = await fetch(`http://127.0.0.1:${ports.api}/healthz`);
      expect(health.status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${ports.api}/readyz`)).status).toBe(200);
      expect(health.headers.get('server')).toBeNull();

      const uas = startSipp({ scenario: 'uas-basic', port: uasPort, transport: 'udp', calls: 5, timeoutSec: 30 });
      await new Promise((r) => setTimeout(r, 300));
      const uac = startSipp({ scenario: 'uac-receive-bye', remote: `127.0.0.1:${ports.sipUdp}`, port: uacPort, transport: 'udp', calls: 5, rate: 10, timeoutSec: 30 });
      // Wait until all five calls are up.
      for (let i = 0; i < 100; i++) {
        const m = await (await fetch(`http://127.0.0.1:${ports.api}/metrics`)).text();
        if (/^carillon_calls_active 5$/m.test(m)) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const t0 = Date.now();
      child.kill('SIGTERM');
      const code = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 10_000))]);
      expect(code, out).toBe(0);
      expect(Date.now() - t0).toBeLessThan(10_000);
      const [caller, callee] = await Promise.all([uac.done, uas.done]);
      // Both sides got a BYE and answered it: every call completed its scenario.
      expect({ ok: caller.successful, failed: caller.failed, errors: realErrors(caller) }).toEqual({ ok: 5, failed: 0, errors: '' });
      expect({ ok: callee.successful, failed: callee.failed }).toEqual({ ok: 5, failed: 0 });
    } finally {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('refuses bad configuration with a clear message and exit code 1', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'cli/carillon.ts', 'serve', '--sip-udp', '99999', '--data', os.tmpdir()], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr?.on('data', (b: Buffer) => (err += b.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(code).toBe(1);
    expect(err).toMatch(/invalid configuration: \/sipUdp/);
  }, 30_000);
});
