/**
 * End-to-end CIBA flows with real OpenID software at both ends, every part a real process or server
 * on loopback: openid-client (consumption device, in this process) → oidc-provider (the development
 * authorization server, a child process) → this service (a child process, `src/main.ts`) → a device
 * with real keys (in this process) decides → the client gets tokens or the CIBA error.
 * Shared by the memory and Redis test files, which Jest runs side by side.
 */
import { requestTokens, type CibaOutcome, type CibaRequestOptions } from '../../dev/ciba-client.js';
import { DeviceClient, type RequestView } from '../../dev/device-client.js';
import { freePort } from '../../dev/support/processes.js';
import { seedUser, startStack, type Stack, type StackSettings } from '../../dev/support/stack.js';

/** Short on purpose: the expiry test waits this long. Approvals take well under a second. */
export const REQUEST_TTL_SECONDS = 5;

const ADMIN_TOKEN = 'e2e-admin-token-0123456789';
const POLL_CLIENT = { id: 'e2e-poll-client', secret: 'e2e-poll-secret', name: 'E2E Shop (poll)' };
const PING_CLIENT = { id: 'e2e-ping-client', secret: 'e2e-ping-secret', name: 'E2E Shop (ping)' };

export interface E2eStack extends Stack {
  notificationEndpoint: string;
  enrolledDevice(userId: string): Promise<DeviceClient>;
  tokens(options: Partial<CibaRequestOptions> & { loginHint: string; mode?: 'poll' | 'ping' }): Promise<CibaOutcome>;
  settings: StackSettings;
}

/**
 * `requestTtlSeconds` sets both the service's and the authorization server's request lifetime
 * (default {@link REQUEST_TTL_SECONDS}); a person-paced flow, such as a page polling every 2 s, needs more.
 */
export async function startE2eStack(serviceEnv: Record<string, string> = {}, options: { requestTtlSeconds?: number } = {}): Promise<E2eStack> {
  const requestTtlSeconds = options.requestTtlSeconds ?? REQUEST_TTL_SECONDS;
  const [servicePort, authorizationServerPort, notificationPort] = [await freePort(), await freePort(), await freePort()];
  const notificationEndpoint = `https://127.0.0.1:${notificationPort}/ciba/notification`;
  const settings: StackSettings = {
    servicePort,
    authorizationServerPort,
    tenant: 'e2e',
    workspace: 'ciba',
    serviceBasic: { username: 'secureauth', password: 'e2e-basic-password' },
    systemClient: { id: 'ciba-authentication-service', secret: 'e2e-system-secret' },
    adminToken: ADMIN_TOKEN,
    clients: [
      { clientId: POLL_CLIENT.id, clientSecret: POLL_CLIENT.secret, clientName: POLL_CLIENT.name, deliveryMode: 'poll' },
      { clientId: PING_CLIENT.id, clientSecret: PING_CLIENT.secret, clientName: PING_CLIENT.name, deliveryMode: 'ping', notificationEndpoint },
    ],
    serviceEnv: {
      LOG_LEVEL: 'debug',
      REQUEST_TTL_SECONDS: String(requestTtlSeconds),
      OPENAPI_VALIDATE_RESPONSES: 'true',
      ...serviceEnv,
    },
    cibaExpirySeconds: requestTtlSeconds,
    pollIntervalSeconds: 1,
    authorizationServerLogLevel: 'debug',
  };
  const stack = await startStack(settings);
  return {
    ...stack,
    settings,
    notificationEndpoint,
    async enrolledDevice(userId) {
      const { activationCode } = await seedUser(stack.serviceUrl, ADMIN_TOKEN, { id: userId, displayName: `${userId} (e2e)` });
      return DeviceClient.enroll(stack.serviceUrl, activationCode, { name: `${userId}'s phone`, platform: 'android' });
    },
    tokens(options) {
      const mode = options.mode ?? 'poll';
      const client = mode === 'ping' ? PING_CLIENT : POLL_CLIENT;
      return requestTokens({
        issuer: stack.issuer,
        clientId: client.id,
        clientSecret: client.secret,
        scope: 'openid profile',
        ...options,
        mode,
        ...(mode === 'ping' ? { notificationEndpoint } : {}),
      });
    },
  };
}

/** Problems the development authorization server logged about what the service sent it. */
export function contractComplaints(stack: Stack): string[] {
  return stack.authorizationServer
    .output()
    .split('\n')
    .filter((line) => line.includes('System API refused the call') || line.includes('System API call failed') || line.includes('server error'));
}

export function describeCibaFlows(store: 'memory' | 'redis', serviceEnv: () => Record<string, string>): void {
  describe(`CIBA end to end, service on the ${store} store`, () => {
    let stack: E2eStack;
    let userCounter = 0;

    beforeAll(async () => {
      stack = await startE2eStack(serviceEnv());
    }, 60_000);
    afterAll(async () => {
      await stack?.stop();
    });
    afterEach(() => {
      expect(contractComplaints(stack)).toEqual([]);
    });

    async function newUser(): Promise<{ userId: string; device: DeviceClient }> {
      userCounter += 1;
      const userId = `user-${store}-${userCounter}`;
      return { userId, device: await stack.enrolledDevice(userId) };
    }

    const forMessage = (message: string) => (view: RequestView) => view.binding_message === message;

    it(`runs the service as its own process on the ${store} store`, () => {
      expect(stack.service.output()).toContain(`"store":"${store}"`);
      expect(stack.service.pid).not.toBe(process.pid);
    });

    it('approve on the device → tokens whose subject is the user', async () => {
      const { userId, device } = await newUser();
      const pending = stack.tokens({ loginHint: userId, bindingMessage: 'Pay 50 EUR' });

      const view = await device.waitForRequest(forMessage('Pay 50 EUR'), 15_000);
      expect(view.client).toMatchObject({ id: 'e2e-poll-client', name: 'E2E Shop (poll)' });
      expect(view.scopes.map((scope) => scope.name)).toEqual(['openid', 'profile']);
      expect((await device.decide(view, 'approve')).status).toBe(202);

      const outcome = await pending;
      if (!outcome.ok) throw new Error(`expected tokens, got ${outcome.error}: ${outcome.errorDescription}`);
      expect(outcome.idTokenClaims).toMatchObject({ sub: userId, aud: 'e2e-poll-client', iss: stack.issuer });
      expect(outcome.tokens).toMatchObject({ token_type: 'bearer', scope: 'openid profile', access_token: expect.any(String) });
    });

    it('a subset of scopes approved → only those are granted', async () => {
      const { userId, device } = await newUser();
      const pending = stack.tokens({ loginHint: userId, bindingMessage: 'Sign in only' });
      const view = await device.waitForRequest(forMessage('Sign in only'), 15_000);
      expect((await device.decide(view, 'approve', { grantedScopes: ['openid'] })).status).toBe(202);
      const outcome = await pending;
      expect(outcome).toMatchObject({ ok: true, tokens: { scope: 'openid' }, idTokenClaims: { sub: userId } });
    });

    it('deny on the device → access_denied', async () => {
      const { userId, device } = await newUser();
      const pending = stack.tokens({ loginHint: userId, bindingMessage: 'Pay 9999 EUR' });
      const view = await device.waitForRequest(forMessage('Pay 9999 EUR'), 15_000);
      expect((await device.decide(view, 'deny')).status).toBe(202);
      expect(await pending).toMatchObject({ ok: false, error: 'access_denied', errorDescription: 'the user denied the request' });
    });

    it('no decision → expired_token, and the request leaves the device', async () => {
      const { userId, device } = await newUser();
      const pending = stack.tokens({ loginHint: userId, bindingMessage: 'Nobody answers' });
      const view = await device.waitForRequest(forMessage('Nobody answers'), 15_000);
      expect(new Date(view.expires_at).getTime() - Date.now()).toBeLessThanOrEqual(REQUEST_TTL_SECONDS * 1000);
      expect(await pending).toMatchObject({ ok: false, error: 'expired_token' });
      // The service's own expiry comes a moment after the authorization server's (it started later).
      const deadline = Date.now() + 5_000;
      while ((await device.listRequests()).some((request) => request.request_id === view.request_id)) {
        if (Date.now() > deadline) throw new Error('the expired request is still listed on the device');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect((await device.decide(view, 'approve')).status).toBeGreaterThanOrEqual(400);
    }, 40_000);

    it('ping mode → the notification endpoint gets the auth_req_id with the client bearer, then the token request succeeds', async () => {
      const { userId, device } = await newUser();
      const pending = stack.tokens({ loginHint: userId, bindingMessage: 'Ping me', mode: 'ping' });
      const view = await device.waitForRequest(forMessage('Ping me'), 15_000);
      expect(view.client).toMatchObject({ id: 'e2e-ping-client', name: 'E2E Shop (ping)' });
      expect((await device.decide(view, 'approve')).status).toBe(202);

      const outcome = await pending;
      if (!outcome.ok) throw new Error(`expected tokens, got ${outcome.error}: ${outcome.errorDescription}`);
      expect(outcome.clientNotificationToken).toEqual(expect.any(String));
      expect(outcome.pings).toEqual([{ authorization: `Bearer ${outcome.clientNotificationToken}`, body: { auth_req_id: outcome.authReqId } }]);
      expect(outcome.idTokenClaims).toMatchObject({ sub: userId, aud: 'e2e-ping-client' });
    });

    it('ping mode deny → a ping, then access_denied', async () => {
      const { userId, device } = await newUser();
      const pending = stack.tokens({ loginHint: userId, bindingMessage: 'Ping and deny', mode: 'ping' });
      const view = await device.waitForRequest(forMessage('Ping and deny'), 15_000);
      expect((await device.decide(view, 'deny')).status).toBe(202);
      const outcome = await pending;
      expect(outcome).toMatchObject({ ok: false, error: 'access_denied' });
      expect(outcome.pings).toEqual([{ authorization: `Bearer ${outcome.clientNotificationToken}`, body: { auth_req_id: outcome.authReqId } }]);
    });

    it('a user the service does not know, or without a device → unknown_user_id at the backchannel endpoint', async () => {
      expect(await stack.tokens({ loginHint: `nobody-${store}` })).toMatchObject({ ok: false, error: 'unknown_user_id', authReqId: undefined });
      await seedUser(stack.serviceUrl, ADMIN_TOKEN, { id: `no-device-${store}` });
      expect(await stack.tokens({ loginHint: `no-device-${store}` })).toMatchObject({ ok: false, error: 'unknown_user_id' });
    });
  });
}
