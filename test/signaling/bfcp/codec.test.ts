import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ATTR, type BfcpAttribute, BFCP_MAX_NESTING, readUnknownTypesDetails } from '../../../signaling/bfcp/attributes.ts';
import {
  BFCP_HEADER_BYTES,
  type CommonHeader,
  ERROR_CODE_OF_PARSE_ERROR,
  parseCommonHeader,
  PRIMITIVE,
  primitiveName,
  writeCommonHeader,
} from '../../../signaling/bfcp/common-header.ts';
import { FragmentReassembler, fragmentMessage } from '../../../signaling/bfcp/fragments.ts';
import {
  encodeMessage,
  errorCodeAttr,
  groupAttr,
  type OutgoingMessage,
  parseMessage,
  priorityAttr,
  requestStatusAttr,
  textAttr,
  u16Attr,
} from '../../../signaling/bfcp/messages.ts';
import { base, CORPUS } from './corpus.ts';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('COMMON-HEADER (RFC 8855 §5.1)', () => {
  it('reads the fields of a hand-built header', () => {
    const r = parseCommonHeader(hex('40 0b 0000 01020304 0506 0708'));
    expect(r).toEqual({
      ok: true,
      value: { version: 2, responder: false, fragmented: false, primitive: 11, payloadWords: 0, conferenceId: 0x01020304, transactionId: 0x0506, userId: 0x0708, fragmentOffsetWords: 0, fragmentWords: 0 },
    });
  });

  it('reads R and F, and the fragment fields after the header when F is set', () => {
    const r = parseCommonHeader(hex('58 04 0010 00000001 0002 0003 0004 0005'));
    expect(r.ok && r.value).toMatchObject({ version: 2, responder: true, fragmented: true, payloadWords: 16, fragmentOffsetWords: 4, fragmentWords: 5 });
  });

  it('writes what it reads, 12 octets or 16 with F', () => {
    const h: CommonHeader = { version: 2, responder: true, fragmented: true, primitive: 8, payloadWords: 300, conferenceId: 0xffffffff, transactionId: 65535, userId: 1, fragmentOffsetWords: 100, fragmentWords: 200 };
    const buf = Buffer.alloc(16);
    expect(writeCommonHeader(h, buf, 0)).toBe(16);
    expect(parseCommonHeader(buf)).toEqual({ ok: true, value: h });
    expect(writeCommonHeader({ ...h, fragmented: false }, buf, 0)).toBe(12);
  });

  it('refuses short input, versions other than 1 and 2, and F with version 1', () => {
    expect(parseCommonHeader(Buffer.alloc(11))).toMatchObject({ ok: false, code: 'truncated', header: undefined });
    const v3 = parseCommonHeader(hex('60 0b 0000 00000001 0002 0003'));
    expect(v3).toMatchObject({ ok: false, code: 'unsupported-version', errorCode: 12, header: { version: 3, conferenceId: 1, transactionId: 2, userId: 3 } });
    expect(parseCommonHeader(hex('28 0b 0000 00000001 0002 0003 0000 0000'))).toMatchObject({ ok: false, code: 'unsupported-version' });
    expect(parseCommonHeader(hex('48 0b 0000 00000001 0002 0003 00'))).toMatchObject({ ok: false, code: 'truncated' });
  });

  it('names the seventeen primitives', () => {
    expect(Array.from({ length: 19 }, (_, i) => primitiveName(i))).toEqual([
      undefined,
      'FloorRequest',
      'FloorRelease',
      'FloorRequestQuery',
      'FloorRequestStatus',
      'UserQuery',
      'UserStatus',
      'FloorQuery',
      'FloorStatus',
      'ChairAction',
      'ChairActionAck',
      'Hello',
      'HelloAck',
      'Error',
      'FloorRequestStatusAck',
      'FloorStatusAck',
      'Goodbye',
      'GoodbyeAck',
      undefined,
    ]);
  });
});

describe('messages (RFC 8855 §5.2, §5.3)', () => {
  it('encodes a FloorRequest octet for octet', () => {
    const m = encodeMessage({ ...base, primitive: PRIMITIVE.FloorRequest, attributes: [u16Attr(ATTR.FloorId, 1), textAttr(ATTR.ParticipantProvidedInfo, 'abc'), priorityAttr(3)] });
    // FLOOR-ID: type 2, M → 0x05, length 4; PPI: type 8, M → 0x11, length 5, three octets of padding; PRIORITY: 0x09, 4, prio 3 << 5.
    expect(m.toString('hex')).toBe(hex('40 01 0004 01020304 0506 0708  05 04 0001  11 05 616263 000000  09 04 6000').toString('hex'));
  });

  it.each(CORPUS.map((m) => [primitiveName(m.primitive), m] as const))('round-trips %s', (_name, m) => {
    const bytes = encodeMessage(m);
    expect(bytes.length % 4).toBe(0);
    const r = parseMessage(bytes);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.primitive).toBe(m.primitive);
    expect(r.value.header).toMatchObject({ version: 2, conferenceId: m.conferenceId, transactionId: m.transactionId, userId: m.userId, payloadWords: (bytes.length - 12) / 4 });
    expect(r.value.attributes).toEqual(m.attributes);
    expect(encodeMessage({ ...m, attributes: r.value.attributes })).toEqual(bytes);
  });

  it('reads version 1 (RFC 4582) messages', () => {
    const r = parseMessage(encodeMessage({ ...base, version: 1, primitive: PRIMITIVE.FloorRelease, attributes: [u16Attr(ATTR.FloorRequestId, 1)] }));
    expect(r.ok && r.value.header.version).toBe(1);
  });

  it('skips an unknown attribute without M and keeps it', () => {
    const bytes = encodeMessage({ ...base, primitive: PRIMITIVE.Hello, attributes: [{ kind: 'unknown', type: 100, mandatory: false, data: hex('aabbcc') }] });
    const r = parseMessage(bytes);
    expect(r.ok && r.value.attributes).toEqual([{ kind: 'unknown', type: 100, mandatory: false, data: hex('aabbcc') }]);
  });

  it('refuses unknown attributes with M set, listing every one (Error 4, §5.2.6.1)', () => {
    const unknown = (type: number): BfcpAttribute => ({ kind: 'unknown', type, mandatory: true, data: Buffer.alloc(2) });
    const r = parseMessage(encodeMessage({ ...base, primitive: PRIMITIVE.Hello, attributes: [unknown(99), u16Attr(ATTR.FloorId, 1), unknown(120)] }));
    expect(r).toMatchObject({ ok: false, code: 'unknown-mandatory-attribute', errorCode: 4, unknownTypes: [99, 120] });
    expect(readUnknownTypesDetails(errorCodeAttr(4, [99, 120]).kind === 'error-code' ? (errorCodeAttr(4, [99, 120]) as { details: Buffer }).details : Buffer.alloc(0))).toEqual([99, 120]);
  });

  it('refuses an undefined primitive (Error 3) and keeps the header for the answer', () => {
    expect(parseMessage(hex('40 12 0000 00000001 0002 0003'))).toMatchObject({ ok: false, code: 'unknown-primitive', errorCode: 3, header: { primitive: 18, transactionId: 2 } });
    expect(parseMessage(hex('40 00 0000 00000001 0002 0003'))).toMatchObject({ ok: false, code: 'unknown-primitive' });
  });

  it('refuses a length other than the Payload Length says (Error 13)', () => {
    const ok = encodeMessage({ ...base, primitive: PRIMITIVE.FloorRelease, attributes: [u16Attr(ATTR.FloorRequestId, 1)] });
    expect(parseMessage(ok.subarray(0, ok.length - 4))).toMatchObject({ ok: false, code: 'incorrect-length', errorCode: 13 });
    expect(parseMessage(Buffer.concat([ok, Buffer.alloc(4)]))).toMatchObject({ ok: false, code: 'incorrect-length' });
  });

  it('refuses a message missing what its grammar requires (Error 10)', () => {
    for (const primitive of [PRIMITIVE.FloorRequest, PRIMITIVE.FloorRelease, PRIMITIVE.FloorRequestQuery, PRIMITIVE.FloorRequestStatus, PRIMITIVE.ChairAction, PRIMITIVE.HelloAck, PRIMITIVE.Error]) {
      expect(parseMessage(encodeMessage({ ...base, primitive, attributes: [] }))).toMatchObject({ ok: false, code: 'missing-attribute', errorCode: 10 });
    }
  });

  it('refuses malformed attributes: wrong fixed lengths, Length below 2, padding past the end, odd grouped length', () => {
    const msg = (attrs: string): Buffer => {
      const body = hex(attrs);
      const h = Buffer.alloc(12);
      writeCommonHeader({ version: 2, responder: false, fragmented: false, primitive: 11, payloadWords: body.length / 4, conferenceId: 1, transactionId: 1, userId: 1, fragmentOffsetWords: 0, fragmentWords: 0 }, h, 0);
      return Buffer.concat([h, body]);
    };
    expect(parseMessage(msg('05 05 0001 00 000000'))).toMatchObject({ code: 'malformed-attribute' }); // FLOOR-ID of length 5
    expect(parseMessage(msg('05 01 0000'))).toMatchObject({ code: 'malformed-attribute' }); // Length 1
    expect(parseMessage(msg('1f 06 0001 0000 0000'))).toMatchObject({ code: 'malformed-attribute' }); // FLOOR-REQUEST-INFORMATION, length 6
    expect(parseMessage(msg('0d 02 0000'))).toMatchObject({ code: 'malformed-attribute' }); // ERROR-CODE without a code
    expect(parseMessage(msg('23 08 0001 0b06 0001'))).toMatchObject({ code: 'malformed-attribute' }); // FLOOR-REQUEST-STATUS whose child runs past it
    expect(parseMessage(msg('0f 09 0001 0000 0000'))).toMatchObject({ code: 'malformed-attribute' }); // ERROR-INFO whose padding runs past the end
  });

  it(`bounds nesting at ${BFCP_MAX_NESTING} levels`, () => {
    let inner: BfcpAttribute = requestStatusAttr(1);
    for (let i = 0; i < BFCP_MAX_NESTING; i++) inner = groupAttr(ATTR.FloorRequestStatus, i, [inner]);
    expect(parseMessage(encodeMessage({ ...base, primitive: PRIMITIVE.Hello, attributes: [inner] })).ok).toBe(true);
    inner = groupAttr(ATTR.FloorRequestStatus, 9, [inner]);
    expect(parseMessage(encodeMessage({ ...base, primitive: PRIMITIVE.Hello, attributes: [inner] }))).toMatchObject({ ok: false, code: 'too-deep', errorCode: 10 });
  });

  it('bounds the message size and the attribute count', () => {
    const big = encodeMessage({ ...base, primitive: PRIMITIVE.Hello, attributes: Array.from({ length: 600 }, () => u16Attr(ATTR.FloorId, 1)) });
    expect(parseMessage(big)).toMatchObject({ ok: false, code: 'too-large' });
    expect(parseMessage(big, { maxBytes: 100 })).toMatchObject({ ok: false, code: 'too-large', errorCode: 13 });
  });

  it('reads and writes texts as UTF-8 (tshark 4.0 shows them as ASCII, so the corpus keeps to ASCII)', () => {
    const r = parseMessage(encodeMessage({ ...base, primitive: PRIMITIVE.UserStatus, attributes: [groupAttr(ATTR.BeneficiaryInformation, 7, [textAttr(ATTR.UserDisplayName, 'Salle Ä — 会議室')])] }));
    const group = r.ok ? r.value.attributes[0] : undefined;
    expect(group?.kind === 'group' && group.children[0]).toMatchObject({ kind: 'text', text: 'Salle Ä — 会議室' });
  });

  it('cuts texts to what the 8-bit Length allows, at a character boundary', () => {
    const a = textAttr(ATTR.UserDisplayName, 'é'.repeat(200));
    expect(a.kind === 'text' && Buffer.byteLength(a.text)).toBe(252);
  });

  it('maps every parse error to an ERROR-CODE', () => {
    expect(ERROR_CODE_OF_PARSE_ERROR).toEqual({
      truncated: 13,
      'incorrect-length': 13,
      'unsupported-version': 12,
      'unknown-primitive': 3,
      'unknown-mandatory-attribute': 4,
      'malformed-attribute': 10,
      'missing-attribute': 10,
      'too-deep': 10,
      'too-large': 13,
      fragment: 10,
    });
  });
});

describe('fragments (RFC 8855 §6.2.3)', () => {
  const long: OutgoingMessage = {
    ...base,
    primitive: PRIMITIVE.FloorStatus,
    attributes: [u16Attr(ATTR.FloorId, 1), ...Array.from({ length: 12 }, (_, i) => groupAttr(ATTR.FloorRequestInformation, i + 1, [groupAttr(ATTR.FloorRequestStatus, 1, [requestStatusAttr(2, i)]), textAttr(ATTR.ParticipantProvidedInfo, 'x'.repeat(40))]))],
  };

  it('splits into whole 4-octet units under the bound and reassembles in any order', () => {
    const bytes = encodeMessage(long);
    const frags = fragmentMessage(bytes, 200);
    expect(frags.length).toBeGreaterThan(3);
    for (const f of frags) {
      expect(f.length).toBeLessThanOrEqual(200);
      const h = parseCommonHeader(f);
      expect(h.ok && h.value).toMatchObject({ fragmented: true, payloadWords: (bytes.length - 12) / 4 });
    }
    const r = new FragmentReassembler({ maxMessageBytes: 65_000, maxPartial: 2, timeoutMs: 1000 });
    const order = [...frags].reverse();
    const outcomes = order.map((f) => r.push(f, 0));
    expect(outcomes.slice(0, -1).every((o) => o.kind === 'partial')).toBe(true);
    const last = outcomes[outcomes.length - 1];
    expect(last?.kind === 'complete' && last.message).toEqual(bytes);
    expect(r.partialCount).toBe(0);
  });

  it('refuses fragments over the bound or inconsistent, and forgets old partial messages', () => {
    const frags = fragmentMessage(encodeMessage(long), 200);
    const r = new FragmentReassembler({ maxMessageBytes: 100, maxPartial: 1, timeoutMs: 1000 });
    expect(r.push(frags[0] as Buffer, 0)).toMatchObject({ kind: 'refused', error: { code: 'too-large' } });
    const r2 = new FragmentReassembler({ maxMessageBytes: 65_000, maxPartial: 1, timeoutMs: 1000 });
    expect(r2.push(frags[0] as Buffer, 0).kind).toBe('partial');
    r2.expire(1000);
    expect(r2.partialCount).toBe(0);
    const bad = Buffer.from(frags[1] as Buffer);
    bad.writeUInt16BE(0xffff, 12); // offset past the message
    expect(r2.push(bad, 0)).toMatchObject({ kind: 'refused', error: { code: 'fragment' } });
    expect(parseMessage(frags[0] as Buffer)).toMatchObject({ ok: false, code: 'fragment' });
  });
});

describe('properties', () => {
  it('random bytes never throw and end in a value or a typed error', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 400 }), (arr) => {
        const r = parseMessage(Buffer.from(arr));
        expect(typeof r.ok).toBe('boolean');
        if (!r.ok) expect(ERROR_CODE_OF_PARSE_ERROR[r.code]).toBe(r.errorCode);
      }),
      { numRuns: 3000 },
    );
  });

  it('random bytes after a valid header never throw', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 17 }), fc.uint8Array({ minLength: 0, maxLength: 60 }).map((a) => Buffer.from(a.subarray(0, a.length & ~3))), (primitive, body) => {
        const h = Buffer.alloc(BFCP_HEADER_BYTES);
        writeCommonHeader({ version: 2, responder: false, fragmented: false, primitive, payloadWords: body.length / 4, conferenceId: 1, transactionId: 1, userId: 1, fragmentOffsetWords: 0, fragmentWords: 0 }, h, 0);
        const r = parseMessage(Buffer.concat([h, body]));
        // Texts are strings: invalid UTF-8 reads as U+FFFD, so re-encoding need not give the same octets.
        if (!r.ok) expect(ERROR_CODE_OF_PARSE_ERROR[r.code]).toBe(r.errorCode);
      }),
      { numRuns: 3000 },
    );
  });

  it('mutated corpus messages (one octet changed, cut, or grown) never throw', () => {
    const corpus = CORPUS.map(encodeMessage);
    fc.assert(
      fc.property(fc.nat(corpus.length - 1), fc.nat(), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 2 }), (which, pos, value, how) => {
        const src = corpus[which] as Buffer;
        let b: Buffer;
        if (how === 0) {
          b = Buffer.from(src);
          b[pos % b.length] = value;
        } else if (how === 1) b = src.subarray(0, pos % src.length);
        else b = Buffer.concat([src, Buffer.alloc(4, value)]);
        const r = parseMessage(b);
        expect(typeof r.ok).toBe('boolean');
      }),
      { numRuns: 5000 },
    );
  });

  it('round-trips generated attributes', () => {
    const leaf: fc.Arbitrary<BfcpAttribute> = fc.oneof(
      fc.record({ kind: fc.constant('u16' as const), type: fc.constantFrom(ATTR.BeneficiaryId, ATTR.FloorId, ATTR.FloorRequestId), mandatory: fc.boolean(), value: fc.integer({ min: 0, max: 0xffff }) }),
      fc.record({ kind: fc.constant('priority' as const), type: fc.constant(ATTR.Priority), mandatory: fc.boolean(), priority: fc.integer({ min: 0, max: 7 }) }),
      fc.record({ kind: fc.constant('request-status' as const), type: fc.constant(ATTR.RequestStatus), mandatory: fc.boolean(), status: fc.integer({ min: 0, max: 255 }), queuePosition: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant('text' as const), type: fc.constantFrom(ATTR.ErrorInfo, ATTR.StatusInfo, ATTR.UserUri), mandatory: fc.boolean(), text: fc.string({ maxLength: 30 }) }),
      fc.record({ kind: fc.constant('list' as const), type: fc.constant(ATTR.SupportedPrimitives), mandatory: fc.boolean(), values: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 20 }) }),
    );
    const attr = fc.oneof(leaf, fc.record({ kind: fc.constant('group' as const), type: fc.constantFrom(ATTR.FloorRequestStatus, ATTR.OverallRequestStatus), mandatory: fc.boolean(), id: fc.integer({ min: 0, max: 0xffff }), children: fc.array(leaf, { maxLength: 4 }) }));
    fc.assert(
      fc.property(fc.array(attr, { maxLength: 6 }), (attributes) => {
        // Lone surrogates do not survive UTF-8; compare what UTF-8 keeps.
        const m: OutgoingMessage = { ...base, primitive: PRIMITIVE.Hello, attributes };
        const r = parseMessage(encodeMessage(m));
        expect(r.ok).toBe(true);
        if (r.ok) expect(encodeMessage({ ...m, attributes: r.value.attributes })).toEqual(encodeMessage(m));
      }),
      { numRuns: 500 },
    );
  });
});
