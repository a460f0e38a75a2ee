import type { Device, DevicePlatform } from '../domain/device.js';
import { AppError } from '../domain/errors.js';
import { newDeviceId, newSecret, normalizeActivationCode, sha256Base64url } from '../domain/identifiers.js';
import { acceptDevicePublicKey } from '../protocol/device-key.js';
import type { Dependencies } from './dependencies.js';

export interface EnrollmentInput {
  activation_code: string;
  public_jwk: Record<string, unknown>;
  name?: string;
  platform?: DevicePlatform;
  push_token?: string;
}

export const invalidActivationCode = (): AppError =>
  new AppError(401, 'invalid_grant', 'the activation code is unknown, used or expired');

/**
 * Enrols a device with a single-use activation code. The key is checked before the code is spent, so
 * a malformed key does not burn the user's code. The device token is returned once; only its hash is
 * kept.
 */
export async function enrollDevice(
  deps: Pick<Dependencies, 'users' | 'devices' | 'activationCodes' | 'clock' | 'logger' | 'audit'>,
  input: EnrollmentInput,
): Promise<{ deviceId: string; userId: string; deviceToken: string }> {
  const key = await acceptDevicePublicKey(input.public_jwk);
  const userId = await deps.activationCodes.consume(sha256Base64url(normalizeActivationCode(input.activation_code)));
  if (userId === undefined) throw invalidActivationCode();
  const user = await deps.users.get(userId);
  if (user === undefined || user.disabled) throw invalidActivationCode();

  const deviceToken = newSecret();
  const device: Device = {
    deviceId: newDeviceId(user.partition),
    userId,
    platform: input.platform ?? 'other',
    publicJwk: key.jwk,
    jwkThumbprint: key.thumbprint,
    alg: key.alg,
    tokenHash: sha256Base64url(deviceToken),
    pushTokenStatus: input.push_token ? 'active' : 'none',
    status: 'active',
    createdAt: deps.clock.now(),
    ...(input.name ? { name: input.name } : {}),
    ...(input.push_token ? { pushToken: input.push_token } : {}),
  };
  await deps.devices.create(device);
  await deps.audit.record({
    type: 'device.enrolled',
    at: device.createdAt,
    userId,
    deviceId: device.deviceId,
    actor: 'device',
    channel: device.platform,
    reason: key.alg,
  });
  return { deviceId: device.deviceId, userId, deviceToken };
}
