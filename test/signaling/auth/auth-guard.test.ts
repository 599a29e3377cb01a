import type { Logger } from 'pino';
import { describe, expect, it } from 'vitest';
import { AuthGuard, GUARD_SWEEP_MS, sourceKey } from '../../../signaling/auth/auth-guard.ts';
import type { AuthGuardLimits } from '../../../signaling/auth/auth-guard.ts';
import { ManualTimers } from '../../support/manual-timers.ts';

const LIMITS: AuthGuardLimits = { failuresPerSource: 5, failuresPerVoiceConnector: 10, windowMs: 60_000, banMs: 300_000 };

function guard(limits: Partial<AuthGuardLimits> = {}, timers = false): { g: AuthGuard; clock: ManualTimers; warnings: Record<string, unknown>[] } {
  const clock = new ManualTimers();
  const warnings: Record<string, unknown>[] = [];
  const logger = { warn: (obj: Record<string, unknown>, msg: string) => void warnings.push({ ...obj, msg }) } as unknown as Logger;
  return { g: new AuthGuard({ ...LIMITS, ...limits }, { clock, logger, ...(timers ? { timers: clock } : {}) }), clock, warnings };
}

describe('authentication failure guard (per source, per voice connector)', () => {
  it('bans a source at its fifth failure in the window, whatever it sends next, and logs the ban once', () => {
    const { g, clock, warnings } = guard();
    for (let i = 0; i < 4; i++) {
      g.failed('198.51.100.7', 'vc1', 'wrong_response');
      clock.advance(1_000);
    }
    expect(g.refusal('198.51.100.7', 'vc1')).toBeUndefined();
    g.failed('198.51.100.7', 'vc1', 'uri_mismatch');
    // Banned from every voice connector, not only the one it guessed at.
    expect(g.refusal('198.51.100.7', 'vc1')).toBe('source');
    expect(g.refusal('198.51.100.7', 'vc2')).toBe('source');
    expect(g.refusal('198.51.100.8', 'vc1')).toBeUndefined();
    expect(g.bannedSources()).toBe(1);
    expect(g.counters).toEqual({ failures: { unknown_user: 0, wrong_response: 4, uri_mismatch: 1, malformed: 0 }, bans: { source: 1, voice_connector: 0 }, refused: { source: 2, voice_connector: 0 } });
    expect(warnings).toEqual([{ source: '198.51.100.7', voiceConnectorId: 'vc1', failures: 5, windowSec: 60, banSec: 300, msg: expect.stringContaining('source banned') as unknown }]);
  });

  it('does not ban failures spread wider than the window', () => {
    const { g, clock } = guard();
    for (let i = 0; i < 20; i++) {
      g.failed('198.51.100.7', 'vc1', 'wrong_response');
      clock.advance(15_001);
    }
    expect(g.refusal('198.51.100.7', 'vc1')).toBeUndefined();
    expect(g.counters.bans.source).toBe(0);
  });

  it('ends a ban after its period; the source then starts afresh', () => {
    const { g, clock, warnings } = guard();
    for (let i = 0; i < 5; i++) g.failed('198.51.100.7', 'vc1', 'wrong_response');
    clock.advance(299_999);
    expect(g.refusal('198.51.100.7', 'vc1')).toBe('source');
    clock.advance(1);
    expect(g.refusal('198.51.100.7', 'vc1')).toBeUndefined();
    expect(g.bannedSources()).toBe(0);
    for (let i = 0; i < 4; i++) g.failed('198.51.100.7', 'vc1', 'wrong_response');
    expect(g.refusal('198.51.100.7', 'vc1')).toBeUndefined();
    g.failed('198.51.100.7', 'vc1', 'wrong_response');
    expect(g.refusal('198.51.100.7', 'vc1')).toBe('source');
    expect(warnings).toHaveLength(2);
  });

  it('guessing spread over sources guards the voice connector: sources that failed are refused, others keep working', () => {
    const { g, clock, warnings } = guard();
    // Ten sources, one wrong answer each: no source near its own threshold.
    for (let i = 1; i <= 9; i++) g.failed(`203.0.113.${i}`, 'vc1', 'wrong_response');
    expect(g.refusal('203.0.113.1', 'vc1')).toBeUndefined();
    clock.advance(30_000);
    g.failed('203.0.113.10', 'vc1', 'unknown_user');
    expect(g.counters.bans.voice_connector).toBe(1);
    expect(g.guardedVoiceConnectors()).toBe(1);
    // The first failed 30 s before the guard began, inside the window: refused too.
    expect(g.refusal('203.0.113.1', 'vc1')).toBe('voice_connector');
    expect(g.refusal('203.0.113.10', 'vc1')).toBe('voice_connector');
    // The real PBX never failed; a source new to the trunk has not either; other trunks are not guarded.
    expect(g.refusal('192.0.2.10', 'vc1')).toBeUndefined();
    expect(g.refusal('198.18.0.1', 'vc1')).toBeUndefined();
    expect(g.refusal('203.0.113.1', 'vc2')).toBeUndefined();
    // A newcomer that fails during the guard is refused from then on.
    g.failed('198.18.0.1', 'vc1', 'wrong_response');
    expect(g.refusal('198.18.0.1', 'vc1')).toBe('voice_connector');
    expect(warnings.filter((w) => String(w.msg).includes('voice connector guarded'))).toEqual([
      { voiceConnectorId: 'vc1', failures: 10, windowSec: 60, banSec: 300, failingSources: 10, msg: expect.any(String) as unknown },
    ]);
    // After the guard period the sources may try again.
    clock.advance(300_000);
    expect(g.refusal('203.0.113.1', 'vc1')).toBeUndefined();
    expect(g.counters.refused.voice_connector).toBe(3);
  });

  it('a threshold of 0 turns that limit off', () => {
    const { g } = guard({ failuresPerSource: 0, failuresPerVoiceConnector: 0 });
    for (let i = 0; i < 50; i++) g.failed('198.51.100.7', 'vc1', 'wrong_response');
    expect(g.refusal('198.51.100.7', 'vc1')).toBeUndefined();
  });

  it('tracks IPv4 as itself (IPv4-mapped too) and IPv6 by its /64', () => {
    expect(sourceKey('192.0.2.1')).toBe('192.0.2.1');
    expect(sourceKey('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(sourceKey('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64');
    expect(sourceKey('2001:DB8:0001:0002::99')).toBe('2001:db8:1:2::/64');
    expect(sourceKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(sourceKey('::1')).toBe('0:0:0:0::/64');
    expect(sourceKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(sourceKey('64:ff9b::192.0.2.1')).toBe('64:ff9b:0:0::/64');
    const { g } = guard();
    for (let i = 1; i <= 5; i++) g.failed(`2001:db8:1:2::${i}`, 'vc1', 'wrong_response');
    expect(g.refusal('2001:db8:1:2:ffff::1', 'vc1')).toBe('source');
    expect(g.refusal('2001:db8:1:3::1', 'vc1')).toBeUndefined();
  });

  it('keeps its tables bounded: the source that failed longest ago is forgotten first', () => {
    const { g } = guard({ maxSources: 100, maxVoiceConnectors: 10, maxFailingSourcesPerVoiceConnector: 50 });
    for (let i = 0; i < 5; i++) g.failed('198.51.100.7', 'vc-0', 'wrong_response');
    for (let i = 0; i < 99; i++) g.failed(`10.0.${i >> 8}.${i & 255}`, `vc-${i % 20}`, 'wrong_response');
    expect(g.size).toEqual({ sources: 100, voiceConnectors: 10 });
    expect(g.refusal('198.51.100.7', 'vc-0')).toBe('source');
    g.failed('10.9.9.9', 'vc-0', 'wrong_response');
    expect(g.size.sources).toBe(100);
    // The banned source failed longest ago: it is the one forgotten.
    expect(g.refusal('198.51.100.7', 'vc-0')).toBeUndefined();
  });

  it('sweeps quiet records on a timer that runs while it holds any, and stops on close', () => {
    const { g, clock } = guard({}, true);
    expect(clock.pendingCount).toBe(0);
    g.failed('198.51.100.1', 'vc1', 'wrong_response');
    for (let i = 0; i < 5; i++) g.failed('198.51.100.2', 'vc1', 'wrong_response');
    expect(clock.pendingCount).toBe(1);
    clock.advance(60_000 + GUARD_SWEEP_MS);
    // The unbanned source is forgotten, and the voice connector's quiet record; the banned source stays while its ban runs.
    expect(g.size).toEqual({ sources: 1, voiceConnectors: 0 });
    clock.advance(300_000);
    expect(g.size).toEqual({ sources: 0, voiceConnectors: 0 });
    expect(clock.pendingCount).toBe(0);
    g.failed('198.51.100.3', 'vc1', 'wrong_response');
    g.close();
    g.close();
    expect(clock.pendingCount).toBe(0);
  });
});
