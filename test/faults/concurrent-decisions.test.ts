/**
 * Fault: 100 decisions on one request arrive at once (a device app retrying in a loop, a replayed
 * batch). Exactly one is recorded (202); the 99 others get 409 request_already_decided; SecureAuth
 * hears exactly one accept or reject — the one of the winning decision.
 */
import { startRequest } from '../support/api-helpers.js';
import { adminRequestWhen, decisionCalls, enrolledDevice, isFinished } from '../support/flow-helpers.js';
import { startRedisServer, type RedisServerHandle } from '../support/redis-server.js';
import { startSecureAuthStub, type SecureAuthStub } from '../support/secureauth-stub.js';
import { startService, type StoreKind, type TestService } from '../support/service.js';

const DECISIONS = 100;

let redis: RedisServerHandle;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
});

describe.each<StoreKind>(['memory', 'redis'])('%d concurrent decisions on the %s store'.replace('%d', String(DECISIONS)), (store) => {
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

  it('exactly one 202, 99 × 409, one outcome sent — the winner’s', async () => {
    const device = await enrolledDevice(service, service.url, 'hammer');
    const { requestId, login_id } = await startRequest(service, secureAuth, 'hammer');
    const view = await device.waitForRequest((candidate) => candidate.request_id === requestId);
    const path = `/device/v1/requests/${requestId}/decision`;
    // Signed up front so that the calls themselves go out together.
    const actions = Array.from({ length: DECISIONS }, (_, i) => (i % 2 === 0 ? ('approve' as const) : ('deny' as const)));
    const tokens = await Promise.all(actions.map((action) => device.decisionToken(view, action)));
    const proofs = await Promise.all(tokens.map(() => device.proof('POST', path)));
    const responses = await Promise.all(tokens.map((decision, i) => device.call('POST', path, { decision }, { proof: proofs[i] })));

    const winners = responses.flatMap((response, i) => (response.status === 202 ? [actions[i]!] : []));
    expect(winners).toHaveLength(1);
    const losers = responses.filter((response) => response.status !== 202);
    expect(losers.map((response) => [response.status, (response.body as { error?: string }).error])).toEqual(
      Array.from({ length: DECISIONS - 1 }, () => [409, 'request_already_decided']),
    );

    const finished = await adminRequestWhen(service, requestId, isFinished);
    const expected = winners[0] === 'approve' ? { kind: 'accept', result: 'accepted' } : { kind: 'reject', result: 'rejected' };
    expect(finished).toMatchObject({ status: 'completed', decision: { action: winners[0] }, outcome: { result: expected.result, attempts: 1 } });
    expect(decisionCalls(secureAuth, login_id).map((call) => [call.kind, call.status])).toEqual([[expected.kind, 200]]);
  });
});
