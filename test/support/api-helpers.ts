/**
 * Small helpers shared by the component tests: starting a request as SecureAuth would, enrolling
 * with a hand-made key, and checking that an error answer is the service's JSON error and nothing more.
 */
import type { JWK } from 'jose';
import { readJson, type ApiResponse } from '../../dev/device-client.js';
import type { RegisterLoginInput, SecureAuthStub } from './secureauth-stub.js';
import type { TestService } from './service.js';

export interface ErrorBody {
  error: string;
  error_description: string;
}

/**
 * The answer is `status` with `content-type: application/json` and a body of exactly
 * `{error, error_description}` (strings), with no stack trace or source path in it.
 */
export function expectJsonError(response: ApiResponse, status: number, error?: string): ErrorBody {
  expect({ status: response.status, body: response.body }).toEqual({ status, body: expect.anything() });
  expect(response.headers.get('content-type')).toMatch(/^application\/json\b/);
  const body = response.body as Record<string, unknown>;
  expect(typeof body).toBe('object');
  expect(Object.keys(body).sort()).toEqual(['error', 'error_description']);
  expect(typeof body.error).toBe('string');
  expect(typeof body.error_description).toBe('string');
  if (error !== undefined) expect(body.error).toBe(error);
  const text = JSON.stringify(body);
  expect(text).not.toMatch(/\bat .+:\d+:\d+/);
  expect(text).not.toMatch(/\/src\/|node_modules|\.ts\b/);
  return body as unknown as ErrorBody;
}

export interface StartedRequest {
  login_id: string;
  login_state: string;
  requestId: string;
}

/** The client a login is registered with at the SecureAuth stub; its `client_id` is also sent in the start call. */
export type RegisteredClient = Required<Pick<RegisterLoginInput, 'client_id'>> &
  Pick<RegisterLoginInput, 'client_name' | 'logo_uri' | 'scopes'>;

/** The point-of-sale terminal most tests start requests for. */
export const POS_TERMINAL: RegisteredClient = {
  client_id: 'pos-terminal',
  client_name: 'Corner Shop POS',
  logo_uri: 'https://shop.example/logo.png',
  scopes: [
    { name: 'openid', display_name: 'Sign you in' },
    { name: 'profile', display_name: 'Your profile', description: 'Name and picture' },
  ],
};

let loginCounter = 0;

/**
 * `/authentication/start` as SecureAuth calls it, with the login registered at the SecureAuth stub
 * (`client`: name, logo and scope descriptions; a POS terminal by default) unless `register` is false.
 * `extra` overrides start-call fields; a field set to undefined is left out of the call.
 */
export async function startRequest(
  service: Pick<TestService, 'asCall'>,
  secureAuth: SecureAuthStub,
  userIdentifier: string,
  options: { register?: boolean; client?: RegisteredClient; extra?: Record<string, unknown> } = {},
): Promise<StartedRequest> {
  const client = options.client ?? POS_TERMINAL;
  loginCounter += 1;
  const login_id = `login-${process.pid}-${loginCounter}`;
  const login_state = `state-${loginCounter}-${Math.random().toString(36).slice(2)}`;
  if (options.register !== false) secureAuth.registerLogin({ login_id, login_state, ...client });
  const response = await service.asCall<{ request_id: string }>('/authentication/start', {
    login_id,
    user_identifier: userIdentifier,
    state: login_state,
    client_id: client.client_id,
    requested_scopes: ['openid', 'profile'],
    binding_message: 'Pay 50 EUR',
    ...options.extra,
  });
  if (response.status !== 200) throw new Error(`start failed: ${response.status} ${JSON.stringify(response.body)}`);
  return { login_id, login_state, requestId: response.body.request_id };
}

/** `POST /device/v1/enrollments` with whatever key the test hands in (enrolment needs no DPoP). */
export async function enrollWithKey(
  baseUrl: string,
  activationCode: string,
  publicJwk: JWK | Record<string, unknown>,
): Promise<ApiResponse<{ device_id: string; user_id: string; device_token: string } & Partial<ErrorBody>>> {
  const response = await fetch(`${baseUrl}/device/v1/enrollments`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ activation_code: activationCode, public_jwk: publicJwk }),
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await readJson(response)) as { device_id: string; user_id: string; device_token: string } & Partial<ErrorBody>,
  };
}
