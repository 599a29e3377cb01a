import type { TimerHandle, Timers } from '../../../common/clock.ts';
import { parseParams } from '../message/params.ts';

/** RFC 4028 defaults: Session-Expires 1800 s; Min-SE floor 90 s (§4). */
export const DEFAULT_SESSION_EXPIRES_SEC = 1800;
export const MIN_SE_FLOOR_SEC = 90;

export interface SessionExpires {
  readonly intervalSec: number;
  readonly refresher?: 'uac' | 'uas';
}

/** Parses `Session-Expires: 1800;refresher=uac` (RFC 4028 §4). */
export function parseSessionExpires(value: string | undefined): SessionExpires | undefined {
  if (value === undefined) return undefined;
  const semi = value.indexOf(';');
  const num = (semi < 0 ? value : value.slice(0, semi)).trim();
  if (!/^\d{1,10}$/.test(num)) return undefined;
  const intervalSec = Number(num);
  if (semi < 0) return { intervalSec };
  const params = parseParams(value, semi);
  const r = params?.get('refresher');
  if (r === 'uac' || r === 'uas') return { intervalSec, refresher: r };
  return { intervalSec };
}

/** Parses Min-SE (RFC 4028 §5): delta-seconds with optional params. */
export function parseMinSe(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const m = /^\s*(\d{1,10})/.exec(value);
  return m === null ? undefined : Number(m[1]);
}

/**
 * One leg's session timer (RFC 4028 §10). When Carillon is the refresher it calls `refresh` at
 * half the interval; when the peer is, it calls `expire` if no refresh arrived by
 * interval − min(32 s, interval/3).
 */
export class SessionTimer {
  readonly #timers: Timers;
  #handle: TimerHandle | undefined;
  intervalSec = 0;
  localRefresher = false;

  constructor(timers: Timers) {
    this.#timers = timers;
  }

  get running(): boolean {
    return this.#handle !== undefined;
  }

  start(intervalSec: number, localRefresher: boolean, refresh: () => void, expire: () => void): void {
    this.stop();
    this.intervalSec = intervalSec;
    this.localRefresher = localRefresher;
    const ms = localRefresher
      ? (intervalSec * 1000) / 2
      : (intervalSec - Math.min(32, intervalSec / 3)) * 1000;
    this.#handle = this.#timers.setTimeout(() => {
      this.#handle = undefined;
      if (localRefresher) refresh();
      else expire();
    }, ms);
  }

  stop(): void {
    this.#timers.clearTimeout(this.#handle);
    this.#handle = undefined;
  }
}
