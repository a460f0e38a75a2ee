import type { BatchResponse, Messaging, SendResponse, TokenMessage } from 'firebase-admin/messaging';
import type { Logger } from 'pino';
import type { AuthenticationRequest, DeliveryRecord } from '../../domain/authentication-request.js';
import { learnsOnlyByPush, type Device } from '../../domain/device.js';
import type { DeviceRepository } from '../../ports/devices.js';
import type { Notifier, Prompt } from '../../ports/notifier.js';
import type { Clock } from '../../use-cases/dependencies.js';
import { classifyFcmFailure } from './fcm-errors.js';
import { closingMessage, promptMessage, type NotificationTexts } from './fcm-messages.js';

/** FCM accepts at most 500 messages in one `sendEach`. */
const MAX_BATCH = 500;

type MessageKind = 'prompt' | 'close';

const hasLivePushToken = (device: Device): device is Device & { pushToken: string } =>
  device.pushToken !== undefined && device.pushToken.length > 0 && device.pushTokenStatus === 'active';

/**
 * Push through Firebase Cloud Messaging (channel `push`). It handles every device with a live push
 * token, and every phone (android, ios) even without one: a phone app learns of a request only by
 * push, so a phone without a working token is recorded as not reached (`skipped`, with why). Other
 * devices without a token are left to poll.
 *
 * All devices of the user go out in one `sendEach` batch. A token FCM calls unregistered or invalid
 * is marked dead on the device (the app revives it with `PUT /device/v1/devices/self {push_token}`)
 * and not used again. Tokens never reach the logs or the delivery records.
 */
export class FcmNotifier implements Notifier {
  readonly channel = 'push';

  constructor(
    private readonly messaging: Pick<Messaging, 'sendEach'>,
    private readonly devices: Pick<DeviceRepository, 'get' | 'update'>,
    private readonly texts: NotificationTexts,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  async prompt({ request, devices }: Prompt): Promise<DeliveryRecord[]> {
    const now = this.clock.now();
    const records: DeliveryRecord[] = [];
    const reachable: Array<Device & { pushToken: string }> = [];
    for (const device of devices) {
      if (hasLivePushToken(device)) reachable.push(device);
      else if (learnsOnlyByPush(device.platform)) {
        const errorCode = device.pushTokenStatus === 'dead' ? 'push_token_dead' : 'no_push_token';
        records.push({ channel: this.channel, message: 'prompt', result: 'skipped', at: now, deviceId: device.deviceId, errorCode });
      }
    }
    records.push(...(await this.send(request, reachable, 'prompt', (token) => promptMessage(request, token, now, this.texts))));
    return records;
  }

  async close({ request, devices }: Prompt): Promise<DeliveryRecord[]> {
    const now = this.clock.now();
    return this.send(request, devices.filter(hasLivePushToken), 'close', (token) => closingMessage(request, token, now));
  }

  private async send(
    request: AuthenticationRequest,
    devices: Array<Device & { pushToken: string }>,
    kind: MessageKind,
    build: (token: string) => TokenMessage,
  ): Promise<DeliveryRecord[]> {
    const records: DeliveryRecord[] = [];
    for (let start = 0; start < devices.length; start += MAX_BATCH) {
      const batch = devices.slice(start, start + MAX_BATCH);
      const responses = await this.sendBatch(batch.map((device) => build(device.pushToken)));
      const at = this.clock.now();
      for (const [index, device] of batch.entries()) {
        records.push(await this.record(request, device, kind, responses[index], at));
      }
    }
    return records;
  }

  /** One answer per message; a batch that fails as a whole (no OAuth token, say) fails every message. */
  private async sendBatch(messages: TokenMessage[]): Promise<Array<SendResponse | undefined>> {
    try {
      const batch: BatchResponse = await this.messaging.sendEach(messages);
      return batch.responses;
    } catch (error) {
      const failure = error as { code?: string; message?: string };
      this.logger.warn({ errorCode: failure.code, reason: failure.message }, 'FCM batch failed as a whole');
      const code = typeof failure.code === 'string' ? failure.code : 'messaging/unknown-error';
      return messages.map(() => ({ success: false, error: { code, message: failure.message ?? '' } }) as SendResponse);
    }
  }

  private async record(
    request: AuthenticationRequest,
    device: Device & { pushToken: string },
    kind: MessageKind,
    response: SendResponse | undefined,
    at: number,
  ): Promise<DeliveryRecord> {
    const base = { channel: this.channel, message: kind, at, deviceId: device.deviceId } as const;
    if (response?.success === true) return { ...base, result: 'sent' };
    const errorCode = response?.error?.code ?? 'messaging/unknown-error';
    const failure = classifyFcmFailure(response?.error);
    const log = { requestId: request.requestId, deviceId: device.deviceId, message: kind, errorCode };
    if (failure === 'token-dead') {
      await this.markTokenDead(device, errorCode);
    } else if (failure === 'transient') {
      this.logger.warn({ ...log, reason: response?.error?.message }, 'FCM could not take the message now; it will be retried');
    } else {
      this.logger.error({ ...log, reason: response?.error?.message }, 'FCM refused the message');
    }
    return { ...base, result: 'failed', errorCode, ...(failure === 'transient' ? { retryable: true } : {}) };
  }

  /**
   * Marks the token dead unless the app replaced it in the meantime (then the new token is kept).
   * Read-then-write: a replacement landing between the two is the one narrow case where a fresh token
   * is marked dead; the app's next token refresh revives it.
   */
  private async markTokenDead(device: Device & { pushToken: string }, errorCode: string): Promise<void> {
    const current = await this.devices.get(device.deviceId);
    if (current?.pushToken !== device.pushToken || current.pushTokenStatus !== 'active') return;
    await this.devices.update(device.deviceId, { pushTokenStatus: 'dead' });
    this.logger.warn({ deviceId: device.deviceId, errorCode }, 'FCM refused the push token; marked dead until the app sends a new one');
  }
}
