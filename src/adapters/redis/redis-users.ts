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

/** Writes the user record only if its version is still the one read (compare-and-set). */
const WRITE_USER = new LuaScript(
  `
local version = redis.call('HGET', KEYS[1], 'version') or '0'
if version ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'json', ARGV[2], 'disabled', ARGV[3], 'email', ARGV[4], 'version', tonumber(version) + 1)
return 1`,
  1,
);

const MAX_WRITE_ATTEMPTS = 10;

/**
 * Users as Redis hashes (`json` holds the record; `disabled` and `email` — whether an alias is an
 * e-mail address, by emailAliasOf — are kept apart for /user/verify and the create-request script,
 * which then read two small fields instead of decoding the record). Identifier keys map every normalised alias, and the user id itself,
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
      .hmget(this.keys.user(ref.partition, ref.userId), 'disabled', 'email')
      .scard(this.keys.activeDevices(ref.partition, ref.userId))
      .exec();
    const [flags, activeDevices] = (results ?? []).map(([error, value]) => {
      if (error) throw error;
      return value;
    });
    const [disabled, email] = (flags ?? []) as Array<string | null>;
    return {
      exists: disabled !== null && disabled !== undefined,
      disabled: disabled === '1',
      activeDevices: Number(activeDevices ?? 0),
      hasEmailAlias: email === '1',
    };
  }

  async get(userId: string): Promise<User | undefined> {
    const ref = await this.resolve(normalizeIdentifier(userId));
    if (ref === undefined || ref.userId !== userId) return undefined;
    const json = await this.redis.hget(this.keys.user(ref.partition, userId), 'json');
    return json === null ? undefined : (JSON.parse(json) as User);
  }

  async upsert(userId: string, input: UserInput, now: number): Promise<UpsertUserResult> {
    const own = await this.claimOwnIdentifier(userId);
    if (own === undefined) return { ok: false, conflictingAlias: normalizeIdentifier(userId) };
    // Optimistic concurrency: the record carries a version and is written only if nobody wrote in
    // between; a concurrent update makes this call start over from the fresh record.
    for (let attempt = 1; ; attempt += 1) {
      const result = await this.tryUpsert(userId, own.partition, input, now);
      if (result !== 'lost-race') return result;
      if (attempt >= MAX_WRITE_ATTEMPTS) throw new Error(`user ${userId} is being updated concurrently; retry`);
    }
  }

  /**
   * The user id is an identifier of its own user. Claiming it first fixes the user's partition even
   * when two calls create the same new user at once: the second adopts the first one's partition.
   */
  private async claimOwnIdentifier(userId: string): Promise<UserRef | undefined> {
    const key = this.keys.identifier(normalizeIdentifier(userId));
    const candidate = newPartition();
    if ((await this.redis.set(key, `${candidate}${userId}`, 'NX')) === 'OK') return { partition: candidate, userId };
    const owner = await this.redis.get(key);
    if (owner === null) return this.claimOwnIdentifier(userId);
    const ref = parseRef(owner);
    return ref.userId === userId ? ref : undefined;
  }

  private async tryUpsert(userId: string, partition: string, input: UserInput, now: number): Promise<UpsertUserResult | 'lost-race'> {
    const userKey = this.keys.user(partition, userId);
    const [json, version] = await this.redis.hmget(userKey, 'json', 'version');
    const existing = json === null || json === undefined ? undefined : (JSON.parse(json) as User);
    const ref = `${partition}${userId}`;
    const aliases = input.aliases === undefined ? (existing?.aliases ?? []) : [...new Set(input.aliases.map(normalizeIdentifier))];
    const wanted = [...new Set([normalizeIdentifier(userId), ...aliases])];

    // Claim every identifier first; on a conflict give back what this call claimed and change nothing.
    const claimedNow: string[] = [];
    const releaseClaimed = async (): Promise<void> => {
      for (const release of claimedNow) await RELEASE_IDENTIFIER.run(this.redis, [this.keys.identifier(release)], [ref]);
    };
    for (const identifier of wanted) {
      const key = this.keys.identifier(identifier);
      if ((await this.redis.set(key, ref, 'NX')) === 'OK') {
        claimedNow.push(identifier);
        continue;
      }
      if ((await this.redis.get(key)) !== ref) {
        await releaseClaimed();
        return { ok: false, conflictingAlias: identifier };
      }
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
    const written = await WRITE_USER.run(this.redis, [userKey], [version ?? '0', JSON.stringify(user), user.disabled ? '1' : '0', emailAliasOf(user) !== undefined ? '1' : '0']);
    if (written !== 1) {
      await releaseClaimed();
      return 'lost-race';
    }
    for (const dropped of existing?.aliases ?? []) {
      if (!wanted.includes(dropped)) await RELEASE_IDENTIFIER.run(this.redis, [this.keys.identifier(dropped)], [ref]);
    }
    return { ok: true, user };
  }
}

function parseRef(value: string): UserRef {
  return { partition: value.slice(0, PARTITION_LENGTH), userId: value.slice(PARTITION_LENGTH) };
}
