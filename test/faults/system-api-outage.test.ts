/**
 * Fault: SecureAuth's System API is down (every call answers 503) for 30 s right after users decided.
 * The completions keep being retried — the requests stay decided, never failed — and once SecureAuth
 * is back the outcomes arrive, each once, well within the requests' lifetime. The length of the
 * outage is the scenario, not a measurement.
 */
import { startRequest } from '../support/api-helpers.js';
import { adminRequestWhen, decisionCalls, deliveredDecisions, enrolledDevice, isFinished } from '../support/flow-helpers.js';
import { startRedisServer, type RedisServerHandle } from '../support/redis-server.js';
import { startSecureAuthStub, type SecureAuthStub } from '../support/secureauth-stub.js';
import { sleep, startService, type TestService } from '../support/service.js';

const OUTAGE_MS = 30_000;

let redis: RedisServerHandle;
let secureAuth: SecureAuthStub;
let service: TestService;

beforeAll(async () => {
  [redis, secureAuth] = await Promise.all([startRedisServer(), startSecureAuthStub()]);
  service = await startService({ store: 'redis', redisUrl: redis.url, secureAuth, env: { REQUEST_TTL_SECONDS: '90' } });
});
afterAll(async () => {
  await service?.stop();
  await secureAuth?.close();
  await redis?.stop();
});

it('the System API down for 30 s → the outcomes arrive after recovery, once each, before the requests expire', async () => {
  const flows = await Promise.all(
    (['approve', 'deny'] as const).map(async (action) => {
      const userId = `outage-${action}`;
      const device = await enrolledDevice(service, service.url, userId);
      const request = await startRequest(service, secureAuth, userId);
      return { action, device, request, view: await device.waitForRequest((view) => view.request_id === request.requestId) };
    }),
  );

  secureAuth.setDown(true);
  for (const { device, view, action } of flows) expect((await device.decide(view, action)).status).toBe(202);
  await sleep(OUTAGE_MS);

  for (const { request, action } of flows) {
    const during = await service.admin<{ status: string }>('GET', `/requests/${request.requestId}`);
    expect(during.body.status).toBe(action === 'approve' ? 'approved' : 'denied');
    // Tried again and again, and refused each time.
    const refused = decisionCalls(secureAuth, request.login_id);
    expect(refused.length).toBeGreaterThanOrEqual(3);
    expect(refused.every((call) => call.status === 503)).toBe(true);
  }

  secureAuth.setDown(false);
  for (const { request, action } of flows) {
    // The longest wait between two tries is 15 s (complete-request's policy).
    const finished = await adminRequestWhen(service, request.requestId, isFinished, 20_000);
    expect(finished).toMatchObject({ status: 'completed', outcome: { result: action === 'approve' ? 'accepted' : 'rejected' } });
    expect(finished.outcome!.attempts).toBeGreaterThanOrEqual(4);
    expect(Date.parse(finished.completed_at!)).toBeLessThan(Date.parse(finished.expires_at));
    expect(deliveredDecisions(secureAuth, request.login_id)).toEqual([
      expect.objectContaining({ kind: action === 'approve' ? 'accept' : 'reject', status: 200 }),
    ]);
  }
}, 70_000);
