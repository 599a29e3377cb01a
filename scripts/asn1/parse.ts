/**
 * A parser for the ASN.1 (X.680) that the ITU H.225.0, H.245 and H.235 modules use: module
 * headers and IMPORTS, type assignments (parameterised ones too), SEQUENCE/SET and CHOICE with
 * extension markers and additions (`[[ ]]` groups), SEQUENCE/SET OF with sizes, INTEGER and
 * ENUMERATED, string types with SIZE and FROM, and the constraints PER can see. What PER cannot
 * see (WITH COMPONENTS, CONSTRAINED BY) is read and dropped. Anything else is an error, never a
 * guess: the generator (generate.ts) turns the result into aligned-PER codecs.
 */

export interface Range {
  readonly lb: number;
  readonly ub: number | undefined;
  readonly extensible: boolean;
}

export interface Constraints {
  readonly value?: Range;
  readonly size?: Range;
  readonly from?: string;
}

export type StringKind = 'IA5String' | 'BMPString' | 'NumericString' | 'PrintableString' | 'VisibleString' | 'GeneralString' | 'UTF8String';

export type AsnType =
  | { readonly t: 'ref'; readonly name: string; readonly params: readonly AsnType[]; readonly c: Constraints }
  | { readonly t: 'seq'; readonly root: readonly Component[]; readonly extensible: boolean; readonly additions: readonly Addition[] }
  | { readonly t: 'choice'; readonly root: readonly Component[]; readonly extensible: boolean; readonly additions: readonly Component[] }
  | { readonly t: 'seqof'; readonly item: AsnType; readonly size: Range | undefined }
  | { readonly t: 'int'; readonly range: Range | undefined }
  | { readonly t: 'enum'; readonly root: readonly string[]; readonly extensible: boolean; readonly additions: readonly string[] }
  | { readonly t: 'bool' }
  | { readonly t: 'null' }
  | { readonly t: 'oid' }
  | { readonly t: 'octets'; readonly size: Range | undefined }
  | { readonly t: 'bits'; readonly size: Range | undefined }
  | { readonly t: 'string'; readonly kind: StringKind; readonly size: Range | undefined; readonly from: string | undefined }
  | { readonly t: 'open' };

export interface Component {
  readonly name: string;
  readonly type: AsnType;
  readonly optional: boolean;
  /** DEFAULT value text, when given. */
  readonly defaultValue: string | undefined;
}

/** An extension addition: one component, or a `[[ ]]` group of them. */
export type Addition = { readonly kind: 'component'; readonly component: Component } | { readonly kind: 'group'; readonly components: readonly Component[] };

export interface Assignment {
  readonly name: string;
  readonly params: readonly string[];
  readonly type: AsnType;
}

export interface AsnModule {
  readonly name: string;
  readonly imports: readonly { readonly from: string; readonly names: readonly string[] }[];
  readonly assignments: readonly Assignment[];
}

export class AsnSyntaxError extends Error {}

/** Built-in types these modules do not use and the runtime does not carry. */
const UNSUPPORTED = new Set<string>(['REAL', 'EXTERNAL', 'EMBEDDED', 'ANY', 'CHARACTER', 'GeneralizedTime', 'UTCTime', 'ObjectDescriptor', 'RELATIVE-OID', 'TeletexString', 'T61String', 'VideotexString', 'GraphicString', 'UniversalString']);

const STRING_KINDS = new Set<string>(['IA5String', 'BMPString', 'NumericString', 'PrintableString', 'VisibleString', 'GeneralString', 'UTF8String']);

/** Splits the text into tokens, comments removed (`--` to the end of the line or the next `--`). */
export function tokenize(text: string): string[] {
  const out: string[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const ch = text[i] ?? '';
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    if (text.startsWith('--', i)) {
      const nl = text.indexOf('\n', i + 2);
      const close = text.indexOf('--', i + 2);
      i = close >= 0 && (nl < 0 || close < nl) ? close + 2 : nl < 0 ? n : nl + 1;
      continue;
    }
    if (text.startsWith('/*', i)) {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? n : end + 2;
      continue;
    }
    if (ch === '"') {
      const end = text.indexOf('"', i + 1);
      if (end < 0) throw new AsnSyntaxError('unterminated string');
      out.push(text.slice(i, end + 1));
      i = end + 1;
      continue;
    }
    const punct = ['::=', '...', '..', '[[', ']]'].find((p) => text.startsWith(p, i));
    if (punct !== undefined) {
      out.push(punct);
      i += punct.length;
      continue;
    }
    const m = /^(&?[A-Za-z][A-Za-z0-9-]*|-?[0-9]+|[{}(),|^@.!;<>[\]'])/.exec(text.slice(i, i + 128));
    if (m === null) throw new AsnSyntaxError(`unexpected character ${JSON.stringify(ch)} at ${i}`);
    out.push(m[0]);
    i += m[0].length;
  }
  return out;
}

/** Reads one module. */
export function parseModule(text: string): AsnModule {
  return new Parser(tokenize(text)).module();
}

class Parser {
  readonly #tok: readonly string[];
  #at = 0;

  constructor(tokens: readonly string[]) {
    this.#tok = tokens;
  }

  #peek(k = 0): string | undefined {
    return this.#tok[this.#at + k];
  }

  #next(): string {
    const t = this.#tok[this.#at];
    if (t === undefined) throw new AsnSyntaxError('unexpected end of module');
    this.#at++;
    return t;
  }

  #expect(t: string): void {
    const got = this.#next();
    if (got !== t) throw new AsnSyntaxError(`expected ${t}, got ${got} near ${this.#tok.slice(Math.max(0, this.#at - 8), this.#at + 4).join(' ')}`);
  }

  #accept(t: string): boolean {
    if (this.#peek() === t) {
      this.#at++;
      return true;
    }
    return false;
  }

  module(): AsnModule {
    const name = this.#next();
    while (this.#peek() !== '::=') this.#next(); // DEFINITIONS AUTOMATIC TAGS
    this.#expect('::=');
    this.#expect('BEGIN');
    const imports: { from: string; names: string[] }[] = [];
    if (this.#accept('IMPORTS')) {
      let names: string[] = [];
      while (!this.#accept(';')) {
        const t = this.#next();
        if (t === 'FROM') {
          imports.push({ from: this.#next(), names });
          names = [];
        } else if (t === ',') continue;
        else if (t === '{') this.#expect('}');
        else names.push(t);
      }
    }
    const assignments: Assignment[] = [];
    while (this.#peek() !== 'END') assignments.push(this.#assignment());
    return { name, imports, assignments };
  }

  #assignment(): Assignment {
    const name = this.#next();
    const params: string[] = [];
    if (this.#accept('{')) {
      while (!this.#accept('}')) {
        const t = this.#next();
        if (t !== ',') params.push(t);
      }
    }
    this.#expect('::=');
    return { name, params, type: this.#type() };
  }

  #type(): AsnType {
    const base = this.#baseType();
    return this.#constrained(base);
  }

  #baseType(): AsnType {
    const t = this.#next();
    switch (t) {
      case 'SEQUENCE':
      case 'SET': {
        if (this.#peek() === '{') return this.#sequence();
        let size: Range | undefined;
        if (this.#peek() === '(') size = this.#constraints().size;
        else if (this.#peek() === 'SIZE') {
          this.#next();
          size = this.#constraintBody(true).size;
        }
        this.#expect('OF');
        return { t: 'seqof', item: this.#type(), size };
      }
      case 'CHOICE':
        return this.#choice();
      case 'INTEGER':
        if (this.#peek() === '{') this.#skipBraces();
        return { t: 'int', range: undefined };
      case 'ENUMERATED':
        return this.#enumerated();
      case 'BOOLEAN':
        return { t: 'bool' };
      case 'NULL':
        return { t: 'null' };
      case 'OBJECT':
        this.#expect('IDENTIFIER');
        return { t: 'oid' };
      case 'OCTET':
        this.#expect('STRING');
        return { t: 'octets', size: undefined };
      case 'BIT':
        this.#expect('STRING');
        if (this.#peek() === '{') this.#skipBraces();
        return { t: 'bits', size: undefined };
      case 'TYPE-IDENTIFIER':
        this.#expect('.');
        this.#expect('&Type');
        if (this.#peek() === '(') this.#skipParens();
        return { t: 'open' };
      default: {
        if (STRING_KINDS.has(t)) return { t: 'string', kind: t as StringKind, size: undefined, from: undefined };
        if (!/^[A-Z]/.test(t) || UNSUPPORTED.has(t)) throw new AsnSyntaxError(`unsupported type ${t}`);
        const params: AsnType[] = [];
        if (this.#peek() === '{') {
          this.#next();
          while (!this.#accept('}')) {
            if (this.#accept(',')) continue;
            params.push(this.#type());
          }
        }
        return { t: 'ref', name: t, params, c: {} };
      }
    }
  }

  #constrained(base: AsnType): AsnType {
    let c: Constraints = {};
    while (this.#peek() === '(') c = merge(c, this.#constraints());
    switch (base.t) {
      case 'int':
        return { ...base, range: c.value ?? base.range };
      case 'octets':
      case 'bits':
        return { ...base, size: c.size ?? base.size };
      case 'string':
        return { ...base, size: c.size ?? base.size, from: c.from ?? base.from };
      case 'ref':
        return { ...base, c: merge(base.c, c) };
      default:
        return base;
    }
  }

  /** `( … )`: the PER-visible parts of one constraint. */
  #constraints(): Constraints {
    this.#expect('(');
    const c = this.#constraintBody(false);
    this.#expect(')');
    return c;
  }

  /** A constraint's body; `sizeOnly`: the parenthesised operand of a bare SIZE. */
  #constraintBody(sizeOnly: boolean): Constraints {
    if (sizeOnly) {
      const r = this.#rangeInParens();
      return { size: r };
    }
    let c: Constraints = {};
    for (;;) {
      const t = this.#peek();
      if (t === 'SIZE') {
        this.#next();
        c = merge(c, { size: this.#rangeInParens() });
      } else if (t === 'FROM') {
        this.#next();
        this.#expect('(');
        let alphabet = '';
        while (!this.#accept(')')) {
          const s = this.#next();
          if (s.startsWith('"')) alphabet += s.slice(1, -1);
          else if (s !== '|') throw new AsnSyntaxError(`unsupported permitted alphabet part ${s}`);
        }
        c = merge(c, { from: alphabet });
      } else if (t === 'WITH' || t === 'CONSTRAINED') {
        while (this.#peek() !== '{') this.#next();
        this.#skipBraces();
      } else if (t === '(') {
        this.#next();
        c = merge(c, this.#constraintBody(false));
        this.#expect(')');
      } else if (t !== undefined && /^-?[0-9]+$|^MIN$/.test(t)) {
        c = merge(c, { value: this.#range() });
      } else if (t === '^') this.#next();
      else if (t === ',') {
        this.#next();
        if (this.#accept('...')) {
          c = c.value !== undefined ? { ...c, value: { ...c.value, extensible: true } } : c.size !== undefined ? { ...c, size: { ...c.size, extensible: true } } : c;
        }
      } else break;
    }
    return c;
  }

  #rangeInParens(): Range {
    this.#expect('(');
    const r = this.#range();
    let ext = false;
    if (this.#accept(',')) {
      this.#expect('...');
      ext = true;
    }
    this.#expect(')');
    return { ...r, extensible: ext };
  }

  #range(): Range {
    const lbText = this.#next();
    const lb = lbText === 'MIN' ? Number.MIN_SAFE_INTEGER : Number(lbText);
    if (!this.#accept('..')) return { lb, ub: lb, extensible: false };
    const ubText = this.#next();
    const ub = ubText === 'MAX' ? undefined : Number(ubText);
    if (!Number.isSafeInteger(lb) || (ub !== undefined && !Number.isSafeInteger(ub))) throw new AsnSyntaxError(`bad range ${lbText}..${ubText}`);
    return { lb, ub, extensible: false };
  }

  #components(close: string): { root: Component[]; extensible: boolean; additions: Addition[]; after: Component[] } {
    const root: Component[] = [];
    const additions: Addition[] = [];
    const after: Component[] = [];
    let part: 'root' | 'additions' | 'after' = 'root';
    while (!this.#accept(close)) {
      if (this.#accept(',')) continue;
      if (this.#accept('...')) {
        if (this.#accept('!')) this.#next();
        part = part === 'root' ? 'additions' : 'after';
        continue;
      }
      if (this.#accept('[[')) {
        const group: Component[] = [];
        while (!this.#accept(']]')) {
          if (this.#accept(',')) continue;
          group.push(this.#component());
        }
        additions.push({ kind: 'group', components: group });
        continue;
      }
      const c = this.#component();
      if (part === 'root') root.push(c);
      else if (part === 'additions') additions.push({ kind: 'component', component: c });
      else after.push(c);
    }
    return { root, extensible: part !== 'root', additions, after };
  }

  #component(): Component {
    const name = this.#next();
    if (!/^[a-z]/.test(name)) throw new AsnSyntaxError(`component name ${name}`);
    const type = this.#type();
    let optional = false;
    let defaultValue: string | undefined;
    if (this.#accept('OPTIONAL')) optional = true;
    else if (this.#accept('DEFAULT')) {
      optional = true;
      defaultValue = this.#next();
      if (defaultValue === '{') {
        this.#at--;
        this.#skipBraces();
        defaultValue = '{}';
      }
    }
    return { name, type, optional, defaultValue };
  }

  #sequence(): AsnType {
    this.#expect('{');
    const { root, extensible, additions, after } = this.#components('}');
    return { t: 'seq', root: [...root, ...after], extensible, additions };
  }

  #choice(): AsnType {
    this.#expect('{');
    const { root, extensible, additions } = this.#components('}');
    const alts: Component[] = [];
    for (const a of additions) {
      if (a.kind === 'group') alts.push(...a.components);
      else alts.push(a.component);
    }
    return { t: 'choice', root, extensible, additions: alts };
  }

  #enumerated(): AsnType {
    this.#expect('{');
    const root: string[] = [];
    const additions: string[] = [];
    let ext = false;
    while (!this.#accept('}')) {
      if (this.#accept(',')) continue;
      if (this.#accept('...')) {
        ext = true;
        continue;
      }
      const name = this.#next();
      if (this.#accept('(')) {
        this.#next();
        this.#expect(')');
      }
      (ext ? additions : root).push(name);
    }
    return { t: 'enum', root, extensible: ext, additions };
  }

  #skipBraces(): void {
    this.#expect('{');
    let depth = 1;
    while (depth > 0) {
      const t = this.#next();
      if (t === '{') depth++;
      else if (t === '}') depth--;
    }
  }

  #skipParens(): void {
    this.#expect('(');
    let depth = 1;
    while (depth > 0) {
      const t = this.#next();
      if (t === '(') depth++;
      else if (t === ')') depth--;
    }
  }
}

function merge(a: Constraints, b: Constraints): Constraints {
  return { ...a, ...b };
}
