/**
 * Turns the ITU modules (signaling/h323/asn/modules/) into aligned-PER codecs and their types
 * over the runtime in signaling/h323/per/: one TypeScript file per module, committed, and a
 * test checks that running this again changes nothing. `npm run asn1` rewrites them.
 *
 * Every type `Foo-Bar` becomes a type `Foo_Bar` and a codec `Foo_Bar`; components keep their
 * ASN.1 names; references are lazy, so recursive types (H.245 has several) just work.
 * DEFAULT components are optional here (present when sent; nothing filled in).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseModule } from './parse.ts';
import type { AsnModule, AsnType, Assignment, Component, Range } from './parse.ts';

export const MODULES = [
  { file: 'H235-SECURITY-MESSAGES.asn', out: 'h235.ts' },
  { file: 'h245v13.asn', out: 'h245.ts' },
  { file: 'h2250v6.asn', out: 'h225.ts' },
] as const;

const ident = (name: string): string => name.replace(/-/g, '_');
const key = (name: string): string => `'${name}'`;

type Names = ReadonlyMap<string, { readonly module: string; readonly a: Assignment }>;

interface Scope {
  /** The assignments a name means in the module being read: its own, then those it imports. */
  readonly all: Names;
  /** Each module's names (a parameterised type is expanded with its own module's). */
  readonly modules: ReadonlyMap<string, Names>;
  /** Parameter name → the actual type, inside a parameterised type's expansion. */
  readonly params: ReadonlyMap<string, { readonly type: AsnType; readonly all: Names }>;
  /** The module whose file is being written. */
  readonly module: string;
  /** Types of other modules this one refers to. */
  readonly imports: Map<string, Set<string>>;
}

function size(r: Range | undefined): string {
  if (r === undefined) return '';
  const parts = [`lb: ${r.lb}`];
  if (r.ub !== undefined) parts.push(`ub: ${r.ub}`);
  if (r.extensible) parts.push('extensible: true');
  return `{ ${parts.join(', ')} }`;
}

function refName(s: Scope, name: string): string {
  const found = s.all.get(name);
  if (found === undefined) throw new Error(`unknown type ${name}`);
  if (found.module !== s.module) {
    const set = s.imports.get(found.module) ?? new Set<string>();
    set.add(ident(name));
    s.imports.set(found.module, set);
  }
  return ident(name);
}

/** A reference that must be expanded in place: parameterised, a parameter, or constrained further. */
function expansion(s: Scope, t: Extract<AsnType, { t: 'ref' }>): { type: AsnType; scope: Scope } | undefined {
  const param = s.params.get(t.name);
  if (param !== undefined) return { type: param.type, scope: { ...s, all: param.all, params: new Map() } };
  const found = s.all.get(t.name);
  if (found === undefined) throw new Error(`unknown type ${t.name}`);
  if (found.a.params.length > 0) {
    if (t.params.length !== found.a.params.length) throw new Error(`${t.name} takes ${found.a.params.length} parameters`);
    const params = new Map(found.a.params.map((p, i) => [p, { type: t.params[i] as AsnType, all: s.all }]));
    return { type: found.a.type, scope: { ...s, params, all: s.modules.get(found.module) ?? s.all } };
  }
  const c = t.c;
  if (c.size === undefined && c.value === undefined && c.from === undefined) return undefined;
  const base = found.a.type;
  switch (base.t) {
    case 'int':
      return { type: { ...base, range: c.value ?? base.range }, scope: s };
    case 'string':
      return { type: { ...base, size: c.size ?? base.size, from: c.from ?? base.from }, scope: s };
    case 'octets':
    case 'bits':
      return { type: { ...base, size: c.size ?? base.size }, scope: s };
    default:
      throw new Error(`constraint on a reference to ${t.name} (${base.t})`);
  }
}

function tsType(s: Scope, t: AsnType): string {
  switch (t.t) {
    case 'ref': {
      const e = expansion(s, t);
      return e === undefined ? refName(s, t.name) : tsType(e.scope, e.type);
    }
    case 'int':
      return 'number';
    case 'bool':
      return 'boolean';
    case 'null':
      return 'null';
    case 'oid':
      return 'readonly number[]';
    case 'octets':
    case 'open':
      return 'Buffer';
    case 'bits':
      return 'BitString';
    case 'string':
      return 'string';
    case 'seqof':
      return `(${tsType(s, t.item)})[]`;
    case 'enum':
      return [...t.root, ...t.additions].map((n) => `'${n}'`).join(' | ') + (t.extensible ? ' | UnknownEnum' : '');
    case 'seq': {
      const fields = t.root.map((c) => `${key(c.name)}${c.optional ? '?' : ''}: ${tsType(s, c.type)}`);
      for (const a of t.additions) {
        if (a.kind === 'group') throw new Error('extension groups are not used by these modules');
        fields.push(`${key(a.component.name)}?: ${tsType(s, a.component.type)}`);
      }
      if (t.extensible) fields.push('[UNKNOWN]?: readonly UnknownExtension[]');
      return `{ ${fields.join('; ')} }`;
    }
    case 'choice': {
      const alts = [...t.root, ...t.additions].map((c) => `{ readonly choice: '${c.name}'; readonly value: ${tsType(s, c.type)} }`);
      alts.push('UnknownChoice');
      return alts.join(' | ');
    }
  }
}

function codec(s: Scope, t: AsnType): string {
  switch (t.t) {
    case 'ref': {
      const e = expansion(s, t);
      return e === undefined ? refName(s, t.name) : codec(e.scope, e.type);
    }
    case 'int': {
      const r = t.range;
      const ext = r?.extensible === true ? ', { extensible: true }' : '';
      if (r === undefined || r.lb === Number.MIN_SAFE_INTEGER) return 'integer';
      if (r.ub === undefined) return `intMin(${r.lb}${ext})`;
      return `int(${r.lb}, ${r.ub}${ext})`;
    }
    case 'bool':
      return 'bool';
    case 'null':
      return 'nul';
    case 'oid':
      return 'objectIdentifier';
    case 'octets':
      return `octets(${size(t.size)})`;
    case 'open':
      return 'openBytes';
    case 'bits':
      return `bitString(${size(t.size)})`;
    case 'string': {
      if (t.kind === 'GeneralString') return 'generalString';
      if (t.kind === 'UTF8String') return 'utf8String';
      const opts: string[] = [];
      if (t.size !== undefined) opts.push(`size: ${size(t.size)}`);
      if (t.from !== undefined) opts.push(`from: ${JSON.stringify(t.from)}`);
      return `charString('${t.kind}'${opts.length > 0 ? `, { ${opts.join(', ')} }` : ''})`;
    }
    case 'seqof':
      return `seqOf(${codec(s, t.item)}${t.size === undefined ? '' : `, ${size(t.size)}`})`;
    case 'enum': {
      const opts: string[] = [];
      if (t.extensible) opts.push('extensible: true');
      if (t.additions.length > 0) opts.push(`additions: [${t.additions.map((n) => `'${n}'`).join(', ')}]`);
      return `enumerated([${t.root.map((n) => `'${n}'`).join(', ')}]${opts.length > 0 ? `, { ${opts.join(', ')} }` : ''})`;
    }
    case 'seq': {
      const field = (c: Component): string => `${key(c.name)}: ${c.optional ? 'opt' : 'req'}(${codec(s, c.type)})`;
      const root = `{ ${t.root.map(field).join(', ')} }`;
      if (!t.extensible) return `seq(${root}, { additions: {} })`;
      const adds = t.additions.map((a) => {
        if (a.kind === 'group') throw new Error('extension groups are not used by these modules');
        return `${key(a.component.name)}: opt(${codec(s, a.component.type)})`;
      });
      return `seq(${root}, { extensible: true, additions: { ${adds.join(', ')} } })`;
    }
    case 'choice': {
      const alt = (c: Component): string => `${key(c.name)}: ${codec(s, c.type)}`;
      const root = `{ ${t.root.map(alt).join(', ')} }`;
      if (!t.extensible) return `choice(${root}, { additions: {} })`;
      return `choice(${root}, { extensible: true, additions: { ${t.additions.map(alt).join(', ')} } })`;
    }
  }
}

const RUNTIME = ['bitString', 'bool', 'charString', 'choice', 'enumerated', 'generalString', 'int', 'integer', 'intMin', 'lazy', 'nul', 'objectIdentifier', 'octets', 'openBytes', 'opt', 'req', 'seq', 'seqOf', 'UNKNOWN', 'utf8String'];
const RUNTIME_TYPES = ['BitString', 'Codec', 'UnknownChoice', 'UnknownEnum', 'UnknownExtension'];

const MODULE_FILE: Readonly<Record<string, string>> = {
  'H235-SECURITY-MESSAGES': 'h235.ts',
  'MULTIMEDIA-SYSTEM-CONTROL': 'h245.ts',
  'H323-MESSAGES': 'h225.ts',
};

/** The generated source of every module, by output file name. */
export function generate(texts: Readonly<Record<string, string>>): Map<string, string> {
  const modules: AsnModule[] = MODULES.map((m) => {
    const text = texts[m.file];
    if (text === undefined) throw new Error(`missing ${m.file}`);
    return parseModule(text);
  });
  const byModule = new Map(modules.map((m) => [m.name, new Map(m.assignments.map((a) => [a.name, a]))]));
  const names = new Map<string, Names>();
  for (const m of modules) {
    // A name means the module's own type, else the one its IMPORTS name (modules define some names alike).
    const all = new Map<string, { module: string; a: Assignment }>();
    for (const imp of m.imports) {
      for (const name of imp.names) {
        const a = byModule.get(imp.from)?.get(name);
        if (a === undefined) throw new Error(`${m.name} imports ${name} from ${imp.from}, which does not define it`);
        all.set(name, { module: imp.from, a });
      }
    }
    for (const a of m.assignments) all.set(a.name, { module: m.name, a });
    names.set(m.name, all);
  }
  const out = new Map<string, string>();
  for (const m of modules) {
    const scope: Scope = { all: names.get(m.name) ?? new Map(), modules: names, params: new Map(), module: m.name, imports: new Map() };
    const body: string[] = [];
    for (const a of m.assignments) {
      if (a.params.length > 0) continue; // expanded where used
      const n = ident(a.name);
      body.push(`export type ${n} = ${tsType(scope, a.type)};`);
      body.push(`export const ${n}: Codec<${n}> = lazy((): Codec<${n}> => ${codec(scope, a.type)});`);
    }
    const own = MODULE_FILE[m.name] ?? '';
    // One import brings a name's type and its codec.
    const imports = [...scope.imports].map(([mod, names]) => `import { ${[...names].sort().join(', ')} } from './${MODULE_FILE[mod] ?? ''}';`);
    const text = body.join('\n');
    const used = (names: readonly string[]): string => names.filter((n) => new RegExp(`\\b${n}\\b`).test(text)).join(', ');
    const header = [
      `// Generated by scripts/asn1/generate.ts from signaling/h323/asn/modules (${m.name}). Do not edit: run \`npm run asn1\`.`,
      `import { ${used(RUNTIME)} } from '../per/index.ts';`,
      `import type { ${used(RUNTIME_TYPES)} } from '../per/index.ts';`,
      ...imports,
      '',
    ];
    out.set(own, `${[...header, ...body].join('\n')}\n`);
  }
  return out;
}

/** Reads the modules from the repository. */
export function readModules(): Record<string, string> {
  const dir = new URL('../../signaling/h323/asn/modules/', import.meta.url);
  return Object.fromEntries(MODULES.map((m) => [m.file, readFileSync(new URL(m.file, dir), 'utf8')]));
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const dir = new URL('../../signaling/h323/asn/', import.meta.url);
  for (const [file, text] of generate(readModules())) writeFileSync(new URL(file, dir), text);
}
