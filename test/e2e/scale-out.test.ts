/**
 * Two service processes (ROLE=all) on one private Redis, behind a round-robin balancer that sends
 * every HTTP request to the next instance: starts, device calls and decisions alternate between them,
 * and both run jobs. Nothing may happen twice: per login one consent read, one accept or reject; per
 * request one prompt record per device, one completion attempt.
 */
import { DeviceClient } from '../../dev/device-client.js';
import { startRequest, type StartedRequest } from '../support/api-helpers.js';
import { adminRequestWhen, decisionCalls, enrolledDevice, isFinished } from '../support/flow-helpers.js';
import { startRedisServer, type RedisServerHandle } from '../support/redis-server.js';
import { startRoundRobinProxy, type RoundRobinProxy } from '../support/round-robin-proxy.js';
import { startSecureAuthStub, type SecureAuthStub } from '../support/secureauth-stub.js';
import { eventually } from '../support/service.js';
import { freePort } from '../../dev/support/processes.js';
import { serviceClient, startServiceProcess, type ServiceClient, type ServiceProcess } from '../support/service-process.js';

const USERS = 8;
const REQUESTS_PER_USER = 4;

let redis: RedisServerHandle;
let secureAuth: SecureAuthStub;
let balancer: RoundRobinProxy;
let instances: ServiceProcess[] = [];
let client: ServiceClient;

beforeAll(async () => {
  [redis, secureAuth] = await Promise.all([startRedisServer(), startSecureAuthStub()]);
  // The balancer's address is the service's public URL (DPoP proofs name it), so it comes first.
  const ports = [await freePort(), await freePort()];
  balancer = await startRoundRobinProxy(ports.map((port) => `http://127.0.0.1:${port}`));
  instances = await Promise.all(
    ports.map((port, i) =>
      startServiceProcess({
        name: `instance-${i + 1}`,
        role: 'all',
        secureAuth,
        redis: { url: redis.url },
        keyPrefix: 'scale:',
        publicUrl: balancer.url,
        port,
        env: { NOTIFY_MAX_PENDING: '50', REQUEST_TTL_SECONDS: '120' },
      }),
    ),
  );
  client = serviceClient(balancer.url);
}, 90_000);
afterAll(async () => {
  await Promise.all(instances.map((instance) => instance.stop()));
  await balancer?.close();
  await secureAuth?.close();
  await redis?.stop();
});

/** Lines an instance logged with this message. */
const logged = (instance: ServiceProcess, message: string): number =>
  instance.output().split('\n').filter((line) => line.includes(`"msg":"${message}"`)).length;

describe('two instances on one Redis', () => {
  it('share the requests, decisions and jobs, and nothing is sent twice', async () => {
    const users = Array.from({ length: USERS }, (_, i) => `scale-user-${i}`);
    const devices: DeviceClient[] = await Promise.all(users.map((userId) => enrolledDevice(client, balancer.url, userId)));

    const started: Array<StartedRequest & { device: DeviceClient }> = (
      await Promise.all(
        users.map(async (userId, i) => {
          const requests = await Promise.all(Array.from({ length: REQUESTS_PER_USER }, () => startRequest(client, secureAuth, userId)));
          return requests.map((request) => ({ ...request, device: devices[i]! }));
        }),
      )
    ).flat();
    expect(new Set(started.map((request) => request.requestId)).size).toBe(USERS * REQUESTS_PER_USER);

    // Every device lists all of its user's requests (prepared by whichever worker took the job).
    await Promise.all(
      devices.map((device) =>
        eventually(async () => (await device.listRequests()).length === REQUESTS_PER_USER, 20_000, `${device.userId}'s requests ready`),
      ),
    );
    const decisions = await Promise.all(
      started.map(async (request, i) => {
        const view = (await request.device.listRequests()).find((candidate) => candidate.request_id === request.requestId);
        if (view === undefined) throw new Error(`request ${request.requestId} not listed`);
        const action = i % 2 === 0 ? ('approve' as const) : ('deny' as const);
        expect((await request.device.decide(view, action)).status).toBe(202);
        return { request, action };
      }),
    );

    const finished = await Promise.all(decisions.map(({ request }) => adminRequestWhen(client, request.requestId, isFinished, 30_000)));
    decisions.forEach(({ request, action }, i) => {
      const view = finished[i]!;
      expect({ login: request.login_id, status: view.status, outcome: view.outcome }).toEqual({
        login: request.login_id,
        status: 'completed',
        outcome: { result: action === 'approve' ? 'accepted' : 'rejected', attempts: 1 },
      });
      // One prompt record for the user's one device: the prompt job ran once.
      expect(view.deliveries).toEqual([expect.objectContaining({ channel: 'poll', device_id: request.device.deviceId })]);
      // One consent read (prepare ran once) and one accept or reject (completion ran once).
      expect(secureAuth.calls.filter((call) => call.login === request.login_id && call.kind === 'get')).toHaveLength(1);
      expect(decisionCalls(secureAuth, request.login_id).map((call) => [call.kind, call.status])).toEqual([
        [action === 'approve' ? 'accept' : 'reject', 200],
      ]);
    });

    // Both instances answered HTTP requests and both ran jobs.
    expect(balancer.served.every((count) => count > 0)).toBe(true);
    const completionsPerInstance = instances.map((instance) => logged(instance, 'audit completion.succeeded'));
    const preparedPerInstance = instances.map((instance) => logged(instance, 'request ready for devices'));
    expect(completionsPerInstance.reduce((sum, count) => sum + count, 0)).toBe(USERS * REQUESTS_PER_USER);
    expect(preparedPerInstance.reduce((sum, count) => sum + count, 0)).toBe(USERS * REQUESTS_PER_USER);
    expect(instances.reduce((sum, instance) => sum + logged(instance, 'prompt delivered'), 0)).toBe(USERS * REQUESTS_PER_USER);
    expect(instances.map((_, i) => (completionsPerInstance[i] ?? 0) + (preparedPerInstance[i] ?? 0) > 0)).toEqual([true, true]);
  }, 90_000);

  it('of concurrent decisions arriving at both instances exactly one wins and one accept is sent', async () => {
    const device = await enrolledDevice(client, balancer.url, 'scale-racer');
    const { requestId, login_id } = await startRequest(client, secureAuth, 'scale-racer');
    const view = await device.waitForRequest((candidate) => candidate.request_id === requestId, 20_000);
    const path = `/device/v1/requests/${requestId}/decision`;
    const tokens = await Promise.all(Array.from({ length: 20 }, (_, i) => device.decisionToken(view, i % 2 === 0 ? 'approve' : 'deny')));
    const proofs = await Promise.all(tokens.map(() => device.proof('POST', path)));
    const responses = await Promise.all(tokens.map((decision, i) => device.call('POST', path, { decision }, { proof: proofs[i] })));
    expect(responses.map((response) => response.status).sort()).toEqual([202, ...Array<number>(19).fill(409)]);
    await adminRequestWhen(client, requestId, isFinished, 20_000);
    expect(decisionCalls(secureAuth, login_id).map((call) => call.status)).toEqual([200]);
  }, 60_000);

  it('both instances stop cleanly on SIGTERM', async () => {
    for (const instance of instances) instance.signal('SIGTERM');
    expect(await Promise.all(instances.map((instance) => instance.exited))).toEqual([0, 0]);
  }, 40_000);
});
