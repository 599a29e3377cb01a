import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StreamFramer } from '../../../../signaling/sip/message/framer.ts';
import { getHeader, getHeaderValues } from '../../../../signaling/sip/message/headers.ts';
import { getTag, parseNameAddr, writeNameAddr } from '../../../../signaling/sip/message/name-addr.ts';
import { parseMessage } from '../../../../signaling/sip/message/parse.ts';
import { serializeMessage } from '../../../../signaling/sip/message/serialize.ts';
import { parseUri, writeUri } from '../../../../signaling/sip/message/uri.ts';
import { parseVia, writeVia } from '../../../../signaling/sip/message/via.ts';

const INVITE =
  'INVITE sip:+12065550100@127.0.0.1:5060;user=phone SIP/2.0\r\n' +
  'v: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1;rport, SIP/2.0/TCP [::1]:5080;branch=z9hG4bK2\r\n' +
  'Max-Forwards: 70\r\n' +
  'f: "Alice \\"A\\"" <sip:alice@127.0.0.1>;tag=abc\r\n' +
  't: <sip:+12065550100@127.0.0.1>\r\n' +
  'i: call-1@test\r\n' +
  'CSeq: 1 INVITE\r\n' +
  'm: <sip:alice@127.0.0.1:5070>\r\n' +
  'Subject     : folded\r\n   value\r\n' +
  'X-Custom: kept ; verbatim\r\n' +
  'c: application/sdp\r\n' +
  'l: 4\r\n\r\n' +
  'v=0\r\nEXTRA';

describe('parseMessage', () => {
  it('parses compact names, folding, lists and a Content-Length-bounded body', () => {
    const r = parseMessage(Buffer.from(INVITE, 'latin1'));
    expect(r.ok).toBe(true);
    if (!r.ok || r.message.kind !== 'request') return;
    const m = r.message;
    expect(m.method).toBe('INVITE');
    expect(m.uri).toBe('sip:+12065550100@127.0.0.1:5060;user=phone');
    expect(getHeaderValues(m, 'via')).toHaveLength(2);
    expect(getHeader(m, 'call-id')).toBe('call-1@test');
    expect(getHeader(m, 'subject')).toBe('folded value');
    expect(getHeader(m, 'x-custom')).toBe('kept ; verbatim');
    expect(m.body.toString()).toBe('v=0\r');
    expect(parseNameAddr(getHeader(m, 'from') ?? '')?.displayName).toBe('Alice "A"');
  });

  it('round-trips through serialize', () => {
    const r = parseMessage(Buffer.from(INVITE, 'latin1'));
    if (!r.ok) throw new Error('parse');
    const again = parseMessage(serializeMessage(r.message));
    expect(again.ok && again.message).toEqual(r.message);
  });

  it.each([
    ['INVITE sip:a@b SIP/3.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\r\n', 505],
    [INVITE.replace('CSeq: 1 INVITE', 'CSeq: 1 BYE'), 400],
    [INVITE.replace('i: call-1@test\r\n', ''), 400],
    [INVITE.replace('l: 4', 'l: 400'), 400],
    [INVITE.replace('sip:+12065550100@127.0.0.1:5060;user=phone', 'http://x'), 416],
    [INVITE.replace('v: SIP/2.0/UDP 127.0.0.1:5070', 'v: SIP/2.0 127.0.0.1:5070'), 400],
  ])('rejects a bad request with the right status (%#)', (text, status) => {
    const r = parseMessage(Buffer.from(text, 'latin1'));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.status).toBe(status);
      expect(r.partial?.method).toBe('INVITE');
    }
  });

  it('413 past the size limit', () => {
    const r = parseMessage(Buffer.from(INVITE + 'x'.repeat(100), 'latin1'), { maxBytes: 200 });
    expect(!r.ok && r.status).toBe(413);
  });

  it('never throws on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (u) => {
        parseMessage(Buffer.from(u));
      }),
      { numRuns: 3000 },
    );
  });

  it('never throws on mutated messages', () => {
    const base = Buffer.from(INVITE, 'latin1');
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 10 }), (edits) => {
        const b = Buffer.from(base);
        for (const [i, v] of edits) b[i] = v;
        const r = parseMessage(b);
        if (r.ok) serializeMessage(r.message);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('URIs, name-addr, Via', () => {
  it.each([
    'sip:alice@example.com',
    'sips:alice:pw@example.com:5061;transport=tls?subject=x',
    'sip:+1-206-555-0100;isub=1@[2001:db8::1]:5060;user=phone',
    'tel:+12065550100;phone-context=+1',
    'sip:j%40s0n@example.com',
  ])('round-trips %s', (u) => {
    const p = parseUri(u);
    expect(p).toBeDefined();
    expect(writeUri(p!)).toBe(u.replace('[2001:db8::1]', '[2001:db8::1]'));
  });

  it.each(['sip:', 'sip:@host', 'sip:user@', 'sip:a@b:99999', 'sip:a b@c', 'sip:a@b%2'])('rejects %s', (u) => {
    expect(parseUri(u)).toBeUndefined();
  });

  it('name-addr forms and tags', () => {
    expect(parseNameAddr('sip:a@b;tag=1')).toEqual({ uri: 'sip:a@b', params: new Map([['tag', '1']]) });
    expect(parseNameAddr('Bob <sip:b@c;lr>;tag=9')?.displayName).toBe('Bob');
    expect(parseNameAddr('<sip:b@c;lr>')?.uri).toBe('sip:b@c;lr');
    expect(parseNameAddr('"unterminated <sip:a@b>')).toBeUndefined();
    expect(getTag('<sip:a@b;tag=uri>;tag=hdr')).toBe('hdr');
    expect(getTag('<sip:a@b;tag=uri>')).toBeUndefined();
    expect(writeNameAddr({ displayName: 'A "B"', uri: 'sip:a@b', params: new Map([['tag', 'x']]) })).toBe('"A \\"B\\"" <sip:a@b>;tag=x');
  });

  it('Via with received/rport', () => {
    const v = parseVia('SIP / 2.0 / udp 192.0.2.1:5060 ; branch=z9hG4bK77;rport');
    expect(v?.transport).toBe('UDP');
    expect(v?.port).toBe(5060);
    expect(v?.params.get('rport')).toBeNull();
    v!.params.set('received', '127.0.0.1');
    expect(writeVia(v!)).toBe('SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK77;rport;received=127.0.0.1');
  });
});

describe('StreamFramer', () => {
  const two = Buffer.from(INVITE.replace('l: 4', 'l: 5').replace('EXTRA', '') + 'OPTIONS sip:x@y SIP/2.0\r\nContent-Length: 0\r\n\r\n', 'latin1');

  function frame(chunks: Buffer[]): string[] {
    const out: string[] = [];
    const f = new StreamFramer({ onMessage: (m) => out.push(m.toString('latin1')), onError: (r) => out.push(`ERR ${r}`) });
    for (const c of chunks) f.push(c);
    return out;
  }

  it('frames coalesced messages', () => {
    const out = frame([two]);
    expect(out).toHaveLength(2);
    expect(out[1]).toMatch(/^OPTIONS /);
  });

  it('frames identically at any split points', () => {
    const whole = frame([two]);
    fc.assert(
      fc.property(fc.array(fc.nat(two.length), { maxLength: 20 }), (cuts) => {
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        const chunks: Buffer[] = [];
        let prev = 0;
        for (const p of points) {
          chunks.push(two.subarray(prev, p));
          prev = p;
        }
        chunks.push(two.subarray(prev));
        expect(frame(chunks)).toEqual(whole);
      }),
      { numRuns: 2000 },
    );
  });

  it('reports keep-alives and fails on a bad Content-Length', () => {
    let pings = 0;
    const errs: string[] = [];
    const f = new StreamFramer({ onMessage: () => undefined, onKeepAlive: () => pings++, onError: (r) => errs.push(r) });
    f.push(Buffer.from('\r\n\r\n'));
    f.push(Buffer.from('INVITE sip:a@b SIP/2.0\r\nContent-Length: x\r\n\r\n'));
    expect(pings).toBe(1);
    expect(errs).toEqual(['Bad Content-Length']);
  });

  it('fails on a header section over the limit', () => {
    const errs: string[] = [];
    const f = new StreamFramer({ maxMessageBytes: 100, onMessage: () => undefined, onError: (r) => errs.push(r) });
    f.push(Buffer.from('INVITE sip:a@b SIP/2.0\r\n' + 'X: y\r\n'.repeat(40)));
    expect(errs).toEqual(['Header section too large']);
  });
});
