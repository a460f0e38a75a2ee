import { RetryLaterError } from '../ports/jobs.js';
import type { Dependencies } from './dependencies.js';

/** Closes a request nobody decided in time and tells the devices to drop it. */
export async function expireRequest(
  deps: Pick<Dependencies, 'requests' | 'devices' | 'notifiers' | 'clock' | 'logger'>,
  requestId: string,
): Promise<void> {
  const now = deps.clock.now();
  const result = await deps.requests.expire(requestId, now);
  if (!result.ok) {
    // A timer that fired a little early (clock differences between hosts) tries again shortly.
    if (result.reason === 'not_ready') throw new RetryLaterError('the request has not expired yet', 1000);
    return;
  }
  const request = result.request;
  deps.logger.info({ requestId }, 'request expired without a decision');
  if (request.userId === null) return;
  const devices = (await deps.devices.listForUser(request.userId, request.partition)).filter((d) => d.status === 'active');
  await Promise.allSettled(deps.notifiers.map((notifier) => notifier.close({ request, devices })));
}
