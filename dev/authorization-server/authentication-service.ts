/**
 * The development authorization server's calls to this project's service, as SecureAuth makes them:
 * `POST /user/verify` and `POST /authentication/start`, both with HTTP Basic.
 */

export interface AuthenticationServiceSettings {
  /** Where the service listens, e.g. `http://127.0.0.1:8080`. */
  url: string;
  username: string;
  password: string;
  timeoutMs?: number;
}

/** The body of `POST /authentication/start` as the development authorization server sends it. */
export interface StartAuthenticationBody {
  login_id: string;
  user_identifier: string;
  state: string;
  client_id: string;
  binding_message?: string;
  requested_scopes: string[];
}

export class AuthenticationServiceError extends Error {
  constructor(message: string, readonly status?: number) {
    super(message);
    this.name = 'AuthenticationServiceError';
  }
}

export class AuthenticationService {
  constructor(private readonly settings: AuthenticationServiceSettings) {}

  /** Whether the service can reach the user; throws when the service cannot answer. */
  async verifyUser(userIdentifier: string): Promise<boolean> {
    const body = await this.post('/user/verify', { user_identifier: userIdentifier });
    if (typeof body !== 'object' || body === null || typeof (body as { valid?: unknown }).valid !== 'boolean') {
      throw new AuthenticationServiceError('/user/verify answered without a boolean "valid"');
    }
    return (body as { valid: boolean }).valid;
  }

  async startAuthentication(body: StartAuthenticationBody): Promise<string> {
    const answer = await this.post('/authentication/start', body);
    const requestId = typeof answer === 'object' && answer !== null ? (answer as { request_id?: unknown }).request_id : undefined;
    if (typeof requestId !== 'string') throw new AuthenticationServiceError('/authentication/start answered without a request_id');
    return requestId;
  }

  private async post(path: string, body: unknown): Promise<unknown> {
    const { url, username, password, timeoutMs = 5000 } = this.settings;
    let response: Response;
    try {
      response = await fetch(`${url.replace(/\/+$/, '')}${path}`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`,
          'content-type': 'application/json',
          accept: 'application/json',
        },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw new AuthenticationServiceError(`${path}: the service cannot be reached (${error instanceof Error ? error.message : String(error)})`);
    }
    const text = await response.text();
    if (response.status !== 200) throw new AuthenticationServiceError(`${path} answered ${response.status}: ${text.slice(0, 300)}`, response.status);
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new AuthenticationServiceError(`${path} answered something that is not JSON`, response.status);
    }
  }
}
