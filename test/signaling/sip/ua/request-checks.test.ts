import { describe, expect, it } from 'vitest';
import { checkMaxForwards, checkOwnLoop, checkRequire, checkSessionInterval, maxForwards } from '../../../../signaling/sip/ua/request-checks.ts';
import type { SipHeader, SipRequest } from '../../../../signaling/sip/message/types.ts';

function req(headers: [string, string][], method = 'INVITE'): SipRequest {
  const hs: SipHeader[] = headers.map(([name, value]) => ({ name, value }));
  return { kind: 'request', method, uri: 'sip:+12065550100@carillon.local', headers: hs, body: Buffer.alloc(0) };
}

describe('request checks', () => {
  it('Max-Forwards', () => {
    expect(maxForwards(req([]))).toBe(70);
    expect(maxForwards(req([['max-forwards', '7']]))).toBe(7);
    expect(checkMaxForwards(req([['max-forwards', '0']]))?.status).toBe(483);
    expect(checkMaxForwards(req([['max-forwards', '1']]))).toBeUndefined();
  });

  it('Require: unknown option tags → 420 with Unsupported', () => {
    const r = checkRequire(req([['require', 'timer, foo'], ['require', 'bar']]));
    expect(r?.status).toBe(420);
    expect(r?.headers).toEqual([{ name: 'unsupported', value: 'foo, bar' }]);
    expect(checkRequire(req([['require', '100rel, timer']]))).toBeUndefined();
    expect(checkRequire(req([['require', 'foo']], 'ACK'))).toBeUndefined();
  });

  it('own Via on top → 482', () => {
    const own = new Set(['127.0.0.1:5060']);
    expect(checkOwnLoop(req([['via', 'SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKx']]), own)?.status).toBe(482);
    expect(checkOwnLoop(req([['via', 'SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKx']]), own)?.status).toBe(482);
    expect(checkOwnLoop(req([['via', 'SIP/2.0/UDP 127.0.0.2:5060;branch=z9hG4bKx']]), own)).toBeUndefined();
  });

  it('Session-Expires below Min-SE → 422 with Min-SE (RFC 4028 §8.1)', () => {
    const r = checkSessionInterval(req([['session-expires', '60']]), 90);
    expect(r?.status).toBe(422);
    expect(r?.headers).toEqual([{ name: 'min-se', value: '90' }]);
    expect(checkSessionInterval(req([['session-expires', '90']]), 90)).toBeUndefined();
    expect(checkSessionInterval(req([]), 90)).toBeUndefined();
  });
});
