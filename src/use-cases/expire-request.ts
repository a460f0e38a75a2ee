import { RetryLaterError } from '../ports/jobs.js';
import { closePromptJobs } from './close-prompt.js';
import type { Dependencies } from './dependencies.js';

/** Closes a request nobody decided in time and has the devices told to drop it (the close-prompt job). */
export async function expireRequest(
  deps: Pick<Dependencies, 'requests' | 'jobs' | 'notifiers' | 'clock' | 'logger' | 'audit'>,
  requestId: string,
): Promise<void> {
  const now = deps.clock.now();
  const result = await deps.requests.expire(requestId, now);
  if (!result.ok) {
    // A timer that fired a little early (clock differences between hosts) tries again shortly.
    if (result.reason === 'not_ready') throw new RetryLaterError('the request has not expired yet', 1000);
    return;
  }
  await deps.audit.record({
    type: 'request.expired',
    at: now,
    requestId,
    actor: 'service',
    ...(result.request.userId !== null ? { userId: result.request.userId } : {}),
  });
  if (result.request.userId === null) return;
  await deps.jobs.add(closePromptJobs(deps, requestId));
}
