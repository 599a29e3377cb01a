/**
 * H.245 master/slave determination (H.245 §8.2, the SDL of Annex C reduced to its decision):
 * the higher terminalType is master; between equals the status determination numbers decide
 * by their difference modulo 2^24, and a difference of 0 or 2^23 is indeterminate (both sides
 * draw new numbers and try again, at most N106 times). Carillon is a conferencing gateway and
 * says so with terminalType 190 (an MCU with audio, video and data processors), so room
 * systems (50) and gateways (60) find it master — which H.239 content later relies on.
 */

/** H.245 terminalType values (H.323 Table 1). */
export const TERMINAL_TYPE = { terminal: 50, gateway: 60, mcuWithAvmp: 190 } as const;

/** Carillon's terminalType. */
export const CARILLON_TERMINAL_TYPE = TERMINAL_TYPE.mcuWithAvmp;

/** How many times an indeterminate result is retried before the determination fails (N106 default). */
export const MSD_RETRIES = 3;

const MODULUS = 0x100_0000;
const HALF = 0x80_0000;

/** One side's MasterSlaveDetermination. */
export interface MsdSide {
  readonly terminalType: number;
  /** 0 … 2^24 − 1. */
  readonly statusDeterminationNumber: number;
}

/** Carillon's status, and the `decision` its MasterSlaveDeterminationAck carries (the peer's status). */
export type MsdOutcome = { readonly local: 'master' | 'slave'; readonly ackDecision: 'master' | 'slave' } | { readonly local: 'indeterminate' };

/** Decides between Carillon (`local`) and the peer's MasterSlaveDetermination (`remote`). */
export function determineMasterSlave(local: MsdSide, remote: MsdSide): MsdOutcome {
  if (local.terminalType !== remote.terminalType) {
    return local.terminalType > remote.terminalType ? { local: 'master', ackDecision: 'slave' } : { local: 'slave', ackDecision: 'master' };
  }
  const diff = (((remote.statusDeterminationNumber - local.statusDeterminationNumber) % MODULUS) + MODULUS) % MODULUS;
  if (diff === 0 || diff === HALF) return { local: 'indeterminate' };
  return diff < HALF ? { local: 'master', ackDecision: 'slave' } : { local: 'slave', ackDecision: 'master' };
}

/** A status determination number from a random draw in [0, 1). */
export function statusDeterminationNumber(draw: number): number {
  return Math.min(MODULUS - 1, Math.max(0, Math.floor(draw * MODULUS)));
}
