import type { components } from '../http/generated/openapi.js';
import type { AccountView, BrasilAccountIdentification } from './openbanking.js';

/**
 * An account as the OpenAPI document's `Account` describes it: the admin API's body, and what the
 * bank's accounts endpoint (ACCOUNTS_API_URL) answers.
 */
export type AccountWire = components['schemas']['Account'];

/** One of a user's bank accounts, as the bank (or an operator) describes it. */
export interface BankAccount {
  /** The id SecureAuth receives in `account_ids`. */
  accountId: string;
  name: string;
  /** What the user recognises the account by, e.g. `•••• 4821`; never the full number. */
  maskedNumber?: string;
  currency?: string;
  /** Open Banking Brasil identification, needed to pay from this account (never shown to devices). */
  brasil?: BrasilAccountIdentification;
}

/** What a device may show of an account. */
export function accountView(account: BankAccount): AccountView {
  return {
    account_id: account.accountId,
    name: account.name,
    ...(account.maskedNumber !== undefined ? { masked_number: account.maskedNumber } : {}),
    ...(account.currency !== undefined ? { currency: account.currency } : {}),
  };
}

/** An account of the `Account` wire shape as the domain keeps it. */
export function bankAccountFromWire(account: AccountWire): BankAccount {
  const brasil = account.brasil;
  return {
    accountId: account.account_id,
    name: account.name,
    ...(account.masked_number !== undefined ? { maskedNumber: account.masked_number } : {}),
    ...(account.currency !== undefined ? { currency: account.currency } : {}),
    ...(brasil !== undefined
      ? { brasil: { accountType: brasil.account_type, ispb: brasil.ispb, number: brasil.number, ...(brasil.issuer !== undefined ? { issuer: brasil.issuer } : {}) } }
      : {}),
  };
}

/** A kept account in the `Account` wire shape (with its Brasil identification: for operators, not devices). */
export function bankAccountToWire(account: BankAccount): AccountWire {
  const brasil = account.brasil;
  return {
    ...accountView(account),
    ...(brasil !== undefined
      ? { brasil: { account_type: brasil.accountType, ispb: brasil.ispb, number: brasil.number, ...(brasil.issuer !== undefined ? { issuer: brasil.issuer } : {}) } }
      : {}),
  };
}
