/**
 * What an FCM failure means for the device, from the error code firebase-admin reports
 * (`messaging/…` for FCM's answers, `app/…` for network and credential trouble).
 *
 * - `token-dead`: FCM will never deliver to this token again (the app was uninstalled, the token
 *   rotated or was never valid). The device's push token is marked dead and skipped from then on.
 * - `transient`: the push service could not take the message now (unavailable, internal error,
 *   quota or rate exceeded, 5xx without a JSON body, network); the job tries again with backoff.
 * - `permanent`: anything else (our message was refused, APNs credentials are missing, the token
 *   belongs to another project…); not retried, and not the token's fault, so it stays.
 */
export type FcmFailureKind = 'token-dead' | 'transient' | 'permanent';

const TOKEN_DEAD = new Set(['messaging/registration-token-not-registered', 'messaging/invalid-registration-token']);

const TRANSIENT = new Set([
  'messaging/server-unavailable',
  'messaging/internal-error',
  'messaging/message-rate-exceeded',
  'messaging/device-message-rate-exceeded',
  // firebase-admin's code for a non-JSON answer with an unexpected status (a 502 or 429 from a proxy).
  'messaging/unknown-error',
  'app/network-error',
  'app/network-timeout',
  // The OAuth token could not be fetched; usually the network, and not about any one device.
  'app/invalid-credential',
]);

/**
 * INVALID_ARGUMENT is FCM's answer both for a malformed registration token and for a malformed message;
 * only the first is the token's fault. FCM says which in the message ("The registration token is not a
 * valid FCM registration token").
 */
const INVALID_TOKEN_MESSAGE = /registration token/i;

export function classifyFcmFailure(error: { code?: string; message?: string } | undefined): FcmFailureKind {
  const code = error?.code ?? '';
  if (TOKEN_DEAD.has(code)) return 'token-dead';
  if (code === 'messaging/invalid-argument' && INVALID_TOKEN_MESSAGE.test(error?.message ?? '')) return 'token-dead';
  if (TRANSIENT.has(code)) return 'transient';
  return 'permanent';
}
