/**
 * The device API as the authenticator app meets it: enrolment and the keys it accepts, the rate
 * limit on activation codes, DPoP on every other call, the device's own record, and the checks on a
 * signed decision. Runs on the embedded default and on a private Redis.
 */
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { createHash, generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { DeviceClient, readJson, type ApiResponse, type RequestView } from '../../dev/device-client.js';
import type { ApiSchemas } from '../../src/http/api-types.js';
import { enrollWithKey, expectJsonError, startRequest, type StartedRequest } from '../support/api-helpers.js';
import { startRedisServer, type RedisServerHandle } from '../support/redis-server.js';
import { startSecureAuthStub, type SecureAuthStub } from '../support/secureauth-stub.js';
import { startService, type StoreKind, type TestService } from '../support/service.js';

let redis: RedisServerHandle;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis.stop();
});

const b64url = (value: string | Buffer): string => Buffer.from(value).toString('base64url');

/** A fresh key pair of another device: the private key to sign with, and its public JWK. */
async function otherKey(alg: 'ES256' | 'EdDSA' = 'ES256'): Promise<{ privateKey: CryptoKey; jwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair(alg, alg === 'EdDSA' ? { crv: 'Ed25519' } : {});
  return { privateKey, jwk: await exportJWK(publicKey) };
}

function nodeJwk(type: 'ec' | 'rsa', options: { namedCurve?: string; private?: boolean } = {}): Record<string, unknown> {
  const pair =
    type === 'ec'
      ? generateKeyPairSync('ec', { namedCurve: options.namedCurve ?? 'P-256' })
      : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return (options.private ? pair.privateKey : pair.publicKey).export({ format: 'jwk' }) as Record<string, unknown>;
}

/** A P-256 public key whose y coordinate was tampered with: (x, y) is no longer on the curve. */
function offCurveJwk(): Record<string, unknown> {
  const jwk = nodeJwk('ec');
  const y = Buffer.from(String(jwk.y), 'base64url');
  y[y.length - 1] = (y[y.length - 1] ?? 0) ^ 0x01;
  return { ...jwk, y: y.toString('base64url') };
}

const ath = (token: string): string => createHash('sha256').update(token).digest('base64url');

describe.each<StoreKind>(['memory', 'redis'])('device API on the %s store', (store) => {
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

  let userCounter = 0;
  const uniqueUserId = (name: string): string => `${name}-${(userCounter += 1)}`;

  async function enrolledDevice(options: { alg?: 'ES256' | 'EdDSA'; userId?: string } = {}): Promise<DeviceClient> {
    const code = await service.createUser(options.userId ?? uniqueUserId('user'));
    return DeviceClient.enroll(service.url, code, { alg: options.alg ?? 'ES256', name: 'Phone', platform: 'android' });
  }

  /** A request of the device's user, ready on the device. */
  async function pendingRequest(device: DeviceClient): Promise<StartedRequest & { view: RequestView }> {
    const started = await startRequest(service, secureAuth, device.userId);
    const view = await device.waitForRequest((r) => r.request_id === started.requestId);
    return { ...started, view };
  }

  /** Calls the stub received for a login other than reading it: accepts and rejects. */
  const decisionsSentFor = (loginId: string) => secureAuth.calls.filter((c) => c.login === loginId && c.kind !== 'get');

  // -------------------------------------------------------------------------------------------
  describe('enrolment', () => {
    it('accepts an EC P-256 key, for ES256', async () => {
      const device = await enrolledDevice({ alg: 'ES256' });
      const self = await device.call<ApiSchemas['Device']>('GET', '/device/v1/devices/self');
      expect(self.body).toMatchObject({ device_id: device.deviceId, alg: 'ES256', status: 'active' });
    });

    it('answers the device id, the user id and a device token', async () => {
      const userId = uniqueUserId('eve');
      const code = await service.createUser(userId);
      const response = await enrollWithKey(service.url, code, nodeJwk('ec'));
      expect(response.status).toBe(201);
      expect(response.body).toEqual({ device_id: expect.any(String), user_id: userId, device_token: expect.stringMatching(/^[A-Za-z0-9_-]{40,}$/) });
    });

    it('accepts an Ed25519 key, for EdDSA, and that device can approve a request', async () => {
      const device = await enrolledDevice({ alg: 'EdDSA' });
      const self = await device.call<ApiSchemas['Device']>('GET', '/device/v1/devices/self');
      expect(self.body.alg).toBe('EdDSA');

      const { view, login_id } = await pendingRequest(device);
      expect(await device.decide(view, 'approve')).toMatchObject({ status: 202, body: { status: 'approved' } });
      await secureAuth.waitFor(() => secureAuth.decisionOf(login_id) === 'accepted');
    });

    const refusedKeys: Array<[string, () => Record<string, unknown>]> = [
      ['a symmetric key', () => ({ kty: 'oct', k: randomBytes(32).toString('base64url') })],
      ['a private EC key (with d)', () => nodeJwk('ec', { private: true })],
      ['an RSA key', () => nodeJwk('rsa')],
      ['an EC P-384 key', () => nodeJwk('ec', { namedCurve: 'P-384' })],
      ['an EC key whose point is not on the curve', offCurveJwk],
      ['an EC key missing y', () => ({ ...nodeJwk('ec'), y: undefined })],
      ['an EC key declaring another alg', () => ({ ...nodeJwk('ec'), alg: 'ES384' })],
    ];

    it.each(refusedKeys)('refuses %s with 400 naming public_jwk', async (_what, makeKey) => {
      const code = await service.createUser(uniqueUserId('refused'));
      const body = expectJsonError(await enrollWithKey(service.url, code, makeKey()), 400, 'invalid_request');
      expect(body.error_description).toContain('public_jwk');
    });

    it('does not spend the activation code on a refused key: the same code then enrols a good key', async () => {
      const userId = uniqueUserId('frank');
      const code = await service.createUser(userId);
      expectJsonError(await enrollWithKey(service.url, code, { kty: 'oct', k: randomBytes(32).toString('base64url') }), 400);
      expectJsonError(await enrollWithKey(service.url, code, nodeJwk('rsa')), 400);

      const device = await DeviceClient.enroll(service.url, code);
      expect(device.userId).toBe(userId);
    });

    it('refuses an unknown activation code with 401 invalid_grant', async () => {
      expectJsonError(await enrollWithKey(service.url, 'AAAA-BBBB-CCCC', nodeJwk('ec')), 401, 'invalid_grant');
    });
  });

  describe('activation code guessing', () => {
    it('is limited: after 3 wrong codes, even the right one gets 429 with Retry-After', async () => {
      const limited = await startService({ store, redisUrl: redis.url, env: { ACTIVATION_MAX_ATTEMPTS: '3' } });
      try {
        const code = await limited.createUser('target');
        for (const guess of ['AAAA-AAAA-AAAA', 'BBBB-BBBB-BBBB', 'CCCC-CCCC-CCCC']) {
          expectJsonError(await enrollWithKey(limited.url, guess, nodeJwk('ec')), 401, 'invalid_grant');
        }

        const blocked = await enrollWithKey(limited.url, code, nodeJwk('ec'));

        const body = expectJsonError(blocked, 429, 'too_many_requests');
        expect(body.error_description).toMatch(/retry in \d+ s/);
        expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
        expect((await limited.admin<ApiSchemas['User']>('GET', '/users/target')).body.devices).toEqual([]);
      } finally {
        await limited.stop();
      }
    });
    it('cannot be outrun by parallel guesses: of 20 at once with a limit of 3, only 3 are tried', async () => {
      const limited = await startService({ store, redisUrl: redis.url, env: { ACTIVATION_MAX_ATTEMPTS: '3' } });
      try {
        const guesses = Array.from({ length: 20 }, (_, i) => `WRNG-${String(i).padStart(4, '0')}-CODE`);
        const responses = await Promise.all(guesses.map((guess) => enrollWithKey(limited.url, guess, nodeJwk('ec'))));
        const statuses = responses.map((response) => response.status);
        expect(statuses.filter((status) => status === 401)).toHaveLength(3);
        expect(statuses.filter((status) => status === 429)).toHaveLength(17);
      } finally {
        await limited.stop();
      }
    });

    it('gives a successful enrolment its attempt back', async () => {
      const limited = await startService({ store, redisUrl: redis.url, env: { ACTIVATION_MAX_ATTEMPTS: '2' } });
      try {
        for (const user of ['first', 'second', 'third']) {
          const code = await limited.createUser(user);
          expect((await enrollWithKey(limited.url, code, nodeJwk('ec'))).status).toBe(201);
        }
      } finally {
        await limited.stop();
      }
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('DPoP', () => {
    const path = '/device/v1/requests';
    let device: DeviceClient;

    beforeAll(async () => {
      device = await enrolledDevice();
    });

    /** The call is refused with 401, a DPoP challenge and the given error code. */
    function expectDPoPRefusal(response: ApiResponse, error: 'invalid_token' | 'invalid_dpop_proof'): void {
      expectJsonError(response, 401, error);
      expect(response.headers.get('www-authenticate')).toMatch(/^DPoP /);
    }

    async function rawCall(headers: Record<string, string>): Promise<ApiResponse> {
      const response = await fetch(`${service.url}${path}`, { headers });
      return { status: response.status, headers: response.headers, body: await readJson(response) };
    }

    it('accepts a proper call', async () => {
      expect((await device.call('GET', path)).status).toBe(200);
    });

    it('refuses a call without Authorization', async () => {
      expectDPoPRefusal(await rawCall({ dpop: await device.proof('GET', path) }), 'invalid_token');
    });

    it('refuses a Bearer token instead of DPoP', async () => {
      expectDPoPRefusal(await rawCall({ authorization: `Bearer ${device.deviceToken}`, dpop: await device.proof('GET', path) }), 'invalid_token');
    });

    it('refuses a call without a DPoP header', async () => {
      expectDPoPRefusal(await rawCall({ authorization: `DPoP ${device.deviceToken}` }), 'invalid_dpop_proof');
    });

    it('refuses a replayed proof the second time', async () => {
      const proof = await device.proof('GET', path);
      expect((await device.call('GET', path, undefined, { proof })).status).toBe(200);
      const replay = await device.call('GET', path, undefined, { proof });
      expectDPoPRefusal(replay, 'invalid_dpop_proof');
      expect((replay.body as { error_description: string }).error_description).toMatch(/already used/);
    });

    it('refuses a proof signed by another key (and carrying that key)', async () => {
      const other = await otherKey();
      const proof = await device.proof('GET', path, { signingKey: other.privateKey, jwk: other.jwk });
      expectDPoPRefusal(await device.call('GET', path, undefined, { proof }), 'invalid_dpop_proof');
    });

    it('refuses a proof carrying the enrolled key but signed by another', async () => {
      const other = await otherKey();
      const proof = await device.proof('GET', path, { signingKey: other.privateKey });
      expectDPoPRefusal(await device.call('GET', path, undefined, { proof }), 'invalid_dpop_proof');
    });

    it.each<[string, () => Promise<string>]>([
      ['another method (htm)', () => device.proof('GET', path, { htm: 'POST' })],
      ['another URL (htu)', () => device.proof('GET', path, { htu: `${service.url}/device/v1/devices/self` })],
      ['another host (htu)', () => device.proof('GET', path, { htu: `https://evil.example${path}` })],
      ['an iat 5 minutes old', () => device.proof('GET', path, { iat: Math.floor(Date.now() / 1000) - 300 })],
      ['an iat 5 minutes ahead', () => device.proof('GET', path, { iat: Math.floor(Date.now() / 1000) + 300 })],
      ['no ath', () => device.proof('GET', path, { ath: null })],
      ['the ath of another token', () => device.proof('GET', path, { ath: ath('another-token') })],
      ['a jti too short to be unique', () => device.proof('GET', path, { jti: 'x' })],
    ])('refuses a proof with %s', async (_what, makeProof) => {
      expectDPoPRefusal(await device.call('GET', path, undefined, { proof: await makeProof() }), 'invalid_dpop_proof');
    });

    it('refuses a proof whose embedded key carries a private member', async () => {
      const proof = await device.proof('GET', path, { jwk: { ...device.publicJwk, d: randomBytes(32).toString('base64url') } });
      expectDPoPRefusal(await device.call('GET', path, undefined, { proof }), 'invalid_dpop_proof');
    });

    it('refuses a proof of another type than dpop+jwt', async () => {
      const proof = await new SignJWT({ htm: 'GET', htu: `${service.url}${path}`, jti: randomUUID(), ath: ath(device.deviceToken) })
        .setProtectedHeader({ typ: 'JWT', alg: 'ES256', jwk: device.publicJwk })
        .setIssuedAt()
        .sign(device.privateKey);
      expectDPoPRefusal(await device.call('GET', path, undefined, { proof }), 'invalid_dpop_proof');
    });

    it('refuses a wrong device token with invalid_token', async () => {
      const token = randomBytes(32).toString('base64url');
      const proof = await device.proof('GET', path, { ath: ath(token) });
      expectDPoPRefusal(await device.call('GET', path, undefined, { proof, token }), 'invalid_token');
    });

    it("refuses another device's token with this device's proof", async () => {
      const other = await enrolledDevice();
      const proof = await device.proof('GET', path, { ath: ath(other.deviceToken) });
      expectDPoPRefusal(await device.call('GET', path, undefined, { proof, token: other.deviceToken }), 'invalid_dpop_proof');
    });

    it('refuses every call of a device that un-enrolled itself', async () => {
      const leaving = await enrolledDevice();
      expect((await leaving.call('DELETE', '/device/v1/devices/self')).status).toBe(204);
      expectDPoPRefusal(await leaving.call('GET', path), 'invalid_token');
      expectDPoPRefusal(await leaving.call('GET', '/device/v1/devices/self'), 'invalid_token');
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('/device/v1/devices/self', () => {
    it('shows the device as enrolled, without any secret', async () => {
      const device = await enrolledDevice();
      const response = await device.call<ApiSchemas['Device']>('GET', '/device/v1/devices/self');
      expect(response).toMatchObject({
        status: 200,
        body: { device_id: device.deviceId, user_id: device.userId, name: 'Phone', platform: 'android', status: 'active', alg: 'ES256', push: 'none' },
      });
      expect(JSON.stringify(response.body)).not.toContain(device.deviceToken);
    });

    it('renames the device', async () => {
      const device = await enrolledDevice();
      const response = await device.call<ApiSchemas['Device']>('PUT', '/device/v1/devices/self', { name: 'Work phone' });
      expect(response).toMatchObject({ status: 200, body: { name: 'Work phone', push: 'none' } });
      expect((await device.call<ApiSchemas['Device']>('GET', '/device/v1/devices/self')).body.name).toBe('Work phone');
    });

    it('sets a push token: push becomes active and the token is not echoed', async () => {
      const device = await enrolledDevice();
      const response = await device.call<ApiSchemas['Device']>('PUT', '/device/v1/devices/self', { push_token: 'fcm-registration-token-123' });
      expect(response).toMatchObject({ status: 200, body: { push: 'active', name: 'Phone' } });
      expect(JSON.stringify(response.body)).not.toContain('fcm-registration-token-123');
      expect(response.body).not.toHaveProperty('push_token');
    });

    it('refuses an empty update with 400', async () => {
      const device = await enrolledDevice();
      expectJsonError(await device.call('PUT', '/device/v1/devices/self', {}), 400, 'invalid_request');
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('signed decisions', () => {
    let device: DeviceClient;
    let sibling: DeviceClient;
    let target: StartedRequest & { view: RequestView };
    let other: StartedRequest & { view: RequestView };
    const decisionPath = (): string => `/device/v1/requests/${target.requestId}/decision`;

    beforeAll(async () => {
      const userId = uniqueUserId('decider');
      device = await enrolledDevice({ userId });
      sibling = await DeviceClient.enroll(
        service.url,
        (await service.admin<{ activation_code: string }>('POST', `/users/${userId}/activation-codes`)).body.activation_code,
      );
      target = await pendingRequest(device);
      other = await pendingRequest(device);
    });

    const submit = (decision: string): Promise<ApiResponse> => device.call('POST', decisionPath(), { decision });

    /** A decision JWS built by hand, signed with the device's key unless said otherwise. */
    const handMade = (header: Record<string, unknown>): Promise<string> =>
      new SignJWT({ request_id: target.requestId, action: 'approve', consent_hash: target.view.consent_hash, jti: randomUUID() })
        .setProtectedHeader({ alg: 'ES256', ...header })
        .setIssuedAt()
        .sign(device.privateKey);

    describe('that are refused', () => {
      afterEach(() => {
        // Whatever was refused, SecureAuth heard nothing about the request.
        expect(decisionsSentFor(target.login_id)).toEqual([]);
      });

      it('refuses a decision signed with another key: 401 invalid_signature, with a DPoP challenge', async () => {
        const { privateKey } = await otherKey();
        const response = await device.decide(target.view, 'approve', { signingKey: privateKey });
        expectJsonError(response, 401, 'invalid_signature');
        expect(response.headers.get('www-authenticate')).toMatch(/^DPoP /);
      });

      it("refuses a decision whose kid is another device's: 401", async () => {
        expectJsonError(await device.decide(target.view, 'approve', { kid: sibling.deviceId }), 401, 'invalid_signature');
      });

      it("refuses a decision signed by the user's other device and sent with this one's credentials: 401", async () => {
        const token = await sibling.decisionToken(target.view, 'approve');
        expectJsonError(await submit(token), 401, 'invalid_signature');
      });

      it('refuses a decision without typ: 400', async () => {
        expectJsonError(await submit(await handMade({ kid: device.deviceId })), 400);
      });

      it('refuses a decision of another typ: 400', async () => {
        expectJsonError(await submit(await handMade({ kid: device.deviceId, typ: 'JWT' })), 400);
      });

      it('refuses an unsigned decision (alg none)', async () => {
        const header = b64url(JSON.stringify({ alg: 'none', typ: 'ciba-decision+jwt', kid: device.deviceId }));
        const payload = b64url(
          JSON.stringify({ request_id: target.requestId, action: 'approve', consent_hash: target.view.consent_hash, iat: Math.floor(Date.now() / 1000), jti: randomUUID() }),
        );
        for (const decision of [`${header}.${payload}.`, `${header}.${payload}.${b64url('x')}`]) {
          const response = await submit(decision);
          expect([400, 401]).toContain(response.status);
          expectJsonError(response, response.status);
        }
      });

      it('refuses a decision MACed with HS256', async () => {
        const token = await new SignJWT({ request_id: target.requestId, action: 'approve', consent_hash: target.view.consent_hash, jti: randomUUID() })
          .setProtectedHeader({ alg: 'HS256', typ: 'ciba-decision+jwt', kid: device.deviceId })
          .setIssuedAt()
          .sign(randomBytes(32));
        const response = await submit(token);
        expect([400, 401]).toContain(response.status);
        expectJsonError(response, response.status);
      });

      it('refuses a decision issued 10 minutes ago: 400', async () => {
        const response = await device.decide(target.view, 'approve', { iat: Math.floor(Date.now() / 1000) - 600 });
        expect(expectJsonError(response, 400).error_description).toMatch(/iat/);
      });

      it('refuses a decision for another request: 400', async () => {
        const response = await device.decide(target.view, 'approve', { requestId: other.requestId, consentHash: other.view.consent_hash });
        expect(expectJsonError(response, 400).error_description).toMatch(/request_id/);
      });

      it('refuses an action other than approve or deny: 400', async () => {
        const response = await device.decide(target.view, 'approve', { claims: { action: 'maybe' } });
        expect(expectJsonError(response, 400).error_description).toMatch(/action/);
      });

      it('refuses a decision without a jti: 400', async () => {
        const token = await new SignJWT({ request_id: target.requestId, action: 'approve', consent_hash: target.view.consent_hash })
          .setProtectedHeader({ alg: 'ES256', typ: 'ciba-decision+jwt', kid: device.deviceId })
          .setIssuedAt()
          .sign(device.privateKey);
        expectJsonError(await submit(token), 400);
      });

      it('refuses a body that is not a compact JWS: 400', async () => {
        expectJsonError(await submit('not-a-jws'), 400, 'invalid_request');
      });
    });

    describe('after those refusals', () => {
      it('still accepts a correct approval: 202', async () => {
        expect((await device.call('GET', `/device/v1/requests/${target.requestId}`)).status).toBe(200);
        expect(await device.decide(target.view, 'approve')).toMatchObject({ status: 202, body: { request_id: target.requestId, status: 'approved' } });
        await secureAuth.waitFor(() => secureAuth.decisionOf(target.login_id) === 'accepted');
        expect(decisionsSentFor(target.login_id)).toHaveLength(1);
      });
    });
  });
});
