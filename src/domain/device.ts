import type { JWK } from 'jose';

export type DeviceAlgorithm = 'ES256' | 'EdDSA';
export type DevicePlatform = 'android' | 'ios' | 'web' | 'other';
export type PushTokenStatus = 'none' | 'active' | 'dead';

/** An enrolled authentication device: its public key, and how to reach it. */
export interface Device {
  deviceId: string;
  userId: string;
  name?: string;
  platform: DevicePlatform;
  publicJwk: JWK;
  /** RFC 7638 thumbprint of `publicJwk`: what a DPoP proof's embedded key must match. */
  jwkThumbprint: string;
  alg: DeviceAlgorithm;
  /** SHA-256 of the device token; the token itself is never stored. */
  tokenHash: string;
  pushToken?: string;
  pushTokenStatus: PushTokenStatus;
  status: 'active' | 'revoked';
  createdAt: number;
  lastSeenAt?: number;
  revokedAt?: number;
}

export type DeviceChanges = Partial<Pick<Device, 'name' | 'pushToken' | 'pushTokenStatus' | 'lastSeenAt'>>;

/**
 * Platforms whose app learns of a request only by push: a phone app is asleep until a push wakes it.
 * Other devices (the web authenticator, `other`) poll the device API or keep a connection open.
 */
export function learnsOnlyByPush(platform: DevicePlatform): boolean {
  return platform === 'android' || platform === 'ios';
}
