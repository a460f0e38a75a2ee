import type { BankAccount } from '../../domain/account.js';
import type { UserRef } from '../../domain/user.js';
import type { AccountRepository } from '../../ports/accounts.js';
import type { RedisConnection } from './redis-client.js';
import type { RedisKeys } from './redis-keys.js';

/** A user's accounts as one JSON string in the user's partition; replaced whole. */
export class RedisAccounts implements AccountRepository {
  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: RedisKeys,
  ) {}

  async get(user: UserRef): Promise<BankAccount[] | undefined> {
    const json = await this.redis.get(this.keys.userAccounts(user.partition, user.userId));
    return json === null ? undefined : (JSON.parse(json) as BankAccount[]);
  }

  async put(user: UserRef, accounts: BankAccount[]): Promise<void> {
    await this.redis.set(this.keys.userAccounts(user.partition, user.userId), JSON.stringify(accounts));
  }
}
