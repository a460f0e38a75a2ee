import { emailAliasOf, type User, type UserReachability, type UserRef } from '../../domain/user.js';
import { newPartition, normalizeIdentifier } from '../../domain/identifiers.js';
import type { UpsertUserResult, UserInput, UserRepository } from '../../ports/users.js';
import type { MemoryDevices } from './memory-devices.js';

/** In-process users for the embedded default; same behaviour as the Redis repository. */
export class MemoryUsers implements UserRepository {
  private readonly users = new Map<string, User>();
  /** normalised identifier → user id; every user is also an identifier of itself. */
  private readonly identifiers = new Map<string, string>();

  constructor(private readonly devices: MemoryDevices) {}

  async resolve(identifier: string): Promise<UserRef | undefined> {
    const userId = this.identifiers.get(identifier);
    const user = userId === undefined ? undefined : this.users.get(userId);
    return user === undefined ? undefined : { userId: user.userId, partition: user.partition };
  }

  async reachability(ref: UserRef): Promise<UserReachability> {
    const user = this.users.get(ref.userId);
    return {
      exists: user !== undefined,
      disabled: user?.disabled ?? false,
      activeDevices: this.devices.activeCount(ref.userId),
      hasEmailAlias: user !== undefined && emailAliasOf(user) !== undefined,
    };
  }

  async get(userId: string): Promise<User | undefined> {
    const user = this.users.get(userId);
    return user === undefined ? undefined : structuredClone(user);
  }

  async upsert(userId: string, input: UserInput, now: number): Promise<UpsertUserResult> {
    const existing = this.users.get(userId);
    const aliases = input.aliases === undefined ? (existing?.aliases ?? []) : dedupe(input.aliases.map(normalizeIdentifier));
    for (const alias of [normalizeIdentifier(userId), ...aliases]) {
      const owner = this.identifiers.get(alias);
      if (owner !== undefined && owner !== userId) return { ok: false, conflictingAlias: alias };
    }
    for (const alias of existing?.aliases ?? []) {
      if (!aliases.includes(alias) && alias !== normalizeIdentifier(userId)) this.identifiers.delete(alias);
    }
    const user: User = {
      userId,
      partition: existing?.partition ?? newPartition(),
      aliases,
      disabled: input.disabled ?? existing?.disabled ?? false,
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
      ...((input.displayName ?? existing?.displayName) !== undefined
        ? { displayName: input.displayName ?? existing?.displayName }
        : {}),
    };
    this.users.set(userId, user);
    for (const alias of [normalizeIdentifier(userId), ...aliases]) this.identifiers.set(alias, userId);
    return { ok: true, user: structuredClone(user) };
  }
}

const dedupe = (values: string[]): string[] => [...new Set(values)];
