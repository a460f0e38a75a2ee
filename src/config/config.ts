import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { z } from 'zod';

/**
 * All settings come from the environment and are parsed once, at start-up, into one typed object.
 * A bad value stops the start with a message naming the variable (see {@link ConfigError}).
 */

const booleanFromEnv = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

const optionalString = z
  .string()
  .transform((value) => value.trim())
  .pipe(z.string())
  .optional()
  .transform((value) => (value === undefined || value === '' ? undefined : value));

const optionalUrl = optionalString.pipe(z.url({ protocol: /^https?$/ }).optional());
/** A URL that paths are appended to: trailing slashes are dropped, so `${base}/path` has exactly one. */
const optionalBaseUrl = optionalUrl.transform((value) => value?.replace(/\/+$/, ''));

/** `a, b,,c` → `['a', 'b', 'c']`: entries trimmed, empty ones dropped. */
const commaList = (value: string): string[] =>
  value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);

/** `NAME=` (as in .env.example) means unset for settings whose default depends on others or is "off". */
const emptyAsUnset = (value: unknown): unknown => (typeof value === 'string' && value.trim() === '' ? undefined : value);
/** A switch whose absence (or an empty value, as `.env.example` leaves it) means "decide by the other settings". */
const optionalBoolean = z.preprocess(emptyAsUnset, booleanFromEnv.optional());

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/** `user:pass[,user2:pass2…]`: several pairs at once let SecureAuth's credentials be rotated without downtime. */
const basicCredentials = optionalString.transform((value, context) => {
  if (value === undefined) return [];
  const pairs = commaList(value);
  const credentials: BasicCredential[] = [];
  for (const pair of pairs) {
    const colon = pair.indexOf(':');
    if (colon <= 0 || colon === pair.length - 1) {
      context.addIssue({ code: 'custom', message: 'each entry must be user:password' });
      return z.NEVER;
    }
    credentials.push({ username: pair.slice(0, colon), password: pair.slice(colon + 1) });
  }
  return credentials;
});

/**
 * `host:port,host:port,…` — seed nodes of a Redis Cluster (ioredis discovers the rest). An entry may
 * also be a URL, `redis://[user:password@]host:port` or `rediss://…` (TLS), when the cluster needs
 * credentials; the credentials and the scheme then apply to every node, so entries must agree on them.
 */
const clusterNodes = optionalString.transform((value, context): RedisClusterConfig | undefined => {
  if (value === undefined) return undefined;
  const entries = commaList(value);
  const nodes: RedisNode[] = [];
  const access = new Set<string>();
  let options: RedisClusterConfig['options'] = {};
  for (const entry of entries) {
    const node = parseClusterNode(entry);
    if (typeof node === 'string') {
      context.addIssue({ code: 'custom', message: `${JSON.stringify(entry)}: ${node}` });
      return z.NEVER;
    }
    nodes.push({ host: node.host, port: node.port });
    access.add(JSON.stringify(node.options));
    if (Object.keys(node.options).length > 0) options = node.options;
  }
  if (nodes.length === 0) {
    context.addIssue({ code: 'custom', message: 'must list at least one host:port' });
    return z.NEVER;
  }
  const withCredentials = [...access].filter((entry) => entry !== '{}');
  if (withCredentials.length > 1) {
    context.addIssue({ code: 'custom', message: 'entries disagree on credentials or TLS (rediss://); give them once, the same for every node' });
    return z.NEVER;
  }
  return { nodes, options };
});

function parseClusterNode(entry: string): (RedisNode & { options: RedisClusterConfig['options'] }) | string {
  if (entry.includes('://')) {
    let url: URL;
    try {
      url = new URL(entry);
    } catch {
      return 'is not a valid URL';
    }
    if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') return 'must be host:port, redis://… or rediss://…';
    const port = url.port === '' ? 6379 : Number(url.port);
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    if (host === '') return 'has no host';
    const options: RedisClusterConfig['options'] = {
      ...(url.username !== '' ? { username: decodeURIComponent(url.username) } : {}),
      ...(url.password !== '' ? { password: decodeURIComponent(url.password) } : {}),
      ...(url.protocol === 'rediss:' ? { tls: true } : {}),
    };
    return { host, port, options };
  }
  const match = /^(?:\[([^\]]+)\]|([^:\s]+)):(\d{1,5})$/.exec(entry);
  const port = Number(match?.[3]);
  if (!match || !(port >= 1 && port <= 65_535)) return 'must be host:port';
  return { host: match[1] ?? match[2] ?? '', port, options: {} };
}

/** Express's `trust proxy`: off, the number of proxies in front, or the proxies' addresses and subnets. */
export type TrustProxy = false | number | string[];

/** Names proxy-addr (express) knows for well-known ranges. */
const namedRanges = new Set(['loopback', 'linklocal', 'uniquelocal']);

function invalidProxyEntry(entry: string): string | undefined {
  if (namedRanges.has(entry)) return undefined;
  const [address = '', bits, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return `${JSON.stringify(entry)} is not an IP address, a subnet (address/bits) or one of ${[...namedRanges].join(', ')}`;
  if (bits === undefined) return undefined;
  const max = family === 4 ? 32 : 128;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= max ? undefined : `${JSON.stringify(entry)}: the prefix length must be 0-${max}`;
}

/**
 * Which forwarded addresses count as the client's (rate limits key on it). `false` (default): the TCP
 * peer, X-Forwarded-For ignored. A number: that many proxies in front, the address they forwarded is the
 * client. A list: forwarding from these addresses/subnets is believed. `true` would believe any client's
 * X-Forwarded-For — anyone could pick the address they are counted under — so it is refused.
 */
const trustProxy = optionalString.transform((value, context): TrustProxy => {
  if (value === undefined || /^(false|no|off|0)$/i.test(value)) return false;
  if (/^(true|yes|on)$/i.test(value)) {
    context.addIssue({
      code: 'custom',
      message: 'true would believe every client\'s X-Forwarded-For; give the number of proxies in front (e.g. 1) or their addresses',
    });
    return z.NEVER;
  }
  if (/^\d+$/.test(value)) return Number(value);
  const entries = commaList(value);
  const problems = entries.map(invalidProxyEntry).filter((problem) => problem !== undefined);
  if (problems.length > 0 || entries.length === 0) {
    context.addIssue({ code: 'custom', message: problems[0] ?? 'must be false, a hop count or addresses/subnets' });
    return z.NEVER;
  }
  return entries;
});

const environmentSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  ROLE: z.enum(['api', 'worker', 'all']).default('all'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().default('0.0.0.0'),
  TRUST_PROXY: trustProxy,
  PUBLIC_URL: optionalBaseUrl,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  REDIS_URL: optionalString.pipe(z.url({ protocol: /^rediss?$/ }).optional()),
  REDIS_CLUSTER_NODES: clusterNodes,
  REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[^{}]*$/, 'must not contain { or } (they delimit Redis Cluster hash tags)')
    .default('ciba:'),

  AS_BASIC_CREDENTIALS: basicCredentials,
  ADMIN_API_TOKEN: optionalString.pipe(z.string().min(16, 'must be at least 16 characters').optional()),

  SECUREAUTH_ISSUER_URL: optionalBaseUrl,
  SECUREAUTH_CLIENT_ID: optionalString,
  SECUREAUTH_CLIENT_SECRET: optionalString,
  SECUREAUTH_TOKEN_URL: optionalUrl,
  SECUREAUTH_SYSTEM_API_URL: optionalBaseUrl,
  SECUREAUTH_TIMEOUT_MS: positiveInt(5000),
  SECUREAUTH_OPENBANKING_URL: optionalBaseUrl,

  OPENBANKING_PROFILE: optionalString.pipe(z.enum(['uk', 'brasil']).optional()),
  ACCOUNTS_API_URL: optionalUrl,
  ACCOUNTS_API_TOKEN: optionalString,
  ACCOUNTS_API_TIMEOUT_MS: positiveInt(5000),

  REQUEST_TTL_SECONDS: positiveInt(120),
  REQUEST_RETENTION_SECONDS: positiveInt(86_400),
  EXPIRY_SWEEP_INTERVAL_MS: positiveInt(1_000),
  ACTIVATION_CODE_TTL_SECONDS: positiveInt(600),
  CLOCK_SKEW_SECONDS: positiveInt(60),
  BODY_LIMIT_BYTES: positiveInt(65_536),

  ACTIVATION_MAX_ATTEMPTS: positiveInt(10),
  ACTIVATION_WINDOW_SECONDS: positiveInt(600),
  RATE_LIMIT_BASIC_FAILURES: positiveInt(10),
  RATE_LIMIT_ADMIN_FAILURES: positiveInt(10),
  RATE_LIMIT_FAILURE_WINDOW_SECONDS: positiveInt(600),
  RATE_LIMIT_DEVICE_PER_MINUTE: positiveInt(600),
  RATE_LIMIT_ADMIN_PER_MINUTE: positiveInt(600),
  AUDIT_MAX_EVENTS: positiveInt(100_000),
  /** Bearer token that /metrics requires; unset: /metrics is open (keep it off the public network). */
  METRICS_TOKEN: optionalString,

  OPENAPI_VALIDATE_RESPONSES: booleanFromEnv.default(false),

  WEB_AUTHENTICATOR_ENABLED: optionalBoolean,
  SMTP_URL: optionalString.pipe(z.url({ protocol: /^smtps?$/ }).optional()),
  EMAIL_FROM: optionalString,
  EMAIL_FALLBACK_AFTER_SECONDS: z.preprocess(emptyAsUnset, z.coerce.number().int().positive().optional()),
  EMAIL_TEMPLATE_DIR: optionalString,
  NOTIFY_MAX_PENDING: positiveInt(3),
  NOTIFY_MAX_PER_DAY: positiveInt(50),
  BINDING_CONFIRMATION: z.enum(['off', 'optional', 'required']).default('off'),
  FCM_ENABLED: optionalBoolean,
  FIREBASE_SERVICE_ACCOUNT_FILE: optionalString,
  GOOGLE_APPLICATION_CREDENTIALS: optionalString,
  FIREBASE_PROJECT_ID: optionalString,
  FCM_NOTIFICATION_TITLE: z.string().min(1).max(200).default('Sign-in request from {client_name}'),
  FCM_NOTIFICATION_BODY: z.string().max(500).default('Open the app to approve or deny it.'),
  FCM_MAX_CONNECTIONS: positiveInt(32),

  SHUTDOWN_TIMEOUT_SECONDS: positiveInt(25),
  JOB_LOCK_SECONDS: positiveInt(15),
});

type Env = z.infer<typeof environmentSchema>;

export interface BasicCredential {
  username: string;
  password: string;
}

export interface RedisNode {
  host: string;
  port: number;
}

/** Seed nodes of a Redis Cluster, and what every node is reached with. */
export interface RedisClusterConfig {
  nodes: RedisNode[];
  options: { username?: string; password?: string; tls?: boolean };
}

/** One Redis server (`REDIS_URL`) or a Redis Cluster (`REDIS_CLUSTER_NODES`). */
export type RedisStoreConfig = { url: string; keyPrefix: string } | { cluster: RedisClusterConfig; keyPrefix: string };

export interface SecureAuthConfig {
  issuerUrl: string;
  tokenUrl: string;
  systemApiUrl: string;
  clientId: string;
  clientSecret: string;
  timeoutMs: number;
}

export interface Config {
  env: Env['NODE_ENV'];
  role: Env['ROLE'];
  /** `trustProxy`: express's `trust proxy`, deciding which address a call counts as coming from. */
  http: { port: number; host: string; publicUrl: string; bodyLimitBytes: number; validateResponses: boolean; trustProxy: TrustProxy };
  logLevel: Env['LOG_LEVEL'];
  redis: RedisStoreConfig | undefined;
  keyPrefix: string;
  authorizationServer: { credentials: BasicCredential[] };
  admin: { token: string | undefined };
  secureAuth: SecureAuthConfig | undefined;
  /** `expirySweepIntervalMs`: how often expired requests are closed (closing messages, audit, metrics). */
  requests: { ttlSeconds: number; retentionSeconds: number; expirySweepIntervalMs: number };
  devices: { activationCodeTtlSeconds: number; clockSkewSeconds: number };
  rateLimits: RateLimitsConfig;
  /** The audit trail keeps about this many events (a capped Redis stream). */
  audit: { maxEvents: number };
  /** Bearer token /metrics requires, when set. */
  metricsToken: string | undefined;
  /** The browser authenticator at /authenticator. */
  webAuthenticator: { enabled: boolean };
  /** The e-mail channel (magic links); undefined when SMTP_URL is not set. */
  email: EmailConfig | undefined;
  /** Per-user caps checked when a request is created (protection from prompt bombing). */
  notifications: { maxPending: number; maxPerDay: number };
  /** Whether the user must pick the binding message among decoys before approving. */
  bindingConfirmation: BindingConfirmationMode;
  /**
   * Set when Open Banking requests are handled (`OPENBANKING_PROFILE`). `consentPagesUrl` is the base of
   * SecureAuth's consent pages (`…/open-banking/…`, `…/open-banking-brasil/…`) when it is not the issuer URL.
   */
  openBanking: { profile: NonNullable<Env['OPENBANKING_PROFILE']>; consentPagesUrl: string | undefined } | undefined;
  /** Where users' accounts come from: the bank's endpoint when `apiUrl` is set, else the admin API's store. */
  accounts: { apiUrl: string | undefined; apiToken: string | undefined; timeoutMs: number };
  fcm: FcmConfig | undefined;
  /** How long a stopping process (SIGTERM/SIGINT) waits for in-flight HTTP requests and running jobs. */
  shutdown: { timeoutSeconds: number };
  /**
   * BullMQ job locks: a running job's lock lasts this long and is renewed at half of it, and stalled
   * jobs are looked for as often; a job of a worker that died is run again after one to two periods.
   */
  jobs: { lockSeconds: number };
}

/** At most `points` within `durationSeconds`, per key. */
export interface RateLimit {
  points: number;
  durationSeconds: number;
}

/**
 * What each limiter allows (see src/http/middleware/rate-limits.ts): wrong activation codes, failed Basic
 * and failed admin authentications per source address; calls per authenticated device; admin calls per
 * source address.
 */
export interface RateLimitsConfig {
  activation: RateLimit;
  basicFailures: RateLimit;
  adminFailures: RateLimit;
  device: RateLimit;
  admin: RateLimit;
}

export type BindingConfirmationMode = Env['BINDING_CONFIRMATION'];

export interface EmailConfig {
  smtpUrl: string;
  from: string;
  /** Send the magic link too when no device decided within this time; undefined = never. */
  fallbackAfterSeconds: number | undefined;
  /** Folder whose template files replace the built-in ones. */
  templateDir: string | undefined;
}

/** Push through Firebase Cloud Messaging; absent when FCM is off or not configured. */
export interface FcmConfig {
  /** The service-account JSON file; it is read again by firebase-admin, never kept in the config. */
  serviceAccountFile: string;
  projectId: string;
  /** Texts of the visible notification; `{client_name}` is replaced by the client's name. */
  notification: { title: string; body: string };
  /** Most HTTPS connections to FCM at once (keep-alive, reused between prompts). */
  maxConnections: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * SecureAuth URLs are derived from the workspace issuer `https://host/{tenant}/{workspace}`;
 * vanity domains drop tenant and workspace from paths, hence the explicit overrides.
 */
function secureAuthConfig(env: Env, problems: string[]): SecureAuthConfig | undefined {
  const { SECUREAUTH_ISSUER_URL: issuer, SECUREAUTH_CLIENT_ID: clientId, SECUREAUTH_CLIENT_SECRET: clientSecret } = env;
  if (issuer === undefined && clientId === undefined && clientSecret === undefined) return undefined;
  if (issuer === undefined || clientId === undefined || clientSecret === undefined) {
    problems.push('SECUREAUTH_ISSUER_URL, SECUREAUTH_CLIENT_ID and SECUREAUTH_CLIENT_SECRET must be set together');
    return undefined;
  }
  const url = new URL(issuer);
  const [tenant] = url.pathname.split('/').filter((segment) => segment.length > 0);
  if ((env.SECUREAUTH_TOKEN_URL === undefined || env.SECUREAUTH_SYSTEM_API_URL === undefined) && tenant === undefined) {
    problems.push(
      'SECUREAUTH_ISSUER_URL: has no tenant in its path (https://host/{tenant}/{workspace}); set SECUREAUTH_TOKEN_URL and SECUREAUTH_SYSTEM_API_URL',
    );
    return undefined;
  }
  return {
    issuerUrl: issuer,
    tokenUrl: env.SECUREAUTH_TOKEN_URL ?? `${url.origin}/${tenant}/system/oauth2/token`,
    systemApiUrl: env.SECUREAUTH_SYSTEM_API_URL ?? `${url.origin}/api/system/${tenant}`,
    clientId,
    clientSecret,
    timeoutMs: env.SECUREAUTH_TIMEOUT_MS,
  };
}

/**
 * FCM is on when a service-account file is named (FIREBASE_SERVICE_ACCOUNT_FILE, else
 * GOOGLE_APPLICATION_CREDENTIALS) unless FCM_ENABLED=false. The file is read here only to fail the
 * start early with a clear message and to take the project id from it; its key is not kept.
 */
function fcmConfig(env: Env, problems: string[]): FcmConfig | undefined {
  if (env.FCM_ENABLED === false) return undefined;
  const variable = env.FIREBASE_SERVICE_ACCOUNT_FILE !== undefined ? 'FIREBASE_SERVICE_ACCOUNT_FILE' : 'GOOGLE_APPLICATION_CREDENTIALS';
  const file = env.FIREBASE_SERVICE_ACCOUNT_FILE ?? env.GOOGLE_APPLICATION_CREDENTIALS;
  if (file === undefined) {
    if (env.FCM_ENABLED === true) problems.push('FCM_ENABLED: is true but neither FIREBASE_SERVICE_ACCOUNT_FILE nor GOOGLE_APPLICATION_CREDENTIALS is set');
    return undefined;
  }
  let account: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
    account = parsed as Record<string, unknown>;
  } catch (error) {
    const reason = error instanceof SyntaxError ? 'not valid JSON' : ((error as NodeJS.ErrnoException).code ?? (error as Error).message);
    problems.push(`${variable}: cannot read a service-account JSON file there (${reason}); set FCM_ENABLED=false to run without push`);
    return undefined;
  }
  const text = (key: string): string | undefined => (typeof account[key] === 'string' && account[key] !== '' ? account[key] : undefined);
  const privateKey = text('private_key');
  if (text('client_email') === undefined || privateKey === undefined) {
    problems.push(`${variable}: is not a service-account key file (client_email and private_key are required)`);
    return undefined;
  }
  try {
    createPrivateKey(privateKey);
  } catch {
    problems.push(`${variable}: private_key is not a PEM private key`);
    return undefined;
  }
  const projectId = env.FIREBASE_PROJECT_ID ?? text('project_id');
  if (projectId === undefined) {
    problems.push(`FIREBASE_PROJECT_ID: is required because ${variable} names no project_id`);
    return undefined;
  }
  return {
    serviceAccountFile: file,
    projectId,
    notification: { title: env.FCM_NOTIFICATION_TITLE, body: env.FCM_NOTIFICATION_BODY },
    maxConnections: env.FCM_MAX_CONNECTIONS,
  };
}

export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const parsed = environmentSchema.safeParse(source);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => `${issue.path.join('.') || '(environment)'}: ${issue.message}`),
    );
  }
  const env = parsed.data;
  const problems: string[] = [];
  const secureAuth = secureAuthConfig(env, problems);
  const fcm = fcmConfig(env, problems);

  if (env.NODE_ENV === 'production') {
    if (env.REDIS_URL === undefined && env.REDIS_CLUSTER_NODES === undefined) {
      problems.push('REDIS_URL: is required when NODE_ENV=production (or REDIS_CLUSTER_NODES for a Redis Cluster)');
    }
    if (env.AS_BASIC_CREDENTIALS.length === 0) problems.push('AS_BASIC_CREDENTIALS: is required when NODE_ENV=production');
    if (env.PUBLIC_URL === undefined) problems.push('PUBLIC_URL: is required when NODE_ENV=production');
    if (secureAuth === undefined && !problems.some((p) => p.startsWith('SECUREAUTH'))) {
      problems.push('SECUREAUTH_ISSUER_URL, SECUREAUTH_CLIENT_ID and SECUREAUTH_CLIENT_SECRET: are required when NODE_ENV=production');
    }
  }
  if (env.REDIS_URL !== undefined && env.REDIS_CLUSTER_NODES !== undefined) {
    problems.push('REDIS_URL and REDIS_CLUSTER_NODES: set one of them, not both (REDIS_URL for one server, REDIS_CLUSTER_NODES for a cluster)');
  }
  if (env.SMTP_URL !== undefined && env.EMAIL_FROM === undefined) problems.push('EMAIL_FROM: is required when SMTP_URL is set');
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    env: env.NODE_ENV,
    role: env.ROLE,
    http: {
      port: env.PORT,
      host: env.HOST,
      publicUrl: env.PUBLIC_URL ?? `http://localhost:${env.PORT}`,
      bodyLimitBytes: env.BODY_LIMIT_BYTES,
      validateResponses: env.OPENAPI_VALIDATE_RESPONSES,
      trustProxy: env.TRUST_PROXY,
    },
    logLevel: env.LOG_LEVEL,
    redis: redisStoreConfig(env),
    keyPrefix: env.REDIS_KEY_PREFIX,
    authorizationServer: { credentials: env.AS_BASIC_CREDENTIALS },
    admin: { token: env.ADMIN_API_TOKEN },
    secureAuth,
    requests: {
      ttlSeconds: env.REQUEST_TTL_SECONDS,
      retentionSeconds: env.REQUEST_RETENTION_SECONDS,
      expirySweepIntervalMs: env.EXPIRY_SWEEP_INTERVAL_MS,
    },
    devices: { activationCodeTtlSeconds: env.ACTIVATION_CODE_TTL_SECONDS, clockSkewSeconds: env.CLOCK_SKEW_SECONDS },
    rateLimits: {
      activation: { points: env.ACTIVATION_MAX_ATTEMPTS, durationSeconds: env.ACTIVATION_WINDOW_SECONDS },
      basicFailures: { points: env.RATE_LIMIT_BASIC_FAILURES, durationSeconds: env.RATE_LIMIT_FAILURE_WINDOW_SECONDS },
      adminFailures: { points: env.RATE_LIMIT_ADMIN_FAILURES, durationSeconds: env.RATE_LIMIT_FAILURE_WINDOW_SECONDS },
      device: { points: env.RATE_LIMIT_DEVICE_PER_MINUTE, durationSeconds: 60 },
      admin: { points: env.RATE_LIMIT_ADMIN_PER_MINUTE, durationSeconds: 60 },
    },
    audit: { maxEvents: env.AUDIT_MAX_EVENTS },
    metricsToken: env.METRICS_TOKEN,
    webAuthenticator: { enabled: env.WEB_AUTHENTICATOR_ENABLED ?? env.NODE_ENV !== 'production' },
    email:
      env.SMTP_URL === undefined || env.EMAIL_FROM === undefined
        ? undefined
        : {
            smtpUrl: env.SMTP_URL,
            from: env.EMAIL_FROM,
            fallbackAfterSeconds: env.EMAIL_FALLBACK_AFTER_SECONDS,
            templateDir: env.EMAIL_TEMPLATE_DIR,
          },
    notifications: { maxPending: env.NOTIFY_MAX_PENDING, maxPerDay: env.NOTIFY_MAX_PER_DAY },
    bindingConfirmation: env.BINDING_CONFIRMATION,
    openBanking:
      env.OPENBANKING_PROFILE === undefined
        ? undefined
        : { profile: env.OPENBANKING_PROFILE, consentPagesUrl: env.SECUREAUTH_OPENBANKING_URL },
    accounts: { apiUrl: env.ACCOUNTS_API_URL, apiToken: env.ACCOUNTS_API_TOKEN, timeoutMs: env.ACCOUNTS_API_TIMEOUT_MS },
    fcm,
    shutdown: { timeoutSeconds: env.SHUTDOWN_TIMEOUT_SECONDS },
    jobs: { lockSeconds: env.JOB_LOCK_SECONDS },
  };
}

function redisStoreConfig(env: Env): RedisStoreConfig | undefined {
  if (env.REDIS_CLUSTER_NODES !== undefined) return { cluster: env.REDIS_CLUSTER_NODES, keyPrefix: env.REDIS_KEY_PREFIX };
  return env.REDIS_URL === undefined ? undefined : { url: env.REDIS_URL, keyPrefix: env.REDIS_KEY_PREFIX };
}
