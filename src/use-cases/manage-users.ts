import type { Device } from '../domain/device.js';
import { AppError } from '../domain/errors.js';
import { newActivationCode, normalizeActivationCode, sha256Base64url } from '../domain/identifiers.js';
import type { User } from '../domain/user.js';
import type { UserInput } from '../ports/users.js';
import type { Dependencies } from './dependencies.js';

type UserDeps = Pick<Dependencies, 'users' | 'devices' | 'clock' | 'logger' | 'audit'>;

export async function putUser(deps: UserDeps, userId: string, input: UserInput): Promise<{ user: User; devices: Device[] }> {
  if (userId.trim() !== userId || userId.length === 0) throw AppError.invalidRequest('user_id: must not start or end with spaces');
  const result = await deps.users.upsert(userId, input, deps.clock.now());
  if (!result.ok) {
    throw AppError.conflict('alias_in_use', `aliases: ${result.conflictingAlias} already names another user`);
  }
  await deps.audit.record({
    type: 'user.saved',
    at: result.user.updatedAt,
    userId,
    actor: 'admin',
    outcome: result.user.disabled ? 'disabled' : 'enabled',
    reason: `${result.user.aliases.length} alias(es)`,
  });
  return { user: result.user, devices: await deps.devices.listForUser(userId, result.user.partition) };
}

export async function getUser(deps: UserDeps, userId: string): Promise<{ user: User; devices: Device[] }> {
  const user = await deps.users.get(userId);
  if (user === undefined) throw AppError.notFound('no such user');
  return { user, devices: await deps.devices.listForUser(userId, user.partition) };
}

export async function revokeDevice(deps: UserDeps, userId: string, deviceId: string): Promise<void> {
  const device = await deps.devices.get(deviceId);
  if (device === undefined || device.userId !== userId || device.status !== 'active') throw AppError.notFound('no such active device for this user');
  await deps.devices.revoke(deviceId, deps.clock.now());
  await deps.audit.record({ type: 'device.revoked', at: deps.clock.now(), userId, deviceId, actor: 'admin' });
}

export async function createActivationCode(
  deps: UserDeps & Pick<Dependencies, 'activationCodes' | 'config'>,
  userId: string,
): Promise<{ activationCode: string; expiresAt: number }> {
  const user = await deps.users.get(userId);
  if (user === undefined) throw AppError.notFound('no such user');
  const activationCode = newActivationCode();
  const ttlSeconds = deps.config.devices.activationCodeTtlSeconds;
  await deps.activationCodes.save(sha256Base64url(normalizeActivationCode(activationCode)), userId, ttlSeconds);
  await deps.audit.record({ type: 'activation_code.created', at: deps.clock.now(), userId, actor: 'admin' });
  return { activationCode, expiresAt: deps.clock.now() + ttlSeconds * 1000 };
}
