import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readSdp } from '../../../signaling/sdp/anchor.ts';
import { answerSdp, chooseAudio } from '../../../signaling/calls/meeting-sdp.ts';

const mixable = (c: string): boolean => ['PCMU', 'PCMA', 'G722', 'OPUS'].includes(c);
const local = { address: '127.0.0.1', port: 30000, sessionId: '1', version: 1 };

/** A description assembled from random parts, some of them hostile. */
const description = fc
  .record({
    lines: fc.array(
      fc.record({
        type: fc.constantFrom('audio', 'video', 'application', 'x'),
        port: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 65535 }), fc.integer({ min: 65536, max: 99999 })),
        proto: fc.constantFrom('RTP/AVP', 'RTP/SAVP', 'UDP/BFCP', ''),
        pts: fc.array(fc.integer({ min: 0, max: 200 }), { minLength: 0, maxLength: 6 }),
        codec: fc.constantFrom('PCMU/8000', 'PCMA/8000', 'G722/8000', 'opus/48000/2', 'telephone-event/8000', 'H264/90000', 'x', ''),
        crypto: fc.boolean(),
        junk: fc.string({ maxLength: 40 }),
      }),
      { minLength: 1, maxLength: 5 },
    ),
  })
  .map(({ lines }) =>
    [
      'v=0',
      'o=x 1 1 IN IP4 127.0.0.1',
      's=-',
      'c=IN IP4 127.0.0.1',
      't=0 0',
      ...lines.flatMap((l) => [
        `m=${l.type} ${l.port} ${l.proto} ${l.pts.join(' ')}`,
        ...l.pts.map((p) => `a=rtpmap:${p} ${l.codec}`),
        ...(l.crypto ? ['a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVzcyAo'] : []),
        `a=${l.junk.replace(/[\r\n]/g, '')}`,
      ]),
      '',
    ].join('\r\n'),
  );

describe('meeting SDP: any offer', () => {
  it('is answered with a description Carillon can read back, or refused with 488; never a throw', () => {
    fc.assert(
      fc.property(description, (text) => {
        const desc = readSdp(text);
        if (desc === undefined) return;
        const chosen = chooseAudio(desc, mixable);
        if ('status' in chosen) {
          expect(chosen.status).toBe(488);
          return;
        }
        expect(mixable(chosen.codec)).toBe(true);
        const answer = readSdp(answerSdp(desc, chosen, local));
        expect(answer?.media.length).toBe(desc.media.length);
        expect(answer?.media[chosen.index]?.port).toBe(local.port);
        for (const m of answer?.media ?? []) if (m.index !== chosen.index) expect(m.port).toBe(0);
      }),
      { numRuns: 1500 },
    );
  });
});
