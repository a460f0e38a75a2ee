import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { createHash, randomUUID } from 'node:crypto';

/**
 * A reference authenticator device: what the mobile app does, over the public device API, with real
 * keys. Used by the tests, the demo and anyone checking an app implementation against the service.
 */

export type DeviceAlgorithm = 'ES256' | 'EdDSA';

export interface RequestView {
  request_id: string;
  client: { id?: string; name?: string; logo_uri?: string };
  binding_message?: string;
  scopes: Array<{ name: string; display_name?: string; description?: string }>;
  authorization_details?: Array<Record<string, unknown>>;
  created_at: string;
  expires_at: string;
  consent_hash: string;
  /** Open Banking requests: the consent in plain terms and the accounts to choose from. */
  openbanking?: OpenBankingRequestView;
  [extension: string]: unknown;
}

/** The `openbanking` object of a request view (OpenAPI `OpenBankingView`). */
export interface OpenBankingRequestView {
  kind: 'uk_account_access' | 'uk_domestic_payment' | 'brasil_data_access' | 'brasil_payment';
  consent_id: string;
  permissions?: Array<{ code: string; description: string }>;
  access_expires_at?: string;
  transactions_from?: string;
  transactions_to?: string;
  payment?: {
    amount: string;
    currency: string;
    creditor: { name?: string; document?: string; pix_key?: string; account?: Record<string, string> };
    reference?: string;
    remittance_information?: string;
    execution_date?: string;
    debtor_account?: Record<string, string>;
    [field: string]: unknown;
  };
  authorise_by?: string;
  account_selection: 'multiple' | 'single' | 'fixed';
  accounts: Array<{ account_id: string; name: string; masked_number?: string; currency?: string }>;
}

export interface ApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

export interface DecisionOptions {
  grantedScopes?: string[];
  /** Open Banking: the accounts the user chose (`account_ids`). */
  accountIds?: string[];
  consentHash?: string;
  iat?: number;
  kid?: string;
  requestId?: string;
  /** Further claims (extensions such as account_ids or binding_choice). */
  claims?: Record<string, unknown>;
  /** Sign with another key (to test refusals). */
  signingKey?: CryptoKey;
}

export interface ProofOptions {
  iat?: number;
  jti?: string;
  htu?: string;
  htm?: string;
  ath?: string | null;
  jwk?: JWK;
  signingKey?: CryptoKey;
}

export async function readJson(response: Response): Promise<unknown> {
  const text = await response.text();
  if (text.length === 0) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export class DeviceClient {
  private constructor(
    readonly baseUrl: string,
    readonly deviceId: string,
    readonly userId: string,
    readonly deviceToken: string,
    readonly alg: DeviceAlgorithm,
    readonly privateKey: CryptoKey,
    readonly publicJwk: JWK,
  ) {}

  /** Generates a key pair and enrols with an activation code. */
  static async enroll(
    baseUrl: string,
    activationCode: string,
    options: { alg?: DeviceAlgorithm; name?: string; platform?: 'android' | 'ios' | 'web' | 'other'; pushToken?: string } = {},
  ): Promise<DeviceClient> {
    const alg = options.alg ?? 'ES256';
    const { privateKey, publicKey } = await generateKeyPair(alg, alg === 'EdDSA' ? { crv: 'Ed25519' } : {});
    const publicJwk = await exportJWK(publicKey);
    const response = await fetch(`${baseUrl}/device/v1/enrollments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        activation_code: activationCode,
        public_jwk: publicJwk,
        ...(options.name ? { name: options.name } : {}),
        ...(options.platform ? { platform: options.platform } : {}),
        ...(options.pushToken ? { push_token: options.pushToken } : {}),
      }),
    });
    const body = (await readJson(response)) as { device_id: string; user_id: string; device_token: string };
    if (response.status !== 201) throw new Error(`enrolment failed: ${response.status} ${JSON.stringify(body)}`);
    return new DeviceClient(baseUrl, body.device_id, body.user_id, body.device_token, alg, privateKey, publicJwk);
  }

  async thumbprint(): Promise<string> {
    return calculateJwkThumbprint(this.publicJwk, 'sha256');
  }

  /** A DPoP proof (RFC 9449) for one call. */
  async proof(method: string, path: string, options: ProofOptions = {}): Promise<string> {
    const ath = options.ath === null ? undefined : (options.ath ?? createHash('sha256').update(this.deviceToken).digest('base64url'));
    return new SignJWT({
      htm: options.htm ?? method,
      htu: options.htu ?? `${this.baseUrl}${path}`,
      jti: options.jti ?? randomUUID(),
      ...(ath !== undefined ? { ath } : {}),
    })
      .setProtectedHeader({ typ: 'dpop+jwt', alg: this.alg, jwk: options.jwk ?? this.publicJwk })
      .setIssuedAt(options.iat ?? Math.floor(Date.now() / 1000))
      .sign(options.signingKey ?? this.privateKey);
  }

  /** One device API call with a fresh proof (or the given one). */
  async call<T = unknown>(method: string, path: string, body?: unknown, options: { proof?: string; token?: string } = {}): Promise<ApiResponse<T>> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `DPoP ${options.token ?? this.deviceToken}`,
        dpop: options.proof ?? (await this.proof(method, path)),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: response.status, headers: response.headers, body: (await readJson(response)) as T };
  }

  async listRequests(): Promise<RequestView[]> {
    const response = await this.call<{ requests: RequestView[] }>('GET', '/device/v1/requests');
    if (response.status !== 200) throw new Error(`listing requests failed: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body.requests;
  }

  /** Polls the device API until a request matching the predicate is listed (bounded). */
  async waitForRequest(predicate: (view: RequestView) => boolean = () => true, timeoutMs = 10_000): Promise<RequestView> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = (await this.listRequests()).find(predicate);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no matching request appeared within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** The decision JWS the app signs. */
  async decisionToken(view: RequestView, action: 'approve' | 'deny', options: DecisionOptions = {}): Promise<string> {
    return new SignJWT({
      request_id: options.requestId ?? view.request_id,
      action,
      consent_hash: options.consentHash ?? view.consent_hash,
      ...(options.grantedScopes !== undefined ? { granted_scopes: options.grantedScopes } : {}),
      ...(options.accountIds !== undefined ? { account_ids: options.accountIds } : {}),
      ...options.claims,
    })
      .setProtectedHeader({ alg: this.alg, typ: 'ciba-decision+jwt', kid: options.kid ?? this.deviceId })
      .setIssuedAt(options.iat ?? Math.floor(Date.now() / 1000))
      .setJti(randomUUID())
      .sign(options.signingKey ?? this.privateKey);
  }

  async decide(view: RequestView, action: 'approve' | 'deny', options: DecisionOptions = {}): Promise<ApiResponse> {
    const decision = await this.decisionToken(view, action, options);
    return this.call('POST', `/device/v1/requests/${encodeURIComponent(view.request_id)}/decision`, { decision });
  }
}
