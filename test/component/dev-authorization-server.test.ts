/**
 * The development authorization server holds the service to SecureAuth's contract: these tests call
 * its SecureAuth endpoints directly, with what the service must never send, and check it refuses —
 * so the end-to-end tests' "no complaints" means something. It runs in this process here, against
 * the real service (in-process, memory store) and openid-client.
 */
import { pino } from 'pino';
import { requestTokens, type CibaOutcome } from '../../dev/ciba-client.js';
import { DeviceClient } from '../../dev/device-client.js';
import { startDevAuthorizationServer, type DevAuthorizationServer } from '../../dev/authorization-server/server.js';
import type { Login } from '../../dev/authorization-server/logins.js';
import { validateAgainstDefinition } from '../../dev/support/reference-schemas.js';
import { freePort } from '../../dev/support/processes.js';
import { AS_PASSWORD, AS_USER, eventually, startService, type TestService } from '../support/service.js';

const SYSTEM_CLIENT = { id: 'ciba-authentication-service', secret: 'dev-as-test-secret' };
const CLIENT = { id: 'test-poll-client', secret: 'test-poll-secret' };

/** oidc-provider warns on every start about its development-only defaults; expected here. */
async function quietly<T>(start: () => Promise<T>): Promise<T> {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (!String(args[0]).startsWith('oidc-provider WARNING')) warn(...args);
  };
  try {
    return await start();
  } finally {
    console.warn = warn;
  }
}

describe('development authorization server', () => {
  let server: DevAuthorizationServer;
  let service: TestService;
  const logins: Login[] = [];
  let userCounter = 0;

  beforeAll(async () => {
    const port = await freePort();
    service = await startService({
      store: 'memory',
      env: {
        SECUREAUTH_ISSUER_URL: `http://127.0.0.1:${port}/acme/ciba`,
        SECUREAUTH_CLIENT_ID: SYSTEM_CLIENT.id,
        SECUREAUTH_CLIENT_SECRET: SYSTEM_CLIENT.secret,
      },
    });
    server = await quietly(() => startDevAuthorizationServer({
      port,
      tenant: 'acme',
      workspace: 'ciba',
      service: { url: service.url, username: AS_USER, password: AS_PASSWORD },
      systemClient: SYSTEM_CLIENT,
      clients: [{ clientId: CLIENT.id, clientSecret: CLIENT.secret, clientName: 'Test client', deliveryMode: 'poll' }],
      pollIntervalSeconds: 1,
      logger: pino({ level: 'silent' }),
      onLogin: (login) => logins.push({ ...login }),
    }));
  });
  afterAll(async () => {
    await server?.close();
    await service?.stop();
  });

  const systemApi = (login: string, suffix = ''): string => `${server.origin}/api/system/acme/scope-grants/${encodeURIComponent(login)}${suffix}`;

  async function systemToken(secret = SYSTEM_CLIENT.secret): Promise<Response> {
    return fetch(`${server.origin}/acme/system/oauth2/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${SYSTEM_CLIENT.id}:${secret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'manage_scope_grants' }),
    });
  }

  async function bearer(): Promise<string> {
    const response = await systemToken();
    return `Bearer ${((await response.json()) as { access_token: string }).access_token}`;
  }

  async function post(login: string, action: 'accept' | 'reject', body: unknown, authorization?: string): Promise<Response> {
    return fetch(systemApi(login, `/${action}`), {
      method: 'POST',
      headers: { authorization: authorization ?? (await bearer()), 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  }

  /** Starts a CIBA request for a fresh enrolled user; the device never decides, the test does. */
  async function pendingLogin(): Promise<{ login: Login; outcome: Promise<CibaOutcome> }> {
    userCounter += 1;
    const userId = `dev-as-user-${userCounter}`;
    const code = await service.createUser(userId);
    await DeviceClient.enroll(service.url, code);
    const before = logins.length;
    const outcome = requestTokens({ issuer: server.issuer, clientId: CLIENT.id, clientSecret: CLIENT.secret, loginHint: userId, scope: 'openid profile', mode: 'poll' });
    const login = await eventually(async () => logins[before], 10_000, 'the login');
    return { login, outcome };
  }

  it('issues system tokens to the service client only, by client_secret_basic', async () => {
    const wrong = await systemToken('not-the-secret');
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ error: 'invalid_client' });
    const right = await systemToken();
    expect(right.status).toBe(200);
    expect(await right.json()).toMatchObject({ token_type: 'bearer', scope: 'manage_scope_grants', expires_in: 3600 });
  });

  it('answers the service with sessions and errors that match the reference schemas', async () => {
    const { login } = await pendingLogin();
    const unauthenticated = await fetch(systemApi(login.loginId, `?login_state=${login.state}`));
    expect(unauthenticated.status).toBe(401);
    expect(validateAgainstDefinition('system-scope-grants', 'Error', await unauthenticated.json()).valid).toBe(true);

    const wrongState = await fetch(systemApi(login.loginId, '?login_state=guess'), { headers: { authorization: await bearer() } });
    expect(wrongState.status).toBe(403);

    const session = await fetch(systemApi(login.loginId, `?login_state=${encodeURIComponent(login.state)}`), { headers: { authorization: await bearer() } });
    expect(session.status).toBe(200);
    const body: unknown = await session.json();
    expect(validateAgainstDefinition('system-scope-grants', 'ScopeGrantSessionResponse', body).valid).toBe(true);
    expect(body).toMatchObject({
      id: login.loginId,
      client_id: CLIENT.id,
      client_info: { client_name: 'Test client' },
      requested_scopes: [{ name: 'openid' }, { name: 'profile' }],
      subject: login.accountId,
    });
  });

  it('refuses accept bodies outside the contract, then completes the request with the granted scopes', async () => {
    const { login, outcome } = await pendingLogin();
    const valid = { id: login.loginId, login_state: login.state, granted_scopes: ['openid'] };

    expect((await post(login.loginId, 'accept', { ...valid, granted: true })).status).toBe(400);
    expect((await post(login.loginId, 'accept', { ...valid, id: 'another-login' })).status).toBe(400);
    expect((await post(login.loginId, 'accept', { ...valid, login_state: 'guess' })).status).toBe(403);
    expect((await post(login.loginId, 'accept', { ...valid, granted_scopes: ['openid', 'payments'] })).status).toBe(400);
    expect((await post(login.loginId, 'accept', valid, 'Bearer not-a-token')).status).toBe(401);

    const accepted = await post(login.loginId, 'accept', valid);
    expect(accepted.status).toBe(200);
    expect(validateAgainstDefinition('system-scope-grants', 'ScopeGrantAccepted', await accepted.json()).valid).toBe(true);
    expect(await outcome).toMatchObject({ ok: true, tokens: { scope: 'openid' }, idTokenClaims: { sub: login.accountId } });

    const again = await post(login.loginId, 'reject', { id: login.loginId, login_state: login.state, error: 'access_denied' });
    expect(again.status).toBe(403);
  });

  it('a reject completes the request with access_denied and its description', async () => {
    const { login, outcome } = await pendingLogin();
    const rejected = await post(login.loginId, 'reject', {
      id: login.loginId,
      login_state: login.state,
      error: 'access_denied',
      error_description: 'not today',
      error_cause: 'denied_by_user',
      status_code: 403,
    });
    expect(rejected.status).toBe(200);
    expect(await outcome).toMatchObject({ ok: false, error: 'access_denied', errorDescription: 'not today' });
  });

  it('answers unknown_user_id when the service cannot be reached', async () => {
    const closedPort = await freePort();
    const unreachable = await quietly(() => startDevAuthorizationServer({
      port: 0,
      service: { url: `http://127.0.0.1:${closedPort}`, username: AS_USER, password: AS_PASSWORD, timeoutMs: 1000 },
      systemClient: SYSTEM_CLIENT,
      clients: [{ clientId: CLIENT.id, clientSecret: CLIENT.secret, deliveryMode: 'poll' }],
      logger: pino({ level: 'silent' }),
    }));
    try {
      const outcome = await requestTokens({ issuer: unreachable.issuer, clientId: CLIENT.id, clientSecret: CLIENT.secret, loginHint: 'anyone', scope: 'openid', mode: 'poll' });
      expect(outcome).toMatchObject({ ok: false, error: 'unknown_user_id' });
    } finally {
      await unreachable.close();
    }
  });
});
