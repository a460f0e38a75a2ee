import axios, { type AxiosInstance } from 'axios';
import { z } from 'zod';
import { bankAccountFromWire, type BankAccount } from '../../domain/account.js';
import type { UserRef } from '../../domain/user.js';
import { AccountDirectoryError, type AccountDirectory } from '../../ports/accounts.js';
import { isRetryableStatus, retryAfterMs, transportErrorCode } from '../secureauth/http-failure.js';

export interface HttpAccountDirectorySettings {
  /** `https://bank.example/users/{user_id}/accounts`, or a URL the user id is added to as `?user_id=`. */
  url: string;
  /** Sent as `Authorization: Bearer …` when set. */
  token: string | undefined;
  timeoutMs: number;
}

const USER_ID_PLACEHOLDER = '{user_id}';

/** The bank's answer: the admin API's `AccountList`, with the same limits (see the OpenAPI document). */
const accountList = z.object({
  accounts: z
    .array(
      z.object({
        account_id: z.string().min(1).max(128),
        name: z.string().min(1).max(256),
        masked_number: z.string().max(64).optional(),
        currency: z.string().regex(/^[A-Z]{3}$/).optional(),
        brasil: z
          .object({
            account_type: z.string().max(8),
            ispb: z.string().regex(/^[0-9]{8}$/),
            issuer: z.string().regex(/^[0-9]{4}$/).optional(),
            number: z.string().regex(/^[0-9]{3,20}$/),
          })
          .optional(),
      }),
    )
    .max(100),
});

/**
 * Accounts from the bank's own HTTP endpoint (`ACCOUNTS_API_URL`), asked each time a request is
 * prepared so the user always chooses from what the bank holds now. 404 means the user has none.
 */
export class HttpAccountDirectory implements AccountDirectory {
  readonly external = true;
  private readonly http: AxiosInstance;

  constructor(private readonly settings: HttpAccountDirectorySettings) {
    this.http = axios.create({ timeout: settings.timeoutMs, validateStatus: () => true, maxRedirects: 0 });
  }

  async listAccounts(user: UserRef): Promise<BankAccount[]> {
    let response;
    try {
      response = await this.http.get(this.urlFor(user.userId), {
        headers: { accept: 'application/json', ...(this.settings.token ? { authorization: `Bearer ${this.settings.token}` } : {}) },
      });
    } catch (error) {
      throw new AccountDirectoryError(`the accounts API could not be reached: ${transportErrorCode(error)}`, true, { cause: error });
    }
    if (response.status === 404) return [];
    if (response.status !== 200) {
      const after = retryAfterMs(response.headers['retry-after']);
      throw new AccountDirectoryError(`the accounts API answered HTTP ${response.status}`, isRetryableStatus(response.status), {
        ...(after !== undefined ? { retryAfterMs: after } : {}),
      });
    }
    const parsed = accountList.safeParse(response.data);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new AccountDirectoryError(`the accounts API answer is not an account list (${issue ? `${issue.path.join('.')}: ${issue.message}` : 'unreadable'})`, false);
    }
    return parsed.data.accounts.map(bankAccountFromWire);
  }

  private urlFor(userId: string): string {
    const { url } = this.settings;
    if (url.includes(USER_ID_PLACEHOLDER)) return url.replaceAll(USER_ID_PLACEHOLDER, encodeURIComponent(userId));
    const withQuery = new URL(url);
    withQuery.searchParams.set('user_id', userId);
    return withQuery.toString();
  }
}
