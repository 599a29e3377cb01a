import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { redactSip } from '../../metrics/sip-log.ts';

describe('SIP message log redaction', () => {
  it('replaces Authorization and Proxy-Authorization values, whatever their case or form', () => {
    const msg = 'INVITE sip:+1@x SIP/2.0\r\nProxy-Authorization: Digest username="pbx", response="abc"\r\nauthorization:Digest username="u"\r\nCall-ID: 1\r\n\r\n';
    const out = redactSip(msg);
    expect(out).toContain('Proxy-Authorization: <redacted>\r\n');
    expect(out).toContain('authorization: <redacted>\r\n');
    expect(out).not.toMatch(/username|response/);
    expect(out).toContain('Call-ID: 1');
  });

  it('never lets a header value after Authorization: through', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }).filter((v) => !/[\r\n]/.test(v) && v.trim() !== '<redacted>'), (secret) => {
        const out = redactSip(`OPTIONS sip:x SIP/2.0\r\nAuthorization: ${secret}\r\n\r\n`);
        expect(out).toContain('Authorization: <redacted>');
        if (secret.length > 12) expect(out).not.toContain(secret);
      }),
      { numRuns: 500 },
    );
  });
});
