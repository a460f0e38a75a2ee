import type { BankAccount } from '../domain/account.js';
import { AppError } from '../domain/errors.js';
import type { User } from '../domain/user.js';
import { AccountDirectoryError } from '../ports/accounts.js';
import type { Dependencies } from './dependencies.js';

type AccountDeps = Pick<Dependencies, 'users' | 'accounts' | 'accountDirectory' | 'logger' | 'audit' | 'clock'>;

async function existingUser(deps: AccountDeps, userId: string): Promise<User> {
  const user = await deps.users.get(userId);
  if (user === undefined) throw AppError.notFound('no such user');
  return user;
}

/** Replaces the accounts a user may choose from in Open Banking requests (the stored directory). */
export async function putAccounts(deps: AccountDeps, userId: string, accounts: BankAccount[]): Promise<BankAccount[]> {
  const user = await existingUser(deps, userId);
  if (deps.accountDirectory.external) {
    throw AppError.conflict('accounts_managed_by_bank', "accounts come from the bank's accounts API (ACCOUNTS_API_URL) and cannot be set here");
  }
  const ids = accounts.map((account) => account.accountId);
  const repeated = ids.find((id, index) => ids.indexOf(id) !== index);
  if (repeated !== undefined) throw AppError.invalidRequest(`accounts: account_id ${repeated} is listed twice`);
  await deps.accounts.put({ userId, partition: user.partition }, accounts);
  await deps.audit.record({ type: 'user.accounts_saved', at: deps.clock.now(), userId, actor: 'admin', reason: `${accounts.length} account(s)` });
  return accounts;
}

/** The accounts the user would be offered now, from whichever directory is configured. */
export async function listAccounts(deps: AccountDeps, userId: string): Promise<BankAccount[]> {
  const user = await existingUser(deps, userId);
  try {
    return await deps.accountDirectory.listAccounts({ userId, partition: user.partition });
  } catch (error) {
    if (!(error instanceof AccountDirectoryError)) throw error;
    throw AppError.unavailable(`the accounts could not be read: ${error.message}`);
  }
}
