import type { Device } from '../domain/device.js';
import { AppError } from '../domain/errors.js';
import { sha256Base64url } from '../domain/identifiers.js';
import { dpopChallenge, verifyDPoPProof } from '../protocol/dpop.js';
import type { Dependencies } from './dependencies.js';

export interface DeviceCallCredentials {
  authorization: string | undefined;
  dpop: string | undefined;
  method: string;
  /** PUBLIC_URL plus the request path. */
  url: string;
}

const unauthorized = (code: string, description: string): AppError =>
  new AppError(401, code, description, { 'www-authenticate': dpopChallenge(code) });

/**
 * Authenticates a device API call: `Authorization: DPoP <device_token>` names an active device, and
 * the `DPoP` proof shows possession of that device's enrolled key, for this very call, once.
 */
export async function authenticateDevice(
  deps: Pick<Dependencies, 'devices' | 'replayCache' | 'clock' | 'config'>,
  credentials: DeviceCallCredentials,
): Promise<Device> {
  const match = /^DPoP\s+([A-Za-z0-9\-._~+/]+=*)$/.exec(credentials.authorization ?? '');
  if (match?.[1] === undefined) throw unauthorized('invalid_token', 'send Authorization: DPoP <device_token>');
  if (credentials.dpop === undefined || credentials.dpop.length === 0 || credentials.dpop.length > 8192) {
    throw unauthorized('invalid_dpop_proof', 'a DPoP proof header is required');
  }
  const token = match[1];
  const device = await deps.devices.findByTokenHash(sha256Base64url(token));
  if (device === undefined || device.status !== 'active') throw unauthorized('invalid_token', 'the device token is unknown or revoked');

  const skew = deps.config.devices.clockSkewSeconds;
  const proof = await verifyDPoPProof(credentials.dpop, {
    method: credentials.method,
    url: credentials.url,
    accessToken: token,
    jwkThumbprint: device.jwkThumbprint,
    now: deps.clock.now(),
    clockSkewSeconds: skew,
  });
  // A proof is accepted once within the window its iat allows.
  if (!(await deps.replayCache.firstUse(`dpop:${device.deviceId}`, proof.jti, skew * 2 + 5))) {
    throw unauthorized('invalid_dpop_proof', 'the DPoP proof was already used');
  }
  return device;
}
