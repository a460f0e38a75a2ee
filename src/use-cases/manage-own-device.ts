import type { Device } from '../domain/device.js';
import { AppError } from '../domain/errors.js';
import { dpopChallenge } from '../protocol/dpop.js';
import type { Dependencies } from './dependencies.js';

type Deps = Pick<Dependencies, 'devices' | 'clock' | 'logger' | 'audit'>;

/** A device renames itself or replaces its push token; a new token also revives one marked dead. */
export async function updateOwnDevice(deps: Deps, device: Device, input: { name?: string; push_token?: string }): Promise<Device> {
  const updated = await deps.devices.update(device.deviceId, {
    ...(input.name !== undefined ? { name: input.name } : {}),
    ...(input.push_token !== undefined ? { pushToken: input.push_token, pushTokenStatus: 'active' } : {}),
  });
  if (updated === undefined) {
    throw new AppError(401, 'invalid_token', 'the device was revoked', { 'www-authenticate': dpopChallenge('invalid_token') });
  }
  await deps.audit.record({
    type: 'device.updated',
    at: deps.clock.now(),
    userId: device.userId,
    deviceId: device.deviceId,
    actor: 'device',
    ...(input.push_token !== undefined ? { reason: 'push token replaced' } : {}),
  });
  return updated;
}

export async function unenrollOwnDevice(deps: Deps, device: Device): Promise<void> {
  await deps.devices.revoke(device.deviceId, deps.clock.now());
  await deps.audit.record({ type: 'device.revoked', at: deps.clock.now(), userId: device.userId, deviceId: device.deviceId, actor: 'device' });
}
