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
  /**
   * Sends the prompt; one delivery record per device it handled. `sent` counts the device as reached;
   * `failed` or `skipped` as not reached through this notifier, unless marked `retryable` (then the
   * prompt job asks again, for that device only). Devices left out are taken to see the request by
   * polling; when no device at all is reached, the request is denied (see use-cases/deliver-prompt.ts).
   */
  prompt(prompt: Prompt): Promise<DeliveryRecord[]>;
  /**
   * Tells devices that a request is over so they can drop it. Best effort. It is given the devices this
   * notifier delivered the prompt to, minus the one that decided and those it already closed. Returning
   * delivery records (`message: 'close'`) is what lets the caller know that: without them a retry of the
   * closing job cannot tell, and attempts marked `retryable` are offered again.
   */
  close(prompt: Prompt): Promise<DeliveryRecord[] | void>;
}
