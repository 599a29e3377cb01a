import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createServer } from '../../cli/server.ts';
import type { CarillonServer, Ports, ServerDeps } from '../../cli/server.ts';
import type { Timers } from '../../common/clock.ts';
import { nodeTimers } from '../../common/clock.ts';
import { TableResolver } from './dns-server.ts';

/**
 * Timer bases for tests: T1 = 50 ms so that every UDP transaction has ended 64·T1 = 3.2 s after
 * its last message, and idle checks don't wait half a minute.
 */
export const TEST_SIP_TIMERS = { t1Ms: 50, t2Ms: 400, t4Ms: 500, timerDMs: 500 } as const;

export interface TestServer {
  readonly server: CarillonServer;
  readonly ports: Ports;
  readonly dataDir: string;
  /**
   * The server's DNS when the test gave none: a table (empty unless the test fills it) that
   * answers "not found" for every other name and never asks the machine's resolver. Its
   * `questions` show every name the server looked up.
   */
  readonly dns: TableResolver;
  /** Waits until no transaction, dialog or call is left; returns the last stats seen. */
  waitIdle(timeoutMs?: number): Promise<ReturnType<CarillonServer['stats']>>;
  close(): Promise<void>;
}

/**
 * Timers that run every delay of 10 s or more `factor` times faster: session timers (minutes)
 * and Timer C compress into test time while T1-based SIP timers keep their real pace.
 */
export function compressedTimers(factor: number): Timers {
  return {
    setTimeout: (fn, ms) => nodeTimers.setTimeout(fn, ms >= 10_000 ? ms / factor : ms),
    clearTimeout: (h) => nodeTimers.clearTimeout(h),
  };
}

/**
 * Boots a real server in this process on 127.0.0.1 with every port picked free. Its DNS is
 * `deps.resolver` when given, else a TableResolver of its own (`dns`): no test server ever
 * reaches the machine's resolver.
 */
export async function startTestServer(overrides: Record<string, unknown> = {}, deps: ServerDeps = {}): Promise<TestServer> {
  // A data directory given by the test survives close (restart tests); otherwise a fresh one that does not.
  const givenDir = typeof overrides.data === 'string' ? overrides.data : undefined;
  const dataDir = givenDir ?? mkdtempSync(path.join(os.tmpdir(), 'carillon-test-'));
  const sipOverride = (overrides.sip ?? {}) as Record<string, unknown>;
  const mediaOverride = (overrides.media ?? {}) as Record<string, unknown>;
  const dns = new TableResolver();
  const server = createServer({
    data: dataDir,
    bind: '127.0.0.1',
    sipUdp: 0,
    sipTcp: 0,
    sipTls: 0,
    // H.323 is off unless a test turns it on (a fixed 1720 and 5100–6200 would collide across test files).
    h323: -1,
    // BFCP on a port of the system's choosing (ports.bfcp).
    bfcp: 0,
    api: 0,
    logLevel: process.env.CARILLON_TEST_LOG ?? 'silent',
    ...overrides,
    sip: { ...TEST_SIP_TIMERS, tlsVerifyServer: false, ...sipOverride },
    media: { releaseDelayMs: 300, ...mediaOverride },
  }, { ...deps, resolver: deps.resolver ?? dns });
  const ports = await server.start();
  return {
    server,
    ports,
    dataDir,
    dns,
    async waitIdle(timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const s = server.stats();
        if ((s.transactions === 0 && s.dialogs === 0 && s.calls === 0) || Date.now() > deadline) return s;
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async close() {
      // Every test that used a server ends with its media port pool exactly as it started.
      const deadline = Date.now() + 5_000;
      let inUse = (await server.mediaStatus()).portPairsInUse;
      while (inUse !== 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        inUse = (await server.mediaStatus()).portPairsInUse;
      }
      await server.close();
      if (inUse !== 0) throw new Error(`media port pairs still in use after the test: ${inUse}`);
      if (givenDir === undefined) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
