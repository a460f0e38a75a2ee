/**
 * A local stand-in for SecureAuth in the regular (scope grants) CIBA flow: the system workspace's
 * token endpoint and the System API's scope-grant calls. It is a real HTTP server, so the service
 * under test talks to it exactly as it would talk to SecureAuth.
 *
 * What it checks, so that tests catch contract mistakes rather than merely replay them:
 * - client_secret_basic credentials on the token endpoint, bearer tokens (issued, not revoked, not
 *   expired, carrying `manage_scope_grants`) on the System API;
 * - accept/reject bodies against the reference `AcceptScopeGrant` / `RejectScopeGrant` definitions,
 *   with unknown properties rejected, plus `id` and `login_state` against the registered login;
 * - its own answers (session, errors) against the reference definitions, so fixtures stay honest.
 *
 * Paths are those of a tenant-based (non-vanity) SecureAuth URL:
 *   token:      {origin}/{tenant}/system/oauth2/token
 *   System API: {origin}/api/system/{tenant}/scope-grants/{login}[/accept|/reject]
 */
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import { parseClientSecretBasic } from '../../dev/support/client-secret-basic.js';
import { assertMatchesDefinition, validateAgainstDefinition } from './reference-schemas.js';

export type StubRoute = 'token' | 'get' | 'accept' | 'reject';
export type RecordedCallKind = 'get' | 'accept' | 'reject';
export type LoginDecision = 'pending' | 'accepted' | 'rejected';

/** A canned answer for {@link SecureAuthStub.failNext}. Object bodies are sent as JSON. */
export interface ScriptedResponse {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface RecordedCall {
  kind: RecordedCallKind;
  login: string;
  /** Parsed JSON body (accept/reject); the raw text if it was not JSON; undefined for GET. */
  body: unknown;
  headers: IncomingHttpHeaders;
  query: Record<string, string>;
  at: Date;
  /** HTTP status the stub answered with (0 while the request is being handled). */
  status: number;
  /** Why the stub found the request invalid (schema errors, id/login_state mismatch, content type). */
  validationErrors: string[];
  /** Set for calls caught by {@link SecureAuthStub.hold}: still held, let through, or dropped unanswered. */
  held?: 'holding' | 'proceeded' | 'dropped';
}

/**
 * A System API call the stub holds open (see {@link SecureAuthStub.hold}): the caller waits for an
 * answer until the test decides what SecureAuth did with it.
 */
export interface HeldCall {
  readonly call: RecordedCall;
  /** Whether the caller went away (timed out, or its process died) while the call was held. */
  callerGone(): boolean;
  /** Handle the call as usual now (an accept is applied even if the caller is gone; its answer is lost). */
  proceed(): void;
  /** Close the connection without handling the call: SecureAuth never saw it. */
  drop(): void;
}

export interface TokenRequest {
  at: Date;
  clientId: string | undefined;
  grantType: string | undefined;
  scope: string | undefined;
  status: number;
}

export interface RegisteredScope {
  name: string;
  display_name?: string;
  description?: string;
}

export interface RegisterLoginInput {
  login_id: string;
  login_state: string;
  client_id?: string;
  client_name?: string;
  logo_uri?: string;
  scopes?: RegisteredScope[];
  authorization_details?: Array<Record<string, unknown>>;
  subject?: string;
  /** Further `ScopeGrantSessionResponse` fields to return (validated like the rest). */
  extra?: Record<string, unknown>;
}

export interface SecureAuthStubOptions {
  tenant?: string;
  workspace?: string;
  clientId?: string;
  clientSecret?: string;
  /** `expires_in` of issued tokens, in seconds (default 3600). Tokens really expire after it. */
  tokenExpiresIn?: number;
  /**
   * Further routes served by the same stand-in (before its 404 handler), sharing its tokens: the Open
   * Banking consent pages of openbanking-stub.ts use this.
   */
  extraRoutes?: (app: express.Express, tools: StubTools) => void;
}

/** What {@link SecureAuthStubOptions.extraRoutes} may use of the stub. */
export interface StubTools {
  /** The System API's bearer check for `scope`: the answer to send, or undefined when the token is good. */
  checkBearer(req: Request, scope: string): ScriptedResponse | undefined;
  /** Whether {@link SecureAuthStub.setDown} put the stub down. */
  isDown(): boolean;
  /** SecureAuth's `Error` body, checked against the reference. */
  errorBody(status: number, errorCode: string, message: string): Record<string, unknown>;
}

export interface SecureAuthStub {
  readonly origin: string;
  /** `{origin}/{tenant}/{workspace}` */
  readonly issuerUrl: string;
  readonly tokenUrl: string;
  /** `{origin}/api/system/{tenant}` */
  readonly systemApiUrl: string;
  readonly tenant: string;
  readonly workspace: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Number of access tokens issued so far. */
  readonly tokensIssued: number;
  /** Every System API call, in arrival order, including scripted and rejected ones. */
  readonly calls: readonly RecordedCall[];
  /** Every token endpoint call, including failed ones. */
  readonly tokenRequests: readonly TokenRequest[];
  /** Errors in the stub's own answers (they are also answered as 500). Should stay empty. */
  readonly stubErrors: readonly string[];
  registerLogin(input: RegisterLoginInput): void;
  /** Queue answers given instead of the normal handling of the next calls to `route`. */
  failNext(route: StubRoute, responses: ScriptedResponse[]): void;
  /** While down, every route answers 503 (queued answers are kept for later). */
  setDown(down: boolean): void;
  /**
   * Hold every later call of `kind` open, after recording it, until the test proceeds or drops it
   * ({@link heldCalls}); `false` stops holding new calls (held ones stay held).
   */
  hold(kind: RecordedCallKind | false): void;
  /** Calls held so far, in arrival order (also those already let through or dropped). */
  readonly heldCalls: readonly HeldCall[];
  /** Resolve once `count` calls have been held in all; reject after `timeoutMs` (default 10 s). */
  waitForHeld(count: number, timeoutMs?: number): Promise<HeldCall[]>;
  /** Tokens issued so far answer 401 from now on; new ones work. */
  revokeTokens(): void;
  setTokenExpiresIn(seconds: number): void;
  /** Bodies of every accept call recorded for `login` (whatever the answer was). */
  accepted(login: string): unknown[];
  /** Bodies of every reject call recorded for `login` (whatever the answer was). */
  rejected(login: string): unknown[];
  /** The login's state as the stub sees it; undefined when not registered. */
  decisionOf(login: string): LoginDecision | undefined;
  /** Resolve once `predicate(calls)` holds; reject after `timeoutMs` (default 10 s). */
  waitFor(predicate: (calls: readonly RecordedCall[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

const REFERENCE = 'system-scope-grants';
const REQUIRED_SCOPE = 'manage_scope_grants';
const CIBA_GRANT_TYPE = 'urn:openid:params:grant-type:ciba';

interface IssuedToken {
  scopes: string[];
  expiresAt: number;
  revoked: boolean;
}

interface LoginRecord {
  input: RegisterLoginInput;
  decision: LoginDecision;
  requestedAt: string;
}

/** Answer produced by a check; `undefined` from a check means "carry on". */
interface Rejection {
  status: number;
  errorCode: string;
  message: string;
  headers?: Record<string, string>;
}

interface StubConfig {
  tenant: string;
  workspace: string;
  clientId: string;
  clientSecret: string;
  tokenExpiresIn: number;
  /** Known only once the server listens (it contains the port). */
  issuerUrl: string;
}

class StubState {
  readonly calls: RecordedCall[] = [];
  readonly tokenRequests: TokenRequest[] = [];
  readonly stubErrors: string[] = [];
  readonly tokens = new Map<string, IssuedToken>();
  readonly logins = new Map<string, LoginRecord>();
  readonly queues = new Map<StubRoute, ScriptedResponse[]>();
  tokensIssued = 0;
  down = false;
  holding: RecordedCallKind | undefined;
  readonly held: HeldCall[] = [];
  tokenExpiresIn: number;

  constructor(readonly config: StubConfig) {
    this.tokenExpiresIn = config.tokenExpiresIn;
  }

  takeScripted(route: StubRoute): ScriptedResponse | undefined {
    return this.queues.get(route)?.shift();
  }
}

// ---------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------

/** SecureAuth's `Error` definition; every error the stub sends is checked against it. */
function errorBody(status: number, errorCode: string, message: string): Record<string, unknown> {
  const body = { status_code: status, error_code: errorCode, error: message, details: {} };
  assertMatchesDefinition(REFERENCE, 'Error', body);
  return body;
}

function sendScripted(res: Response, scripted: ScriptedResponse): void {
  res.status(scripted.status);
  for (const [name, value] of Object.entries(scripted.headers ?? {})) res.setHeader(name, value);
  if (scripted.body === undefined) res.end();
  else if (typeof scripted.body === 'string') res.send(scripted.body);
  else res.json(scripted.body);
}


function queryOf(req: Request): Record<string, string> {
  return Object.fromEntries(new URL(req.originalUrl, 'http://stub.invalid').searchParams);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ---------------------------------------------------------------------------------------------
// Token endpoint
// ---------------------------------------------------------------------------------------------

function tokenHandler(state: StubState) {
  return (req: Request, res: Response): void => {
    const form: unknown = req.body;
    const params = isObject(form) ? form : {};
    const credentials = parseClientSecretBasic(req.headers.authorization);
    const record: TokenRequest = {
      at: new Date(),
      clientId: credentials?.id,
      grantType: typeof params['grant_type'] === 'string' ? params['grant_type'] : undefined,
      scope: typeof params['scope'] === 'string' ? params['scope'] : undefined,
      status: 0,
    };
    state.tokenRequests.push(record);

    const answer = (status: number, body: Record<string, unknown>, headers: Record<string, string> = {}): void => {
      record.status = status;
      res.status(status).set({ 'Cache-Control': 'no-store', ...headers }).json(body);
    };

    if (state.down) return answer(503, { error: 'temporarily_unavailable' });
    const scripted = state.takeScripted('token');
    if (scripted) {
      record.status = scripted.status;
      return sendScripted(res, scripted);
    }
    if (credentials?.id !== state.config.clientId || credentials.secret !== state.config.clientSecret) {
      return answer(401, { error: 'invalid_client', error_description: 'client authentication failed' }, {
        'WWW-Authenticate': 'Basic realm="system"',
      });
    }
    if (record.grantType !== 'client_credentials') {
      return answer(400, { error: 'unsupported_grant_type', error_description: 'expected client_credentials' });
    }

    const scopes = (record.scope ?? REQUIRED_SCOPE).split(' ').filter(Boolean);
    const accessToken = randomBytes(24).toString('base64url');
    state.tokens.set(accessToken, {
      scopes,
      expiresAt: Date.now() + state.tokenExpiresIn * 1000,
      revoked: false,
    });
    state.tokensIssued += 1;
    answer(200, {
      access_token: accessToken,
      token_type: 'bearer',
      expires_in: state.tokenExpiresIn,
      scope: scopes.join(' '),
    });
  };
}

// ---------------------------------------------------------------------------------------------
// System API: checks applied in order; the first one that objects decides the answer
// ---------------------------------------------------------------------------------------------

function checkBearer(state: StubState, req: Request, requiredScope: string = REQUIRED_SCOPE): Rejection | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  const token = match?.[1] ? state.tokens.get(match[1]) : undefined;
  const invalid = (message: string): Rejection => ({
    status: 401,
    errorCode: 'unauthorized',
    message,
    headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' },
  });
  if (!match) return invalid('missing bearer token');
  if (!token) return invalid('unknown access token');
  if (token.revoked) return invalid('access token revoked');
  if (Date.now() >= token.expiresAt) return invalid('access token expired');
  if (!token.scopes.includes(requiredScope)) {
    return { status: 403, errorCode: 'forbidden', message: `access token lacks ${requiredScope} scope` };
  }
  return undefined;
}

/** go-swagger servers answer 415 when the content type is not one the operation consumes. */
function checkContentType(req: Request, record: RecordedCall): Rejection | undefined {
  if (req.is('application/json')) return undefined;
  record.validationErrors.push(`content-type must be application/json, got ${req.headers['content-type'] ?? 'none'}`);
  return { status: 415, errorCode: 'unsupported_media_type', message: 'unsupported media type' };
}

/** Parse the raw body into `record.body` (kept as text when it is not JSON). */
function parseJsonBody(req: Request, record: RecordedCall): Rejection | undefined {
  const raw: unknown = req.body;
  const text = typeof raw === 'string' ? raw : '';
  try {
    record.body = text === '' ? undefined : (JSON.parse(text) as unknown);
    return undefined;
  } catch {
    record.body = text;
    record.validationErrors.push('body is not valid JSON');
    return { status: 400, errorCode: 'bad_request', message: 'request body is not valid JSON' };
  }
}

function checkDecisionBody(kind: 'accept' | 'reject', record: RecordedCall): Rejection | undefined {
  const definition = kind === 'accept' ? 'AcceptScopeGrant' : 'RejectScopeGrant';
  const result = validateAgainstDefinition(REFERENCE, definition, record.body, { strictProperties: true });
  if (result.valid) return undefined;
  record.validationErrors.push(...result.errors.map((error) => `${definition}: ${error}`));
  return { status: 400, errorCode: 'bad_request', message: `invalid ${definition}: ${result.errors.join('; ')}` };
}

/** Content type, JSON syntax, schema and `id` of an accept/reject body; every problem is recorded. */
function inspectDecisionBody(kind: 'accept' | 'reject', req: Request, record: RecordedCall): Rejection | undefined {
  const contentTypeProblem = checkContentType(req, record);
  const syntaxProblem = parseJsonBody(req, record);
  if (syntaxProblem) return contentTypeProblem ?? syntaxProblem;
  const schemaProblem = checkDecisionBody(kind, record);
  const idProblem = checkBodyId(record);
  return contentTypeProblem ?? schemaProblem ?? idProblem;
}

function checkLogin(state: StubState, record: RecordedCall, loginState: unknown): Rejection | undefined {
  const login = state.logins.get(record.login);
  if (!login) return { status: 404, errorCode: 'not_found', message: 'login not found' };
  if (loginState !== login.input.login_state) {
    record.validationErrors.push(`login_state ${JSON.stringify(loginState)} does not match the registered login`);
    return { status: 403, errorCode: 'forbidden', message: 'invalid login state' };
  }
  return undefined;
}

function checkBodyId(record: RecordedCall): Rejection | undefined {
  const id = isObject(record.body) ? record.body['id'] : undefined;
  if (id === record.login) return undefined;
  record.validationErrors.push(`id ${JSON.stringify(id)} does not match the login in the path (${record.login})`);
  return { status: 400, errorCode: 'bad_request', message: 'login id mismatch' };
}

/**
 * A login can be decided once. SecureAuth documents 403 for accept/reject, and a login that was
 * already approved or rejected is a forbidden transition rather than a conflict of versions.
 */
function checkNotDecided(state: StubState, record: RecordedCall): Rejection | undefined {
  const login = state.logins.get(record.login);
  if (!login || login.decision === 'pending') return undefined;
  return {
    status: 403,
    errorCode: login.decision === 'accepted' ? 'login_already_accepted' : 'login_already_rejected',
    message: `login already ${login.decision}`,
  };
}

// ---------------------------------------------------------------------------------------------
// System API: answers
// ---------------------------------------------------------------------------------------------

function sessionResponse(state: StubState, login: LoginRecord): Record<string, unknown> {
  const { input } = login;
  const { tenant, workspace } = state.config;
  const scopes = input.scopes ?? [{ name: 'openid', display_name: 'OpenID', description: 'Sign you in' }];
  const response: Record<string, unknown> = {
    id: input.login_id,
    tenant_id: tenant,
    server_id: workspace,
    client_id: input.client_id ?? 'ciba-client',
    client_info: {
      client_name: input.client_name ?? 'CIBA test client',
      ...(input.logo_uri === undefined ? {} : { logo_uri: input.logo_uri }),
    },
    requested_scopes: scopes.map((scope) => ({
      name: scope.name,
      display_name: scope.display_name ?? scope.name,
      description: scope.description ?? '',
      authorization_server_id: workspace,
      tenant_id: tenant,
    })),
    requested_grant_type: CIBA_GRANT_TYPE,
    requested_at: login.requestedAt,
    scope_grant_approved: login.decision === 'accepted',
    scope_grant_rejected: login.decision === 'rejected',
    ...(input.subject === undefined ? {} : { subject: input.subject }),
    ...(input.authorization_details === undefined ? {} : { authorization_details: input.authorization_details }),
    ...input.extra,
  };
  assertMatchesDefinition(REFERENCE, 'ScopeGrantSessionResponse', response);
  return response;
}

function redirectTo(state: StubState, login: string): string {
  const url = new URL(`${state.config.issuerUrl}/oauth2/authorize`);
  url.searchParams.set('login_id', login);
  url.searchParams.set('consent_verified', 'true');
  return url.toString();
}

// ---------------------------------------------------------------------------------------------
// System API: handler
// ---------------------------------------------------------------------------------------------

function systemApiHandler(state: StubState, kind: RecordedCallKind) {
  return (req: Request, res: Response): void => {
    const loginParam = req.params['login'];
    const record: RecordedCall = {
      kind,
      login: typeof loginParam === 'string' ? loginParam : '',
      body: undefined,
      headers: { ...req.headers },
      query: queryOf(req),
      at: new Date(),
      status: 0,
      validationErrors: [],
    };
    state.calls.push(record);

    const reply = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      record.status = status;
      res.status(status).set(headers).json(body);
    };
    const refuse = (rejection: Rejection): void =>
      reply(rejection.status, errorBody(rejection.status, rejection.errorCode, rejection.message), rejection.headers);

    // Inspect the body before anything else, so that every recorded call (even one answered by a
    // scripted fault or a 401) carries what was sent and what is wrong with it.
    const bodyProblem = kind === 'get' ? undefined : inspectDecisionBody(kind, req, record);

    const handle = (): void => answerSystemApiCall(state, kind, { req, res, record, bodyProblem, reply, refuse });
    if (state.holding === kind) return holdCall(state, record, res, handle);
    handle();
  };
}

/** Parks a call until the test lets it through or drops it (see {@link SecureAuthStub.hold}). */
function holdCall(state: StubState, record: RecordedCall, res: Response, handle: () => void): void {
  let gone = false;
  res.on('close', () => {
    if (!res.writableFinished) gone = true;
  });
  record.held = 'holding';
  state.held.push({
    call: record,
    callerGone: () => gone,
    proceed() {
      if (record.held !== 'holding') return;
      record.held = 'proceeded';
      handle();
    },
    drop() {
      if (record.held !== 'holding') return;
      record.held = 'dropped';
      res.socket?.destroy();
    },
  });
}

interface SystemApiExchange {
  req: Request;
  res: Response;
  record: RecordedCall;
  bodyProblem: Rejection | undefined;
  reply(status: number, body: unknown, headers?: Record<string, string>): void;
  refuse(rejection: Rejection): void;
}

/** The answer to a recorded System API call: down, scripted, refused by a check, or handled. */
function answerSystemApiCall(state: StubState, kind: RecordedCallKind, exchange: SystemApiExchange): void {
  const { req, res, record, bodyProblem, reply, refuse } = exchange;
  if (state.down) return refuse({ status: 503, errorCode: 'service_unavailable', message: 'service unavailable' });
  const scripted = state.takeScripted(kind);
  if (scripted) {
    record.status = scripted.status;
    return sendScripted(res, scripted);
  }

  const rejection =
    checkBearer(state, req) ??
    (kind === 'get'
      ? checkLogin(state, record, record.query['login_state'])
      : (bodyProblem ??
        checkLogin(state, record, isObject(record.body) ? record.body['login_state'] : undefined) ??
        checkNotDecided(state, record)));
  if (rejection) return refuse(rejection);

  const login = state.logins.get(record.login);
  if (!login) return refuse({ status: 404, errorCode: 'not_found', message: 'login not found' });
  if (kind === 'get') return reply(200, sessionResponse(state, login));

  login.decision = kind === 'accept' ? 'accepted' : 'rejected';
  const body = { redirect_to: redirectTo(state, record.login) };
  assertMatchesDefinition(REFERENCE, kind === 'accept' ? 'ScopeGrantAccepted' : 'ScopeGrantRejected', body);
  reply(200, body);
}

// ---------------------------------------------------------------------------------------------
// App and server
// ---------------------------------------------------------------------------------------------

function buildApp(state: StubState, extraRoutes?: SecureAuthStubOptions['extraRoutes']): express.Express {
  const { tenant } = state.config;
  const app = express();
  const apiBase = `/api/system/${encodeURIComponent(tenant)}/scope-grants`;
  // Raw text for any content type: the stub itself decides (and records) what is acceptable.
  const rawBody = express.text({ type: () => true, limit: '1mb' });

  app.post(
    `/${encodeURIComponent(tenant)}/system/oauth2/token`,
    express.urlencoded({ extended: false }),
    tokenHandler(state),
  );
  app.get(`${apiBase}/:login`, systemApiHandler(state, 'get'));
  app.post(`${apiBase}/:login/accept`, rawBody, systemApiHandler(state, 'accept'));
  app.post(`${apiBase}/:login/reject`, rawBody, systemApiHandler(state, 'reject'));
  extraRoutes?.(app, {
    checkBearer(req, scope) {
      const rejection = checkBearer(state, req, scope);
      return rejection && { status: rejection.status, headers: rejection.headers ?? {}, body: errorBody(rejection.status, rejection.errorCode, rejection.message) };
    },
    isDown: () => state.down,
    errorBody,
  });

  app.use((req: Request, res: Response) => {
    const status = state.down ? 503 : 404;
    res.status(status).json(errorBody(status, state.down ? 'service_unavailable' : 'not_found', `no route for ${req.method} ${req.path}`));
  });
  // A failed self-check (invalid fixture) or an unexpected exception: make it visible.
  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    const message = error instanceof Error ? error.message : String(error);
    state.stubErrors.push(`${req.method} ${req.path}: ${message}`);
    console.error(`secureauth-stub: ${req.method} ${req.path}: ${message}`);
    if (!res.headersSent) res.status(500).json({ status_code: 500, error_code: 'stub_error', error: message });
  });
  return app;
}

function listen(app: express.Express): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(0, '127.0.0.1', (error?: Error) => (error ? reject(error) : resolve(server)));
  });
}

/** Start the stub on 127.0.0.1 with a free port. */
export async function startSecureAuthStub(options: SecureAuthStubOptions = {}): Promise<SecureAuthStub> {
  const tenant = options.tenant ?? 'acme';
  const workspace = options.workspace ?? 'ciba';
  const clientId = options.clientId ?? 'ciba-auth-service';
  const clientSecret = options.clientSecret ?? 's3cret';

  // The app needs the issuer URL (for redirect_to), which needs the port: fill it in after listening.
  const config: StubConfig = {
    tenant,
    workspace,
    clientId,
    clientSecret,
    tokenExpiresIn: options.tokenExpiresIn ?? 3600,
    issuerUrl: '',
  };
  const state = new StubState(config);
  const server = await listen(buildApp(state, options.extraRoutes));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  config.issuerUrl = `${origin}/${tenant}/${workspace}`;

  let closed: Promise<void> | undefined;
  const bodiesOf = (kind: RecordedCallKind, login: string): unknown[] =>
    state.calls.filter((call) => call.kind === kind && call.login === login).map((call) => call.body);

  return {
    origin,
    issuerUrl: config.issuerUrl,
    tokenUrl: `${origin}/${tenant}/system/oauth2/token`,
    systemApiUrl: `${origin}/api/system/${tenant}`,
    tenant,
    workspace,
    clientId,
    clientSecret,
    get tokensIssued() {
      return state.tokensIssued;
    },
    calls: state.calls,
    tokenRequests: state.tokenRequests,
    stubErrors: state.stubErrors,

    registerLogin(input) {
      const login: LoginRecord = { input, decision: 'pending', requestedAt: new Date().toISOString() };
      sessionResponse(state, login); // throws here, in the test, if the fixture breaks the contract
      state.logins.set(input.login_id, login);
    },
    failNext(route, responses) {
      const queue = state.queues.get(route) ?? [];
      queue.push(...responses);
      state.queues.set(route, queue);
    },
    setDown(down) {
      state.down = down;
    },
    hold(kind) {
      state.holding = kind === false ? undefined : kind;
    },
    heldCalls: state.held,
    async waitForHeld(count, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (state.held.length < count) {
        if (Date.now() >= deadline) throw new Error(`secureauth-stub waitForHeld: ${state.held.length} of ${count} calls held after ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      return state.held.slice(0, count);
    },
    revokeTokens() {
      for (const token of state.tokens.values()) token.revoked = true;
    },
    setTokenExpiresIn(seconds) {
      state.tokenExpiresIn = seconds;
    },
    accepted: (login) => bodiesOf('accept', login),
    rejected: (login) => bodiesOf('reject', login),
    decisionOf: (login) => state.logins.get(login)?.decision,

    async waitFor(predicate, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(state.calls)) {
        if (Date.now() >= deadline) {
          const seen = state.calls.map((call) => `${call.kind} ${call.login} -> ${call.status}`).join(', ');
          throw new Error(`secureauth-stub waitFor: condition not met within ${timeoutMs} ms; calls: [${seen}]`);
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },

    close() {
      closed ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Keep-alive connections (fetch keeps them) would otherwise hold close() open.
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
