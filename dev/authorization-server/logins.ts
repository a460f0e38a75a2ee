/**
 * The development authorization server's own record of the logins it handed to the authentication
 * service: SecureAuth keys every System API call by `login_id` and checks `login_state`; here each
 * login also remembers the oidc-provider backchannel request it completes.
 */

export type LoginDecision = 'pending' | 'accepted' | 'rejected';

export interface Login {
  loginId: string;
  /** Sent as `state` to /authentication/start, expected back as `login_state`. */
  state: string;
  /** oidc-provider's BackchannelAuthenticationRequest id (the client's auth_req_id). */
  authReqId: string;
  accountId: string;
  clientId: string;
  requestedScopes: string[];
  bindingMessage: string | undefined;
  requestedAt: string;
  decision: LoginDecision;
}

/** Logins are kept for a bounded time: a development server that runs for days must not grow. */
export class Logins {
  private readonly byId = new Map<string, Login>();

  constructor(private readonly keepForMs = 60 * 60 * 1000) {}

  add(login: Login): void {
    this.forgetOld();
    this.byId.set(login.loginId, login);
  }

  get(loginId: string): Login | undefined {
    return this.byId.get(loginId);
  }

  private forgetOld(): void {
    const cutoff = Date.now() - this.keepForMs;
    for (const [id, login] of this.byId) {
      if (Date.parse(login.requestedAt) < cutoff) this.byId.delete(id);
    }
  }
}
