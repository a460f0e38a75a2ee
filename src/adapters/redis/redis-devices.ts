import type { JWK } from 'jose';
import type { Device, DeviceAlgorithm, DeviceChanges, DevicePlatform, PushTokenStatus } from '../../domain/device.js';
import { partitionOf } from '../../domain/identifiers.js';
import type { ActivationCodeRepository, DeviceRepository, ReplayCache } from '../../ports/devices.js';
import type { RedisConnection } from './redis-client.js';
import { LuaScript } from './lua-script.js';
import type { RedisKeys } from './redis-keys.js';

/** Updates fields of a device only while it is active (a revoke in between wins). */
const UPDATE_ACTIVE_DEVICE = new LuaScript(`
if redis.call('HGET', KEYS[1], 'status') ~= 'active' then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1`, 1);

/** Marks the device revoked and drops it from the user's active set in one step. */
const REVOKE_DEVICE = new LuaScript(`
if redis.call('HGET', KEYS[1], 'status') ~= 'active' then return nil end
redis.call('HSET', KEYS[1], 'status', 'revoked', 'revoked_at', ARGV[1])
redis.call('SREM', KEYS[2], ARGV[2])
return redis.call('HGET', KEYS[1], 'token_hash')`, 2);

/**
 * Devices as Redis hashes with one field per attribute, so an update touches only its fields.
 * The token index is a separate single key: it may live in another slot.
 */
export class RedisDevices implements DeviceRepository {
  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: RedisKeys,
  ) {}

  async create(device: Device): Promise<void> {
    const partition = partitionOf(device.deviceId);
    await this.redis
      .multi()
      .hset(this.keys.device(device.deviceId), toHash(device))
      .zadd(this.keys.userDevices(partition, device.userId), device.createdAt, device.deviceId)
      .sadd(this.keys.activeDevices(partition, device.userId), device.deviceId)
      .exec();
    await this.redis.set(this.keys.deviceToken(device.tokenHash), device.deviceId);
  }

  async get(deviceId: string): Promise<Device | undefined> {
    const hash = await this.redis.hgetall(this.keys.device(deviceId));
    return fromHash(deviceId, hash);
  }

  async findByTokenHash(tokenHash: string): Promise<Device | undefined> {
    const deviceId = await this.redis.get(this.keys.deviceToken(tokenHash));
    if (deviceId === null) return undefined;
    const device = await this.get(deviceId);
    // The index may outlive a revoke that failed half-way; the device record is the truth.
    return device?.status === 'active' && device.tokenHash === tokenHash ? device : undefined;
  }

  async listForUser(userId: string, partition: string): Promise<Device[]> {
    const ids = await this.redis.zrange(this.keys.userDevices(partition, userId), 0, -1);
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hgetall(this.keys.device(id));
    const results = (await pipeline.exec()) ?? [];
    return results.flatMap(([error, hash], index) => {
      if (error) throw error;
      const device = fromHash(ids[index] ?? '', hash as Record<string, string>);
      return device === undefined ? [] : [device];
    });
  }

  async update(deviceId: string, changes: DeviceChanges): Promise<Device | undefined> {
    const fields = Object.entries(toHash(changes)).flat();
    if (fields.length > 0) {
      const updated = await UPDATE_ACTIVE_DEVICE.run(this.redis, [this.keys.device(deviceId)], fields);
      if (updated !== 1) return undefined;
    }
    return this.get(deviceId);
  }

  async revoke(deviceId: string, now: number): Promise<boolean> {
    const userId = await this.redis.hget(this.keys.device(deviceId), 'user_id');
    if (userId === null) return false;
    const tokenHash = await REVOKE_DEVICE.run(
      this.redis,
      [this.keys.device(deviceId), this.keys.activeDevices(partitionOf(deviceId), userId)],
      [now, deviceId],
    );
    if (typeof tokenHash !== 'string') return false;
    await this.redis.del(this.keys.deviceToken(tokenHash));
    return true;
  }
}

export class RedisActivationCodes implements ActivationCodeRepository {
  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: RedisKeys,
  ) {}

  async save(codeHash: string, userId: string, ttlSeconds: number): Promise<void> {
    await this.redis.set(this.keys.activationCode(codeHash), userId, 'EX', ttlSeconds);
  }

  async consume(codeHash: string): Promise<string | undefined> {
    return (await this.redis.getdel(this.keys.activationCode(codeHash))) ?? undefined;
  }
}

export class RedisReplayCache implements ReplayCache {
  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: RedisKeys,
  ) {}

  async firstUse(scope: string, id: string, ttlSeconds: number): Promise<boolean> {
    return (await this.redis.set(this.keys.replay(scope, id), '1', 'EX', ttlSeconds, 'NX')) === 'OK';
  }
}

function toHash(device: Partial<Device>): Record<string, string> {
  const fields: Record<string, string | undefined> = {
    user_id: device.userId,
    name: device.name,
    platform: device.platform,
    public_jwk: device.publicJwk === undefined ? undefined : JSON.stringify(device.publicJwk),
    jkt: device.jwkThumbprint,
    alg: device.alg,
    token_hash: device.tokenHash,
    push_token: device.pushToken,
    push_status: device.pushTokenStatus,
    status: device.status,
    created_at: device.createdAt?.toString(),
    last_seen_at: device.lastSeenAt?.toString(),
    revoked_at: device.revokedAt?.toString(),
  };
  return Object.fromEntries(Object.entries(fields).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

function fromHash(deviceId: string, hash: Record<string, string>): Device | undefined {
  if (hash.user_id === undefined || hash.public_jwk === undefined) return undefined;
  const optionalNumber = (value: string | undefined): number | undefined => (value === undefined ? undefined : Number(value));
  const lastSeenAt = optionalNumber(hash.last_seen_at);
  const revokedAt = optionalNumber(hash.revoked_at);
  return {
    deviceId,
    userId: hash.user_id,
    platform: (hash.platform ?? 'other') as DevicePlatform,
    publicJwk: JSON.parse(hash.public_jwk) as JWK,
    jwkThumbprint: hash.jkt ?? '',
    alg: (hash.alg ?? 'ES256') as DeviceAlgorithm,
    tokenHash: hash.token_hash ?? '',
    pushTokenStatus: (hash.push_status ?? 'none') as PushTokenStatus,
    status: hash.status === 'active' ? 'active' : 'revoked',
    createdAt: Number(hash.created_at ?? 0),
    ...(hash.name !== undefined ? { name: hash.name } : {}),
    ...(hash.push_token !== undefined ? { pushToken: hash.push_token } : {}),
    ...(lastSeenAt !== undefined ? { lastSeenAt } : {}),
    ...(revokedAt !== undefined ? { revokedAt } : {}),
  };
}
