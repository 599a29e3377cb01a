import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../support/ports.ts';
import { killAllSipp, runSipp, startSipp } from '../support/sipp.ts';
import { startTestServer } from '../support/server.ts';

const run = promisify(execFile);
afterEach(() => killAllSipp());

describe('what outsiders learn', () => {
  it('an OPTIONS and a REGISTER sweep (sipvicious svmap) finds no version banner', async () => {
    const t = await startTestServer();
    try {
      for (const method of ['OPTIONS', 'REGISTER']) {
        const { stdout } = await run('svmap', ['127.0.0.1', '-p', String(t.ports.sipUdp), '-m', method], { timeout: 30_000 });
        expect(stdout).toMatch(new RegExp(`127\\.0\\.0\\.1:${t.ports.sipUdp}\\s*\\|\\s*unknown`));
        expect(stdout.toLowerCase()).not.toContain('carillon');
      }
      expect(await t.waitIdle()).toMatchObject({ transactions: 0 });
    } finally {
      await t.close();
    }
  }, 60_000);

  it("the callee sees none of the caller's Via, Contact, Call-ID or User-Agent (topology hiding)", async () => {
    const [uasPort, uacPort] = [await freePort(), await freePort()];
    const t = await startTestServer({ routes: [{ match: {}, target: `sip:127.0.0.1:${uasPort};transport=udp` }] });
    try {
      const uas = startSipp({ scenario: 'uas-basic', port: uasPort, transport: 'udp', calls: 1, timeoutSec: 20, extraArgs: ['-trace_msg'] });
      await new Promise((r) => setTimeout(r, 300));
      const uac = await runSipp({ scenario: 'uac-basic', remote: `127.0.0.1:${t.ports.sipUdp}`, port: uacPort, transport: 'udp', calls: 1, rate: 1, timeoutSec: 20, extraArgs: ['-trace_msg'] });
      const callee = await uas.done;
      expect(uac.successful).toBe(1);
      const log = (dir: string): string => readdirSync(dir).filter((f) => f.endsWith('_messages.log')).map((f) => readFileSync(path.join(dir, f), 'latin1')).join('');
      const calleeLog = log(callee.dir);
      const invite = /INVITE sip:[^\r\n]*SIP\/2\.0[\s\S]*?\r?\n\r?\n/.exec(calleeLog)?.[0] ?? '';
      expect(invite).not.toBe('');
      expect(invite.match(/^Via:/gim)).toHaveLength(1);
      expect(invite).not.toContain(`:${uacPort}`);
      const callerCallId = /Call-ID: (\S+)/.exec(log(uac.dir))?.[1];
      expect(callerCallId).toBeDefined();
      expect(invite).not.toContain(callerCallId as string);
      expect(invite).not.toMatch(/^(User-Agent|Server|Record-Route):/im);
      expect(await t.waitIdle()).toMatchObject({ transactions: 0, dialogs: 0, calls: 0 });
    } finally {
      await t.close();
    }
  }, 60_000);
});
