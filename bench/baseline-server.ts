/**
 * The baseline of the HTTP benchmark: bare express + ioredis doing the same Redis work as the
 * service's `/user/verify` and `/authentication/start`, and nothing else — no authentication, no
 * OpenAPI validation, no logging, no security headers. It uses the service's own Redis adapters for
 * the Redis part (same connection options, same keys, the same CREATE Lua script, the same BullMQ
 * add), so the ratio of the two shows what the service's HTTP stack and use cases cost on top.
 *
 * Run by bench/http-endpoints.ts as `node --import tsx bench/baseline-server.ts` with PORT, REDIS_URL,
 * REDIS_KEY_PREFIX, REQUEST_TTL_SECONDS, NOTIFY_MAX_PENDING, NOTIFY_MAX_PER_DAY.
 */
import express from 'express';
import { pino } from 'pino';
import { BullMqJobQueue } from '../src/adapters/redis/bullmq-jobs.js';
import { createRedisConnection } from '../src/adapters/redis/redis-client.js';
import { RedisKeys } from '../src/adapters/redis/redis-keys.js';
import { RedisRequests } from '../src/adapters/redis/redis-requests.js';
import { PARTITION_LENGTH, normalizeIdentifier, partitionForUnknownIdentifier, requestIdFor } from '../src/domain/identifiers.js';
import { normalizeRequestedScopes } from '../src/domain/scopes.js';
import { jobFor } from '../src/ports/jobs.js';
import { createPolicyFor } from '../src/use-cases/notification-policy.js';

const env = (name: string, fallback?: string): string => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`${name} is required`);
  return value;
};

const prefix = env('REDIS_KEY_PREFIX');
const keys = new RedisKeys(prefix);
const redis = createRedisConnection({ url: env('REDIS_URL') }, 'fail-fast');
const queueConnection = createRedisConnection({ url: env('REDIS_URL') }, 'fail-fast');
const requests = new RedisRequests(redis, keys);
const jobs = new BullMqJobQueue(queueConnection, keys.queuePrefix, pino({ level: 'silent' }));
const ttlMs = Number(env('REQUEST_TTL_SECONDS', '120')) * 1000;
const retentionSeconds = Number(env('REQUEST_RETENTION_SECONDS', '86400'));
const policy = createPolicyFor({
  email: undefined,
  notifications: { maxPending: Number(env('NOTIFY_MAX_PENDING', '3')), maxPerDay: Number(env('NOTIFY_MAX_PER_DAY', '50')) },
});

interface VerifyBody {
  user_identifier: string;
}

interface StartBody {
  login_id: string;
  user_identifier: string;
  state: string;
  client_id?: string;
  binding_message?: string;
  requested_scopes?: string[];
}

async function resolve(identifier: string): Promise<{ partition: string; userId: string } | undefined> {
  const value = await redis.get(keys.identifier(normalizeIdentifier(identifier)));
  return value === null ? undefined : { partition: value.slice(0, PARTITION_LENGTH), userId: value.slice(PARTITION_LENGTH) };
}

const app = express();
app.use(express.json());

app.get('/healthz', (_req, res) => {
  res.json({ status: 'ok' });
});

app.post('/user/verify', async (req, res) => {
  const body = req.body as VerifyBody;
  const user = await resolve(body.user_identifier);
  if (user === undefined) {
    res.json({ valid: false });
    return;
  }
  // The same three reads as the service's reachability check, in one pipeline.
  const results = await redis
    .pipeline()
    .hget(keys.user(user.partition, user.userId), 'disabled')
    .scard(keys.activeDevices(user.partition, user.userId))
    .hget(keys.user(user.partition, user.userId), 'json')
    .exec();
  const [disabled, active] = (results ?? []).map(([error, value]) => {
    if (error) throw error;
    return value;
  });
  res.json({ valid: disabled === '0' && Number(active) > 0 });
});

app.post('/authentication/start', async (req, res) => {
  const body = req.body as StartBody;
  const identifier = normalizeIdentifier(body.user_identifier);
  const user = await resolve(identifier);
  const partition = user?.partition ?? partitionForUnknownIdentifier(identifier);
  const requestId = requestIdFor(partition, body.login_id);
  const now = Date.now();
  const draft = {
    requestId,
    partition,
    loginId: body.login_id,
    loginState: body.state,
    userId: user?.userId ?? null,
    userIdentifier: body.user_identifier,
    requestedScopes: normalizeRequestedScopes(body),
    createdAt: now,
    expiresAt: now + ttlMs,
    ...(body.client_id ? { clientId: body.client_id } : {}),
    ...(body.binding_message ? { bindingMessage: body.binding_message } : {}),
  };
  await Promise.all([requests.create(draft, retentionSeconds, policy), jobs.add([jobFor('prepare-request', { requestId })])]);
  res.json({ request_id: requestId });
});

const server = app.listen(Number(env('PORT')), '127.0.0.1');
process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  void Promise.allSettled([jobs.close(), redis.quit(), queueConnection.quit()]).then(() => process.exit(0));
});
