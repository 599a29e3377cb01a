import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseMessage } from '../../../../signaling/sip/message/parse.ts';

const base = (extra = '', callId = 'a84b4c76e66710@pc33.example.com'): string =>
  'OPTIONS sip:carol@chicago.example.com SIP/2.0\r\nVia: SIP/2.0/UDP pc33.example.com;branch=z9hG4bKhjhs8ass877\r\nMax-Forwards: 70\r\n' +
  `To: <sip:carol@chicago.example.com>\r\nFrom: Alice <sip:alice@example.com>;tag=1928301774\r\nCall-ID: ${callId}\r\nCSeq: 63104 OPTIONS\r\n${extra}Content-Length: 0\r\n\r\n`;

const parse = (text: string) => parseMessage(Buffer.from(text, 'latin1'));
const fault = (text: string): string | undefined => {
  const r = parse(text);
  return r.ok ? undefined : `${r.status} ${r.reason}`;
};

describe('request validation a peer cannot get around', () => {
  it('a single-valued header given twice is a 400; list headers may repeat', () => {
    expect(fault(base())).toBeUndefined();
    expect(fault(base('Max-Forwards: abc\r\n'))).toBe('400 Multiple max-forwards headers');
    expect(fault(base('Expires: 60\r\nExpires: 3600\r\n'))).toBe('400 Multiple expires headers');
    expect(fault(base('Content-Type: application/sdp\r\nc: text/plain\r\n'))).toBe('400 Multiple content-type headers');
    expect(fault(base('Supported: timer\r\nSupported: 100rel\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKzz\r\n'))).toBeUndefined();
  });

  it('Call-ID: visible ASCII only, at most 256 characters', () => {
    expect(fault(base('', 'ab\u0000cd'))).toMatch(/^400 /);
    expect(fault(base('', 'x'.repeat(257)))).toBe('400 Bad Call-ID header');
    expect(fault(base('', 'x'.repeat(256)))).toBeUndefined();
    expect(fault(base('', "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{"))).toBeUndefined();
  });

  it('bare control characters in any header are a 400; a quoted-pair may escape one (RFC 4475 §3.1.1.3)', () => {
    expect(fault(base('Subject: a\u0001b\r\n'))).toBe('400 Control character in header');
    expect(fault(base('Subject: a\u007fb\r\n'))).toBe('400 Control character in header');
    expect(fault(base('Subject: a\rb\r\n'))).toBe('400 Control character in header');
    expect(fault(base('Subject: a\tb\r\n'))).toBeUndefined();
    expect(fault(base().replace('To: <sip:carol', 'To: "NUL:\\\u0000" <sip:carol'))).toBeUndefined();
  });

  it('Contact, Route and Record-Route URIs must name usable ports', () => {
    expect(fault(base('Contact: <sip:alice@127.0.0.1:0>\r\n'))).toBe('400 Bad Contact header');
    expect(fault(base('Contact: <sip:alice@127.0.0.1:65536>\r\n'))).toBe('400 Bad Contact header');
    expect(fault(base('Route: <sip:127.0.0.1:0;lr>\r\n'))).toBe('400 Bad Route header');
    expect(fault(base('Record-Route: <sip:p1.example.com;lr>, <sip:127.0.0.1:0;lr>\r\n'))).toBe('400 Bad Record-Route header');
    expect(fault(base('Contact: <sip:alice@127.0.0.1:5060>;expires=60\r\nRoute: <sip:p1.example.com;lr>\r\n'))).toBeUndefined();
    expect(fault(base('Contact: <mailto:alice@example.com>\r\n'))).toBeUndefined();
  });

  it('a response with an unusable Contact is not an answer Carillon acts on', () => {
    const res = 'SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKx\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\nContact: <sip:c@127.0.0.1:0>\r\nContent-Length: 0\r\n\r\n';
    expect(parse(res).ok).toBe(false);
    expect(parse(res.replace(':0>', ':5070>')).ok).toBe(true);
  });

  it('property: a header line with any one control byte spliced in is refused or quoted, never accepted bare', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 31 }).filter((b) => b !== 9 && b !== 10 && b !== 13), fc.nat(), (b, at) => {
        const msg = base();
        const lines = msg.split('\r\n');
        const i = 1 + (at % 7);
        const line = lines[i] ?? '';
        const pos = line.indexOf(':') + 2 + (at % 3);
        lines[i] = line.slice(0, pos) + String.fromCharCode(b) + line.slice(pos);
        const r = parse(lines.join('\r\n'));
        expect(r.ok).toBe(false);
      }),
      { numRuns: 500 },
    );
  });
});
