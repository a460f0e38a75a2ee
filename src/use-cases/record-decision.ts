import type { DecisionRecord, RequestStatus } from '../domain/authentication-request.js';
import type { Device } from '../domain/device.js';
import { AppError } from '../domain/errors.js';
import { verifyDecisionToken } from '../protocol/decision-token.js';
import type { TransitionResult } from '../ports/requests.js';
import { confirmOpenBankingDecision } from './confirm-openbanking-decision.js';
import { commitDecision } from './commit-decision.js';
import type { Dependencies } from './dependencies.js';
import { bindingMismatchDecision, checkBindingChoice } from './binding-confirmation.js';
import { effectiveStatus } from './view-requests.js';

const alreadyDecided = (status: RequestStatus): AppError =>
  AppError.conflict('request_already_decided', `the request was already ${status === 'completed' || status === 'failed' ? 'decided' : status}`);

/**
 * A device's signed decision: verified against the enrolled key, bound to the view the device
 * displayed (`consent_hash`), recorded once — of concurrent decisions exactly one wins — and then
 * reported to the authorization server by a job.
 */
export async function recordDecision(
  deps: Pick<Dependencies, 'requests' | 'jobs' | 'clock' | 'config' | 'logger' | 'authorizationServer' | 'accountDirectory' | 'notifiers' | 'audit'>,
  input: { device: Device; requestId: string; decisionToken: string },
): Promise<{ requestId: string; status: 'approved' | 'denied' }> {
  const { device, requestId } = input;
  const request = await deps.requests.get(requestId);
  if (request === undefined || request.userId !== device.userId || request.view === undefined) {
    throw AppError.notFound('no such request for this device');
  }
  const now = deps.clock.now();
  const claims = await verifyDecisionToken(input.decisionToken, device, {
    requestId,
    now,
    clockSkewSeconds: deps.config.devices.clockSkewSeconds,
  });

  const status = effectiveStatus(request, now);
  if (status === 'expired') throw AppError.gone('the request expired');
  if (status !== 'pending') throw alreadyDecided(status);
  if (claims.consent_hash !== request.consentHash) {
    throw AppError.conflict('consent_mismatch', 'consent_hash does not match what the request displays now; fetch the request again');
  }

  const requested = request.view.scopes.map((scope) => scope.name);
  let grantedScopes: string[] | undefined;
  if (claims.action === 'approve') {
    const extra = (claims.granted_scopes ?? []).filter((scope) => !requested.includes(scope));
    if (extra.length > 0) throw AppError.invalidRequest(`granted_scopes: ${extra.join(', ')} ${extra.length === 1 ? 'was' : 'were'} not requested`);
    grantedScopes = claims.granted_scopes ?? requested;
  }
  // The binding choice first: it needs no outbound call, and a wrong pick denies the request whatever
  // the consent says now.
  const binding = checkBindingChoice(request.view, claims.action, claims.binding_choice, deps.config.bindingConfirmation);
  if (binding.outcome === 'missing') {
    throw AppError.invalidRequest('binding_choice: is required to approve; pick the binding message the consumption device shows');
  }
  // Open Banking: chosen accounts, and the consent read again (it must be unchanged).
  const openBanking = binding.outcome === 'mismatch' ? {} : await confirmOpenBankingDecision(deps, { ...request, view: request.view }, claims);

  const signed: DecisionRecord = {
    action: claims.action,
    channel: 'device',
    decidedAt: now,
    deviceId: device.deviceId,
    jws: input.decisionToken,
    ...(grantedScopes !== undefined ? { grantedScopes } : {}),
    ...(binding.outcome === 'confirmed' ? { bindingChoice: binding.choice } : {}),
    ...openBanking,
  };
  // A wrong pick is the user's signed answer too, but it denies the request.
  const decision = binding.outcome === 'mismatch' ? bindingMismatchDecision(signed, binding.choice) : signed;
  const result = await commitDecision(deps, requestId, decision, now, claims.consent_hash);
  if (!result.ok) throw transitionError(result);
  return { requestId, status: decision.action === 'approve' ? 'approved' : 'denied' };
}

function transitionError(result: Extract<TransitionResult, { ok: false }>): AppError {
  switch (result.reason) {
    case 'expired':
      return AppError.gone('the request expired');
    case 'view_changed':
    case 'not_ready':
      return AppError.conflict('consent_mismatch', 'consent_hash does not match what the request displays now; fetch the request again');
    case 'not_found':
      return AppError.notFound('no such request for this device');
    default:
      return AppError.conflict('request_already_decided', 'the request was already decided');
  }
}
