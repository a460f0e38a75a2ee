import type { AuthenticationRequest, DeliveryRecord } from '../domain/authentication-request.js';
import type { Device } from '../domain/device.js';

export interface Prompt {
  request: AuthenticationRequest;
  devices: Device[];
}

/**
 * A way to tell a user's devices that a request awaits them (push, web, e-mail…). Each notifier
 * answers for the devices it handles and ignores the others.
 */
export interface Notifier {
  readonly channel: string;
  /** Sends the prompt; one delivery record per device it handled. */
  prompt(prompt: Prompt): Promise<DeliveryRecord[]>;
  /**
   * Tells devices that a request is over so they can drop it. Best effort. The devices given are those
   * this notifier prompted (minus the one that decided); a notifier that returns delivery records
   * (`message: 'close'`) gets failed ones marked `retryable` offered again, and no device twice.
   */
  close(prompt: Prompt): Promise<DeliveryRecord[] | void>;
}
