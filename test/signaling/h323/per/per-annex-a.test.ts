/**
 * The X.691 Annex A.1 PersonnelRecord (no constraints), ALIGNED variant. The standard's text was not at
 * hand: the expected octets were written out from the rules (SET components in canonical tag order:
 * [APPLICATION 1] name, [APPLICATION 2] number, then [0] title, [1] dateOfHire, [2] nameOfSpouse,
 * [3] children; one preamble bit for the DEFAULT children; VisibleString 8 bits per character behind a
 * one-octet length; number as an unconstrained integer), and agree with the A.1 aligned encoding as
 * remembered from the standard (80 04 4A6F686E 01 50 05 536D697468 01 33 08 4469726563746F72 …).
 */
import { describe, expect, it } from 'vitest';
import { PerError, alphabetPlan, charString, decode, dflt, encode, enumerated, int, integer, opt, req, seq, seqOf } from '../../../../signaling/h323/per/index.ts';

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

/**
 * Annex A.2, the same record with constraints: NameString ::= VisibleString (FROM ("a".."z" | "A".."Z" |
 * "-.") ^ SIZE (1..64)) (54 characters: 8 bits aligned, raw codes), initial NameString (SIZE(1)) (no length,
 * no alignment), EmployeeNumber INTEGER (0..9999) (two aligned octets), Date VisibleString (FROM ("0".."9")
 * ^ SIZE(8)) (4-bit indexes, fixed size, aligned). Expected octets computed by hand from those rules.
 */
describe('X.691 Annex A.2 PersonnelRecord with constraints, ALIGNED', () => {
  const letters = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-.';
  const nameString = charString('VisibleString', { from: letters, size: { lb: 1, ub: 64 } });
  const initial = charString('VisibleString', { from: letters, size: { lb: 1, ub: 1 } });
  const date = charString('VisibleString', { from: '0123456789', size: { lb: 8, ub: 8 } });
  const name2 = seq({ givenName: req(nameString), initial: req(initial), familyName: req(nameString) });
  const child2 = seq({ name: req(name2), dateOfBirth: req(date) });
  const record2 = seq({
    name: req(name2),
    number: req(int(0, 9999)),
    title: req(vis),
    dateOfHire: req(date),
    nameOfSpouse: req(name2),
    children: dflt(seqOf(child2), []),
  });
  // a 6-bit length (n-1) then padding to the octet: 4 → 0c, 5 → 10
  const ns = (s: string): string => ((s.length - 1) << 2).toString(16).padStart(2, '0') + ascii(s);
  const expected2 =
    '86' + ascii('John') + ascii('P') + ns('Smith') +
    '0033' +
    str('Director') + '19710917' +
    ns('Mary') + ascii('T') + ns('Smith') +
    '02' +
    ns('Ralph') + ascii('T') + ns('Smith') + '19571111' +
    ns('Susan') + ascii('B') + ns('Jones') + '19590717';

  it('uses the plans the constraints call for', () => {
    expect(alphabetPlan('VisibleString', letters)).toMatchObject({ bitsPerChar: 8, indexed: false });
    expect(alphabetPlan('VisibleString', '0123456789')).toMatchObject({ bitsPerChar: 4, indexed: true });
  });
  it('encodes to the expected octets and decodes back', () => {
    const enc = encode(record2, value);
    expect(enc.toString('hex')).toBe(expected2);
    expect(decode(record2, enc)).toEqual({ ok: true, value });
  });
  it('refuses a name with a digit and a date with a letter', () => {
    expect(() => encode(record2, { ...value, name: { ...value.name, givenName: 'J0hn' } })).toThrow(PerError);
    expect(() => encode(record2, { ...value, dateOfHire: '1971O917' })).toThrow(PerError);
  });
});

/**
 * Annex A.3, the record with extension markers: the SETs and Name are extensible, EmployeeNumber is
 * INTEGER (0..9999, ...), NameString SIZE (1..64, ...), Date SIZE (8, ..., 9..20), children
 * SEQUENCE (SIZE(2, ...)) OF ChildInformation OPTIONAL, and ChildInformation has the extension addition
 * sex ENUMERATED {male(1), female(2), unknown(3)} OPTIONAL (the second child: female). Expected octets
 * computed by hand bit by bit; each extension bit below is 0 except the second child's.
 */
describe('X.691 Annex A.3 PersonnelRecord with extensions, ALIGNED', () => {
  const letters = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-.';
  const nameString = charString('VisibleString', { from: letters, size: { lb: 1, ub: 64, extensible: true } });
  const initial = charString('VisibleString', { from: letters, size: { lb: 1, ub: 1 } });
  const date = charString('VisibleString', { from: '0123456789', size: { lb: 8, ub: 8, extensible: true } });
  const name3 = seq({ givenName: req(nameString), initial: req(initial), familyName: req(nameString) }, { extensible: true });
  const child3 = seq(
    { name: req(name3), dateOfBirth: req(date) },
    { additions: { sex: opt(enumerated(['male', 'female', 'unknown'])) } },
  );
  const record3 = seq(
    {
      name: req(name3),
      number: req(int(0, 9999, { extensible: true })),
      title: req(vis),
      dateOfHire: req(date),
      nameOfSpouse: req(name3),
      children: opt(seqOf(child3, { lb: 2, ub: 2, extensible: true })),
    },
    { extensible: true },
  );
  const value3 = {
    ...value,
    children: [
      { name: { givenName: 'Ralph', initial: 'T', familyName: 'Smith' }, dateOfBirth: '19571111' },
      { name: { givenName: 'Susan', initial: 'B', familyName: 'Jones' }, dateOfBirth: '19590717', sex: 'female' as const },
    ],
  };
  const expected3 =
    '40c0' + ascii('John') + ascii('P') + '08' + ascii('Smith') +
    '000033' +
    str('Director') + '0019710917' +
    '03' + ascii('Mary') + ascii('T') + '08' + ascii('Smith') +
    '0100' + ascii('Ralph') + ascii('T') + '08' + ascii('Smith') + '0019571111' +
    '8200' + ascii('Susan') + ascii('B') + '08' + ascii('Jones') + '0019590717' +
    '01' + '0140';

  it('encodes to the expected octets and decodes back', () => {
    const enc = encode(record3, value3);
    expect(enc.toString('hex')).toBe(expected3);
    expect(decode(record3, enc)).toEqual({ ok: true, value: value3 });
  });
  it('a decoder without the sex addition skips it and keeps its bytes', () => {
    const older = seq({ name: req(name3), dateOfBirth: req(date) }, { extensible: true });
    const oldRecord = seq(
      {
        name: req(name3),
        number: req(int(0, 9999, { extensible: true })),
        title: req(vis),
        dateOfHire: req(date),
        nameOfSpouse: req(name3),
        children: opt(seqOf(older, { lb: 2, ub: 2, extensible: true })),
      },
      { extensible: true },
    );
    const dec = decode(oldRecord, Buffer.from(expected3, 'hex'));
    expect(dec.ok).toBe(true);
    if (!dec.ok) return;
    expect(dec.value.children?.[1]?.['$unknown']).toEqual([{ index: 0, bytes: Buffer.from([0x40]) }]);
    expect(encode(oldRecord, dec.value).toString('hex')).toBe(expected3);
  });
});
