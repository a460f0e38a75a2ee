/**
 * Graceful shutdown, on real processes (`src/main.ts`): on SIGTERM a process refuses new connections
 * and takes no new job, finishes the HTTP request and the job it has in flight, closes Redis and exits
 * 0; past SHUTDOWN_TIMEOUT_SECONDS it exits 1, and what it left running is taken over by another
 * worker. The in-flight job is a completion whose accept call the SecureAuth stand-in holds open; the
 * in-flight request is a /user/verify whose body has not been sent yet (the server confirmed it has
 * the request by answering `100 Continue`).
 */
import net from 'node:net';
import { createRedisConnection, type RedisConnection } from '../../src/adapters/redis/redis-client.js';
import { RedisKeys } from '../../src/adapters/redis/redis-keys.js';
import { RedisRequests } from '../../src/adapters/redis/redis-requests.js';
import { startRequest } from '../support/api-helpers.js';
import { adminRequestWhen, deliveredDecisions, enrolledDevice, isFinished } from '../support/flow-helpers.js';
import { startRedisServer, type RedisServerHandle } from '../support/redis-server.js';
import { startSecureAuthStub, type SecureAuthStub } from '../support/secureauth-stub.js';
import { eventually, AS_PASSWORD, AS_USER } from '../support/service.js';
import { serviceClient, startServiceProcess, type ServiceProcess } from '../support/service-process.js';

let redis: RedisServerHandle;
let redisConnection: RedisConnection;
let secureAuth: SecureAuthStub;
const processes: ServiceProcess[] = [];

beforeAll(async () => {
  redis = await startRedisServer();
  redisConnection = createRedisConnection({ url: redis.url }, 'fail-fast');
});
beforeEach(async () => {
  secureAuth = await startSecureAuthStub();
});
afterEach(async () => {
  await Promise.all(processes.splice(0).map((child) => child.stop()));
  await secureAuth.close();
  expect(secureAuth.stubErrors).toEqual([]);
});
afterAll(async () => {
  await redisConnection?.quit();
  await redis?.stop();
});

async function start(options: Parameters<typeof startServiceProcess>[0]): Promise<ServiceProcess> {
  const child = await startServiceProcess(options);
  processes.push(child);
  return child;
}

/** Resolves with the exit code, failing the test if the process does not exit within `timeoutMs`. */
async function exitCodeOf(child: ServiceProcess, timeoutMs = 20_000): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${child.name} did not exit within ${timeoutMs} ms\n${child.output().slice(-3000)}`)), timeoutMs);
  });
  try {
    return await Promise.race([child.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Whether a new TCP connection to the URL's port is refused. */
function connectionRefused(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * A `/user/verify` that stays in flight: headers sent with `Expect: 100-continue`, the body only when
 * `finish()` is called. Resolves once the server answered `100 Continue`, i.e. once it has the request.
 */
async function slowVerify(url: string, userIdentifier: string): Promise<{ finish(): Promise<RawResponse> }> {
  const { hostname, port } = new URL(url);
  const body = JSON.stringify({ user_identifier: userIdentifier });
  const socket = net.connect({ host: hostname, port: Number(port) });
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('utf8')));
  const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.write(
    [
      'POST /user/verify HTTP/1.1',
      `Host: ${hostname}:${port}`,
      `Authorization: Basic ${Buffer.from(`${AS_USER}:${AS_PASSWORD}`).toString('base64')}`,
      'Content-Type: application/json',
      `Content-Length: ${Buffer.byteLength(body)}`,
      'Expect: 100-continue',
      '',
      '',
    ].join('\r\n'),
  );
  await eventually(async () => received.includes('100 Continue'), 5_000, 'the server answering 100 Continue');
  return {
    async finish() {
      socket.write(body);
      // The server closes the connection after answering: it is shutting down.
      await Promise.race([ended, new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer: ${received}`)), 10_000))]);
      const final = received.slice(received.indexOf('\r\n\r\n') + 4);
      const [head = '', text = ''] = final.split('\r\n\r\n');
      const [statusLine = '', ...headerLines] = head.split('\r\n');
      const headers = Object.fromEntries(
        headerLines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]),
      );
      return { status: Number(statusLine.split(' ')[1]), headers, body: text };
    },
  };
}

describe.each(['redis', 'memory'] as const)('SIGTERM to a ROLE=all process on the %s store', (store) => {
  it('refuses new connections, finishes the request and the job in flight, then exits 0', async () => {
    const keyPrefix = `shutdown-${store}:`;
    const service = await start({
      name: `service-${store}`,
      role: 'all',
      secureAuth,
      keyPrefix,
      ...(store === 'redis' ? { redis: { url: redis.url } } : {}),
      env: { SHUTDOWN_TIMEOUT_SECONDS: '30' },
    });
    const url = service.url ?? '';
    const client = serviceClient(url);
    const device = await enrolledDevice(client, url, 'alice');
    const { requestId, login_id } = await startRequest(client, secureAuth, 'alice');
    const view = await device.waitForRequest((candidate) => candidate.request_id === requestId);

    secureAuth.hold('accept');
    expect((await device.decide(view, 'approve')).status).toBe(202);
    const [heldAccept] = await secureAuth.waitForHeld(1);
    const verify = await slowVerify(url, 'alice');

    service.signal('SIGTERM');
    await service.waitForLog(/"msg":"shutting down/);
    await eventually(() => connectionRefused(url), 5_000, 'new connections being refused');
    // It cannot have stopped: a request and a job are in flight.
    expect(service.hasExited()).toBe(false);

    const answer = await verify.finish();
    expect(answer).toMatchObject({ status: 200, headers: { connection: 'close' } });
    expect(JSON.parse(answer.body)).toEqual({ valid: true });
    expect(service.hasExited()).toBe(false);

    heldAccept!.proceed();
    expect(await exitCodeOf(service)).toBe(0);
    expect(service.output()).toContain('"msg":"audit completion.succeeded"');
    expect(service.output()).toContain('"msg":"stopped"');
    expect(deliveredDecisions(secureAuth, login_id)).toEqual([expect.objectContaining({ kind: 'accept', status: 200 })]);
    if (store === 'redis') {
      const stored = await new RedisRequests(redisConnection, new RedisKeys(keyPrefix)).get(requestId);
      expect(stored).toMatchObject({ status: 'completed', outcome: { result: 'accepted' } });
    }
  }, 60_000);
});

describe('api and worker processes', () => {
  it('a worker past SHUTDOWN_TIMEOUT_SECONDS exits 1; another worker completes its job once; both roles then stop with 0', async () => {
    const keyPrefix = 'shutdown-roles:';
    const common = { secureAuth, keyPrefix, redis: { url: redis.url }, env: { JOB_LOCK_SECONDS: '2' } };
    const [api, impatient] = await Promise.all([
      start({ ...common, name: 'api', role: 'api' }),
      start({ ...common, name: 'impatient-worker', role: 'worker', env: { JOB_LOCK_SECONDS: '2', SHUTDOWN_TIMEOUT_SECONDS: '1' } }),
    ]);
    const url = api!.url ?? '';
    const client = serviceClient(url);
    const device = await enrolledDevice(client, url, 'bob');
    const { requestId, login_id } = await startRequest(client, secureAuth, 'bob');
    const view = await device.waitForRequest((candidate) => candidate.request_id === requestId);

    secureAuth.hold('accept');
    expect((await device.decide(view, 'approve')).status).toBe(202);
    const [stuck] = await secureAuth.waitForHeld(1);
    impatient!.signal('SIGTERM');
    expect(await exitCodeOf(impatient!)).toBe(1);
    expect(impatient!.output()).toContain('shutdown deadline passed');

    // SecureAuth never handled the call the worker gave up on; the job is still owed.
    secureAuth.hold(false);
    stuck!.drop();
    const successor = await start({ ...common, name: 'successor-worker', role: 'worker' });
    const finished = await adminRequestWhen(client, requestId, isFinished, 20_000);
    expect(finished).toMatchObject({ status: 'completed', outcome: { result: 'accepted' } });
    expect(deliveredDecisions(secureAuth, login_id)).toHaveLength(1);

    api!.signal('SIGTERM');
    successor.signal('SIGTERM');
    expect(await exitCodeOf(api!)).toBe(0);
    expect(await exitCodeOf(successor)).toBe(0);
  }, 90_000);
});
