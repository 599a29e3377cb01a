import crypto from 'node:crypto';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import Type from 'typebox';
import type { ChimeApiDeps } from './deps.ts';
import { ChimeError, contentTooLarge, sendChimeError } from '../errors.ts';
import type { SigV4Failure } from '../sigv4.ts';
import { verifySigV4 } from '../sigv4.ts';
import { TokenBuckets } from '../../../common/token-bucket.ts';
import { actionAllowed } from './policy.ts';
import { chimeValidatorCompiler, operationConstraint } from './schema.ts';
import type { ChimeScope } from './schema.ts';
import { registerAccountAdminRoutes, registerAccountRoutes } from './accounts.ts';
import { registerCarrierRoutes } from './carriers.ts';
import { registerE911Routes } from './e911.ts';
import { openApiDocument } from './openapi.ts';
import { registerPortingRoutes } from './porting.ts';
import { registerGroupAndTagRoutes } from './groups-and-tags.ts';
import { registerPhoneNumberRoutes } from './phone-numbers.ts';
import { registerVoiceConnectorConfigRoutes } from './voice-connector-config.ts';
import { registerVoiceConnectorRoutes } from './voice-connectors.ts';
import { registerMeetingRoutes } from '../meetings/routes.ts';
import { registerCarillonMeetingRoutes } from '../meetings/carillon-routes.ts';
import { registerLegacyDialOutRoute } from '../meetings/dial-out.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The body bytes exactly as received (SigV4 signs them); absent when the request had none. */
    rawBody?: Buffer;
    /** Who signed the request. */
    accessKeyId?: string;
  }
  interface FastifyContextConfig {
    /** The Chime action this route performs (`chime:CreateVoiceConnector`), for policies and audit. */
    action?: string;
  }
}

/** The action a request performs (operations sharing a URI are separate routes, told apart by `?operation=`). */
export function actionOf(req: FastifyRequest): string {
  return req.routeOptions.config.action ?? 'chime:Unknown';
}

export type { ChimeApiDeps } from './deps.ts';

const EMPTY = Buffer.alloc(0);
/** Fastify's default `bodyLimit`, for the message when the app does not set one. */
const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024;

/**
 * The throttling error a client knows: the Chime SDK Meetings API (paths under /meetings) names it
 * ThrottlingException; the Voice API, the legacy API under /chime and Carillon's routes
 * ThrottledClientException (both 429, both retryable to the SDKs).
 */
export function throttleTypeOf(url: string): 'ThrottlingException' | 'ThrottledClientException' {
  return url === '/meetings' || url.startsWith('/meetings/') || url.startsWith('/meetings?') ? 'ThrottlingException' : 'ThrottledClientException';
}

/** Strict UTF-8: a body with invalid bytes is refused rather than read with U+FFFD in it. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** What a refused signature is told (all ForbiddenException, 403). */
const SIGV4_REFUSAL: Readonly<Record<SigV4Failure, string>> = {
  missing: 'The request is not signed (AWS Signature Version 4 Authorization header expected)',
  malformed: 'The Authorization header, its SignedHeaders (host and x-amz-date, or date, must be signed) or the request date is malformed',
  path: 'The request path must be normalized (no empty, "." or ".." segments)',
  'unknown-key': 'The access key ID is not known',
  expired: 'Signature expired: the request time is more than 15 minutes from the server time',
  service: 'The credential scope must name the service "chime"',
  'scope-date': "The credential scope's date is not the request date",
  'body-hash': 'x-amz-content-sha256 does not match the body received',
  signature: 'The request signature we calculated does not match the signature you provided',
};

/**
 * The Chime SDK Voice–compatible API (restJson1; reference/chime-sdk-voice-api.md): every route
 * SigV4-verified against the store's access keys, authorised by the key's action patterns,
 * audited, and answering errors the way the official SDK recognises them.
 */
export function registerChimeApi(app: FastifyInstance, deps: ChimeApiDeps): () => Record<string, unknown> {
  const routes: RouteOptions[] = [];
  const buckets = new TokenBuckets(deps.rateLimit?.perSec ?? 200, deps.rateLimit?.burst ?? 400);
  app.addConstraintStrategy(operationConstraint);
  void app.register(async (plain) => {
    const scope: ChimeScope = plain.withTypeProvider<TypeBoxTypeProvider>();
    scope.setValidatorCompiler(chimeValidatorCompiler);
    scope.addHook('onRoute', (r) => {
      routes.push(r);
    });
    // The body stays bytes whatever its Content-Type (botocore may send none, curl whatever it is
    // told): SigV4 hashes exactly what arrived, and JSON is read only once the signature holds.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (req, body, done) => {
      req.rawBody = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
      done(null, undefined);
    });
    const parseJson = scope.getDefaultJsonParser('error', 'error');

    // Authentication comes before validation: an unsigned request learns nothing about its body.
    scope.addHook('preValidation', async (req, reply) => {
      const action = actionOf(req);
      const result = await verifySigV4(
        { method: req.method, url: req.url, rawHeaders: req.raw.rawHeaders, body: req.rawBody ?? EMPTY },
        async (akid) => (await deps.store.db.selectFrom('access_keys').select('secret_access_key').where('access_key_id', '=', akid).executeTakeFirst())?.secret_access_key,
        (deps.signingClock ?? deps.clock).nowMs(),
      );
      if ('failure' in result) return sendChimeError(reply, new ChimeError('ForbiddenException', SIGV4_REFUSAL[result.failure]));
      req.accessKeyId = result.accessKeyId;
      if (!buckets.take(result.accessKeyId, deps.clock.monoMs())) return sendChimeError(reply, new ChimeError(throttleTypeOf(req.url), 'Rate exceeded; retry with backoff'));
      const key = await deps.store.db.selectFrom('access_keys').select('actions').where('access_key_id', '=', result.accessKeyId).executeTakeFirst();
      const patterns = key === undefined ? [] : (JSON.parse(key.actions) as string[]);
      if (!actionAllowed(patterns, action)) return sendChimeError(reply, new ChimeError('AccessDeniedException', `${result.accessKeyId} is not allowed to perform ${action}`));
      // restJson1 bodies are JSON; an operation without body members may send none at all.
      const raw = req.rawBody;
      if (raw === undefined || raw.length === 0) {
        if (req.routeOptions.schema?.body !== undefined) req.body = {};
        return undefined;
      }
      try {
        const text = UTF8.decode(raw);
        req.body = await new Promise<unknown>((resolve, reject) => {
          parseJson(req, text, (err, body) => (err === null ? resolve(body) : reject(err)));
        });
      } catch {
        return sendChimeError(reply, new ChimeError('BadRequestException', 'The request body is not valid UTF-8 JSON'));
      }
      return undefined;
    });

    // Audited before the answer leaves: a caller that got an answer is in the log.
    scope.addHook('onSend', async (req, reply, payload) => {
      reply.header('x-amzn-RequestId', crypto.randomUUID());
      const action = actionOf(req);
      const params = req.params as Record<string, string> | undefined;
      const resource = params?.meetingId ?? params?.e164 ?? params?.voiceConnectorId ?? params?.groupId ?? params?.phoneNumberId ?? params?.orderId ?? params?.carrierId ?? params?.userId ?? params?.accountId ?? null;
      const typeHeader = reply.getHeader('x-amzn-ErrorType');
      try {
        await deps.store.db
          .insertInto('audit')
          .values({
            at: new Date(deps.clock.nowMs()).toISOString(),
            access_key_id: req.accessKeyId ?? null,
            source_ip: req.ip,
            action,
            resource,
            status: reply.statusCode,
            outcome: typeof typeHeader === 'string' ? typeHeader : 'Success',
          })
          .execute();
      } catch {
        // the audit never fails a request that already ran
      }
      return payload;
    });

    // A change that succeeded is published to signaling (the snapshot and the meeting directory) before the caller hears of it.
    scope.addHook('onSend', async (req, reply, payload) => {
      if (req.method === 'GET' || reply.statusCode >= 300) return payload;
      await Promise.all([deps.snapshots?.refresh(), deps.directory?.refresh()]);
      return payload;
    });

    // Who did what, queryable (newest first; `?max-results`, `?access-key-id`, `?action`).
    const auditQuery = Type.Object({
      'max-results': Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'newest first; default 100' })),
      'access-key-id': Type.Optional(Type.String()),
      action: Type.Optional(Type.String({ description: 'e.g. chime:CreateVoiceConnector' })),
    });
    scope.get('/carillon/v1/audit', { config: { action: 'carillon:ListAudit' }, schema: { querystring: auditQuery } }, async (req) => {
      const q = req.query;
      let query = deps.store.db.selectFrom('audit').selectAll().orderBy('id', 'desc').limit(q['max-results'] ?? 100);
      if (q['access-key-id'] !== undefined) query = query.where('access_key_id', '=', q['access-key-id']);
      if (q.action !== undefined) query = query.where('action', '=', q.action);
      const rows = await query.execute();
      return {
        AuditEvents: rows.map((r) => ({ Time: r.at, AccessKeyId: r.access_key_id, SourceIp: r.source_ip, Action: r.action, Resource: r.resource, Status: r.status, Outcome: r.outcome })),
      };
    });

    scope.setErrorHandler((err: FastifyError | ChimeError, _req: FastifyRequest, reply: FastifyReply) => {
      if (err instanceof ChimeError) return sendChimeError(reply, err);
      if ('code' in err && err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return sendChimeError(reply, contentTooLarge(scope.initialConfig.bodyLimit ?? DEFAULT_BODY_LIMIT_BYTES));
      if ('validation' in err && err.validation !== undefined) return sendChimeError(reply, new ChimeError('BadRequestException', err.message));
      if ('statusCode' in err && typeof err.statusCode === 'number' && err.statusCode < 500) return sendChimeError(reply, new ChimeError('BadRequestException', err.message));
      return sendChimeError(reply, new ChimeError('ServiceFailureException', 'The service failed to process the request'));
    });

    scope.setNotFoundHandler((req, reply) => sendChimeError(reply, new ChimeError('NotFoundException', `No operation at ${req.method} ${req.url.split('?')[0] ?? ''}`)));

    registerVoiceConnectorRoutes(scope, deps);
    registerVoiceConnectorConfigRoutes(scope, deps);
    registerGroupAndTagRoutes(scope, deps);
    registerPhoneNumberRoutes(scope, deps);
    registerE911Routes(scope, deps);
    registerPortingRoutes(scope, deps);
    registerAccountAdminRoutes(scope, deps);
    registerCarrierRoutes(scope, deps);
    // The Chime SDK Meetings API: same host, same signing name, paths under /meetings.
    registerMeetingRoutes(scope, deps);
    // Carillon's meeting routes: /carillon/v1/meetings…, meeting dial-in numbers, accounts' prompt language.
    registerCarillonMeetingRoutes(scope, deps);
    // The legacy chime API shares URIs with the voice API for phone numbers: it lives under /chime
    // (accounts and users, and CreateMeetingDialOut).
    void scope.register(
      async (legacy) => {
        const typed = legacy.withTypeProvider<TypeBoxTypeProvider>();
        registerAccountRoutes(typed, deps);
        registerLegacyDialOutRoute(typed, deps);
      },
      { prefix: '/chime' },
    );
  });
  return () => openApiDocument(routes, 'Carillon control plane');
}
