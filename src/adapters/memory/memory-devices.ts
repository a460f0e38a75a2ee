import type { Device, DeviceChanges } from '../../domain/device.js';
import type { ActivationCodeRepository, DeviceRepository, ReplayCache } from '../../ports/devices.js';
import { ExpiringMap } from './expiring-map.js';

export class MemoryDevices implements DeviceRepository {
  private readonly devices = new Map<string, Device>();
  private readonly byTokenHash = new Map<string, string>();

  async create(device: Device): Promise<void> {
    this.devices.set(device.deviceId, structuredClone(device));
    this.byTokenHash.set(device.tokenHash, device.deviceId);
  }

  async get(deviceId: string): Promise<Device | undefined> {
    const device = this.devices.get(deviceId);
    return device === undefined ? undefined : structuredClone(device);
  }

  async findByTokenHash(tokenHash: string): Promise<Device | undefined> {
    const deviceId = this.byTokenHash.get(tokenHash);
    return deviceId === undefined ? undefined : this.get(deviceId);
  }

  async listForUser(userId: string): Promise<Device[]> {
    return [...this.devices.values()]
      .filter((device) => device.userId === userId)
      .sort((a, b) => a.createdAt - b.createdAt)
      .map((device) => structuredClone(device));
  }

  async update(deviceId: string, changes: DeviceChanges): Promise<Device | undefined> {
    const device = this.devices.get(deviceId);
    if (device === undefined || device.status !== 'active') return undefined;
    Object.assign(device, changes);
    return structuredClone(device);
  }

  async revoke(deviceId: string, now: number): Promise<boolean> {
    const device = this.devices.get(deviceId);
    if (device === undefined || device.status !== 'active') return false;
    device.status = 'revoked';
    device.revokedAt = now;
    this.byTokenHash.delete(device.tokenHash);
    return true;
  }

  activeCount(userId: string): number {
    let count = 0;
    for (const device of this.devices.values()) if (device.userId === userId && device.status === 'active') count += 1;
    return count;
  }
}

export class MemoryActivationCodes implements ActivationCodeRepository {
  private readonly codes = new ExpiringMap<string>();

  async save(codeHash: string, userId: string, ttlSeconds: number): Promise<void> {
    this.codes.set(codeHash, userId, ttlSeconds * 1000);
  }

  async consume(codeHash: string): Promise<string | undefined> {
    return this.codes.take(codeHash);
  }
}

export class MemoryReplayCache implements ReplayCache {
  private readonly seen = new ExpiringMap<true>();

  async firstUse(scope: string, id: string, ttlSeconds: number): Promise<boolean> {
    return this.seen.setIfAbsent(`${scope}\u0000${id}`, true, ttlSeconds * 1000);
  }
}
