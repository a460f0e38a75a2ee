import { isExpired, type DeliveryRecord } from '../domain/authentication-request.js';
import { POLL_CHANNEL, promptState } from '../domain/prompt-deliveries.js';
import { unreachableDescriptions } from '../domain/user.js';
import { retryBeforeExpiry, type JobContext } from '../ports/jobs.js';
import { closePrompt } from './close-prompt.js';
import type { Dependencies } from './dependencies.js';
import { denyRequest } from './deny-request.js';
import { emailNowJob, emailReaches } from './deliver-email.js';

/** A run outside the job queue has no retries. */
const SINGLE_RUN: JobContext = { attempt: 1, isLastAttempt: true };

/**
 * Tells the user's active devices about a ready request through every configured notifier. Devices
 * no notifier handles see the request when they poll the device API; that is recorded too, and such a
 * device counts as reachable.
 *
 * The job may run several times: attempts that failed for a passing reason (the push service was
 * unavailable) are made again with backoff while the request lives, and only for those devices — the
 * delivery records say which devices got the prompt already. When no device can be reached at all
 * (every phone without a working push token, or the push service kept failing), the service denies
 * the request at once so the authorization server does not wait for the expiry.
 */
export async function deliverPrompt(
  deps: Pick<Dependencies, 'requests' | 'devices' | 'notifiers' | 'jobs' | 'clock' | 'logger' | 'users' | 'audit' | 'email' | 'config'>,
  requestId: string,
  context: JobContext,
): Promise<void> {
  const request = await deps.requests.get(requestId);
  if (request === undefined || request.status !== 'pending' || request.view === undefined || request.userId === null) return;
  if (isExpired(request, deps.clock.now())) return;

  const devices = (await deps.devices.listForUser(request.userId, request.partition)).filter((device) => device.status === 'active');
  if (devices.length === 0) {
    // A user with no device at all is e-mailed (publishView queued that job); otherwise every device
    // was revoked after the request was created.
    if (await emailReaches(deps, request)) return;
    await denyRequest(deps, requestId, 'no_active_device', unreachableDescriptions.no_active_device);
    return;
  }
  const due = devices.filter((device) => ['untried', 'retrying'].includes(promptState(request.deliveries, device.deviceId)));

  const records: DeliveryRecord[] = [];
  for (const notifier of deps.notifiers) records.push(...(await notifier.prompt({ request, devices: due })));
  const handled = new Set(records.map((record) => record.deviceId));
  for (const device of due) {
    if (!handled.has(device.deviceId)) records.push({ channel: POLL_CHANNEL, result: 'skipped', deviceId: device.deviceId, at: deps.clock.now() });
  }
  // Concurrently: one record per device in this round, so their order does not matter.
  await Promise.all(records.map((record) => deps.requests.addDelivery(requestId, record)));
  deps.logger.info(
    { requestId, attempt: context.attempt, deliveries: records.map(({ channel, result }) => `${channel}:${result}`) },
    'prompt delivered',
  );
  // Devices left to poll are not deliveries: the audit trail records push and e-mail attempts only.
  const attempts = records.filter((record) => record.result !== 'skipped');
  await Promise.all(
    attempts.map((record) =>
      deps.audit.record({
        type: record.result === 'sent' ? 'prompt.delivered' : 'prompt.failed',
        at: record.at,
        requestId,
        userId: request.userId ?? undefined,
        channel: record.channel,
        actor: 'service',
        ...(record.deviceId !== undefined ? { deviceId: record.deviceId } : {}),
        ...(record.errorCode !== undefined ? { reason: record.errorCode } : {}),
      }),
    ),
  );

  if (records.some((record) => record.result === 'sent' && record.channel !== POLL_CHANNEL)) {
    // The request may have ended while the prompt was going out (a decision on a quicker device while
    // the push service was being retried for this one); its closing job then found these devices not
    // yet prompted, so they are closed here. Closing is idempotent.
    const latest = await deps.requests.get(requestId);
    if (latest !== undefined && latest.status !== 'pending') {
      await closePrompt(deps, requestId, SINGLE_RUN);
      return;
    }
  }

  const deliveries = [...request.deliveries, ...records];
  const states = devices.map((device) => promptState(deliveries, device.deviceId));
  const retrying = states.filter((state) => state === 'retrying').length;
  retryBeforeExpiry(
    context,
    { now: deps.clock.now(), expiresAt: request.expiresAt },
    { message: `the prompt did not reach ${retrying} device(s) yet`, retryable: retrying > 0 },
  );
  if (!states.includes('reached')) {
    if (await emailReaches(deps, request)) {
      await deps.jobs.add([emailNowJob(requestId)]);
      deps.logger.info({ requestId }, 'no device could be reached; the user is e-mailed a magic link instead');
      return;
    }
    const why = retrying > 0 ? 'the push service kept failing' : 'none has a working push registration';
    await denyRequest(deps, requestId, 'no_reachable_device', `the user could not be reached on any device: ${why}`);
  }
}
