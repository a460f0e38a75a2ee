/**
 * `npm run bench`: the service's benchmarks (not tests: nothing here fails when a figure is worse).
 *
 *   npm run bench                                   # everything, defaults below
 *   npm run bench -- --sections http --duration 5   # a part, shorter
 *   npm run bench -- --profile                      # also write CPU profiles of the API processes
 *
 * Starts a private redis-server on a free port (never the Redis on 6379), a SecureAuth stand-in on
 * loopback, and the service as built (`dist/src/main.js`) in child processes. Prints the machine, the
 * options and Markdown tables on stdout (progress on stderr) and writes all figures as JSON to
 * bench/results/latest.json.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { projectRoot } from '../src/support/project-files.js';
import { startRedisServer } from '../test/support/redis-server.js';
import { runFlowLatency, type FlowRow } from './flow-latency.js';
import { runHttpEndpoints, type Endpoint, type HttpRow } from './http-endpoints.js';
import { runRedisMemory, type MemoryReport } from './redis-memory.js';
import { startService } from './support/processes.js';
import { startSecureAuthStandIn } from './support/secureauth-stand-in.js';
import { seedUsers } from './support/seed.js';
import { formatReport, type BenchReport, type Machine } from './report.js';

interface Options {
  sections: Set<'http' | 'memory' | 'flow'>;
  connections: number;
  durationSeconds: number;
  warmupSeconds: number;
  rounds: number;
  users: number;
  instances: number[];
  withWorker: boolean;
  endpoints: Endpoint[];
  serviceEnv: Record<string, string>;
  serviceMain: string | undefined;
  /** `CONFIG SET name value` on the private Redis before anything runs (e.g. hash-max-listpack-value=1024). */
  redisConfig: Array<[string, string]>;
  memoryRequests: number;
  flowRequests: number;
  flowRate: number;
  profile: boolean;
}

function parseOptions(argv: string[]): Options {
  const value = (name: string): string | undefined => {
    const index = argv.indexOf(`--${name}`);
    return index >= 0 ? argv[index + 1] : undefined;
  };
  const sections = (value('sections') ?? 'http,memory,flow').split(',').map((section) => section.trim());
  for (const section of sections) {
    if (!['http', 'memory', 'flow'].includes(section)) throw new Error(`unknown section ${section} (http, memory, flow)`);
  }
  return {
    sections: new Set(sections as Array<'http' | 'memory' | 'flow'>),
    connections: Number(value('connections') ?? 32),
    durationSeconds: Number(value('duration') ?? 10),
    warmupSeconds: Number(value('warmup') ?? 3),
    rounds: Number(value('rounds') ?? 2),
    users: Number(value('users') ?? 500),
    instances: (value('instances') ?? '1,2').split(',').map(Number),
    withWorker: !argv.includes('--no-worker'),
    endpoints: (value('endpoints') ?? 'verify,start').split(',').map((name) => {
      if (name === 'verify') return '/user/verify';
      if (name === 'start') return '/authentication/start';
      throw new Error(`unknown endpoint ${name} (verify, start)`);
    }),
    serviceEnv: Object.fromEntries(
      argv.flatMap((arg, index) => (arg === '--service-env' ? [argv[index + 1] ?? ''] : [])).map((pair) => {
        const equals = pair.indexOf('=');
        if (equals <= 0) throw new Error(`--service-env takes NAME=VALUE, got ${pair}`);
        return [pair.slice(0, equals), pair.slice(equals + 1)];
      }),
    ),
    serviceMain: value('service-main'),
    redisConfig: argv
      .flatMap((arg, index) => (arg === '--redis-config' ? [argv[index + 1] ?? ''] : []))
      .map((pair) => {
        const equals = pair.indexOf('=');
        if (equals <= 0) throw new Error(`--redis-config takes NAME=VALUE, got ${pair}`);
        return [pair.slice(0, equals), pair.slice(equals + 1)] as [string, string];
      }),
    memoryRequests: Number(value('memory-requests') ?? 500),
    flowRequests: Number(value('flow-requests') ?? 400),
    flowRate: Number(value('flow-rate') ?? 20),
    profile: argv.includes('--profile'),
  };
}

function machine(redisVersion: string): Machine {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown';
  const git = (args: string[]): string => {
    try {
      return execFileSync('git', args, { cwd: projectRoot(), encoding: 'utf8' }).trim();
    } catch {
      return 'unknown';
    }
  };
  return {
    cpus: availableParallelism(),
    cpuModel: model,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    redis: redisVersion,
    commit: `${git(['rev-parse', '--short', 'HEAD'])}${git(['status', '--porcelain']) === '' ? '' : ' (with uncommitted changes)'}`,
    date: new Date().toISOString(),
  };
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const log = (message: string): void => {
    process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)} load ${(loadavg()[0] ?? 0).toFixed(2)}] ${message}\n`);
  };
  const redisVersion = execFileSync('redis-server', ['--version'], { encoding: 'utf8' }).match(/v=(\S+)/)?.[1] ?? 'unknown';
  const report: BenchReport = { machine: machine(redisVersion), options: { ...options, sections: [...options.sections] }, loadBefore: loadavg()[0] ?? 0 };

  const redis = await startRedisServer();
  const secureAuth = await startSecureAuthStandIn();
  const resultsDir = join(projectRoot(), 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  log(`private redis-server at ${redis.url}`);
  if (options.redisConfig.length > 0) {
    const admin = new Redis(redis.url);
    for (const [name, setting] of options.redisConfig) await admin.config('SET', name, setting);
    await admin.quit();
  }
  try {
    if (options.sections.has('http')) {
      const keyPrefix = 'bench-http:';
      const seeder = await startService({ name: 'seeder', role: 'api', redisUrl: redis.url, keyPrefix, secureAuth });
      log(`seeding ${options.users} users with one enrolled device each`);
      const users = await seedUsers(seeder.url!, options.users, 'http');
      await seeder.stop();
      const rows: HttpRow[] = await runHttpEndpoints({
        redisUrl: redis.url,
        keyPrefix,
        users,
        secureAuth,
        connections: options.connections,
        durationSeconds: options.durationSeconds,
        warmupSeconds: options.warmupSeconds,
        rounds: options.rounds,
        instances: options.instances,
        withWorker: options.withWorker,
        endpoints: options.endpoints,
        serviceEnv: options.serviceEnv,
        serviceMain: options.serviceMain,
        cpuProfileDir: options.profile ? join(resultsDir, 'profiles') : undefined,
        log,
      });
      report.http = rows;
    }
    if (options.sections.has('memory') || options.sections.has('flow')) {
      const keyPrefix = 'bench-flow:';
      const memory: MemoryReport | undefined = options.sections.has('memory')
        ? await runRedisMemory({ redisConfig: options.redisConfig, keyPrefix: 'bench-mem:', secureAuth, requests: options.memoryRequests, log })
        : undefined;
      if (memory !== undefined) report.memory = memory;
      if (options.sections.has('flow')) {
        const flow: FlowRow[] = await runFlowLatency({
          redisUrl: redis.url,
          keyPrefix,
          secureAuth,
          requests: options.flowRequests,
          rate: options.flowRate,
          instances: options.instances,
          log,
        });
        report.flow = flow;
      }
    }
  } finally {
    await secureAuth.close();
    await redis.stop();
  }
  report.loadAfter = loadavg()[0] ?? 0;
  writeFileSync(join(resultsDir, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(formatReport(report));
  log(`figures written to bench/results/latest.json`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
