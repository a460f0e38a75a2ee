/**
 * Faults around one request's outcome, on both stores, in one file (they share a Redis and the module
 * load): decisions racing each other, SecureAuth throttling the completion, and SecureAuth answers
 * that never arrived. Each checks that the request ends with the right outcome and that SecureAuth
 * carried exactly one accept or reject out.
 */
import { startRequest, type StartedRequest } from '../support/api-helpers.js';
import { adminRequestWhen, decisionCalls, deliveredDecisions, enrolledDevice, isFinished } from '../support/flow-helpers.js';
import { startRedisServer, type RedisServerHandle } from '../support/redis-server.js';
import { startSecureAuthStub, type SecureAuthStub } from '../support/secureauth-stub.js';
import { eventually, startService, type StoreKind, type TestService } from '../support/service.js';

const CONCURRENT_DECISIONS = 100;
const RETRY_AFTER_SECONDS = 2;

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

describe.each<StoreKind>(['memory', 'redis'])('on the %s store', (store) => {
  let secureAuth: SecureAuthStub;
  let service: TestService;
  let userCounter = 0;

  beforeAll(async () => {
    secureAuth = await startSecureAuthStub();
    // A short SecureAuth timeout, so that a held call times out ("the answer was lost") quickly.
    service = await startService({ store, redisUrl: redis.url, secureAuth, env: { SECUREAUTH_TIMEOUT_MS: '1000' } });
  });
  afterAll(async () => {
    await service?.stop();
    await secureAuth?.close();
  });
  afterEach(() => {
    secureAuth.hold(false);
    expect(secureAuth.stubErrors).toEqual([]);
  });

  /** A new user with a device and a request ready on it. */
  async function readyRequest() {
    userCounter += 1;
    const userId = `${store}-user-${userCounter}`;
    const device = await enrolledDevice(service, service.url, userId);
    const request: StartedRequest = await startRequest(service, secureAuth, userId);
    const view = await device.waitForRequest((candidate) => candidate.request_id === request.requestId);
    return { device, request, view };
  }

  it(`${CONCURRENT_DECISIONS} concurrent decisions → exactly one 202, the others 409, one outcome sent — the winner's`, async () => {
    const { device, request, view } = await readyRequest();
    const path = `/device/v1/requests/${request.requestId}/decision`;
    // Signed up front so that the calls themselves go out together.
    const actions = Array.from({ length: CONCURRENT_DECISIONS }, (_, i) => (i % 2 === 0 ? ('approve' as const) : ('deny' as const)));
    const tokens = await Promise.all(actions.map((action) => device.decisionToken(view, action)));
    const proofs = await Promise.all(tokens.map(() => device.proof('POST', path)));
    const responses = await Promise.all(tokens.map((decision, i) => device.call('POST', path, { decision }, { proof: proofs[i] })));

    const winners = responses.flatMap((response, i) => (response.status === 202 ? [actions[i]!] : []));
    expect(winners).toHaveLength(1);
    const losers = responses.filter((response) => response.status !== 202);
    expect(losers.map((response) => [response.status, (response.body as { error?: string }).error])).toEqual(
      Array.from({ length: CONCURRENT_DECISIONS - 1 }, () => [409, 'request_already_decided']),
    );

    const finished = await adminRequestWhen(service, request.requestId, isFinished);
    const expected = winners[0] === 'approve' ? { kind: 'accept', result: 'accepted' } : { kind: 'reject', result: 'rejected' };
    expect(finished).toMatchObject({ status: 'completed', decision: { action: winners[0] }, outcome: { result: expected.result, attempts: 1 } });
    expect(decisionCalls(secureAuth, request.login_id).map((call) => [call.kind, call.status])).toEqual([[expected.kind, 200]]);
  });

  it(`429 with Retry-After: ${RETRY_AFTER_SECONDS} → the accept is tried again no sooner than that, and carried out once`, async () => {
    const { device, request, view } = await readyRequest();
    secureAuth.failNext('accept', [
      {
        status: 429,
        headers: { 'Retry-After': String(RETRY_AFTER_SECONDS) },
        body: { status_code: 429, error_code: 'too_many_requests', error: 'slow down', details: {} },
      },
    ]);
    expect((await device.decide(view, 'approve')).status).toBe(202);

    const finished = await adminRequestWhen(service, request.requestId, isFinished, 20_000);
    expect(finished).toMatchObject({ status: 'completed', outcome: { result: 'accepted', attempts: 2 } });
    const calls = decisionCalls(secureAuth, request.login_id);
    expect(calls.map((call) => call.status)).toEqual([429, 200]);
    // A behaviour check, not a measurement: never sooner than asked; later only within generous bounds.
    const gapMs = calls[1]!.at.getTime() - calls[0]!.at.getTime();
    expect(gapMs).toBeGreaterThanOrEqual(RETRY_AFTER_SECONDS * 1000);
    expect(gapMs).toBeLessThan(RETRY_AFTER_SECONDS * 1000 + 10_000);
  });

  it('an accept that timed out after SecureAuth carried it out → the retry hears "already accepted" → completed', async () => {
    secureAuth.hold('accept');
    const { device, request, view } = await readyRequest();
    expect((await device.decide(view, 'approve')).status).toBe(202);
    // The first call times out while held; the retry arrives and is held too.
    const [first, retry] = await secureAuth.waitForHeld(2);
    secureAuth.hold(false);
    expect(first!.callerGone()).toBe(true);
    first!.proceed(); // SecureAuth accepts the login; the answer goes nowhere
    retry!.proceed(); // → 403 login_already_accepted

    const finished = await adminRequestWhen(service, request.requestId, isFinished);
    expect(finished).toMatchObject({ status: 'completed', outcome: { result: 'accepted', attempts: 2 } });
    expect(decisionCalls(secureAuth, request.login_id).map((call) => call.status)).toEqual([200, 403]);
    expect(deliveredDecisions(secureAuth, request.login_id)).toHaveLength(1);
    expect(service.logs.join('\n')).toContain('an earlier attempt got through');
  });

  it('a reject answered "already rejected" → completed as rejected', async () => {
    const { device, request, view } = await readyRequest();
    secureAuth.failNext('reject', [alreadyDecided('rejected')]);
    expect((await device.decide(view, 'deny')).status).toBe(202);
    const finished = await adminRequestWhen(service, request.requestId, isFinished);
    expect(finished).toMatchObject({ status: 'completed', outcome: { result: 'rejected', attempts: 1 } });
    expect(decisionCalls(secureAuth, request.login_id)).toHaveLength(1);
  });

  it('an accept answered "already rejected" is a conflict → failed, not retried', async () => {
    const { device, request, view } = await readyRequest();
    secureAuth.failNext('accept', [alreadyDecided('rejected')]);
    expect((await device.decide(view, 'approve')).status).toBe(202);
    const finished = await adminRequestWhen(service, request.requestId, isFinished);
    expect(finished).toMatchObject({ status: 'failed', outcome: { result: 'failed', error: expect.stringContaining('login_already_rejected') } });
    await eventually(async () => service.logs.some((line) => line.includes('the outcome could not be reported')));
    expect(decisionCalls(secureAuth, request.login_id)).toHaveLength(1);
  });
});
