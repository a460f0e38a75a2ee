/**
 * Open Banking requests end to end: a start naming a consent, the consent read from a local stand-in
 * of SecureAuth's consent-page APIs (which answers and checks bodies by the reference schemas), the
 * user's accounts, a device choosing accounts and signing, and the accept/reject sent to the consent
 * page of the kind. Every kind, on the embedded store and on a private Redis.
 */
import canonicalize from 'canonicalize';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { compactVerify, decodeProtectedHeader, importJWK, type JWK } from 'jose';
import { DeviceClient, type RequestView } from '../../dev/device-client.js';
import { startOpenBankingStub, exampleConsent, type ConsentKind, type OpenBankingStub } from '../support/openbanking-stub.js';
import { startRedisServer, type RedisServerHandle } from '../support/redis-server.js';
import { startSmtpServer } from '../support/smtp-server.js';
import { eventually, sleep, startService, type StoreKind, type TestService } from '../support/service.js';

let redis: RedisServerHandle;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis.stop();
});

type Profile = 'uk' | 'brasil';

interface AccountInput {
  account_id: string;
  name: string;
  masked_number?: string;
  currency?: string;
  brasil?: { account_type: string; ispb: string; issuer?: string; number: string };
}

const accountsOf: Record<Profile, AccountInput[]> = {
  uk: [
    { account_id: 'uk-current', name: 'Current account', masked_number: '•••• 4821', currency: 'GBP' },
    { account_id: 'uk-savings', name: 'Savings', masked_number: '•••• 9930', currency: 'GBP' },
    { account_id: 'uk-euro', name: 'Euro account', masked_number: '•••• 1177', currency: 'EUR' },
  ],
  brasil: [
    { account_id: 'br-corrente', name: 'Conta corrente', masked_number: '•••• 5678', currency: 'BRL', brasil: { account_type: 'CACC', ispb: '87654321', issuer: '0001', number: '12345678' } },
    { account_id: 'br-poupanca', name: 'Poupança', masked_number: '•••• 4321', currency: 'BRL', brasil: { account_type: 'SVGS', ispb: '87654321', issuer: '0001', number: '87654321' } },
    { account_id: 'br-cartao', name: 'Cartão', masked_number: '•••• 0042', currency: 'BRL' },
  ],
};

const visible = (account: AccountInput) => ({
  account_id: account.account_id,
  name: account.name,
  ...(account.masked_number !== undefined ? { masked_number: account.masked_number } : {}),
  ...(account.currency !== undefined ? { currency: account.currency } : {}),
});

interface KindCase {
  kind: ConsentKind;
  profile: Profile;
  consentId: (n: number) => string;
  /** The start call's fields naming the consent and its scopes. */
  start: (consentId: string) => Record<string, unknown>;
  /** The scopes SecureAuth lists in the consent (`requested_scopes`). */
  requestedScopes: (consentId: string) => Array<{ name: string; requested_name?: string; display_name?: string }>;
  grantedScopes: (consentId: string) => string[];
  offered: string[];
  choose: string[];
  /** What the device shows of the consent (a part of `openbanking`). */
  terms: Record<string, unknown>;
  /** A change at the authorization server the user must see before approving. */
  change: (consent: Record<string, unknown>) => void;
  changed: Record<string, unknown>;
  /** What an accept carries besides login_state, granted_scopes and account_ids. */
  acceptExtra: Record<string, unknown>;
  rejectExtra: Record<string, unknown>;
}

const ukScopes = (name: string) => (consentId: string) => ({ scope: `openid ${name}`, openbanking_intent_id: consentId });
const brasilScopes = (name: string) => (consentId: string) => ({ scope: `openid ${name} consent:${consentId}` });

const kindCases: KindCase[] = [
  {
    kind: 'uk_account_access',
    profile: 'uk',
    consentId: (n) => `aac-${n}-${Date.now()}`,
    start: ukScopes('accounts'),
    requestedScopes: () => [{ name: 'openid' }, { name: 'accounts', display_name: 'Read your accounts' }],
    grantedScopes: () => ['openid', 'accounts'],
    offered: ['uk-current', 'uk-savings', 'uk-euro'],
    choose: ['uk-current', 'uk-euro'],
    terms: {
      permissions: [
        { code: 'ReadAccountsBasic', description: 'Your account names, types and currencies' },
        { code: 'ReadBalances', description: 'Your account balances' },
        { code: 'ReadTransactionsDetail', description: 'Your transactions, with payee details' },
      ],
      access_expires_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      transactions_from: expect.any(String),
      transactions_to: expect.any(String),
    },
    change: (consent) => {
      (consent['Permissions'] as string[]).push('ReadPAN');
    },
    changed: { permissions: expect.arrayContaining([{ code: 'ReadPAN', description: 'Your full card numbers' }]) },
    acceptExtra: {},
    rejectExtra: {},
  },
  {
    kind: 'uk_domestic_payment',
    profile: 'uk',
    consentId: (n) => `pdc-${n}-${Date.now()}`,
    start: ukScopes('payments'),
    requestedScopes: () => [{ name: 'openid' }, { name: 'payments', display_name: 'Make payments' }],
    grantedScopes: () => ['openid', 'payments'],
    offered: ['uk-current', 'uk-savings'],
    choose: ['uk-savings'],
    terms: {
      payment: {
        amount: '165.88',
        currency: 'GBP',
        creditor: { name: 'ACME Inc', account: { name: 'ACME Inc', identification: '08080021325698', scheme: 'UK.OBIE.SortCodeAccountNumber' } },
        reference: 'FRESCO-101',
        remittance_information: 'Internal ops code 5120101',
      },
      authorise_by: expect.any(String),
    },
    change: (consent) => {
      ((consent['Initiation'] as Record<string, Record<string, string>>)['InstructedAmount'] as Record<string, string>)['Amount'] = '1165.88';
    },
    changed: { payment: expect.objectContaining({ amount: '1165.88', currency: 'GBP' }) },
    acceptExtra: {},
    rejectExtra: {},
  },
  {
    kind: 'brasil_data_access',
    profile: 'brasil',
    consentId: (n) => `urn:bancoex:C1DD33123-${n}-${Date.now()}`,
    start: brasilScopes('accounts'),
    requestedScopes: (consentId) => [{ name: 'openid' }, { name: 'accounts' }, { name: 'consent', requested_name: `consent:${consentId}` }],
    grantedScopes: (consentId) => ['openid', 'accounts', `consent:${consentId}`],
    offered: ['br-corrente', 'br-poupanca', 'br-cartao'],
    choose: ['br-cartao'],
    terms: {
      permissions: [
        { code: 'ACCOUNTS_READ', description: 'Your accounts' },
        { code: 'ACCOUNTS_BALANCES_READ', description: 'Your account balances' },
        { code: 'RESOURCES_READ', description: 'Which of your products and accounts are shared' },
      ],
      access_expires_at: expect.any(String),
      transactions_from: expect.any(String),
      transactions_to: expect.any(String),
    },
    change: (consent) => {
      (consent['permissions'] as string[]).push('CREDIT_CARDS_ACCOUNTS_READ');
    },
    changed: { permissions: expect.arrayContaining([{ code: 'CREDIT_CARDS_ACCOUNTS_READ', description: 'Your credit card accounts' }]) },
    acceptExtra: {},
    rejectExtra: { rejection_reason: { code: 'CUSTOMER_MANUALLY_REJECTED', details: 'the user denied the request' } },
  },
  {
    kind: 'brasil_payment',
    profile: 'brasil',
    consentId: (n) => `urn:bancoex:P9CC12-${n}-${Date.now()}`,
    start: brasilScopes('payments'),
    requestedScopes: (consentId) => [{ name: 'openid' }, { name: 'payments' }, { name: 'consent', requested_name: `consent:${consentId}` }],
    grantedScopes: (consentId) => ['openid', 'payments', `consent:${consentId}`],
    // The card account has no Brasil identification, so it cannot pay.
    offered: ['br-corrente', 'br-poupanca'],
    choose: ['br-poupanca'],
    terms: {
      payment: {
        amount: '1500.00',
        currency: 'BRL',
        creditor: {
          name: 'Marco Antonio de Brito',
          document: '58764789000137',
          pix_key: '12345678901',
          account: { identification: '1234567890', bank_code: '12345678', branch: '1774', account_type: 'CACC' },
        },
        execution_date: expect.stringMatching(/^\d{4}-\d\d-\d\d$/),
        payment_type: 'PIX',
        local_instrument: 'DICT',
      },
      authorise_by: expect.any(String),
    },
    change: (consent) => {
      (consent['payment'] as Record<string, string>)['amount'] = '15000.00';
    },
    changed: { payment: expect.objectContaining({ amount: '15000.00', currency: 'BRL' }) },
    acceptExtra: { debtor_account: { account_type: 'SVGS', ispb: '87654321', issuer: '0001', number: '87654321' } },
    rejectExtra: { rejection_reason: { code: 'REJEITADO_USUARIO', details: 'the user denied the request' } },
  },
];

/** Verifies the evidence as an outsider would: only jose, canonicalize and SHA-256. */
async function verifyEvidenceOffline(evidence: {
  decision_jws: string;
  public_jwk: JWK;
  consent_view: Record<string, unknown>;
  consent_hash: string;
}): Promise<Record<string, unknown>> {
  const { alg } = decodeProtectedHeader(evidence.decision_jws);
  const key = await importJWK(evidence.public_jwk, alg);
  const { payload } = await compactVerify(evidence.decision_jws, key);
  const claims = JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>;
  const recomputed = createHash('sha256').update(canonicalize(evidence.consent_view) ?? '').digest('base64url');
  expect(recomputed).toBe(evidence.consent_hash);
  expect(claims['consent_hash']).toBe(recomputed);
  return claims;
}

describe.each<StoreKind>(['memory', 'redis'])('Open Banking on the %s store', (store) => {
  let ob: OpenBankingStub;
  let service: TestService;
  let counter = 0;

  const startFor = async (profile: Profile, env: Record<string, string> = {}): Promise<TestService> =>
    startService({ store, redisUrl: redis.url, secureAuth: ob.secureAuth, env: { OPENBANKING_PROFILE: profile, ...env } });

  beforeEach(async () => {
    ob = await startOpenBankingStub();
  });
  afterEach(async () => {
    await service.stop();
    await ob.close();
    expect(ob.stubErrors).toEqual([]);
  });

  async function enrolledUser(userId: string, profile: Profile, accounts: AccountInput[] = accountsOf[profile]): Promise<DeviceClient> {
    const code = await service.createUser(userId);
    const saved = await service.admin('PUT', `/users/${userId}/accounts`, { accounts });
    expect(saved.status).toBe(200);
    return DeviceClient.enroll(service.url, code, { name: `${userId}'s phone`, platform: 'ios' });
  }

  /** Registers a consent at the stand-in and starts the request as SecureAuth would. */
  async function startWithConsent(
    userId: string,
    kindCase: KindCase,
    options: { consent?: (consent: Record<string, unknown>) => void; registerAs?: ConsentKind | null; start?: Record<string, unknown> } = {},
  ) {
    counter += 1;
    const consentId = kindCase.consentId(counter);
    const login = { login_id: `ob-login-${store}-${counter}`, login_state: `ob-state-${counter}-${Math.random()}` };
    const consent = exampleConsent(options.registerAs ?? kindCase.kind, consentId);
    options.consent?.(consent);
    ob.registerConsent({
      ...login,
      ...(options.registerAs === null ? {} : { kind: options.registerAs ?? kindCase.kind, consent }),
      client_id: 'budget-buddy',
      client_name: 'Budget Buddy',
      requested_scopes: kindCase.requestedScopes(consentId),
    });
    const response = await service.asCall<{ request_id: string }>('/authentication/start', {
      login_id: login.login_id,
      user_identifier: userId,
      state: login.login_state,
      client_id: 'budget-buddy',
      ...(options.start ?? kindCase.start(consentId)),
    });
    expect(response.status).toBe(200);
    return { ...login, consentId, requestId: response.body.request_id };
  }

  const decisionCalls = (login: string) => ob.decisions(login);
  const problems = () => ob.calls.flatMap((call) => call.validationErrors);

  describe.each(kindCases)('$kind', (kindCase) => {
    beforeEach(async () => {
      service = await startFor(kindCase.profile);
    });

    it('approve with chosen accounts → one accept with those account_ids', async () => {
      const device = await enrolledUser('alice', kindCase.profile);
      const { requestId, login_id, login_state, consentId } = await startWithConsent('alice', kindCase);
      const view = await device.waitForRequest((r) => r.request_id === requestId);

      expect(view.client).toEqual({ id: 'budget-buddy', name: 'Budget Buddy' });
      expect(view.openbanking).toEqual({
        kind: kindCase.kind,
        consent_id: consentId,
        ...kindCase.terms,
        account_selection: kindCase.kind.endsWith('payment') ? 'single' : 'multiple',
        accounts: accountsOf[kindCase.profile].filter((a) => kindCase.offered.includes(a.account_id)).map(visible),
      });
      expect(JSON.stringify(view)).not.toContain(login_state);
      // A Brasil account's full identification goes to SecureAuth, never to the device.
      expect(JSON.stringify(view.openbanking?.accounts)).not.toMatch(/ispb|87654321/);

      const decided = await device.decide(view, 'approve', { accountIds: kindCase.choose });
      expect(decided).toMatchObject({ status: 202, body: { request_id: requestId, status: 'approved' } });
      await ob.waitFor(() => ob.decisionOf(login_id) === 'accepted');
      expect(decisionCalls(login_id).map((call) => [call.kind, call.operation, call.status])).toEqual([[kindCase.kind, 'accept', 200]]);
      expect(ob.accepted(login_id)).toEqual([
        { login_state, granted_scopes: kindCase.grantedScopes(consentId), account_ids: kindCase.choose, ...kindCase.acceptExtra },
      ]);
      expect(problems()).toEqual([]);

      const admin = await eventually(async () => {
        const response = await service.admin<{ status: string; openbanking?: unknown; decision?: unknown }>('GET', `/requests/${requestId}`);
        return response.body.status === 'completed' ? response.body : undefined;
      });
      expect(admin).toMatchObject({ openbanking: { kind: kindCase.kind, consent_id: consentId }, decision: { account_ids: kindCase.choose } });
    });

    it('deny → one reject through the consent page of the kind', async () => {
      const device = await enrolledUser('bob', kindCase.profile);
      const { requestId, login_id, login_state } = await startWithConsent('bob', kindCase);
      const view = await device.waitForRequest((r) => r.request_id === requestId);
      expect((await device.decide(view, 'deny')).status).toBe(202);
      await ob.waitFor(() => ob.decisionOf(login_id) === 'rejected');
      expect(decisionCalls(login_id).map((call) => [call.kind, call.operation])).toEqual([[kindCase.kind, 'reject']]);
      expect(ob.rejected(login_id)).toEqual([
        {
          id: login_id,
          login_state,
          error: 'access_denied',
          error_description: 'the user denied the request',
          error_cause: 'denied_by_user',
          status_code: 403,
          ...kindCase.rejectExtra,
        },
      ]);
      expect(problems()).toEqual([]);
    });

    it('an approval after the consent changed at the authorization server → 409, nothing sent; the new view can then be approved', async () => {
      const device = await enrolledUser('carol', kindCase.profile);
      const { requestId, login_id } = await startWithConsent('carol', kindCase);
      const shown = await device.waitForRequest((r) => r.request_id === requestId);

      ob.updateConsent(login_id, kindCase.change);
      const refused = await device.decide(shown, 'approve', { accountIds: kindCase.choose });
      expect(refused).toMatchObject({ status: 409, body: { error: 'consent_changed', error_description: expect.stringContaining('fetch the request again') } });
      await sleep(150);
      expect(decisionCalls(login_id)).toEqual([]);

      // The device fetches the request again: the new terms, a new hash; the old hash no longer applies.
      const refreshed = await device.call<RequestView>('GET', `/device/v1/requests/${requestId}`);
      expect(refreshed.status).toBe(200);
      expect(refreshed.body.openbanking).toMatchObject(kindCase.changed);
      expect(refreshed.body.consent_hash).not.toBe(shown.consent_hash);
      expect((await device.decide(shown, 'approve', { accountIds: kindCase.choose })).status).toBe(409);

      expect((await device.decide(refreshed.body, 'approve', { accountIds: kindCase.choose })).status).toBe(202);
      await ob.waitFor(() => ob.decisionOf(login_id) === 'accepted');
      expect(decisionCalls(login_id).map((call) => call.operation)).toEqual(['accept']);
      expect(problems()).toEqual([]);
    });

    it('an unknown consent → reject at once saying the consent is not known, after trying both kinds', async () => {
      await enrolledUser('dave', kindCase.profile);
      const { login_id, login_state, consentId, requestId } = await startWithConsent('dave', kindCase, { registerAs: null });
      await ob.waitFor(() => ob.decisionOf(login_id) === 'rejected');
      const gets = ob.calls.filter((call) => call.login === login_id && call.operation === 'get');
      expect(new Set(gets.map((call) => call.kind)).size).toBe(2);
      expect(gets.every((call) => call.status === 404)).toBe(true);
      const [reject] = decisionCalls(login_id);
      expect(reject).toMatchObject({ kind: kindCase.kind, operation: 'reject', status: 200 });
      expect(reject?.body).toMatchObject({
        id: login_id,
        login_state,
        error: 'access_denied',
        error_description: expect.stringMatching(new RegExp(`consent ${consentId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not known to the authorization server`)),
        error_cause: 'consent_not_found',
      });
      const admin = await service.admin<{ status: string; reason?: string }>('GET', `/requests/${requestId}`);
      expect(admin.body).toMatchObject({ reason: 'consent_not_found' });
      expect(problems()).toEqual([]);
    });

    it('the evidence of an approval verifies offline and shows what was approved', async () => {
      const device = await enrolledUser('erin', kindCase.profile);
      const { requestId, login_id, consentId } = await startWithConsent('erin', kindCase);
      const view = await device.waitForRequest((r) => r.request_id === requestId);
      expect((await device.decide(view, 'approve', { accountIds: kindCase.choose })).status).toBe(202);
      await ob.waitFor(() => ob.decisionOf(login_id) === 'accepted');

      const evidence = await service.admin<{ decision_jws: string; public_jwk: JWK; consent_view: Record<string, unknown>; consent_hash: string }>(
        'GET',
        `/requests/${requestId}/evidence`,
      );
      expect(evidence.status).toBe(200);
      const claims = await verifyEvidenceOffline(evidence.body);
      expect(claims).toMatchObject({ request_id: requestId, action: 'approve', account_ids: kindCase.choose });
      expect(evidence.body.consent_view['openbanking']).toMatchObject({ kind: kindCase.kind, consent_id: consentId, ...kindCase.terms });

      // Tampering with what was approved breaks the hash.
      const tampered = structuredClone(evidence.body.consent_view) as { openbanking: { payment?: { amount: string }; permissions?: unknown[] } };
      if (tampered.openbanking.payment) tampered.openbanking.payment.amount = '0.01';
      else tampered.openbanking.permissions = [];
      const tamperedHash = createHash('sha256').update(canonicalize(tampered) ?? '').digest('base64url');
      expect(tamperedHash).not.toBe(claims['consent_hash']);
    });
  });

  describe('accounts and kinds', () => {
    const accountAccess = kindCases[0]!;
    const ukPayment = kindCases[1]!;
    const brasilPayment = kindCases[3]!;

    it('the accounts admin endpoint stores accounts with the user and checks them', async () => {
      service = await startFor('uk');
      expect((await service.admin('PUT', '/users/nobody/accounts', { accounts: [] })).status).toBe(404);
      await service.createUser('olga');
      const badCurrency = await service.admin('PUT', '/users/olga/accounts', { accounts: [{ account_id: 'x', name: 'X', currency: 'pounds' }] });
      expect(badCurrency).toMatchObject({ status: 400, body: { error: 'invalid_request', error_description: expect.stringContaining('currency') } });
      const repeated = await service.admin('PUT', '/users/olga/accounts', { accounts: [{ account_id: 'x', name: 'X' }, { account_id: 'x', name: 'Y' }] });
      expect(repeated).toMatchObject({ status: 400, body: { error_description: expect.stringContaining('listed twice') } });
      const unknownField = await service.admin('PUT', '/users/olga/accounts', { accounts: [{ account_id: 'x', name: 'X', balance: 10 }] });
      expect(unknownField.status).toBe(400);

      expect((await service.admin('GET', '/users/olga/accounts')).body).toEqual({ user_id: 'olga', accounts: [] });
      const saved = await service.admin('PUT', '/users/olga/accounts', { accounts: accountsOf.brasil });
      expect(saved).toEqual(expect.objectContaining({ status: 200, body: { user_id: 'olga', accounts: accountsOf.brasil } }));
      expect((await service.admin('GET', '/users/olga/accounts')).body).toEqual({ user_id: 'olga', accounts: accountsOf.brasil });
    });

    it('account_ids that are not among the user’s accounts → 400, and nothing is sent', async () => {
      service = await startFor('uk');
      const device = await enrolledUser('frank', 'uk');
      const { requestId, login_id } = await startWithConsent('frank', accountAccess);
      const view = await device.waitForRequest((r) => r.request_id === requestId);
      const foreign = await device.decide(view, 'approve', { accountIds: ['uk-current', 'someone-elses'] });
      expect(foreign).toMatchObject({ status: 400, body: { error: 'invalid_request', error_description: expect.stringContaining('someone-elses') } });
      const twice = await device.decide(view, 'approve', { accountIds: ['uk-current', 'uk-current'] });
      expect(twice.status).toBe(400);
      expect(decisionCalls(login_id)).toEqual([]);
      expect((await device.decide(view, 'approve', { accountIds: ['uk-savings'] })).status).toBe(202);
    });

    it('missing account_ids → 400 for account access and for a payment without a fixed payer’s account', async () => {
      service = await startFor('uk');
      const device = await enrolledUser('grace', 'uk');
      const access = await startWithConsent('grace', accountAccess);
      const payment = await startWithConsent('grace', ukPayment);
      const accessView = await device.waitForRequest((r) => r.request_id === access.requestId);
      const paymentView = await device.waitForRequest((r) => r.request_id === payment.requestId);

      expect(await device.decide(accessView, 'approve')).toMatchObject({ status: 400, body: { error_description: expect.stringContaining('account_ids') } });
      expect(await device.decide(paymentView, 'approve')).toMatchObject({ status: 400, body: { error_description: expect.stringContaining('account_ids') } });
      const two = await device.decide(paymentView, 'approve', { accountIds: ['uk-current', 'uk-savings'] });
      expect(two).toMatchObject({ status: 400, body: { error_description: expect.stringContaining('exactly one') } });
      // An account not offered for this payment (wrong currency) is refused too.
      expect((await device.decide(paymentView, 'approve', { accountIds: ['uk-euro'] })).status).toBe(400);
      await sleep(100);
      expect([...decisionCalls(access.login_id), ...decisionCalls(payment.login_id)]).toEqual([]);
    });

    it('a payment whose consent fixes the payer’s account needs no account choice', async () => {
      service = await startFor('uk');
      const device = await enrolledUser('heidi', 'uk');
      const { requestId, login_id, login_state } = await startWithConsent('heidi', ukPayment, {
        consent: (consent) => {
          (consent['Initiation'] as Record<string, unknown>)['DebtorAccount'] = {
            SchemeName: 'UK.OBIE.SortCodeAccountNumber',
            Identification: '11280001234567',
            Name: 'Heidi Example',
          };
        },
      });
      const view = await device.waitForRequest((r) => r.request_id === requestId);
      expect(view.openbanking).toMatchObject({
        account_selection: 'fixed',
        payment: { debtor_account: { name: 'Heidi Example', identification: '11280001234567', scheme: 'UK.OBIE.SortCodeAccountNumber' } },
      });
      expect((await device.decide(view, 'approve')).status).toBe(202);
      await ob.waitFor(() => ob.decisionOf(login_id) === 'accepted');
      expect(ob.accepted(login_id)).toEqual([{ login_state, granted_scopes: ['openid', 'payments'] }]);
    });

    it('a Brasil payment consent fixing the payer’s account is accepted with that debtor_account', async () => {
      service = await startFor('brasil');
      const device = await enrolledUser('ivan', 'brasil');
      const { requestId, login_id } = await startWithConsent('ivan', brasilPayment, {
        consent: (consent) => {
          consent['debtorAccount'] = { ispb: '87654321', issuer: '0001', number: '12345678', accountType: 'CACC' };
        },
      });
      const view = await device.waitForRequest((r) => r.request_id === requestId);
      expect(view.openbanking?.account_selection).toBe('fixed');
      expect((await device.decide(view, 'approve', { accountIds: ['br-corrente'] })).status).toBe(202);
      await ob.waitFor(() => ob.decisionOf(login_id) === 'accepted');
      expect(ob.accepted(login_id)).toEqual([
        expect.objectContaining({ account_ids: ['br-corrente'], debtor_account: { account_type: 'CACC', ispb: '87654321', issuer: '0001', number: '12345678' } }),
      ]);
      expect(problems()).toEqual([]);
    });

    it('a consent already authorised → reject at once saying so', async () => {
      service = await startFor('uk');
      await enrolledUser('judy', 'uk');
      const { login_id } = await startWithConsent('judy', accountAccess, {
        consent: (consent) => {
          consent['Status'] = 'Authorised';
        },
      });
      await ob.waitFor(() => ob.decisionOf(login_id) === 'rejected');
      expect(ob.rejected(login_id)).toEqual([
        expect.objectContaining({
          error_description: expect.stringMatching(/is already Authorised/),
          error_cause: 'consent_not_awaiting_authorisation',
        }),
      ]);
    });

    it('the kind guessed from the scopes is corrected by the consent found (account access guessed, payment found)', async () => {
      service = await startFor('uk');
      const device = await enrolledUser('ken', 'uk');
      const { requestId, login_id } = await startWithConsent('ken', { ...ukPayment, start: ukScopes('accounts') });
      const view = await device.waitForRequest((r) => r.request_id === requestId);
      expect(view.openbanking?.kind).toBe('uk_domestic_payment');
      const gets = ob.calls.filter((call) => call.login === login_id && call.operation === 'get').map((call) => [call.kind, call.status]);
      expect(gets).toEqual([
        ['uk_account_access', 404],
        ['uk_domestic_payment', 200],
      ]);
      expect((await device.decide(view, 'approve', { accountIds: ['uk-current'] })).status).toBe(202);
      await ob.waitFor(() => ob.decisionOf(login_id) === 'accepted');
      expect(decisionCalls(login_id).map((call) => [call.kind, call.operation])).toEqual([['uk_domestic_payment', 'accept']]);
    });

    it('a consent other than the one the client named → reject saying so', async () => {
      service = await startFor('uk');
      await enrolledUser('kim', 'uk');
      const { login_id, consentId } = await startWithConsent('kim', accountAccess, { start: { scope: 'openid accounts', openbanking_intent_id: 'aac-someone-else' } });
      await ob.waitFor(() => ob.decisionOf(login_id) === 'rejected');
      expect(ob.rejected(login_id)).toEqual([
        expect.objectContaining({ error_cause: 'consent_mismatch', error_description: expect.stringMatching(new RegExp(`${consentId}.*aac-someone-else`)) }),
      ]);
    });

    it('Brasil accepts the consent id as openbanking_intent_id too', async () => {
      service = await startFor('brasil');
      const device = await enrolledUser('leo', 'brasil');
      const dataAccess = kindCases[2]!;
      const { requestId, consentId } = await startWithConsent('leo', { ...dataAccess, start: (id) => ({ scope: 'openid accounts', openbanking_intent_id: id }) });
      const view = await device.waitForRequest((r) => r.request_id === requestId);
      expect(view.openbanking).toMatchObject({ kind: 'brasil_data_access', consent_id: consentId });
    });

    it('a user who cannot be reached → reject through the consent page of the guessed kind', async () => {
      service = await startFor('brasil');
      const { login_id, login_state } = await startWithConsent('nobody-here', brasilPayment);
      await ob.waitFor(() => ob.decisionOf(login_id) === 'rejected');
      expect(decisionCalls(login_id).map((call) => [call.kind, call.operation])).toEqual([['brasil_payment', 'reject']]);
      expect(ob.rejected(login_id)).toEqual([
        {
          id: login_id,
          login_state,
          error: 'access_denied',
          error_description: 'the user is not known to the authentication service',
          error_cause: 'user_unreachable',
          status_code: 403,
          rejection_reason: { code: 'FALHA_INFRAESTRUTURA', details: 'the user is not known to the authentication service' },
        },
      ]);
      // Nothing to show anyone: the consent itself was never read.
      expect(ob.calls.filter((call) => call.login === login_id && call.operation === 'get')).toEqual([]);
    });

    it('is never decided by e-mail: a user reachable only by e-mail is rejected at once, and nothing is mailed', async () => {
      // The magic-link page offers no account choice and its approval is not checked against the consent
      // read again, so an Open Banking request goes to devices only.
      const smtp = await startSmtpServer();
      try {
        service = await startFor('uk', { SMTP_URL: smtp.url, EMAIL_FROM: 'Bank <no-reply@bank.example>' });
        await service.createUser('eve', { aliases: ['eve@example.com'] });
        expect((await service.admin('PUT', '/users/eve/accounts', { accounts: accountsOf.uk })).status).toBe(200);
        const { login_id } = await startWithConsent('eve', ukPayment);
        await ob.waitFor(() => ob.decisionOf(login_id) === 'rejected');
        expect(ob.rejected(login_id)).toEqual([expect.objectContaining({ error_description: 'the user has no active authentication device' })]);
        expect(smtp.messages).toEqual([]);
      } finally {
        await smtp.stop();
      }
    });

    it('a user without any account that can be used → reject saying so', async () => {
      service = await startFor('uk');
      await enrolledUser('mallory', 'uk', [{ account_id: 'eur-only', name: 'Euro account', currency: 'EUR' }]);
      const { login_id } = await startWithConsent('mallory', ukPayment);
      await ob.waitFor(() => ob.decisionOf(login_id) === 'rejected');
      expect(ob.rejected(login_id)).toEqual([expect.objectContaining({ error_cause: 'no_accounts', error_description: expect.stringContaining('no account') })]);
    });

    it('the consent pages answering 503 then 200 → the accept is delivered once after retries', async () => {
      service = await startFor('uk');
      const device = await enrolledUser('nina', 'uk');
      const { requestId, login_id } = await startWithConsent('nina', accountAccess);
      const view = await device.waitForRequest((r) => r.request_id === requestId);
      ob.failNext('accept', [{ status: 503 }, { status: 503, headers: { 'retry-after': '0' } }]);
      expect((await device.decide(view, 'approve', { accountIds: ['uk-current'] })).status).toBe(202);
      await ob.waitFor(() => ob.decisionOf(login_id) === 'accepted');
      expect(decisionCalls(login_id).map((call) => call.status)).toEqual([503, 503, 200]);
    });

    it('the consent cannot be read again when approving → 503 and nothing recorded; the approval can be retried', async () => {
      service = await startFor('uk');
      const device = await enrolledUser('oscar', 'uk');
      const { requestId, login_id } = await startWithConsent('oscar', accountAccess);
      const view = await device.waitForRequest((r) => r.request_id === requestId);
      ob.failNext('get', [{ status: 502 }]);
      const refused = await device.decide(view, 'approve', { accountIds: ['uk-current'] });
      expect(refused).toMatchObject({ status: 503, body: { error: 'temporarily_unavailable' } });
      expect((await device.decide(view, 'approve', { accountIds: ['uk-current'] })).status).toBe(202);
      await ob.waitFor(() => ob.decisionOf(login_id) === 'accepted');
    });

    it('the system token carries manage_openbanking_consents, and a vanity base URL is honoured', async () => {
      await ob.close();
      ob = await startOpenBankingStub({ basePath: '/vanity' });
      service = await startFor('uk', { SECUREAUTH_OPENBANKING_URL: ob.openBankingUrl });
      const device = await enrolledUser('peggy', 'uk');
      const { requestId, login_id } = await startWithConsent('peggy', accountAccess);
      const view = await device.waitForRequest((r) => r.request_id === requestId);
      expect((await device.decide(view, 'approve', { accountIds: ['uk-current'] })).status).toBe(202);
      await ob.waitFor(() => ob.decisionOf(login_id) === 'accepted');
      expect(ob.secureAuth.tokenRequests.map((request) => request.scope)).toContain('manage_scope_grants manage_openbanking_consents');
    });

    it('a start without a consent stays a regular request, and a regular decision may not carry account_ids', async () => {
      service = await startFor('uk');
      const device = await enrolledUser('quinn', 'uk');
      const login = { login_id: `regular-${store}`, login_state: 'regular-state' };
      ob.secureAuth.registerLogin({ ...login, scopes: [{ name: 'openid' }] });
      const started = await service.asCall<{ request_id: string }>('/authentication/start', {
        ...login,
        state: login.login_state,
        user_identifier: 'quinn',
        scope: 'openid',
      });
      const view = await device.waitForRequest((r) => r.request_id === started.body.request_id);
      expect(view.openbanking).toBeUndefined();
      expect((await device.decide(view, 'approve', { accountIds: ['uk-current'] })).status).toBe(400);
      expect((await device.decide(view, 'approve')).status).toBe(202);
      await ob.secureAuth.waitFor(() => ob.secureAuth.decisionOf(login.login_id) === 'accepted');
    });
  });

  describe('accounts from the bank (ACCOUNTS_API_URL)', () => {
    let bank: Server;
    let bankUrl: string;
    const bankCalls: Array<{ url: string; authorization: string | undefined }> = [];

    beforeEach(async () => {
      bankCalls.length = 0;
      bank = createServer((req: IncomingMessage, res) => {
        bankCalls.push({ url: req.url ?? '', authorization: req.headers.authorization });
        const match = /^\/users\/([^/]+)\/accounts$/.exec(req.url ?? '');
        if (match?.[1] !== 'rita') {
          res.writeHead(404).end();
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({ accounts: [{ account_id: 'bank-7', name: 'Everyday account', masked_number: '•••• 0007', currency: 'GBP' }] }),
        );
      });
      await new Promise<void>((resolve) => bank.listen(0, '127.0.0.1', resolve));
      bankUrl = `http://127.0.0.1:${(bank.address() as AddressInfo).port}`;
    });
    afterEach(async () => {
      bank.closeAllConnections();
      await new Promise<void>((resolve) => bank.close(() => resolve()));
    });

    it('offers the accounts the bank lists, asks with the user id and token, and refuses to store accounts', async () => {
      service = await startFor('uk', { ACCOUNTS_API_URL: `${bankUrl}/users/{user_id}/accounts`, ACCOUNTS_API_TOKEN: 'bank-token-123' });
      const code = await service.createUser('rita');
      const device = await DeviceClient.enroll(service.url, code);
      const refused = await service.admin('PUT', '/users/rita/accounts', { accounts: accountsOf.uk });
      expect(refused).toMatchObject({ status: 409, body: { error: 'accounts_managed_by_bank' } });
      expect(await service.admin('GET', '/users/rita/accounts')).toMatchObject({
        status: 200,
        body: { user_id: 'rita', accounts: [{ account_id: 'bank-7', name: 'Everyday account', masked_number: '•••• 0007', currency: 'GBP' }] },
      });

      const { requestId, login_id } = await startWithConsent('rita', kindCases[0]!);
      const view = await device.waitForRequest((r) => r.request_id === requestId);
      expect(view.openbanking?.accounts).toEqual([{ account_id: 'bank-7', name: 'Everyday account', masked_number: '•••• 0007', currency: 'GBP' }]);
      expect(bankCalls).toContainEqual({ url: '/users/rita/accounts', authorization: 'Bearer bank-token-123' });
      expect((await device.decide(view, 'approve', { accountIds: ['bank-7'] })).status).toBe(202);
      await ob.waitFor(() => ob.decisionOf(login_id) === 'accepted');
      expect(ob.accepted(login_id)).toEqual([expect.objectContaining({ account_ids: ['bank-7'] })]);
      expect(service.logs.join('\n')).not.toContain('bank-token-123');
    });

    it('a user the bank has no accounts for (404) is rejected saying so', async () => {
      service = await startFor('uk', { ACCOUNTS_API_URL: `${bankUrl}/users/{user_id}/accounts` });
      const code = await service.createUser('sam');
      await DeviceClient.enroll(service.url, code);
      const { login_id } = await startWithConsent('sam', kindCases[0]!);
      await ob.waitFor(() => ob.decisionOf(login_id) === 'rejected');
      expect(ob.rejected(login_id)).toEqual([expect.objectContaining({ error_cause: 'no_accounts' })]);
    });
  });
});
