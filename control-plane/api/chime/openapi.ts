import type { RouteOptions } from 'fastify';

/**
 * An OpenAPI 3 description of the Chime-compatible API, generated from the routes as registered
 * and the very schemas that validate their requests (`schema.ts`): paths, methods, path labels,
 * query members and request bodies per operation. Operations that share a URI and method (told
 * apart by `?operation=`, reference §1.2) are one OpenAPI operation whose body is `oneOf` the
 * operations' bodies, each titled with its operation. Served at /docs.
 */
interface RouteSchemas {
  readonly params?: JsonSchema;
  readonly querystring?: JsonSchema;
  readonly body?: JsonSchema;
}

interface JsonSchema {
  readonly type?: string;
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly required?: readonly string[];
  readonly description?: string;
}

interface Operation {
  readonly operationId: string;
  readonly operation?: string;
  readonly schemas: RouteSchemas;
}

function operationOf(r: RouteOptions): Operation | undefined {
  const action = (r.config as { action?: string } | undefined)?.action;
  if (action === undefined) return undefined;
  const operation = (r.constraints as { operation?: string } | undefined)?.operation;
  return { operationId: action.replace(/^\w+:/, ''), ...(operation === undefined ? {} : { operation }), schemas: (r.schema ?? {}) as RouteSchemas };
}

function parametersOf(where: 'path' | 'query', s: JsonSchema | undefined): Record<string, unknown>[] {
  return Object.entries(s?.properties ?? {}).map(([name, schema]) => ({
    name,
    in: where,
    required: where === 'path' || (s?.required ?? []).includes(name),
    schema,
    ...(schema.description === undefined ? {} : { description: schema.description }),
  }));
}

function describe(url: string, ops: readonly Operation[]): Record<string, unknown> {
  const labels = [...url.matchAll(/\{(\w+)\}/g)].map((m) => m[1] as string);
  const path = ops[0]?.schemas.params ?? { properties: Object.fromEntries(labels.map((l) => [l, { type: 'string' }])) };
  const query = new Map<string, Record<string, unknown>>();
  for (const o of ops) for (const p of parametersOf('query', o.schemas.querystring)) query.set(p.name as string, p);
  const named = ops.filter((o) => o.operation !== undefined);
  if (named.length > 0) {
    const values = named.map((o) => o.operation as string);
    query.set('operation', { name: 'operation', in: 'query', required: named.length === ops.length, schema: { type: 'string', enum: values } });
  }
  const bodies = ops.flatMap((o) => (o.schemas.body === undefined ? [] : [{ title: o.operationId, ...o.schemas.body }]));
  const body = bodies.length === 0 ? undefined : bodies.length === 1 ? bodies[0] : { oneOf: bodies };
  return {
    operationId: ops.map((o) => o.operationId).join('_or_'),
    summary: ops.map((o) => (o.operation === undefined ? o.operationId : `${o.operationId} (?operation=${o.operation})`)).join('; '),
    parameters: [...parametersOf('path', path), ...query.values()],
    ...(body === undefined ? {} : { requestBody: { required: true, content: { 'application/json': { schema: body } } } }),
    security: [{ sigv4: [] }],
    responses: {
      default: { description: 'Success: the operation\'s answer. Errors carry x-amzn-ErrorType and {Code, Message}.' },
    },
  };
}

export function openApiDocument(routes: readonly RouteOptions[], title: string): Record<string, unknown> {
  const grouped = new Map<string, Map<string, Operation[]>>();
  for (const r of routes) {
    const op = operationOf(r);
    if (op === undefined) continue;
    const url = r.url.replace(/:(\w+)/g, '{$1}');
    for (const m of Array.isArray(r.method) ? r.method : [r.method]) {
      const method = m.toLowerCase();
      if (method === 'head') continue;
      const byMethod = grouped.get(url) ?? new Map<string, Operation[]>();
      grouped.set(url, byMethod);
      byMethod.set(method, [...(byMethod.get(method) ?? []), op]);
    }
  }
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [url, byMethod] of grouped) paths[url] = Object.fromEntries([...byMethod].map(([method, ops]) => [method, describe(url, ops)]));
  return {
    openapi: '3.0.3',
    info: { title, version: '2022-08-03', description: 'Chime SDK Voice–compatible restJson1 API (and the legacy chime accounts/users under /chime). Requests are SigV4-signed with signing name "chime".' },
    components: { securitySchemes: { sigv4: { type: 'apiKey', in: 'header', name: 'Authorization', description: 'AWS Signature Version 4, service "chime", any region' } } },
    paths,
  };
}
