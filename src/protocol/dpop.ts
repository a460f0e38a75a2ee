import { calculateJwkThumbprint, EmbeddedJWK, errors, jwtVerify, type JWK } from 'jose';
import { createHash } from 'node:crypto';
import { AppError } from '../domain/errors.js';

export interface DPoPExpectations {
  method: string;
  /** The request's URL as the client saw it: public URL plus path, no query or fragment. */
  url: string;
  accessToken: string;
  /** Thumbprint of the key the access token is bound to. */
  jwkThumbprint: string;
  now: number;
  clockSkewSeconds: number;
}

export interface VerifiedDPoPProof {
  jti: string;
  iat: number;
}

/** The signature algorithms a DPoP proof (and a device key) may use. */
export const DPOP_ALGS = ['ES256', 'EdDSA'] as const;

/** The `WWW-Authenticate` challenge of a 401 on the device API (RFC 9449 §7.1), with its error code if any. */
export const dpopChallenge = (error?: string): string =>
  `DPoP ${error !== undefined ? `error="${error}", ` : ''}algs="${DPOP_ALGS.join(' ')}"`;

const invalidProof = (description: string): AppError =>
  new AppError(401, 'invalid_dpop_proof', description, { 'www-authenticate': dpopChallenge('invalid_dpop_proof') });

/** RFC 9449 §4.3: `htu` is compared without query and fragment, scheme and host case-insensitively. */
function normalizeHtu(value: string): string | undefined {
  try {
    const url = new URL(value);
    return `${url.protocol}//${url.host}${url.pathname}`.replace(/\/+$/, '');
  } catch {
    return undefined;
  }
}

/**
 * Verifies a DPoP proof (RFC 9449 §4.3) for a device call: signature by the embedded key, which must
 * be the enrolled key; `typ`, `htm`, `htu`, `iat` freshness, `jti` present, `ath` = hash of the
 * device token. Replay (`jti` seen before) is checked by the caller, which owns the replay cache.
 */
export async function verifyDPoPProof(proof: string, expected: DPoPExpectations): Promise<VerifiedDPoPProof> {
  let payload;
  let protectedHeader;
  try {
    ({ payload, protectedHeader } = await jwtVerify(proof, EmbeddedJWK, {
      typ: 'dpop+jwt',
      algorithms: [...DPOP_ALGS],
      // iat is checked below against our own window; jose would otherwise refuse tokens without exp.
      currentDate: new Date(expected.now),
    }));
  } catch (error) {
    if (error instanceof errors.JOSEError) throw invalidProof(`the DPoP proof is invalid (${error.code})`);
    throw invalidProof('the DPoP proof is not a valid JWT');
  }
  const jwk = protectedHeader.jwk as JWK | undefined;
  if (jwk === undefined || (await calculateJwkThumbprint(jwk, 'sha256')) !== expected.jwkThumbprint) {
    throw invalidProof('the DPoP proof is not signed with the key this device enrolled');
  }
  if (payload.htm !== expected.method) throw invalidProof('the DPoP proof is for another HTTP method (htm)');
  if (typeof payload.htu !== 'string' || normalizeHtu(payload.htu) !== normalizeHtu(expected.url)) {
    throw invalidProof('the DPoP proof is for another URL (htu)');
  }
  if (typeof payload.iat !== 'number' || Math.abs(payload.iat * 1000 - expected.now) > expected.clockSkewSeconds * 1000) {
    throw invalidProof('the DPoP proof is too old or from the future (iat)');
  }
  if (typeof payload.jti !== 'string' || payload.jti.length < 8 || payload.jti.length > 256) {
    throw invalidProof('the DPoP proof has no usable jti');
  }
  const ath = createHash('sha256').update(expected.accessToken).digest('base64url');
  if (payload.ath !== ath) throw invalidProof('the DPoP proof is not bound to this device token (ath)');
  return { jti: payload.jti, iat: payload.iat };
}
