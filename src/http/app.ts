import express, { type Express, type RequestHandler } from 'express';
import * as OpenApiValidator from 'express-openapi-validator';
import helmet from 'helmet';
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { pinoHttp } from 'pino-http';
import { openApiDocumentPath } from '../support/project-files.js';
import type { Dependencies } from '../use-cases/dependencies.js';
import { errorHandler, methodNotAllowed, notFoundHandler, sendError } from './error-handler.js';
import { adminAuth } from './middleware/admin-auth.js';
import { authorizationServerAuth } from './middleware/authorization-server-auth.js';
import { currentDevice, deviceAuth } from './middleware/device-auth.js';
import { httpMetrics } from './middleware/http-metrics.js';
import { jsonDepthLimit } from './middleware/json-depth.js';
import { canonicalContentType } from './middleware/canonical-content-type.js';
import { limitAdminCalls, limitDeviceCalls, limitFailures, type RateLimiters } from './middleware/rate-limits.js';
import { operationsRoutes } from './routes/operations.js';
import { adminRoutes } from './routes/admin.js';
import { authorizationServerRoutes } from './routes/authorization-server.js';
import { deviceRoutes } from './routes/device.js';
import { cacheOpenApiRouteRegexps } from './openapi-route-cache.js';
import { webRoutes, withoutUrlSecrets } from './routes/web.js';

export interface HttpDependencies extends Dependencies {
  limiters: RateLimiters;
  /** Whether an error means a backend (Redis) is unreachable: answered 503. */
  isUnavailable: (error: unknown) => boolean;
  /** Whether this process can take work now (/readyz). */
  readiness: () => Promise<{ ready: boolean; checks: Record<string, boolean> }>;
}

/**
 * The HTTP entry point. Order matters: authentication runs before validation (an unauthenticated
 * caller learns nothing about the API), the OpenAPI document validates every request (and, in tests,
 * every response), and every error leaves through one JSON error handler.
 */
export function createApp(deps: HttpDependencies): Express {
  const { config, logger } = deps;
  const specPath = openApiDocumentPath();
  const specText = readFileSync(specPath, 'utf8');

  const app = express();
  app.disable('x-powered-by');
  // Which forwarded address counts as the caller's (rate limits key on req.ip): TRUST_PROXY.
  app.set('trust proxy', config.http.trustProxy);
  app.set('etag', false);

  app.use(
    pinoHttp({
      logger,
      genReqId: (req, res) => {
        const incoming = req.headers['x-request-id'];
        const id = typeof incoming === 'string' && /^[\w.-]{1,64}$/.test(incoming) ? incoming : randomUUID();
        res.setHeader('x-request-id', id);
        return id;
      },
      // Every line of a request's log names the CIBA request it concerns, when it concerns one.
      customProps: (_req, res) => (res.locals.requestId !== undefined ? { requestId: res.locals.requestId } : {}),
      customLogLevel: (_req, res, error) => (error || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
      // Bodies are never logged: they hold login_state, tokens and personal data.
      serializers: {
        req: (req: { id: unknown; method: string; url: string }) => ({ id: req.id, method: req.method, path: withoutUrlSecrets(req.url.split('?')[0] ?? '') }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
    }),
  );
  app.use(helmet());
  app.use(httpMetrics(deps.metrics));
  // No route is documented for OPTIONS (no CORS: the web authenticator is same-origin); without this
  // Express would answer it itself with a text/plain list of methods.
  app.use((req, res, next) => {
    if (req.method === 'OPTIONS') sendError(res, 405, 'method_not_allowed', methodNotAllowed(req.method, req.path));
    else next();
  });

  app.get('/healthz', (_req, res) => {
    res.status(200).json({ status: 'ok' });
  });
  app.use(operationsRoutes(deps));
  app.get('/openapi.yaml', (_req, res) => {
    res.status(200).type('application/yaml').send(specText);
  });

  // HTML pages for people (web authenticator, magic links): before the JSON parser and the validator.
  const web = webRoutes(deps);
  if (web.authenticator !== undefined) app.use('/authenticator', web.authenticator);
  app.use('/magic-links', web.magicLinks);

  const { limiters } = deps;
  const authenticateAuthorizationServer = authorizationServerAuth(config.authorizationServer.credentials);
  app.use(['/user/verify', '/authentication/start'], limitFailures(limiters.basicFailures, authenticateAuthorizationServer));
  app.use('/admin', limitAdminCalls(limiters.admin), limitFailures(limiters.adminFailures, adminAuth(config.admin.token)));
  // Enrolment has no device yet: it is guarded by the activation-code limiter in its route.
  const exceptEnrollment =
    (handler: RequestHandler): RequestHandler =>
    (req, res, next) => {
      if (req.path === '/enrollments') next();
      else void handler(req, res, next);
    };
  const limitDevice = limitDeviceCalls(limiters.device, (res) => currentDevice(res.locals).deviceId);
  app.use('/device/v1', exceptEnrollment(deviceAuth(deps)), exceptEnrollment(limitDevice));

  // Bodies are read only once the caller is known (or counted by the limits): an unauthenticated or
  // limited caller never gets the service to inflate, parse and walk up to a body limit's worth of JSON.
  app.use(express.json({ limit: config.http.bodyLimitBytes, type: ['application/json', 'application/*+json'] }));
  app.use(jsonDepthLimit());
  app.use(canonicalContentType);

  // The validator would otherwise compile the documented paths again on every request.
  cacheOpenApiRouteRegexps();
  app.use(
    OpenApiValidator.middleware({
      apiSpec: specPath,
      validateRequests: { allowUnknownQueryParameters: false, coerceTypes: false },
      validateResponses: config.http.validateResponses,
      validateSecurity: false,
      validateFormats: true,
    }),
  );

  app.use(authorizationServerRoutes(deps));
  app.use('/admin/v1', adminRoutes(deps));
  app.use('/device/v1', deviceRoutes(deps, limiters));

  app.use(notFoundHandler);
  app.use(errorHandler(logger, deps.isUnavailable));
  return app;
}
