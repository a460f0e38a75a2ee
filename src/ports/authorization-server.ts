import type { AuthenticationRequest } from '../domain/authentication-request.js';
import type { ConsentDetails } from '../domain/consent-view.js';
import type { BrasilAccountIdentification, OpenBankingConsent, OpenBankingKind } from '../domain/openbanking.js';

export interface Rejection {
  error: string;
  description: string;
  cause: string;
}

/** What an approved Open Banking consent is accepted with. */
export interface OpenBankingGrant {
  grantedScopes: string[];
  accountIds: string[];
  /** Brasil payments: the payer's account. */
  debtorAccount?: BrasilAccountIdentification;
}

/** A consent of the asked kind, or none (the authorization server answered 404). */
export type OpenBankingConsentLookup = { found: true; consent: OpenBankingConsent } | { found: false };

/**
 * The authorization server's side of the flow (SecureAuth's System API). Failures are
 * {@link AuthorizationServerError}s that say whether trying again can help.
 */
export interface AuthorizationServerClient {
  fetchConsentDetails(request: AuthenticationRequest): Promise<ConsentDetails>;
  accept(request: AuthenticationRequest, grantedScopes: string[]): Promise<void>;
  reject(request: AuthenticationRequest, rejection: Rejection): Promise<void>;
  /** Open Banking consent pages: reads the request's consent as `kind`. */
  fetchOpenBankingConsent(request: AuthenticationRequest, kind: OpenBankingKind): Promise<OpenBankingConsentLookup>;
  acceptOpenBankingConsent(request: AuthenticationRequest, kind: OpenBankingKind, grant: OpenBankingGrant): Promise<void>;
  rejectOpenBankingConsent(request: AuthenticationRequest, kind: OpenBankingKind, rejection: Rejection): Promise<void>;
}

export class AuthorizationServerError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly options: { status?: number; retryAfterMs?: number; cause?: unknown; alreadyDecided?: 'accepted' | 'rejected' } = {},
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

  /**
   * Set when the authorization server refused because the login was already accepted or rejected:
   * for a completion of the same outcome this means an earlier attempt got through (see complete-request).
   */
  get alreadyDecided(): 'accepted' | 'rejected' | undefined {
    return this.options.alreadyDecided;
  }
}
