/**
 * How the service answers what it cannot use: malformed, incomplete, ill-typed, oversized or
 * mis-typed bodies, unknown routes and methods, and an unreachable Redis. Every error is the same
 * small JSON document — never HTML, never a stack — and a bad request never disturbs a good one.
 */
import { DeviceClient, readJson, type ApiResponse } from '../../dev/device-client.js';
import { expectJsonError, startRequest } from '../support/api-helpers.js';
import { startRedisServer, type RedisServerHandle } from '../support/redis-server.js';
import { startSecureAuthStub, type SecureAuthStub } from '../support/secureauth-stub.js';
import { ADMIN_TOKEN, AS_PASSWORD, AS_USER, eventually, startService, type StoreKind, type TestService } from '../support/service.js';

let redis: RedisServerHandle;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis.stop();
});

const BASIC = `Basic ${Buffer.from(`${AS_USER}:${AS_PASSWORD}`).toString('base64')}`;
const BEARER = `Bearer ${ADMIN_TOKEN}`;
/** Comfortably over the 64 KiB default body limit. */
const OVERSIZED = JSON.stringify({ user_identifier: 'alice', padding: 'x'.repeat(70 * 1024) });

/** Sends exactly the given body text; the answer's body is parsed as JSON when it is JSON. */
async function send(
  baseUrl: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: { text: string; contentType: string },
): Promise<ApiResponse> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { ...headers, ...(body ? { 'content-type': body.contentType } : {}) },
    ...(body ? { body: body.text } : {}),
    signal: AbortSignal.timeout(15_000),
  });
  return { status: response.status, headers: response.headers, body: await readJson(response) };
}

const json = (value: unknown) => ({ text: JSON.stringify(value), contentType: 'application/json' });

/** An endpoint with a JSON body, how to authenticate to it, and bodies that break its schema. */
interface Endpoint {
  name: string;
  path: string;
  auth: () => Promise<Record<string, string>>;
  /** A body without a required field, and the field's name. */
  missing?: { body: unknown; field: string };
  /** A body with an unknown field where the schema forbids them, and the field's name. */
  unknown?: { body: unknown; field: string };
  /** Bodies with a field of the wrong type or shape: what is wrong, and the field's name. */
  illTyped: Array<{ body: unknown; field: string; what: string }>;
}

describe.each<StoreKind>(['memory', 'redis'])('error answers on the %s store', (store) => {
  let secureAuth: SecureAuthStub;
  let service: TestService;
  let device: DeviceClient;

  beforeAll(async () => {
    secureAuth = await startSecureAuthStub();
    service = await startService({ store, redisUrl: redis.url, secureAuth });
    device = await DeviceClient.enroll(service.url, await service.createUser('alice'));
  });
  afterAll(async () => {
    await service.stop();
    await secureAuth.close();
    expect(secureAuth.stubErrors).toEqual([]);
  });

  const decisionPath = '/device/v1/requests/some-request/decision';
  const endpoints: Endpoint[] = [
    {
      name: 'POST /user/verify',
      path: '/user/verify',
      auth: async () => ({ authorization: BASIC }),
      missing: { body: {}, field: 'user_identifier' },
      illTyped: [
        { body: { user_identifier: 42 }, field: 'user_identifier', what: 'a number' },
        { body: { user_identifier: '' }, field: 'user_identifier', what: 'an empty string' },
      ],
    },
    {
      name: 'POST /authentication/start',
      path: '/authentication/start',
      auth: async () => ({ authorization: BASIC }),
      missing: { body: { user_identifier: 'alice', state: 'xyz' }, field: 'login_id' },
      illTyped: [
        { body: { login_id: [], user_identifier: 'alice', state: 'xyz' }, field: 'login_id', what: 'an array' },
        { body: { login_id: 'l1', user_identifier: 'alice', state: 'xyz', requested_scopes: 'openid' }, field: 'requested_scopes', what: 'a string' },
      ],
    },
    {
      name: 'PUT /admin/v1/users/{user_id}',
      path: '/admin/v1/users/bob',
      auth: async () => ({ authorization: BEARER }),
      // UserInput has no required field; it refuses unknown ones instead.
      unknown: { body: { display_name: 'Bob', nickname: 'bobby' }, field: 'nickname' },
      illTyped: [
        { body: { aliases: 'bob@example.com' }, field: 'aliases', what: 'a string' },
        { body: { disabled: 'yes' }, field: 'disabled', what: 'a string' },
      ],
    },
    {
      name: 'POST /device/v1/requests/{request_id}/decision',
      path: decisionPath,
      auth: async () => ({ authorization: `DPoP ${device.deviceToken}`, dpop: await device.proof('POST', decisionPath) }),
      missing: { body: {}, field: 'decision' },
      unknown: { body: { decision: 'a.b.c', approve: true }, field: 'approve' },
      illTyped: [{ body: { decision: 42 }, field: 'decision', what: 'a number' }],
    },
  ];

  const post = async (endpoint: Endpoint, body: { text: string; contentType: string }): Promise<ApiResponse> =>
    send(service.url, endpoint.name.startsWith('PUT') ? 'PUT' : 'POST', endpoint.path, await endpoint.auth(), body);

  describe.each(endpoints)('$name', (endpoint) => {
    it('answers malformed JSON with 400 invalid_request', async () => {
      const body = expectJsonError(await post(endpoint, { text: '{"user_identifier": "alice",', contentType: 'application/json' }), 400, 'invalid_request');
      expect(body.error_description).toMatch(/JSON/);
    });

    it('reads no body before it knows the caller: without credentials, malformed or oversized JSON gets 401', async () => {
      const method = endpoint.name.startsWith('PUT') ? 'PUT' : 'POST';
      for (const body of [{ text: '{"user_identifier": "alice",', contentType: 'application/json' }, { text: OVERSIZED, contentType: 'application/json' }]) {
        expect((await send(service.url, method, endpoint.path, {}, body)).status).toBe(401);
      }
    });

    if (endpoint.missing) {
      const { body, field } = endpoint.missing;
      it(`answers a body without ${field} with 400 naming it`, async () => {
        expect(expectJsonError(await post(endpoint, json(body)), 400, 'invalid_request').error_description).toContain(field);
      });
    }

    if (endpoint.unknown) {
      const { body, field } = endpoint.unknown;
      it(`answers a body with the unknown field ${field} with 400 naming it`, async () => {
        expect(expectJsonError(await post(endpoint, json(body)), 400, 'invalid_request').error_description).toContain(field);
      });
    }

    it.each(endpoint.illTyped)('answers $field as $what with 400 naming it', async ({ body, field }) => {
      expect(expectJsonError(await post(endpoint, json(body)), 400, 'invalid_request').error_description).toContain(field);
    });

    it('answers a text/plain body with 415 unsupported_media_type', async () => {
      expectJsonError(await post(endpoint, { text: 'user_identifier=alice', contentType: 'text/plain' }), 415, 'unsupported_media_type');
    });

    it('answers a JSON array instead of an object with 400', async () => {
      expectJsonError(await post(endpoint, json(['alice'])), 400, 'invalid_request');
    });

    it('answers a body over 64 KiB with 413 request_too_large', async () => {
      expectJsonError(await post(endpoint, { text: OVERSIZED, contentType: 'application/json' }), 413, 'request_too_large');
    });
  });

  describe('routes and methods', () => {
    it.each([
      ['GET', '/nope', {}],
      ['POST', '/nope', { authorization: BASIC }],
      ['GET', '/admin/v1/nope', { authorization: BEARER }],
      ['POST', '/user/verify/extra', { authorization: BASIC }],
    ])('answers %s %s with 404 JSON', async (method, path, headers) => {
      expectJsonError(await send(service.url, method, path, headers), 404, 'not_found');
    });

    it('answers an unknown device route with 404 JSON', async () => {
      const path = '/device/v1/nope';
      const headers = { authorization: `DPoP ${device.deviceToken}`, dpop: await device.proof('GET', path) };
      expectJsonError(await send(service.url, 'GET', path, headers), 404, 'not_found');
    });

    it.each([
      ['GET', '/user/verify', { authorization: BASIC }],
      ['DELETE', '/authentication/start', { authorization: BASIC }],
      ['DELETE', '/admin/v1/users/bob', { authorization: BEARER }],
      ['POST', '/admin/v1/requests/some-request', { authorization: BEARER }],
      ['POST', '/healthz', {}],
    ])('answers %s %s with 405 JSON', async (method, path, headers) => {
      expectJsonError(await send(service.url, method, path, headers), 405, 'method_not_allowed');
    });

    it('answers a wrong method on a device route with 405 JSON', async () => {
      const path = '/device/v1/requests';
      const headers = { authorization: `DPoP ${device.deviceToken}`, dpop: await device.proof('PUT', path) };
      expectJsonError(await send(service.url, 'PUT', path, headers), 405, 'method_not_allowed');
    });
  });

  describe('what is accepted', () => {
    it('ignores unknown extra fields in /authentication/start', async () => {
      const response = await service.asCall<{ request_id: string }>('/authentication/start', {
        login_id: `extra-fields-${store}`,
        user_identifier: 'alice',
        state: 'state-extra',
        acr_values: 'urn:mace:incommon:iap:silver',
        requested_expiry: 120,
        some_future_field: { nested: [1, 2, 3] },
      });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ request_id: expect.any(String) });
    });

    it('accepts application/json with a charset', async () => {
      const response = await send(service.url, 'POST', '/user/verify', { authorization: BASIC }, {
        text: JSON.stringify({ user_identifier: 'alice' }),
        contentType: 'application/json; charset=utf-8',
      });
      expect(response).toMatchObject({ status: 200, body: { valid: true } });
    });
  });

  it('lets a valid flow complete while garbage requests arrive in between', async () => {
    const garbage = async (): Promise<void> => {
      const responses = await Promise.all([
        send(service.url, 'POST', '/user/verify', { authorization: BASIC }, { text: '{', contentType: 'application/json' }),
        send(service.url, 'POST', '/authentication/start', { authorization: BASIC }, { text: OVERSIZED, contentType: 'application/json' }),
        send(service.url, 'POST', '/authentication/start', { authorization: BASIC }, json({ login_id: [], state: 1 })),
        send(service.url, 'PUT', '/admin/v1/users/alice', { authorization: BEARER }, { text: 'disabled=true', contentType: 'text/plain' }),
        send(service.url, 'PUT', '/admin/v1/users/alice', { authorization: 'Bearer wrong' }, json({ disabled: true })),
        send(service.url, 'POST', '/device/v1/enrollments', {}, json({ activation_code: 'AAAA-AAAA-AAAA', public_jwk: { kty: 'oct', k: 'AAAA' } })),
        send(service.url, 'GET', '/device/v1/requests', { authorization: `DPoP ${device.deviceToken}`, dpop: 'not.a.proof' }),
      ]);
      for (const response of responses) expect(response.status).toBeGreaterThanOrEqual(400);
    };

    const [started] = await Promise.all([startRequest(service, secureAuth, 'alice'), garbage()]);
    const [view] = await Promise.all([device.waitForRequest((r) => r.request_id === started.requestId), garbage()]);
    const [decided] = await Promise.all([device.decide(view, 'approve'), garbage()]);
    expect(decided.status).toBe(202);

    await Promise.all([secureAuth.waitFor(() => secureAuth.decisionOf(started.login_id) === 'accepted'), garbage()]);
    expect(secureAuth.accepted(started.login_id)).toEqual([
      { id: started.login_id, login_state: started.login_state, granted_scopes: ['openid', 'profile'] },
    ]);
    expect((await service.admin('GET', '/users/alice')).body).toMatchObject({ disabled: false });
  });
});

describe('when Redis is unreachable', () => {
  let ownRedis: RedisServerHandle;
  let service: TestService;

  beforeAll(async () => {
    // Append-only file: what the service stored survives the crash below.
    ownRedis = await startRedisServer({ appendOnly: true });
    service = await startService({ store: 'redis', redisUrl: ownRedis.url });
    await DeviceClient.enroll(service.url, await service.createUser('alice'));
    expect((await service.asCall('/user/verify', { user_identifier: 'alice' })).body).toEqual({ valid: true });
    // SIGKILL keeps the directory, so the same server can be restarted (stop() would remove it).
    await ownRedis.kill();
  });
  afterAll(async () => {
    // Bring Redis back (if a test failed before doing so) so the service's workers shut down cleanly.
    if (!(await redisAnswers(service))) await ownRedis.restart();
    await service.stop();
    await ownRedis.stop();
  });

  async function redisAnswers(target: TestService): Promise<boolean> {
    return target.services.ping().then(
      () => true,
      () => false,
    );
  }

  it('answers /user/verify with 503 temporarily_unavailable JSON, without hanging', async () => {
    // send() aborts after 15 s: a hanging request fails the test instead of blocking it.
    const response = await send(service.url, 'POST', '/user/verify', { authorization: BASIC }, json({ user_identifier: 'alice' }));
    expectJsonError(response, 503, 'temporarily_unavailable');
    expect(response.headers.get('retry-after')).toBe('1');
  });

  it('answers /authentication/start and the admin API with 503 too', async () => {
    const start = await send(service.url, 'POST', '/authentication/start', { authorization: BASIC }, json({ login_id: 'l-down', user_identifier: 'alice', state: 's' }));
    expectJsonError(start, 503, 'temporarily_unavailable');
    expectJsonError(await send(service.url, 'GET', '/admin/v1/users/alice', { authorization: BEARER }), 503, 'temporarily_unavailable');
  });

  it('recovers once Redis is back', async () => {
    await ownRedis.restart();
    const verified = await eventually(async () => {
      const response = await service.asCall<{ valid: boolean }>('/user/verify', { user_identifier: 'alice' });
      return response.status === 200 ? response : undefined;
    }, 15_000, '/user/verify answering 200');
    expect(verified.body).toEqual({ valid: true });
  });
});
