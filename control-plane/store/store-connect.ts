import type { Logger } from 'pino';
import type { Clock, Timers } from '../../common/clock.ts';
import { openStore } from './store.ts';
import type { Store } from './store.ts';

/** Why opening a store failed in a way that waiting may fix (the database is not up yet). */
function transient(err: unknown): string | undefined {
  const e = err as { code?: unknown; errors?: unknown[] } | undefined;
  const code = typeof e?.code === 'string' ? e.code : undefined;
  // ECONNREFUSED/ENOTFOUND/… from the socket, 57P03 "the database system is starting up", 53300 too many connections.
  if (code !== undefined && /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|57P03|53300)$/.test(code)) return code;
  // node-postgres may report an AggregateError of the addresses it tried.
  if (Array.isArray(e?.errors)) for (const inner of e.errors) if (transient(inner) !== undefined) return transient(inner);
  return undefined;
}

/** A database URL fit for a log line: the password left out. */
export function redactUrl(url: string): string {
  return url.replace(/^(postgres(?:ql)?:\/\/[^:/@]+):[^@]*@/, '$1:***@');
}

export interface StoreConnectOptions {
  readonly logger: Logger;
  readonly timers: Timers;
  readonly clock: Clock;
  /** Give up after this long (default 60 s). */
  readonly deadlineMs?: number;
}

/**
 * Opens the store; a PostgreSQL that is not reachable yet (a container started beside it, a
 * database still recovering) is tried again with backoff — 0.5 s doubling to 5 s — with one log
 * line per attempt, until `deadlineMs`. Faults waiting cannot fix (bad credentials, a bad URL, a
 * failed migration) are thrown at once.
 */
export async function openStoreWhenReachable(url: string, opts: StoreConnectOptions): Promise<Store> {
  const until = opts.clock.monoMs() + (opts.deadlineMs ?? 60_000);
  let waitMs = 500;
  for (let attempt = 1; ; attempt++) {
    try {
      const store = await openStore(url);
      if (attempt > 1) opts.logger.info({ db: redactUrl(url), attempt }, 'store reachable');
      return store;
    } catch (err) {
      const why = transient(err);
      const left = until - opts.clock.monoMs();
      if (why === undefined) throw err;
      if (left <= 0) throw new Error(`the store at ${redactUrl(url)} is not reachable (${why}); gave up after ${attempt} attempts`, { cause: err });
      const delay = Math.min(waitMs, left);
      opts.logger.warn({ db: redactUrl(url), reason: why, attempt, retryInMs: delay }, `store not reachable (${why}); retrying in ${(delay / 1000).toFixed(1)} s`);
      await new Promise<void>((resolve) => opts.timers.setTimeout(resolve, delay));
      waitMs = Math.min(waitMs * 2, 5_000);
    }
  }
}
