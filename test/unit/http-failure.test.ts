import type { AxiosResponse } from 'axios';
import { classifyResponse } from '../../src/adapters/secureauth/http-failure.js';

const response = (status: number, data: unknown, headers: Record<string, string> = {}): AxiosResponse =>
  ({ status, data, headers, statusText: '', config: {} }) as unknown as AxiosResponse;

const secureAuthError = (status: number, errorCode: string) => ({ status_code: status, error_code: errorCode, error: 'refused', details: {} });

describe('classifyResponse', () => {
  it('names a login SecureAuth already accepted or rejected (403 login_already_*), for completions', () => {
    expect(classifyResponse('accept', response(403, secureAuthError(403, 'login_already_accepted')))).toMatchObject({
      retryable: false,
      alreadyDecided: 'accepted',
      status: 403,
    });
    expect(classifyResponse('reject', response(403, secureAuthError(403, 'login_already_rejected'))).alreadyDecided).toBe('rejected');
  });

  it('does not read "already decided" into other refusals', () => {
    expect(classifyResponse('accept', response(403, secureAuthError(403, 'forbidden'))).alreadyDecided).toBeUndefined();
    expect(classifyResponse('accept', response(400, secureAuthError(400, 'login_already_accepted'))).alreadyDecided).toBeUndefined();
    expect(classifyResponse('accept', response(403, 'login_already_accepted')).alreadyDecided).toBeUndefined();
  });

  it('keeps 429 and 5xx retryable with their Retry-After', () => {
    expect(classifyResponse('accept', response(429, {}, { 'retry-after': '2' }))).toMatchObject({ retryable: true, retryAfterMs: 2000 });
    expect(classifyResponse('accept', response(503, {}))).toMatchObject({ retryable: true, retryAfterMs: undefined });
  });
});
