import { accountView, type BankAccount } from './account.js';
import type { AuthenticationRequest, ConsentView } from './authentication-request.js';
import { buildConsentView } from './consent-view.js';
import { buildOpenBankingView, isPaymentKind, type AccountView, type OpenBankingConsent } from './openbanking.js';

/**
 * The accounts a user may choose from for this consent. A payment is offered the accounts in its
 * currency (or of no stated currency); a Brasil payment without a fixed payer's account only those the
 * bank gave Brasil identification for, since the accept must name the account that pays.
 */
export function offeredAccounts(consent: OpenBankingConsent, accounts: BankAccount[]): AccountView[] {
  const currency = consent.terms.payment?.currency;
  return accounts
    .filter((account) => !isPaymentKind(consent.kind) || account.currency === undefined || account.currency === currency)
    .filter((account) => consent.kind !== 'brasil_payment' || consent.hasFixedDebtorAccount || account.brasil !== undefined)
    .map(accountView);
}

/**
 * The whole device view of an Open Banking request: the regular view (client, scopes, binding message,
 * times) with the consent's client and scope descriptions, plus the `openbanking` object. Built the
 * same way when the request is prepared and when an approval re-reads the consent, so equal consents
 * give equal views and equal hashes.
 */
export function buildOpenBankingConsentView(request: AuthenticationRequest, consent: OpenBankingConsent, accounts: AccountView[]): ConsentView {
  const details = { ...(consent.client !== undefined ? { client: consent.client } : {}), ...(consent.scopes !== undefined ? { scopes: consent.scopes } : {}) };
  return { ...buildConsentView(request, details), openbanking: buildOpenBankingView(consent, accounts) };
}
