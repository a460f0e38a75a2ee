/**
 * Fault: Firebase Cloud Messaging answers a burst of errors — every device of every request fails at
 * first, with 500, 429 (retried by the prompt job, for the failing devices only) or 503 (retried by
 * firebase-admin itself). The real SDK talks to the local FCM stand-in. Nothing is lost: every device
 * gets its prompt and no request is given up as unreachable; nothing is sent twice: one prompt per
 * device, one closing message per device that did not decide, one outcome per login.
 */
import { DeviceClient } from '../../dev/device-client.js';
import { startRequest, type StartedRequest } from '../support/api-helpers.js';
import { startFcmStandIn, type FcmFailure, type FcmStandIn } from '../support/fcm-stand-in.js';
import { adminRequestWhen, decisionCalls, isFinished } from '../support/flow-helpers.js';
import { startRedisServer, type RedisServerHandle } from '../support/redis-server.js';
import { startSecureAuthStub, type SecureAuthStub } from '../support/secureauth-stub.js';
import { sleep, startService, type TestService } from '../support/service.js';

const USERS = 10;

let redis: RedisServerHandle;
let secureAuth: SecureAuthStub;
let fcm: FcmStandIn;
let service: TestService;

beforeAll(async () => {
  [redis, secureAuth, fcm] = await Promise.all([startRedisServer(), startSecureAuthStub(), startFcmStandIn()]);
  service = await startService({ store: 'redis', redisUrl: redis.url, secureAuth, fcm });
});
afterAll(async () => {
  await service?.stop();
  await fcm?.close();
  await secureAuth?.close();
  await redis?.stop();
});
afterEach(() => {
  expect(secureAuth.stubErrors).toEqual([]);
  expect(fcm.problems).toEqual([]);
});

const isPrompt = (message: Record<string, unknown>): boolean => (message.data as { type?: string } | undefined)?.type === 'ciba.request';
const isClosing = (message: Record<string, unknown>): boolean => (message.data as { type?: string } | undefined)?.type === 'ciba.request.closed';

interface Phone {
  token: string;
  burst: FcmFailure[];
}

it('a burst of FCM errors on every device → each device gets its prompt once, each login one outcome', async () => {
  const users = await Promise.all(
    Array.from({ length: USERS }, async (_, i) => {
      const userId = `burst-user-${i}`;
      const phones: Phone[] = [
        { token: `burst-${i}-a`, burst: ['internal', 'quota-exceeded'] },
        { token: `burst-${i}-b`, burst: i % 2 === 0 ? ['unavailable', 'unavailable'] : ['internal'] },
      ];
      const devices: DeviceClient[] = [];
      for (const phone of phones) {
        const code = await service.createUser(userId);
        devices.push(await DeviceClient.enroll(service.url, code, { platform: 'android', pushToken: phone.token }));
        fcm.failNext(phone.token, phone.burst);
      }
      return { userId, phones, devices };
    }),
  );

  const started: StartedRequest[] = await Promise.all(users.map(({ userId }) => startRequest(service, secureAuth, userId)));
  const tokens = users.flatMap(({ phones }) => phones.map((phone) => phone.token));
  await fcm.waitFor(
    () => tokens.every((token) => fcm.deliveredTo(token).some(isPrompt)),
    30_000,
    'every device prompted despite the burst',
  );
  for (const { phones } of users) {
    for (const phone of phones) {
      // Every scripted failure was met, then exactly one prompt got through.
      expect(fcm.messagesTo(phone.token).map((message) => message.status).filter((status) => status !== 200)).toHaveLength(phone.burst.length);
      expect(fcm.deliveredTo(phone.token).filter(isPrompt)).toHaveLength(1);
    }
  }

  // Decide on the first device of each user: the other device gets one closing message.
  const decisions = await Promise.all(
    users.map(async ({ devices }, i) => {
      const request = started[i]!;
      const view = await devices[0]!.waitForRequest((candidate) => candidate.request_id === request.requestId);
      const action = i % 2 === 0 ? ('approve' as const) : ('deny' as const);
      expect((await devices[0]!.decide(view, action)).status).toBe(202);
      return { request, action };
    }),
  );
  for (const [i, { request, action }] of decisions.entries()) {
    const finished = await adminRequestWhen(service, request.requestId, isFinished, 20_000);
    expect(finished).toMatchObject({ status: 'completed', outcome: { result: action === 'approve' ? 'accepted' : 'rejected' } });
    const sentPrompts = finished.deliveries.filter((delivery) => delivery.result === 'sent' && delivery.message === 'prompt');
    expect(sentPrompts.map((delivery) => delivery.device_id).sort()).toEqual(users[i]!.devices.map((device) => device.deviceId).sort());
    expect(decisionCalls(secureAuth, request.login_id).map((call) => call.status)).toEqual([200]);
  }
  await fcm.waitFor(() => users.every(({ phones }) => fcm.deliveredTo(phones[1]!.token).some(isClosing)), 10_000, 'closing messages');
  await sleep(300);
  for (const { phones } of users) {
    expect(fcm.deliveredTo(phones[0]!.token).filter(isClosing)).toHaveLength(0);
    expect(fcm.deliveredTo(phones[1]!.token).filter(isClosing)).toHaveLength(1);
    for (const phone of phones) expect(fcm.deliveredTo(phone.token).filter(isPrompt)).toHaveLength(1);
  }
}, 60_000);
