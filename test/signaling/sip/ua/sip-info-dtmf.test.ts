import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isDtmfDigit } from '../../../../common/dtmf-digit.ts';
import {
  DEFAULT_SIP_INFO_DTMF_DURATION_MS,
  isSipInfoDtmfType,
  parseSipInfoDtmf,
  SIP_INFO_DTMF_ACCEPT,
} from '../../../../signaling/sip/ua/sip-info-dtmf.ts';

const bytes = (s: string) => Buffer.from(s, 'latin1');
const RELAY = 'application/dtmf-relay';

describe('parseSipInfoDtmf: application/dtmf-relay', () => {
  it.each([
    ['Signal=5\r\nDuration=160\r\n', '5', 160],
    ['Signal=5\r\nDuration=160', '5', 160],
    ['Signal=#\nDuration=100\n', '#', 100],
    ['signal = *\r\nduration = 250\r\n', '*', 250],
    ['SIGNAL=d\r\nDURATION=0\r\n', 'D', 0],
    ['Signal=10\r\nDuration=200\r\n', '*', 200],
    ['Signal=11\r\nDuration=200\r\n', '#', 200],
    ['Signal=15\r\n', 'D', DEFAULT_SIP_INFO_DTMF_DURATION_MS],
    ['Signal=1\r\nDuration=160\r\nVolume=10\r\n', '1', 160],
    ['\r\nSignal=9\r\n\r\nDuration=60000\r\n\r\n', '9', 60_000],
  ])('%j → %s for %d ms', (body, digit, durationMs) => {
    expect(parseSipInfoDtmf(RELAY, bytes(body))).toEqual({ ok: true, digit, durationMs });
  });

  it('takes the type case-insensitively with parameters', () => {
    expect(parseSipInfoDtmf(' Application/DTMF-Relay ; charset=us-ascii', bytes('Signal=3\r\n'))).toMatchObject({ ok: true, digit: '3' });
  });

  it.each([
    ['', 'no-signal'],
    ['Duration=160\r\n', 'no-signal'],
    ['Signal5\r\n', 'malformed-line'],
    ['=5\r\n', 'malformed-line'],
    ['Sig nal=5\r\n', 'malformed-line'],
    ['Signal=5\r\nSignal=6\r\n', 'duplicate-field'],
    ['Signal=5\r\nDuration=1\r\nDuration=2\r\n', 'duplicate-field'],
    ['Signal=\r\n', 'bad-signal'],
    ['Signal=55\r\n', 'bad-signal'],
    ['Signal=16\r\n', 'bad-signal'],
    ['Signal=!\r\n', 'bad-signal'],
    ['Signal=E\r\n', 'bad-signal'],
    ['Signal=5\r\nDuration=-1\r\n', 'bad-duration'],
    ['Signal=5\r\nDuration=1.5\r\n', 'bad-duration'],
    ['Signal=5\r\nDuration=60001\r\n', 'bad-duration'],
    ['Signal=5\r\nDuration=999999999999\r\n', 'bad-duration'],
    ['Signal=5\r\nDuration=\r\n', 'bad-duration'],
    ['Signal=5\u0000\r\n', 'not-text'],
    ['Signal=\u00e9\r\n', 'not-text'],
    [`Signal=5\r\n${'X=1\r\n'.repeat(200)}`, 'body-too-long'],
  ])('%j is refused 400 (%s)', (body, refusal) => {
    expect(parseSipInfoDtmf(RELAY, bytes(body))).toEqual({ ok: false, status: 400, refusal });
  });
});

describe('parseSipInfoDtmf: application/dtmf', () => {
  it.each([
    ['5', '5'],
    ['#\r\n', '#'],
    [' * ', '*'],
    ['a', 'A'],
    ['11', '#'],
  ])('%j → %s', (body, digit) => {
    expect(parseSipInfoDtmf('application/dtmf', bytes(body))).toEqual({ ok: true, digit, durationMs: DEFAULT_SIP_INFO_DTMF_DURATION_MS });
  });

  it.each(['', '55', 'Signal=5', 'x', '5 5'])('%j is refused 400', (body) => {
    expect(parseSipInfoDtmf('application/dtmf', bytes(body))).toEqual({ ok: false, status: 400, refusal: 'bad-signal' });
  });
});

describe('parseSipInfoDtmf: other types', () => {
  it.each([undefined, '', 'application/sdp', 'text/plain', 'application/dtmf-relayx', 'application', 'application/media_control+xml'])('%j is refused 415', (type) => {
    expect(parseSipInfoDtmf(type, bytes('Signal=5\r\nDuration=160\r\n'))).toEqual({ ok: false, status: 415, refusal: 'unsupported-type' });
    expect(isSipInfoDtmfType(type)).toBe(false);
  });

  it('names both types for the Accept header of a 415', () => {
    expect(SIP_INFO_DTMF_ACCEPT.split(',').map((s) => s.trim())).toEqual(['application/dtmf-relay', 'application/dtmf']);
    expect(isSipInfoDtmfType('application/dtmf-relay')).toBe(true);
    expect(isSipInfoDtmfType('APPLICATION/DTMF')).toBe(true);
  });
});

describe('parseSipInfoDtmf properties', () => {
  const types = fc.oneof(fc.constant(RELAY), fc.constant('application/dtmf'), fc.option(fc.string(), { nil: undefined }));

  it('any bytes and any type give a value, never an exception', () => {
    fc.assert(
      fc.property(types, fc.uint8Array({ maxLength: 700 }), (type, body) => {
        const r = parseSipInfoDtmf(type, body);
        if (r.ok) {
          expect(isDtmfDigit(r.digit)).toBe(true);
          expect(Number.isInteger(r.durationMs) && r.durationMs >= 0 && r.durationMs <= 60_000).toBe(true);
        } else {
          expect([400, 415]).toContain(r.status);
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it('text built from the grammar with noise keys parses back to its digit and duration', () => {
    const digit = fc.constantFrom(...'0123456789*#ABCD'.split(''));
    const eol = fc.constantFrom('\r\n', '\n');
    const noise = fc.array(fc.tuple(fc.stringMatching(/^[A-Za-rt-z][A-Za-z]{0,8}$/), fc.stringMatching(/^[0-9A-Za-z]{0,6}$/)), { maxLength: 3 });
    fc.assert(
      fc.property(digit, fc.integer({ min: 0, max: 60_000 }), eol, noise, (d, ms, nl, extra) => {
        const lines = [`Signal=${d}`, `Duration=${ms}`, ...extra.filter(([k]) => !/^(signal|duration)$/i.test(k)).map(([k, v]) => `${k}=${v}`)];
        expect(parseSipInfoDtmf(RELAY, bytes(lines.join(nl) + nl))).toEqual({ ok: true, digit: d, durationMs: ms });
      }),
    );
  });

  it('random text mutations of a good body never throw', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), fc.nat(30), (insert, at) => {
        const good = 'Signal=5\r\nDuration=160\r\n';
        const body = good.slice(0, at) + insert + good.slice(at);
        parseSipInfoDtmf(RELAY, Buffer.from(body, 'utf8'));
      }),
      { numRuns: 1_000 },
    );
  });
});
