import { AxiosError, type AxiosResponse } from 'axios';
import { AuthorizationServerError } from '../../ports/authorization-server.js';

/** Reads `Retry-After` as delay-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function retryAfterMs(value: unknown, now = Date.now()): number | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Whether an HTTP failure may pass if tried again later: 429 and 5xx. */
export const isRetryableStatus = (status: number): boolean => status === 429 || status >= 500;

/** What went wrong below HTTP (axios's code, e.g. ECONNREFUSED or ECONNABORTED). */
export const transportErrorCode = (error: unknown): string => (error instanceof AxiosError ? (error.code ?? 'network error') : 'network error');

/**
 * What a failed System API exchange means for the caller: network trouble, 5xx and 429 may pass
 * (retry, honouring `Retry-After`); any other 4xx will not.
 */
export function classifyResponse(what: string, response: AxiosResponse): AuthorizationServerError {
  const status = response.status;
  const retryable = isRetryableStatus(status);
  const after = retryAfterMs(response.headers['retry-after']);
  const alreadyDecided = alreadyDecidedAs(status, response.data);
  return new AuthorizationServerError(`${what}: HTTP ${status}${describeBody(response.data)}`, retryable, {
    status,
    ...(after !== undefined ? { retryAfterMs: after } : {}),
    ...(alreadyDecided !== undefined ? { alreadyDecided } : {}),
  });
}

/**
 * SecureAuth's `Error` body names a login that was already decided with `error_code`
 * `login_already_accepted` / `login_already_rejected` (403: a forbidden transition).
 */
function alreadyDecidedAs(status: number, body: unknown): 'accepted' | 'rejected' | undefined {
  if (status !== 403 && status !== 409) return undefined;
  if (typeof body !== 'object' || body === null) return undefined;
  const code = (body as Record<string, unknown>).error_code;
  if (code === 'login_already_accepted') return 'accepted';
  if (code === 'login_already_rejected') return 'rejected';
  return undefined;
}

export function classifyTransportError(what: string, error: unknown): AuthorizationServerError {
  return new AuthorizationServerError(`${what}: ${transportErrorCode(error)}`, true, { cause: error });
}

/** A short, secret-free hint from an error body (`error`/`error_description` fields only). */
function describeBody(body: unknown): string {
  if (typeof body !== 'object' || body === null) return '';
  const fields = body as Record<string, unknown>;
  const parts = [fields.error, fields.error_description, fields.error_code]
    .filter((part): part is string => typeof part === 'string' && part.length > 0)
    .map((part) => part.slice(0, 200));
  return parts.length > 0 ? ` (${parts.join(': ')})` : '';
}
