/**
 * The SecureAuth endpoints the authentication service calls, served by the development authorization
 * server on its own origin so that its issuer URL can be given to the service as is:
 *
 *   token:      POST {origin}/{tenant}/system/oauth2/token          (client_credentials, client_secret_basic)
 *   System API: GET  {origin}/api/system/{tenant}/scope-grants/{login}?login_state=…
 *               POST {origin}/api/system/{tenant}/scope-grants/{login}/accept | /reject
 *
 * Everything received is checked against SecureAuth's reference definitions (unknown properties
 * refused), and everything answered is checked too, so the demo and the end-to-end tests exercise the
 * real contract. A decision is handed to `decide`, which completes the oidc-provider request.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Logger } from 'pino';
import { parseClientSecretBasic } from '../support/client-secret-basic.js';
import { assertMatchesDefinition, validateAgainstDefinition } from '../support/reference-schemas.js';
import type { Login, Logins } from './logins.js';

const REFERENCE = 'system-scope-grants';
const REQUIRED_SCOPE = 'manage_scope_grants';
const CIBA_GRANT_TYPE = 'urn:openid:params:grant-type:ciba';
const TOKEN_LIFETIME_SECONDS = 3600;

export interface ScopeDescription {
  display_name: string;
  description: string;
}

export interface ClientDescription {
  client_name?: string;
  logo_uri?: string;
}

export type Decision =
  | { kind: 'accept'; grantedScopes: string[] }
  | { kind: 'reject'; error: string; errorDescription: string | undefined; errorCause: string | undefined };

export interface SystemApiOptions {
  tenant: string;
  workspace: string;
  issuer: string;
  /** The credentials the authentication service uses for the client-credentials grant. */
  systemClient: { id: string; secret: string };
  logins: Logins;
  scopes: Record<string, ScopeDescription>;
  describeClient(clientId: string): Promise<ClientDescription>;
  /** Completes the backchannel request; throwing answers 500. */
  decide(login: Login, decision: Decision): Promise<void>;
  logger: Logger;
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}


/** SecureAuth's `Error` body; checked against the reference so the service is tested on real shapes. */
function errorBody(status: number, code: string, message: string): Record<string, unknown> {
  const body = { status_code: status, error_code: code, error: message, details: {} };
  assertMatchesDefinition(REFERENCE, 'Error', body);
  return body;
}

export function systemApi(options: SystemApiOptions): Router {
  const { tenant, workspace, logins, logger } = options;
  const tokens = new Map<string, { expiresAt: number; scopes: string[] }>();
  const router = express.Router();

  router.post(`/${encodeURIComponent(tenant)}/system/oauth2/token`, express.urlencoded({ extended: false }), (req, res) => {
    const credentials = parseClientSecretBasic(req.headers.authorization);
    const form: unknown = req.body;
    const params = isObject(form) ? form : {};
    res.set('cache-control', 'no-store');
    if (
      credentials === undefined ||
      credentials.id !== options.systemClient.id ||
      !sameSecret(credentials.secret, options.systemClient.secret)
    ) {
      logger.warn({ clientId: credentials?.id }, 'system token: client authentication failed');
      res.status(401).set('www-authenticate', 'Basic realm="system"').json({ error: 'invalid_client', error_description: 'client authentication failed' });
      return;
    }
    if (params['grant_type'] !== 'client_credentials') {
      res.status(400).json({ error: 'unsupported_grant_type', error_description: 'expected client_credentials' });
      return;
    }
    const scopes = (typeof params['scope'] === 'string' ? params['scope'] : REQUIRED_SCOPE).split(' ').filter(Boolean);
    for (const [token, issued] of tokens) if (issued.expiresAt < Date.now()) tokens.delete(token);
    const accessToken = randomBytes(24).toString('base64url');
    tokens.set(accessToken, { expiresAt: Date.now() + TOKEN_LIFETIME_SECONDS * 1000, scopes });
    logger.info({ clientId: credentials.id, scopes }, 'system token issued');
    res.status(200).json({ access_token: accessToken, token_type: 'bearer', expires_in: TOKEN_LIFETIME_SECONDS, scope: scopes.join(' ') });
  });

  const requireBearer = (req: Request): void => {
    const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    const token = match?.[1] ? tokens.get(match[1]) : undefined;
    const invalid = { 'www-authenticate': 'Bearer error="invalid_token"' };
    if (token === undefined || token.expiresAt < Date.now()) throw new ApiError(401, 'unauthorized', 'missing, unknown or expired access token', invalid);
    if (!token.scopes.includes(REQUIRED_SCOPE)) throw new ApiError(403, 'forbidden', `access token lacks ${REQUIRED_SCOPE} scope`);
  };

  const loginFor = (req: Request, loginState: unknown): Login => {
    const login = logins.get(String(req.params['login']));
    if (login === undefined) throw new ApiError(404, 'not_found', 'login not found');
    if (loginState !== login.state) throw new ApiError(403, 'forbidden', 'invalid login state');
    return login;
  };

  const scopeGrants = `/api/system/${encodeURIComponent(tenant)}/scope-grants/:login`;

  router.get(scopeGrants, async (req, res) => {
    requireBearer(req);
    const login = loginFor(req, req.query['login_state']);
    const client = await options.describeClient(login.clientId);
    const session = {
      id: login.loginId,
      tenant_id: tenant,
      server_id: workspace,
      client_id: login.clientId,
      client_info: client,
      requested_scopes: login.requestedScopes.map((name) => ({
        name,
        display_name: options.scopes[name]?.display_name ?? name,
        description: options.scopes[name]?.description ?? '',
        authorization_server_id: workspace,
        tenant_id: tenant,
      })),
      requested_grant_type: CIBA_GRANT_TYPE,
      requested_at: login.requestedAt,
      scope_grant_approved: login.decision === 'accepted',
      scope_grant_rejected: login.decision === 'rejected',
      subject: login.accountId,
    };
    assertMatchesDefinition(REFERENCE, 'ScopeGrantSessionResponse', session);
    res.status(200).json(session);
  });

  const decisionRoute = (kind: 'accept' | 'reject') =>
    async (req: Request, res: Response): Promise<void> => {
      requireBearer(req);
      if (!req.is('application/json')) throw new ApiError(415, 'unsupported_media_type', 'expected application/json');
      const body: unknown = req.body;
      const definition = kind === 'accept' ? 'AcceptScopeGrant' : 'RejectScopeGrant';
      const checked = validateAgainstDefinition(REFERENCE, definition, body, { strictProperties: true });
      if (!checked.valid || !isObject(body)) {
        throw new ApiError(400, 'bad_request', `invalid ${definition}: ${checked.errors.join('; ')}`);
      }
      if (body['id'] !== req.params['login']) throw new ApiError(400, 'bad_request', 'id does not match the login in the path');
      const login = loginFor(req, body['login_state']);
      if (login.decision !== 'pending') throw new ApiError(403, `login_already_${login.decision}`, `login already ${login.decision}`);

      let decision: Decision;
      if (kind === 'accept') {
        const granted = Array.isArray(body['granted_scopes']) ? body['granted_scopes'].map(String) : [];
        const unrequested = granted.filter((scope) => !login.requestedScopes.includes(scope));
        if (unrequested.length > 0) throw new ApiError(400, 'bad_request', `granted scopes that were not requested: ${unrequested.join(' ')}`);
        decision = { kind, grantedScopes: granted };
      } else {
        decision = {
          kind,
          error: typeof body['error'] === 'string' ? body['error'] : 'access_denied',
          errorDescription: typeof body['error_description'] === 'string' ? body['error_description'] : undefined,
          errorCause: typeof body['error_cause'] === 'string' ? body['error_cause'] : undefined,
        };
      }
      // Marked first so that a concurrent second call is refused; undone when completing fails.
      login.decision = kind === 'accept' ? 'accepted' : 'rejected';
      try {
        await options.decide(login, decision);
      } catch (error) {
        login.decision = 'pending';
        throw error;
      }
      logger.info({ loginId: login.loginId, decision }, `scope grant ${kind}ed`);

      const redirect = new URL(`${options.issuer}/oauth2/authorize`);
      redirect.searchParams.set('login_id', login.loginId);
      redirect.searchParams.set('consent_verified', 'true');
      const answer = { redirect_to: redirect.toString() };
      assertMatchesDefinition(REFERENCE, kind === 'accept' ? 'ScopeGrantAccepted' : 'ScopeGrantRejected', answer);
      res.status(200).json(answer);
    };

  router.post(`${scopeGrants}/accept`, express.json({ type: () => true }), decisionRoute('accept'));
  router.post(`${scopeGrants}/reject`, express.json({ type: () => true }), decisionRoute('reject'));

  router.use((error: unknown, req: Request, res: Response, next: NextFunction) => {
    if (!req.path.startsWith('/api/system/') && !req.path.includes('/system/oauth2/')) {
      next(error);
      return;
    }
    if (error instanceof ApiError) {
      logger.warn({ method: req.method, path: req.path, status: error.status }, `System API refused the call: ${error.message}`);
      res.status(error.status).set(error.headers).json(errorBody(error.status, error.code, error.message));
      return;
    }
    const parseFailure = isObject(error) && error['type'] === 'entity.parse.failed';
    const status = parseFailure ? 400 : 500;
    const message = error instanceof Error ? error.message : String(error);
    logger.error({ method: req.method, path: req.path, err: error }, 'System API call failed');
    res.status(status).json(errorBody(status, parseFailure ? 'bad_request' : 'internal_error', message));
  });

  return router;
}
