import { pino, type Logger } from 'pino';

/**
 * Anything that could let someone act as a user, a device or this service is removed from logs:
 * credentials in headers, tokens, push tokens, activation codes, magic links and SecureAuth's
 * login_state. Paths cover both request logging and the fields use cases log.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.dpop',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  '*.authorization',
  '*.password',
  '*.client_secret',
  '*.clientSecret',
  '*.access_token',
  '*.accessToken',
  '*.device_token',
  '*.deviceToken',
  '*.token',
  '*.push_token',
  '*.pushToken',
  '*.activation_code',
  '*.activationCode',
  '*.magic_link',
  '*.magicLink',
  '*.login_state',
  '*.loginState',
  '*.state',
  '*.decision_jws',
];

/**
 * Without a destination the log goes to standard output asynchronously: lines written while a write
 * is under way are batched into the next one instead of each blocking the event loop on a write
 * system call (a large share of the CPU an HTTP call costs). What is still buffered is written
 * synchronously when the process exits, so the last lines are not lost.
 */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  const options = {
    level,
    base: { service: 'ciba-authentication-service' },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (destination !== undefined) return pino(options, destination);
  const stdout = pino.destination({ dest: 1, sync: false });
  process.once('exit', () => stdout.flushSync());
  return pino(options, stdout);
}
