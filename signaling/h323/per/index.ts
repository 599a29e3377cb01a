export { BitReader, BitWriter, DEFAULT_PER_LIMITS } from './bits.ts';
export type { PerLimits } from './bits.ts';
export { PerError } from './errors.ts';
export type { PerErrorCode, PerResult } from './errors.ts';
export type { SizeConstraint } from './integers.ts';
export {
  alphabetPlan,
  bitString,
  bool,
  charString,
  decode,
  encode,
  enumerated,
  generalString,
  mapped,
  utf8String,
  int,
  lazy,
  intMin,
  integer,
  nul,
  objectIdentifier,
  octets,
  openBytes,
  readOpenWith,
  seqOf,
  tryEncode,
  writeOpen,
} from './codec.ts';
export type { AlphabetPlan, BitString, CharStringType, Codec, IntOptions, UnknownEnum, ValueOf } from './codec.ts';
export { UNKNOWN, choice, dflt, opt, req, seq } from './constructed.ts';
export type { ChoiceValue, FieldSpec, SeqValue, UnknownChoice, UnknownExtension } from './constructed.ts';
