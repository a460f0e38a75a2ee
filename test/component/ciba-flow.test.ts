/**
 * The regular CIBA flow end to end through the service's HTTP API: the authorization server's calls,
 * a device with real keys, and a local SecureAuth stand-in that validates what it receives against
 * SecureAuth's published schemas. Runs on the embedded default and on a private Redis.
 */
import { DeviceClient } from '../../dev/device-client.js';
import { POS_TERMINAL, startRequest, type RegisteredClient } from '../support/api-helpers.js';
import { startRedisServer, type RedisServerHandle } from '../support/redis-server.js';
import { startSecureAuthStub, type SecureAuthStub } from '../support/secureauth-stub.js';
import { eventually, sleep, startService, type StoreKind, type TestService } from '../support/service.js';

let redis: RedisServerHandle;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis.stop();
});

describe.each<StoreKind>(['memory', 'redis'])('CIBA flow on the %s store', (store) => {
  let secureAuth: SecureAuthStub;
  let service: TestService;

  beforeEach(async () => {
    secureAuth = await startSecureAuthStub();
    service = await startService({ store, redisUrl: redis.url, secureAuth });
  });
  afterEach(async () => {
    await service.stop();
    await secureAuth.close();
    expect(secureAuth.stubErrors).toEqual([]);
  });

  async function enrolledUser(userId: string, aliases: string[] = []): Promise<DeviceClient> {
    const code = await service.createUser(userId, { aliases });
    return DeviceClient.enroll(service.url, code, { name: `${userId}'s phone`, platform: 'android' });
  }

  const POS_WITH_PAYMENTS: RegisteredClient = { ...POS_TERMINAL, scopes: [...(POS_TERMINAL.scopes ?? []), { name: 'payments', display_name: 'Make payments' }] };

  /** Starts a request as SecureAuth would (a requested scope also in its object form), with the login registered at the SecureAuth stand-in. */
  const start = (userIdentifier: string, extra: Record<string, unknown> = {}, register = true) =>
    startRequest(service, secureAuth, userIdentifier, {
      register,
      client: POS_WITH_PAYMENTS,
      extra: { requested_scopes: ['openid', { name: 'profile' }], ...extra },
    });

  describe('/user/verify', () => {
    it('is false for an unknown user and for a user without a device', async () => {
      expect((await service.asCall('/user/verify', { user_identifier: 'nobody' })).body).toEqual({ valid: false });
      await service.createUser('no-device');
      expect((await service.asCall('/user/verify', { user_identifier: 'no-device' })).body).toEqual({ valid: false });
    });

    it('is true for an enrolled user, by id and by any alias, case-insensitively', async () => {
      await enrolledUser('alice', ['alice@example.com', '+447700900123']);
      for (const identifier of ['alice', 'Alice@Example.com', '+447700900123']) {
        const response = await service.asCall('/user/verify', { user_identifier: identifier });
        expect(response).toMatchObject({ status: 200, body: { valid: true } });
      }
    });

    it('is false for a disabled user and once the only device is revoked', async () => {
      const device = await enrolledUser('bob');
      expect((await service.asCall('/user/verify', { user_identifier: 'bob' })).body).toEqual({ valid: true });
      await service.admin('PUT', '/users/bob', { disabled: true });
      expect((await service.asCall('/user/verify', { user_identifier: 'bob' })).body).toEqual({ valid: false });
      await service.admin('PUT', '/users/bob', { disabled: false });
      expect((await service.admin('DELETE', `/users/bob/devices/${device.deviceId}`)).status).toBe(204);
      expect((await service.asCall('/user/verify', { user_identifier: 'bob' })).body).toEqual({ valid: false });
    });

    it('refuses wrong credentials with 401 and WWW-Authenticate: Basic, and accepts every configured pair', async () => {
      const wrong = await service.asCall('/user/verify', { user_identifier: 'alice' }, 'secureauth:wrong');
      expect(wrong.status).toBe(401);
      expect(wrong.headers.get('www-authenticate')).toMatch(/^Basic /);
      expect(wrong.body).toEqual({ error: 'invalid_client', error_description: expect.any(String) });

      const missing = await fetch(`${service.url}/user/verify`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ user_identifier: 'alice' }),
      });
      expect(missing.status).toBe(401);

      const rotating = await startService({
        store,
        redisUrl: redis.url,
        secureAuth,
        env: { AS_BASIC_CREDENTIALS: 'old-user:old-password, new-user:new-password' },
      });
      try {
        expect((await rotating.asCall('/user/verify', { user_identifier: 'x' }, 'old-user:old-password')).status).toBe(200);
        expect((await rotating.asCall('/user/verify', { user_identifier: 'x' }, 'new-user:new-password')).status).toBe(200);
        expect((await rotating.asCall('/user/verify', { user_identifier: 'x' }, 'old-user:new-password')).status).toBe(401);
      } finally {
        await rotating.stop();
      }
    });
  });

  describe('/authentication/start', () => {
    it('lists the request on the device with the consent details from the System API', async () => {
      const device = await enrolledUser('carol', ['carol@example.com']);
      const { requestId } = await start('carol@example.com');
      const view = await device.waitForRequest((r) => r.request_id === requestId);
      expect(view).toMatchObject({
        request_id: requestId,
        client: { id: 'pos-terminal', name: 'Corner Shop POS', logo_uri: 'https://shop.example/logo.png' },
        binding_message: 'Pay 50 EUR',
        scopes: [
          { name: 'openid', display_name: 'Sign you in' },
          { name: 'profile', display_name: 'Your profile', description: 'Name and picture' },
        ],
      });
      expect(view.consent_hash).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(JSON.stringify(view)).not.toContain('state-');
      expect(JSON.stringify(view)).not.toContain('login-');
      const single = await device.call('GET', `/device/v1/requests/${requestId}`);
      expect(single).toMatchObject({ status: 200, body: view });
    });

    it('still shows the request with the start call scopes when the System API cannot be read', async () => {
      const device = await enrolledUser('dave');
      const { requestId } = await start('dave', { scope: 'openid email' }, false);
      const view = await device.waitForRequest((r) => r.request_id === requestId);
      expect(view.scopes.map((s) => s.name)).toEqual(['openid', 'profile', 'email']);
      expect(view.client).toEqual({ id: 'pos-terminal', name: 'pos-terminal' });
    });

    it('creates no second request for a repeated login_id', async () => {
      const device = await enrolledUser('erin');
      const first = await start('erin');
      const again = await service.asCall<{ request_id: string }>('/authentication/start', {
        login_id: first.login_id,
        user_identifier: 'erin',
        state: first.login_state,
      });
      expect(again.body.request_id).toBe(first.requestId);
      await device.waitForRequest((r) => r.request_id === first.requestId);
      await sleep(100);
      expect((await device.listRequests()).map((r) => r.request_id)).toEqual([first.requestId]);
    });

    it('rejects promptly towards the authorization server when the user cannot be reached', async () => {
      await service.createUser('frank');
      const noDevice = await start('frank');
      const unknown = await start('who-is-this');
      await secureAuth.waitFor((calls) => calls.filter((c) => c.kind === 'reject').length === 2);
      for (const { login_id, login_state } of [noDevice, unknown]) {
        expect(secureAuth.rejected(login_id)).toEqual([
          {
            id: login_id,
            login_state,
            error: 'access_denied',
            error_description: expect.stringMatching(/not known|no active authentication device/),
            error_cause: 'user_unreachable',
            status_code: 403,
          },
        ]);
      }
      expect(secureAuth.calls.filter((c) => c.kind === 'accept')).toEqual([]);
    });
  });

  describe('decisions', () => {
    it('approve → exactly one accept with the granted scopes, and the request leaves the device list', async () => {
      const device = await enrolledUser('grace');
      const { requestId, login_id, login_state } = await start('grace');
      const view = await device.waitForRequest((r) => r.request_id === requestId);

      const decided = await device.decide(view, 'approve');
      expect(decided).toMatchObject({ status: 202, body: { request_id: requestId, status: 'approved' } });
      await secureAuth.waitFor(() => secureAuth.decisionOf(login_id) === 'accepted');
      expect(secureAuth.accepted(login_id)).toEqual([{ id: login_id, login_state, granted_scopes: ['openid', 'profile'] }]);
      expect(await device.listRequests()).toEqual([]);

      const admin = await eventually(async () => {
        const response = await service.admin<{ status: string }>('GET', `/requests/${requestId}`);
        return response.body.status === 'completed' ? response : undefined;
      });
      expect(admin.body).toMatchObject({ status: 'completed', decision: { action: 'approve', channel: 'device', device_id: device.deviceId } });
      expect(JSON.stringify(admin.body)).not.toContain(login_state);
    });

    it('approve with a subset of scopes grants only those', async () => {
      const device = await enrolledUser('heidi');
      const { requestId, login_id } = await start('heidi');
      const view = await device.waitForRequest((r) => r.request_id === requestId);
      expect((await device.decide(view, 'approve', { grantedScopes: ['openid'] })).status).toBe(202);
      await secureAuth.waitFor(() => secureAuth.decisionOf(login_id) === 'accepted');
      expect(secureAuth.accepted(login_id)).toEqual([expect.objectContaining({ granted_scopes: ['openid'] })]);
    });

    it('deny → one reject saying the user denied', async () => {
      const device = await enrolledUser('ivan');
      const { requestId, login_id, login_state } = await start('ivan');
      const view = await device.waitForRequest((r) => r.request_id === requestId);
      expect((await device.decide(view, 'deny')).body).toEqual({ request_id: requestId, status: 'denied' });
      await secureAuth.waitFor(() => secureAuth.decisionOf(login_id) === 'rejected');
      expect(secureAuth.rejected(login_id)).toEqual([
        {
          id: login_id,
          login_state,
          error: 'access_denied',
          error_description: 'the user denied the request',
          error_cause: 'denied_by_user',
          status_code: 403,
        },
      ]);
    });

    it('a second decision gets 409', async () => {
      const device = await enrolledUser('judy');
      const { requestId } = await start('judy');
      const view = await device.waitForRequest((r) => r.request_id === requestId);
      expect((await device.decide(view, 'approve')).status).toBe(202);
      const second = await device.decide(view, 'deny');
      expect(second).toMatchObject({ status: 409, body: { error: 'request_already_decided' } });
    });

    it('twelve concurrent decisions → exactly one 202 and one accept', async () => {
      const device = await enrolledUser('ken');
      const { requestId, login_id } = await start('ken');
      const view = await device.waitForRequest((r) => r.request_id === requestId);
      const tokens = await Promise.all(
        Array.from({ length: 12 }, (_, i) => device.decisionToken(view, i % 2 === 0 ? 'approve' : 'deny')),
      );
      const proofs = await Promise.all(tokens.map(() => device.proof('POST', `/device/v1/requests/${requestId}/decision`)));
      const responses = await Promise.all(
        tokens.map((decision, i) => device.call('POST', `/device/v1/requests/${requestId}/decision`, { decision }, { proof: proofs[i] })),
      );
      const statuses = responses.map((r) => r.status).sort();
      expect(statuses).toEqual([202, ...Array<number>(11).fill(409)]);
      await secureAuth.waitFor(() => secureAuth.decisionOf(login_id) !== 'pending');
      await sleep(200);
      expect(secureAuth.calls.filter((c) => c.login === login_id && c.kind !== 'get')).toHaveLength(1);
    });

    it('refuses a tampered consent_hash and an extra scope, and the request stays decidable', async () => {
      const device = await enrolledUser('leo');
      const { requestId, login_id } = await start('leo');
      const view = await device.waitForRequest((r) => r.request_id === requestId);

      const tampered = await device.decide(view, 'approve', { consentHash: 'A'.repeat(43) });
      expect(tampered).toMatchObject({ status: 409, body: { error: 'consent_mismatch' } });
      const extra = await device.decide(view, 'approve', { grantedScopes: ['openid', 'payments'] });
      expect(extra).toMatchObject({ status: 400, body: { error: 'invalid_request', error_description: expect.stringContaining('payments') } });
      expect(secureAuth.calls.filter((c) => c.login === login_id && c.kind !== 'get')).toEqual([]);

      expect((await device.decide(view, 'approve')).status).toBe(202);
    });

    it("another user's device gets 404 for the request", async () => {
      const owner = await enrolledUser('mallory-target');
      const other = await enrolledUser('mallory');
      const { requestId } = await start('mallory-target');
      const view = await owner.waitForRequest((r) => r.request_id === requestId);
      expect((await other.call('GET', `/device/v1/requests/${requestId}`)).status).toBe(404);
      expect((await other.decide(view, 'approve')).status).toBe(404);
      expect(await other.listRequests()).toEqual([]);
    });

    it('System API answering 503 twice then 200 → the accept is delivered once', async () => {
      const device = await enrolledUser('nina');
      const { requestId, login_id } = await start('nina');
      const view = await device.waitForRequest((r) => r.request_id === requestId);
      secureAuth.failNext('accept', [{ status: 503 }, { status: 503, headers: { 'retry-after': '0' } }]);
      expect((await device.decide(view, 'approve')).status).toBe(202);
      await secureAuth.waitFor(() => secureAuth.decisionOf(login_id) === 'accepted');
      await sleep(200);
      const accepts = secureAuth.calls.filter((c) => c.login === login_id && c.kind === 'accept');
      expect(accepts.map((c) => c.status)).toEqual([503, 503, 200]);
      const admin = await service.admin<{ outcome: { attempts: number; result: string } }>('GET', `/requests/${requestId}`);
      expect(admin.body.outcome).toMatchObject({ result: 'accepted', attempts: 3 });
    });

    it('a refused token is replaced once and the call goes through', async () => {
      const device = await enrolledUser('oscar');
      const { requestId, login_id } = await start('oscar');
      const view = await device.waitForRequest((r) => r.request_id === requestId);
      const tokensBefore = secureAuth.tokensIssued;
      secureAuth.revokeTokens();
      expect((await device.decide(view, 'approve')).status).toBe(202);
      await secureAuth.waitFor(() => secureAuth.decisionOf(login_id) === 'accepted');
      expect(secureAuth.tokensIssued).toBe(tokensBefore + 1);
    });

    it('a 4xx other than 429 fails the completion at once', async () => {
      const device = await enrolledUser('peggy');
      const { requestId, login_id } = await start('peggy');
      const view = await device.waitForRequest((r) => r.request_id === requestId);
      secureAuth.failNext('accept', [{ status: 400, body: { error: 'invalid_request', status_code: 400 } }]);
      expect((await device.decide(view, 'approve')).status).toBe(202);
      const admin = await eventually(async () => {
        const response = await service.admin<{ status: string; outcome?: { result: string; attempts: number } }>('GET', `/requests/${requestId}`);
        return response.body.status === 'failed' ? response.body : undefined;
      });
      expect(admin.outcome).toMatchObject({ result: 'failed', attempts: 1 });
      expect(secureAuth.calls.filter((c) => c.login === login_id && c.kind === 'accept')).toHaveLength(1);
    });
  });

  describe('expiry', () => {
    it('an expired request answers 410 and nothing is sent to the authorization server', async () => {
      await service.stop();
      service = await startService({ store, redisUrl: redis.url, secureAuth, env: { REQUEST_TTL_SECONDS: '3' } });
      const device = await enrolledUser('quinn');
      const { requestId, login_id } = await start('quinn');
      const view = await device.waitForRequest((r) => r.request_id === requestId);
      await eventually(async () => {
        const admin = await service.admin<{ status: string }>('GET', `/requests/${requestId}`);
        return admin.body.status === 'expired';
      });
      expect(await device.listRequests()).toEqual([]);
      expect((await device.decide(view, 'approve')).status).toBe(410);
      expect((await device.call('GET', `/device/v1/requests/${requestId}`)).status).toBe(410);
      await sleep(200);
      expect(secureAuth.calls.filter((c) => c.login === login_id && c.kind !== 'get')).toEqual([]);
    });
  });
});
