import type { Random } from '../../../common/random.ts';

/**
 * Carillon's dial-in identifiers: a 10-digit meeting ID and a 13-digit host ID per meeting, each
 * digit drawn from the injected (crypto-backed) randomness, so consecutive meetings' IDs say
 * nothing about each other. Uniqueness is the store's unique index: a collision is retried.
 */
export const MEETING_PIN_DIGITS = 10;
export const HOST_PIN_DIGITS = 13;
/** Tries before giving up on finding a free pair (at 10^10 IDs a second collision in a row means something is wrong). */
export const ALLOCATION_TRIES = 8;

/** Every try collided: the caller answers a retryable service failure. */
export class PinsExhausted extends Error {
  constructor() {
    super(`no free meeting ID after ${ALLOCATION_TRIES} tries`);
    this.name = 'PinsExhausted';
  }
}

/** `n` random decimal digits (leading zeros allowed: the ID is dialed, never read as a number). */
export function randomDigits(random: Random, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += String(Math.min(9, Math.floor(random.float() * 10)));
  return s;
}

/** Whether a store error is a unique-index violation (SQLite and PostgreSQL both). */
export function isUniqueViolation(err: unknown): boolean {
  if (typeof err !== 'object' || err === null || !('code' in err)) return false;
  const code = (err as { code: unknown }).code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505';
}

/**
 * Runs `attempt` with a fresh (meeting ID, host ID) pair until it does not hit a unique index;
 * `taken` rules out IDs already used elsewhere (a user's personal meeting PIN).
 */
export async function allocatePins<T>(random: Random, taken: (pin: string) => Promise<boolean>, attempt: (meetingPin: string, hostPin: string) => Promise<T>): Promise<T> {
  for (let i = 0; i < ALLOCATION_TRIES; i++) {
    const meetingPin = randomDigits(random, MEETING_PIN_DIGITS);
    const hostPin = randomDigits(random, HOST_PIN_DIGITS);
    if (await taken(meetingPin)) continue;
    try {
      return await attempt(meetingPin, hostPin);
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
    }
  }
  throw new PinsExhausted();
}
