/**
 * The core flow on a Redis Cluster (REDIS_CLUSTER_NODES): three local master nodes, so keys of
 * different users land on different nodes and every multi-key step (Lua scripts, MULTI, pipelines,
 * BullMQ's scripts) must stay within one slot — Redis refuses it with CROSSSLOT otherwise.
 */
import { Redis } from 'ioredis';
import { startRedisCluster, type RedisClusterHandle } from '../support/redis-server.js';
import { startSecureAuthStub, type SecureAuthStub } from '../support/secureauth-stub.js';
import { startService, type TestService } from '../support/service.js';
import { exportJWK, generateKeyPair } from 'jose';
import { enrollWithKey, expectJsonError, startRequest } from '../support/api-helpers.js';
import { adminRequestWhen, deliveredDecisions, decisionCalls, enrolledDevice, isFinished } from '../support/flow-helpers.js';

let cluster: RedisClusterHandle;
let secureAuth: SecureAuthStub;
let service: TestService;

beforeAll(async () => {
  cluster = await startRedisCluster(3);
  secureAuth = await startSecureAuthStub();
  service = await startService({ store: 'redis-cluster', redisClusterNodes: cluster.nodes, secureAuth });
}, 60_000);
afterAll(async () => {
  await service?.stop();
  await secureAuth?.close();
  await cluster?.stop();
});
afterEach(() => {
  expect(secureAuth.stubErrors).toEqual([]);
  // A command that crossed slots fails inside the service; it must never have happened.
  expect(service.logs.filter((line) => /CROSSSLOT|MOVED|ASK /.test(line))).toEqual([]);
});

describe('the core flow on a three-node Redis Cluster', () => {
  it('runs on the cluster, not on one node', () => {
    expect(service.config.redis).toEqual({ cluster: { nodes: cluster.nodes, options: {} }, keyPrefix: expect.any(String) });
  });

  it('verify, start, device list, approve → accept; deny → reject, for users spread over every node', async () => {
    const users = Array.from({ length: 6 }, (_, i) => `cluster-user-${i}`);
    const devices = await Promise.all(users.map((userId) => enrolledDevice(service, service.url, userId)));
    for (const userId of users) {
      expect((await service.asCall('/user/verify', { user_identifier: userId })).body).toEqual({ valid: true });
    }
    expect((await service.asCall('/user/verify', { user_identifier: 'nobody-here' })).body).toEqual({ valid: false });

    const started = await Promise.all(users.map((userId) => startRequest(service, secureAuth, userId)));
    const results = await Promise.all(
      started.map(async (request, i) => {
        const device = devices[i]!;
        const view = await device.waitForRequest((candidate) => candidate.request_id === request.requestId);
        expect(view.client).toMatchObject({ name: 'Corner Shop POS' });
        const action = i % 2 === 0 ? 'approve' : 'deny';
        expect((await device.decide(view, action)).status).toBe(202);
        return { request, action, view: await adminRequestWhen(service, request.requestId, isFinished) };
      }),
    );

    for (const { request, action, view } of results) {
      expect(view).toMatchObject({ status: 'completed', outcome: { result: action === 'approve' ? 'accepted' : 'rejected' } });
      expect(decisionCalls(secureAuth, request.login_id)).toEqual([
        expect.objectContaining({ kind: action === 'approve' ? 'accept' : 'reject', status: 200 }),
      ]);
    }
    for (const device of devices) expect(await device.listRequests()).toEqual([]);

    // The users' keys really are spread: every master holds some of them.
    const perNode = await Promise.all(
      cluster.nodes.map(async ({ host, port }) => {
        const node = new Redis({ host, port, lazyConnect: true });
        try {
          await node.connect();
          return (await node.keys(`${service.config.keyPrefix}{*}:user:*`)).length;
        } finally {
          node.disconnect();
        }
      }),
    );
    expect(perNode.reduce((sum, count) => sum + count, 0)).toBe(users.length);
    expect(perNode.filter((count) => count > 0).length).toBeGreaterThan(1);
  });

  it('concurrent decisions on one request → exactly one 202 and one accept', async () => {
    const device = await enrolledDevice(service, service.url, 'cluster-racer');
    const { requestId, login_id } = await startRequest(service, secureAuth, 'cluster-racer');
    const view = await device.waitForRequest((candidate) => candidate.request_id === requestId);
    const path = `/device/v1/requests/${requestId}/decision`;
    const tokens = await Promise.all(Array.from({ length: 20 }, (_, i) => device.decisionToken(view, i % 2 === 0 ? 'approve' : 'deny')));
    const proofs = await Promise.all(tokens.map(() => device.proof('POST', path)));
    const responses = await Promise.all(tokens.map((decision, i) => device.call('POST', path, { decision }, { proof: proofs[i] })));
    expect(responses.map((response) => response.status).sort()).toEqual([202, ...Array<number>(19).fill(409)]);

    await adminRequestWhen(service, requestId, isFinished);
    expect(deliveredDecisions(secureAuth, login_id)).toHaveLength(1);
    expect(decisionCalls(secureAuth, login_id)).toHaveLength(1);
  });

  it('a wrong activation code goes through the rate limiter on the cluster and is refused as usual', async () => {
    const { publicKey } = await generateKeyPair('ES256');
    const response = await enrollWithKey(service.url, 'AAAA-BBBB-CCCC', await exportJWK(publicKey));
    expectJsonError(response, 401, 'invalid_grant');
  });
});
