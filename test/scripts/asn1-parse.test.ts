import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AsnSyntaxError, parseModule, tokenize } from '../../scripts/asn1/parse.ts';
import type { AsnModule, AsnType } from '../../scripts/asn1/parse.ts';

const read = (f: string): AsnModule => parseModule(readFileSync(new URL(`../../signaling/h323/asn/modules/${f}`, import.meta.url), 'utf8'));
const typeOf = (m: AsnModule, name: string): AsnType | undefined => m.assignments.find((a) => a.name === name)?.type;

describe('the ASN.1 reader of the H.323 modules', () => {
  const h225 = read('h2250v6.asn');
  const h245 = read('h245v13.asn');
  const h235 = read('H235-SECURITY-MESSAGES.asn');

  it('reads every type assignment of the three modules and their imports', () => {
    expect([h225.name, h245.name, h235.name]).toEqual(['H323-MESSAGES', 'MULTIMEDIA-SYSTEM-CONTROL', 'H235-SECURITY-MESSAGES']);
    expect([h225.assignments.length, h245.assignments.length, h235.assignments.length]).toEqual([174, 263, 33]);
    expect(h225.imports.map((i) => i.from)).toEqual(['H235-SECURITY-MESSAGES', 'MULTIMEDIA-SYSTEM-CONTROL']);
    expect(h225.imports[1]?.names).toEqual(['DataProtocolCapability', 'T38FaxProfile', 'QOSCapability']);
    expect(h235.assignments.find((a) => a.name === 'SIGNED')?.params).toEqual(['ToBeSigned']);
  });

  it('keeps root, extension additions and the constraints PER sees', () => {
    const uii = typeOf(h245, 'UserInputIndication');
    expect(uii?.t).toBe('choice');
    if (uii?.t !== 'choice') return;
    expect(uii.root.map((c) => c.name)).toEqual(['nonStandard', 'alphanumeric']);
    expect(uii.extensible).toBe(true);
    const signal = uii.additions.find((a) => a.name === 'signal')?.type;
    expect(signal?.t === 'seq' ? signal.root[0]?.type : undefined).toEqual({ t: 'string', kind: 'IA5String', size: { lb: 1, ub: 1, extensible: false }, from: '0123456789#*ABCD!' });
    const setup = typeOf(h225, 'Setup-UUIE');
    expect(setup?.t).toBe('seq');
    if (setup?.t !== 'seq') return;
    expect(setup.root[0]?.name).toBe('protocolIdentifier');
    expect(setup.additions.some((a) => a.kind === 'component' && a.component.name === 'fastStart')).toBe(true);
    const dialed = typeOf(h225, 'AliasAddress');
    expect(dialed?.t === 'choice' ? dialed.root[0]?.type : undefined).toEqual({ t: 'string', kind: 'IA5String', size: { lb: 1, ub: 128, extensible: false }, from: '0123456789#*,' });
    const tcs = typeOf(h245, 'TerminalCapabilitySet');
    expect(tcs?.t === 'seq' ? tcs.root.find((c) => c.name === 'sequenceNumber')?.type : undefined).toEqual({ t: 'ref', name: 'SequenceNumber', params: [], c: {} });
    expect(typeOf(h245, 'SequenceNumber')).toEqual({ t: 'int', range: { lb: 0, ub: 255, extensible: false } });
  });

  it('refuses what it does not understand instead of guessing', () => {
    expect(() => parseModule('M DEFINITIONS ::= BEGIN T ::= REAL END')).toThrow(AsnSyntaxError);
    expect(() => tokenize('T ::= "open')).toThrow(AsnSyntaxError);
    expect(() => parseModule('M DEFINITIONS ::= BEGIN T ::= SEQUENCE { Bad INTEGER } END')).toThrow(/component name/);
  });
});
