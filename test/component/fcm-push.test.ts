/**
 * Push prompts through Firebase Cloud Messaging, end to end: the authorization server's start call,
 * the jobs, the REAL firebase-admin SDK (its OAuth token exchange and FCM HTTP v1 requests), and a
 * local FCM stand-in that records the exact JSON of every message (see test/support/fcm-stand-in.ts).
 * Runs on the embedded default and on a private Redis.
 */
import { DeviceClient } from '../../dev/device-client.js';
import type { ApiSchemas } from '../../src/http/api-types.js';
import { startRequest, type RegisteredClient } from '../support/api-helpers.js';
import { startFcmStandIn, type FcmStandIn } from '../support/fcm-stand-in.js';
import { startRedisServer, type RedisServerHandle } from '../support/redis-server.js';
import { startSecureAuthStub, type SecureAuthStub } from '../support/secureauth-stub.js';
import { eventually, sleep, startService, type StoreKind, type TestService } from '../support/service.js';

type AdminDelivery = ApiSchemas['Delivery'];
type AdminRequest = ApiSchemas['AdminRequest'];

const TTL_SECONDS = 120;

let redis: RedisServerHandle;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis.stop();
});

describe.each<StoreKind>(['memory', 'redis'])('FCM push prompts on the %s store', (store) => {
  let secureAuth: SecureAuthStub;
  let fcm: FcmStandIn;
  let service: TestService;
  let counter = 0;

  beforeEach(async () => {
    secureAuth = await startSecureAuthStub();
    fcm = await startFcmStandIn();
    service = await startService({ store, redisUrl: redis.url, secureAuth, fcm, env: { REQUEST_TTL_SECONDS: String(TTL_SECONDS) } });
  });
  afterEach(async () => {
    await service.stop();
    await fcm.close();
    await secureAuth.close();
    expect(secureAuth.stubErrors).toEqual([]);
    expect(fcm.problems).toEqual([]);
  });

  const unique = (name: string): string => {
    counter += 1;
    return `${name}-${store}-${counter}`;
  };

  /** A user with one device per entry; a device gets the push token given (none for undefined). */
  async function userWithDevices(
    userId: string,
    devices: Array<{ pushToken?: string; platform?: 'android' | 'ios' | 'web' | 'other' }>,
    aliases: string[] = [],
  ): Promise<DeviceClient[]> {
    const clients: DeviceClient[] = [];
    for (const [index, device] of devices.entries()) {
      const code = await service.createUser(userId, { aliases });
      clients.push(
        await DeviceClient.enroll(service.url, code, {
          name: `${userId} device ${index + 1}`,
          platform: device.platform ?? 'android',
          ...(device.pushToken !== undefined ? { pushToken: device.pushToken } : {}),
        }),
      );
    }
    return clients;
  }

  const POS_TERMINAL: RegisteredClient = {
    client_id: 'pos-terminal',
    client_name: 'Corner Shop POS',
    scopes: [
      { name: 'openid', display_name: 'Sign you in' },
      { name: 'payments', display_name: 'Make payments' },
    ],
  };

  const start = (userIdentifier: string) =>
    startRequest(service, secureAuth, userIdentifier, {
      client: POS_TERMINAL,
      extra: { requested_scopes: ['openid', 'payments'], binding_message: 'Pay 50 EUR to Corner Shop' },
    });

  const adminRequest = async (requestId: string): Promise<AdminRequest> => {
    const response = await service.admin<AdminRequest>('GET', `/requests/${requestId}`);
    expect(response.status).toBe(200);
    return response.body;
  };

  /** The exact FCM HTTP v1 prompt message for `token`, as firebase-admin must send it. */
  function expectedPrompt(token: string, requestId: string, expiresAt: string): Record<string, unknown> {
    return {
      token,
      data: { type: 'ciba.request', request_id: requestId, expires_at: expiresAt },
      notification: { title: 'Sign-in request from Corner Shop POS', body: 'Open the app to approve or deny it.' },
      android: { priority: 'high', ttl: expect.stringMatching(/^\d+s$/), collapse_key: requestId },
      apns: {
        headers: {
          'apns-priority': '10',
          'apns-push-type': 'alert',
          'apns-expiration': String(Math.floor(Date.parse(expiresAt) / 1000)),
          'apns-collapse-id': requestId,
        },
      },
    };
  }

  function expectedClosing(token: string, requestId: string): Record<string, unknown> {
    return {
      token,
      data: { type: 'ciba.request.closed', request_id: requestId },
      android: { priority: 'high', ttl: expect.stringMatching(/^\d+s$/), collapse_key: requestId },
      apns: {
        headers: { 'apns-priority': '5', 'apns-push-type': 'background', 'apns-expiration': expect.stringMatching(/^\d+$/) },
        payload: { aps: { 'content-available': 1 } },
      },
    };
  }

  /** The Android TTL is the time the request has left, in whole seconds. */
  const ttlSecondsOf = (message: Record<string, unknown>): number => Number.parseInt(String((message.android as { ttl: string }).ttl), 10);

  it('sends one device exactly the prompt JSON, with no personal data, and the admin view shows the delivery', async () => {
    const userId = unique('pii-user');
    const [device] = await userWithDevices(userId, [{ pushToken: 'token-only-device' }], [`${userId}@example.com`]);
    const { requestId, login_id, login_state } = await start(`${userId}@example.com`);
    await fcm.waitFor((messages) => messages.length === 1);

    const { expires_at: expiresAt } = await adminRequest(requestId);
    const [sent] = fcm.deliveredTo('token-only-device');
    expect(sent).toEqual(expectedPrompt('token-only-device', requestId, expiresAt));
    const ttl = ttlSecondsOf(sent!);
    expect(ttl).toBeGreaterThan(TTL_SECONDS - 30);
    expect(ttl).toBeLessThanOrEqual(TTL_SECONDS);

    // Only identifiers travel through Google: nothing that names the user or the transaction.
    const json = JSON.stringify(fcm.messages.map((message) => message.body));
    for (const secret of [userId, `${userId}@example.com`, login_id, login_state, 'Pay 50 EUR', 'openid', 'payments', 'Make payments', device!.deviceId]) {
      expect(json).not.toContain(secret);
    }

    // The request is the one the device fetches over the device API.
    await device!.waitForRequest((view) => view.request_id === requestId);
    const admin = await eventually(async () => {
      const request = await adminRequest(requestId);
      return request.deliveries.length === 1 ? request : undefined;
    });
    expect(admin.deliveries).toEqual([{ channel: 'push', message: 'prompt', result: 'sent', device_id: device!.deviceId, at: expect.any(String) }]);
    expect(JSON.stringify(admin)).not.toContain('token-only-device');
    expect(fcm.tokensIssued).toBe(1);
  });

  it('three devices, one dead token: the live two get the prompt, the dead one is marked and skipped next time', async () => {
    const userId = unique('three');
    const devices = await userWithDevices(userId, [{ pushToken: 'live-a' }, { pushToken: 'gone-b' }, { pushToken: 'live-c', platform: 'ios' }]);
    fcm.failAlways('gone-b', 'unregistered');

    const first = await start(userId);
    await fcm.waitFor((messages) => messages.length === 3);
    const { expires_at: expiresAt } = await adminRequest(first.requestId);
    expect(fcm.deliveredTo('live-a')).toEqual([expectedPrompt('live-a', first.requestId, expiresAt)]);
    expect(fcm.deliveredTo('live-c')).toEqual([expectedPrompt('live-c', first.requestId, expiresAt)]);
    expect(fcm.messagesTo('gone-b').map((m) => [m.status, m.message])).toEqual([[404, expectedPrompt('gone-b', first.requestId, expiresAt)]]);

    const marked = await eventually(async () => {
      const user = await service.admin<{ devices: Array<{ device_id: string; push: string }> }>('GET', `/users/${userId}`);
      return user.body.devices.find((d) => d.device_id === devices[1]!.deviceId)?.push === 'dead' ? user.body.devices : undefined;
    });
    expect(marked.map((d) => d.push)).toEqual(['active', 'dead', 'active']);
    const firstAdmin = await eventually(async () => {
      const request = await adminRequest(first.requestId);
      return request.deliveries.length === 3 ? request : undefined;
    });
    expect(sortByDevice(firstAdmin.deliveries, devices)).toEqual([
      { channel: 'push', message: 'prompt', result: 'sent', device_id: devices[0]!.deviceId, at: expect.any(String) },
      {
        channel: 'push',
        message: 'prompt',
        result: 'failed',
        error_code: 'messaging/registration-token-not-registered',
        device_id: devices[1]!.deviceId,
        at: expect.any(String),
      },
      { channel: 'push', message: 'prompt', result: 'sent', device_id: devices[2]!.deviceId, at: expect.any(String) },
    ]);
    expect(firstAdmin.status).toBe('pending');

    // The dead token is not tried again; the request records why that device was skipped.
    const second = await start(userId);
    await fcm.waitFor((messages) => messages.length === 5);
    const secondAdmin = await eventually(async () => {
      const request = await adminRequest(second.requestId);
      return request.deliveries.length === 3 ? request : undefined;
    });
    expect(fcm.messagesTo('gone-b')).toHaveLength(1);
    expect(fcm.messages.slice(3).map((m) => m.token).sort()).toEqual(['live-a', 'live-c']);
    expect(secondAdmin.deliveries.find((d) => d.device_id === devices[1]!.deviceId)).toEqual({
      channel: 'push',
      message: 'prompt',
      result: 'skipped',
      error_code: 'push_token_dead',
      device_id: devices[1]!.deviceId,
      at: expect.any(String),
    });

    // A new token from the app revives the device.
    expect((await devices[1]!.call('PUT', '/device/v1/devices/self', { push_token: 'renewed-b' })).status).toBe(200);
    const third = await start(userId);
    await fcm.waitFor((messages) => messages.some((m) => m.token === 'renewed-b'));
    const { expires_at: thirdExpiry } = await adminRequest(third.requestId);
    expect(fcm.deliveredTo('renewed-b')).toEqual([expectedPrompt('renewed-b', third.requestId, thirdExpiry)]);
  });

  it('503 then success: firebase-admin tries again and the device gets the prompt once', async () => {
    const userId = unique('flaky');
    const [device] = await userWithDevices(userId, [{ pushToken: 'flaky-token' }]);
    fcm.failNext('flaky-token', ['unavailable']);
    const { requestId } = await start(userId);
    await fcm.waitFor((messages) => messages.some((m) => m.status === 200));
    const { expires_at: expiresAt } = await adminRequest(requestId);
    const attempts = fcm.messagesTo('flaky-token');
    expect(attempts.map((m) => m.status)).toEqual([503, 200]);
    expect(attempts.map((m) => m.message)).toEqual([expectedPrompt('flaky-token', requestId, expiresAt), expectedPrompt('flaky-token', requestId, expiresAt)]);
    const admin = await eventually(async () => {
      const request = await adminRequest(requestId);
      return request.deliveries.length > 0 ? request : undefined;
    });
    await sleep(300);
    expect(fcm.messagesTo('flaky-token')).toHaveLength(2);
    expect(admin.deliveries).toEqual([{ channel: 'push', message: 'prompt', result: 'sent', device_id: device!.deviceId, at: expect.any(String) }]);
  });

  it('500 and 429 on one device: the job retries that device only, and each device gets the prompt once', async () => {
    const userId = unique('retry');
    const devices = await userWithDevices(userId, [{ pushToken: 'steady' }, { pushToken: 'busy' }]);
    fcm.failNext('busy', ['internal', 'quota-exceeded']);
    const { requestId } = await start(userId);
    await fcm.waitFor((messages) => messages.filter((m) => m.token === 'busy').length === 3);
    const admin = await eventually(async () => {
      const request = await adminRequest(requestId);
      return request.deliveries.length === 4 ? request : undefined;
    });
    await sleep(300);
    expect(fcm.messagesTo('busy').map((m) => m.status)).toEqual([500, 429, 200]);
    expect(fcm.messagesTo('steady').map((m) => m.status)).toEqual([200]);
    const { expires_at: expiresAt } = admin;
    expect(fcm.deliveredTo('busy')).toEqual([expectedPrompt('busy', requestId, expiresAt)]);
    const busy = admin.deliveries.filter((d) => d.device_id === devices[1]!.deviceId).map((d) => [d.result, d.error_code]);
    expect(busy).toEqual([
      ['failed', 'messaging/internal-error'],
      ['failed', 'messaging/message-rate-exceeded'],
      ['sent', undefined],
    ]);
    expect(admin.deliveries.filter((d) => d.device_id === devices[0]!.deviceId).map((d) => d.result)).toEqual(['sent']);
    expect(admin.status).toBe('pending');
  });

  it('every token dead: the request is rejected at once, saying no device could be reached', async () => {
    const userId = unique('unreachable');
    const devices = await userWithDevices(userId, [{ pushToken: 'dead-1' }, { pushToken: 'malformed-2', platform: 'ios' }, {}]);
    fcm.failAlways('dead-1', 'unregistered');
    fcm.failAlways('malformed-2', 'invalid-token');
    const { requestId, login_id, login_state } = await start(userId);

    await secureAuth.waitFor(() => secureAuth.decisionOf(login_id) === 'rejected');
    expect(secureAuth.rejected(login_id)).toEqual([
      {
        id: login_id,
        login_state,
        error: 'access_denied',
        error_description: 'the user could not be reached on any device: none has a working push registration',
        error_cause: 'no_reachable_device',
        status_code: 403,
      },
    ]);
    const admin = await eventually(async () => {
      const request = await adminRequest(requestId);
      return request.status === 'completed' ? request : undefined;
    });
    expect(admin.reason).toBe('no_reachable_device');
    expect(sortByDevice(admin.deliveries, devices).map((d) => [d.result, d.error_code])).toEqual([
      ['failed', 'messaging/registration-token-not-registered'],
      ['failed', 'messaging/invalid-argument'],
      ['skipped', 'no_push_token'],
    ]);
    const user = await service.admin<{ devices: Array<{ push: string }> }>('GET', `/users/${userId}`);
    expect(user.body.devices.map((d) => d.push)).toEqual(['dead', 'dead', 'none']);

    // Next time nothing is sent at all: the user is rejected straight away.
    const again = await start(userId);
    await secureAuth.waitFor(() => secureAuth.decisionOf(again.login_id) === 'rejected');
    expect(fcm.messages).toHaveLength(2);
    expect(secureAuth.calls.filter((c) => c.kind === 'accept')).toEqual([]);
  });

  it('a web device counts as reachable: a phone with a dead token does not get the request rejected', async () => {
    const userId = unique('web');
    const [phone, browser] = await userWithDevices(userId, [{ pushToken: 'dead-phone' }, { platform: 'web' }]);
    fcm.failAlways('dead-phone', 'unregistered');
    const { requestId, login_id } = await start(userId);
    await browser!.waitForRequest((view) => view.request_id === requestId);
    const admin = await eventually(async () => {
      const request = await adminRequest(requestId);
      return request.deliveries.length === 2 ? request : undefined;
    });
    expect(sortByDevice(admin.deliveries, [phone!, browser!]).map((d) => [d.channel, d.result])).toEqual([
      ['push', 'failed'],
      ['poll', 'skipped'],
    ]);
    await sleep(200);
    expect((await adminRequest(requestId)).status).toBe('pending');
    expect(secureAuth.decisionOf(login_id)).toBe('pending');
  });

  it('a decision on one device sends the closing message to the other prompted devices only, once', async () => {
    const userId = unique('close');
    const devices = await userWithDevices(userId, [{ pushToken: 'decider' }, { pushToken: 'other-1' }, { pushToken: 'other-2', platform: 'ios' }, { pushToken: 'dead-3' }]);
    fcm.failAlways('dead-3', 'unregistered');
    const { requestId, login_id } = await start(userId);
    await fcm.waitFor((messages) => messages.length === 4);
    await eventually(async () => (await adminRequest(requestId)).deliveries.length === 4);
    const view = await devices[0]!.waitForRequest((r) => r.request_id === requestId);

    expect((await devices[0]!.decide(view, 'approve')).status).toBe(202);
    await fcm.waitFor((messages) => messages.length === 6, 10_000, 'two closing messages');
    await secureAuth.waitFor(() => secureAuth.decisionOf(login_id) === 'accepted');
    const closing = fcm.messages.slice(4);
    expect(closing.map((m) => m.token).sort()).toEqual(['other-1', 'other-2']);
    for (const message of closing) expect(message.message).toEqual(expectedClosing(message.token!, requestId));
    expect(closing.every((m) => m.status === 200)).toBe(true);

    const admin = await eventually(async () => {
      const request = await adminRequest(requestId);
      return request.deliveries.filter((d) => d.message === 'close').length === 2 && request.status === 'completed' ? request : undefined;
    });
    expect(admin.deliveries.filter((d) => d.message === 'close').map((d) => d.device_id).sort()).toEqual(
      [devices[1]!.deviceId, devices[2]!.deviceId].sort(),
    );
    await sleep(300);
    expect(fcm.messages).toHaveLength(6);
  });

  it('a decision while another device is still being pushed to: that device gets the closing message too', async () => {
    const userId = unique('late');
    const [quick] = await userWithDevices(userId, [{ pushToken: 'quick' }, { pushToken: 'slow' }]);
    // firebase-admin retries 503 itself (at once, then after a second): the batch, and so the delivery
    // records, wait for the slow device while the quick one already shows the prompt.
    fcm.failNext('slow', ['unavailable', 'unavailable']);
    const { requestId, login_id } = await start(userId);
    await fcm.waitFor((messages) => messages.some((m) => m.token === 'quick'));
    const view = await quick!.waitForRequest((r) => r.request_id === requestId);
    expect((await quick!.decide(view, 'approve')).status).toBe(202);

    await fcm.waitFor((messages) => messages.some((m) => m.token === 'slow' && m.message.data !== undefined && (m.message.data as { type: string }).type === 'ciba.request.closed'));
    await secureAuth.waitFor(() => secureAuth.decisionOf(login_id) === 'accepted');
    await sleep(300);
    expect(fcm.messagesTo('slow').map((m) => [m.status, (m.message.data as { type: string }).type])).toEqual([
      [503, 'ciba.request'],
      [503, 'ciba.request'],
      [200, 'ciba.request'],
      [200, 'ciba.request.closed'],
    ]);
    expect(fcm.messagesTo('quick').map((m) => (m.message.data as { type: string }).type)).toEqual(['ciba.request']);
  });

  it('an expired request sends the closing message to every prompted device', async () => {
    await service.stop();
    service = await startService({ store, redisUrl: redis.url, secureAuth, fcm, env: { REQUEST_TTL_SECONDS: '1' } });
    const userId = unique('expire');
    await userWithDevices(userId, [{ pushToken: 'exp-1' }, { pushToken: 'exp-2' }]);
    const { requestId } = await start(userId);
    await fcm.waitFor((messages) => messages.length === 4, 10_000, 'prompts and closing messages');
    expect(fcm.messages.slice(2).map((m) => m.message)).toEqual(
      expect.arrayContaining([expectedClosing('exp-1', requestId), expectedClosing('exp-2', requestId)]),
    );
    const admin = await eventually(async () => {
      const request = await adminRequest(requestId);
      return request.status === 'expired' && request.deliveries.length === 4 ? request : undefined;
    });
    expect(admin.deliveries.map((d) => `${d.message}:${d.result}`)).toEqual(['prompt:sent', 'prompt:sent', 'close:sent', 'close:sent']);
  });
});

describe('without FCM configured', () => {
  it('says so once at start-up, and phones without a push token are reached by polling', async () => {
    const secureAuth = await startSecureAuthStub();
    const service = await startService({ store: 'memory', secureAuth });
    try {
      expect(service.logs.filter((line) => line.includes('FCM is off or not configured'))).toHaveLength(1);
      const code = await service.createUser('poller');
      const device = await DeviceClient.enroll(service.url, code, { platform: 'android' });
      const started = await service.asCall<{ request_id: string }>('/authentication/start', {
        login_id: 'login-poller',
        user_identifier: 'poller',
        state: 'state-poller',
      });
      await device.waitForRequest((view) => view.request_id === started.body.request_id);
      const admin = await eventually(async () => {
        const response = await service.admin<AdminRequest>('GET', `/requests/${started.body.request_id}`);
        return response.body.deliveries.length === 1 ? response.body : undefined;
      });
      expect(admin.deliveries).toEqual([{ channel: 'poll', result: 'skipped', device_id: device.deviceId, at: expect.any(String) }]);
      expect(admin.status).toBe('pending');
    } finally {
      await service.stop();
      await secureAuth.close();
    }
  });
});

/** Delivery records in the order the devices were enrolled (a batch's answers may come in any order). */
function sortByDevice(deliveries: AdminDelivery[], devices: DeviceClient[]): AdminDelivery[] {
  const order = devices.map((device) => device.deviceId);
  return [...deliveries].sort((a, b) => order.indexOf(a.device_id ?? '') - order.indexOf(b.device_id ?? ''));
}
