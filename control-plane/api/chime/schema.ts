import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyBaseLogger, FastifyInstance, FastifySchemaCompiler, RawServerDefault } from 'fastify';
import Type from 'typebox';
import type { Static, TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import type { Validator } from 'typebox/compile';
import { NON_BLANK, Str } from '../../../common/config-documents.ts';
import { badRequest } from '../errors.ts';
import type { ChimeError } from '../errors.ts';

/**
 * The API's request schemas: one TypeBox (plain JSON Schema) description per operation's path
 * labels, query and body. The same objects validate every request (reference §1.2: the SDK
 * validates nothing, the server must) and describe the operation in the OpenAPI document at /docs.
 */
export type ChimeScope = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, TypeBoxTypeProvider>;

// The value rules the stored configuration documents share with every operation (common/config-documents.ts).
export { ALPHA2_PATTERN, CountryCode, E164_PATTERN, E164Number, NON_BLANK, Str } from '../../../common/config-documents.ts';
export const NAME_PATTERN = '^[a-zA-Z0-9 _.-]+$';

export const TagList = Type.Array(Type.Object({ Key: Str(1, 128), Value: Str(0, 256) }), { minItems: 1, maxItems: 50 });

/** Path labels: each one present and not blank. */
export function Labels<K extends string>(...names: K[]): ReturnType<typeof Type.Object<Record<K, ReturnType<typeof Type.String>>>> {
  const props = {} as Record<K, ReturnType<typeof Type.String>>;
  for (const n of names) props[n] = Type.String({ minLength: 1, pattern: NON_BLANK });
  return Type.Object(props);
}

/** `max-results` (1..max) and `next-token` of a list operation. */
export function Paging(max: number) {
  return {
    'max-results': Type.Optional(Type.Integer({ minimum: 1, maximum: max, description: `page size, default ${max}` })),
    'next-token': Type.Optional(Type.String({ description: 'the NextToken of the previous page' })),
  };
}

function pathOf(instancePath: string, part: string): string {
  const p = instancePath
    .split('/')
    .slice(1)
    .map((s) => (/^\d+$/.test(s) ? `[${s}]` : `.${s}`))
    .join('')
    .replace(/^\./, '');
  if (p === '') return part === 'body' ? 'The request body' : `The ${part}`;
  return part === 'body' || part === 'querystring' || part === 'params' ? p : `${part}.${p}`;
}

/** The first failure of `value` against `v`, as a BadRequestException naming the member and the rule. */
function failure(v: Validator, value: unknown, part: string): ChimeError {
  const errors = v.Errors(value);
  const first = errors.find((e) => e.keyword !== 'const' && e.keyword !== 'anyOf') ?? errors[0];
  if (first === undefined) return badRequest(`The ${part} is not valid`);
  const allowed = (first.params as { allowedValues?: unknown[] }).allowedValues;
  const detail = allowed === undefined ? first.message : `${first.message}: ${allowed.join(', ')}`;
  return badRequest(`${pathOf(first.instancePath, part)} ${detail}`);
}

/**
 * Fastify validator compiler for TypeBox schemas: path labels and the query arrive as strings and
 * are converted to the schema's types first (`max-results=5` → 5; `5x` stays a string and fails);
 * the body is checked as sent.
 */
export const chimeValidatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const v = Compile(schema);
  const part = httpPart ?? 'body';
  return (data: unknown) => {
    const value = part === 'body' ? (data ?? {}) : v.Convert(data);
    return v.Check(value) ? { value } : { error: failure(v, value, part) };
  };
};

/** A checker for values that do not arrive through a route (CSV rows): returns the value typed, or throws BadRequest. */
export function checker<S extends TSchema>(schema: S, what: string): (value: unknown, where?: string) => Static<S> {
  const v = Compile(schema);
  return (value, where = what) => {
    if (v.Check(value)) return value as Static<S>;
    throw failure(v, value, where);
  };
}

/** `?operation=` as a route constraint: operations sharing one URI are separate routes (reference §1.2). */
type ConstraintStrategy = Parameters<FastifyInstance['addConstraintStrategy']>[0];
type RouteStore = ReturnType<ConstraintStrategy['storage']>;
export const operationConstraint: ConstraintStrategy = {
  name: 'operation',
  storage() {
    const byValue = new Map<string, Parameters<RouteStore['set']>[1]>();
    return {
      get: (k: string) => byValue.get(k) ?? null,
      set: (k: string, v) => {
        byValue.set(k, v);
      },
    };
  },
  deriveConstraint(req: IncomingMessage): string | undefined {
    const url = req.url ?? '';
    const q = url.indexOf('?');
    if (q < 0 || !url.includes('operation=', q)) return undefined;
    return new URLSearchParams(url.slice(q + 1)).get('operation') ?? undefined;
  },
  mustMatchWhenDerived: true,
};
