import type { BankAccount } from '../../domain/account.js';
import type { UserRef } from '../../domain/user.js';
import type { AccountDirectory, AccountRepository } from '../../ports/accounts.js';

/** The default directory: the accounts operators stored with `PUT /admin/v1/users/{user_id}/accounts`. */
export class StoredAccountDirectory implements AccountDirectory {
  readonly external = false;

  constructor(private readonly accounts: AccountRepository) {}

  async listAccounts(user: UserRef): Promise<BankAccount[]> {
    return (await this.accounts.get(user)) ?? [];
  }
}
