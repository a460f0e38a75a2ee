/** Which FCM failures kill a push token, which are retried, which are neither. */
import { classifyFcmFailure } from '../../src/adapters/fcm/fcm-errors.js';

describe('classifyFcmFailure', () => {
  it.each([
    ['messaging/registration-token-not-registered', 'Requested entity was not found.', 'token-dead'],
    ['messaging/invalid-registration-token', 'Invalid registration token provided.', 'token-dead'],
    ['messaging/invalid-argument', 'The registration token is not a valid FCM registration token', 'token-dead'],
    // The same code for a malformed message is our fault, not the token's: the token is kept.
    ['messaging/invalid-argument', 'Invalid value at \'message.android.ttl\'', 'permanent'],
    ['messaging/server-unavailable', 'The service is currently unavailable.', 'transient'],
    ['messaging/internal-error', 'Internal error encountered.', 'transient'],
    ['messaging/message-rate-exceeded', 'Quota exceeded.', 'transient'],
    ['messaging/unknown-error', 'Raw server response: "<html>502</html>"', 'transient'],
    ['app/network-error', 'Error while making request: socket hang up.', 'transient'],
    ['messaging/third-party-auth-error', 'APNs certificate missing', 'permanent'],
    ['messaging/mismatched-credential', 'SenderId mismatch', 'permanent'],
  ])('%s (%s) → %s', (code, message, kind) => {
    expect(classifyFcmFailure({ code, message })).toBe(kind);
  });
});
