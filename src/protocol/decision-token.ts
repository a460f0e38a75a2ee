import { errors, importJWK, jwtVerify } from 'jose';
import { z } from 'zod';
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

const must = (message: string): { error: string } => ({ error: message });
const required = must('is required');
const scopes = must('must be an array of strings');
const choice = must('must be a string of at most 1024 characters');
const accounts = must('must be an array of account ids');

/** The decision's own claims (request_id and iat are checked against the call, apart). */
const decisionClaims = z.object({
  action: z.enum(['approve', 'deny'], must('must be approve or deny')),
  consent_hash: z.string(required).min(1, required),
  jti: z.string(required).min(1, required),
  granted_scopes: z.array(z.string(scopes), scopes).optional(),
  binding_choice: z.string(choice).max(1024, choice).optional(),
  account_ids: z.array(z.string(accounts).min(1, accounts), accounts).optional(),
});
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
  const parsed = decisionClaims.safeParse(payload);
  if (!parsed.success) {
    // Named by its top-level claim: an element of granted_scopes is reported as granted_scopes.
    const issue = parsed.error.issues[0];
    throw malformed(`${String(issue?.path[0])}: ${issue?.message ?? 'is invalid'}`);
  }
  if (typeof payload.iat !== 'number' || Math.abs(payload.iat * 1000 - expected.now) > expected.clockSkewSeconds * 1000) {
    throw malformed('iat: the decision is too old or from the future');
  }
  const { action, consent_hash, jti, granted_scopes, binding_choice, account_ids } = parsed.data;
  return {
    request_id: payload.request_id,
    action,
    consent_hash,
    iat: payload.iat,
    jti,
    ...(granted_scopes !== undefined ? { granted_scopes } : {}),
    ...(binding_choice !== undefined ? { binding_choice } : {}),
    ...(account_ids !== undefined ? { account_ids } : {}),
  };
}
