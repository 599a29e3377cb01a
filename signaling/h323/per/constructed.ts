/**
 * SEQUENCE (§19) and CHOICE (§23) with extension additions carried as open types; additions and
 * alternatives this decoder does not know are kept as raw bytes so they can be skipped or re-encoded.
 */
import type { BitWriter } from './bits.ts';
import { readOpenBytes, readOpenWith, writeOpen } from './codec.ts';
import type { Codec } from './codec.ts';
import { PerError } from './errors.ts';
import {
  readConstrained,
  readNormallySmall,
  readNormallySmallLength,
  writeConstrained,
  writeFragmented,
  writeNormallySmall,
  writeNormallySmallLength,
} from './integers.ts';

/** The key under which a decoded value keeps what its decoder did not know. */
export const UNKNOWN = '$unknown';

/** An extension addition (SEQUENCE) or alternative (CHOICE) unknown to this schema: its index after `...` and its open-type bytes. */
export interface UnknownExtension {
  readonly index: number;
  readonly bytes: Buffer;
}

export interface FieldSpec<T, O extends boolean> {
  readonly codec: Codec<T>;
  readonly optional: O;
  /** DEFAULT value: filled in when the component is absent on decode (BASIC-PER: the encoder writes what it is given). */
  readonly defaultValue?: T | undefined;
}

/** A mandatory root component. */
export function req<T>(codec: Codec<T>): FieldSpec<T, false> {
  return { codec, optional: false };
}

/** An OPTIONAL root component, or an extension addition. */
export function opt<T>(codec: Codec<T>): FieldSpec<T, true> {
  return { codec, optional: true };
}

/** A root component with a DEFAULT: optional on encode, filled in on decode. */
export function dflt<T>(codec: Codec<T>, defaultValue: T): FieldSpec<T, true> {
  return { codec, optional: true, defaultValue };
}

type AnySpec = FieldSpec<unknown, boolean>;
type SpecValue<S> = S extends FieldSpec<infer T, boolean> ? T : never;
type Simplify<T> = { [K in keyof T]: T[K] };

export type SeqValue<R extends Record<string, AnySpec>, A extends Record<string, AnySpec>> = Simplify<
  { -readonly [K in keyof R as R[K] extends FieldSpec<unknown, true> ? never : K]: SpecValue<R[K]> } & {
    -readonly [K in keyof R as R[K] extends FieldSpec<unknown, true> ? K : never]?: SpecValue<R[K]>;
  } & { -readonly [K in keyof A]?: SpecValue<A[K]> } & { [UNKNOWN]?: readonly UnknownExtension[] }
>;

export interface SeqOptions<A extends Record<string, AnySpec>> {
  /** The type has `...` (implied when additions are given). */
  readonly extensible?: boolean;
  /** Extension additions in order (a `[[ ... ]]` group is one addition whose codec is a seq of its components). */
  readonly additions?: A;
}

/**
 * How many additions a decoded SEQUENCE's bitmap said, when more than its last present one: some
 * stacks send bitmaps as long as the additions they know. Re-encoding the same value writes the
 * same length, so a peer's message re-encodes to its own bytes; a value built anew is canonical.
 */
const bitmapLength = new WeakMap<object, number>();

function getField(v: object, k: string): unknown {
  return (v as Record<string, unknown>)[k];
}

/** SEQUENCE { root components ... , additions }. Keys are taken in their declaration order. */
export function seq<R extends Record<string, AnySpec>, A extends Record<string, AnySpec> = Record<never, AnySpec>>(
  root: R,
  opts: SeqOptions<A> = {},
): Codec<SeqValue<R, A>> {
  const rootEntries = Object.entries(root);
  const addEntries = Object.entries(opts.additions ?? {});
  const extensible = opts.extensible === true || addEntries.length > 0;
  const optionalCount = rootEntries.filter(([, s]) => s.optional).length;
  // §19.3 puts a length before a preamble of 64K bits or more; no H.225/H.245 type comes near that.
  if (optionalCount >= 65536) throw new PerError('PER_INVALID', 'a preamble of 64K bits is not supported');
  return {
    write: (w, v) => {
      w.enter();
      const unknown = getField(v, UNKNOWN) as readonly UnknownExtension[] | undefined;
      let nAdd = 0;
      addEntries.forEach(([k], i) => {
        if (getField(v, k) !== undefined) nAdd = i + 1;
      });
      nAdd = Math.max(nAdd, bitmapLength.get(v) ?? 0);
      for (const u of unknown ?? []) {
        if (!Number.isSafeInteger(u.index) || u.index < addEntries.length) {
          throw new PerError('PER_CONSTRAINT', `unknown addition index ${u.index} collides with a known one`);
        }
        nAdd = Math.max(nAdd, u.index + 1);
      }
      if (extensible) w.writeBit(nAdd > 0);
      else if (nAdd > 0) throw new PerError('PER_CONSTRAINT', 'extension additions in a non-extensible SEQUENCE');
      for (const [k, s] of rootEntries) if (s.optional) w.writeBit(getField(v, k) !== undefined);
      for (const [k, s] of rootEntries) {
        const fv = getField(v, k);
        if (fv === undefined) {
          if (!s.optional) throw new PerError('PER_CONSTRAINT', `mandatory component '${k}' missing`);
          continue;
        }
        s.codec.write(w, fv);
      }
      if (nAdd > 0) {
        writeNormallySmallLength(w, nAdd);
        const byIndex = new Map<number, Buffer>((unknown ?? []).map((u) => [u.index, u.bytes]));
        for (let i = 0; i < nAdd; i++) {
          const entry = addEntries[i];
          w.writeBit(entry !== undefined ? getField(v, entry[0]) !== undefined : byIndex.has(i));
        }
        for (let i = 0; i < nAdd; i++) {
          const entry = addEntries[i];
          if (entry !== undefined) {
            const fv = getField(v, entry[0]);
            if (fv !== undefined) writeOpen(w, entry[1].codec, fv);
          } else {
            const bytes = byIndex.get(i);
            if (bytes !== undefined) writeRawOpen(w, bytes);
          }
        }
      }
      w.leave();
    },
    read: (r) => {
      r.enter();
      const out: Record<string, unknown> = {};
      const hasExt = extensible ? r.readBit() : false;
      const present = new Map<string, boolean>();
      for (const [k, s] of rootEntries) if (s.optional) present.set(k, r.readBit());
      r.count(rootEntries.length);
      for (const [k, s] of rootEntries) {
        if (s.optional && present.get(k) !== true) {
          if (s.defaultValue !== undefined) out[k] = s.defaultValue;
          continue;
        }
        out[k] = s.codec.read(r);
      }
      if (hasExt) {
        const n = readNormallySmallLength(r);
        r.require(n);
        r.count(n);
        const bitmap: boolean[] = [];
        for (let i = 0; i < n; i++) bitmap.push(r.readBit());
        const unknown: UnknownExtension[] = [];
        for (let i = 0; i < n; i++) {
          if (bitmap[i] !== true) continue;
          const entry = addEntries[i];
          if (entry !== undefined) out[entry[0]] = readOpenWith(r, entry[1].codec);
          else unknown.push({ index: i, bytes: Buffer.from(readOpenBytes(r)) });
        }
        if (unknown.length > 0) out[UNKNOWN] = unknown;
        if (bitmap.lastIndexOf(true) + 1 < n) bitmapLength.set(out, n);
      }
      r.leave();
      return out as SeqValue<R, A>;
    },
  };
}

function writeRawOpen(w: BitWriter, bytes: Buffer): void {
  const body = bytes.length === 0 ? Buffer.from([0]) : bytes;
  writeFragmented(w, body.length, (start, n) => w.writeOctets(body.subarray(start, start + n)));
}

type AnyCodec = Codec<unknown>;
type CodecValue<C> = C extends Codec<infer T> ? T : never;

/** A CHOICE alternative this decoder does not know (an extension alternative past the known ones). */
export interface UnknownChoice {
  readonly choice: typeof UNKNOWN;
  readonly index: number;
  readonly bytes: Buffer;
}

export type ChoiceValue<R extends Record<string, AnyCodec>, A extends Record<string, AnyCodec>> =
  | { [K in keyof R & string]: { readonly choice: K; readonly value: CodecValue<R[K]> } }[keyof R & string]
  | { [K in keyof A & string]: { readonly choice: K; readonly value: CodecValue<A[K]> } }[keyof A & string]
  | UnknownChoice;

export interface ChoiceOptions<A extends Record<string, AnyCodec>> {
  readonly extensible?: boolean;
  readonly additions?: A;
}

/**
 * CHOICE: root alternatives in canonical tag order (with AUTOMATIC TAGS the textual order), a constrained
 * index; extension alternatives as a normally small index and an open type.
 */
export function choice<R extends Record<string, AnyCodec>, A extends Record<string, AnyCodec> = Record<never, AnyCodec>>(
  root: R,
  opts: ChoiceOptions<A> = {},
): Codec<ChoiceValue<R, A>> {
  const rootEntries = Object.entries(root);
  const addEntries = Object.entries(opts.additions ?? {});
  const extensible = opts.extensible === true || addEntries.length > 0;
  if (rootEntries.length === 0) throw new PerError('PER_INVALID', 'CHOICE without alternatives');
  const rootIndex = new Map<string, number>(rootEntries.map(([k], i) => [k, i]));
  const addIndex = new Map<string, number>(addEntries.map(([k], i) => [k, i]));
  const last = rootEntries.length - 1;
  return {
    write: (w, v) => {
      w.enter();
      if (v.choice === UNKNOWN) {
        const u = v as UnknownChoice;
        if (!extensible || u.index < addEntries.length) throw new PerError('PER_CONSTRAINT', 'unknown alternative not encodable here');
        w.writeBit(true);
        writeNormallySmall(w, u.index);
        writeRawOpen(w, u.bytes);
        w.leave();
        return;
      }
      const value: unknown = 'value' in v ? v.value : undefined;
      const i = rootIndex.get(v.choice);
      const rootCodec = i === undefined ? undefined : rootEntries[i];
      if (i !== undefined && rootCodec !== undefined) {
        if (extensible) w.writeBit(false);
        writeConstrained(w, i, 0, last);
        rootCodec[1].write(w, value);
        w.leave();
        return;
      }
      const j = addIndex.get(v.choice);
      const addCodec = j === undefined ? undefined : addEntries[j];
      if (j === undefined || addCodec === undefined) throw new PerError('PER_CONSTRAINT', `'${v.choice}' is not an alternative`);
      w.writeBit(true);
      writeNormallySmall(w, j);
      writeOpen(w, addCodec[1], value);
      w.leave();
    },
    read: (r) => {
      r.enter();
      r.count(1);
      let out: ChoiceValue<R, A>;
      if (extensible && r.readBit()) {
        const j = readNormallySmall(r);
        const entry = addEntries[j];
        if (entry === undefined) {
          const bytes = Buffer.from(readOpenBytes(r));
          out = { choice: UNKNOWN, index: j, bytes };
        } else {
          out = { choice: entry[0], value: readOpenWith(r, entry[1]) } as ChoiceValue<R, A>;
        }
      } else {
        const i = readConstrained(r, 0, last);
        const entry = rootEntries[i];
        if (entry === undefined) throw new PerError('PER_INVALID', `choice index ${i}`);
        out = { choice: entry[0], value: entry[1].read(r) } as ChoiceValue<R, A>;
      }
      r.leave();
      return out;
    },
  };
}
