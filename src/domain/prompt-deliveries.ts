import type { DeliveryRecord } from './authentication-request.js';

/**
 * Where a request's prompt stands on each device, read from the delivery records the request keeps
 * (in the order they were made). Retries of the prompt and closing jobs consult them, so a device that
 * got a message is never sent the same message again.
 */

/** The "channel" of devices no notifier handles: they see the request when they poll the device API. */
export const POLL_CHANNEL = 'poll';

/**
 * - `untried`: no attempt yet;
 * - `reached`: some channel delivered the prompt, or the device polls (it counts as reachable);
 * - `retrying`: not reached, and the latest attempt on some channel failed for a passing reason;
 * - `unreachable`: every channel that handled the device gave up on it (no or dead push token…).
 */
export type PromptState = 'untried' | 'reached' | 'retrying' | 'unreachable';

const isPrompt = (record: DeliveryRecord): boolean => (record.message ?? 'prompt') === 'prompt';
const isClose = (record: DeliveryRecord): boolean => record.message === 'close';
const willRetry = (record: DeliveryRecord | undefined): boolean => record?.result === 'failed' && record.retryable === true;

export function promptState(deliveries: readonly DeliveryRecord[], deviceId: string): PromptState {
  const records = deliveries.filter((record) => record.deviceId === deviceId && isPrompt(record));
  if (records.length === 0) return 'untried';
  if (records.some((record) => record.result === 'sent' || record.channel === POLL_CHANNEL)) return 'reached';
  const latestByChannel = new Map<string, DeliveryRecord>();
  for (const record of records) latestByChannel.set(record.channel, record);
  return [...latestByChannel.values()].some(willRetry) ? 'retrying' : 'unreachable';
}

/**
 * Whether a device still needs the closing message on `channel`: it was sent the prompt there, and
 * no closing message went out yet (or the last one failed for a passing reason).
 */
export function needsClosing(deliveries: readonly DeliveryRecord[], deviceId: string, channel: string): boolean {
  const mine = deliveries.filter((record) => record.deviceId === deviceId && record.channel === channel);
  if (!mine.some((record) => isPrompt(record) && record.result === 'sent')) return false;
  const closes = mine.filter(isClose);
  return closes.length === 0 || willRetry(closes[closes.length - 1]);
}
