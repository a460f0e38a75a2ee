import { calculateJwkThumbprint, importJWK, type JWK } from 'jose';
import type { DeviceAlgorithm } from '../domain/device.js';
import { AppError } from '../domain/errors.js';

export interface AcceptedDeviceKey {
  jwk: JWK;
  alg: DeviceAlgorithm;
  thumbprint: string;
}

/** Members a public key may carry; anything private (`d`, `p`, `k`…) is refused outright. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/**
 * Accepts a device's public key: EC P-256 (ES256, required of every app) or Ed25519 (EdDSA).
 * Symmetric keys, private keys and every other type are refused, and the key must really import.
 */
export async function acceptDevicePublicKey(candidate: Record<string, unknown>): Promise<AcceptedDeviceKey> {
  const leaked = PRIVATE_MEMBERS.filter((member) => member in candidate);
  if (leaked.length > 0) {
    throw AppError.invalidRequest(`public_jwk: must be a public key; it carries private or symmetric members (${leaked.join(', ')})`);
  }
  let jwk: JWK;
  let alg: DeviceAlgorithm;
  if (candidate.kty === 'EC' && candidate.crv === 'P-256' && typeof candidate.x === 'string' && typeof candidate.y === 'string') {
    jwk = { kty: 'EC', crv: 'P-256', x: candidate.x, y: candidate.y };
    alg = 'ES256';
  } else if (candidate.kty === 'OKP' && candidate.crv === 'Ed25519' && typeof candidate.x === 'string') {
    jwk = { kty: 'OKP', crv: 'Ed25519', x: candidate.x };
    alg = 'EdDSA';
  } else {
    throw AppError.invalidRequest('public_jwk: must be an EC P-256 key (ES256) or an OKP Ed25519 key (EdDSA)');
  }
  if (candidate.alg !== undefined && candidate.alg !== alg) {
    throw AppError.invalidRequest(`public_jwk.alg: must be ${alg} for this key type`);
  }
  try {
    await importJWK(jwk, alg);
  } catch {
    throw AppError.invalidRequest('public_jwk: is not a valid key (the coordinates do not describe a point on the curve)');
  }
  return { jwk, alg, thumbprint: await calculateJwkThumbprint(jwk, 'sha256') };
}
