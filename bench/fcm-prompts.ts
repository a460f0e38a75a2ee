/**
 * Benchmark (not a test): push prompts per second through the whole path — `/authentication/start`
 * over HTTP → prepare-request job → deliver-prompt job → the real firebase-admin SDK → a local FCM
 * stand-in — and the time from sending the start call to the FCM request arriving at the stand-in.
 *
 *   npm run bench:fcm                       # both stores, 10,000 requests over 1,000 users
 *   npm run bench:fcm -- --store redis --requests 2000 --users 200
 *
 * The service runs in this thread as in production (info logs, to a sink that drops them; no response
 * validation), with the embedded store or a private redis-server. The FCM stand-in and the load
 * generator playing SecureAuth run in a worker thread (bench/fcm-harness.ts). SecureAuth's consent
 * details come from an in-process stand-in that answers at once, so its cost is not measured.
 *
 * Two runs per store: a closed loop (a fixed number of start calls in flight) for the throughput, then
 * an open loop at a fixed rate below it for the latency an unsaturated service gives.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { DeviceClient } from '../dev/device-client.js';
import { buildServices, type Services } from '../src/composition/services.js';
import { loadConfig } from '../src/config/config.js';
import type { ConsentDetails } from '../src/domain/consent-view.js';
import { createApp } from '../src/http/app.js';
import type { AuthorizationServerClient } from '../src/ports/authorization-server.js';
import { createLogger } from '../src/support/logger.js';
import { projectRoot } from '../src/support/project-files.js';
import { startWorkers } from '../src/workers/start-workers.js';
import { LoopbackAgent } from '../test/support/fcm-stand-in.js';
import { startRedisServer, type RedisServerHandle } from '../test/support/redis-server.js';
import type { HarnessCommand, HarnessEvent, LoadPlan, LoadResult } from './fcm-harness.js';

const AS_USER = 'bench';
const AS_PASSWORD = 'bench-password-0123456789';
const ADMIN_TOKEN = 'bench-admin-token-0123456789';

interface Options {
  stores: Array<'memory' | 'redis'>;
  requests: number;
  users: number;
  concurrency: number;
  /** Open-loop run: this share of the measured throughput, and this many requests. */
  latencyShare: number;
  latencyRequests: number;
}

function parseOptions(argv: string[]): Options {
  const value = (name: string): string | undefined => {
    const index = argv.indexOf(`--${name}`);
    return index >= 0 ? argv[index + 1] : undefined;
  };
  const store = value('store') ?? 'both';
  return {
    stores: store === 'both' ? ['memory', 'redis'] : [store as 'memory' | 'redis'],
    requests: Number(value('requests') ?? 10_000),
    users: Number(value('users') ?? 1_000),
    concurrency: Number(value('concurrency') ?? 64),
    latencyShare: Number(value('latency-share') ?? 0.5),
    latencyRequests: Number(value('latency-requests') ?? 2_000),
  };
}

/** Consent details at once: SecureAuth's System API is not what is measured. */
const instantAuthorizationServer: AuthorizationServerClient = {
  fetchConsentDetails: async (): Promise<ConsentDetails> => ({
    client: { id: 'bench-pos', name: 'Bench Corner Shop' },
    scopes: [
      { name: 'openid', display_name: 'Sign you in' },
      { name: 'payments', display_name: 'Make payments' },
    ],
  }),
  accept: async () => {},
  reject: async () => {},
  // The benchmark starts regular requests only.
  fetchOpenBankingConsent: async () => {
    throw new Error('not used by the benchmark');
  },
  acceptOpenBankingConsent: async () => {},
  rejectOpenBankingConsent: async () => {},
};

const discard = new Writable({
  write(_chunk, _encoding, done) {
    done();
  },
});

class Harness {
  private readonly worker = new Worker(new URL('./fcm-harness.js', import.meta.url));
  private waiting: ((event: HarnessEvent) => void) | undefined;

  constructor() {
    this.worker.on('message', (event: HarnessEvent) => this.waiting?.(event));
    this.worker.on('error', (error) => {
      process.stderr.write(`harness failed: ${error.stack ?? error.message}\n`);
      process.exit(1);
    });
  }

  next<K extends HarnessEvent['kind']>(kind: K): Promise<Extract<HarnessEvent, { kind: K }>> {
    return new Promise((resolve) => {
      this.waiting = (event) => {
        if (event.kind === kind) resolve(event as Extract<HarnessEvent, { kind: K }>);
      };
    });
  }

  send(command: HarnessCommand): void {
    this.worker.postMessage(command);
  }

  async stop(): Promise<string[]> {
    const stopped = this.next('stopped');
    this.send({ kind: 'stop' });
    const { problems } = await stopped;
    await this.worker.terminate();
    return problems;
  }
}

interface RunningService {
  url: string;
  services: Services;
  stop(): Promise<void>;
}

async function startBenchService(store: 'memory' | 'redis', fcm: { port: number; serviceAccountFile: string }, redisUrl?: string): Promise<RunningService> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const config = loadConfig({
    NODE_ENV: 'test',
    PUBLIC_URL: url,
    LOG_LEVEL: 'info',
    AS_BASIC_CREDENTIALS: `${AS_USER}:${AS_PASSWORD}`,
    ADMIN_API_TOKEN: ADMIN_TOKEN,
    // Long enough that no request expires while a saturated run works through its backlog.
    REQUEST_TTL_SECONDS: '900',
    FIREBASE_SERVICE_ACCOUNT_FILE: fcm.serviceAccountFile,
    ...(store === 'redis' ? { REDIS_URL: redisUrl ?? '', REDIS_KEY_PREFIX: 'bench:' } : {}),
  });
  const agent = new LoopbackAgent(fcm.port, { maxSockets: config.fcm?.maxConnections ?? 32 });
  const services = await buildServices(config, createLogger(config.logLevel, discard), {
    authorizationServer: instantAuthorizationServer,
    fcmAgent: agent,
  });
  await startWorkers(services);
  server.on('request', createApp(services));
  return {
    url,
    services,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await services.close();
      agent.destroy();
    },
  };
}

/** Users `bench-user-N` with 1, 2 or 3 phones each (N mod 3), every phone with its own push token. */
async function enrolUsers(service: RunningService, users: number): Promise<number[]> {
  const admin = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const response = await fetch(`${service.url}/admin/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
    return response.json();
  };
  const deviceCounts = Array.from({ length: users }, (_, user) => 1 + (user % 3));
  let nextUser = 0;
  const lane = async (): Promise<void> => {
    while (nextUser < users) {
      const user = nextUser;
      nextUser += 1;
      await admin('PUT', `/users/bench-user-${user}`, {});
      for (let device = 0; device < deviceCounts[user]!; device += 1) {
        const { activation_code: code } = (await admin('POST', `/users/bench-user-${user}/activation-codes`)) as { activation_code: string };
        await DeviceClient.enroll(service.url, code, {
          platform: device % 2 === 0 ? 'android' : 'ios',
          pushToken: `bench-push-token-${user}-${device}-${'x'.repeat(120)}`,
        });
      }
    }
  };
  await Promise.all(Array.from({ length: 16 }, lane));
  return deviceCounts;
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const ms = (value: number): string => (value < 10 ? value.toFixed(2) : value < 100 ? value.toFixed(1) : value.toFixed(0));

/** Other work on the machine skews the figures: the 1-minute load average is reported with each run. */
const load1 = (): string => loadavg()[0]!.toFixed(1);

function report(store: string, result: LoadResult, mode: string, loadBefore: string): Record<string, string | number> {
  const promptsPerSecond = (result.promptsReceived / result.wallMs) * 1000;
  const requestsPerSecond = (result.requests / result.wallMs) * 1000;
  return {
    store,
    mode,
    requests: result.requests,
    prompts: `${result.promptsReceived}/${result.promptsExpected}`,
    failedStarts: result.startFailures,
    wallSeconds: (result.wallMs / 1000).toFixed(1),
    promptsPerSecond: promptsPerSecond.toFixed(0),
    requestsPerSecond: requestsPerSecond.toFixed(0),
    startAnswerP50: ms(percentile(result.startAnswerMs, 50)),
    startAnswerP99: ms(percentile(result.startAnswerMs, 99)),
    firstPromptP50: ms(percentile(result.firstPromptMs, 50)),
    firstPromptP99: ms(percentile(result.firstPromptMs, 99)),
    allPromptsP50: ms(percentile(result.lastPromptMs, 50)),
    allPromptsP99: ms(percentile(result.lastPromptMs, 99)),
    load1: `${loadBefore}→${load1()}`,
  };
}

function machine(): Record<string, string> {
  const version = (command: string, args: string[]): string => {
    try {
      return execFileSync(command, args, { encoding: 'utf8' }).trim();
    } catch {
      return 'unknown';
    }
  };
  return {
    nproc: version('nproc', []),
    cpu: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    redis: version('redis-server', ['--version']).replace(/^Redis server v=(\S+).*$/, '$1'),
    firebaseAdmin: (JSON.parse(readFileSync(join(projectRoot(), 'node_modules', 'firebase-admin', 'package.json'), 'utf8')) as { version: string }).version,
  };
}

async function runStore(store: 'memory' | 'redis', options: Options, harness: Harness, fcm: { port: number; serviceAccountFile: string }) {
  let redis: RedisServerHandle | undefined;
  if (store === 'redis') redis = await startRedisServer();
  const service = await startBenchService(store, fcm, redis?.url);
  const rows: Array<Record<string, string | number>> = [];
  try {
    const setupStart = Date.now();
    const deviceCounts = await enrolUsers(service, options.users);
    process.stderr.write(`[${store}] ${options.users} users, ${deviceCounts.reduce((a, b) => a + b, 0)} devices enrolled in ${((Date.now() - setupStart) / 1000).toFixed(1)} s\n`);
    const plan = (count: number, offset: number): LoadPlan['requests'] =>
      Array.from({ length: count }, (_, index) => {
        const user = (index + offset) % options.users;
        return { user: `bench-user-${user}`, devices: deviceCounts[user]! };
      });
    const authorization = `Basic ${Buffer.from(`${AS_USER}:${AS_PASSWORD}`).toString('base64')}`;

    // Warm-up: JIT, OAuth token, kept-alive connections, Lua scripts.
    harness.send({ kind: 'load', plan: { url: service.url, authorization, requests: plan(200, 0), concurrency: 16, label: 'warm-up', timeoutMs: 60_000 } });
    await harness.next('result');

    const throughputLoad = load1();
    const throughputDone = harness.next('result');
    harness.send({
      kind: 'load',
      plan: { url: service.url, authorization, requests: plan(options.requests, 0), concurrency: options.concurrency, label: 'throughput', timeoutMs: 900_000 },
    });
    const throughput = (await throughputDone).result;
    const throughputRow = report(store, throughput, `closed loop, ${options.concurrency} in flight`, throughputLoad);
    rows.push(throughputRow);
    process.stderr.write(`${JSON.stringify(throughputRow)}\n`);

    const rate = Math.max(1, Math.floor(Number(throughputRow.requestsPerSecond) * options.latencyShare));
    const latencyLoad = load1();
    const latencyDone = harness.next('result');
    harness.send({
      kind: 'load',
      plan: { url: service.url, authorization, requests: plan(options.latencyRequests, 7), concurrency: 0, ratePerSecond: rate, label: 'latency', timeoutMs: 300_000 },
    });
    const latencyRow = report(store, (await latencyDone).result, `open loop, ${rate} starts/s`, latencyLoad);
    rows.push(latencyRow);
    process.stderr.write(`${JSON.stringify(latencyRow)}\n`);
  } finally {
    await service.stop();
    await redis?.stop();
  }
  return rows;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const harness = new Harness();
  const ready = await harness.next('ready');
  const rows: Array<Record<string, string | number>> = [];
  for (const store of options.stores) rows.push(...(await runStore(store, options, harness, ready)));
  const problems = await harness.stop();

  const columns = Object.keys(rows[0] ?? {});
  const table = [
    `| ${columns.join(' | ')} |`,
    `| ${columns.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${columns.map((column) => String(row[column])).join(' | ')} |`),
  ].join('\n');
  process.stdout.write(`${JSON.stringify({ machine: machine(), options, problems }, null, 2)}\n\n${table}\n`);
  if (problems.length > 0) process.exitCode = 1;
}

await main();
