import type { AccountView, BrasilAccountIdentification } from './openbanking.js';

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
