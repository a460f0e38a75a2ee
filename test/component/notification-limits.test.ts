/**
 * Protection from prompt bombing: per-user limits checked in the atomic create step of
 * /authentication/start. Over a limit the request is rejected at once, with a description naming the
 * limit, and nothing reaches the user — no listed request, no delivery, no e-mail. Runs on the
 * embedded default and on Redis.
 */
import { DeviceClient } from '../../dev/device-client.js';
import { startRedisServer, type RedisServerHandle } from '../support/redis-server.js';
import { startSecureAuthStub, type SecureAuthStub } from '../support/secureauth-stub.js';
import { sleep, startService, type StoreKind, type TestService } from '../support/service.js';
import { startSmtpServer, type SmtpServerHandle } from '../support/smtp-server.js';

let redis: RedisServerHandle;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis.stop();
});

describe.each<StoreKind>(['memory', 'redis'])('notification limits on the %s store', (store) => {
  let secureAuth: SecureAuthStub;
  let smtp: SmtpServerHandle;
  let service: TestService;
  let loginCounter = 0;

  beforeEach(async () => {
    [secureAuth, smtp] = await Promise.all([startSecureAuthStub(), startSmtpServer()]);
  });
  afterEach(async () => {
    await service.stop();
    await Promise.all([secureAuth.close(), smtp.stop()]);
    expect(secureAuth.stubErrors).toEqual([]);
  });

  async function startWith(env: Record<string, string> = {}): Promise<void> {
    service = await startService({ store, redisUrl: redis.url, secureAuth, env: { SMTP_URL: smtp.url, EMAIL_FROM: 'no-reply@bank.example', ...env } });
  }

  async function start(userIdentifier: string) {
    loginCounter += 1;
    const login = { login_id: `limit-${store}-${loginCounter}`, login_state: `state-${loginCounter}` };
    secureAuth.registerLogin({ ...login, client_id: 'pos', client_name: 'Corner Shop POS', scopes: [{ name: 'openid' }] });
    const response = await service.asCall<{ request_id: string }>('/authentication/start', {
      login_id: login.login_id,
      user_identifier: userIdentifier,
      state: login.login_state,
      requested_scopes: ['openid'],
    });
    expect(response.status).toBe(200);
    return { ...login, requestId: response.body.request_id };
  }

  async function deliveriesOf(requestId: string): Promise<unknown[]> {
    const admin = await service.admin<{ deliveries: unknown[] }>('GET', `/requests/${requestId}`);
    return admin.body.deliveries;
  }

  it('a burst beyond NOTIFY_MAX_PENDING (default 3) is rejected at once, naming the limit, and the device never sees it', async () => {
    await startWith();
    const code = await service.createUser('vera');
    const device = await DeviceClient.enroll(service.url, code);
    const burst = await Promise.all(Array.from({ length: 6 }, () => start('vera')));
    const rejects = () => secureAuth.calls.filter((c) => c.kind === 'reject');
    await secureAuth.waitFor(() => rejects().length === 3);

    const rejected = burst.filter((login) => secureAuth.decisionOf(login.login_id) === 'rejected');
    expect(rejected).toHaveLength(3);
    for (const login of rejected) {
      expect(secureAuth.rejected(login.login_id)).toEqual([
        {
          id: login.login_id,
          login_state: login.login_state,
          error: 'access_denied',
          error_cause: 'too_many_pending',
          error_description: expect.stringContaining('NOTIFY_MAX_PENDING'),
          status_code: 403,
        },
      ]);
      const admin = await service.admin<{ status: string; reason: string }>('GET', `/requests/${login.requestId}`);
      expect(admin.body).toMatchObject({ reason: 'too_many_pending' });
      expect(await deliveriesOf(login.requestId)).toEqual([]);
    }
    const pendingIds = burst.filter((login) => !rejected.includes(login)).map((login) => login.requestId);
    for (const id of pendingIds) await device.waitForRequest((r) => r.request_id === id);
    await sleep(200);
    expect((await device.listRequests()).map((r) => r.request_id).sort()).toEqual([...pendingIds].sort());

    // Deciding one frees a place.
    const first = (await device.listRequests())[0]!;
    expect((await device.decide(first, 'deny')).status).toBe(202);
    const next = await start('vera');
    await device.waitForRequest((r) => r.request_id === next.requestId);
  });

  it('sends no e-mail for a request over the limit', async () => {
    await startWith({ NOTIFY_MAX_PENDING: '2' });
    await service.createUser('walt', { aliases: ['walt@example.com'] });
    const burst: Array<{ login_id: string; requestId: string }> = [];
    for (let i = 0; i < 4; i += 1) burst.push(await start('walt@example.com'));
    await secureAuth.waitFor((calls) => calls.filter((c) => c.kind === 'reject').length === 2);
    await smtp.waitForMessage((mail) => mail.text.includes(burst[1]!.requestId));
    await sleep(300);
    expect(smtp.messages).toHaveLength(2);
    expect(smtp.messages.map((mail) => mail.text).join()).not.toContain(burst[2]!.requestId);
    expect(secureAuth.rejected(burst[3]!.login_id)).toEqual([
      expect.objectContaining({ error_cause: 'too_many_pending', error_description: expect.stringContaining('2 pending requests (NOTIFY_MAX_PENDING)') }),
    ]);
  });

  it('NOTIFY_MAX_PER_DAY counts every request that reached the user today, decided or not', async () => {
    await startWith({ NOTIFY_MAX_PER_DAY: '2' });
    const code = await service.createUser('xavi');
    const device = await DeviceClient.enroll(service.url, code);
    for (let i = 0; i < 2; i += 1) {
      const { requestId } = await start('xavi');
      const view = await device.waitForRequest((r) => r.request_id === requestId);
      expect((await device.decide(view, 'approve')).status).toBe(202);
    }
    const third = await start('xavi');
    await secureAuth.waitFor(() => secureAuth.decisionOf(third.login_id) === 'rejected');
    expect(secureAuth.rejected(third.login_id)).toEqual([
      expect.objectContaining({ error_cause: 'daily_limit_reached', error_description: expect.stringContaining('NOTIFY_MAX_PER_DAY') }),
    ]);
    expect(await device.listRequests()).toEqual([]);
    // Another user is not affected.
    const other = await DeviceClient.enroll(service.url, await service.createUser('yann'));
    const theirs = await start('yann');
    await other.waitForRequest((r) => r.request_id === theirs.requestId);
  });
});
