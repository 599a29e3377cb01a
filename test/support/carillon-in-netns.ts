import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestNetns } from './netns.ts';

const ROOT = path.join(import.meta.dirname, '../..');

/** Carillon started through its CLI inside a test's network namespace (so no packet leaves it). */
export interface NetnsCarillon {
  readonly dir: string;
  /** ports.json once the server wrote it (it is ready then). */
  readonly ports: Record<string, number | null>;
  output(): string;
  /** /metrics, fetched from inside the namespace. */
  metrics(): string;
  /** The last media quality record of a voice connector's calls ('default': calls on none; waits up to 5 s for the file). */
  lastQualityRecord(voiceConnectorId?: string): Promise<Record<string, unknown>>;
  /** SIGTERM, then the exit code (SIGKILL after 12 s); removes the data directory. */
  stop(): Promise<number | null>;
}

export async function startCarillonInNetns(ns: TestNetns, o: { readonly yaml: string; readonly sipUdp: number; readonly sipTls?: number; readonly api: number }): Promise<NetnsCarillon> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'carillon-netns-'));
  writeFileSync(path.join(dir, 'carillon.yaml'), o.yaml);
  const server = spawn(
    'ip',
    ['netns', 'exec', ns.name, process.execPath, '--import', 'tsx', path.join(ROOT, 'cli/carillon.ts'), 'serve',
      '--data', path.join(dir, 'data'), '--bind', ns.address, '--sip-udp', String(o.sipUdp), '--sip-tcp=-1', `--sip-tls=${o.sipTls ?? -1}`,
      '--api', String(o.api), '--config', path.join(dir, 'carillon.yaml')],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  server.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  server.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  const exit = new Promise<number | null>((resolve) => server.on('close', (c) => resolve(c)));
  const portsFile = path.join(dir, 'data', 'ports.json');
  for (let i = 0; i < 200 && !existsSync(portsFile); i++) await new Promise((r) => setTimeout(r, 100));
  const ports = existsSync(portsFile) ? (JSON.parse(readFileSync(portsFile, 'utf8')) as Record<string, number | null>) : {};
  return {
    dir,
    ports,
    output: () => out,
    async lastQualityRecord(voiceConnectorId = 'default') {
      const file = path.join(dir, 'data', 'logs', 'voice-connector', voiceConnectorId, 'media-quality.jsonl');
      for (let i = 0; i < 50 && !existsSync(file); i++) await new Promise((r) => setTimeout(r, 100));
      const lines = readFileSync(file, 'utf8').split('\n').slice(0, -1);
      return lines.length === 0 ? {} : (JSON.parse(lines.at(-1) as string) as Record<string, unknown>);
    },
    metrics: () => execFileSync('ip', ['netns', 'exec', ns.name, 'curl', '-s', `http://${ns.address}:${o.api}/metrics`], { encoding: 'utf8' }),
    async stop() {
      server.kill('SIGTERM');
      const code = await Promise.race([exit, new Promise<null>((r) => setTimeout(() => r(null), 12_000))]);
      server.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      return code;
    },
  };
}

/**
 * Runs a TypeScript script inside the namespace (where Carillon's API listens) with `input` as its
 * JSON argument; resolves with the JSON it prints last.
 */
export function runScriptInNetns<T>(ns: TestNetns, script: string, input: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    execFile('ip', ['netns', 'exec', ns.name, process.execPath, '--import', 'tsx', script, JSON.stringify(input)], { cwd: ROOT, timeout: 30_000 }, (err, stdout, stderr) => {
      if (err !== null) return reject(new Error(`${path.basename(script)} failed: ${err.message}\n${stderr}`));
      const last = stdout.trim().split('\n').at(-1) ?? '';
      try {
        resolve(JSON.parse(last) as T);
      } catch {
        reject(new Error(`${path.basename(script)} printed no JSON: ${stdout}\n${stderr}`));
      }
    });
  });
}
