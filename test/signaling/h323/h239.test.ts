import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { GenericMessage, GenericParameter, ParameterValue } from '../../../signaling/h323/asn/h245.ts';
import { MultimediaSystemControlMessage, TerminalCapabilitySet } from '../../../signaling/h323/asn/h245.ts';
import * as h225 from '../../../signaling/h323/call/h225-messages.ts';
import type { H239Message } from '../../../signaling/h323/call/h239.ts';
import { H239_MESSAGE_OID, h239Message, offersH239Control, readH239, readH239Generic } from '../../../signaling/h323/call/h239.ts';
import * as h245 from '../../../signaling/h323/call/h245-messages.ts';
import { H245Session } from '../../../signaling/h323/call/h245-session.ts';
import type { H245SessionEvents } from '../../../signaling/h323/call/h245-session.ts';
import { H239TokenManager } from '../../../signaling/h323/call/presentation-token.ts';
import { decode, encode } from '../../../signaling/h323/per/index.ts';
import { encodeTpkt } from '../../../signaling/h323/q931/tpkt.ts';
import { decodeWithTshark, fieldValue, fieldValues } from '../../support/tshark-oracle.ts';

/**
 * H.239 generic messages: builders and readers round trip through the generated PER codec, every
 * H.239 PDU Carillon sends passes tshark's H.245 dissector with the intended OID, sub-message and
 * parameters, the readers take any GenericMessage without throwing, and the token manager and the
 * H.245 session dispatch them (unknown generic messages treated as today's unknowns).
 */

const ids = { callReference: 0x1234, callIdentifier: Buffer.from('c0fef93ecd9ed6119ab2000476222017', 'hex'), conferenceId: Buffer.from('f8fdf93ecd9ed6119ab2000476222017', 'hex') };
const enc = (m: MultimediaSystemControlMessage): Buffer => encode(MultimediaSystemControlMessage, m);

const ALL: H239Message[] = [
  { kind: 'flowControlReleaseRequest', channelId: 4, bitRate: 10_000 },
  { kind: 'flowControlReleaseRequest', channelId: 4, bitRate: 100_000 },
  { kind: 'flowControlReleaseResponse', acknowledge: false, channelId: 4 },
  { kind: 'flowControlReleaseResponse', acknowledge: true, channelId: 4 },
  { kind: 'presentationTokenRequest', terminalLabel: 0x0102, channelId: 3, symmetryBreaking: 99 },
  { kind: 'presentationTokenResponse', acknowledge: true, terminalLabel: 0x0102, channelId: 3 },
  { kind: 'presentationTokenResponse', acknowledge: false, terminalLabel: 0, channelId: 0 },
  { kind: 'presentationTokenRelease', terminalLabel: 0x0102, channelId: 3 },
  { kind: 'presentationTokenIndicateOwner', terminalLabel: 0x0102, channelId: 3 },
];

describe('H.239 messages through the PER codec', () => {
  it('every message builds, encodes, decodes and reads back to itself', () => {
    for (const m of ALL) {
      const r = decode(MultimediaSystemControlMessage, enc(h239Message(m)));
      expect(r.ok).toBe(true);
      if (!r.ok) continue;
      expect(readH239(r.value)).toEqual({ ok: true, message: m.kind === 'flowControlReleaseRequest' ? { ...m } : m });
    }
  });

  it('each message travels in the envelope H.239 gives it', () => {
    const env = ALL.map((m) => {
      const p = h239Message(m);
      return p.choice === 'request' || p.choice === 'response' || p.choice === 'command' || p.choice === 'indication' ? `${p.choice}.${String(p.value.choice)}` : 'unknown';
    });
    expect(env).toEqual([
      'request.genericRequest',
      'request.genericRequest',
      'response.genericResponse',
      'response.genericResponse',
      'request.genericRequest',
      'response.genericResponse',
      'response.genericResponse',
      'command.genericCommand',
      'indication.genericIndication',
    ]);
  });

  const gen = (over: Partial<GenericMessage>): GenericMessage => ({ messageIdentifier: { choice: 'standard', value: [...H239_MESSAGE_OID] }, subMessageIdentifier: 3, messageContent: [], ...over });
  const u = (id: number, v: number): GenericParameter => ({ parameterIdentifier: { choice: 'standard', value: id }, parameterValue: { choice: 'unsignedMin', value: v } });
  const l = (id: number): GenericParameter => ({ parameterIdentifier: { choice: 'standard', value: id }, parameterValue: { choice: 'logical', value: null } });

  it('readers give a typed reason for what they cannot use', () => {
    expect(readH239(h245.roundTripDelayResponse(1))).toEqual({ ok: false, reason: 'not-generic' });
    expect(readH239Generic('request', gen({ messageIdentifier: { choice: 'standard', value: [0, 0, 8, 241, 0, 0, 1] } }))).toEqual({ ok: false, reason: 'not-h239' });
    expect(readH239Generic('request', gen({ messageIdentifier: { choice: 'domainBased', value: 'example.com' } }))).toEqual({ ok: false, reason: 'not-h239' });
    expect(readH239Generic('request', gen({ subMessageIdentifier: 99 }))).toEqual({ ok: false, reason: 'unknown-sub-message' });
    const noSub: GenericMessage = { messageIdentifier: { choice: 'standard', value: [...H239_MESSAGE_OID] } };
    expect(readH239Generic('request', noSub)).toEqual({ ok: false, reason: 'unknown-sub-message' });
    expect(readH239Generic('indication', gen({ messageContent: [u(44, 1), u(42, 2), u(43, 3)] }))).toEqual({ ok: false, reason: 'misplaced' });
    expect(readH239Generic('request', gen({ messageContent: [u(44, 1)] }))).toEqual({ ok: false, reason: 'missing-parameter' });
    // A response with both acknowledge and reject, or neither, says nothing.
    expect(readH239Generic('response', gen({ subMessageIdentifier: 4, messageContent: [l(126), l(127), u(44, 1), u(42, 2)] }))).toEqual({ ok: false, reason: 'missing-parameter' });
    expect(readH239Generic('response', gen({ subMessageIdentifier: 4, messageContent: [u(44, 1), u(42, 2)] }))).toEqual({ ok: false, reason: 'missing-parameter' });
    // Parameters in any order, unknown ones skipped, symmetryBreaking absent taken as 0.
    expect(readH239Generic('request', gen({ messageContent: [u(99, 5), u(42, 2), u(44, 1)] }))).toEqual({ ok: true, message: { kind: 'presentationTokenRequest', terminalLabel: 1, channelId: 2, symmetryBreaking: 0 } });
  });

  it('fast-check: any GenericMessage in any envelope, and random bytes, never throw the readers', () => {
    const pid = fc.oneof(
      fc.record({ choice: fc.constant('standard' as const), value: fc.oneof(fc.constantFrom(41, 42, 43, 44, 126, 127), fc.integer({ min: 0, max: 127 })) }),
      fc.record({ choice: fc.constant('uuid' as const), value: fc.uint8Array({ minLength: 16, maxLength: 16 }).map((a) => Buffer.from(a)) }),
    );
    const pval: fc.Arbitrary<ParameterValue> = fc.oneof(
      fc.constant({ choice: 'logical' as const, value: null }),
      fc.record({ choice: fc.constant('unsignedMin' as const), value: fc.integer({ min: 0, max: 65_535 }) }),
      fc.record({ choice: fc.constant('unsigned32Max' as const), value: fc.integer({ min: 0, max: 0xffff_ffff }) }),
      fc.record({ choice: fc.constant('booleanArray' as const), value: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ choice: fc.constant('octetString' as const), value: fc.uint8Array({ maxLength: 8 }).map((a) => Buffer.from(a)) }),
      fc.constant<ParameterValue>({ choice: 'genericParameter', value: [] }),
    );
    const param = fc.record({ parameterIdentifier: pid, parameterValue: pval });
    const msgId = fc.oneof(
      fc.constant({ choice: 'standard' as const, value: [...H239_MESSAGE_OID] }),
      fc.record({ choice: fc.constant('standard' as const), value: fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 2, maxLength: 8 }).map((a) => [a[0]! % 3, a[1]! % 40, ...a.slice(2)]) }),
    );
    const generic = fc.record({ messageIdentifier: msgId, subMessageIdentifier: fc.option(fc.integer({ min: 0, max: 127 }), { nil: undefined }), messageContent: fc.option(fc.array(param, { maxLength: 12 }), { nil: undefined }) }, { requiredKeys: ['messageIdentifier'] });
    const envelope = fc.constantFrom('request' as const, 'response' as const, 'command' as const, 'indication' as const);
    fc.assert(
      fc.property(envelope, generic, (e, g) => {
        const r = readH239Generic(e, g as GenericMessage);
        // Whatever it read must encode again (the reader names only values H.239 messages can carry).
        if (r.ok) enc(h239Message(r.message));
        return typeof r.ok === 'boolean';
      }),
      { numRuns: 3000 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const d = decode(MultimediaSystemControlMessage, Buffer.from(bytes));
        if (d.ok) readH239(d.value);
        return true;
      }),
      { numRuns: 3000 },
    );
  });

  it('Carillon’s TCS carries the H.239 control capability; the TCS reader finds it', () => {
    const m = h245.terminalCapabilitySet(1, ['g711Ulaw64k']);
    const d = decode(MultimediaSystemControlMessage, enc(m));
    expect(d.ok).toBe(true);
    if (!d.ok || d.value.choice !== 'request' || d.value.value.choice !== 'terminalCapabilitySet') return;
    expect(offersH239Control(d.value.value.value)).toBe(true);
    const bare = decode(TerminalCapabilitySet, encode(TerminalCapabilitySet, { sequenceNumber: 1, protocolIdentifier: h245.H245_PROTOCOL_ID }));
    expect(bare.ok && offersH239Control(bare.value)).toBe(false);
  });
});

describe('every H.239 PDU Carillon sends, through tshark', () => {
  it('presentationTokenResponse (acknowledge, reject), the token manager’s presentationTokenRequest, flowControlReleaseResponse, release and owner indication', async () => {
    const pdus: [H239Message, string, string][] = [
      // [message, pdu_type.index of its envelope, the logical parameter or '']
      [{ kind: 'presentationTokenResponse', acknowledge: true, terminalLabel: 0x0101, channelId: 3 }, '1.24', '126'],
      [{ kind: 'presentationTokenResponse', acknowledge: false, terminalLabel: 0x0101, channelId: 3 }, '1.24', '127'],
      [{ kind: 'presentationTokenRequest', terminalLabel: 0, channelId: 3, symmetryBreaking: 0 }, '0.15', ''],
      [{ kind: 'flowControlReleaseResponse', acknowledge: false, channelId: 5 }, '1.24', '127'],
      [{ kind: 'presentationTokenRelease', terminalLabel: 0, channelId: 3 }, '2.12', ''],
      [{ kind: 'presentationTokenIndicateOwner', terminalLabel: 0x0101, channelId: 3 }, '3.23', ''],
    ];
    const p = await decodeWithTshark(pdus.map(([m]) => ({ payload: encodeTpkt(h225.facilityTunnel(ids, [enc(h239Message(m))])), srcPort: 1720, dstPort: 40000 })));
    expect(p).toHaveLength(pdus.length);
    const kinds = ['request', 'response', 'command', 'indication'];
    const SUB = { flowControlReleaseRequest: '1', flowControlReleaseResponse: '2', presentationTokenRequest: '3', presentationTokenResponse: '4', presentationTokenRelease: '5', presentationTokenIndicateOwner: '6' };
    pdus.forEach(([m, kind, flag], i) => {
      const pkt = p[i];
      expect(pkt?.malformed, pkt?.errors.join('; ')).toBe(false);
      const [type, index] = kind.split('.') as [string, string];
      expect(fieldValue(pkt, 'h245.pdu_type'), m.kind).toBe(type);
      expect(fieldValue(pkt, `h245.${kinds[Number(type)]}`), m.kind).toBe(index);
      expect(fieldValue(pkt, 'h245.standardOid'), m.kind).toBe('0.0.8.239.2');
      expect(fieldValue(pkt, 'h245.subMessageIdentifier.standard'), m.kind).toBe(SUB[m.kind]);
      const params = fieldValues(pkt, 'h245.standard');
      if (flag !== '') expect(params[0], m.kind).toBe(flag);
      const numeric = params.filter((x) => x !== '126' && x !== '127');
      const expected = m.kind === 'flowControlReleaseResponse' ? ['42'] : m.kind === 'presentationTokenRequest' ? ['44', '42', '43'] : ['44', '42'];
      expect(numeric, m.kind).toEqual(expected);
      if ('terminalLabel' in m) expect(fieldValues(pkt, 'h245.unsignedMin')[0], m.kind).toBe(String(m.terminalLabel));
      expect(fieldValues(pkt, 'h245.unsignedMin'), m.kind).toContain(String(m.channelId));
      if (flag !== '') expect(fieldValues(pkt, 'h245.logical_element'), m.kind).toHaveLength(1);
    });
  });

  it('Carillon’s TCS with genericControlCapability 0.0.8.239.1.1 in a descriptor of its own', async () => {
    const [pkt] = await decodeWithTshark([{ payload: encodeTpkt(h225.facilityTunnel(ids, [enc(h245.terminalCapabilitySet(1, ['g722-64k', 'g711Ulaw64k', 'g711Alaw64k'], false))])), srcPort: 1720, dstPort: 40000 }]);
    expect(pkt?.malformed, pkt?.errors.join('; ')).toBe(false);
    expect(fieldValues(pkt, 'h245.standardOid')).toEqual(['0.0.8.239.1.1']);
    expect(fieldValues(pkt, 'h245.capabilityTableEntryNumber')).toEqual(['1', '2', '3', '4', '5', '6']);
    expect(fieldValue(pkt, 'h245.simultaneousCapabilities')).toBe('3');
    expect(fieldValues(pkt, 'h245.AlternativeCapabilitySet')).toEqual(['3', '2', '1']);
  });
});

describe('the token manager', () => {
  function manager(): { tm: H239TokenManager; out: H239Message[] } {
    const out: H239Message[] = [];
    const tm = new H239TokenManager((msgs) => {
      for (const m of msgs) {
        const r = readH239(m);
        if (r.ok) out.push(r.message);
      }
    });
    return { tm, out };
  }
  const req = (terminalLabel = 1, channelId = 2): H239Message => ({ kind: 'presentationTokenRequest', terminalLabel, channelId, symmetryBreaking: 9 });

  it('every legal transition, and what is refused in each state', () => {
    const { tm, out } = manager();
    let grant: ((g: boolean) => void) | undefined;
    let releases = 0;
    tm.onRequest = (g) => {
      grant = g;
    };
    tm.onRelease = () => releases++;
    // idle → pending
    tm.handle(req());
    expect(tm.state).toBe('pending');
    // pending: another request refused, the pending one stays
    tm.handle(req(5, 6));
    expect(out.at(-1)).toEqual({ kind: 'presentationTokenResponse', acknowledge: false, terminalLabel: 5, channelId: 6 });
    expect(tm.state).toBe('pending');
    // pending → held
    grant?.(true);
    expect(tm.state).toBe('held');
    expect(out.at(-1)).toEqual({ kind: 'presentationTokenResponse', acknowledge: true, terminalLabel: 1, channelId: 2 });
    // held → idle (peer release)
    tm.handle({ kind: 'presentationTokenRelease', terminalLabel: 1, channelId: 2 });
    expect(tm.state).toBe('idle');
    expect(releases).toBe(1);
    // a release while idle does nothing
    tm.handle({ kind: 'presentationTokenRelease', terminalLabel: 1, channelId: 2 });
    expect(releases).toBe(1);
    // pending → idle (denied), and a stale grant of it does nothing
    tm.handle(req());
    const denied = grant;
    denied?.(false);
    expect(tm.state).toBe('idle');
    denied?.(true);
    expect(tm.state).toBe('idle');
    // pending → idle (revoked before the meeting answered): refused
    tm.handle(req());
    tm.revoke();
    expect(tm.state).toBe('idle');
    expect(out.at(-1)).toEqual({ kind: 'presentationTokenResponse', acknowledge: false, terminalLabel: 1, channelId: 2 });
    // held → idle (revoked): the token manager's request to the holder
    tm.handle(req());
    grant?.(true);
    tm.revoke();
    expect(tm.state).toBe('idle');
    expect(out.at(-1)).toEqual({ kind: 'presentationTokenRequest', terminalLabel: 0, channelId: 2, symmetryBreaking: 0 });
    expect(releases).toBe(1);
    // revoke while idle sends nothing
    const n = out.length;
    tm.revoke();
    expect(out).toHaveLength(n);
    // held → closed (the call ended): onRelease; nothing handled after
    tm.handle(req());
    grant?.(true);
    tm.end();
    expect(tm.state).toBe('closed');
    expect(releases).toBe(2);
    tm.end();
    tm.handle(req());
    expect(out).toHaveLength(n + 1);
    expect(releases).toBe(2);
  });

  it('a flood of 10,000 requests while one is pending: 9,999 refusals, one question to the meeting', () => {
    const { tm, out } = manager();
    let asked = 0;
    tm.onRequest = () => {
      asked++;
    };
    for (let i = 0; i < 10_000; i++) tm.handle(req(i % 65_536, 3));
    expect(asked).toBe(1);
    expect(out).toHaveLength(9_999);
    expect(out.every((m) => m.kind === 'presentationTokenResponse' && !m.acknowledge)).toBe(true);
  });
});

describe('the H.245 session dispatches generic messages', () => {
  function session(): { s: H245Session; sent: MultimediaSystemControlMessage[] } {
    const sent: MultimediaSystemControlMessage[] = [];
    const ev: H245SessionEvents = {
      send: (msgs) => sent.push(...msgs),
      dtmf: () => undefined,
      fastUpdate: () => undefined,
      endSession: () => undefined,
      peerChannel: () => undefined,
      peerChannelClosed: () => undefined,
      peerVideoChannel: () => 'dataTypeNotSupported' as const,
      ownVideoAccepted: () => undefined,
      ownVideoRefused: () => undefined,
      ownChannelAccepted: () => undefined,
      ownChannelRefused: () => undefined,
      changed: () => undefined,
    };
    return { s: new H245Session(ev, ['g711Ulaw64k'], () => 0.5), sent };
  }

  it('H.239 messages go to the token manager; other generic messages are unknowns (a request gets FunctionNotUnderstood)', () => {
    const { s, sent } = session();
    s.presentation.onRequest = (grant) => grant(true);
    s.handle(h239Message({ kind: 'presentationTokenRequest', terminalLabel: 7, channelId: 8, symmetryBreaking: 1 }));
    expect(s.presentation.holding).toBe(true);
    expect(sent.map((m) => readH239(m))).toEqual([{ ok: true, message: { kind: 'presentationTokenResponse', acknowledge: true, terminalLabel: 7, channelId: 8 } }]);
    expect(s.notUnderstood).toBe(0);

    const other: GenericMessage = { messageIdentifier: { choice: 'standard', value: [0, 0, 8, 245, 1, 1, 1] }, subMessageIdentifier: 1 };
    s.handle({ choice: 'request', value: { choice: 'genericRequest', value: other } });
    expect(sent.at(-1)?.choice).toBe('indication');
    expect(h245.h245Name(sent.at(-1) as MultimediaSystemControlMessage)).toBe('indication.functionNotUnderstood');
    s.handle({ choice: 'command', value: { choice: 'genericCommand', value: other } });
    s.handle({ choice: 'response', value: { choice: 'genericResponse', value: other } });
    s.handle({ choice: 'indication', value: { choice: 'genericIndication', value: other } });
    expect(s.notUnderstood).toBe(2);
    expect(sent).toHaveLength(2);
    // An H.239 message Carillon cannot read (no parameters) is an unknown too.
    s.handle({ choice: 'request', value: { choice: 'genericRequest', value: { messageIdentifier: { choice: 'standard', value: [...H239_MESSAGE_OID] }, subMessageIdentifier: 3 } } });
    expect(s.notUnderstood).toBe(3);
    expect(h245.h245Name(sent.at(-1) as MultimediaSystemControlMessage)).toBe('indication.functionNotUnderstood');

    // The session's end releases the holder and quiets the token manager.
    let released = 0;
    s.presentation.onRelease = () => released++;
    s.start();
    s.end();
    expect(released).toBe(1);
    const n = sent.length;
    s.presentation.revoke();
    expect(sent).toHaveLength(n);
  });
});
