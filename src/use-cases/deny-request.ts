import { commitDecision } from './commit-decision.js';
import type { Dependencies } from './dependencies.js';

/**
 * The service itself denies a pending request — the user could not be reached, a limit was hit, the
 * consent cannot be used — and the authorization server is told at once rather than left to wait
 * for the expiry. `reason` is a code (also the reject's error_cause); `description` is for people.
 * Returns false when the request was no longer pending (someone decided first).
 */
export async function denyRequest(
  deps: Pick<Dependencies, 'requests' | 'jobs' | 'clock' | 'logger' | 'audit' | 'notifiers'>,
  requestId: string,
  reason: string,
  description: string,
): Promise<boolean> {
  const now = deps.clock.now();
  const result = await commitDecision(deps, requestId, {
    action: 'deny',
    channel: 'system',
    decidedAt: now,
    reason,
    description,
    error: 'access_denied',
  }, now);
  if (!result.ok) return false;
  return true;
}
