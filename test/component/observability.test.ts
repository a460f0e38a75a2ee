/**
 * What operators see: Prometheus metrics, readiness, the audit trail and its API, and logs that name
 * the CIBA request on every line of its flow while never carrying a secret. Both stores.
 */
import { DeviceClient } from '../../dev/device-client.js';
import { startRequest } from '../support/api-helpers.js';
import { startRedisServer, type RedisServerHandle } from '../support/redis-server.js';
import { startSecureAuthStub, type SecureAuthStub } from '../support/secureauth-stub.js';
import { AS_PASSWORD, ADMIN_TOKEN, eventually, startService, type StoreKind, type TestService } from '../support/service.js';

interface AuditEventBody {
  id: string;
  type: string;
  at: string;
  request_id?: string;
  user_id?: string;
  device_id?: string;
  channel?: string;
  outcome?: string;
  actor?: string;
}
interface AuditPageBody {
  events: AuditEventBody[];
  next_cursor?: string;
}

let redis: RedisServerHandle;
beforeAll(async () => {
  redis = await startRedisServer({ appendOnly: true });
});
afterAll(async () => {
  await redis.stop();
});

/** One sample of a Prometheus text exposition, or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`))) continue;
    return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

describe.each<StoreKind>(['memory', 'redis'])('observability on the %s store', (store) => {
  let secureAuth: SecureAuthStub;
  let service: TestService;

  beforeEach(async () => {
    secureAuth = await startSecureAuthStub();
    service = await startService({ store, redisUrl: redis.url, secureAuth });
  });
  afterEach(async () => {
    await service.stop();
    await secureAuth.close();
  });

  /** A full approved flow; returns everything secret it involved, to look for in the logs. */
  async function approvedFlow(userId: string) {
    const activationCode = await service.createUser(userId, { aliases: [`${userId}@example.com`] });
    const pushToken = `push-token-${userId}-0123456789`;
    const device = await DeviceClient.enroll(service.url, activationCode, { platform: 'web', pushToken });
    const started = await startRequest(service, secureAuth, `${userId}@example.com`);
    const view = await device.waitForRequest((r) => r.request_id === started.requestId);
    const decision = await device.decisionToken(view, 'approve');
    const proof = await device.proof('POST', `/device/v1/requests/${started.requestId}/decision`);
    const decided = await device.call('POST', `/device/v1/requests/${started.requestId}/decision`, { decision }, { proof });
    expect(decided.status).toBe(202);
    await secureAuth.waitFor(() => secureAuth.decisionOf(started.login_id) === 'accepted');
    const systemTokens = secureAuth.calls.map((call) => String(call.headers.authorization ?? '').replace(/^Bearer /, '')).filter((t) => t.length > 0);
    return { device, started, secrets: { activationCode, pushToken, deviceToken: device.deviceToken, loginState: started.login_state, decision, proof, systemTokens } };
  }

  it('exposes Prometheus metrics for HTTP, the request lifecycle, tokens and the queue', async () => {
    await approvedFlow('metrics-user');
    const text = await eventually(async () => {
      const response = await fetch(`${service.url}/metrics`);
      const body = await response.text();
      return (sample(body, 'ciba_requests_finished_total', { state: 'completed', result: 'accepted' }) ?? 0) >= 1 ? body : undefined;
    });
    expect(sample(text, 'ciba_http_request_duration_seconds_count', { route: '/authentication/start', method: 'POST', status: '200' })).toBe(1);
    expect(sample(text, 'ciba_http_request_duration_seconds_count', { route: '/device/v1/requests/{request_id}/decision', status: '202' })).toBe(1);
    expect(sample(text, 'ciba_requests_received_total', { status: 'pending' })).toBe(1);
    expect(sample(text, 'ciba_decisions_total', { action: 'approve', channel: 'device' })).toBe(1);
    expect(sample(text, 'ciba_completion_attempts_total', { result: 'success' })).toBe(1);
    expect(sample(text, 'ciba_system_token_refreshes_total')).toBeGreaterThanOrEqual(1);
    expect(text).toMatch(/^ciba_queue_jobs\{state="waiting"\} \d+$/m);
  });

  it('counts retries and the final result of completions', async () => {
    secureAuth.failNext('accept', [{ status: 503, headers: { 'retry-after': '0' } }]);
    await approvedFlow('retry-user');
    const text = await eventually(async () => {
      const body = await (await fetch(`${service.url}/metrics`)).text();
      return sample(body, 'ciba_completion_attempts_total', { result: 'success' }) === 1 ? body : undefined;
    });
    expect(sample(text, 'ciba_completion_attempts_total', { result: 'retry' })).toBe(1);
  });

  it('asks for a bearer token on /metrics when METRICS_TOKEN is set', async () => {
    const guarded = await startService({ store, redisUrl: redis.url, env: { METRICS_TOKEN: 'metrics-token-0123456789' } });
    try {
      expect((await fetch(`${guarded.url}/metrics`)).status).toBe(401);
      const scraped = await fetch(`${guarded.url}/metrics`, { headers: { authorization: 'Bearer metrics-token-0123456789' } });
      expect(scraped.status).toBe(200);
    } finally {
      await guarded.stop();
    }
  });

  it('is ready while the store answers and the workers run', async () => {
    const response = await fetch(`${service.url}/readyz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ready', checks: { store: true, workers: true } });

    const apiOnly = await startService({ store, redisUrl: redis.url, workers: false, env: { ROLE: 'api' } });
    const noWorkers = await startService({ store, redisUrl: redis.url, workers: false });
    try {
      expect((await fetch(`${apiOnly.url}/readyz`)).status).toBe(200);
      const notReady = await fetch(`${noWorkers.url}/readyz`);
      expect(notReady.status).toBe(503);
      expect(await notReady.json()).toEqual({ status: 'not_ready', checks: { store: true, workers: false } });
    } finally {
      await apiOnly.stop();
      await noWorkers.stop();
    }
  });

  if (store === 'redis') {
    it('is not ready while Redis is away, and ready again when it is back', async () => {
      await redis.kill();
      try {
        const down = await fetch(`${service.url}/readyz`);
        expect(down.status).toBe(503);
        expect(await down.json()).toMatchObject({ status: 'not_ready', checks: { store: false } });
      } finally {
        await redis.restart();
      }
      await eventually(async () => (await fetch(`${service.url}/readyz`)).status === 200, 15_000, 'readiness after the restart');
    });
  }

  it('keeps an audit trail of the whole lifecycle, queryable by request, user and type', async () => {
    const { device, started } = await approvedFlow('audited');
    const page = await eventually(async () => {
      const response = await service.admin<AuditPageBody>('GET', `/audit?request_id=${started.requestId}`);
      return response.body.events.some((event) => event.type === 'completion.succeeded') ? response.body : undefined;
    });
    expect(page.events.map((event) => event.type)).toEqual(['request.received', 'decision.recorded', 'completion.succeeded']);
    expect(page.events[0]).toMatchObject({ user_id: 'audited', outcome: 'pending', actor: 'authorization-server', client_id: 'pos-terminal' });
    expect(page.events[1]).toMatchObject({ outcome: 'approve', channel: 'device', device_id: device.deviceId, actor: 'device' });
    expect(page.events[2]).toMatchObject({ outcome: 'accepted' });

    const userEvents = (await service.admin<AuditPageBody>('GET', '/audit?user_id=audited')).body.events.map((event) => event.type);
    expect(userEvents).toEqual(
      expect.arrayContaining(['user.saved', 'activation_code.created', 'device.enrolled', 'request.received', 'decision.recorded']),
    );
    const decisions = (await service.admin<AuditPageBody>('GET', '/audit?type=decision.recorded')).body.events;
    expect(decisions.map((event) => event.request_id)).toEqual([started.requestId]);

    await service.admin('DELETE', `/users/audited/devices/${device.deviceId}`);
    const revoked = await eventually(async () => (await service.admin<AuditPageBody>('GET', '/audit?type=device.revoked')).body.events[0]);
    expect(revoked).toMatchObject({ user_id: 'audited', device_id: device.deviceId, actor: 'admin' });
    expect(JSON.stringify((await service.admin('GET', '/audit')).body)).not.toContain(started.login_state);
  });

  it('records an expiry', async () => {
    const short = await startService({ store, redisUrl: redis.url, secureAuth, env: { REQUEST_TTL_SECONDS: '1' } });
    try {
      const device = await DeviceClient.enroll(short.url, await short.createUser('expiring'));
      const started = await startRequest(short, secureAuth, 'expiring');
      await device.waitForRequest((r) => r.request_id === started.requestId);
      const events = await eventually(async () => {
        const body = (await short.admin<AuditPageBody>('GET', `/audit?request_id=${started.requestId}`)).body;
        return body.events.some((event) => event.type === 'request.expired') ? body.events : undefined;
      });
      expect(events.map((event) => event.type)).toEqual(['request.received', 'request.expired']);
    } finally {
      await short.stop();
    }
  });

  it('records a denial by the service', async () => {
    await service.createUser('no-device-user');
    const denied = await startRequest(service, secureAuth, 'no-device-user');
    const events = await eventually(async () => {
      const body = (await service.admin<AuditPageBody>('GET', `/audit?request_id=${denied.requestId}`)).body;
      return body.events.some((event) => event.type === 'completion.succeeded') ? body.events : undefined;
    });
    expect(events.map((event) => [event.type, event.outcome])).toEqual([
      ['request.received', 'denied'],
      ['completion.succeeded', 'rejected'],
    ]);
  });

  it('pages through the trail with a cursor and filters by time', async () => {
    for (const name of ['page-a', 'page-b', 'page-c']) await service.admin('PUT', `/users/${name}`, {});
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const query = `/audit?type=user.saved&limit=1${cursor !== undefined ? `&cursor=${cursor}` : ''}`;
      const page = (await service.admin<AuditPageBody>('GET', query)).body;
      seen.push(...page.events.map((event) => event.user_id ?? ''));
      cursor = page.next_cursor;
    } while (cursor !== undefined);
    expect(seen).toEqual(['page-a', 'page-b', 'page-c']);

    const future = new Date(Date.now() + 60_000).toISOString();
    expect((await service.admin<AuditPageBody>('GET', `/audit?since=${encodeURIComponent(future)}`)).body.events).toEqual([]);
    expect((await service.admin('GET', '/audit?limit=0')).status).toBe(400);
    expect((await service.admin('GET', '/audit?cursor=nonsense')).status).toBe(400);
    expect((await service.admin('GET', '/audit?type=made.up')).status).toBe(400);
  });

  it('bounds the trail by AUDIT_MAX_EVENTS', async () => {
    const capped = await startService({ store, redisUrl: redis.url, env: { AUDIT_MAX_EVENTS: '20' } });
    try {
      for (let i = 0; i < 160; i += 1) await capped.admin('PUT', `/users/capped-${i}`, {});
      const events = (await capped.admin<AuditPageBody>('GET', '/audit?limit=500')).body.events;
      // Redis trims whole stream nodes (MAXLEN ~), so a little more than the cap may stay.
      expect(events.length).toBeGreaterThanOrEqual(20);
      expect(events.length).toBeLessThanOrEqual(120);
      expect(events.at(-1)?.user_id).toBe('capped-159');
    } finally {
      await capped.stop();
    }
  });

  it('logs the CIBA request id on every line of its flow and never a secret', async () => {
    const { started, secrets } = await approvedFlow('logged');
    await eventually(async () => service.logs.some((line) => line.includes('completion.succeeded')));
    const flowLines = service.logs.filter((line) => line.includes(started.requestId));
    const messages = flowLines.map((line) => (JSON.parse(line) as { msg: string }).msg);
    expect(messages).toEqual(expect.arrayContaining(['request completed', 'audit request.received', 'audit decision.recorded', 'audit completion.succeeded']));
    // HTTP lines of the flow's calls carry the request id as a field, not only in the path.
    const decisionLine = service.logs
      .map((line) => JSON.parse(line) as { requestId?: string; req?: { method?: string; path?: string } })
      .find((entry) => entry.req?.method === 'POST' && entry.req.path?.endsWith('/decision'));
    expect(decisionLine?.requestId).toBe(started.requestId);

    const everything = service.logs.join('\n');
    const leaks = [
      secrets.activationCode,
      secrets.pushToken,
      secrets.deviceToken,
      secrets.loginState,
      secrets.decision,
      secrets.proof,
      AS_PASSWORD,
      ADMIN_TOKEN,
      secureAuth.clientSecret,
      ...secrets.systemTokens,
    ].filter((secret) => everything.includes(secret));
    expect(leaks).toEqual([]);
  });
});
