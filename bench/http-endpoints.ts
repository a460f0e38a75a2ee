/**
 * `/user/verify` and `/authentication/start` at a fixed number of connections: the service as built
 * (ROLE=api, so only the HTTP path runs in the measured process) against the bare express + ioredis
 * baseline (bench/baseline-server.ts) doing the same Redis work, in the same run and on the same
 * Redis, alternating which goes first. Then each at half the rate it reached (open loop), for the p99
 * an unsaturated process gives. Then `/authentication/start` again while a worker process drains the
 * queue, and everything with two service instances (and two baselines) sharing the load.
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { eventually } from '../dev/support/eventually.js';
import { runLoad, runLoads, type LoadResult, type LoadSpec } from './support/load.js';
import { runPaced, type PacedResult } from './support/paced-load.js';
import { BASIC_AUTHORIZATION, cpuTimeMs, startBaseline, startService, type ServiceProcess, type ServiceSettings } from './support/processes.js';
import type { SecureAuthStandIn } from './support/secureauth-stand-in.js';
import type { SeededUser } from './support/seed.js';

export type Endpoint = '/user/verify' | '/authentication/start';

export interface HttpRow {
  scenario: string;
  target: 'service' | 'baseline';
  endpoint: Endpoint;
  /** `max`: closed loop; `half`: open loop at half the rate the same target reached closed loop. */
  mode: 'max' | 'half';
  connections: number;
  rate?: number;
  /** cpuPerRequestUs: CPU time of the measured processes (user + system) ÷ requests answered. */
  result: LoadResult & { maxSendLag?: number; cpuPerRequestUs: number };
}

export interface HttpBenchOptions {
  redisUrl: string;
  keyPrefix: string;
  users: SeededUser[];
  secureAuth: SecureAuthStandIn;
  connections: number;
  durationSeconds: number;
  warmupSeconds: number;
  rounds: number;
  instances: number[];
  withWorker: boolean;
  endpoints: Endpoint[];
  /** Extra environment of the API processes (e.g. LOG_LEVEL=warn to see what request logs cost). */
  serviceEnv: Record<string, string>;
  /** Another build's main.js for the API processes (compare builds). */
  serviceMain: string | undefined;
  cpuProfileDir: string | undefined;
  log: (message: string) => void;
}

const median = (values: number[]): number => {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

const cpuOf = (targets: ServiceProcess[]): number => targets.reduce((sum, target) => sum + cpuTimeMs(target.pid), 0);

let sequence = 0;
const runTag = Date.now().toString(36);

function bodyFor(endpoint: Endpoint, users: SeededUser[]): () => unknown {
  let next = 0;
  const user = (): SeededUser => {
    next = (next + 1) % users.length;
    return users[next]!;
  };
  if (endpoint === '/user/verify') return () => ({ user_identifier: user().alias });
  return () => {
    sequence += 1;
    return {
      login_id: `bench-${runTag}-${sequence}`,
      user_identifier: user().alias,
      // SecureAuth's login_state is an opaque value of this order of length.
      state: `${sequence}-b5f0c7e2a1d94e3f8a6b2c1d0e9f8a7b`,
      client_id: 'pos-terminal',
      requested_scopes: ['openid', 'profile'],
      binding_message: 'Pay 50 EUR to Corner Shop',
    };
  };
}

export async function runHttpEndpoints(options: HttpBenchOptions): Promise<HttpRow[]> {
  const { log } = options;
  const rows: HttpRow[] = [];
  const queueRedis = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue('ciba', { connection: queueRedis, prefix: `${options.keyPrefix}{jobs}` });
  const serviceSettings = (name: string, role: ServiceSettings['role']): ServiceSettings => ({
    name,
    role,
    redisUrl: options.redisUrl,
    keyPrefix: options.keyPrefix,
    secureAuth: options.secureAuth,
    env: options.serviceEnv,
    ...(options.serviceMain !== undefined && role === 'api' ? { main: options.serviceMain } : {}),
    ...(options.cpuProfileDir !== undefined && role === 'api' ? { cpuProfileDir: options.cpuProfileDir } : {}),
  });

  /** Closed loop against one or more processes of a kind, the connections split evenly. */
  const measure = async (targets: ServiceProcess[], endpoint: Endpoint, seconds = options.durationSeconds): Promise<LoadResult & { cpuPerRequestUs: number }> => {
    const specs: LoadSpec[] = targets.map((target) => ({
      url: target.url!,
      path: endpoint,
      connections: Math.max(1, Math.floor(options.connections / targets.length)),
      durationSeconds: seconds,
      headers: { authorization: BASIC_AUTHORIZATION },
      body: bodyFor(endpoint, options.users),
    }));
    const cpuBefore = cpuOf(targets);
    const result = specs.length === 1 ? await runLoad(specs[0]!) : await runLoads(specs);
    const cpuPerRequestUs = ((cpuOf(targets) - cpuBefore) * 1000) / result.total;
    await afterRun(endpoint);
    return { ...result, cpuPerRequestUs };
  };

  /** Open loop at a steady rate, round robin over the processes. */
  const measureAtRate = async (targets: ServiceProcess[], endpoint: Endpoint, rate: number): Promise<PacedResult & { cpuPerRequestUs: number }> => {
    const cpuBefore = cpuOf(targets);
    const result = await runPaced({
      urls: targets.map((target) => target.url!),
      path: endpoint,
      rate,
      durationSeconds: options.durationSeconds,
      headers: { authorization: BASIC_AUTHORIZATION },
      body: bodyFor(endpoint, options.users),
    });
    const cpuPerRequestUs = ((cpuOf(targets) - cpuBefore) * 1000) / result.total;
    await afterRun(endpoint);
    return { ...result, cpuPerRequestUs };
  };

  // Waiting start jobs (nobody drains them without a worker) are removed between runs so every run
  // finds the queue alike.
  const afterRun = async (endpoint: Endpoint): Promise<void> => {
    if (endpoint === '/authentication/start') await queue.drain(true);
  };

  const scenarioRuns = async (scenario: string, kinds: Record<'service' | 'baseline', ServiceProcess[]>, endpoints: Endpoint[]): Promise<void> => {
    for (const endpoint of endpoints) {
      const maxima: Record<'service' | 'baseline', number[]> = { service: [], baseline: [] };
      for (let round = 0; round < options.rounds; round += 1) {
        const order: Array<'service' | 'baseline'> = round % 2 === 0 ? ['service', 'baseline'] : ['baseline', 'service'];
        for (const target of order) {
          log(`${scenario}: ${target} ${endpoint} warm-up`);
          await measure(kinds[target], endpoint, options.warmupSeconds);
          log(`${scenario}: ${target} ${endpoint} closed loop, ${options.connections} connections, round ${round + 1}`);
          const result = await measure(kinds[target], endpoint);
          maxima[target].push(result.requestsPerSecond);
          rows.push({ scenario, target, endpoint, mode: 'max', connections: options.connections, result });
          log(`  ${result.requestsPerSecond.toFixed(0)} req/s, p50 ${result.p50.toFixed(2)} ms, p99 ${result.p99.toFixed(2)} ms, non-2xx ${result.non2xx}, CPU ${result.cpuPerRequestUs.toFixed(0)} µs/request`);
        }
      }
      for (const target of ['service', 'baseline'] as const) {
        const rate = Math.floor(median(maxima[target]) / 2);
        log(`${scenario}: ${target} ${endpoint} open loop at ${rate} req/s`);
        const result = await measureAtRate(kinds[target], endpoint, rate);
        rows.push({ scenario, target, endpoint, mode: 'half', connections: options.connections, rate, result });
        log(`  ${result.requestsPerSecond.toFixed(0)} req/s, p50 ${result.p50.toFixed(2)} ms, p99 ${result.p99.toFixed(2)} ms, non-2xx ${result.non2xx}, CPU ${result.cpuPerRequestUs.toFixed(0)} µs/request, max send lag ${result.maxSendLag.toFixed(1)} ms`);
      }
    }
  };

  const started: ServiceProcess[] = [];
  const stopAll = async (): Promise<void> => {
    await Promise.all(started.splice(0).map((process) => process.stop()));
  };
  try {
    for (const instances of options.instances) {
      const services: ServiceProcess[] = [];
      const baselines: ServiceProcess[] = [];
      for (let n = 1; n <= instances; n += 1) {
        const service = await startService(serviceSettings(`api-${n}`, 'api'));
        const baseline = await startBaseline({ redisUrl: options.redisUrl, keyPrefix: options.keyPrefix });
        started.push(service, baseline);
        services.push(service);
        baselines.push(baseline);
      }
      const label = instances === 1 ? 'one instance' : `${instances} instances`;
      await scenarioRuns(label, { service: services, baseline: baselines }, options.endpoints);

      if (options.withWorker && options.endpoints.includes('/authentication/start')) {
        // The worker prepares what the start calls create (System API read, view, next jobs): on two
        // cores it competes with the HTTP process, so the start path is measured again beside it.
        const worker = await startService(serviceSettings(`worker-for-${instances}`, 'worker'));
        started.push(worker);
        await waitForWorkers(queue, 1);
        await scenarioRuns(`${label}, with a worker process`, { service: services, baseline: baselines }, ['/authentication/start']);
        await worker.stop();
      }
      await stopAll();
    }
  } finally {
    await stopAll();
    await queue.close();
    await queueRedis.quit();
  }
  return rows;
}

async function waitForWorkers(queue: Queue, count: number): Promise<void> {
  await eventually(async () => (await queue.getWorkersCount()) >= count, 20_000, 'the worker process connecting to the queue', 100);
}
