/**
 * Redis memory per device and per pending request: `MEMORY USAGE key SAMPLES 0` (exact, nested) of
 * every key under a fresh key prefix, grouped by what the key is, divided by the number of devices or
 * requests; and, as a cross-check, the growth of `used_memory` (which also counts the key table).
 *
 * N users each enrol one phone (with an FCM-sized push token) through the device API; then one
 * `/authentication/start` per user, measured twice: right after the start calls (record + the queued
 * prepare job; no worker runs), and after a worker has prepared them (System API read, view, consent
 * hash, the push through firebase-admin to the FCM stand-in and its delivery record, the delayed
 * expiry job, finished jobs kept by BullMQ for an hour) — what a request holds while its user decides.
 */
import { Redis } from 'ioredis';
import { fileURLToPath } from 'node:url';
import { eventually } from '../dev/support/eventually.js';
import { startFcmStandIn } from '../test/support/fcm-stand-in.js';
import { startRedisServer } from '../test/support/redis-server.js';
import { BASIC_AUTHORIZATION, startService, type ServiceSettings } from './support/processes.js';
import type { SecureAuthStandIn } from './support/secureauth-stand-in.js';
import { seedUsers } from './support/seed.js';

export interface MemoryOptions {
  /** `CONFIG SET` pairs for the section's own redis-server. */
  redisConfig: Array<[string, string]>;
  keyPrefix: string;
  secureAuth: SecureAuthStandIn;
  requests: number;
  log: (message: string) => void;
}

/** Bytes by kind of key, and how many keys of that kind. */
export type MemoryBreakdown = Record<string, { keys: number; bytes: number }>;

export interface MemoryReport {
  count: number;
  afterEnrolment: MemoryBreakdown;
  afterStart: MemoryBreakdown;
  whilePending: MemoryBreakdown;
  /** `INFO memory` used_memory growth over the stage, divided by the count. */
  usedMemoryPerDevice: number;
  usedMemoryPerRequestAfterStart: number;
  usedMemoryPerRequestWhilePending: number;
  /** Sample values, to show what takes the room: a request record as stored, a device hash. */
  sampleRequest: string;
  sampleDevice: Record<string, string>;
}

/** What a key is, from its name (see src/adapters/redis/redis-keys.ts and BullMQ's key layout). */
export function kindOf(key: string, prefix: string): string {
  const rest = key.slice(prefix.length);
  if (rest.startsWith('{jobs}:')) {
    const queueKey = rest.slice('{jobs}:ciba:'.length);
    const job = /^([a-z-]+)\.[A-Za-z0-9_-]+$/.exec(queueKey);
    if (job) return `job: ${job[1]}`;
    if (/^[a-z-]+\.[A-Za-z0-9_-]+:logs$/.test(queueKey)) return 'job logs';
    return `queue: ${queueKey}`;
  }
  const partitioned = /^\{[^}]+\}:([a-z]+)(?::|$)/.exec(rest);
  if (partitioned) return partitioned[1]!;
  return rest.split(':')[0] ?? rest;
}

async function breakdown(redis: Redis, prefix: string): Promise<MemoryBreakdown> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  const result: MemoryBreakdown = {};
  for (let start = 0; start < keys.length; start += 500) {
    const slice = keys.slice(start, start + 500);
    const pipeline = redis.pipeline();
    for (const key of slice) pipeline.call('MEMORY', 'USAGE', key, 'SAMPLES', '0');
    const answers = (await pipeline.exec()) ?? [];
    answers.forEach(([error, bytes], index) => {
      if (error) throw error;
      const kind = kindOf(slice[index]!, prefix);
      const entry = (result[kind] ??= { keys: 0, bytes: 0 });
      entry.keys += 1;
      entry.bytes += Number(bytes ?? 0);
    });
  }
  return result;
}

async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/^used_memory:(\d+)/m.exec(info)?.[1] ?? Number.NaN);
}

// Preparing thousands of requests takes a while; polling slowly keeps the probes out of the way.
const POLL_TIMEOUT_MS = 120_000;
const POLL_INTERVAL_MS = 200;

export async function runRedisMemory(options: MemoryOptions): Promise<MemoryReport> {
  const { log, keyPrefix: prefix } = options;
  // A redis-server of its own, so that used_memory moves with this section only.
  const server = await startRedisServer();
  const redisUrl = server.url;
  const redis = new Redis(redisUrl);
  for (const [name, setting] of options.redisConfig) await redis.config('SET', name, setting);
  // Phones get their prompt by push, as in production: the delivery records are FCM's.
  const fcm = await startFcmStandIn({ record: false });
  const settings = (name: string, role: ServiceSettings['role']): ServiceSettings => ({
    name,
    role,
    redisUrl,
    keyPrefix: prefix,
    secureAuth: options.secureAuth,
    main: fileURLToPath(new URL('./support/service-with-fcm-stand-in.ts', import.meta.url)),
    env: { FIREBASE_SERVICE_ACCOUNT_FILE: fcm.serviceAccountFile, BENCH_FCM_PORT: String(fcm.port) },
  });
  const api = await startService(settings('memory-api', 'api'));
  try {
    const before = await usedMemory(redis);
    log(`memory: enrolling ${options.requests} users with one phone each`);
    const users = await seedUsers(api.url!, options.requests, 'mem', { withPushToken: true });
    const afterEnrolment = await breakdown(redis, prefix);
    const enrolled = await usedMemory(redis);

    log(`memory: ${options.requests} start calls, no worker running`);
    const requestIds: string[] = [];
    for (const [index, user] of users.entries()) {
      const response = await fetch(`${api.url}/authentication/start`, {
        method: 'POST',
        headers: { authorization: BASIC_AUTHORIZATION, 'content-type': 'application/json' },
        body: JSON.stringify({
          login_id: `mem-login-${index}-7f3c2a9e`,
          user_identifier: user.alias,
          state: `${index}-b5f0c7e2a1d94e3f8a6b2c1d0e9f8a7b`,
          client_id: 'pos-terminal',
          requested_scopes: ['openid', 'profile'],
          binding_message: 'Pay 50 EUR to Corner Shop',
        }),
      });
      if (response.status !== 200) throw new Error(`start failed: ${response.status} ${await response.text()}`);
      requestIds.push(((await response.json()) as { request_id: string }).request_id);
    }
    const afterStart = await breakdown(redis, prefix);
    const started = await usedMemory(redis);

    log('memory: a worker prepares the requests');
    const worker = await startService(settings('memory-worker', 'worker'));
    const requestKey = (id: string): string => `${prefix}{${id.slice(0, 8)}}:req:${id}`;
    await eventually(async () => {
      const pipeline = redis.pipeline();
      for (const id of requestIds) pipeline.get(requestKey(id));
      const answers = (await pipeline.exec()) ?? [];
      // A record holds a `d=` line per delivery attempt (src/adapters/redis/request-record.ts).
      return answers.every(([, record]) => typeof record === 'string' && record.includes('\nd='));
    }, POLL_TIMEOUT_MS, 'preparing every request', POLL_INTERVAL_MS);
    await eventually(
      async () => (await redis.llen(`${prefix}{jobs}:ciba:wait`)) === 0 && (await redis.llen(`${prefix}{jobs}:ciba:active`)) === 0,
      POLL_TIMEOUT_MS,
      'an idle queue',
      POLL_INTERVAL_MS,
    );
    await worker.stop();
    const whilePending = await breakdown(redis, prefix);
    const pending = await usedMemory(redis);

    const sampleRequest = (await redis.get(requestKey(requestIds[0]!))) ?? '';
    const sampleDevice = await redis.hgetall(`${prefix}{${users[0]!.device.deviceId.slice(0, 8)}}:device:${users[0]!.device.deviceId}`);
    const count = options.requests;
    return {
      count,
      afterEnrolment,
      afterStart,
      whilePending,
      usedMemoryPerDevice: (enrolled - before) / count,
      usedMemoryPerRequestAfterStart: (started - enrolled) / count,
      usedMemoryPerRequestWhilePending: (pending - enrolled) / count,
      sampleRequest,
      sampleDevice,
    };
  } finally {
    await api.stop();
    await redis.quit();
    await fcm.close();
    await server.stop();
  }
}
