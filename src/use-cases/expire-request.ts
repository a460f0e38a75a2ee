import { closePromptJobs } from './close-prompt.js';
import type { Dependencies } from './dependencies.js';

type ExpireDeps = Pick<Dependencies, 'requests' | 'jobs' | 'notifiers' | 'clock' | 'logger' | 'audit'>;

/** Requests one sweep takes at a time; a longer backlog is taken batch after batch. */
const SWEEP_BATCH = 200;
/** How long a request taken by a sweep is left alone by the others (longer than one expiry takes). */
const SWEEP_LEASE_MS = 30_000;

/**
 * Closes a request nobody decided in time and has the devices told to drop it (the close-prompt job).
 * Returns false when the request had not expired yet (it is then tracked again).
 */
export async function expireRequest(deps: ExpireDeps, requestId: string): Promise<boolean> {
  const now = deps.clock.now();
  const result = await deps.requests.expire(requestId, now);
  if (!result.ok) {
    // Clocks of two hosts may differ a little: a request taken early is looked at again later.
    if (result.reason === 'not_ready') {
      const request = await deps.requests.get(requestId);
      if (request !== undefined) await deps.requests.trackExpiry(requestId, request.expiresAt);
      return false;
    }
    return true;
  }
  await deps.audit.record({
    type: 'request.expired',
    at: now,
    requestId,
    actor: 'service',
    ...(result.request.userId !== null ? { userId: result.request.userId } : {}),
  });
  if (result.request.userId !== null) await deps.jobs.add(closePromptJobs(deps, requestId));
  return true;
}

/**
 * The periodic job that closes expired requests. Their status already reads `expired` the moment
 * their time is up (see effectiveStatus); the sweep records the expiry, counts it, and sends the
 * closing messages. A request the sweep could not close (the store failed, or the process died)
 * comes due again when its lease runs out.
 */
export async function sweepExpiredRequests(deps: ExpireDeps): Promise<void> {
  for (;;) {
    const due = await deps.requests.leaseExpired(deps.clock.now(), SWEEP_LEASE_MS, SWEEP_BATCH);
    const done: string[] = [];
    for (const requestId of due) {
      try {
        if (await expireRequest(deps, requestId)) done.push(requestId);
      } catch (error) {
        deps.logger.warn({ requestId, err: error }, 'expiry not recorded; the next sweep after the lease tries again');
      }
    }
    await deps.requests.forgetExpiry(done);
    if (due.length < SWEEP_BATCH) return;
  }
}
