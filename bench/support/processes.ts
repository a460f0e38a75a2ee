/**
 * Child processes of a benchmark run: the service as built (`node dist/src/main.js`, one role per
 * process) and the bare baseline server. Every process started here is stopped by `stopAll()` and,
 * should the harness die first, killed when it exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sleep } from '../../dev/support/eventually.js';
import { freePort } from '../../dev/support/processes.js';
import { projectRoot } from '../../src/support/project-files.js';

export const AS_USER = 'bench-as';
export const AS_PASSWORD = 'bench-as-password-0123456789';
export const ADMIN_TOKEN = 'bench-admin-token-0123456789abcdef';
export const BASIC_AUTHORIZATION = `Basic ${Buffer.from(`${AS_USER}:${AS_PASSWORD}`).toString('base64')}`;

export interface ServiceProcess {
  name: string;
  /** `http://127.0.0.1:PORT`; undefined for a worker-only process. */
  url: string | undefined;
  pid: number;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

async function waitForHealth(url: string, child: ChildProcess, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode} before it answered`);
    try {
      const response = await fetch(`${url}/healthz`);
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`${what} did not answer /healthz within 20 s`);
}

function stopper(child: ChildProcess): () => Promise<void> {
  return async () => {
    if (child.exitCode !== null || child.signalCode !== null) {
      live.delete(child);
      return;
    }
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
    live.delete(child);
  };
}

export interface ServiceSettings {
  name: string;
  role: 'api' | 'worker' | 'all';
  redisUrl: string;
  keyPrefix: string;
  /** SecureAuth stand-in origin and tenant (the System API is needed by workers only). */
  secureAuth: { issuerUrl: string; clientId: string; clientSecret: string };
  env?: Record<string, string>;
  /** Write a V8 CPU profile of this process into the folder (node --cpu-prof). */
  cpuProfileDir?: string;
  /** Where the service's JSON log lines go: a file, or nowhere ('ignore'). */
  logTo?: 'ignore' | 'inherit';
  /** Another entry: another build's main.js to compare builds, or a .ts entry run through tsx (default: dist/src/main.js of this checkout). */
  main?: string;
}

/** The environment every service process of the benchmark runs with (production mode). */
export function serviceEnvironment(settings: ServiceSettings, port: number): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'production',
    ROLE: settings.role,
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    LOG_LEVEL: 'info',
    REDIS_URL: settings.redisUrl,
    REDIS_KEY_PREFIX: settings.keyPrefix,
    AS_BASIC_CREDENTIALS: `${AS_USER}:${AS_PASSWORD}`,
    ADMIN_API_TOKEN: ADMIN_TOKEN,
    SECUREAUTH_ISSUER_URL: settings.secureAuth.issuerUrl,
    SECUREAUTH_CLIENT_ID: settings.secureAuth.clientId,
    SECUREAUTH_CLIENT_SECRET: settings.secureAuth.clientSecret,
    // Many starts per user in a few seconds: the prompt-bombing limits would deny them after the
    // first three, and a denied request is a cheaper path than the one measured.
    NOTIFY_MAX_PENDING: '1000000',
    NOTIFY_MAX_PER_DAY: '1000000',
    REQUEST_TTL_SECONDS: '900',
    // Seeding creates every user and activation code through the admin API from one address.
    RATE_LIMIT_ADMIN_PER_MINUTE: '1000000',
    ...settings.env,
  };
}

/** `node dist/src/main.js` in the given role; resolves once it answers /healthz (HTTP roles). */
export async function startService(settings: ServiceSettings): Promise<ServiceProcess> {
  const root = projectRoot();
  const main = settings.main ?? join(root, 'dist', 'src', 'main.js');
  if (!existsSync(main)) throw new Error('dist/src/main.js is missing: run `npm run build` first (npm run bench does)');
  const port = settings.role === 'worker' ? 0 : await freePort();
  // A TypeScript entry (bench/support/service-with-fcm-stand-in.ts) runs through tsx.
  const nodeArgs: string[] = main.endsWith('.ts') ? ['--import', 'tsx'] : [];
  if (settings.cpuProfileDir !== undefined) {
    mkdirSync(settings.cpuProfileDir, { recursive: true });
    nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${settings.cpuProfileDir}`, `--cpu-prof-name=${settings.name}-${Date.now()}.cpuprofile`);
  }
  const child = spawn(process.execPath, [...nodeArgs, main], {
    cwd: root,
    env: serviceEnvironment(settings, port),
    stdio: ['ignore', settings.logTo ?? 'ignore', 'inherit'],
  });
  live.add(child);
  const url = settings.role === 'worker' ? undefined : `http://127.0.0.1:${port}`;
  if (url !== undefined) await waitForHealth(url, child, settings.name);
  return { name: settings.name, url, pid: child.pid ?? 0, stop: stopper(child) };
}

/** The bare express + ioredis server (bench/baseline-server.ts) doing the same Redis work. */
export async function startBaseline(settings: { redisUrl: string; keyPrefix: string; env?: Record<string, string> }): Promise<ServiceProcess> {
  const root = projectRoot();
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'bench', 'baseline-server.ts')], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'production',
      PORT: String(port),
      REDIS_URL: settings.redisUrl,
      REDIS_KEY_PREFIX: settings.keyPrefix,
      NOTIFY_MAX_PENDING: '1000000',
      NOTIFY_MAX_PER_DAY: '1000000',
      REQUEST_TTL_SECONDS: '900',
    // Seeding creates every user and activation code through the admin API from one address.
    RATE_LIMIT_ADMIN_PER_MINUTE: '1000000',
      ...settings.env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  live.add(child);
  const url = `http://127.0.0.1:${port}`;
  await waitForHealth(url, child, 'baseline');
  return { name: 'baseline', url, pid: child.pid ?? 0, stop: stopper(child) };
}

/** CPU time (user + system, ms) a process has used so far, from /proc (Linux). */
export function cpuTimeMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}

/** USER_HZ: 100 on every Linux this runs on (`getconf CLK_TCK`). */
const CLOCK_TICKS_PER_SECOND = 100;
