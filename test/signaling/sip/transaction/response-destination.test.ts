import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isIpLiteral, isUsablePort } from '../../../../common/net-values.ts';
import { parseVia } from '../../../../signaling/sip/message/via.ts';
import { responseDestination } from '../../../../signaling/sip/transaction/response-destination.ts';
import type { Source } from '../../../../signaling/sip/transport/types.ts';

const src: Source = { transport: 'udp', address: '127.0.0.1', port: 40000, localAddress: '127.0.0.1', localPort: 5060 };
const dest = (via: string) => {
  const v = parseVia(via);
  if (v === undefined) throw new Error(`unparsed: ${via}`);
  return responseDestination(v, src);
};

describe('where a response goes (RFC 3261 §18.2.2, RFC 3581 §4)', () => {
  it('received with rport, received alone, sent-by alone', () => {
    expect(dest('SIP/2.0/UDP 10.0.0.1:5080;branch=z9hG4bKx;received=127.0.0.9;rport=4444')).toEqual({ transport: 'udp', address: '127.0.0.9', port: 4444 });
    expect(dest('SIP/2.0/UDP 10.0.0.1:5080;branch=z9hG4bKx;received=127.0.0.9')).toEqual({ transport: 'udp', address: '127.0.0.9', port: 5080 });
    expect(dest('SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bKx')).toEqual({ transport: 'udp', address: '127.0.0.1', port: 5080 });
    expect(dest('SIP/2.0/TLS 127.0.0.1;branch=z9hG4bKx')).toEqual({ transport: 'udp', address: '127.0.0.1', port: 5061 });
  });

  it('a rport or received no socket can use falls back to the source', () => {
    expect(dest('SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bKx;rport=0')).toEqual({ transport: 'udp', address: '127.0.0.1', port: 5080 });
    expect(dest('SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bKx;rport=70000')).toEqual({ transport: 'udp', address: '127.0.0.1', port: 5080 });
    expect(dest('SIP/2.0/UDP 10.0.0.1:5080;branch=z9hG4bKx;received=evil.example;rport=1234')).toEqual({ transport: 'udp', address: '127.0.0.1', port: 40000 });
    expect(dest('SIP/2.0/UDP evil.example:5080;branch=z9hG4bKx')).toEqual({ transport: 'udp', address: '127.0.0.1', port: 40000 });
    expect(dest('SIP/2.0/UDP [::1]:5080;branch=z9hG4bKx;received=[::1]')).toEqual({ transport: 'udp', address: '::1', port: 5080 });
  });

  it('a Via port of 0 or above 65535 does not parse (the request is a 400)', () => {
    expect(parseVia('SIP/2.0/UDP 127.0.0.1:0;branch=z9hG4bKx')).toBeUndefined();
    expect(parseVia('SIP/2.0/UDP 127.0.0.1:65536;branch=z9hG4bKx')).toBeUndefined();
    expect(parseVia('SIP/2.0/UDP 127.0.0.1:65535;branch=z9hG4bKx')?.port).toBe(65535);
  });

  it('property: whatever a Via says, the destination is an IP literal and a usable port', () => {
    const host = fc.constantFrom('127.0.0.1', '10.1.2.3', '[::1]', 'evil.example', 'a-b.c', '999.1.1.1');
    const param = fc.oneof(
      fc.constant(''),
      fc.string({ maxLength: 8 }).map((v) => `;rport=${v}`),
      fc.integer({ min: -5, max: 100_000 }).map((n) => `;rport=${n}`),
      fc.constantFrom(';rport', ';received=127.0.0.2', ';received=evil.example', ';received=', ';received=[::1]', ';maddr=224.0.0.1'),
    );
    fc.assert(
      fc.property(host, fc.option(fc.integer({ min: 0, max: 70_000 })), fc.array(param, { maxLength: 3 }), (h, port, params) => {
        const v = parseVia(`SIP/2.0/UDP ${h}${port === null ? '' : `:${port}`};branch=z9hG4bKp${params.join('')}`);
        if (v === undefined) return;
        const d = responseDestination(v, src);
        expect(isIpLiteral(d.address)).toBe(true);
        expect(isUsablePort(d.port)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});
