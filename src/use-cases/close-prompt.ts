import type { DeliveryRecord } from '../domain/authentication-request.js';
import { needsClosing } from '../domain/prompt-deliveries.js';
import { jobFor, RetryLaterError, type JobContext, type JobRequest } from '../ports/jobs.js';
import type { Dependencies } from './dependencies.js';

/**
 * The job that closes the prompt on the user's other devices, queued by each way a request ends
 * (a device's decision, the service's denial, the expiry). Nothing is queued when no notifier is
 * configured: devices that poll see the request gone on their own.
 */
export function closePromptJobs(deps: Pick<Dependencies, 'notifiers'>, requestId: string): JobRequest[] {
  return deps.notifiers.length > 0 ? [jobFor('close-prompt', { requestId })] : [];
}

/**
 * Sends the closing message to every device that was shown the prompt, except the one that decided.
 * The request's delivery records make it idempotent: a device that got the closing message is not
 * sent it again, and only attempts that failed for a passing reason are retried.
 */
export async function closePrompt(
  deps: Pick<Dependencies, 'requests' | 'devices' | 'notifiers' | 'logger'>,
  requestId: string,
  context: JobContext,
): Promise<void> {
  if (deps.notifiers.length === 0) return;
  const request = await deps.requests.get(requestId);
  if (request === undefined || request.userId === null || request.status === 'pending') return;

  const decidingDevice = request.decision?.deviceId;
  const devices = (await deps.devices.listForUser(request.userId, request.partition)).filter(
    (device) => device.status === 'active' && device.deviceId !== decidingDevice,
  );
  const records: DeliveryRecord[] = [];
  for (const notifier of deps.notifiers) {
    const due = devices.filter((device) => needsClosing(request.deliveries, device.deviceId, notifier.channel));
    // Two closers may run at once (this job, and a prompt job that finished late): each device's n-th
    // closing attempt is claimed by one of them only.
    const claimed = await Promise.all(
      due.map((device) => deps.requests.claim(requestId, `close:${notifier.channel}:${device.deviceId}:${closeAttempts(request.deliveries, device.deviceId, notifier.channel)}`)),
    );
    const targets = due.filter((_, index) => claimed[index]);
    if (targets.length === 0) continue;
    const sent = await notifier.close({ request, devices: targets });
    if (Array.isArray(sent)) records.push(...sent);
  }
  for (const record of records) await deps.requests.addDelivery(requestId, record);
  if (records.length === 0) return;

  const retrying = records.filter((record) => record.result === 'failed' && record.retryable === true).length;
  deps.logger.info({ requestId, deliveries: records.map(({ channel, result }) => `${channel}:${result}`) }, 'prompt closed on other devices');
  if (retrying > 0 && !context.isLastAttempt) throw new RetryLaterError(`the closing message did not reach ${retrying} device(s) yet`);
}

/** How many closing messages this device was already sent (or tried) on this channel. */
const closeAttempts = (deliveries: readonly DeliveryRecord[], deviceId: string, channel: string): number =>
  deliveries.filter((record) => record.deviceId === deviceId && record.channel === channel && record.message === 'close').length;
