import type { BankAccount } from '../domain/account.js';
import type { UserRef } from '../domain/user.js';

/** The accounts operators store for a user (admin API); they live in the user's partition. */
export interface AccountRepository {
  /** Undefined when none were ever stored for the user. */
  get(user: UserRef): Promise<BankAccount[] | undefined>;
  /** Replaces the user's accounts. */
  put(user: UserRef, accounts: BankAccount[]): Promise<void>;
}

/**
 * Where the accounts a user may choose from come from: the stored ones, or the bank's own endpoint
 * (`ACCOUNTS_API_URL`). Failures are {@link AccountDirectoryError}s.
 */
export interface AccountDirectory {
  /** Whether accounts come from outside the service (and the admin API cannot set them). */
  readonly external: boolean;
  listAccounts(user: UserRef): Promise<BankAccount[]>;
}

export class AccountDirectoryError extends Error {
  /** What the directory asked to wait (`Retry-After`), when it did. */
  readonly retryAfterMs: number | undefined;
  constructor(
    message: string,
    /** Whether trying again later can help (network trouble, 5xx, 429). */
    readonly retryable: boolean,
    options: { cause?: unknown; retryAfterMs?: number } = {},
  ) {
    super(message, { cause: options.cause });
    this.retryAfterMs = options.retryAfterMs;
    this.name = 'AccountDirectoryError';
  }
}
