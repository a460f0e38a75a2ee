import { partitionOf } from '../../domain/identifiers.js';

/**
 * Every key name in one place. Keys of one user share the hash tag `{partition}` and so one
 * Redis Cluster slot; lookups by an outside identifier (alias, device token, activation code)
 * are single keys and may live anywhere.
 */
export class RedisKeys {
  constructor(private readonly prefix: string) {}

  private inPartition(partition: string, rest: string): string {
    return `${this.prefix}{${partition}}:${rest}`;
  }

  /** normalised identifier → `partition + userId` */
  identifier(normalized: string): string {
    return `${this.prefix}id:${normalized}`;
  }

  user(partition: string, userId: string): string {
    return this.inPartition(partition, `user:${userId}`);
  }

  /** All devices of a user, scored by creation time. */
  userDevices(partition: string, userId: string): string {
    return this.inPartition(partition, `devices:${userId}`);
  }

  /** Ids of the user's active devices. */
  activeDevices(partition: string, userId: string): string {
    return this.inPartition(partition, `active:${userId}`);
  }

  /** JSON list of the user's bank accounts (Open Banking account choice). */
  userAccounts(partition: string, userId: string): string {
    return this.inPartition(partition, `accounts:${userId}`);
  }

  /**
   * Pending requests of the partition's user (a partition is one user's), scored by expiry; also the
   * requests that reached the user per UTC day, for NOTIFY_MAX_PER_DAY (see RedisRequests.create).
   */
  pendingRequests(partition: string): string {
    return this.inPartition(partition, 'pending');
  }

  device(deviceId: string): string {
    return this.inPartition(partitionOf(deviceId), `device:${deviceId}`);
  }

  request(requestId: string): string {
    return this.inPartition(partitionOf(requestId), `req:${requestId}`);
  }

  /** SHA-256 of a device token → device id. */
  deviceToken(tokenHash: string): string {
    return `${this.prefix}dtok:${tokenHash}`;
  }

  activationCode(codeHash: string): string {
    return `${this.prefix}act:${codeHash}`;
  }

  replay(scope: string, id: string): string {
    return `${this.prefix}jti:${scope}:${id}`;
  }

  /** Prepared requests by expiry, for the expiry sweep (a single key, so any slot). */
  get expiring(): string {
    return `${this.prefix}expiring`;
  }

  /** The audit trail: one stream (a single key, so any slot). */
  get audit(): string {
    return `${this.prefix}audit`;
  }

  /** BullMQ's prefix: one hash tag so every queue key sits in one slot, as BullMQ requires on a cluster. */
  get queuePrefix(): string {
    return `${this.prefix}{jobs}`;
  }
}
