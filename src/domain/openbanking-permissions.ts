import type { PermissionView } from './openbanking.js';

/**
 * Data-access permissions in words, so the user reads what the third party will see rather than a
 * code. Codes of the UK Account and Transaction API and of Open Finance Brasil's consents API; a code
 * not listed here is shown spelled out from its name.
 */
const descriptions: Record<string, string> = {
  // Open Banking UK
  ReadAccountsBasic: 'Your account names, types and currencies',
  ReadAccountsDetail: 'Your account names, types and currencies, with account numbers and sort codes',
  ReadBalances: 'Your account balances',
  ReadBeneficiariesBasic: 'The payees you have set up',
  ReadBeneficiariesDetail: 'The payees you have set up, with their account details',
  ReadDirectDebits: 'Your direct debits',
  ReadOffers: 'Offers your bank has made to you',
  ReadPAN: 'Your full card numbers',
  ReadParty: 'The details of the account holders',
  ReadPartyPSU: 'Your own details as the account holder',
  ReadProducts: 'The products your accounts are',
  ReadScheduledPaymentsBasic: 'Your scheduled payments',
  ReadScheduledPaymentsDetail: 'Your scheduled payments, with the payees’ account details',
  ReadStandingOrdersBasic: 'Your standing orders',
  ReadStandingOrdersDetail: 'Your standing orders, with the payees’ account details',
  ReadStatementsBasic: 'Your statements',
  ReadStatementsDetail: 'Your statements, with every amount on them',
  ReadTransactionsBasic: 'Your transactions (without payee details)',
  ReadTransactionsDetail: 'Your transactions, with payee details',
  ReadTransactionsCredits: 'Money coming into your accounts',
  ReadTransactionsDebits: 'Money going out of your accounts',
  // Open Finance Brasil
  ACCOUNTS_READ: 'Your accounts',
  ACCOUNTS_BALANCES_READ: 'Your account balances',
  ACCOUNTS_TRANSACTIONS_READ: 'Your account transactions',
  ACCOUNTS_OVERDRAFT_LIMITS_READ: 'Your overdraft limits',
  CREDIT_CARDS_ACCOUNTS_READ: 'Your credit card accounts',
  CREDIT_CARDS_ACCOUNTS_BILLS_READ: 'Your credit card bills',
  CREDIT_CARDS_ACCOUNTS_BILLS_TRANSACTIONS_READ: 'The transactions on your credit card bills',
  CREDIT_CARDS_ACCOUNTS_LIMITS_READ: 'Your credit card limits',
  CREDIT_CARDS_ACCOUNTS_TRANSACTIONS_READ: 'Your credit card transactions',
  CUSTOMERS_PERSONAL_IDENTIFICATIONS_READ: 'Your identification details',
  CUSTOMERS_PERSONAL_ADITTIONALINFO_READ: 'Your further personal details (relationship with the bank, income, occupation)',
  CUSTOMERS_BUSINESS_IDENTIFICATIONS_READ: 'Your company’s identification details',
  CUSTOMERS_BUSINESS_ADITTIONALINFO_READ: 'Your company’s further details',
  FINANCINGS_READ: 'Your financings',
  FINANCINGS_SCHEDULED_INSTALMENTS_READ: 'The instalments due on your financings',
  FINANCINGS_PAYMENTS_READ: 'The payments made on your financings',
  FINANCINGS_WARRANTIES_READ: 'The guarantees of your financings',
  INVOICE_FINANCINGS_READ: 'Your invoice financings',
  INVOICE_FINANCINGS_SCHEDULED_INSTALMENTS_READ: 'The instalments due on your invoice financings',
  INVOICE_FINANCINGS_PAYMENTS_READ: 'The payments made on your invoice financings',
  INVOICE_FINANCINGS_WARRANTIES_READ: 'The guarantees of your invoice financings',
  LOANS_READ: 'Your loans',
  LOANS_SCHEDULED_INSTALMENTS_READ: 'The instalments due on your loans',
  LOANS_PAYMENTS_READ: 'The payments made on your loans',
  LOANS_WARRANTIES_READ: 'The guarantees of your loans',
  UNARRANGED_ACCOUNTS_OVERDRAFT_READ: 'Your unarranged overdrafts',
  UNARRANGED_ACCOUNTS_OVERDRAFT_SCHEDULED_INSTALMENTS_READ: 'The instalments due on your unarranged overdrafts',
  UNARRANGED_ACCOUNTS_OVERDRAFT_PAYMENTS_READ: 'The payments made on your unarranged overdrafts',
  UNARRANGED_ACCOUNTS_OVERDRAFT_WARRANTIES_READ: 'The guarantees of your unarranged overdrafts',
  RESOURCES_READ: 'Which of your products and accounts are shared',
};

/** `ReadFooBar` → `Read foo bar`; `FOO_BAR_READ` → `Foo bar read`. */
function spelledOut(code: string): string {
  const words = code
    .replace(/_/g, ' ')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .trim()
    .toLowerCase();
  return words.length === 0 ? code : words.charAt(0).toUpperCase() + words.slice(1);
}

export function describePermission(code: string): PermissionView {
  return { code, description: descriptions[code] ?? spelledOut(code) };
}
