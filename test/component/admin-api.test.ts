/**
 * The operator API over HTTP: users and their aliases, devices, activation codes, the bearer token
 * that guards it all, and the read-only views of requests and of the evidence a user signed.
 * Runs on the embedded default and on a private Redis.
 */
import canonicalize from 'canonicalize';
import { importJWK, jwtVerify, type JWK } from 'jose';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { DeviceClient, readJson, type RequestView } from '../../dev/device-client.js';
import type { ApiSchemas } from '../../src/http/api-types.js';
import { enrollWithKey, expectJsonError, startRequest } from '../support/api-helpers.js';
import { startRedisServer, type RedisServerHandle } from '../support/redis-server.js';
import { startSecureAuthStub, type SecureAuthStub } from '../support/secureauth-stub.js';
import { ADMIN_TOKEN, eventually, startService, type StoreKind, type TestService } from '../support/service.js';

type User = ApiSchemas['User'];
type AdminRequest = ApiSchemas['AdminRequest'];
type Evidence = ApiSchemas['Evidence'];

let redis: RedisServerHandle;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis.stop();
});

const freshPublicJwk = (): Record<string, unknown> => {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return publicKey.export({ format: 'jwk' }) as Record<string, unknown>;
};

describe.each<StoreKind>(['memory', 'redis'])('admin API on the %s store', (store) => {
  let secureAuth: SecureAuthStub;
  let service: TestService;

  beforeAll(async () => {
    secureAuth = await startSecureAuthStub();
    service = await startService({ store, redisUrl: redis.url, secureAuth });
  });
  afterAll(async () => {
    await service.stop();
    await secureAuth.close();
    expect(secureAuth.stubErrors).toEqual([]);
  });

  /** A user id no other test uses (the service is shared by the tests of one store). */
  let userCounter = 0;
  const uniqueUserId = (name: string): string => `${name}-${(userCounter += 1)}`;

  const getUser = (userId: string) => service.admin<User>('GET', `/users/${encodeURIComponent(userId)}`);
  const putUser = (userId: string, body: Record<string, unknown>) => service.admin<User>('PUT', `/users/${encodeURIComponent(userId)}`, body);

  async function enrolledUser(userId: string, options: { aliases?: string[]; pushToken?: string } = {}): Promise<DeviceClient> {
    const code = await service.createUser(userId, { aliases: options.aliases ?? [] });
    return DeviceClient.enroll(service.url, code, { name: `${userId}'s phone`, platform: 'ios', ...(options.pushToken ? { pushToken: options.pushToken } : {}) });
  }

  // -------------------------------------------------------------------------------------------
  describe('PUT /admin/v1/users/{user_id}', () => {
    it('creates a user and answers it without devices', async () => {
      const userId = uniqueUserId('alice');
      const response = await putUser(userId, { display_name: 'Alice Example', aliases: [`${userId}@example.com`] });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({
        user_id: userId,
        display_name: 'Alice Example',
        aliases: [`${userId}@example.com`],
        disabled: false,
        created_at: expect.any(String),
        updated_at: response.body.created_at,
        devices: [],
      });
      expect(new Date(response.body.created_at).toISOString()).toBe(response.body.created_at);
    });

    it('keeps the fields an update leaves out', async () => {
      const userId = uniqueUserId('bob');
      const created = await putUser(userId, { display_name: 'Bob', aliases: [`${userId}@example.com`], disabled: true });

      const renamed = await putUser(userId, { display_name: 'Robert' });

      expect(renamed.status).toBe(200);
      expect(renamed.body).toEqual({ ...created.body, display_name: 'Robert', updated_at: expect.any(String) });
      expect(Date.parse(renamed.body.updated_at)).toBeGreaterThanOrEqual(Date.parse(created.body.updated_at));
      expect((await getUser(userId)).body).toEqual(renamed.body);
    });

    it('stores aliases trimmed, in lower case and without duplicates', async () => {
      const userId = uniqueUserId('carol');
      const response = await putUser(userId, { aliases: [` Carol.${userId}@Example.COM `, `carol.${userId}@example.com`, '+44 7700 900123'] });
      expect(response.body.aliases).toEqual([`carol.${userId}@example.com`, '+44 7700 900123']);
    });

    it('refuses an alias of another user with 409 alias_in_use and changes neither user', async () => {
      const aliceId = uniqueUserId('alice');
      const bobId = uniqueUserId('bob');
      await putUser(aliceId, { display_name: 'Alice', aliases: [`${aliceId}@example.com`] });
      await putUser(bobId, { display_name: 'Bob', aliases: [`${bobId}@example.com`] });
      const aliceBefore = (await getUser(aliceId)).body;
      const bobBefore = (await getUser(bobId)).body;

      const response = await putUser(bobId, { display_name: 'Robert', aliases: [`robert.${bobId}@example.com`, `${aliceId.toUpperCase()}@EXAMPLE.COM`] });

      const error = expectJsonError(response, 409, 'alias_in_use');
      expect(error.error_description).toContain(`${aliceId}@example.com`);
      expect((await getUser(aliceId)).body).toEqual(aliceBefore);
      expect((await getUser(bobId)).body).toEqual(bobBefore);
      // The alias the refused call would have added is still free; bob's own alias is still his.
      expect((await putUser(uniqueUserId('dave'), { aliases: [`robert.${bobId}@example.com`] })).status).toBe(200);
      expectJsonError(await putUser(uniqueUserId('erin'), { aliases: [`${bobId}@example.com`] }), 409, 'alias_in_use');
    });

    it('creates a new user once when the same PUT arrives several times at once', async () => {
      const responses = await Promise.all(
        Array.from({ length: 5 }, () => service.admin('PUT', '/users/newbie', { aliases: ['newbie@example.com'] })),
      );
      expect(responses.map((response) => response.status)).toEqual([200, 200, 200, 200, 200]);
      const stored = await service.admin<ApiSchemas['User']>('GET', '/users/newbie');
      expect(stored.body.aliases).toEqual(['newbie@example.com']);
    });

    it('keeps record and aliases consistent under concurrent alias changes', async () => {
      await service.admin('PUT', '/users/racer', {});
      await Promise.all([
        service.admin('PUT', '/users/racer', { aliases: ['one@example.com'] }),
        service.admin('PUT', '/users/racer', { aliases: ['two@example.com'] }),
      ]);
      const stored = await service.admin<ApiSchemas['User']>('GET', '/users/racer');
      expect(stored.body.aliases).toHaveLength(1);
      const [kept] = stored.body.aliases;
      const dropped = kept === 'one@example.com' ? 'two@example.com' : 'one@example.com';
      // The kept alias names racer; the dropped one is free for someone else.
      expect((await service.admin('PUT', '/users/other-racer', { aliases: [dropped] })).status).toBe(200);
      expect((await service.admin('PUT', '/users/third-racer', { aliases: [kept] })).status).toBe(409);
    });

    it('refuses an alias equal to another user id', async () => {
      const aliceId = uniqueUserId('alice');
      await putUser(aliceId, {});
      expectJsonError(await putUser(uniqueUserId('mallory'), { aliases: [aliceId] }), 409, 'alias_in_use');
    });

    it('disables and re-enables a user, which /user/verify follows', async () => {
      const userId = uniqueUserId('frank');
      await enrolledUser(userId);

      expect((await putUser(userId, { disabled: true })).body.disabled).toBe(true);
      expect((await service.asCall('/user/verify', { user_identifier: userId })).body).toEqual({ valid: false });

      expect((await putUser(userId, { disabled: false })).body.disabled).toBe(false);
      expect((await service.asCall('/user/verify', { user_identifier: userId })).body).toEqual({ valid: true });
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('GET /admin/v1/users/{user_id}', () => {
    it('shows active and revoked devices without any token, hash or key', async () => {
      const userId = uniqueUserId('grace');
      const revoked = await enrolledUser(userId, { aliases: [`${userId}@example.com`] });
      const active = await DeviceClient.enroll(
        service.url,
        (await service.admin<{ activation_code: string }>('POST', `/users/${userId}/activation-codes`)).body.activation_code,
        { name: 'Tablet', platform: 'android', pushToken: 'fcm-secret-push-token' },
      );
      expect((await service.admin('DELETE', `/users/${userId}/devices/${revoked.deviceId}`)).status).toBe(204);

      const response = await getUser(userId);

      expect(response.status).toBe(200);
      expect(response.body.devices).toEqual([
        {
          device_id: revoked.deviceId,
          user_id: userId,
          name: `${userId}'s phone`,
          platform: 'ios',
          status: 'revoked',
          alg: 'ES256',
          push: 'none',
          created_at: expect.any(String),
          revoked_at: expect.any(String),
        },
        {
          device_id: active.deviceId,
          user_id: userId,
          name: 'Tablet',
          platform: 'android',
          status: 'active',
          alg: 'ES256',
          push: 'active',
          created_at: expect.any(String),
        },
      ]);
      const text = JSON.stringify(response.body);
      for (const secret of ['device_token', 'token_hash', 'push_token', 'public_jwk', 'fcm-secret-push-token', active.deviceToken, revoked.deviceToken]) {
        expect(text).not.toContain(secret);
      }
      expect(text).not.toContain(String(active.publicJwk.x));
    });

    it('answers 404 JSON for an unknown user', async () => {
      expectJsonError(await getUser('nobody-at-all'), 404, 'not_found');
    });

    it('does not find a user under another case of the id', async () => {
      const userId = uniqueUserId('Henry');
      await putUser(userId, {});
      expectJsonError(await getUser(userId.toLowerCase()), 404, 'not_found');
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('DELETE /admin/v1/users/{user_id}/devices/{device_id}', () => {
    it('revokes the device: 204, and its DPoP calls are refused with 401 from then on', async () => {
      const userId = uniqueUserId('ivan');
      const device = await enrolledUser(userId);
      expect((await device.call('GET', '/device/v1/devices/self')).status).toBe(200);

      const response = await service.admin('DELETE', `/users/${userId}/devices/${device.deviceId}`);

      expect(response.status).toBe(204);
      expect(response.body).toBeUndefined();
      const refused = await device.call('GET', '/device/v1/requests');
      expectJsonError(refused, 401, 'invalid_token');
      expect(refused.headers.get('www-authenticate')).toMatch(/^DPoP /);
    });

    it('answers 404 for a second revoke of the same device', async () => {
      const userId = uniqueUserId('judy');
      const device = await enrolledUser(userId);
      expect((await service.admin('DELETE', `/users/${userId}/devices/${device.deviceId}`)).status).toBe(204);
      expectJsonError(await service.admin('DELETE', `/users/${userId}/devices/${device.deviceId}`), 404, 'not_found');
    });

    it("answers 404 for another user's device and leaves it working", async () => {
      const owner = await enrolledUser(uniqueUserId('ken'));
      const otherId = uniqueUserId('leo');
      await putUser(otherId, {});
      expectJsonError(await service.admin('DELETE', `/users/${otherId}/devices/${owner.deviceId}`), 404, 'not_found');
      expect((await owner.call('GET', '/device/v1/devices/self')).status).toBe(200);
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('POST /admin/v1/users/{user_id}/activation-codes', () => {
    it('answers 201 with a readable code and its expiry, 10 minutes on', async () => {
      const userId = uniqueUserId('mia');
      await putUser(userId, {});
      const before = Date.now();
      const response = await service.admin<ApiSchemas['ActivationCode']>('POST', `/users/${userId}/activation-codes`);
      const after = Date.now();

      expect(response.status).toBe(201);
      expect(response.body.activation_code).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
      const expiresAt = Date.parse(response.body.expires_at);
      expect(expiresAt).toBeGreaterThanOrEqual(before + 600_000);
      expect(expiresAt).toBeLessThanOrEqual(after + 600_000);
    });

    it('gives a code that enrols one device only: the second enrolment gets 401 invalid_grant', async () => {
      const userId = uniqueUserId('nina');
      const code = await service.createUser(userId);

      const first = await enrollWithKey(service.url, code, freshPublicJwk());
      expect(first).toMatchObject({ status: 201, body: { user_id: userId } });

      expectJsonError(await enrollWithKey(service.url, code, freshPublicJwk()), 401, 'invalid_grant');
      expect((await getUser(userId)).body.devices).toHaveLength(1);
    });

    it('accepts the code typed in lower case and without dashes', async () => {
      const userId = uniqueUserId('oscar');
      const code = await service.createUser(userId);
      const typed = code.toLowerCase().replace(/-/g, '');
      const device = await DeviceClient.enroll(service.url, typed);
      expect(device.userId).toBe(userId);
    });

    it('answers 404 for an unknown user', async () => {
      expectJsonError(await service.admin('POST', '/users/nobody-at-all/activation-codes'), 404, 'not_found');
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('admin authentication', () => {
    const call = (authorization?: string) =>
      fetch(`${service.url}/admin/v1/users/anyone`, { headers: authorization === undefined ? {} : { authorization } });

    it.each([
      ['no Authorization header', undefined],
      ['a wrong bearer token', 'Bearer not-the-admin-token-at-all'],
      ['the right token with another scheme', `Basic ${ADMIN_TOKEN}`],
      ['an empty bearer', 'Bearer '],
    ])('refuses %s with 401 JSON and WWW-Authenticate: Bearer', async (_what, authorization) => {
      const response = await call(authorization);
      const body = expectJsonError({ status: response.status, headers: response.headers, body: await readJson(response) }, 401, 'invalid_token');
      expect(body.error_description).toMatch(/admin token/);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer /);
    });

    it('is disabled when the service has no ADMIN_API_TOKEN: every call gets 401 saying so', async () => {
      const closed = await startService({ store, redisUrl: redis.url, env: { ADMIN_API_TOKEN: '' } });
      try {
        const response = await closed.admin('GET', '/users/anyone');
        const body = expectJsonError(response, 401, 'invalid_token');
        expect(body.error_description).toMatch(/admin API is disabled/);
        expect(response.headers.get('www-authenticate')).toMatch(/^Bearer /);
      } finally {
        await closed.stop();
      }
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('GET /admin/v1/requests/{request_id}', () => {
    it('shows state, timestamps and deliveries of a pending request, and never its login_state', async () => {
      const userId = uniqueUserId('peggy');
      const device = await enrolledUser(userId);
      const { requestId, login_id, login_state } = await startRequest(service, secureAuth, userId);

      const admin = await eventually(async () => {
        const response = await service.admin<AdminRequest>('GET', `/requests/${requestId}`);
        return response.body.deliveries.length > 0 ? response : undefined;
      });

      expect(admin.status).toBe(200);
      expect(admin.body).toEqual({
        request_id: requestId,
        login_id,
        user_id: userId,
        user_identifier: userId,
        client_id: 'pos-terminal',
        status: 'pending',
        view_ready: true,
        binding_message: 'Pay 50 EUR',
        scopes: ['openid', 'profile'],
        created_at: expect.any(String),
        expires_at: expect.any(String),
        deliveries: [{ channel: 'poll', result: 'skipped', device_id: device.deviceId, at: expect.any(String) }],
      });
      expect(Date.parse(admin.body.expires_at) - Date.parse(admin.body.created_at)).toBe(120_000);
      expect(JSON.stringify(admin.body)).not.toContain(login_state);
    });

    it('shows the decision and the outcome once reported, still without login_state', async () => {
      const userId = uniqueUserId('quinn');
      const device = await enrolledUser(userId);
      const { requestId, login_state } = await startRequest(service, secureAuth, userId);
      const view = await device.waitForRequest((r) => r.request_id === requestId);
      expect((await device.decide(view, 'approve', { grantedScopes: ['openid'] })).status).toBe(202);

      const admin = await eventually(async () => {
        const response = await service.admin<AdminRequest>('GET', `/requests/${requestId}`);
        return response.body.status === 'completed' ? response.body : undefined;
      });

      expect(admin).toMatchObject({
        decided_at: expect.any(String),
        completed_at: expect.any(String),
        decision: { action: 'approve', channel: 'device', device_id: device.deviceId, granted_scopes: ['openid'] },
        outcome: { result: 'accepted', attempts: 1 },
      });
      expect(JSON.stringify(admin)).not.toContain(login_state);
    });

    it('shows why the service itself denied a request for an unreachable user', async () => {
      const { requestId, login_state } = await startRequest(service, secureAuth, uniqueUserId('nobody'));
      const admin = await eventually(async () => {
        const response = await service.admin<AdminRequest>('GET', `/requests/${requestId}`);
        return response.body.status === 'completed' ? response.body : undefined;
      });
      expect(admin).toMatchObject({ reason: 'unknown_user', decision: { action: 'deny', channel: 'system' }, outcome: { result: 'rejected' } });
      expect(admin.user_id).toBeUndefined();
      expect(JSON.stringify(admin)).not.toContain(login_state);
    });

    it('answers 404 JSON for an unknown request', async () => {
      expectJsonError(await service.admin('GET', '/requests/no-such-request'), 404, 'not_found');
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('GET /admin/v1/requests/{request_id}/evidence', () => {
    async function approvedWithEvidence(alg: 'ES256' | 'EdDSA'): Promise<{ device: DeviceClient; view: RequestView; evidence: Evidence }> {
      const userId = uniqueUserId(`signer-${alg}`);
      const code = await service.createUser(userId);
      const device = await DeviceClient.enroll(service.url, code, { alg });
      const { requestId } = await startRequest(service, secureAuth, userId);
      const view = await device.waitForRequest((r) => r.request_id === requestId);
      expect((await device.decide(view, 'approve')).status).toBe(202);
      const response = await service.admin<Evidence>('GET', `/requests/${requestId}/evidence`);
      expect(response.status).toBe(200);
      return { device, view, evidence: response.body };
    }

    it.each<'ES256' | 'EdDSA'>(['ES256', 'EdDSA'])('lets anyone verify offline what the user approved (%s)', async (alg) => {
      const { device, view, evidence } = await approvedWithEvidence(alg);

      // 1. The decision JWS verifies with the public key handed out with it.
      const key = await importJWK(evidence.public_jwk as JWK, alg);
      const { payload, protectedHeader } = await jwtVerify(evidence.decision_jws, key, { typ: 'ciba-decision+jwt', algorithms: [alg] });
      expect(protectedHeader).toMatchObject({ alg, kid: device.deviceId });
      expect(payload).toMatchObject({ request_id: view.request_id, action: 'approve' });

      // 2. Its consent_hash is base64url(SHA-256(JCS(consent_view))), computed here independently.
      const canonical = canonicalize(evidence.consent_view);
      expect(canonical).toEqual(expect.any(String));
      const recomputed = createHash('sha256').update(canonical ?? '').digest('base64url');
      expect(payload.consent_hash).toBe(recomputed);
      expect(evidence.consent_hash).toBe(recomputed);

      // 3. The consent view is exactly what the device was shown, minus its hash.
      const { consent_hash: shownHash, ...shown } = view;
      expect(evidence.consent_view).toEqual(shown);
      expect(shownHash).toBe(recomputed);

      expect(evidence).toMatchObject({ request_id: view.request_id, device_id: device.deviceId, channel: 'device' });
      expect(evidence.public_jwk).not.toHaveProperty('d');
    });

    it('stays verifiable after the deciding device was revoked', async () => {
      const { device, view } = await approvedWithEvidence('ES256');
      expect((await service.admin('DELETE', `/users/${device.userId}/devices/${device.deviceId}`)).status).toBe(204);

      const response = await service.admin<Evidence>('GET', `/requests/${view.request_id}/evidence`);

      expect(response.status).toBe(200);
      const key = await importJWK(response.body.public_jwk as JWK, 'ES256');
      const { payload } = await jwtVerify(response.body.decision_jws, key, { typ: 'ciba-decision+jwt', algorithms: ['ES256'] });
      expect(payload.consent_hash).toBe(view.consent_hash);
    });

    it('answers 404 for a request still awaiting a decision', async () => {
      const userId = uniqueUserId('rita');
      const device = await enrolledUser(userId);
      const { requestId } = await startRequest(service, secureAuth, userId);
      await device.waitForRequest((r) => r.request_id === requestId);
      expectJsonError(await service.admin('GET', `/requests/${requestId}/evidence`), 404, 'not_found');
    });

    it('answers 404 for a request the service denied itself (nothing was signed)', async () => {
      const { requestId } = await startRequest(service, secureAuth, uniqueUserId('nobody'));
      await eventually(async () => (await service.admin<AdminRequest>('GET', `/requests/${requestId}`)).body.status === 'completed');
      expectJsonError(await service.admin('GET', `/requests/${requestId}/evidence`), 404, 'not_found');
    });

    it('answers 404 for an unknown request', async () => {
      expectJsonError(await service.admin('GET', '/requests/no-such-request/evidence'), 404, 'not_found');
    });
  });
});
