import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { buildServices, type Services, type ServiceOverrides } from '../../src/composition/services.js';
import { loadConfig, type Config } from '../../src/config/config.js';
import { createApp } from '../../src/http/app.js';
import { answerClientErrors } from '../../src/http/client-errors.js';
import { createLogger } from '../../src/support/logger.js';
import { startWorkers } from '../../src/workers/start-workers.js';
import { readJson, type ApiResponse } from '../../dev/device-client.js';
import type { FcmStandIn } from './fcm-stand-in.js';
import type { SecureAuthStub } from './secureauth-stub.js';

export const AS_USER = 'secureauth';
export const AS_PASSWORD = 'as-password-0123456789';
export const ADMIN_TOKEN = 'admin-token-0123456789abcdef';

export type StoreKind = 'memory' | 'redis' | 'redis-cluster';

export interface StartServiceOptions {
  store: StoreKind;
  redisUrl?: string;
  /** For the 'redis-cluster' store: its nodes (REDIS_CLUSTER_NODES). */
  redisClusterNodes?: Array<{ host: string; port: number }>;
  secureAuth?: SecureAuthStub;
  /** Push through the real firebase-admin SDK to this local FCM stand-in. */
  fcm?: FcmStandIn;
  env?: Record<string, string>;
  overrides?: ServiceOverrides;
  /** Run the job workers in this process (default true). */
  workers?: boolean;
}

/** The service under test, in this process but over real HTTP on loopback, with captured JSON logs. */
export interface TestService {
  url: string;
  config: Config;
  services: Services;
  logs: string[];
  stop(): Promise<void>;
  asCall<T = unknown>(path: '/user/verify' | '/authentication/start', body: unknown, credentials?: string): Promise<ApiResponse<T>>;
  admin<T = unknown>(method: string, path: string, body?: unknown): Promise<ApiResponse<T>>;
  /** Creates (or updates) a user and returns a fresh activation code for them. */
  createUser(userId: string, input?: { aliases?: string[]; display_name?: string; disabled?: boolean }): Promise<string>;
}

let prefixCounter = 0;

export async function startService(options: StartServiceOptions): Promise<TestService> {
  const server: Server = createServer();
  answerClientErrors(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  prefixCounter += 1;
  const config = loadConfig({
    NODE_ENV: 'test',
    PUBLIC_URL: url,
    LOG_LEVEL: 'debug',
    AS_BASIC_CREDENTIALS: `${AS_USER}:${AS_PASSWORD}`,
    ADMIN_API_TOKEN: ADMIN_TOKEN,
    OPENAPI_VALIDATE_RESPONSES: 'true',
    // Tests wait for jobs by polling the admin API every 25 ms, far above what an operator does
    // (test/component/rate-limits.test.ts sets small limits itself).
    RATE_LIMIT_ADMIN_PER_MINUTE: '1000000',
    ...(options.store === 'redis' ? { REDIS_URL: options.redisUrl ?? '', REDIS_KEY_PREFIX: `t${process.pid}-${prefixCounter}:` } : {}),
    ...(options.store === 'redis-cluster'
      ? {
          REDIS_CLUSTER_NODES: (options.redisClusterNodes ?? []).map((node) => `${node.host}:${node.port}`).join(','),
          REDIS_KEY_PREFIX: `t${process.pid}-${prefixCounter}:`,
        }
      : {}),
    ...(options.secureAuth
      ? {
          SECUREAUTH_ISSUER_URL: options.secureAuth.issuerUrl,
          SECUREAUTH_CLIENT_ID: options.secureAuth.clientId,
          SECUREAUTH_CLIENT_SECRET: options.secureAuth.clientSecret,
        }
      : {}),
    ...(options.fcm ? { FIREBASE_SERVICE_ACCOUNT_FILE: options.fcm.serviceAccountFile } : {}),
    ...options.env,
  });

  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      const lines = chunk.toString('utf8').split('\n').filter((line) => line.length > 0);
      logs.push(...lines);
      // Set SHOW_SERVICE_LOGS=1 to watch the service while debugging a test.
      if (process.env.SHOW_SERVICE_LOGS) for (const line of lines) process.stderr.write(`${line}\n`);
      done();
    },
  });
  const overrides = options.fcm ? { fcmAgent: options.fcm.agent, ...options.overrides } : options.overrides;
  const services = await buildServices(config, createLogger(config.logLevel, sink), overrides);
  if (options.workers !== false) await startWorkers(services);
  server.on('request', createApp(services));

  const request = async <T>(method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<ApiResponse<T>> => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: response.status, headers: response.headers, body: (await readJson(response)) as T };
  };

  const service: TestService = {
    url,
    config,
    services,
    logs,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await services.close();
    },
    asCall: (path, body, credentials = `${AS_USER}:${AS_PASSWORD}`) =>
      request('POST', path, { authorization: `Basic ${Buffer.from(credentials).toString('base64')}` }, body),
    admin: (method, path, body) => request(method, `/admin/v1${path}`, { authorization: `Bearer ${ADMIN_TOKEN}` }, body),
    async createUser(userId, input = {}) {
      const saved = await service.admin('PUT', `/users/${encodeURIComponent(userId)}`, input);
      if (saved.status !== 200) throw new Error(`creating user failed: ${saved.status} ${JSON.stringify(saved.body)}`);
      const code = await service.admin<{ activation_code: string }>('POST', `/users/${encodeURIComponent(userId)}/activation-codes`);
      if (code.status !== 201) throw new Error(`activation code failed: ${code.status}`);
      return code.body.activation_code;
    },
  };
  return service;
}

/** Re-exported so that tests keep importing their waiting helpers from here. */
export { eventually, sleep } from '../../dev/support/eventually.js';
