import Fastify from 'fastify';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Registry } from 'prom-client';
import { registerChimeApi } from './chime/plugin.ts';
import type { ChimeApiDeps } from './chime/deps.ts';
import { ChimeError, sendChimeError } from './errors.ts';

export interface AppDeps {
  /** Whether every listener is up and the store is reachable. */
  readonly ready: () => boolean;
  readonly metrics: Registry;
  /** The Chime SDK Voice–compatible API (absent: health and metrics only). */
  readonly chime?: ChimeApiDeps | undefined;
}

/**
 * Errors the router raises before any route runs — a path label longer than the router keeps
 * (FST_ERR_MAX_PARAM_LENGTH, 414) or one that is not valid percent-encoding (FST_ERR_BAD_URL, 400) —
 * answered in Chime's error shape (typed BadRequestException, the HTTP status kept, as for 413),
 * without echoing the path back.
 */
const frameworkErrors = (err: FastifyError, _req: FastifyRequest, reply: FastifyReply): void => {
  const tooLong = err.code === 'FST_ERR_MAX_PARAM_LENGTH';
  void sendChimeError(reply, new ChimeError('BadRequestException', tooLong ? 'A path label is longer than the API accepts' : 'The request path is not valid percent-encoding', tooLong ? 'UriTooLong' : 'BadRequest', tooLong ? 414 : 400));
};

/**
 * The HTTP API on --api: liveness, readiness, metrics, and the Chime SDK Voice–compatible API.
 * No version banner in any header.
 */
export function buildApp(deps: AppDeps): FastifyInstance {
  const app = Fastify({ logger: false, return503OnClosing: true, frameworkErrors });
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
