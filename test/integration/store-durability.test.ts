import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ChimeSDKVoiceClient, CreateVoiceConnectorCommand, paginateListVoiceConnectors, SearchAvailablePhoneNumbersCommand } from '@aws-sdk/client-chime-sdk-voice';
import type { VoiceConnector } from '@aws-sdk/client-chime-sdk-voice';
import { describe, expect, it } from 'vitest';

const ROOT = path.join(import.meta.dirname, '../..');
const KEY = { accessKeyId: 'AKIADURABILITYTEST01', secretAccessKey: 'durability-test-secret-0123456789abcdefgh' };

/** `carillon serve` on 127.0.0.1 with SIP off, the API on a free port, the admin key from env. */
async function serve(dataDir: string): Promise<{ child: ChildProcess; api: string; exited: Promise<number | null> }> {
  const portsFile = path.join(dataDir, 'ports.json');
  rmSync(portsFile, { force: true });
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli/carillon.ts', 'serve', '--data', dataDir, '--bind', '127.0.0.1', '--sip-udp=-1', '--sip-tcp=-1', '--sip-tls=-1', '--h323=-1', '--bfcp=-1', '--api', '0', '--log-level', 'warn'], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, CARILLON_ACCESS_KEY_ID: KEY.accessKeyId, CARILLON_SECRET_ACCESS_KEY: KEY.secretAccessKey },
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  for (let i = 0; i < 300 && !existsSync(portsFile); i++) await new Promise((r) => setTimeout(r, 100));
  const ports = JSON.parse(readFileSync(portsFile, 'utf8')) as { api: number };
  return { child, api: `http://127.0.0.1:${ports.api}`, exited };
}

function client(endpoint: string): ChimeSDKVoiceClient {
  return new ChimeSDKVoiceClient({ endpoint, region: 'us-east-1', credentials: KEY, maxAttempts: 1 });
}

async function listAll(c: ChimeSDKVoiceClient): Promise<VoiceConnector[]> {
  const out: VoiceConnector[] = [];
  for await (const p of paginateListVoiceConnectors({ client: c, pageSize: 100 }, {})) out.push(...(p.VoiceConnectors ?? []));
  return out;
}

describe('the store survives restarts and kill -9 (SQLite, the default)', () => {
  it('numbers imported by the CLI and connectors created over the API survive a restart; a kill -9 mid-burst leaves nothing half-written', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'carillon-durable-'));
    const data = path.join(dir, 'data');
    try {
      // The CLI import (bad files are refused whole, naming the line).
      const csv = path.join(dir, 'numbers.csv');
      writeFileSync(csv, 'PhoneNumber,Type,Country,State,City\n+12065550100,Local,US,WA,Seattle\n+12065550101,Local,US,WA,Seattle\n+18885550100,TollFree,US,,\n');
      const bad = path.join(dir, 'bad.csv');
      writeFileSync(bad, 'PhoneNumber,Type,Country,State,City\n+12065550199,Local,US,WA,Seattle\nnot-a-number,Local,US,,\n');
      const run = (file: string) =>
        new Promise<{ code: number | null; out: string }>((resolve) => {
          const p = spawn(process.execPath, ['--import', 'tsx', 'cli/carillon.ts', 'numbers', 'import', file, '--data', data], { cwd: ROOT });
          let out = '';
          p.stdout.on('data', (b: Buffer) => (out += b.toString()));
          p.stderr.on('data', (b: Buffer) => (out += b.toString()));
          p.on('close', (code) => resolve({ code, out }));
        });
      expect(await run(csv)).toEqual({ code: 0, out: 'imported 3 new numbers (0 already known)\n' });
      const refused = await run(bad);
      expect(refused.code).toBe(1);
      expect(refused.out).toMatch(/line 3/);

      let s = await serve(data);
      let c = client(s.api);
      expect((await c.send(new SearchAvailablePhoneNumbersCommand({ AreaCode: '206' }))).E164PhoneNumbers).toEqual(['+12065550100', '+12065550101']);
      const first = await Promise.all(Array.from({ length: 20 }, (_, i) => c.send(new CreateVoiceConnectorCommand({ Name: `before-${i}`, RequireEncryption: false }))));
      s.child.kill('SIGTERM');
      expect(await s.exited).toBe(0);

      s = await serve(data);
      c = client(s.api);
      expect((await listAll(c)).map((v) => v.VoiceConnectorId).sort()).toEqual(first.map((r) => r.VoiceConnector?.VoiceConnectorId).sort());
      // A burst of parallel creates, and kill -9 in the middle of it.
      const acked: string[] = [];
      const burst = Array.from({ length: 1000 }, (_, i) =>
        c.send(new CreateVoiceConnectorCommand({ Name: `burst-${i}`, RequireEncryption: i % 2 === 0 })).then(
          (r) => acked.push(r.VoiceConnector?.VoiceConnectorId as string),
          () => undefined,
        ),
      );
      for (let i = 0; i < 500 && acked.length < 20; i++) await new Promise((r) => setTimeout(r, 5));
      s.child.kill('SIGKILL');
      await Promise.all(burst);
      await s.exited;
      // The kill really landed mid-burst: some creates were answered, some never were.
      expect(acked.length).toBeGreaterThan(0);
      expect(acked.length).toBeLessThan(1000);

      s = await serve(data);
      c = client(s.api);
      const all = await listAll(c);
      const ids = all.map((v) => v.VoiceConnectorId as string);
      expect(new Set(ids).size).toBe(ids.length);
      // Every create that was answered is there; every row is whole.
      for (const id of acked) expect(ids).toContain(id);
      for (const v of all) {
        expect(v.Name).toMatch(/^(before|burst)-\d+$/);
        expect(v.CreatedTimestamp).toBeInstanceOf(Date);
        expect(typeof v.RequireEncryption).toBe('boolean');
      }
      expect(all.length).toBeGreaterThanOrEqual(20 + acked.length);
      s.child.kill('SIGTERM');
      await s.exited;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
