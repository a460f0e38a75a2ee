import { emailAliasOf, type User, type UserReachability, type UserRef } from '../../domain/user.js';
import { PARTITION_LENGTH, newPartition, normalizeIdentifier } from '../../domain/identifiers.js';
import type { UpsertUserResult, UserInput, UserRepository } from '../../ports/users.js';
import type { RedisConnection } from './redis-client.js';
import type { RedisKeys } from './redis-keys.js';
import { LuaScript } from './lua-script.js';

/** Deletes an identifier only while it still names the given user, so a concurrent re-assignment wins. */
const RELEASE_IDENTIFIER = new LuaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`, 1);

/**
 * Users as Redis hashes (`json` holds the record, `disabled` is kept apart for the reachability check
 * of the create-request script). Identifier keys map every normalised alias, and the user id itself,
 * to `partition + userId`.
 */
export class RedisUsers implements UserRepository {
  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: RedisKeys,
  ) {}

  async resolve(identifier: string): Promise<UserRef | undefined> {
    const value = await this.redis.get(this.keys.identifier(identifier));
    return value === null ? undefined : parseRef(value);
  }

  async reachability(ref: UserRef): Promise<UserReachability> {
    const results = await this.redis
      .pipeline()
      .hget(this.keys.user(ref.partition, ref.userId), 'disabled')
      .scard(this.keys.activeDevices(ref.partition, ref.userId))
      .hget(this.keys.user(ref.partition, ref.userId), 'json')
      .exec();
    const [disabled, activeDevices, json] = (results ?? []).map(([error, value]) => {
      if (error) throw error;
      return value;
    });
    return {
      exists: disabled !== null && disabled !== undefined,
      disabled: disabled === '1',
      activeDevices: Number(activeDevices ?? 0),
      hasEmailAlias: typeof json === 'string' && emailAliasOf(JSON.parse(json) as User) !== undefined,
    };
  }

  async get(userId: string): Promise<User | undefined> {
    const ref = await this.resolve(normalizeIdentifier(userId));
    if (ref === undefined || ref.userId !== userId) return undefined;
    const json = await this.redis.hget(this.keys.user(ref.partition, userId), 'json');
    return json === null ? undefined : (JSON.parse(json) as User);
  }

  async upsert(userId: string, input: UserInput, now: number): Promise<UpsertUserResult> {
    const existing = await this.get(userId);
    const partition = existing?.partition ?? newPartition();
    const ref = `${partition}${userId}`;
    const aliases = input.aliases === undefined ? (existing?.aliases ?? []) : [...new Set(input.aliases.map(normalizeIdentifier))];
    const wanted = [...new Set([normalizeIdentifier(userId), ...aliases])];

    // Claim every identifier first; on a conflict give back what this call claimed and change nothing.
    const claimedNow: string[] = [];
    for (const identifier of wanted) {
      const key = this.keys.identifier(identifier);
      const claimed = await this.redis.set(key, ref, 'NX');
      if (claimed === 'OK') {
        claimedNow.push(identifier);
        continue;
      }
      const owner = await this.redis.get(key);
      if (owner !== ref) {
        for (const release of claimedNow) await RELEASE_IDENTIFIER.run(this.redis, [this.keys.identifier(release)], [ref]);
        return { ok: false, conflictingAlias: identifier };
      }
    }
    for (const dropped of existing?.aliases ?? []) {
      if (!wanted.includes(dropped)) await RELEASE_IDENTIFIER.run(this.redis, [this.keys.identifier(dropped)], [ref]);
    }

    const displayName = input.displayName ?? existing?.displayName;
    const user: User = {
      userId,
      partition,
      aliases,
      disabled: input.disabled ?? existing?.disabled ?? false,
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
      ...(displayName !== undefined ? { displayName } : {}),
    };
    await this.redis.hset(this.keys.user(partition, userId), 'json', JSON.stringify(user), 'disabled', user.disabled ? '1' : '0');
    return { ok: true, user };
  }
}

function parseRef(value: string): UserRef {
  return { partition: value.slice(0, PARTITION_LENGTH), userId: value.slice(PARTITION_LENGTH) };
}
