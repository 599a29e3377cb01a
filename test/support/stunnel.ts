import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import selfsigned from 'selfsigned';

/**
 * stunnel4 as the TLS half of a SIP peer (Debian's SIPp has no TLS): a client service turns a
 * local TCP port into a TLS connection toward Carillon, a server service terminates TLS from
 * Carillon and hands plain TCP to a SIPp UAS. TLS 1.2 minimum, like Carillon's listener.
 */
export interface StunnelServices {
  /** TCP port SIPp connects to; stunnel carries it over TLS to `tlsTarget`. */
  readonly clientAccept?: number;
  readonly tlsTarget?: number;
  /** TLS port Carillon connects to; stunnel hands it over TCP to `tcpTarget`. */
  readonly serverAccept?: number;
  readonly tcpTarget?: number;
}

export interface StunnelHandle {
  readonly dir: string;
  log(): string;
  stop(): Promise<void>;
}

/** Starts one stunnel process with the requested services; resolves once every accept port listens. */
export async function startStunnel(s: StunnelServices): Promise<StunnelHandle> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'carillon-stunnel-'));
  const pems = await selfsigned.generate([{ name: 'commonName', value: 'peer.test' }], { keyType: 'ec', curve: 'P-256', algorithm: 'sha256' });
  writeFileSync(path.join(dir, 'cert.pem'), pems.cert);
  writeFileSync(path.join(dir, 'key.pem'), pems.private, { mode: 0o600 });
  const logFile = path.join(dir, 'stunnel.log');
  let conf = `foreground = yes\npid =\ndebug = 6\noutput = ${logFile}\n`;
  if (s.clientAccept !== undefined && s.tlsTarget !== undefined) {
    conf += `[sip-tls-client]\nclient = yes\naccept = 127.0.0.1:${s.clientAccept}\nconnect = 127.0.0.1:${s.tlsTarget}\nverifyChain = no\nsslVersionMin = TLSv1.2\n`;
  }
  if (s.serverAccept !== undefined && s.tcpTarget !== undefined) {
    conf += `[sip-tls-server]\naccept = 127.0.0.1:${s.serverAccept}\nconnect = 127.0.0.1:${s.tcpTarget}\ncert = ${path.join(dir, 'cert.pem')}\nkey = ${path.join(dir, 'key.pem')}\nsslVersionMin = TLSv1.2\n`;
  }
  const confFile = path.join(dir, 'stunnel.conf');
  writeFileSync(confFile, conf);
  const child: ChildProcess = spawn('stunnel4', [confFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  for (const port of [s.clientAccept, s.serverAccept]) {
    if (port !== undefined) await waitListening(port, 5000, () => stderr);
  }
  return {
    dir,
    log: () => {
      try {
        return readFileSync(logFile, 'utf8') + stderr;
      } catch {
        return stderr;
      }
    },
    async stop() {
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
      child.kill('SIGKILL');
    },
  };
}

async function waitListening(port: number, timeoutMs: number, why: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect({ host: '127.0.0.1', port });
      c.once('connect', () => {
        c.destroy();
        resolve(true);
      });
      c.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`stunnel did not listen on ${port}: ${why()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
