import type { AuthenticationRequest, DecisionAction, DecisionRecord } from '../domain/authentication-request.js';
import { magicLinkMatches, parseMagicLinkToken } from '../domain/magic-link.js';
import { bindingMismatchDecision, checkBindingChoice } from './binding-confirmation.js';
import { commitDecision } from './commit-decision.js';
import type { Dependencies } from './dependencies.js';
import { effectiveStatus, isReady, type ReadyRequest } from './view-requests.js';

/** What a magic link leads to. Only `pending` lets the user decide. */
export type MagicLinkState =
  | { state: 'invalid' }
  | { state: 'expired' | 'used' | 'decided_elsewhere'; request: AuthenticationRequest }
  | { state: 'pending'; request: ReadyRequest };

export type MagicLinkDecision =
  | Exclude<MagicLinkState, { state: 'pending' }>
  | { state: 'recorded'; action: DecisionAction; bindingMismatch: boolean; request: ReadyRequest }
  /** `BINDING_CONFIRMATION=required` and an approve without a pick. */
  | { state: 'choice_required'; request: ReadyRequest }
  /** The view changed since the page was rendered (it carried another consent hash). */
  | { state: 'view_changed'; request: ReadyRequest };

type Deps = Pick<Dependencies, 'requests' | 'clock'>;

/**
 * Resolves a magic link: the request its id names, if the secret matches the hash stored in that
 * request. A link of a request that was decided through it is `used`; decided any other way,
 * `decided_elsewhere`; past its expiry, `expired`. Unknown, malformed or wrong links are all `invalid`
 * alike, so a guess learns nothing.
 */
export async function openMagicLink(deps: Deps, token: string): Promise<MagicLinkState> {
  const parsed = parseMagicLinkToken(token);
  if (parsed === undefined) return { state: 'invalid' };
  const request = await deps.requests.get(parsed.requestId);
  if (request === undefined || !magicLinkMatches(parsed.secret, request.magicLinkHash)) return { state: 'invalid' };
  const status = effectiveStatus(request, deps.clock.now());
  if (status === 'expired') return { state: 'expired', request };
  if (status === 'pending') {
    return isReady(request) ? { state: 'pending', request } : { state: 'invalid' };
  }
  return { state: request.decision?.channel === 'email' ? 'used' : 'decided_elsewhere', request };
}

/**
 * The user's answer through the magic-link page: recorded once, with channel `email`, bound to the
 * consent hash of the page they saw, then reported to the authorization server by a job. There is no
 * signature; the evidence says so.
 */
export async function decideByMagicLink(
  deps: Pick<Dependencies, 'requests' | 'jobs' | 'clock' | 'config' | 'logger' | 'audit' | 'notifiers'>,
  token: string,
  input: { action: DecisionAction; consentHash: string; bindingChoice?: string },
): Promise<MagicLinkDecision> {
  const opened = await openMagicLink(deps, token);
  if (opened.state !== 'pending') return opened;
  const { request } = opened;
  const binding = checkBindingChoice(request.view, input.action, input.bindingChoice, deps.config.bindingConfirmation);
  if (binding.outcome === 'missing') return { state: 'choice_required', request };

  const now = deps.clock.now();
  const chosen: DecisionRecord = {
    action: input.action,
    channel: 'email',
    decidedAt: now,
    ...(input.action === 'approve' ? { grantedScopes: request.view.scopes.map((scope) => scope.name) } : {}),
    ...(binding.outcome === 'confirmed' ? { bindingChoice: binding.choice } : {}),
  };
  const decision = binding.outcome === 'mismatch' ? bindingMismatchDecision(chosen, binding.choice) : chosen;
  const result = await commitDecision(deps, request.requestId, decision, now, input.consentHash);
  if (!result.ok) {
    if (result.reason === 'view_changed' || result.reason === 'not_ready') return { state: 'view_changed', request };
    const after = await openMagicLink(deps, token);
    return after.state === 'pending' ? { state: 'view_changed', request } : after;
  }
  return { state: 'recorded', action: decision.action, bindingMismatch: binding.outcome === 'mismatch', request };
}
