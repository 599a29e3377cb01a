/**
 * The X.691 Annex A.1 PersonnelRecord (no constraints), ALIGNED variant. The standard's text was not at
 * hand: the expected octets were written out from the rules (SET components in canonical tag order:
 * [APPLICATION 1] name, [APPLICATION 2] number, then [0] title, [1] dateOfHire, [2] nameOfSpouse,
 * [3] children; one preamble bit for the DEFAULT children; VisibleString 8 bits per character behind a
 * one-octet length; number as an unconstrained integer), and agree with the A.1 aligned encoding as
 * remembered from the standard (80 04 4A6F686E 01 50 05 536D697468 01 33 08 4469726563746F72 …).
 */
import { describe, expect, it } from 'vitest';
import { charString, decode, dflt, encode, integer, req, seq, seqOf } from '../../../../signaling/h323/per/index.ts';

const vis = charString('VisibleString');
const name = seq({ givenName: req(vis), initial: req(vis), familyName: req(vis) });
const child = seq({ name: req(name), dateOfBirth: req(vis) });
const record = seq({
  name: req(name),
  number: req(integer),
  title: req(vis),
  dateOfHire: req(vis),
  nameOfSpouse: req(name),
  children: dflt(seqOf(child), []),
});

const value = {
  name: { givenName: 'John', initial: 'P', familyName: 'Smith' },
  number: 51,
  title: 'Director',
  dateOfHire: '19710917',
  nameOfSpouse: { givenName: 'Mary', initial: 'T', familyName: 'Smith' },
  children: [
    { name: { givenName: 'Ralph', initial: 'T', familyName: 'Smith' }, dateOfBirth: '19571111' },
    { name: { givenName: 'Susan', initial: 'B', familyName: 'Jones' }, dateOfBirth: '19590717' },
  ],
};

const ascii = (s: string): string => Buffer.from(s, 'latin1').toString('hex');
const str = (s: string): string => s.length.toString(16).padStart(2, '0') + ascii(s);

const expected =
  '80' +
  str('John') + str('P') + str('Smith') +
  '0133' +
  str('Director') + str('19710917') +
  str('Mary') + str('T') + str('Smith') +
  '02' +
  str('Ralph') + str('T') + str('Smith') + str('19571111') +
  str('Susan') + str('B') + str('Jones') + str('19590717');

describe('X.691 Annex A.1 PersonnelRecord, ALIGNED', () => {
  it('encodes to the expected octets and decodes back', () => {
    const enc = encode(record, value);
    expect(enc.toString('hex')).toBe(expected);
    expect(enc.length).toBe(94);
    expect(decode(record, enc)).toEqual({ ok: true, value });
  });
  it('an absent DEFAULT children decodes to the default', () => {
    const { children: _omit, ...rest } = value;
    const enc = encode(record, rest);
    expect(enc[0]).toBe(0x00);
    expect(decode(record, enc)).toEqual({ ok: true, value: { ...rest, children: [] } });
  });
});
