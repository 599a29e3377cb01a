import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateVoiceConnectorCommand, PutVoiceConnectorTerminationCommand } from '@aws-sdk/client-chime-sdk-voice';
import { afterAll, describe, expect, it } from 'vitest';
import { parseJournal } from '../../metrics/cdr-journal.ts';
import { readCdrs } from '../support/cdrs.ts';
import type { Cdr } from '../support/cdrs.ts';
import { freePort } from '../support/ports.ts';
import { killAllSipp, realErrors, runSipp, startSipp } from '../support/sipp.ts';
import { farEnd, trunkCaller } from '../support/sipp-trunk-scenarios.ts';
import { trunkApiAt } from '../support/trunk-api.ts';

/**
 * A voice connector call in progress when the server is killed (SIGKILL, nothing flushed or
 * closed) gets its two CDRs when the server starts again on the same data directory: Status
 * Interrupted, ended at the journal's last heartbeat (5 s apart), billed from the answer to then.
 * A call that ended before the crash keeps exactly its own CDRs.
 */
const ROOT = path.join(import.meta.dirname, '../..');
const HEARTBEAT_MS = 5_000;

afterAll(() => killAllSipp());

interface Served {
  readonly child: ChildProcess;
  readonly ports: { sipUdp: number; api: number };
  readonly exited: Promise<number | null>;
  output(): string;
}

/** `carillon serve` as a child process on loopback, resolved once it prints its ports. */
async function serve(dir: string): Promise<Served> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli/carillon.ts', 'serve', '--data', path.join(dir, 'data'), '--bind', '127.0.0.1',
    '--sip-udp', '0', '--sip-tcp', '0', '--sip-tls', '0', '--h323=-1', '--bfcp=-1', '--api', '0', '--config', path.join(dir, 'c.json')], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  const ports = await new Promise<{ sipUdp: number; api: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 30_000);
    child.stdout?.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /carillon ports (\{.*\})/.exec(out);
      if (m === null) return;
      clearTimeout(timer);
      resolve(JSON.parse(m[1] as string) as { sipUdp: number; api: number });
    });
    void exited.then((code) => reject(new Error(`server exited ${code}: ${out}`)));
  });
  return { child, ports, exited, output: () => out };
}

const until = async (what: string, ok: () => Promise<boolean> | boolean, ms = 15_000): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

const openInJournal = (dir: string): number => {
  const parsed = parseJournal(readFileSync(path.join(dir, 'data', 'journal', 'cdrs.jsonl'), 'utf8'));
  if (!parsed.ok) throw new Error('journal has no header');
  return parsed.contents.open.size;
};

describe('CDRs of calls in progress at a crash', () => {
  it('a call answered when the server is killed gets Interrupted CDRs at the next start; a call ended before keeps its own', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'carillon-cdr-crash-'));
    writeFileSync(path.join(dir, 'c.json'), JSON.stringify({ logLevel: 'warn', sip: { optionsPingIntervalSec: 3600 } }));
    let first: Served | undefined;
    let second: Served | undefined;
    try {
      first = await serve(dir);
      const api = trunkApiAt(`http://127.0.0.1:${first.ports.api}`, path.join(dir, 'data'));
      const vc = (await api.voice.send(new CreateVoiceConnectorCommand({ Name: 'crash trunk', RequireEncryption: false }))).VoiceConnector;
      const vcId = vc?.VoiceConnectorId ?? '';
      await api.voice.send(new PutVoiceConnectorTerminationCommand({ VoiceConnectorId: vcId, Termination: { CallingRegions: ['US'], CidrAllowedList: ['127.0.0.1/32'], CpsLimit: 10 } }));
      const carrierPort = await freePort();
      expect((await api.api('POST', '/carillon/v1/carriers', { Name: 'pstn', Host: '127.0.0.1', Port: carrierPort, Protocol: 'UDP', Priority: 1, Weight: 1 })).status).toBe(201);
      const pbx = (pauseMs: number): { name: string; xml: string } => ({ name: `pbx-${pauseMs}`, xml: trunkCaller({ host: vc?.OutboundHostName ?? '', from: '+12065550111', expect: 'answer', pauseMs }) });
      const remote = `127.0.0.1:${first.ports.sipUdp}`;

      // A call that ends normally: its two CDRs, and nothing left open in the journal.
      const carrier = startSipp({ scenario: { name: 'carrier', xml: farEnd({ answer: true }) }, port: carrierPort, transport: 'udp', calls: 1, timeoutSec: 20 });
      await new Promise((r) => setTimeout(r, 200));
      const done = await runSipp({ scenario: pbx(200), remote, port: await freePort(), transport: 'udp', calls: 1, service: '+14155550123', timeoutSec: 20 });
      const c = await carrier.done;
      expect(realErrors(done) + realErrors(c)).toBe('');
      expect([done.successful, c.successful]).toEqual([1, 1]);
      const data = path.join(dir, 'data');
      await until('the first call’s CDRs', () => readCdrs(data).length === 2);
      const completed = readCdrs(data);
      expect(completed.map((r) => r.Status)).toEqual(['Completed', 'Completed']);
      expect(openInJournal(dir)).toBe(0);

      // A call still up when the server dies.
      const held = startSipp({ scenario: { name: 'carrier-held', xml: farEnd({ answer: true }) }, port: carrierPort, transport: 'udp', calls: 1, timeoutSec: 60 });
      await new Promise((r) => setTimeout(r, 200));
      startSipp({ scenario: pbx(60_000), remote, port: await freePort(), transport: 'udp', calls: 1, service: '+14155550123', timeoutSec: 90 });
      // Active counts from the INVITE; the journal holds a call from its answer: wait for that.
      await until('the second call answered', async () => (await api.metric('carillon_voice_connector_outbound_calls_active', vcId)) === 1 && (await api.metric('carillon_voice_connector_outbound_calls_answered_total', vcId)) === 2);
      expect(openInJournal(dir)).toBe(1);
      await new Promise((r) => setTimeout(r, HEARTBEAT_MS + 1_500));
      api.voice.destroy();
      const killedMs = Date.now();
      first.child.kill('SIGKILL');
      expect(await first.exited).toBe(null);
      held.child.kill('SIGKILL');
      killAllSipp();
      expect(readCdrs(data).length).toBe(2);

      second = await serve(dir);
      const all = readCdrs(data);
      const byTx = new Map<string, Cdr[]>();
      for (const r of all) byTx.set(r.TransactionId, [...(byTx.get(r.TransactionId) ?? []), r]);
      expect([...byTx.values()].map((rs) => rs.length)).toEqual([2, 2]);
      const before = completed[0]?.TransactionId ?? '';
      // The call that ended before the crash: exactly its CDRs, untouched.
      expect((byTx.get(before) ?? []).sort((x, y) => x.Leg.localeCompare(y.Leg))).toEqual([...completed].sort((x, y) => x.Leg.localeCompare(y.Leg)));
      const interrupted = all.filter((r) => r.TransactionId !== before);
      expect(interrupted.map((r) => r.Leg).sort()).toEqual(['Callee', 'Caller']);
      for (const r of interrupted) {
        expect(r).toMatchObject({ Status: 'Interrupted', SipStatusCode: '200', VoiceConnectorId: vcId, Direction: 'Outbound', DestinationPhoneNumber: '+14155550123' });
        const endMs = Number(r.EndTimeEpochSeconds) * 1000;
        // Within one heartbeat of the kill, give or take the second the record truncates to and timer lateness.
        expect(endMs).toBeLessThanOrEqual(killedMs);
        expect(killedMs - endMs).toBeLessThan(HEARTBEAT_MS + 1_500);
        const billed = Number(r.BillableDurationSeconds);
        const span = Number(r.EndTimeEpochSeconds) - Number(r.StartTimeEpochSeconds);
        expect(billed).toBeGreaterThanOrEqual(1);
        expect(Math.abs(billed - span)).toBeLessThanOrEqual(1);
        expect(r.ConferenceEndTimeEpochSeconds).toBe(r.EndTimeEpochSeconds);
      }
      expect(new Set(interrupted.map((r) => r.CallId)).size).toBe(2);
      // Written once: the fresh journal has nothing open.
      expect(openInJournal(dir)).toBe(0);
      second.child.kill('SIGTERM');
      expect(await second.exited, second.output()).toBe(0);
      second = undefined;
    } finally {
      first?.child.kill('SIGKILL');
      second?.child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
