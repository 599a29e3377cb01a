import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * No Docker engine runs where the suite runs, so this takes the steps the image's build stage
 * takes (docker/Dockerfile: the sources, `npm ci` — already done for the suite — then
 * scripts/build-dist.mjs) and starts what the image starts (bin/carillon.js → the compiled CLI),
 * up to /readyz and a clean SIGTERM. The files a build context and compose rely on are checked too.
 */
const ROOT = path.join(import.meta.dirname, '../..');

describe('the Docker image, step by step', () => {
  it('Dockerfile copies the sources before npm ci (its install step builds the native mover) and builds with build-dist; .dockerignore keeps local state out; compose waits for a healthy PostgreSQL', () => {
    const df = readFileSync(path.join(ROOT, 'docker/Dockerfile'), 'utf8');
    const copyAll = df.indexOf('COPY . .');
    const npmCi = df.search(/^RUN npm ci/m);
    expect(copyAll).toBeGreaterThan(0);
    expect(npmCi).toBeGreaterThan(copyAll);
    expect(df).toContain('node scripts/build-dist.mjs dist');
    expect(df).toMatch(/ENTRYPOINT \["node", "bin\/carillon\.js"\]/);
    const ignore = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    for (const p of ['node_modules', 'data', 'dist', '.git', 'media/native/build']) expect(ignore).toContain(p);
    const compose = readFileSync(path.join(ROOT, 'docker/compose.yaml'), 'utf8');
    expect(compose).toMatch(/condition: service_healthy/);
    expect(compose).toMatch(/healthcheck:[\s\S]*pg_isready/);
  });

  it('the compiled server (what the image runs) starts, is ready, and stops on SIGTERM', async () => {
    const out = path.join(ROOT, '.scratch', `image-${process.pid}`);
    const data = mkdtempSync(path.join(os.tmpdir(), 'carillon-image-'));
    try {
      const build = spawnSync(process.execPath, ['scripts/build-dist.mjs', path.join(out, 'dist')], { cwd: ROOT, encoding: 'utf8', timeout: 240_000 });
      expect(build.status, build.stderr + build.stdout).toBe(0);
      expect(existsSync(path.join(out, 'dist/cli/carillon.js'))).toBe(true);
      expect(existsSync(path.join(out, 'dist/media/native/build/Release/carillon_relay.node'))).toBe(true);
      const child = spawn(process.execPath, [path.join(out, 'dist/cli/carillon.js'), 'serve', '--data', data, '--bind', '127.0.0.1', '--sip-udp', '0', '--sip-tcp', '0', '--sip-tls', '0', '--h323=-1', '--bfcp=-1', '--api', '0', '--log-level', 'warn'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_ENV: 'production' } });
      let log = '';
      child.stdout?.on('data', (b: Buffer) => (log += b.toString()));
      child.stderr?.on('data', (b: Buffer) => (log += b.toString()));
      const exited = new Promise<number | null>((r) => child.on('close', (c) => r(c)));
      try {
        for (let i = 0; i < 300 && !existsSync(path.join(data, 'ports.json')); i++) await new Promise((r) => setTimeout(r, 100));
        const ports = JSON.parse(readFileSync(path.join(data, 'ports.json'), 'utf8')) as { api: number };
        expect((await fetch(`http://127.0.0.1:${ports.api}/readyz`)).status, log).toBe(200);
        expect(existsSync(path.join(data, 'admin-credentials.json'))).toBe(true);
        child.kill('SIGTERM');
        expect(await exited, log).toBe(0);
      } finally {
        child.kill('SIGKILL');
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
      rmSync(data, { recursive: true, force: true });
    }
  }, 300_000);
});
