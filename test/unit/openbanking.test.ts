import type { AuthenticationRequest } from '../../src/domain/authentication-request.js';
import {
  chooseAccounts,
  consentIdFromScopes,
  consentProblem,
  guessOpenBankingKind,
  kindsToTry,
  normalizeConsentStatus,
  recognizeOpenBanking,
  type OpenBankingKind,
} from '../../src/domain/openbanking.js';
import { describePermission } from '../../src/domain/openbanking-permissions.js';
import { consentPages } from '../../src/adapters/secureauth/openbanking/consent-pages.js';
import { AuthorizationServerError } from '../../src/ports/authorization-server.js';
import { consentPageContracts, exampleConsent } from '../support/openbanking-stub.js';
import { assertMatchesDefinition } from '../support/reference-schemas.js';

const kinds: OpenBankingKind[] = ['uk_account_access', 'uk_domestic_payment', 'brasil_data_access', 'brasil_payment'];

const request = {
  requestId: 'r1',
  loginId: 'login-1',
  loginState: 'state-1',
} as AuthenticationRequest;

/** A GET answer of the kind, checked against the reference before use. */
function getAnswer(kind: OpenBankingKind, consent: Record<string, unknown>): Record<string, unknown> {
  const contract = consentPageContracts[kind];
  const body = {
    consent_id: consent['ConsentId'] ?? consent['consentId'],
    client_id: 'tpp',
    client_info: { client_name: 'Budget Buddy', logo_uri: 'https://tpp.example/logo.png' },
    requested_scopes: [{ name: 'openid' }, { name: 'consent', requested_name: 'consent:urn:bancoex:X1', display_name: 'Consent' }],
    status: consent['Status'] ?? consent['status'],
    [contract.field]: consent,
  };
  assertMatchesDefinition(contract.file, contract.response, body);
  return body;
}

describe.each(kinds)('consent page %s', (kind) => {
  const page = consentPages[kind];
  const contract = consentPageContracts[kind];
  const consentId = kind.startsWith('uk') ? 'c-123' : 'urn:bancoex:C1DD33123';

  it('lives where the reference says', () => {
    expect(page.path).toBe(contract.path);
  });

  it('reads its GET answer in plain terms', () => {
    const consent = page.toConsent(getAnswer(kind, exampleConsent(kind, consentId)));
    expect(consent).toMatchObject({
      kind,
      ids: [consentId],
      status: 'awaiting_authorisation',
      client: { id: 'tpp', name: 'Budget Buddy', logo_uri: 'https://tpp.example/logo.png' },
      scopes: [{ name: 'openid' }, { name: 'consent:urn:bancoex:X1', display_name: 'Consent' }],
      terms: { consent_id: consentId },
      hasFixedDebtorAccount: false,
    });
    expect(consent?.expiresAt).toEqual(expect.any(Number));
    if (kind.endsWith('payment')) expect(consent?.terms.payment).toMatchObject({ amount: expect.stringMatching(/^\d+\.\d\d$/) });
    else expect(consent?.terms.permissions?.length).toBeGreaterThan(0);
  });

  it('finds no consent in an answer about another kind, and refuses a malformed one', () => {
    const other = kinds.find((candidate) => candidate !== kind && candidate.slice(0, 2) === kind.slice(0, 2))!;
    expect(page.toConsent(getAnswer(other, exampleConsent(other, consentId)))).toBeUndefined();
    const broken = { [contract.field]: { nothing: 'useful' } };
    expect(() => page.toConsent(broken)).toThrow(AuthorizationServerError);
  });

  it('builds accept and reject bodies that match the reference exactly', () => {
    const accept = page.acceptBody(request, {
      grantedScopes: ['openid', 'accounts'],
      accountIds: ['a-1'],
      ...(kind === 'brasil_payment' ? { debtorAccount: { accountType: 'CACC', ispb: '12345678', issuer: '0001', number: '123456' } } : {}),
    });
    assertMatchesDefinition(contract.file, contract.accept, accept, { strictProperties: true });
    expect(accept).toMatchObject({ login_state: 'state-1', granted_scopes: ['openid', 'accounts'], account_ids: ['a-1'] });

    const reject = page.rejectBody(request, { error: 'access_denied', description: 'the user denied the request', cause: 'denied_by_user' });
    assertMatchesDefinition(contract.file, contract.reject, reject, { strictProperties: true });
    expect(reject).toMatchObject({ id: 'login-1', login_state: 'state-1', error_description: 'the user denied the request', status_code: 403 });
  });
});

describe('recognising an Open Banking start', () => {
  const scopes = (...names: string[]) => names.map((name) => ({ name }));

  it('guesses the kind from the scopes and the profile, and tries the other kind next', () => {
    expect(guessOpenBankingKind('uk', scopes('openid', 'accounts'))).toBe('uk_account_access');
    expect(guessOpenBankingKind('uk', scopes('openid', 'payments'))).toBe('uk_domestic_payment');
    expect(guessOpenBankingKind('brasil', scopes('openid', 'credit-cards-accounts'))).toBe('brasil_data_access');
    expect(guessOpenBankingKind('brasil', scopes('payments', 'consent:urn:a:b'))).toBe('brasil_payment');
    expect(kindsToTry('uk_account_access')).toEqual(['uk_account_access', 'uk_domestic_payment']);
    expect(kindsToTry('brasil_payment')).toEqual(['brasil_payment', 'brasil_data_access']);
  });

  it('takes the consent id from openbanking_intent_id or from a Brasil consent: scope', () => {
    expect(consentIdFromScopes(scopes('openid', 'consent:urn:bancoex:C1DD33123'))).toBe('urn:bancoex:C1DD33123');
    expect(consentIdFromScopes(scopes('openid', 'consent:'))).toBeUndefined();
    const byScope = recognizeOpenBanking({ profile: 'brasil' }, { requestedScopes: scopes('openid', 'accounts', 'consent:urn:a:b') });
    expect(byScope).toMatchObject({ openbankingIntentId: 'urn:a:b', openbankingKind: 'brasil_data_access' });
    const byIntent = recognizeOpenBanking({ profile: 'uk' }, { requestedScopes: scopes('payments'), openbankingIntentId: 'pdc-1' });
    expect(byIntent).toMatchObject({ openbankingIntentId: 'pdc-1', openbankingKind: 'uk_domestic_payment' });
  });

  it('leaves a start alone when Open Banking is off or no consent is named', () => {
    const start = { requestedScopes: scopes('openid'), openbankingIntentId: 'pdc-1' };
    expect(recognizeOpenBanking(undefined, start)).toEqual(start);
    expect(recognizeOpenBanking({ profile: 'uk' }, { requestedScopes: scopes('openid', 'accounts') })).not.toHaveProperty('openbankingKind');
  });
});

describe('consent rules', () => {
  it('reads UK and Brasil statuses alike', () => {
    expect(normalizeConsentStatus('AwaitingAuthorisation')).toBe('awaiting_authorisation');
    expect(normalizeConsentStatus('AWAITING_AUTHORISATION')).toBe('awaiting_authorisation');
    expect(normalizeConsentStatus('AUTHORIZED')).toBe('authorised');
    expect(normalizeConsentStatus('Consumed')).toBe('consumed');
    expect(normalizeConsentStatus(undefined)).toBe('unknown');
  });

  it('finds what stops a consent from being decided', () => {
    const consent = {
      kind: 'uk_account_access' as const,
      ids: ['c-1'],
      status: 'awaiting_authorisation' as const,
      statusText: 'AwaitingAuthorisation',
      terms: { consent_id: 'c-1' },
      hasFixedDebtorAccount: false,
      expiresAt: 2_000,
    };
    expect(consentProblem(consent, 'c-1', 1_000)).toBeUndefined();
    expect(consentProblem(consent, 'c-2', 1_000)?.reason).toBe('consent_mismatch');
    expect(consentProblem({ ...consent, status: 'rejected', statusText: 'Rejected' }, 'c-1', 1_000)).toEqual({
      reason: 'consent_not_awaiting_authorisation',
      description: expect.stringContaining('already Rejected'),
    });
    expect(consentProblem(consent, 'c-1', 2_000)?.reason).toBe('consent_expired');
  });

  it('checks the accounts chosen against the selection offered', () => {
    const accounts = [
      { account_id: 'a', name: 'A' },
      { account_id: 'b', name: 'B' },
    ];
    expect(chooseAccounts({ account_selection: 'multiple', accounts }, ['a', 'b'])).toEqual({ ok: true, accountIds: ['a', 'b'] });
    expect(chooseAccounts({ account_selection: 'multiple', accounts }, undefined).ok).toBe(false);
    expect(chooseAccounts({ account_selection: 'multiple', accounts }, ['a', 'x']).ok).toBe(false);
    expect(chooseAccounts({ account_selection: 'multiple', accounts }, ['a', 'a']).ok).toBe(false);
    expect(chooseAccounts({ account_selection: 'single', accounts }, ['a', 'b']).ok).toBe(false);
    expect(chooseAccounts({ account_selection: 'single', accounts }, ['b'])).toEqual({ ok: true, accountIds: ['b'] });
    expect(chooseAccounts({ account_selection: 'fixed', accounts }, undefined)).toEqual({ ok: true, accountIds: [] });
    expect(chooseAccounts({ account_selection: 'fixed', accounts }, ['a', 'b']).ok).toBe(false);
  });

  it('puts permissions in words, spelling out codes it does not know', () => {
    expect(describePermission('ReadBalances')).toEqual({ code: 'ReadBalances', description: 'Your account balances' });
    expect(describePermission('ReadFutureThings')).toEqual({ code: 'ReadFutureThings', description: 'Read future things' });
    expect(describePermission('NEW_THING_READ')).toEqual({ code: 'NEW_THING_READ', description: 'New thing read' });
  });
});
