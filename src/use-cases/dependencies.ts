import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import type { AuditTrail } from '../observability/audit-trail.js';
import type { Metrics } from '../observability/metrics.js';
import type { AccountDirectory, AccountRepository } from '../ports/accounts.js';
import type { AuthorizationServerClient } from '../ports/authorization-server.js';
import type { ActivationCodeRepository, DeviceRepository, ReplayCache } from '../ports/devices.js';
import type { EmailChannel } from '../ports/email.js';
import type { JobQueue } from '../ports/jobs.js';
import type { Notifier } from '../ports/notifier.js';
import type { RequestRepository } from '../ports/requests.js';
import type { UserRepository } from '../ports/users.js';

export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** Everything a use case may need; each one takes only the parts it uses. */
export interface Dependencies {
  config: Config;
  logger: Logger;
  clock: Clock;
  users: UserRepository;
  devices: DeviceRepository;
  activationCodes: ActivationCodeRepository;
  replayCache: ReplayCache;
  requests: RequestRepository;
  jobs: JobQueue;
  authorizationServer: AuthorizationServerClient;
  notifiers: Notifier[];
  /** The e-mail channel (magic links); undefined when SMTP_URL is not set. */
  email?: EmailChannel;
  /** Accounts stored through the admin API. */
  accounts: AccountRepository;
  /** Where the accounts a user may choose from come from (the store above, or the bank's API). */
  accountDirectory: AccountDirectory;
  /** Lifecycle and admin events: audit log, service log and metrics. */
  audit: AuditTrail;
  metrics: Metrics;
}
