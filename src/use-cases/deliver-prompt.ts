import type { DeliveryRecord } from '../domain/authentication-request.js';
import type { Dependencies } from './dependencies.js';

/**
 * Tells the user's active devices about a ready request through every configured notifier. Devices
 * no notifier handles see the request when they poll the device API; that is recorded too.
 */
export async function deliverPrompt(
  deps: Pick<Dependencies, 'requests' | 'devices' | 'notifiers' | 'clock' | 'logger'>,
  requestId: string,
): Promise<void> {
  const request = await deps.requests.get(requestId);
  if (request === undefined || request.status !== 'pending' || request.view === undefined || request.userId === null) return;
  if (deps.clock.now() >= request.expiresAt) return;

  const devices = (await deps.devices.listForUser(request.userId, request.partition)).filter((device) => device.status === 'active');
  const records: DeliveryRecord[] = [];
  for (const notifier of deps.notifiers) records.push(...(await notifier.prompt({ request, devices })));

  const handled = new Set(records.map((record) => record.deviceId));
  for (const device of devices) {
    if (!handled.has(device.deviceId)) records.push({ channel: 'poll', result: 'skipped', deviceId: device.deviceId, at: deps.clock.now() });
  }
  for (const record of records) await deps.requests.addDelivery(requestId, record);
  deps.logger.info({ requestId, deliveries: records.map(({ channel, result }) => `${channel}:${result}`) }, 'prompt delivered');
}
