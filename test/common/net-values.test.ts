import { describe, expect, it } from 'vitest';
import { isIpLiteral, isUsablePort, unbracket, usablePortOf } from '../../common/net-values.ts';

describe('peer-supplied network values', () => {
  it('ports: 1–65535 integers only', () => {
    for (const ok of [1, 5060, 65535]) expect(isUsablePort(ok)).toBe(true);
    for (const bad of [0, -1, 65536, 99999, 5060.5, Number.NaN, '5060', undefined]) expect(isUsablePort(bad)).toBe(false);
    expect(usablePortOf('5060')).toBe(5060);
    for (const bad of ['0', '65536', '', '-1', '5060a', ' 5060', '000001x', null, undefined]) expect(usablePortOf(bad)).toBeUndefined();
    expect(usablePortOf('00080')).toBe(80);
  });

  it('addresses: IPv4/IPv6 literals, never names', () => {
    for (const ok of ['127.0.0.1', '::1', '2001:db8::5', '0.0.0.0']) expect(isIpLiteral(ok)).toBe(true);
    for (const bad of ['', 'localhost', 'evil.example', '[::1]', '1.2.3', '256.1.1.1', 'a'.repeat(100), 5]) expect(isIpLiteral(bad)).toBe(false);
    expect(unbracket('[::1]')).toBe('::1');
    expect(unbracket('127.0.0.1')).toBe('127.0.0.1');
    expect(unbracket('[')).toBe('[');
  });
});
