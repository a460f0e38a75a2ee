import type { BankAccount } from '../../domain/account.js';
import type { UserRef } from '../../domain/user.js';
import type { AccountRepository } from '../../ports/accounts.js';

export class MemoryAccounts implements AccountRepository {
  private readonly accounts = new Map<string, BankAccount[]>();

  async get(user: UserRef): Promise<BankAccount[] | undefined> {
    const accounts = this.accounts.get(user.userId);
    return accounts === undefined ? undefined : structuredClone(accounts);
  }

  async put(user: UserRef, accounts: BankAccount[]): Promise<void> {
    this.accounts.set(user.userId, structuredClone(accounts));
  }
}
