import client from 'prom-client';
import { describe, expect, it } from 'vitest';
import { addSipAuthMetrics } from '../../metrics/sip-auth-metrics.ts';
import { createCryptoRandom } from '../../common/random.ts';
import { AuthGuard } from '../../signaling/auth/auth-guard.ts';
import { DigestAuth } from '../../signaling/auth/digest.ts';
import { ManualTimers } from '../support/manual-timers.ts';

describe('termination digest metrics', () => {
  it('reads the counters at scrape time, every label of each closed set present, never an address', async () => {
    const clock = new ManualTimers();
    const digest = new DigestAuth({ secret: Buffer.alloc(32, 1), clock, random: createCryptoRandom() });
    const guard = new AuthGuard({ failuresPerSource: 2, failuresPerVoiceConnector: 10, windowMs: 60_000, banMs: 300_000 }, { clock });
    const registry = new client.Registry();
    addSipAuthMetrics(registry, { digest, guard });
    const before = await registry.metrics();
    expect(before).toContain('carillon_sip_auth_failures_total{reason="wrong_response"} 0');
    expect(before).toContain('carillon_sip_auth_stale_total{reason="other_source"} 0');
    expect(before).toContain('carillon_sip_auth_banned_sources 0');
    digest.challenge('r', '198.51.100.7');
    guard.failed('198.51.100.7', 'vc1', 'wrong_response');
    guard.failed('198.51.100.7', 'vc1', 'uri_mismatch');
    guard.refusal('198.51.100.7', 'vc1');
    const after = await registry.metrics();
    for (const line of [
      'carillon_sip_auth_failures_total{reason="wrong_response"} 1',
      'carillon_sip_auth_failures_total{reason="uri_mismatch"} 1',
      'carillon_sip_auth_failures_total{reason="unknown_user"} 0',
      'carillon_sip_auth_bans_total{scope="source"} 1',
      'carillon_sip_auth_bans_total{scope="voice_connector"} 0',
      'carillon_sip_auth_banned_requests_total{scope="source"} 1',
      'carillon_sip_auth_banned_sources 1',
      'carillon_sip_auth_guarded_voice_connectors 0',
      'carillon_sip_auth_nonces 1',
      'carillon_sip_auth_nonces_evicted_total 0',
    ]) {
      expect(after).toContain(line);
    }
    expect(after).not.toContain('198.51.100.7');
  });
});
