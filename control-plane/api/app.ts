import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { registerChimeApi } from './chime/plugin.ts';
import type { ChimeApiDeps } from './chime/deps.ts';

export interface AppDeps {
  /** Whether every listener is up and the store is reachable. */
  readonly ready: () => boolean;
  readonly metrics: Registry;
  /** The Chime SDK Voice–compatible API (absent: health and metrics only). */
  readonly chime?: ChimeApiDeps | undefined;
}

/**
 * The HTTP API on --api: liveness, readiness, metrics, and the Chime SDK Voice–compatible API.
 * No version banner in any header.
 */
export function buildApp(deps: AppDeps): FastifyInstance {
  const app = Fastify({ logger: false, return503OnClosing: true });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    if (!deps.ready()) return reply.code(503).send({ status: 'not ready' });
    // Ready means the store answers too.
    if (deps.chime !== undefined) {
      try {
        await deps.chime.store.db.selectFrom('settings').select('key').limit(1).execute();
      } catch {
        return reply.code(503).send({ status: 'store unreachable' });
      }
    }
    return { status: 'ready' };
  });
  app.get('/metrics', async (_req, reply) => {
    const body = await deps.metrics.metrics();
    return reply.header('content-type', deps.metrics.contentType).send(body);
  });
  if (deps.chime !== undefined) {
    const docs = registerChimeApi(app, deps.chime);
    // The API's description, generated from the routes as registered (public, like /healthz).
    app.get('/docs', async () => docs());
  }
  return app;
}
