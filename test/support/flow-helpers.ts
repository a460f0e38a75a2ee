/**
 * Helpers for tests that drive whole flows and then count what reached SecureAuth: enrolled devices,
 * waiting for a request's final state through the admin API, and the stand-in's decision calls.
 */
import { DeviceClient } from '../../dev/device-client.js';
import type { ApiSchemas } from '../../src/http/api-types.js';
import type { RecordedCall, SecureAuthStub } from './secureauth-stub.js';
import { eventually, type TestService } from './service.js';

type AdminClient = Pick<TestService, 'admin' | 'createUser'>;

type AdminRequestView = ApiSchemas['AdminRequest'];

export async function enrolledDevice(service: AdminClient, baseUrl: string, userId: string): Promise<DeviceClient> {
  const code = await service.createUser(userId);
  return DeviceClient.enroll(baseUrl, code, { name: `${userId}'s phone`, platform: 'android' });
}

/** The request as operators see it, once `done` holds for it (bounded polling). */
export async function adminRequestWhen(
  service: AdminClient,
  requestId: string,
  done: (view: AdminRequestView) => boolean,
  timeoutMs = 15_000,
): Promise<AdminRequestView> {
  return eventually(
    async () => {
      const response = await service.admin<AdminRequestView>('GET', `/requests/${requestId}`);
      return response.status === 200 && done(response.body) ? response.body : undefined;
    },
    timeoutMs,
    `request ${requestId} reaching the expected state`,
  );
}

export const isFinished = (view: AdminRequestView): boolean => view.status === 'completed' || view.status === 'failed';

/** Accept and reject calls the stand-in received for a login, whatever it answered. */
export function decisionCalls(secureAuth: SecureAuthStub, login: string): RecordedCall[] {
  return secureAuth.calls.filter((call) => call.login === login && call.kind !== 'get');
}

/** Accept and reject calls the stand-in carried out (answered 200) for a login. */
export function deliveredDecisions(secureAuth: SecureAuthStub, login: string): RecordedCall[] {
  return decisionCalls(secureAuth, login).filter((call) => call.status === 200);
}
