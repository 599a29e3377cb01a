import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isIpLiteral } from '../../../common/net-values.ts';
import { anchorSdp, commonCodecs, readSdp } from '../../../signaling/sdp/anchor.ts';

const OFFER = [
  'v=0',
  'o=- 20518 0 IN IP4 192.0.2.10',
  's=-',
  'c=IN IP4 192.0.2.10',
  't=0 0',
  'm=audio 40000 RTP/AVP 0 8 101',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-16',
  'a=sendonly',
  'm=video 40002 RTP/AVP 96',
  'c=IN IP4 192.0.2.11',
  'a=rtpmap:96 H264/90000',
  'a=rtcp-mux',
  '',
].join('\r\n');

describe('SDP anchoring', () => {
  it('reads media lines: addresses, ports, RTCP, direction, codecs', () => {
    const s = readSdp(OFFER);
    expect(s?.media).toHaveLength(2);
    const [a, v] = s!.media;
    expect(a).toMatchObject({ type: 'audio', address: '192.0.2.10', port: 40000, rtcpPort: 40001, rtcpMux: false, direction: 'sendonly', payloads: [0, 8, 101] });
    expect(a!.codecs.get(0)).toEqual({ name: 'PCMU', clockRateHz: 8000 });
    expect(a!.codecs.get(101)).toEqual({ name: 'TELEPHONE-EVENT', clockRateHz: 8000 });
    expect(v).toMatchObject({ address: '192.0.2.11', port: 40002, rtcpPort: 40002, rtcpMux: true });
    expect(v!.codecs.get(96)).toEqual({ name: 'H264', clockRateHz: 90000 });
  });

  it('rewrites every address and port to Carillon, keeping codecs and direction', () => {
    const out = anchorSdp(OFFER, { address: '203.0.113.5', ports: [10000, 10002] });
    expect(out).toBeDefined();
    expect(out).not.toContain('192.0.2.');
    const s = readSdp(out!);
    expect(s!.media.map((m) => [m.address, m.port, m.rtcpPort, m.direction])).toEqual([
      ['203.0.113.5', 10000, 10001, 'sendonly'],
      ['203.0.113.5', 10002, 10002, 'sendrecv'],
    ]);
    expect(out).toContain('a=fmtp:101 0-16');
  });

  it('a zero port rejects a media line', () => {
    const s = readSdp(anchorSdp(OFFER, { address: '203.0.113.5', ports: [10000] })!);
    expect(s!.media[1]!.port).toBe(0);
  });

  it('refuses a line whose RTCP port is 0 or past 65535, or whose address is a name (no DNS per packet)', () => {
    const one = (media: string, c = 'c=IN IP4 192.0.2.1') => readSdp(['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', c, 't=0 0', media, ''].join('\r\n'));
    expect(one('m=audio 4000 RTP/AVP 0')).toBeDefined();
    expect(one('m=audio 4000 RTP/AVP 0\r\na=rtcp:0')).toBeUndefined();
    expect(one('m=audio 65535 RTP/AVP 0')).toBeUndefined();
    expect(one('m=audio 65535 RTP/AVP 0\r\na=rtcp-mux')).toBeDefined();
    expect(one('m=audio 4000 RTP/AVP 0', 'c=IN IP4 media.example')).toBeUndefined();
    // A rejected line needs no address.
    expect(one('m=audio 0 RTP/AVP 0', 'c=IN IP4 media.example')).toBeDefined();
  });

  it('intersects codecs by name and rate, in the answerer’s order', () => {
    const offer = readSdp(OFFER)!.media[0]!;
    const answer = readSdp('v=0\r\no=- 1 1 IN IP4 1.1.1.1\r\ns=-\r\nc=IN IP4 1.1.1.1\r\nt=0 0\r\nm=audio 5000 RTP/AVP 8 9 96\r\na=rtpmap:96 telephone-event/8000\r\n')!.media[0]!;
    expect(commonCodecs(offer, answer)).toEqual([8, 96]);
  });

  it('never throws on random text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), (t) => {
        readSdp(t);
        anchorSdp(t, { address: '127.0.0.1', ports: [10000] });
      }),
      { numRuns: 2000 },
    );
  });

  it('mutated descriptions either read into sane numbers or are refused, never throw', () => {
    const base = ['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0', 'm=audio 4000 RTP/AVP 0 101', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', 'a=rtcp:4001', 'a=sendrecv', 'm=video 5000 RTP/AVP 96', 'a=rtpmap:96 H264/90000'];
    const junk = fc.oneof(fc.constantFrom('-1', '70000', 'abc', '', '4000/2', '1e9', 'NaN', '0x10', '99999999999999999999'), fc.string({ maxLength: 12 }));
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(base.length - 1), fc.nat(3), junk), { maxLength: 6 }), (edits) => {
        const lines = [...base];
        for (const [i, kind, j] of edits) {
          const line = lines[i % lines.length] ?? '';
          if (kind === 0) lines.splice(i % lines.length, 1);
          else if (kind === 1) lines.splice(i % lines.length, 0, line);
          else lines[i % lines.length] = line.replace(/\d+/, j);
        }
        const text = `${lines.join('\r\n')}\r\n`;
        const d = readSdp(text);
        for (const m of d?.media ?? []) {
          expect(Number.isInteger(m.port) && m.port >= 0 && m.port <= 65535).toBe(true);
          expect(Number.isInteger(m.rtcpPort) && m.rtcpPort >= 0 && m.rtcpPort <= 65535).toBe(true);
          // A line that is not rejected names ports and an address a socket can send to.
          if (m.port !== 0) {
            expect(m.rtcpPort).toBeGreaterThanOrEqual(1);
            if (m.address !== undefined) expect(isIpLiteral(m.address)).toBe(true);
          }
          for (const p of m.payloads) expect(Number.isInteger(p)).toBe(true);
        }
        anchorSdp(text, { address: '127.0.0.1', ports: [10000, 10002] });
      }),
      { numRuns: 20_000 },
    );
  });
});
