/**
 * Fault: Redis (append-only, fsync on every write) is killed mid-flow and started again. Pending
 * requests, prepared views and queued jobs survive; a completion that was in flight when Redis died
 * (SecureAuth carried it out, the service could not record it) is run again once Redis is back and
 * hears "already accepted" — completed, not failed, not sent twice;
 * while Redis is away the API answers 503 with a JSON error instead of hanging; afterwards every
 * flow — old and new — completes, each outcome sent once.
 */
import { startRequest, expectJsonError, type StartedRequest } from '../support/api-helpers.js';
import { adminRequestWhen, decisionCalls, deliveredDecisions, enrolledDevice, isFinished } from '../support/flow-helpers.js';
import { startRedisServer, type RedisServerHandle } from '../support/redis-server.js';
import { startSecureAuthStub, type SecureAuthStub } from '../support/secureauth-stub.js';
import { eventually, startService, type TestService } from '../support/service.js';
import type { DeviceClient } from '../../dev/device-client.js';

let redis: RedisServerHandle;
let secureAuth: SecureAuthStub;
let service: TestService;

beforeAll(async () => {
  [redis, secureAuth] = await Promise.all([startRedisServer({ appendOnly: true }), startSecureAuthStub()]);
  service = await startService({ store: 'redis', redisUrl: redis.url, secureAuth, env: { JOB_LOCK_SECONDS: '2' } });
});
afterAll(async () => {
  await service?.stop();
  await secureAuth?.close();
  await redis?.stop();
});

it('Redis killed and restarted mid-flow → nothing lost, nothing sent twice', async () => {
  const users = ['restart-a', 'restart-b', 'restart-c'];
  const devices = await Promise.all(users.map((userId) => enrolledDevice(service, service.url, userId)));
  const pending: Array<StartedRequest & { device: DeviceClient }> = [];
  for (const [i, userId] of users.entries()) {
    for (let n = 0; n < 2; n += 1) pending.push({ ...(await startRequest(service, secureAuth, userId)), device: devices[i]! });
  }
  for (const device of devices) await eventually(async () => (await device.listRequests()).length === 2, 10_000, 'views ready');

  // One completion is in flight (SecureAuth holds the accept) when Redis dies.
  const inFlight = pending.shift()!;
  const inFlightView = (await inFlight.device.listRequests()).find((view) => view.request_id === inFlight.requestId)!;
  secureAuth.hold('accept');
  expect((await inFlight.device.decide(inFlightView, 'approve')).status).toBe(202);
  const [heldAccept] = await secureAuth.waitForHeld(1);
  secureAuth.hold(false);

  await redis.kill('SIGKILL');
  const unavailable = await service.asCall('/user/verify', { user_identifier: 'restart-a' });
  expectJsonError(unavailable, 503);
  heldAccept!.proceed(); // SecureAuth accepts and answers…
  await eventually(async () => heldAccept!.call.status === 200, 5_000, 'the accept answered');
  // …and the service cannot record it: ioredis gives queued commands up every second failed
  // reconnection (maxRetriesPerRequest 1), so a few of them later the write has failed.
  const mark = service.logs.length;
  await eventually(
    async () => service.logs.slice(mark).filter((line) => line.includes('"msg":"redis connection error"')).length >= 9,
    15_000,
    'failed reconnections after the answer',
  );
  await redis.restart();

  // Everything created before the restart is still there, as it was.
  for (const device of devices) {
    const listed = (await eventually(async () => {
      try {
        return await device.listRequests();
      } catch {
        return undefined; // 503 while the service reconnects
      }
    }, 10_000, 'device list after the restart')).map((view) => view.request_id);
    expect(listed.sort()).toEqual(pending.filter((request) => request.device === device).map((request) => request.requestId).sort());
  }

  const decisions = await Promise.all(
    pending.map(async (request, i) => {
      const view = (await request.device.listRequests()).find((candidate) => candidate.request_id === request.requestId)!;
      const action = i % 2 === 0 ? ('approve' as const) : ('deny' as const);
      expect((await request.device.decide(view, action)).status).toBe(202);
      return { request, result: action === 'approve' ? 'accepted' : 'rejected' };
    }),
  );
  // And a request started after the restart goes through as well.
  const fresh = await startRequest(service, secureAuth, 'restart-a');
  const freshView = await devices[0]!.waitForRequest((view) => view.request_id === fresh.requestId);
  expect((await devices[0]!.decide(freshView, 'approve')).status).toBe(202);

  for (const { request, result } of [{ request: inFlight, result: 'accepted' }, ...decisions, { request: fresh, result: 'accepted' }]) {
    const finished = await adminRequestWhen(service, request.requestId, isFinished, 20_000);
    expect({ login: request.login_id, status: finished.status, result: finished.outcome?.result }).toEqual({
      login: request.login_id,
      status: 'completed',
      result,
    });
    expect(deliveredDecisions(secureAuth, request.login_id)).toHaveLength(1);
  }
  // The completion in flight was run again after the restart and told the login was already accepted.
  expect(decisionCalls(secureAuth, inFlight.login_id).map((call) => call.status)).toEqual([200, 403]);
}, 60_000);
