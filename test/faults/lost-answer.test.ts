/**
 * Fault: SecureAuth carried a completion out but its answer never arrived (the call timed out), so
 * the service tries again and hears "login already accepted/rejected". That answer to a completion
 * with the same outcome means the earlier attempt got through: the request is completed, not failed,
 * and nothing is sent a third time. The opposite answer (accept → "already rejected") is a conflict.
 */
import { startRequest } from '../support/api-helpers.js';
import { adminRequestWhen, decisionCalls, enrolledDevice, isFinished } from '../support/flow-helpers.js';
import { startRedisServer, type RedisServerHandle } from '../support/redis-server.js';
import { startSecureAuthStub, type SecureAuthStub } from '../support/secureauth-stub.js';
import { eventually, startService, type StoreKind, type TestService } from '../support/service.js';

let redis: RedisServerHandle;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
});

/** SecureAuth's `Error` body for a login that was already decided. */
const alreadyDecided = (decision: 'accepted' | 'rejected') => ({
  status: 403,
  body: { status_code: 403, error_code: `login_already_${decision}`, error: `login already ${decision}`, details: {} },
});

describe.each<StoreKind>(['memory', 'redis'])('lost answers on the %s store', (store) => {
  let secureAuth: SecureAuthStub;
  let service: TestService;

  beforeEach(async () => {
    secureAuth = await startSecureAuthStub();
    service = await startService({ store, redisUrl: redis.url, secureAuth, env: { SECUREAUTH_TIMEOUT_MS: '300' } });
  });
  afterEach(async () => {
    await service.stop();
    await secureAuth.close();
    expect(secureAuth.stubErrors).toEqual([]);
  });

  async function decided(userId: string, action: 'approve' | 'deny') {
    const device = await enrolledDevice(service, service.url, userId);
    const request = await startRequest(service, secureAuth, userId);
    const view = await device.waitForRequest((candidate) => candidate.request_id === request.requestId);
    expect((await device.decide(view, action)).status).toBe(202);
    return request;
  }

  it('an accept that timed out after SecureAuth carried it out → the retry hears "already accepted" → completed', async () => {
    secureAuth.hold('accept');
    const request = await decided('lost-accept', 'approve');
    // The first call times out while held; the retry arrives and is held too.
    const [first, retry] = await secureAuth.waitForHeld(2);
    expect(first!.callerGone()).toBe(true);
    first!.proceed(); // SecureAuth accepts the login; the answer goes nowhere
    retry!.proceed(); // → 403 login_already_accepted
    secureAuth.hold(false);

    const finished = await adminRequestWhen(service, request.requestId, isFinished);
    expect(finished).toMatchObject({ status: 'completed', outcome: { result: 'accepted', attempts: 2 } });
    expect(decisionCalls(secureAuth, request.login_id).map((call) => call.status)).toEqual([200, 403]);
    expect(service.logs.join('\n')).toContain('an earlier attempt got through');
  });

  it('a reject answered "already rejected" → completed as rejected', async () => {
    secureAuth.failNext('reject', [alreadyDecided('rejected')]);
    const request = await decided('lost-reject', 'deny');
    const finished = await adminRequestWhen(service, request.requestId, isFinished);
    expect(finished).toMatchObject({ status: 'completed', outcome: { result: 'rejected', attempts: 1 } });
    expect(decisionCalls(secureAuth, request.login_id)).toHaveLength(1);
  });

  it('an accept answered "already rejected" is a conflict → failed, not retried', async () => {
    secureAuth.failNext('accept', [alreadyDecided('rejected')]);
    const request = await decided('conflict', 'approve');
    const finished = await adminRequestWhen(service, request.requestId, isFinished);
    expect(finished).toMatchObject({ status: 'failed', outcome: { result: 'failed', error: expect.stringContaining('login_already_rejected') } });
    await eventually(async () => service.logs.some((line) => line.includes('the outcome could not be reported')));
    expect(decisionCalls(secureAuth, request.login_id)).toHaveLength(1);
  });
});
