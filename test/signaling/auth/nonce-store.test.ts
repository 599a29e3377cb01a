import { describe, expect, it } from 'vitest';
import { createCryptoRandom } from '../../../common/random.ts';
import { NONCE_SWEEP_MS, NONCE_TRANSITIONS, NonceStore } from '../../../signaling/auth/nonce-store.ts';
import { ManualTimers } from '../../support/manual-timers.ts';

const realm = 'vc.voiceconnector.carillon.local';

function store(opts: { maxNonces?: number; maxNoncesPerSource?: number; timers?: boolean } = {}): { nonces: NonceStore; clock: ManualTimers } {
  const clock = new ManualTimers();
  const nonces = new NonceStore({
    secret: Buffer.alloc(32, 3),
    clock,
    random: createCryptoRandom(),
    ...(opts.timers === true ? { timers: clock } : {}),
    ...(opts.maxNonces === undefined ? {} : { maxNonces: opts.maxNonces }),
    ...(opts.maxNoncesPerSource === undefined ? {} : { maxNoncesPerSource: opts.maxNoncesPerSource }),
  });
  return { nonces, clock };
}

describe('digest nonce table', () => {
  it('binds each nonce to its realm and address (MAC and record), and makes each one new', () => {
    const { nonces } = store();
    const a = nonces.issue(realm, '10.0.0.1');
    const b = nonces.issue(realm, '10.0.0.1');
    expect(a).not.toBe(b);
    expect(a).toMatch(/^[0-9a-z]+\.[0-9a-z]{16}\.[A-Za-z0-9_-]{22}$/);
    expect(nonces.check(a, realm, '10.0.0.1')).toBeUndefined();
    expect(nonces.check(a, realm, '10.0.0.2')).toBe('other_source');
    expect(nonces.check(a, 'other.voiceconnector.carillon.local', '10.0.0.1')).toBe('unknown');
    // The MAC holds the random part: one changed character and it is not ours.
    const tampered = a.replace(/\.(.)/, (_, c: string) => `.${c === 'a' ? 'b' : 'a'}`);
    expect(nonces.check(tampered, realm, '10.0.0.1')).toBe('unknown');
  });

  it('takes each nc once, increasing; without qop one use; burned takes nothing', () => {
    const { nonces } = store();
    const n = nonces.issue(realm, '10.0.0.1');
    expect(nonces.fresh(n, 1)).toBe(true);
    nonces.accept(n, 1);
    expect([nonces.fresh(n, 1), nonces.fresh(n, 2), nonces.fresh(n, undefined)]).toEqual([false, true, false]);
    const once = nonces.issue(realm, '10.0.0.1');
    nonces.accept(once, undefined);
    expect(nonces.check(once, realm, '10.0.0.1')).toBe('replay');
    const burned = nonces.issue(realm, '10.0.0.1');
    nonces.burn(burned);
    expect(nonces.check(burned, realm, '10.0.0.1')).toBe('replay');
    expect(nonces.fresh(burned, 5)).toBe(false);
  });

  it('used and burned are terminal: nothing brings a nonce back', () => {
    expect(NONCE_TRANSITIONS).toEqual({ live: ['live', 'used', 'burned'], used: [], burned: [] });
    const { nonces } = store();
    const used = nonces.issue(realm, '10.0.0.1');
    nonces.accept(used, undefined);
    nonces.accept(used, 7);
    nonces.burn(used);
    expect([nonces.check(used, realm, '10.0.0.1'), nonces.fresh(used, 8)]).toEqual(['replay', false]);
    const burned = nonces.issue(realm, '10.0.0.1');
    nonces.burn(burned);
    nonces.accept(burned, 1);
    nonces.accept(burned, undefined);
    expect([nonces.check(burned, realm, '10.0.0.1'), nonces.fresh(burned, 2)]).toEqual(['replay', false]);
  });

  it('never holds more than its cap: the oldest goes first, and is then told apart from an expired one', () => {
    const { nonces, clock } = store({ maxNonces: 100 });
    const first = nonces.issue(realm, '10.0.0.1');
    for (let i = 0; i < 1000; i++) nonces.issue(realm, `10.1.${i >> 8}.${i & 255}`);
    expect(nonces.size).toBe(100);
    expect(nonces.evictions).toBe(901);
    expect(nonces.check(first, realm, '10.0.0.1')).toBe('evicted');
    clock.advance(300_000);
    expect(nonces.check(first, realm, '10.0.0.1')).toBe('expired');
  });

  it('one flooding source evicts only its own nonces', () => {
    const { nonces } = store({ maxNonces: 1000, maxNoncesPerSource: 8 });
    const pbx = nonces.issue(realm, '192.0.2.10');
    const flood: string[] = [];
    for (let i = 0; i < 500; i++) flood.push(nonces.issue(realm, '203.0.113.66'));
    expect(nonces.size).toBe(9);
    expect(nonces.check(pbx, realm, '192.0.2.10')).toBeUndefined();
    expect(nonces.check(flood[0] as string, realm, '203.0.113.66')).toBe('evicted');
    expect(nonces.check(flood[499] as string, realm, '203.0.113.66')).toBeUndefined();
  });

  it('sweeps expired nonces on a timer that runs only while it holds any, and stops on close', () => {
    const { nonces, clock } = store({ timers: true });
    expect(clock.pendingCount).toBe(0);
    nonces.issue(realm, '10.0.0.1');
    expect(clock.pendingCount).toBe(1);
    clock.advance(150_000);
    nonces.issue(realm, '10.0.0.2');
    expect(nonces.size).toBe(2);
    clock.advance(150_000 + NONCE_SWEEP_MS);
    expect(nonces.size).toBe(1);
    clock.advance(150_000);
    expect(nonces.size).toBe(0);
    expect(clock.pendingCount).toBe(0);
    nonces.issue(realm, '10.0.0.3');
    nonces.close();
    nonces.close();
    expect(clock.pendingCount).toBe(0);
  });
});
