import { describe, expect, it } from 'vitest';
import { answerBfcpOffer, type BfcpAnswerParams, floorMediaIndex, readBfcpSdp } from '../../../signaling/bfcp/sdp.ts';

const crlf = (lines: string[]): string => lines.join('\r\n') + '\r\n';

/** Poly Group Series style: UDP/BFCP first, floor control either way, content line labelled 3. */
const POLY_GROUP = crlf([
  'v=0',
  'o=GroupSeries 1728489121 0 IN IP4 198.51.100.20',
  's=-',
  'c=IN IP4 198.51.100.20',
  'b=AS:2048',
  't=0 0',
  'm=audio 49152 RTP/AVP 115 102 9 0 8 101',
  'a=rtpmap:115 G7221/32000',
  'a=fmtp:115 bitrate=48000',
  'a=rtpmap:102 G7221/16000',
  'a=rtpmap:9 G722/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=sendrecv',
  'm=video 49154 RTP/AVP 109 96',
  'b=TIAS:1920000',
  'a=rtpmap:109 H264/90000',
  'a=fmtp:109 profile-level-id=428016;max-mbps=245000;max-fs=8160;packetization-mode=1',
  'a=rtpmap:96 H263-1998/90000',
  'a=rtcp-fb:* ccm fir',
  'a=content:main',
  'a=label:1',
  'a=sendrecv',
  'm=application 49156 UDP/BFCP *',
  'a=floorctrl:c-s',
  'a=setup:actpass',
  'a=connection:new',
  'm=video 49158 RTP/AVP 109',
  'a=rtpmap:109 H264/90000',
  'a=fmtp:109 profile-level-id=428016;max-mbps=245000;max-fs=8160;packetization-mode=1',
  'a=content:slides',
  'a=label:3',
  'a=sendrecv',
]);

/** Polycom HDX style: TCP/BFCP, RFC 4583 attributes, the content line after the BFCP one. */
const POLYCOM_HDX_TCP = crlf([
  'v=0',
  'o=- 1 1 IN IP4 203.0.113.5',
  's=Polycom IP Call',
  'c=IN IP4 203.0.113.5',
  't=0 0',
  'm=audio 3230 RTP/AVP 9 0 8 101',
  'a=rtpmap:101 telephone-event/8000',
  'm=video 3232 RTP/AVP 109',
  'a=rtpmap:109 H264/90000',
  'a=label:1',
  'm=application 3238 TCP/BFCP *',
  'a=floorctrl:c-only s-only',
  'a=setup:active',
  'a=connection:new',
  'a=floorid:2 m-stream:3',
  'm=video 3234 RTP/AVP 109',
  'a=rtpmap:109 H264/90000',
  'a=content:slides',
  'a=label:3',
]);

/** Cisco CE (Webex Room) style: UDP/BFCP, both versions, its own confid/userid/floorid. */
const CISCO_CE = crlf([
  'v=0',
  'o=tandberg 0 1 IN IP4 192.0.2.44',
  's=-',
  'c=IN IP4 192.0.2.44',
  'b=AS:6000',
  't=0 0',
  'm=audio 2326 RTP/AVP 108 9 0 8 101',
  'a=rtpmap:108 MP4A-LATM/90000',
  'a=rtpmap:101 telephone-event/8000',
  'm=video 2328 RTP/AVP 97 98',
  'a=rtpmap:97 H264/90000',
  'a=content:main',
  'a=label:11',
  'm=video 2330 RTP/AVP 97',
  'a=rtpmap:97 H264/90000',
  'a=content:slides',
  'a=label:12',
  'm=application 5070 UDP/BFCP *',
  'c=IN IP4 192.0.2.45',
  'a=floorctrl:c-s',
  'a=confid:1',
  'a=floorid:2 mstrm:12',
  'a=userid:1',
  'a=bfcpver:1 2',
  'm=application 2332 RTP/AVP 125',
  'a=rtpmap:125 H224/4800',
]);

const PARAMS: BfcpAnswerParams = { port: 6000, conferenceId: 1_000_017, userId: 3, contentLabel: 'carillon-content' };

describe('readBfcpSdp (RFC 8856)', () => {
  it.each([
    [
      'Poly Group Series, UDP',
      POLY_GROUP,
      { mediaIndex: 2, port: 49156, proto: 'UDP/BFCP', address: '198.51.100.20', floorctrl: ['c-s'], confId: undefined, userId: undefined, floors: [], versions: [], setup: 'actpass', connection: 'new' },
      3,
    ],
    [
      'Polycom HDX, TCP, RFC 4583 m-stream',
      POLYCOM_HDX_TCP,
      { mediaIndex: 2, port: 3238, proto: 'TCP/BFCP', floorctrl: ['c-only', 's-only'], floors: [{ floorId: 2, mstrm: ['3'] }], setup: 'active', versions: [] },
      3,
    ],
    [
      'Cisco CE, UDP, bfcpver 1 2, media c=',
      CISCO_CE,
      { mediaIndex: 3, port: 5070, proto: 'UDP/BFCP', address: '192.0.2.45', floorctrl: ['c-s'], confId: 1, userId: 1, floors: [{ floorId: 2, mstrm: ['12'] }], versions: [1, 2], setup: undefined },
      2,
    ],
  ])('%s', (_name, sdp, expected, contentIndex) => {
    const read = readBfcpSdp(sdp);
    expect(read.bfcp).toMatchObject(expected);
    const floorId = read.bfcp?.floors[0]?.floorId ?? 1;
    expect(floorMediaIndex(read, floorId)).toBe(contentIndex);
  });

  it('no BFCP line, a floorctrl left out (c-only, §4), and values out of range', () => {
    expect(readBfcpSdp(crlf(['v=0', 'm=audio 1 RTP/AVP 0'])).bfcp).toBeUndefined();
    const read = readBfcpSdp(crlf(['v=0', 'c=IN IP4 192.0.2.1', 'm=application 9 TCP/BFCP *', 'a=confid:99999999999', 'a=userid:70000', 'a=floorid:x mstrm:1', 'a=bfcpver:2 banana']));
    expect(read.bfcp).toMatchObject({ floorctrl: ['c-only'], confId: undefined, userId: undefined, floors: [], versions: [2] });
  });
});

describe('answerBfcpOffer (RFC 8856 §4 Table 1, RFC 4145)', () => {
  it.each([
    [
      'Poly UDP c-s → s-only, version 2, no setup',
      POLY_GROUP,
      { ok: true, transport: 'udp', version: 2, setup: undefined },
      ['m=application 6000 UDP/BFCP *', 'a=floorctrl:s-only', 'a=confid:1000017', 'a=userid:3', 'a=floorid:1 mstrm:carillon-content'],
    ],
    [
      'HDX TCP active → passive, version 1 (no bfcpver: RFC 4582)',
      POLYCOM_HDX_TCP,
      { ok: true, transport: 'tcp', version: 1, setup: 'passive' },
      ['m=application 6000 TCP/BFCP *', 'a=floorctrl:s-only', 'a=confid:1000017', 'a=userid:3', 'a=floorid:1 mstrm:carillon-content', 'a=setup:passive', 'a=connection:new'],
    ],
    [
      'Cisco UDP bfcpver 1 2 → 2',
      CISCO_CE,
      { ok: true, transport: 'udp', version: 2 },
      ['m=application 6000 UDP/BFCP *', 'a=floorctrl:s-only', 'a=confid:1000017', 'a=userid:3', 'a=floorid:1 mstrm:carillon-content', 'a=bfcpver:2'],
    ],
  ])('%s', (_name, sdp, expected, lines) => {
    const offer = readBfcpSdp(sdp).bfcp;
    expect(offer).toBeDefined();
    if (offer === undefined) return;
    const a = answerBfcpOffer(offer, PARAMS);
    expect(a).toMatchObject(expected);
    expect(a.lines).toEqual(lines);
  });

  const offer = (lines: string[]) => {
    const o = readBfcpSdp(crlf(['v=0', 'c=IN IP4 192.0.2.1', ...lines])).bfcp;
    if (o === undefined) throw new Error('no BFCP line');
    return o;
  };

  it.each([
    ['TCP actpass → passive', ['m=application 9 TCP/BFCP *', 'a=setup:actpass'], { ok: true, setup: 'passive' }],
    ['TCP passive → active (Carillon connects)', ['m=application 9 TCP/BFCP *', 'a=setup:passive'], { ok: true, setup: 'active' }],
    ['TCP without setup → passive', ['m=application 9 TCP/BFCP *'], { ok: true, setup: 'passive' }],
    ['TCP bfcpver 2 → 2', ['m=application 9 TCP/BFCP *', 'a=bfcpver:2'], { ok: true, version: 2 }],
    ['an offerer that is only a server', ['m=application 9 TCP/BFCP *', 'a=floorctrl:s-only'], { ok: false, reason: 'no-server-role', lines: ['m=application 0 TCP/BFCP *'] }],
    ['TLS', ['m=application 9 TCP/TLS/BFCP *', 'a=floorctrl:c-s'], { ok: false, reason: 'tls-unsupported', lines: ['m=application 0 TCP/TLS/BFCP *'] }],
    ['DTLS', ['m=application 9 UDP/TLS/BFCP *'], { ok: false, reason: 'tls-unsupported' }],
    ['UDP version 1 only', ['m=application 9 UDP/BFCP *', 'a=bfcpver:1'], { ok: false, reason: 'no-common-version' }],
    ['port 0 (the line refused or removed)', ['m=application 0 UDP/BFCP *'], { ok: false, reason: 'port-zero' }],
  ])('%s', (_name, lines, expected) => {
    expect(answerBfcpOffer(offer(lines), PARAMS)).toMatchObject(expected);
  });

  it('takes the floor id it is given', () => {
    const a = answerBfcpOffer(offer(['m=application 9 UDP/BFCP *']), { ...PARAMS, floorId: 7 });
    expect(a.lines).toContain('a=floorid:7 mstrm:carillon-content');
  });
});
