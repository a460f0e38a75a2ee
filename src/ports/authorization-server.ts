import type { AuthenticationRequest } from '../domain/authentication-request.js';
import type { ConsentDetails } from '../domain/consent-view.js';

export interface Rejection {
  error: string;
  description: string;
  cause: string;
}

/**
 * The authorization server's side of the flow (SecureAuth's System API). Failures are
 * {@link AuthorizationServerError}s that say whether trying again can help.
 */
export interface AuthorizationServerClient {
  fetchConsentDetails(request: AuthenticationRequest): Promise<ConsentDetails>;
  accept(request: AuthenticationRequest, grantedScopes: string[]): Promise<void>;
  reject(request: AuthenticationRequest, rejection: Rejection): Promise<void>;
}

export class AuthorizationServerError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly options: { status?: number; retryAfterMs?: number; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'AuthorizationServerError';
  }

  get status(): number | undefined {
    return this.options.status;
  }

  /** How long the server asked us to wait (`Retry-After`), if it did. */
  get retryAfterMs(): number | undefined {
    return this.options.retryAfterMs;
  }
}
