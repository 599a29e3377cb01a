/**
 * Property tests: random small schemas with random values round-trip exactly, and random bytes fed to
 * their decoders end in a value or a PerError (decode() rethrows anything else, which fails the test).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bitString,
  bool,
  charString,
  choice,
  decode,
  encode,
  enumerated,
  int,
  intMin,
  integer,
  nul,
  objectIdentifier,
  octets,
  opt,
  req,
  seq,
  seqOf,
} from '../../../../signaling/h323/per/index.ts';
import type { Codec, FieldSpec, SizeConstraint } from '../../../../signaling/h323/per/index.ts';

interface Built {
  readonly codec: Codec<unknown>;
  readonly value: fc.Arbitrary<unknown>;
}

type Schema =
  | { readonly t: 'bool' }
  | { readonly t: 'null' }
  | { readonly t: 'int'; readonly lb: number; readonly span: number; readonly ext: boolean }
  | { readonly t: 'intMin'; readonly lb: number }
  | { readonly t: 'integer' }
  | { readonly t: 'enum'; readonly n: number; readonly adds: number }
  | { readonly t: 'octets'; readonly size: SizeConstraint }
  | { readonly t: 'bits'; readonly size: SizeConstraint }
  | { readonly t: 'chars'; readonly kind: 'IA5String' | 'BMPString' | 'NumericString'; readonly from: string | undefined; readonly size: SizeConstraint }
  | { readonly t: 'oid' }
  | { readonly t: 'seq'; readonly fields: readonly { readonly s: Schema; readonly optional: boolean }[]; readonly adds: readonly Schema[]; readonly ext: boolean }
  | { readonly t: 'seqOf'; readonly item: Schema; readonly size: SizeConstraint }
  | { readonly t: 'choice'; readonly alts: readonly Schema[]; readonly adds: readonly Schema[]; readonly ext: boolean };

const sizeArb: fc.Arbitrary<SizeConstraint> = fc.oneof(
  fc.constant<SizeConstraint>({ lb: 0 }),
  fc.record({ lb: fc.integer({ min: 0, max: 3 }), span: fc.integer({ min: 0, max: 6 }), extensible: fc.boolean() }).map(
    ({ lb, span, extensible }) => ({ lb, ub: lb + span, extensible }),
  ),
  fc.integer({ min: 0, max: 3 }).map((lb) => ({ lb, ub: 70000 })),
);

const leaf: fc.Arbitrary<Schema> = fc.oneof(
  fc.constant<Schema>({ t: 'bool' }),
  fc.constant<Schema>({ t: 'null' }),
  fc
    .record({
      lb: fc.integer({ min: -1000, max: 1000 }),
      span: fc.oneof(fc.integer({ min: 0, max: 300 }), fc.constantFrom(65535, 65536, 4294967295)),
      ext: fc.boolean(),
    })
    .map((r): Schema => ({ t: 'int', ...r })),
  fc.integer({ min: -5, max: 5 }).map((lb): Schema => ({ t: 'intMin', lb })),
  fc.constant<Schema>({ t: 'integer' }),
  fc.record({ n: fc.integer({ min: 1, max: 9 }), adds: fc.integer({ min: 0, max: 3 }) }).map((r): Schema => ({ t: 'enum', ...r })),
  sizeArb.map((size): Schema => ({ t: 'octets', size })),
  sizeArb.map((size): Schema => ({ t: 'bits', size })),
  fc
    .record({
      kind: fc.constantFrom<'IA5String' | 'BMPString' | 'NumericString'>('IA5String', 'BMPString', 'NumericString'),
      from: fc.option(fc.constantFrom('0123456789#*,', '0123456789#*ABCD!', 'ab', 'xyz '), { nil: undefined }),
      size: sizeArb,
    })
    .map((r): Schema => ({ t: 'chars', ...r })),
  fc.constant<Schema>({ t: 'oid' }),
);

const schemaArb: fc.Arbitrary<Schema> = fc.letrec<{ s: Schema }>((tie) => ({
  s: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc
      .record({
        fields: fc.array(fc.record({ s: tie('s'), optional: fc.boolean() }), { maxLength: 4 }),
        adds: fc.array(tie('s'), { maxLength: 3 }),
        ext: fc.boolean(),
      })
      .map((r): Schema => ({ t: 'seq', ...r })),
    fc.record({ item: tie('s'), size: sizeArb }).map((r): Schema => ({ t: 'seqOf', ...r })),
    fc
      .record({ alts: fc.array(tie('s'), { minLength: 1, maxLength: 4 }), adds: fc.array(tie('s'), { maxLength: 2 }), ext: fc.boolean() })
      .map((r): Schema => ({ t: 'choice', ...r })),
  ),
})).s;

function lengthArb(size: SizeConstraint): fc.Arbitrary<number> {
  const ub = size.ub === undefined ? 20 : Math.min(size.ub, size.lb + 20);
  if (size.extensible === true) return fc.oneof(fc.integer({ min: size.lb, max: ub }), fc.integer({ min: 0, max: ub + 5 }));
  return fc.integer({ min: size.lb, max: ub });
}

function alphabet(kind: 'IA5String' | 'BMPString' | 'NumericString', from: string | undefined): string[] {
  if (from !== undefined) return Array.from(from);
  if (kind === 'NumericString') return Array.from(' 0123456789');
  if (kind === 'IA5String') return Array.from({ length: 128 }, (_, i) => String.fromCharCode(i));
  return ['a', 'é', '\u4e2d', '\uffff', '\u0000'];
}

function build(s: Schema): Built {
  switch (s.t) {
    case 'bool':
      return { codec: bool, value: fc.boolean() };
    case 'null':
      return { codec: nul, value: fc.constant(null) };
    case 'int': {
      const ub = s.lb + s.span;
      const root = fc.integer({ min: s.lb, max: ub });
      return {
        codec: int(s.lb, ub, { extensible: s.ext }),
        value: s.ext ? fc.oneof(root, fc.maxSafeInteger()) : root,
      };
    }
    case 'intMin':
      return { codec: intMin(s.lb), value: fc.integer({ min: s.lb, max: Number.MAX_SAFE_INTEGER + Math.min(s.lb, 0) }) };
    case 'integer':
      return { codec: integer, value: fc.maxSafeInteger() };
    case 'enum': {
      const root = Array.from({ length: s.n }, (_, i) => `r${i}`);
      const adds = Array.from({ length: s.adds }, (_, i) => `x${i}`);
      return { codec: enumerated(root, { additions: adds }), value: fc.constantFrom(...root, ...adds) };
    }
    case 'octets':
      return { codec: octets(s.size), value: lengthArb(s.size).chain((n) => fc.uint8Array({ minLength: n, maxLength: n }).map((a) => Buffer.from(a))) };
    case 'bits':
      return {
        codec: bitString(s.size),
        value: lengthArb(s.size).chain((n) =>
          fc.array(fc.boolean(), { minLength: n, maxLength: n }).map((bs) => {
            const bits = Buffer.alloc((n + 7) >>> 3);
            bs.forEach((b, i) => {
              if (b) bits[i >>> 3] = (bits[i >>> 3] ?? 0) | (0x80 >>> (i & 7));
            });
            return { length: n, bits };
          }),
        ),
      };
    case 'chars': {
      const chars = alphabet(s.kind, s.from);
      return {
        codec: charString(s.kind, { size: s.size, ...(s.from === undefined ? {} : { from: s.from }) }),
        value: lengthArb(s.size).chain((n) => fc.array(fc.constantFrom(...chars), { minLength: n, maxLength: n }).map((a) => a.join(''))),
      };
    }
    case 'oid':
      return {
        codec: objectIdentifier,
        value: fc
          .tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 39 }), fc.array(fc.integer({ min: 0, max: 2 ** 40 }), { maxLength: 5 }))
          .map(([a, b, rest]) => [a, b, ...rest]),
      };
    case 'seq': {
      const root: Record<string, FieldSpec<unknown, boolean>> = {};
      const model: Record<string, fc.Arbitrary<unknown>> = {};
      const required: string[] = [];
      s.fields.forEach((f, i) => {
        const b = build(f.s);
        root[`f${i}`] = f.optional ? opt(b.codec) : req(b.codec);
        model[`f${i}`] = b.value;
        if (!f.optional) required.push(`f${i}`);
      });
      const adds: Record<string, FieldSpec<unknown, boolean>> = {};
      s.adds.forEach((a, i) => {
        const b = build(a);
        adds[`a${i}`] = opt(b.codec);
        model[`a${i}`] = b.value;
      });
      const codec: Codec<unknown> = seq(root, { extensible: s.ext, additions: adds });
      return { codec, value: fc.record(model, { requiredKeys: required }) };
    }
    case 'seqOf': {
      const b = build(s.item);
      const size: SizeConstraint = s.size.ub === 70000 ? { lb: s.size.lb } : s.size;
      const ub = Math.min(size.ub ?? size.lb + 4, size.lb + 4);
      const count = size.extensible === true ? fc.integer({ min: 0, max: ub + 2 }) : fc.integer({ min: size.lb, max: ub });
      return { codec: seqOf(b.codec, size), value: count.chain((n) => fc.array(b.value, { minLength: n, maxLength: n })) };
    }
    case 'choice': {
      const root: Record<string, Codec<unknown>> = {};
      const arbs: fc.Arbitrary<unknown>[] = [];
      s.alts.forEach((a, i) => {
        const b = build(a);
        root[`c${i}`] = b.codec;
        arbs.push(b.value.map((value) => ({ choice: `c${i}`, value })));
      });
      const adds: Record<string, Codec<unknown>> = {};
      s.adds.forEach((a, i) => {
        const b = build(a);
        adds[`e${i}`] = b.codec;
        arbs.push(b.value.map((value) => ({ choice: `e${i}`, value })));
      });
      const codec: Codec<unknown> = choice(root, { extensible: s.ext, additions: adds });
      return { codec, value: fc.oneof(...arbs) };
    }
  }
}

describe('PER round trips over random schemas', () => {
  it('decode(encode(v)) equals v and re-encoding gives the same bytes', () => {
    const cases = schemaArb.chain((s) => {
      const b = build(s);
      return b.value.map((v) => ({ codec: b.codec, v }));
    });
    fc.assert(
      fc.property(cases, ({ codec, v }) => {
        const wire = encode(codec, v);
        const back = decode(codec, wire);
        expect(back).toEqual({ ok: true, value: v });
        if (back.ok) expect(encode(codec, back.value).equals(wire)).toBe(true);
      }),
      { numRuns: 1500 },
    );
  });
});

describe('PER decoders under random input', () => {
  it('random bytes end in a value or a PerError, never another exception', () => {
    const limits = { maxBytes: 4096, maxDepth: 16, maxElements: 10_000 };
    fc.assert(
      fc.property(schemaArb, fc.uint8Array({ maxLength: 64 }), (s, bytes) => {
        const r = decode(build(s).codec, Buffer.from(bytes), limits);
        expect(typeof r.ok).toBe('boolean');
      }),
      { numRuns: 5000 },
    );
  });

  it('mutated valid encodings end in a value or a PerError', () => {
    const cases = schemaArb.chain((s) => {
      const b = build(s);
      return fc.tuple(fc.constant(b.codec), b.value, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), fc.nat());
    });
    fc.assert(
      fc.property(cases, ([codec, v, edits, cut]) => {
        const wire = Buffer.from(encode(codec, v));
        for (const [at, byte] of edits) if (wire.length > 0) wire[at % wire.length] = byte;
        const r = decode(codec, wire.subarray(0, wire.length === 0 ? 0 : cut % (wire.length + 1)));
        expect(typeof r.ok).toBe('boolean');
      }),
      { numRuns: 3000 },
    );
  });
});
