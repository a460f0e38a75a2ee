import type { AuthenticationRequest, ClientView, ScopeView } from './authentication-request.js';

/**
 * Open Banking requests: the CIBA request carries the id of a consent the third-party app created
 * beforehand (`openbanking_intent_id`; Open Banking Brasil passes it as the dynamic scope
 * `consent:{consentId}`). The user is shown that consent in plain terms — which data for how long,
 * or which payment to whom for how much — and picks the accounts it applies to.
 */

export type OpenBankingProfile = 'uk' | 'brasil';

export type OpenBankingKind = 'uk_account_access' | 'uk_domestic_payment' | 'brasil_data_access' | 'brasil_payment';

/** Each profile has one kind for data access and one for payments. */
const kindsOfProfile: Record<OpenBankingProfile, { data: OpenBankingKind; payment: OpenBankingKind }> = {
  uk: { data: 'uk_account_access', payment: 'uk_domestic_payment' },
  brasil: { data: 'brasil_data_access', payment: 'brasil_payment' },
};

export const isPaymentKind = (kind: OpenBankingKind): boolean => kind === 'uk_domestic_payment' || kind === 'brasil_payment';

const profileOf = (kind: OpenBankingKind): OpenBankingProfile => (kind.startsWith('uk_') ? 'uk' : 'brasil');

/** OBBR's dynamic scope naming the consent: `consent:urn:bancoex:C1DD33123`. */
const CONSENT_SCOPE_PREFIX = 'consent:';

export function consentIdFromScopes(scopes: ScopeView[]): string | undefined {
  const scope = scopes.find((candidate) => candidate.name.startsWith(CONSENT_SCOPE_PREFIX) && candidate.name.length > CONSENT_SCOPE_PREFIX.length);
  return scope?.name.slice(CONSENT_SCOPE_PREFIX.length);
}

/**
 * First guess of the kind from the requested scopes: `payments` asks for a payment; anything else
 * (`accounts`, `credit-cards-accounts`, `resources`…) for data access. The consent fetched confirms it.
 */
export function guessOpenBankingKind(profile: OpenBankingProfile, scopes: ScopeView[]): OpenBankingKind {
  const kinds = kindsOfProfile[profile];
  return scopes.some((scope) => scope.name === 'payments') ? kinds.payment : kinds.data;
}

/** The kinds to ask the authorization server for, in order: the guess, then the other kind of its profile. */
export function kindsToTry(guess: OpenBankingKind): OpenBankingKind[] {
  const kinds = kindsOfProfile[profileOf(guess)];
  return [guess, guess === kinds.data ? kinds.payment : kinds.data];
}

/**
 * Marks a start as an Open Banking request when Open Banking is enabled and the start names a consent
 * (`openbanking_intent_id`, or a `consent:` scope). Other starts are returned unchanged.
 */
export function recognizeOpenBanking<T extends { requestedScopes: ScopeView[]; openbankingIntentId?: string }>(
  settings: { profile: OpenBankingProfile } | undefined,
  draft: T,
): T & { openbankingKind?: OpenBankingKind } {
  if (settings === undefined) return draft;
  const intentId = draft.openbankingIntentId ?? consentIdFromScopes(draft.requestedScopes);
  if (intentId === undefined) return draft;
  return { ...draft, openbankingIntentId: intentId, openbankingKind: guessOpenBankingKind(settings.profile, draft.requestedScopes) };
}

/** The kind a request is reported as: the one its consent confirmed, else the first guess. */
export function openBankingKindOf(
  request: Pick<AuthenticationRequest, 'openbankingKind' | 'view'>,
): OpenBankingKind | undefined {
  return request.view?.openbanking?.kind ?? request.openbankingKind;
}

// ---------------------------------------------------------------------------------------------
// The consent as the authorization server holds it, in plain terms
// ---------------------------------------------------------------------------------------------

export type ConsentStatus = 'awaiting_authorisation' | 'authorised' | 'rejected' | 'revoked' | 'consumed' | 'unknown';

/** UK (`AwaitingAuthorisation`) and Brasil (`AWAITING_AUTHORISATION`) spellings, US spelling too. */
export function normalizeConsentStatus(text: string | undefined): ConsentStatus {
  const folded = (text ?? '').toLowerCase().replace(/[^a-z]/g, '').replace('authoriz', 'authoris');
  switch (folded) {
    case 'awaitingauthorisation':
      return 'awaiting_authorisation';
    case 'authorised':
      return 'authorised';
    case 'rejected':
      return 'rejected';
    case 'revoked':
      return 'revoked';
    case 'consumed':
      return 'consumed';
    default:
      return 'unknown';
  }
}

export interface PermissionView {
  /** The standard's code, e.g. `ReadBalances` or `ACCOUNTS_READ`. */
  code: string;
  /** What it lets the third party see, in words. */
  description: string;
}

/** An account as a payment names it; only what the consent carries is present. */
export interface AccountIdentificationView {
  name?: string;
  /** Account number (UK: sort code and account number, IBAN…; Brasil: account number). */
  identification?: string;
  /** UK scheme name, e.g. `UK.OBIE.SortCodeAccountNumber`. */
  scheme?: string;
  secondary_identification?: string;
  /** Brasil: ISPB of the bank. */
  bank_code?: string;
  /** Brasil: branch (agência). */
  branch?: string;
  /** Brasil: CACC, SVGS, SLRY, TRAN. */
  account_type?: string;
}

export interface ChargeView {
  type: string;
  amount: string;
  currency: string;
  bearer: string;
}

export interface PaymentView {
  /** Decimal string exactly as the consent states it, e.g. `"165.88"`. */
  amount: string;
  currency: string;
  creditor: {
    name?: string;
    /** Brasil: CPF or CNPJ of the payee. */
    document?: string;
    account?: AccountIdentificationView;
    /** Brasil: the payee's Pix key. */
    pix_key?: string;
  };
  reference?: string;
  remittance_information?: string;
  /** When the payment is to be executed (date or date-time), when the consent says. */
  execution_date?: string;
  /** The payer's account, when the client fixed it in the consent. */
  debtor_account?: AccountIdentificationView;
  charges?: ChargeView[];
  /** Brasil: `PIX`… */
  payment_type?: string;
  local_instrument?: string;
}

/** The consent's terms, as a person needs them; goes into the device view unchanged. */
export interface OpenBankingTerms {
  consent_id: string;
  /** Data access: what may be read. */
  permissions?: PermissionView[];
  /** Data access: when the access ends (absent: open-ended). */
  access_expires_at?: string;
  /** Data access: the transaction history covered. */
  transactions_from?: string;
  transactions_to?: string;
  payment?: PaymentView;
  /** Payments: the time by which the consent must be authorised. */
  authorise_by?: string;
}

/**
 * How the user picks accounts: `multiple` — one or more (data access); `single` — exactly one, the
 * payer's account; `fixed` — the consent names the payer's account, nothing to pick.
 */
export type AccountSelection = 'multiple' | 'single' | 'fixed';

export interface AccountView {
  account_id: string;
  name: string;
  masked_number?: string;
  currency?: string;
}

export interface OpenBankingView extends OpenBankingTerms {
  kind: OpenBankingKind;
  account_selection: AccountSelection;
  /** The accounts the user may choose from. */
  accounts: AccountView[];
}

/** Open Banking Brasil identification of an account (the reference `DebtorAccount`). */
export interface BrasilAccountIdentification {
  accountType: string;
  ispb: string;
  issuer?: string;
  number: string;
}

/** One Open Banking consent read from the authorization server. */
export interface OpenBankingConsent {
  kind: OpenBankingKind;
  /** The ids it is known by (the consent-page id and the standard's own), to match the start's intent id. */
  ids: string[];
  status: ConsentStatus;
  /** The status as the authorization server wrote it, for messages. */
  statusText: string;
  terms: OpenBankingTerms;
  /** When the consent can no longer be authorised or used (ms since the epoch). */
  expiresAt?: number;
  /** Payments: the client fixed the payer's account in the consent. */
  hasFixedDebtorAccount: boolean;
  /** Brasil payments: that fixed account, as the accept call repeats it. */
  brasilDebtorAccount?: BrasilAccountIdentification;
  client?: ClientView;
  scopes?: ScopeView[];
}

export function accountSelectionFor(consent: Pick<OpenBankingConsent, 'kind' | 'hasFixedDebtorAccount'>): AccountSelection {
  if (!isPaymentKind(consent.kind)) return 'multiple';
  return consent.hasFixedDebtorAccount ? 'fixed' : 'single';
}

/**
 * Why a consent cannot be put to the user, if it cannot: another consent than the one the client
 * named, already decided, or expired. `reason` is the denial code, `description` is for people.
 */
export function consentProblem(
  consent: OpenBankingConsent,
  intentId: string | undefined,
  now: number,
): { reason: string; description: string } | undefined {
  const name = consent.ids[0] ?? 'the consent';
  if (intentId !== undefined && consent.ids.length > 0 && !consent.ids.includes(intentId)) {
    return {
      reason: 'consent_mismatch',
      description: `the authorization server holds consent ${name} for this login, not ${intentId} named by the client`,
    };
  }
  if (consent.status !== 'awaiting_authorisation') {
    const already = consent.status === 'authorised' || consent.status === 'rejected' || consent.status === 'consumed' || consent.status === 'revoked';
    return {
      reason: 'consent_not_awaiting_authorisation',
      description: already
        ? `consent ${name} is already ${consent.statusText}; only a consent awaiting authorisation can be decided`
        : `consent ${name} has status ${consent.statusText || '(none)'}; only a consent awaiting authorisation can be decided`,
    };
  }
  if (consent.expiresAt !== undefined && consent.expiresAt <= now) {
    return { reason: 'consent_expired', description: `consent ${name} expired at ${new Date(consent.expiresAt).toISOString()}` };
  }
  return undefined;
}

/** The `openbanking` object of the device view; undefined members are left out so the JSON is stable. */
export function buildOpenBankingView(consent: OpenBankingConsent, accounts: AccountView[]): OpenBankingView {
  const view: OpenBankingView = {
    kind: consent.kind,
    ...consent.terms,
    account_selection: accountSelectionFor(consent),
    accounts,
  };
  return JSON.parse(JSON.stringify(view)) as OpenBankingView;
}

export type AccountChoice = { ok: true; accountIds: string[] } | { ok: false; description: string };

/**
 * Checks the `account_ids` of an approval against what the view offered: one or more for data access,
 * exactly one for a payment, at most one when the consent fixes the payer's account.
 */
export function chooseAccounts(view: Pick<OpenBankingView, 'account_selection' | 'accounts'>, accountIds: string[] | undefined): AccountChoice {
  const chosen = accountIds ?? [];
  const offered = new Set(view.accounts.map((account) => account.account_id));
  const unknown = chosen.filter((id) => !offered.has(id));
  if (unknown.length > 0) return { ok: false, description: `account_ids: ${unknown.join(', ')} ${unknown.length === 1 ? 'is not one of the accounts' : 'are not among the accounts'} offered to the user` };
  if (new Set(chosen).size !== chosen.length) return { ok: false, description: 'account_ids: an account is listed twice' };
  switch (view.account_selection) {
    case 'multiple':
      if (chosen.length === 0) return { ok: false, description: 'account_ids: choose at least one account to share' };
      break;
    case 'single':
      if (chosen.length !== 1) return { ok: false, description: 'account_ids: choose exactly one account to pay from' };
      break;
    case 'fixed':
      if (chosen.length > 1) return { ok: false, description: 'account_ids: the consent names the account to pay from; give at most that one' };
      break;
  }
  return { ok: true, accountIds: chosen };
}
