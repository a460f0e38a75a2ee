import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import type { Logger } from 'pino';
import type { SecureAuthConfig } from '../../config/config.js';
import type { AuthenticationRequest, ScopeView } from '../../domain/authentication-request.js';
import type { ConsentDetails } from '../../domain/consent-view.js';
import type { OpenBankingKind } from '../../domain/openbanking.js';
import {
  AuthorizationServerError,
  type AuthorizationServerClient,
  type OpenBankingConsentLookup,
  type OpenBankingGrant,
  type Rejection,
} from '../../ports/authorization-server.js';
import { classifyResponse, classifyTransportError } from './http-failure.js';
import { rejectionBody } from './rejection-body.js';
import { consentPages } from './openbanking/consent-pages.js';
import { SystemTokenProvider } from './system-token.js';

/** The parts of SecureAuth's `ScopeGrantSessionResponse` the device view uses. */
interface ScopeGrantSession {
  client_id?: string;
  client_info?: { client_name?: string; logo_uri?: string };
  requested_scopes?: Array<{ name?: string; display_name?: string; description?: string }>;
  authorization_details?: Array<Record<string, unknown>>;
}

/**
 * SecureAuth's System API for regular CIBA requests: read the scope grant request, then accept or
 * reject it (`{origin}/api/system/{tenant}/scope-grants/{login_id}`).
 */
export class SecureAuthClient implements AuthorizationServerClient {
  private readonly http: AxiosInstance;
  readonly tokens: SystemTokenProvider;
  /** Base of the Open Banking consent pages: the issuer URL unless a vanity domain moves them. */
  private readonly openBankingUrl: string;

  constructor(
    private readonly config: SecureAuthConfig,
    private readonly logger: Logger,
    options: { onTokenRefresh?: () => void; extraScopes?: string[]; openBankingUrl?: string } = {},
  ) {
    this.openBankingUrl = options.openBankingUrl ?? config.issuerUrl;
    // Statuses are judged here, not by axios, so every answer is classified in one place.
    this.http = axios.create({ timeout: config.timeoutMs, validateStatus: () => true, maxRedirects: 0 });
    this.tokens = new SystemTokenProvider(
      this.http,
      {
        tokenUrl: config.tokenUrl,
        clientId: config.clientId,
        clientSecret: config.clientSecret,
        scopes: ['manage_scope_grants', ...(options.extraScopes ?? [])],
      },
      logger,
      options.onTokenRefresh,
    );
  }

  async fetchConsentDetails(request: AuthenticationRequest): Promise<ConsentDetails> {
    const response = await this.call('GET', this.scopeGrantUrl(request.loginId, `?login_state=${encodeURIComponent(request.loginState)}`));
    if (response.status !== 200) throw classifyResponse('reading the scope grant request failed', response);
    return toConsentDetails((response.data ?? {}) as ScopeGrantSession);
  }

  async accept(request: AuthenticationRequest, grantedScopes: string[]): Promise<void> {
    const response = await this.call('POST', this.scopeGrantUrl(request.loginId, '/accept'), {
      id: request.loginId,
      login_state: request.loginState,
      granted_scopes: grantedScopes,
    });
    if (response.status < 200 || response.status >= 300) throw classifyResponse('accepting the scope grant failed', response);
  }

  async reject(request: AuthenticationRequest, rejection: Rejection): Promise<void> {
    const response = await this.call('POST', this.scopeGrantUrl(request.loginId, '/reject'), rejectionBody(request, rejection));
    if (response.status < 200 || response.status >= 300) throw classifyResponse('rejecting the scope grant failed', response);
  }

  /**
   * Open Banking consent pages (`{base}/open-banking/…`, `{base}/open-banking-brasil/…`, base = the
   * issuer URL unless overridden): one unit per kind knows the path, the answer and the bodies.
   */
  async fetchOpenBankingConsent(request: AuthenticationRequest, kind: OpenBankingKind): Promise<OpenBankingConsentLookup> {
    const page = consentPages[kind];
    const response = await this.call('GET', this.consentPageUrl(kind, request.loginId, `?login_state=${encodeURIComponent(request.loginState)}`));
    if (response.status === 404) return { found: false };
    if (response.status !== 200) throw classifyResponse(`reading the ${page.what} failed`, response);
    const consent = page.toConsent(response.data);
    return consent === undefined ? { found: false } : { found: true, consent };
  }

  async acceptOpenBankingConsent(request: AuthenticationRequest, kind: OpenBankingKind, grant: OpenBankingGrant): Promise<void> {
    const page = consentPages[kind];
    const response = await this.call('POST', this.consentPageUrl(kind, request.loginId, '/accept'), page.acceptBody(request, grant));
    if (response.status < 200 || response.status >= 300) throw classifyResponse(`accepting the ${page.what} failed`, response);
  }

  async rejectOpenBankingConsent(request: AuthenticationRequest, kind: OpenBankingKind, rejection: Rejection): Promise<void> {
    const page = consentPages[kind];
    const response = await this.call('POST', this.consentPageUrl(kind, request.loginId, '/reject'), page.rejectBody(request, rejection));
    if (response.status < 200 || response.status >= 300) throw classifyResponse(`rejecting the ${page.what} failed`, response);
  }

  private consentPageUrl(kind: OpenBankingKind, loginId: string, suffix: string): string {
    return `${this.openBankingUrl}${consentPages[kind].path}/${encodeURIComponent(loginId)}${suffix}`;
  }

  private scopeGrantUrl(loginId: string, suffix: string): string {
    return `${this.config.systemApiUrl}/scope-grants/${encodeURIComponent(loginId)}${suffix}`;
  }

  /** One System API exchange; a 401 means the cached token went stale, so it is replaced once. */
  protected async call(method: 'GET' | 'POST', url: string, body?: object): Promise<AxiosResponse> {
    let token = await this.tokens.get();
    let response = await this.send(method, url, token, body);
    if (response.status === 401) {
      this.tokens.invalidate(token);
      token = await this.tokens.get();
      response = await this.send(method, url, token, body);
    }
    return response;
  }

  private async send(method: 'GET' | 'POST', url: string, token: string, body?: object): Promise<AxiosResponse> {
    try {
      return await this.http.request({
        method,
        url,
        headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { data: body } : {}),
      });
    } catch (error) {
      throw classifyTransportError(`${method} ${new URL(url).pathname} failed`, error);
    }
  }
}

function toConsentDetails(session: ScopeGrantSession): ConsentDetails {
  const scopes: ScopeView[] = (session.requested_scopes ?? [])
    .filter((scope): scope is typeof scope & { name: string } => typeof scope.name === 'string' && scope.name.length > 0)
    .map((scope) => ({
      name: scope.name,
      ...(scope.display_name ? { display_name: scope.display_name } : {}),
      ...(scope.description ? { description: scope.description } : {}),
    }));
  const client = {
    ...(session.client_id ? { id: session.client_id } : {}),
    ...(session.client_info?.client_name ? { name: session.client_info.client_name } : {}),
    ...(session.client_info?.logo_uri ? { logo_uri: session.client_info.logo_uri } : {}),
  };
  return {
    client,
    scopes,
    ...(session.authorization_details && session.authorization_details.length > 0
      ? { authorizationDetails: session.authorization_details }
      : {}),
  };
}

/** Stands in when SecureAuth is not configured: every call fails for good, and says why. */
export class UnconfiguredAuthorizationServer implements AuthorizationServerClient {
  private fail(): never {
    throw new AuthorizationServerError('SecureAuth is not configured (SECUREAUTH_ISSUER_URL, SECUREAUTH_CLIENT_ID, SECUREAUTH_CLIENT_SECRET)', false);
  }
  async fetchConsentDetails(): Promise<ConsentDetails> {
    return this.fail();
  }
  async accept(): Promise<void> {
    this.fail();
  }
  async reject(): Promise<void> {
    this.fail();
  }
  async fetchOpenBankingConsent(): Promise<OpenBankingConsentLookup> {
    return this.fail();
  }
  async acceptOpenBankingConsent(): Promise<void> {
    this.fail();
  }
  async rejectOpenBankingConsent(): Promise<void> {
    this.fail();
  }
}
