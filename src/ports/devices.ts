import type { Device, DeviceChanges } from '../domain/device.js';

/** Enrolled authentication devices. A device belongs to one user and lives in that user's partition. */
export interface DeviceRepository {
  /** Stores an active device and indexes it by the hash of its token. */
  create(device: Device): Promise<void>;
  get(deviceId: string): Promise<Device | undefined>;
  findByTokenHash(tokenHash: string): Promise<Device | undefined>;
  /** Every device of the user, active and revoked, oldest first. */
  listForUser(userId: string, partition: string): Promise<Device[]>;
  update(deviceId: string, changes: DeviceChanges): Promise<Device | undefined>;
  /** Revokes the device and invalidates its token; false when there was no active device. */
  revoke(deviceId: string, now: number): Promise<boolean>;
}

/** Single-use activation codes; only their hash is stored. */
export interface ActivationCodeRepository {
  save(codeHash: string, userId: string, ttlSeconds: number): Promise<void>;
  /** Returns the user the code was for and deletes it, atomically; undefined when unknown or expired. */
  consume(codeHash: string): Promise<string | undefined>;
}

/** Remembers one-time identifiers (DPoP proof `jti`s) for as long as they could be replayed. */
export interface ReplayCache {
  /** True the first time an id is seen in a scope within the TTL, false on every replay. */
  firstUse(scope: string, id: string, ttlSeconds: number): Promise<boolean>;
}
