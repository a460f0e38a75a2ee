/**
 * Fault: SecureAuth answers 429 with `Retry-After: 2`, then accepts. The second call must not come
 * before the time asked for (the recorded arrival times are at least 2 s apart); how much later it
 * comes is only bounded generously. Nothing is lost and the accept is carried out once.
 */
import { startRequest } from '../support/api-helpers.js';
import { adminRequestWhen, decisionCalls, deliveredDecisions, enrolledDevice, isFinished } from '../support/flow-helpers.js';
import { startRedisServer, type RedisServerHandle } from '../support/redis-server.js';
import { startSecureAuthStub, type SecureAuthStub } from '../support/secureauth-stub.js';
import { startService, type StoreKind, type TestService } from '../support/service.js';

const RETRY_AFTER_SECONDS = 2;

let redis: RedisServerHandle;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
});

describe.each<StoreKind>(['memory', 'redis'])('429 with Retry-After on the %s store', (store) => {
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

  it('the accept is tried again no sooner than Retry-After, and carried out once', async () => {
    const device = await enrolledDevice(service, service.url, 'throttled');
    const { requestId, login_id } = await startRequest(service, secureAuth, 'throttled');
    const view = await device.waitForRequest((candidate) => candidate.request_id === requestId);
    secureAuth.failNext('accept', [
      {
        status: 429,
        headers: { 'Retry-After': String(RETRY_AFTER_SECONDS) },
        body: { status_code: 429, error_code: 'too_many_requests', error: 'slow down', details: {} },
      },
    ]);
    expect((await device.decide(view, 'approve')).status).toBe(202);

    const finished = await adminRequestWhen(service, requestId, isFinished, 20_000);
    expect(finished).toMatchObject({ status: 'completed', outcome: { result: 'accepted', attempts: 2 } });
    const calls = decisionCalls(secureAuth, login_id);
    expect(calls.map((call) => call.status)).toEqual([429, 200]);
    const gapMs = calls[1]!.at.getTime() - calls[0]!.at.getTime();
    expect(gapMs).toBeGreaterThanOrEqual(RETRY_AFTER_SECONDS * 1000);
    expect(gapMs).toBeLessThan(RETRY_AFTER_SECONDS * 1000 + 10_000);
    expect(deliveredDecisions(secureAuth, login_id)).toHaveLength(1);
  });
});
