/**
 * Rate limits over HTTP (src/http/middleware/rate-limits.ts), with small limits set through the
 * configuration: failed Basic authentications per source address, calls per device, admin calls and
 * failed admin tokens per source address; which address counts (TRUST_PROXY and X-Forwarded-For); and
 * a Redis outage, after which the limits go on counting in the process instead of failing calls.
 * On the embedded default and on a private Redis.
 */
import { Redis } from 'ioredis';
import { readJson, type ApiResponse, type DeviceClient } from '../../dev/device-client.js';
import { expectJsonError, type ErrorBody } from '../support/api-helpers.js';
import { enrolledDevice } from '../support/flow-helpers.js';
import { startRedisServer, type RedisServerHandle } from '../support/redis-server.js';
import { ADMIN_TOKEN, AS_PASSWORD, AS_USER, eventually, startService, type StoreKind, type TestService } from '../support/service.js';

const RIGHT = `${AS_USER}:${AS_PASSWORD}`;
const WRONG = `${AS_USER}:not-the-password`;
const basic = (credentials: string): string => `Basic ${Buffer.from(credentials).toString('base64')}`;

let redis: RedisServerHandle;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
});

/** One call, optionally claiming to be forwarded for `from` (X-Forwarded-For). */
async function call(service: TestService, method: string, path: string, options: { authorization?: string; from?: string; body?: unknown } = {}): Promise<ApiResponse> {
  const response = await fetch(`${service.url}${path}`, {
    method,
    headers: {
      ...(options.authorization !== undefined ? { authorization: options.authorization } : {}),
      ...(options.from !== undefined ? { 'x-forwarded-for': options.from } : {}),
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  return { status: response.status, headers: response.headers, body: await readJson(response) };
}

const verify = (service: TestService, credentials: string, from?: string): Promise<ApiResponse> =>
  call(service, 'POST', '/user/verify', { authorization: basic(credentials), body: { user_identifier: 'nobody' }, ...(from !== undefined ? { from } : {}) });

const start = (service: TestService, credentials: string, from?: string): Promise<ApiResponse> =>
  call(service, 'POST', '/authentication/start', {
    authorization: basic(credentials),
    body: { login_id: 'login-rate-limits', user_identifier: 'nobody', state: 'state', client_id: 'pos-terminal', requested_scopes: ['openid'] },
    ...(from !== undefined ? { from } : {}),
  });

const adminCall = (service: TestService, token: string, from?: string): Promise<ApiResponse> =>
  call(service, 'GET', '/admin/v1/users/nobody', { authorization: `Bearer ${token}`, ...(from !== undefined ? { from } : {}) });

/** 429 too_many_requests, with a Retry-After of whole seconds within the window. */
function expectTooMany(response: ApiResponse, windowSeconds: number, about: RegExp): ErrorBody {
  const body = expectJsonError(response, 429, 'too_many_requests');
  expect(body.error_description).toMatch(about);
  const retryAfter = response.headers.get('retry-after') ?? '';
  expect(retryAfter).toMatch(/^\d+$/);
  expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
  expect(Number(retryAfter)).toBeLessThanOrEqual(windowSeconds);
  expect(body.error_description).toContain(`retry in ${retryAfter} s`);
  return body;
}

/**
 * The service under test, once its Redis connection is ready: until then the limiters count in the
 * process (as in an outage), which would split the counts these tests add up.
 */
async function startLimited(...options: Parameters<typeof startService>): Promise<TestService> {
  const service = await startService(...options);
  await service.services.ping();
  return service;
}

const FAILURE_WINDOW = 600;
const failedAuthentications = /too many failed authentications from this address/;

describe.each<StoreKind>(['memory', 'redis'])('on the %s store', (store) => {
  describe('failed HTTP Basic, counted per source address (TRUST_PROXY=loopback: the forwarded address counts)', () => {
    let service: TestService;
    beforeAll(async () => {
      service = await startLimited({ store, redisUrl: redis.url, workers: false, env: { TRUST_PROXY: 'loopback', RATE_LIMIT_BASIC_FAILURES: '3' } });
    });
    afterAll(async () => {
      await service?.stop();
    });

    it('3 failures → 401 each; the 4th → 429 with Retry-After; then even the right credentials get 429, on both endpoints', async () => {
      const attacker = '203.0.113.10';
      for (let n = 0; n < 3; n += 1) expectJsonError(await verify(service, WRONG, attacker), 401, 'invalid_client');

      expectTooMany(await verify(service, WRONG, attacker), FAILURE_WINDOW, failedAuthentications);
      expectTooMany(await verify(service, RIGHT, attacker), FAILURE_WINDOW, failedAuthentications);
      expectTooMany(await start(service, RIGHT, attacker), FAILURE_WINDOW, failedAuthentications);
    });

    it('another address is not affected, and has its own count', async () => {
      const attacker = '203.0.113.11';
      for (let n = 0; n < 4; n += 1) await verify(service, WRONG, attacker);
      expect((await verify(service, RIGHT, attacker)).status).toBe(429);

      const secureAuth = '198.51.100.20';
      expect(await verify(service, RIGHT, secureAuth)).toMatchObject({ status: 200, body: { valid: false } });
      expectJsonError(await verify(service, WRONG, secureAuth), 401, 'invalid_client');
      expect((await verify(service, RIGHT, secureAuth)).status).toBe(200);
    });

    it('only failures count: successes in between neither spend nor refill the allowance', async () => {
      const caller = '203.0.113.12';
      expectJsonError(await verify(service, WRONG, caller), 401, 'invalid_client');
      for (let n = 0; n < 5; n += 1) expect((await verify(service, RIGHT, caller)).status).toBe(200);
      expectJsonError(await verify(service, WRONG, caller), 401, 'invalid_client');
      expectJsonError(await start(service, WRONG, caller), 401, 'invalid_client');
      expectTooMany(await verify(service, WRONG, caller), FAILURE_WINDOW, failedAuthentications);
    });

    it('counts the addresses of one IPv6 /64 as one address', async () => {
      for (const suffix of ['1', '2', '3']) expectJsonError(await verify(service, WRONG, `2001:db8:5:6::${suffix}`), 401, 'invalid_client');
      expectTooMany(await verify(service, RIGHT, '2001:db8:5:6::ffff'), FAILURE_WINDOW, failedAuthentications);
      expect((await verify(service, RIGHT, '2001:db8:5:7::1')).status).toBe(200);
    });
  });

  it('with TRUST_PROXY unset, X-Forwarded-For is ignored: every failure counts for the peer (127.0.0.1)', async () => {
    const service = await startLimited({ store, redisUrl: redis.url, workers: false, env: { RATE_LIMIT_BASIC_FAILURES: '3' } });
    try {
      for (const from of ['198.51.100.1', '198.51.100.2', '198.51.100.3']) expectJsonError(await verify(service, WRONG, from), 401, 'invalid_client');
      expectTooMany(await verify(service, WRONG, '198.51.100.4'), FAILURE_WINDOW, failedAuthentications);
      expectTooMany(await verify(service, RIGHT, '198.51.100.5'), FAILURE_WINDOW, failedAuthentications);
      expectTooMany(await verify(service, RIGHT), FAILURE_WINDOW, failedAuthentications);
    } finally {
      await service.stop();
    }
  });

  describe('device API calls, counted per device', () => {
    let service: TestService;
    let devices: DeviceClient[];
    beforeAll(async () => {
      service = await startLimited({ store, redisUrl: redis.url, workers: false, env: { RATE_LIMIT_DEVICE_PER_MINUTE: '5' } });
      devices = [await enrolledDevice(service, service.url, 'busy-user'), await enrolledDevice(service, service.url, 'quiet-user')];
    });
    afterAll(async () => {
      await service?.stop();
    });

    it('over the limit → 429 with Retry-After on every device call of that device only', async () => {
      const [busy, quiet] = devices as [DeviceClient, DeviceClient];
      for (let n = 0; n < 5; n += 1) expect((await busy.call('GET', '/device/v1/devices/self')).status).toBe(200);

      expectTooMany(await busy.call('GET', '/device/v1/devices/self'), 60, /too many calls from this device/);
      expectTooMany(await busy.call('GET', '/device/v1/requests'), 60, /too many calls from this device/);
      expect((await quiet.call('GET', '/device/v1/requests')).status).toBe(200);
    });
  });

  describe('admin API, counted per source address (TRUST_PROXY=loopback)', () => {
    let service: TestService;
    beforeAll(async () => {
      service = await startLimited({
        store,
        redisUrl: redis.url,
        workers: false,
        env: { TRUST_PROXY: 'loopback', RATE_LIMIT_ADMIN_PER_MINUTE: '5', RATE_LIMIT_ADMIN_FAILURES: '2' },
      });
    });
    afterAll(async () => {
      await service?.stop();
    });

    it('calls over the limit → 429 with Retry-After; another address is not affected', async () => {
      for (let n = 0; n < 5; n += 1) expectJsonError(await adminCall(service, ADMIN_TOKEN, '203.0.113.30'), 404, 'not_found');
      expectTooMany(await adminCall(service, ADMIN_TOKEN, '203.0.113.30'), 60, /too many admin API calls from this address/);
      expectJsonError(await adminCall(service, ADMIN_TOKEN, '203.0.113.31'), 404, 'not_found');
    });

    it('are counted before authentication: over the limit, a wrong token gets 429, not 401', async () => {
      for (let n = 0; n < 5; n += 1) expectJsonError(await adminCall(service, ADMIN_TOKEN, '203.0.113.32'), 404, 'not_found');
      expectTooMany(await adminCall(service, 'wrong-token-0123456789', '203.0.113.32'), 60, /too many admin API calls/);
    });

    it('2 wrong tokens → 401 each; the 3rd → 429; then the right token gets 429 too, from that address only', async () => {
      const attacker = '203.0.113.33';
      for (let n = 0; n < 2; n += 1) expectJsonError(await adminCall(service, 'wrong-token-0123456789', attacker), 401, 'invalid_token');
      expectTooMany(await adminCall(service, 'wrong-token-0123456789', attacker), FAILURE_WINDOW, failedAuthentications);
      expectTooMany(await adminCall(service, ADMIN_TOKEN, attacker), FAILURE_WINDOW, failedAuthentications);
      expectJsonError(await adminCall(service, ADMIN_TOKEN, '203.0.113.34'), 404, 'not_found');
    });
  });
});

describe('on Redis', () => {
  it('the counts live in Redis under REDIS_KEY_PREFIX, shared by every instance', async () => {
    const env = { REDIS_KEY_PREFIX: `shared-${process.pid}:`, TRUST_PROXY: 'loopback', RATE_LIMIT_BASIC_FAILURES: '3' };
    const [one, two] = await Promise.all([
      startLimited({ store: 'redis', redisUrl: redis.url, workers: false, env }),
      startLimited({ store: 'redis', redisUrl: redis.url, workers: false, env }),
    ]);
    const client = new Redis(redis.url);
    try {
      const attacker = '203.0.113.40';
      expectJsonError(await verify(one, WRONG, attacker), 401, 'invalid_client');
      expectJsonError(await verify(two, WRONG, attacker), 401, 'invalid_client');
      expectJsonError(await verify(one, WRONG, attacker), 401, 'invalid_client');
      expectTooMany(await verify(two, WRONG, attacker), FAILURE_WINDOW, failedAuthentications);

      expect(await client.keys(`shared-${process.pid}:rl:*`)).toEqual([`shared-${process.pid}:rl:basic-failures:${attacker}`]);
      expect(await client.get(`shared-${process.pid}:rl:basic-failures:${attacker}`)).toBe('4');
    } finally {
      client.disconnect();
      await Promise.all([one.stop(), two.stop()]);
    }
  });

  describe('when Redis stops', () => {
    let ownRedis: RedisServerHandle;
    let service: TestService;
    beforeAll(async () => {
      ownRedis = await startRedisServer();
      service = await startLimited({
        store: 'redis',
        redisUrl: ownRedis.url,
        workers: false,
        env: { TRUST_PROXY: 'loopback', RATE_LIMIT_BASIC_FAILURES: '2', RATE_LIMIT_ADMIN_FAILURES: '2' },
      });
    });
    afterAll(async () => {
      // Back up first (and reconnected), so that the service closes its connections the ordinary way.
      await ownRedis?.restart();
      await eventually(() => service.services.ping().then(() => true, () => false), 15_000, 'the service reconnecting to Redis');
      await service?.stop();
      await ownRedis?.stop();
    });

    it('the limits go on counting in the process: 401 then 429, never a 5xx', async () => {
      expectJsonError(await verify(service, WRONG, '203.0.113.50'), 401, 'invalid_client');
      await ownRedis.kill('SIGKILL');

      const basicAnswers = [];
      for (let n = 0; n < 3; n += 1) basicAnswers.push(await verify(service, WRONG, '203.0.113.51'));
      basicAnswers.push(await verify(service, RIGHT, '203.0.113.51'));
      expect(basicAnswers.map((answer) => answer.status)).toEqual([401, 401, 429, 429]);
      expectTooMany(basicAnswers[3]!, FAILURE_WINDOW, failedAuthentications);

      const adminAnswers = [];
      for (let n = 0; n < 3; n += 1) adminAnswers.push(await adminCall(service, 'wrong-token-0123456789', '203.0.113.52'));
      expect(adminAnswers.map((answer) => answer.status)).toEqual([401, 401, 429]);
      expectTooMany(adminAnswers[2]!, FAILURE_WINDOW, failedAuthentications);
    });
  });
});
