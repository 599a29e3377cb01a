import type { RouteOptions } from 'fastify';

/**
 * An OpenAPI 3 description of the Chime-compatible API, generated from the routes as registered:
 * paths and methods, path labels, the operations each route serves (by `?operation=` where
 * several share one), and the route schemas where a route declares one. Served at /docs.
 */
interface Operation {
  readonly operationId: string;
  readonly operationQuery?: string;
}

function operationsOf(r: RouteOptions): Operation[] {
  const cfg = (r.config ?? {}) as { action?: string; actionByOperation?: Readonly<Record<string, string>> };
  const out: Operation[] = [];
  for (const [q, action] of Object.entries(cfg.actionByOperation ?? {})) out.push({ operationId: action.replace(/^\w+:/, ''), operationQuery: q });
  if (cfg.action !== undefined) out.push({ operationId: cfg.action.replace(/^\w+:/, '') });
  return out;
}

export function openApiDocument(routes: readonly RouteOptions[], title: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const methods = (Array.isArray(r.method) ? r.method : [r.method]).map((m) => m.toLowerCase()).filter((m) => m !== 'head');
    const url = r.url.replace(/:(\w+)/g, '{$1}');
    const labels = [...r.url.matchAll(/:(\w+)/g)].map((m) => m[1] as string);
    const ops = operationsOf(r);
    if (ops.length === 0) continue;
    for (const method of methods) {
      const entry = (paths[url] ??= {});
      const schema = (r.schema ?? {}) as { body?: unknown; querystring?: unknown };
      entry[method] = {
        operationId: ops.map((o) => o.operationId).join(' | '),
        summary: ops.map((o) => (o.operationQuery === undefined ? o.operationId : `${o.operationId} (?operation=${o.operationQuery})`)).join('; '),
        parameters: [
          ...labels.map((name) => ({ name, in: 'path', required: true, schema: { type: 'string' } })),
          ...(ops.some((o) => o.operationQuery !== undefined) ? [{ name: 'operation', in: 'query', required: false, schema: { type: 'string', enum: ops.flatMap((o) => (o.operationQuery === undefined ? [] : [o.operationQuery])) } }] : []),
        ],
        ...(schema.body === undefined ? {} : { requestBody: { content: { 'application/json': { schema: schema.body } } } }),
        security: [{ sigv4: [] }],
        responses: {
          default: { description: 'Errors carry x-amzn-ErrorType and {Code, Message}' },
        },
      };
    }
  }
  return {
    openapi: '3.0.3',
    info: { title, version: '2022-08-03', description: 'Chime SDK Voice–compatible restJson1 API (and the legacy chime accounts/users under /chime). Requests are SigV4-signed with signing name "chime".' },
    components: { securitySchemes: { sigv4: { type: 'apiKey', in: 'header', name: 'Authorization', description: 'AWS Signature Version 4, service "chime", any region' } } },
    paths,
  };
}
