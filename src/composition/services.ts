import type { Agent } from 'node:https';
import type { Logger } from 'pino';
import type { Config, RedisStoreConfig } from '../config/config.js';
import { HttpAccountDirectory } from '../adapters/accounts/http-account-directory.js';
import { StoredAccountDirectory } from '../adapters/accounts/stored-account-directory.js';
import { MemoryAccounts } from '../adapters/memory/memory-accounts.js';
import { MemoryActivationCodes, MemoryDevices, MemoryReplayCache } from '../adapters/memory/memory-devices.js';
import { MemoryJobQueue } from '../adapters/memory/memory-jobs.js';
import { MemoryRequests } from '../adapters/memory/memory-requests.js';
import { MemoryUsers } from '../adapters/memory/memory-users.js';
import { BullMqJobQueue, BullMqJobWorker } from '../adapters/redis/bullmq-jobs.js';
import { RedisAccounts } from '../adapters/redis/redis-accounts.js';
import { connectionSettingsFor, createRedisConnection, isRedisUnavailable, type RedisConnection } from '../adapters/redis/redis-client.js';
import { RedisActivationCodes, RedisDevices, RedisReplayCache } from '../adapters/redis/redis-devices.js';
import { RedisKeys } from '../adapters/redis/redis-keys.js';
import { RedisRequests } from '../adapters/redis/redis-requests.js';
import { RedisUsers } from '../adapters/redis/redis-users.js';
import { SecureAuthClient, UnconfiguredAuthorizationServer } from '../adapters/secureauth/secureauth-client.js';
import { FileEmailTemplates } from '../adapters/email/email-templates.js';
import { SmtpMailer } from '../adapters/email/smtp-mailer.js';
import type { EmailChannel } from '../ports/email.js';
import { FcmNotifier } from '../adapters/fcm/fcm-notifier.js';
import { connectFirebaseMessaging } from '../adapters/fcm/firebase-messaging.js';
import type { HttpDependencies } from '../http/app.js';
import { createRateLimiters, type RateLimitStore } from '../http/middleware/rate-limits.js';
import { MemoryAuditLog } from '../adapters/memory/memory-audit.js';
import { RedisAuditLog } from '../adapters/redis/redis-audit.js';
import { AuditTrail } from '../observability/audit-trail.js';
import { Metrics } from '../observability/metrics.js';
import type { AccountDirectory, AccountRepository } from '../ports/accounts.js';
import type { AuditLog } from '../ports/audit.js';
import type { AuthorizationServerClient } from '../ports/authorization-server.js';
import type { DeviceRepository } from '../ports/devices.js';
import type { JobWorker } from '../ports/jobs.js';
import type { Notifier } from '../ports/notifier.js';
import { systemClock, type Clock } from '../use-cases/dependencies.js';

export interface Services extends HttpDependencies {
  worker: JobWorker;
  /** Answers when the store can be reached. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Ready when the store answers and, in a process that runs jobs, the job worker runs: what a load
 * balancer or orchestrator should wait for before sending work.
 */
function readinessOf(config: Config, ping: () => Promise<void>, worker: JobWorker): HttpDependencies['readiness'] {
  return async () => {
    const store = await ping().then(
      () => true,
      () => false,
    );
    const workers = config.role === 'api' ? true : worker.isRunning();
    return { ready: store && workers, checks: { store, workers } };
  };
}

export interface ServiceOverrides {
  clock?: Clock;
  authorizationServer?: AuthorizationServerClient;
  /** The HTTPS agent firebase-admin sends through (tests and benchmarks: one that leads to a local FCM stand-in). */
  fcmAgent?: Agent;
}

interface Notifiers {
  notifiers: Notifier[];
  close(): Promise<void>;
}

/** Push through FCM when it is configured; without it devices learn of requests by polling. Said once, at start. */
function notifiersFor(config: Config, logger: Logger, devices: DeviceRepository, clock: Clock, overrides: ServiceOverrides): Notifiers {
  if (config.fcm === undefined) {
    logger.warn('FCM is off or not configured: no push prompts; devices see requests by polling (set FIREBASE_SERVICE_ACCOUNT_FILE)');
    return { notifiers: [], close: async () => {} };
  }
  const firebase = connectFirebaseMessaging(config.fcm, overrides.fcmAgent);
  logger.info({ projectId: config.fcm.projectId }, 'push prompts through Firebase Cloud Messaging');
  const notifier = new FcmNotifier(firebase.messaging, devices, config.fcm.notification, clock, logger.child({ component: 'fcm' }));
  return { notifiers: [notifier], close: () => firebase.close() };
}

function authorizationServerFor(config: Config, logger: Logger, metrics: Metrics): AuthorizationServerClient {
  if (config.secureAuth === undefined) {
    logger.warn('SecureAuth is not configured: outcomes cannot be reported and requests will fail (set SECUREAUTH_*)');
    return new UnconfiguredAuthorizationServer();
  }
  // The consent-page APIs need their own scope; it is asked for only when Open Banking is on.
  const extraScopes = config.openBanking !== undefined ? ['manage_openbanking_consents'] : [];
  const openBankingUrl = config.openBanking?.consentPagesUrl;
  return new SecureAuthClient(config.secureAuth, logger.child({ component: 'secureauth' }), {
    onTokenRefresh: () => metrics.tokenRefreshes.inc(),
    extraScopes,
    ...(openBankingUrl !== undefined ? { openBankingUrl } : {}),
  });
}

/** The bank's accounts API when `ACCOUNTS_API_URL` is set, else what operators stored. */
function accountDirectoryFor(config: Config, stored: AccountRepository): AccountDirectory {
  const { apiUrl, apiToken, timeoutMs } = config.accounts;
  return apiUrl === undefined ? new StoredAccountDirectory(stored) : new HttpAccountDirectory({ url: apiUrl, token: apiToken, timeoutMs });
}

/** The e-mail channel when SMTP_URL is set; its templates are read and checked now, at start-up. */
function emailChannelFor(config: Config, logger: Logger): EmailChannel | undefined {
  if (config.email === undefined) return undefined;
  return {
    mailer: new SmtpMailer(config.email.smtpUrl, config.email.from, logger.child({ component: 'email' })),
    templates: new FileEmailTemplates(config.email.templateDir),
  };
}

/**
 * What differs between the Redis store and the embedded in-memory one; buildServices makes the rest
 * of Services from it once, the same for both.
 */
interface Store extends Pick<Services, 'users' | 'devices' | 'activationCodes' | 'replayCache' | 'requests' | 'jobs' | 'worker' | 'accounts' | 'isUnavailable' | 'ping'> {
  auditLog: AuditLog;
  /** Where rate-limit counts live; undefined: in this process. */
  limiterStore?: RateLimitStore;
  /** Lets go of the store's connections: the last step of shutdown. */
  close(): Promise<void>;
}

function memoryStore(config: Config, logger: Logger): Store {
  logger.warn('REDIS_URL is not set: running on the embedded in-memory store and job queue (one process, nothing survives a restart)');
  const devices = new MemoryDevices();
  const users = new MemoryUsers(devices);
  // One object is both queue and worker here; closing it twice is harmless.
  const jobs = new MemoryJobQueue(logger.child({ component: 'jobs' }));
  return {
    users,
    devices,
    activationCodes: new MemoryActivationCodes(),
    replayCache: new MemoryReplayCache(),
    requests: new MemoryRequests(users),
    jobs,
    worker: jobs,
    accounts: new MemoryAccounts(),
    auditLog: new MemoryAuditLog(config.audit.maxEvents),
    isUnavailable: () => false,
    ping: async () => {},
    close: async () => {},
  };
}

function redisStore(config: Config, redisConfig: RedisStoreConfig, logger: Logger): Store {
  const keys = new RedisKeys(redisConfig.keyPrefix);
  // One server or a cluster: every connection below (store, queue, worker, rate limiters) follows it.
  const settings = connectionSettingsFor(redisConfig);
  const redis: RedisConnection = createRedisConnection(settings, 'fail-fast');
  const queueConnection = createRedisConnection(settings, 'fail-fast');
  const workerConnection = createRedisConnection(settings, 'patient');
  for (const connection of [redis, queueConnection, workerConnection]) {
    // ioredis reconnects on its own; without a listener its errors would crash the process.
    connection.on('error', (error: Error) => logger.warn({ err: error }, 'redis connection error'));
  }
  return {
    users: new RedisUsers(redis, keys),
    devices: new RedisDevices(redis, keys),
    activationCodes: new RedisActivationCodes(redis, keys),
    replayCache: new RedisReplayCache(redis, keys),
    requests: new RedisRequests(redis, keys),
    jobs: new BullMqJobQueue(queueConnection, keys.queuePrefix, logger.child({ component: 'jobs' })),
    worker: new BullMqJobWorker(workerConnection, keys.queuePrefix, logger.child({ component: 'jobs' }), undefined, config.jobs.lockSeconds * 1000),
    accounts: new RedisAccounts(redis, keys),
    auditLog: new RedisAuditLog(redis, keys, config.audit.maxEvents),
    limiterStore: { client: redis, keyPrefix: redisConfig.keyPrefix },
    isUnavailable: isRedisUnavailable,
    ping: async () => {
      await redis.ping();
    },
    close: async () => {
      await Promise.allSettled([redis.quit(), queueConnection.quit(), workerConnection.quit()]);
    },
  };
}

/**
 * The composition root: picks Redis or the in-memory adapters for every port and wires them into
 * one set of dependencies shared by the HTTP app and the job workers.
 */
export async function buildServices(config: Config, logger: Logger, overrides: ServiceOverrides = {}): Promise<Services> {
  const clock = overrides.clock ?? systemClock;
  // The queue is made below, with the store; the gauge reads it only when scraped.
  let queueDepth: () => Promise<Record<string, number>> = async () => ({});
  const metrics = new Metrics(() => queueDepth());
  const authorizationServer = overrides.authorizationServer ?? authorizationServerFor(config, logger, metrics);
  const email = emailChannelFor(config, logger);

  const store = config.redis === undefined ? memoryStore(config, logger) : redisStore(config, config.redis, logger);
  const { jobs, worker, accounts, ping } = store;
  queueDepth = () => jobs.depth();
  const push = notifiersFor(config, logger, store.devices, clock, overrides);
  const audit = new AuditTrail(store.auditLog, metrics, logger.child({ component: 'audit' }));

  return {
    config,
    logger,
    clock,
    users: store.users,
    devices: store.devices,
    activationCodes: store.activationCodes,
    replayCache: store.replayCache,
    requests: store.requests,
    jobs,
    worker,
    authorizationServer,
    notifiers: push.notifiers,
    ...(email !== undefined ? { email } : {}),
    accounts,
    accountDirectory: accountDirectoryFor(config, accounts),
    limiters: createRateLimiters(config.rateLimits, store.limiterStore),
    audit,
    metrics,
    isUnavailable: store.isUnavailable,
    ping,
    readiness: readinessOf(config, ping, worker),
    // Jobs stop first, then the audit trail is flushed into the store, and the store goes last.
    close: async () => {
      await worker.close();
      await jobs.close();
      await audit.flush();
      await push.close();
      await store.close();
    },
  };
}
