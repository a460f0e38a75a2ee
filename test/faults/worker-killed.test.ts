/**
 * Fault: the worker running a completion is killed with SIGKILL while its accept call is in flight.
 * The API runs in this process (ROLE=api over real HTTP), the workers are processes (ROLE=worker).
 * Two requests are in flight at once, one for each thing SecureAuth may have done with the call:
 * - it carried the accept out (the answer was lost with the worker): the next worker's accept is
 *   answered `login_already_accepted`, which the service counts as the earlier attempt's success;
 * - it never handled the call (the connection died first): the next worker's accept is the first.
 * Either way: exactly one accept carried out, and the request ends `completed`.
 */
import { startRequest } from '../support/api-helpers.js';
import { adminRequestWhen, decisionCalls, deliveredDecisions, enrolledDevice, isFinished } from '../support/flow-helpers.js';
import { startRedisServer, type RedisServerHandle } from '../support/redis-server.js';
import { startSecureAuthStub, type SecureAuthStub } from '../support/secureauth-stub.js';
import { startService, type TestService } from '../support/service.js';
import { startServiceProcess, type ServiceProcess } from '../support/service-process.js';

/** Short locks, so that the dead worker's job is taken over within seconds. */
const JOB_LOCK_SECONDS = '2';

let redis: RedisServerHandle;
let secureAuth: SecureAuthStub;
let api: TestService;
const workers: ServiceProcess[] = [];

beforeAll(async () => {
  [redis, secureAuth] = await Promise.all([startRedisServer(), startSecureAuthStub()]);
  api = await startService({ store: 'redis', redisUrl: redis.url, secureAuth, workers: false });
});
afterAll(async () => {
  await Promise.all(workers.map((worker) => worker.stop()));
  await api?.stop();
  await secureAuth?.close();
  await redis?.stop();
});

function startWorker(name: string): Promise<ServiceProcess> {
  return startServiceProcess({
    name,
    role: 'worker',
    secureAuth,
    redis: { url: redis.url },
    keyPrefix: api.config.keyPrefix,
    env: { JOB_LOCK_SECONDS },
  }).then((worker) => {
    workers.push(worker);
    return worker;
  });
}

it('a worker killed during completions → another worker completes each exactly once', async () => {
  const first = await startWorker('worker-1');
  const [carriedOut, neverSeen] = await Promise.all(
    ['killed-1', 'killed-2'].map(async (userId) => {
      const device = await enrolledDevice(api, api.url, userId);
      const request = await startRequest(api, secureAuth, userId);
      return { device, request, view: await device.waitForRequest((view) => view.request_id === request.requestId) };
    }),
  );

  secureAuth.hold('accept');
  for (const { device, view } of [carriedOut!, neverSeen!]) expect((await device.decide(view, 'approve')).status).toBe(202);
  const held = await secureAuth.waitForHeld(2);
  const heldFor = (login: string) => held.find((call) => call.call.login === login)!;

  first.signal('SIGKILL');
  expect(await first.exited).toBeNull();
  await new Promise<void>((resolve, reject) => {
    const deadline = Date.now() + 5_000;
    const check = (): void => {
      if (held.every((call) => call.callerGone())) return resolve();
      if (Date.now() > deadline) return reject(new Error('the killed worker still holds its connections'));
      setTimeout(check, 20);
    };
    check();
  });
  // What SecureAuth did with each call the dead worker sent:
  heldFor(carriedOut!.request.login_id).proceed();
  heldFor(neverSeen!.request.login_id).drop();
  secureAuth.hold(false);
  expect(secureAuth.decisionOf(carriedOut!.request.login_id)).toBe('accepted');
  expect(secureAuth.decisionOf(neverSeen!.request.login_id)).toBe('pending');

  await startWorker('worker-2');
  for (const { request } of [carriedOut!, neverSeen!]) {
    const finished = await adminRequestWhen(api, request.requestId, isFinished, 30_000);
    expect(finished).toMatchObject({ status: 'completed', outcome: { result: 'accepted' } });
    expect(deliveredDecisions(secureAuth, request.login_id)).toEqual([expect.objectContaining({ kind: 'accept', status: 200 })]);
    expect(secureAuth.decisionOf(request.login_id)).toBe('accepted');
  }
  // The carried-out one was tried again and told it was already accepted; the other was accepted then.
  expect(decisionCalls(secureAuth, carriedOut!.request.login_id).map((call) => call.status)).toEqual([200, 403]);
  expect(decisionCalls(secureAuth, neverSeen!.request.login_id).map((call) => call.status)).toEqual([0, 200]);
  expect(workers[1]!.output()).toContain('an earlier attempt got through');
}, 60_000);
