/**
 * Push and e-mail together: a user whose phones cannot be reached by push (every token dead) but who
 * has an e-mail alias gets a magic link instead of a reject; without the e-mail alias the request is
 * rejected. Real firebase-admin against the local FCM stand-in, a real SMTP server, both stores.
 */
import { DeviceClient } from '../../dev/device-client.js';
import { startFcmStandIn, type FcmStandIn } from '../support/fcm-stand-in.js';
import { startRedisServer, type RedisServerHandle } from '../support/redis-server.js';
import { startSecureAuthStub, type SecureAuthStub } from '../support/secureauth-stub.js';
import { eventually, sleep, startService, type StoreKind, type TestService } from '../support/service.js';
import { magicLinkIn, startSmtpServer, type SmtpServerHandle } from '../support/smtp-server.js';

let redis: RedisServerHandle;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis.stop();
});

describe.each<StoreKind>(['memory', 'redis'])('push, then e-mail, on the %s store', (store) => {
  let secureAuth: SecureAuthStub;
  let fcm: FcmStandIn;
  let smtp: SmtpServerHandle;
  let service: TestService;

  beforeEach(async () => {
    [secureAuth, fcm, smtp] = await Promise.all([startSecureAuthStub(), startFcmStandIn(), startSmtpServer()]);
    service = await startService({
      store,
      redisUrl: redis.url,
      secureAuth,
      fcm,
      env: { SMTP_URL: smtp.url, EMAIL_FROM: 'Bank Authenticator <no-reply@bank.example>' },
    });
  });
  afterEach(async () => {
    await service.stop();
    await Promise.all([fcm.close(), secureAuth.close(), smtp.stop()]);
    expect(secureAuth.stubErrors).toEqual([]);
    expect(fcm.problems).toEqual([]);
  });

  async function start(userId: string, login: string): Promise<string> {
    secureAuth.registerLogin({ login_id: login, login_state: `state-${login}`, client_id: 'pos', client_name: 'Corner Shop' });
    const response = await service.asCall<{ request_id: string }>('/authentication/start', {
      login_id: login,
      user_identifier: userId,
      state: `state-${login}`,
      scope: 'openid',
    });
    expect(response.status).toBe(200);
    return response.body.request_id;
  }

  it('e-mails a magic link when every push token is dead and the user has an e-mail alias', async () => {
    const code = await service.createUser(`mailable-${store}`, { aliases: [`mailable-${store}@example.com`] });
    await DeviceClient.enroll(service.url, code, { platform: 'android', pushToken: `dead-${store}` });
    fcm.failAlways(`dead-${store}`, 'unregistered');

    const requestId = await start(`mailable-${store}`, `login-mail-${store}`);
    const mail = await eventually(async () => smtp.messages.find((m) => m.to.includes(`mailable-${store}@example.com`)), 10_000, 'the e-mail');
    expect(magicLinkIn(mail)).toContain(`/magic-links/${requestId}.`);
    await sleep(200);
    expect(secureAuth.calls.filter((call) => call.kind === 'reject')).toEqual([]);
    const admin = await service.admin<{ status: string; deliveries: Array<{ channel: string; result: string }> }>('GET', `/requests/${requestId}`);
    expect(admin.body.status).toBe('pending');
    expect(admin.body.deliveries).toEqual(
      expect.arrayContaining([expect.objectContaining({ channel: 'push', result: 'failed' }), expect.objectContaining({ channel: 'email', result: 'sent' })]),
    );
  });

  it('rejects at once when every push token is dead and there is no e-mail alias', async () => {
    const code = await service.createUser(`unmailable-${store}`);
    await DeviceClient.enroll(service.url, code, { platform: 'ios', pushToken: `gone-${store}` });
    fcm.failAlways(`gone-${store}`, 'unregistered');

    await start(`unmailable-${store}`, `login-nomail-${store}`);
    await secureAuth.waitFor(() => secureAuth.decisionOf(`login-nomail-${store}`) === 'rejected');
    expect(smtp.messages).toEqual([]);
  });
});
