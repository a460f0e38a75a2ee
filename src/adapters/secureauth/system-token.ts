import type { AxiosInstance } from 'axios';
import type { Logger } from 'pino';
import { AuthorizationServerError } from '../../ports/authorization-server.js';
import { classifyResponse, classifyTransportError } from './http-failure.js';

export interface SystemTokenSettings {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  scopes: string[];
}

/** Refresh this long before the token's stated expiry, so a call never leaves with a token about to die. */
const EXPIRY_MARGIN_MS = 30_000;

/**
 * A system-workspace access token from the client-credentials grant (client_secret_basic), cached
 * until shortly before it expires. Concurrent callers share one token request.
 */
export class SystemTokenProvider {
  private cached: { token: string; expiresAt: number } | undefined;
  private inFlight: Promise<string> | undefined;
  private refreshes = 0;

  constructor(
    private readonly http: AxiosInstance,
    private readonly settings: SystemTokenSettings,
    private readonly logger: Logger,
    private readonly onRefresh: () => void = () => {},
  ) {}

  async get(): Promise<string> {
    if (this.cached !== undefined && this.cached.expiresAt > Date.now()) return this.cached.token;
    this.inFlight ??= this.request().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  /** Forgets the cached token when the API refused it (revoked, or the clock was off). */
  invalidate(token: string): void {
    if (this.cached?.token === token) this.cached = undefined;
  }

  get refreshCount(): number {
    return this.refreshes;
  }

  private async request(): Promise<string> {
    const { tokenUrl, clientId, clientSecret, scopes } = this.settings;
    // RFC 6749 §2.3.1: id and secret are form-urlencoded before they are joined and base64-encoded.
    const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64');
    const body = new URLSearchParams({ grant_type: 'client_credentials', scope: scopes.join(' ') });
    let response;
    try {
      response = await this.http.post(tokenUrl, body.toString(), {
        headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      });
    } catch (error) {
      throw classifyTransportError('system token request failed', error);
    }
    if (response.status !== 200) throw classifyResponse('system token request refused', response);
    const { access_token: token, expires_in: expiresIn } = (response.data ?? {}) as { access_token?: unknown; expires_in?: unknown };
    if (typeof token !== 'string' || token.length === 0) {
      throw new AuthorizationServerError('system token response has no access_token', true);
    }
    const lifetimeMs = (typeof expiresIn === 'number' && expiresIn > 0 ? expiresIn : 300) * 1000;
    this.cached = { token, expiresAt: Date.now() + Math.max(lifetimeMs - EXPIRY_MARGIN_MS, lifetimeMs / 2) };
    this.refreshes += 1;
    this.onRefresh();
    this.logger.debug({ expiresInSeconds: lifetimeMs / 1000 }, 'system token obtained');
    return token;
  }
}
