import { startSecureAuthStub, type SecureAuthStub } from '../support/secureauth-stub.js';
import { validateAgainstDefinition } from '../support/reference-schemas.js';

async function json(response: Response): Promise<Record<string, unknown>> {
  return (await response.json()) as Record<string, unknown>;
}

function basic(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

describe('SecureAuth stub', () => {
  let stub: SecureAuthStub;

  beforeAll(async () => {
    stub = await startSecureAuthStub();
  });
  afterAll(async () => {
    await stub.close();
  });

  async function getToken(secret = stub.clientSecret): Promise<Response> {
    return fetch(stub.tokenUrl, {
      method: 'POST',
      headers: { authorization: basic(stub.clientId, secret), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'manage_scope_grants' }),
    });
  }

  async function accessToken(): Promise<string> {
    const body = await json(await getToken());
    return String(body['access_token']);
  }

  function post(login: string, action: 'accept' | 'reject', token: string, body: unknown): Promise<Response> {
    return fetch(`${stub.systemApiUrl}/scope-grants/${login}/${action}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  }

  it('exposes the SecureAuth URLs for tenant acme, workspace ciba', () => {
    expect(stub.issuerUrl).toBe(`${stub.origin}/acme/ciba`);
    expect(stub.tokenUrl).toBe(`${stub.origin}/acme/system/oauth2/token`);
    expect(stub.systemApiUrl).toBe(`${stub.origin}/api/system/acme`);
  });

  it('issues client-credentials tokens to the right client only', async () => {
    const before = stub.tokensIssued;
    const wrong = await getToken('nope');
    expect(wrong.status).toBe(401);
    expect(await json(wrong)).toMatchObject({ error: 'invalid_client' });

    const first = await json(await getToken());
    const second = await json(await getToken());
    expect(first).toMatchObject({ token_type: 'bearer', expires_in: 3600, scope: 'manage_scope_grants' });
    expect(first['access_token']).not.toEqual(second['access_token']);
    expect(stub.tokensIssued).toBe(before + 2);
  });

  it('serves a registered login and checks bearer and login_state', async () => {
    stub.registerLogin({
      login_id: 'login-get',
      login_state: 'state-get',
      client_name: 'Bank app',
      scopes: [{ name: 'openid', display_name: 'OpenID' }],
      authorization_details: [{ type: 'payment_initiation', instructedAmount: { amount: '10.00', currency: 'EUR' } }],
      subject: 'alice',
    });
    const url = `${stub.systemApiUrl}/scope-grants/login-get?login_state=state-get`;

    const anonymous = await fetch(url);
    expect(anonymous.status).toBe(401);
    expect(validateAgainstDefinition('system-scope-grants', 'Error', await anonymous.json()).valid).toBe(true);

    const token = await accessToken();
    const ok = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
    const session = await json(ok);
    expect(validateAgainstDefinition('system-scope-grants', 'ScopeGrantSessionResponse', session)).toEqual({
      valid: true,
      errors: [],
    });
    expect(session).toMatchObject({
      id: 'login-get',
      subject: 'alice',
      tenant_id: 'acme',
      server_id: 'ciba',
      client_info: { client_name: 'Bank app' },
      requested_scopes: [expect.objectContaining({ name: 'openid', display_name: 'OpenID' })],
    });

    const badState = await fetch(url.replace('state-get', 'forged'), { headers: { authorization: `Bearer ${token}` } });
    expect(badState.status).toBe(403);
    const unknown = await fetch(`${stub.systemApiUrl}/scope-grants/nobody?login_state=x`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(unknown.status).toBe(404);
  });

  it('accepts a valid decision once and flags invalid bodies', async () => {
    stub.registerLogin({ login_id: 'login-a', login_state: 'state-a' });
    stub.registerLogin({ login_id: 'login-r', login_state: 'state-r' });
    const token = await accessToken();

    const accept = await post('login-a', 'accept', token, {
      id: 'login-a',
      login_state: 'state-a',
      granted_scopes: ['openid'],
    });
    expect(accept.status).toBe(200);
    expect(await json(accept)).toHaveProperty('redirect_to');
    expect(stub.decisionOf('login-a')).toBe('accepted');
    expect(stub.accepted('login-a')).toEqual([{ id: 'login-a', login_state: 'state-a', granted_scopes: ['openid'] }]);

    const again = await post('login-a', 'accept', token, { id: 'login-a', login_state: 'state-a' });
    expect(again.status).toBe(403);
    expect(stub.accepted('login-a')).toHaveLength(2);

    const stringStatus = await post('login-r', 'reject', token, {
      id: 'login-r',
      login_state: 'state-r',
      error: 'access_denied',
      status_code: '403',
    });
    expect(stringStatus.status).toBe(400);
    const unknownProperty = await post('login-r', 'reject', token, {
      id: 'login-r',
      login_state: 'state-r',
      reason: 'user said no',
    });
    expect(unknownProperty.status).toBe(400);

    const rejectCalls = stub.calls.filter((call) => call.kind === 'reject' && call.login === 'login-r');
    expect(rejectCalls.map((call) => call.status)).toEqual([400, 400]);
    expect(rejectCalls[0]?.validationErrors.join('\n')).toMatch(/status_code.*integer/);
    expect(rejectCalls[1]?.validationErrors.join('\n')).toMatch(/additional properties.*reason/);
    expect(stub.decisionOf('login-r')).toBe('pending');
    expect(stub.rejected('login-r')).toHaveLength(2);

    // Problems are recorded even when a scripted fault answers, and the content type is checked.
    stub.failNext('reject', [{ status: 502 }]);
    expect((await post('login-r', 'reject', token, { id: 'other', login_state: 'state-r' })).status).toBe(502);
    expect(stub.calls.at(-1)?.validationErrors.join('\n')).toMatch(/does not match the login in the path/);
    const asText = await fetch(`${stub.systemApiUrl}/scope-grants/login-r/reject`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' },
      body: JSON.stringify({ id: 'login-r', login_state: 'state-r' }),
    });
    expect(asText.status).toBe(415);
    expect(stub.decisionOf('login-r')).toBe('pending');
    expect(stub.stubErrors).toEqual([]);
  });

  it('replays scripted faults, goes down, and revokes tokens', async () => {
    stub.registerLogin({ login_id: 'login-f', login_state: 'state-f' });
    const token = await accessToken();
    const get = (bearer: string): Promise<Response> =>
      fetch(`${stub.systemApiUrl}/scope-grants/login-f?login_state=state-f`, {
        headers: { authorization: `Bearer ${bearer}` },
      });

    stub.failNext('get', [{ status: 429, headers: { 'retry-after': '1' }, body: { error: 'slow down' } }]);
    const limited = await get(token);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    expect((await get(token)).status).toBe(200);

    stub.setDown(true);
    expect((await get(token)).status).toBe(503);
    expect((await getToken()).status).toBe(503);
    stub.setDown(false);

    stub.revokeTokens();
    expect((await get(token)).status).toBe(401);
    expect((await get(await accessToken())).status).toBe(200);

    await stub.waitFor((calls) => calls.filter((call) => call.login === 'login-f').length >= 5);
    await expect(stub.waitFor(() => false, 50)).rejects.toThrow(/within 50 ms/);
  });

  it('refuses fixtures that break the reference contract', () => {
    expect(() =>
      stub.registerLogin({ login_id: 'bad', login_state: 's', extra: { requested_at: 'yesterday' } }),
    ).toThrow(/requested_at/);
  });
});

describe('reference schemas', () => {
  it('reports unknown properties only when asked', () => {
    const body = { id: 'l', login_state: 's', extra_field: true };
    expect(validateAgainstDefinition('system-scope-grants', 'AcceptScopeGrant', body).valid).toBe(true);
    expect(
      validateAgainstDefinition('system-scope-grants', 'AcceptScopeGrant', body, { strictProperties: true }).errors,
    ).toEqual(['(root) must NOT have additional properties: "extra_field"']);
  });

  it('handles allOf definitions and rejects unknown definition names', () => {
    const consent = { ConsentId: 'c1', Status: 'AwaitingAuthorisation' };
    const result = validateAgainstDefinition('openbanking-uk-consent-page', 'DomesticPaymentConsent', consent, {
      strictProperties: true,
    });
    expect(result.errors.join('\n')).not.toMatch(/ConsentId|"Status"/);
    expect(() => validateAgainstDefinition('system-scope-grants', 'Nope', {})).toThrow(/known definitions/);
  });
});
