/**
 * The service as a real process (`src/main.ts` under tsx), in a role, for tests of what only a process
 * shows: signals, exit codes, several instances sharing one Redis, a worker killed mid-job. Plus a
 * small HTTP client for any instance (or a load balancer in front of several).
 */
import { readJson, type ApiResponse } from '../../dev/device-client.js';
import { freePort, spawnTypeScript, waitForHttp, type ChildHandle } from '../../dev/support/processes.js';
import type { RedisNode } from '../../src/config/config.js';
import type { SecureAuthStub } from './secureauth-stub.js';
import { ADMIN_TOKEN, AS_PASSWORD, AS_USER } from './service.js';

export type Role = 'api' | 'worker' | 'all';

export interface ServiceProcessOptions {
  name: string;
  role: Role;
  secureAuth: SecureAuthStub;
  /** A Redis URL, cluster nodes, or nothing for the embedded store. */
  redis?: { url: string } | { clusterNodes: RedisNode[] };
  keyPrefix?: string;
  /** What devices reach the service at (default: its own address); instances behind one balancer share it. */
  publicUrl?: string;
  /** Port to listen on (default: a free one). */
  port?: number;
  env?: Record<string, string>;
}

export interface ServiceProcess {
  name: string;
  pid: number;
  /** Its own HTTP address (api and all roles). */
  url: string | undefined;
  output(): string;
  hasExited(): boolean;
  /** The exit code (null when a signal ended it). */
  exited: Promise<number | null>;
  signal(signal: NodeJS.Signals): void;
  /** Resolves with the first output line matching `pattern`, polling (bounded). */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** SIGTERM, then SIGKILL after the grace period. */
  stop(): Promise<void>;
}

function redisEnv(redis: ServiceProcessOptions['redis']): Record<string, string> {
  if (redis === undefined) return { REDIS_URL: '', REDIS_CLUSTER_NODES: '' };
  if ('url' in redis) return { REDIS_URL: redis.url, REDIS_CLUSTER_NODES: '' };
  return { REDIS_URL: '', REDIS_CLUSTER_NODES: redis.clusterNodes.map((node) => `${node.host}:${node.port}`).join(',') };
}

export async function startServiceProcess(options: ServiceProcessOptions): Promise<ServiceProcess> {
  const serves = options.role !== 'worker';
  const port = serves ? (options.port ?? (await freePort())) : 0;
  const url = serves ? `http://127.0.0.1:${port}` : undefined;
  const child: ChildHandle = spawnTypeScript(options.name, 'src/main.ts', {
    env: {
      NODE_ENV: 'test',
      ROLE: options.role,
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_URL: options.publicUrl ?? url ?? 'http://127.0.0.1',
      LOG_LEVEL: 'debug',
      AS_BASIC_CREDENTIALS: `${AS_USER}:${AS_PASSWORD}`,
      ADMIN_API_TOKEN: ADMIN_TOKEN,
      OPENAPI_VALIDATE_RESPONSES: 'true',
      // Tests wait for jobs by polling the admin API every 25 ms, far above what an operator does
      // (test/component/rate-limits.test.ts sets small limits itself).
      RATE_LIMIT_ADMIN_PER_MINUTE: '1000000',
      SECUREAUTH_ISSUER_URL: options.secureAuth.issuerUrl,
      SECUREAUTH_CLIENT_ID: options.secureAuth.clientId,
      SECUREAUTH_CLIENT_SECRET: options.secureAuth.clientSecret,
      REDIS_KEY_PREFIX: options.keyPrefix ?? 'ciba:',
      ...redisEnv(options.redis),
      ...options.env,
    },
  });
  const handle: ServiceProcess = {
    name: options.name,
    pid: child.pid ?? 0,
    url,
    output: () => child.output(),
    hasExited: () => child.hasExited(),
    exited: child.exited,
    signal(signal) {
      if (!child.hasExited() && child.pid !== undefined) process.kill(child.pid, signal);
    },
    async waitForLog(pattern, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const line = child.output().split('\n').find((candidate) => pattern.test(candidate));
        if (line !== undefined) return line;
        if (Date.now() > deadline || child.hasExited()) {
          throw new Error(`${options.name}: no output line matching ${pattern} (exited: ${child.hasExited()})\n--- output ---\n${child.output().slice(-4000)}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    stop: () => child.stop(),
  };
  try {
    if (url !== undefined) await waitForHttp(`${url}/healthz`, child, 60_000);
    if (options.role !== 'api') await handle.waitForLog(/"msg":"job worker running"/, 60_000);
  } catch (error) {
    await child.stop(1_000);
    throw error;
  }
  return handle;
}

/** What SecureAuth and operators call, against any base URL (one instance, or a balancer). */
export interface ServiceClient {
  url: string;
  asCall<T = unknown>(path: '/user/verify' | '/authentication/start', body: unknown): Promise<ApiResponse<T>>;
  admin<T = unknown>(method: string, path: string, body?: unknown): Promise<ApiResponse<T>>;
  /** Creates (or updates) a user and returns a fresh activation code for them. */
  createUser(userId: string, input?: { aliases?: string[] }): Promise<string>;
}

export function serviceClient(url: string): ServiceClient {
  const request = async <T>(method: string, path: string, authorization: string, body?: unknown): Promise<ApiResponse<T>> => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { authorization, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: response.status, headers: response.headers, body: (await readJson(response)) as T };
  };
  const client: ServiceClient = {
    url,
    asCall: (path, body) => request('POST', path, `Basic ${Buffer.from(`${AS_USER}:${AS_PASSWORD}`).toString('base64')}`, body),
    admin: (method, path, body) => request(method, `/admin/v1${path}`, `Bearer ${ADMIN_TOKEN}`, body),
    async createUser(userId, input = {}) {
      const saved = await client.admin('PUT', `/users/${encodeURIComponent(userId)}`, input);
      if (saved.status !== 200) throw new Error(`creating user failed: ${saved.status} ${JSON.stringify(saved.body)}`);
      const code = await client.admin<{ activation_code: string }>('POST', `/users/${encodeURIComponent(userId)}/activation-codes`);
      if (code.status !== 201) throw new Error(`activation code failed: ${code.status}`);
      return code.body.activation_code;
    },
  };
  return client;
}
