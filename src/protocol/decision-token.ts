import { errors, importJWK, jwtVerify } from 'jose';
import type { DecisionAction } from '../domain/authentication-request.js';
import type { Device } from '../domain/device.js';
import { AppError } from '../domain/errors.js';
import { dpopChallenge } from './dpop.js';

export const DECISION_TYPE = 'ciba-decision+jwt';

export interface DecisionClaims {
  request_id: string;
  action: DecisionAction;
  granted_scopes?: string[];
  /** Open Banking: the accounts the user chose. */
  account_ids?: string[];
  consent_hash: string;
  iat: number;
  jti: string;
  /** Binding confirmation: the binding message the user picked among the view's choices. */
  binding_choice?: string;
}

const malformed = (description: string): AppError => new AppError(400, 'invalid_decision', description);
// A 401 must carry a challenge (RFC 9110 §15.5.2); the decision is refused, not the DPoP credentials.
const unverifiable = (description: string): AppError =>
  new AppError(401, 'invalid_signature', description, { 'www-authenticate': dpopChallenge() });

/**
 * Verifies a decision JWS from a device: signed by that device's enrolled key with its algorithm only
 * (no algorithm confusion), `typ: ciba-decision+jwt`, `kid` = the device id, fresh `iat`, and
 * well-formed claims for this request. Whether the decision still applies is the caller's business.
 */
export async function verifyDecisionToken(
  token: string,
  device: Device,
  expected: { requestId: string; now: number; clockSkewSeconds: number },
): Promise<DecisionClaims> {
  let payload;
  let protectedHeader;
  try {
    const key = await importJWK(device.publicJwk, device.alg);
    ({ payload, protectedHeader } = await jwtVerify(token, key, {
      typ: DECISION_TYPE,
      algorithms: [device.alg],
      currentDate: new Date(expected.now),
    }));
  } catch (error) {
    if (error instanceof errors.JWSSignatureVerificationFailed) throw unverifiable('the decision is not signed by this device');
    if (error instanceof errors.JOSEAlgNotAllowed) throw unverifiable(`the decision must be signed with ${device.alg}`);
    if (error instanceof errors.JOSEError) throw malformed(`the decision is not a valid JWS (${error.code}: ${error.message})`);
    throw malformed('the decision is not a valid JWS');
  }
  if (protectedHeader.kid !== device.deviceId) throw unverifiable('the decision kid is not this device');
  if (payload.request_id !== expected.requestId) throw malformed('the decision is for another request (request_id)');
  if (payload.action !== 'approve' && payload.action !== 'deny') throw malformed('action: must be approve or deny');
  if (typeof payload.consent_hash !== 'string' || payload.consent_hash.length === 0) throw malformed('consent_hash: is required');
  if (typeof payload.iat !== 'number' || Math.abs(payload.iat * 1000 - expected.now) > expected.clockSkewSeconds * 1000) {
    throw malformed('iat: the decision is too old or from the future');
  }
  if (typeof payload.jti !== 'string' || payload.jti.length === 0) throw malformed('jti: is required');
  const granted = payload.granted_scopes;
  if (granted !== undefined && (!Array.isArray(granted) || !granted.every((scope) => typeof scope === 'string'))) {
    throw malformed('granted_scopes: must be an array of strings');
  }
  const bindingChoice = payload.binding_choice;
  if (bindingChoice !== undefined && (typeof bindingChoice !== 'string' || bindingChoice.length > 1024)) {
    throw malformed('binding_choice: must be a string of at most 1024 characters');
  }
  const accountIds = payload.account_ids;
  if (accountIds !== undefined && (!Array.isArray(accountIds) || !accountIds.every((id) => typeof id === 'string' && id.length > 0))) {
    throw malformed('account_ids: must be an array of account ids');
  }
  return {
    request_id: payload.request_id,
    action: payload.action,
    consent_hash: payload.consent_hash,
    iat: payload.iat,
    jti: payload.jti,
    ...(granted !== undefined ? { granted_scopes: granted as string[] } : {}),
    ...(bindingChoice !== undefined ? { binding_choice: bindingChoice } : {}),
    ...(accountIds !== undefined ? { account_ids: accountIds as string[] } : {}),
  };
}
