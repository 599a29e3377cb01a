import { randomBytes } from 'node:crypto';

/** Randomness is injected (STYLE.md 6) so tests can make tags and branches predictable. */
export interface Random {
  /** A token of lowercase letters and digits, `length` characters long. */
  token(length: number): string;
  /** A float in [0, 1). */
  float(): number;
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/**
 * Crypto-backed randomness. Tokens come from a refilled 4 KiB pool so that minting tags and
 * branches at thousands of calls per second costs no syscall each.
 */
export function createCryptoRandom(): Random {
  let pool = randomBytes(4096);
  let pos = 0;
  const next = (): number => {
    if (pos >= pool.length) {
      pool = randomBytes(4096);
      pos = 0;
    }
    return pool[pos++] as number;
  };
  return {
    token(length) {
      let s = '';
      for (let i = 0; i < length; i++) s += ALPHABET[next() % 36];
      return s;
    },
    float() {
      return (next() * 16777216 + next() * 65536 + next() * 256 + next()) / 4294967296;
    },
  };
}
