import type { User, UserReachability, UserRef } from '../domain/user.js';

export interface UserInput {
  displayName?: string;
  aliases?: string[];
  disabled?: boolean;
}

export type UpsertUserResult = { ok: true; user: User } | { ok: false; conflictingAlias: string };

/** Users and the identifiers (user id and aliases) that name them. */
export interface UserRepository {
  /** Resolves a user id or alias (already normalised) to the user it names. One store round trip. */
  resolve(identifier: string): Promise<UserRef | undefined>;
  /** Whether the user exists, is enabled and has active devices. One store round trip. */
  reachability(user: UserRef): Promise<UserReachability>;
  get(userId: string): Promise<User | undefined>;
  /** Creates or updates; an alias already naming another user is refused and nothing changes. */
  upsert(userId: string, input: UserInput, now: number): Promise<UpsertUserResult>;
}
