/**
 * Throw-away redis-server processes for tests.
 *
 * Each server runs from the `redis-server` binary on PATH, bound to 127.0.0.1 on a free port, in its
 * own directory, without RDB snapshots. Servers are tracked so that a test file that crashes (or
 * forgets `stop()`) does not leave redis processes behind: they are killed when the Node process
 * exits, and they never keep the event loop alive on their own.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { onHostExit } from '../../dev/support/host-process.js';

export interface RedisServerOptions {
  /** Turn on the append-only file (fsync on every write) so data survives `restart()` and `kill()`. */
  appendOnly?: boolean;
  /** Working directory for redis (AOF, cluster config). Default: a fresh temp dir, removed by `stop()`. */
  dir?: string;
  /** Port to listen on. Default: a free port. */
  port?: number;
}

export interface RedisServerHandle {
  /** `redis://127.0.0.1:PORT` */
  url: string;
  port: number;
  dir: string;
  /** SIGTERM, wait for exit, then remove the directory if this module created it. */
  stop(): Promise<void>;
  /** Send a signal (default SIGKILL) and wait for exit; the directory is kept, `restart()` works after it. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Stop (if running) and start again on the same port and directory. */
  restart(): Promise<void>;
}

export interface RedisClusterHandle {
  nodes: Array<{ host: string; port: number }>;
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
const READY_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 10_000;
const POLL_INTERVAL_MS = 50;
/** Keep only the tail of a server's output for error messages. */
const MAX_OUTPUT_CHARS = 8_000;
/** Redis cluster nodes also listen on port + 10000 (the cluster bus). */
const CLUSTER_BUS_OFFSET = 10_000;

// ---------------------------------------------------------------------------------------------
// Clean-up of leftover processes
// ---------------------------------------------------------------------------------------------

const liveChildren = new Set<ChildProcess>();
/** Temp dirs created here and not yet removed by stop(). */
const ownedDirs = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' listeners must be synchronous: SIGKILL (nothing is written after it) then remove the dirs.
  onHostExit(() => {
    for (const child of liveChildren) child.kill('SIGKILL');
    for (const dir of ownedDirs) rmSync(dir, { recursive: true, force: true });
  });
}

// ---------------------------------------------------------------------------------------------
// Ports
// ---------------------------------------------------------------------------------------------

/** Ports handed out by this process, so two servers started at once never get the same one. */
const handedOutPorts = new Set<number>();

function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.unref();
    probe.once('error', () => resolve(false));
    probe.listen({ host: HOST, port, exclusive: true }, () => probe.close(() => resolve(true)));
  });
}

function listenOnAnyPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.once('error', reject);
    probe.listen({ host: HOST, port: 0, exclusive: true }, () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/**
 * A port that the OS says is free right now (listen on port 0, read it, close). There is an
 * unavoidable window before redis binds it; not reusing ports within this process keeps that small.
 */
async function findFreePort(options: { withClusterBus?: boolean } = {}): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const port = await listenOnAnyPort();
    if (port === 0 || handedOutPorts.has(port)) continue;
    if (options.withClusterBus) {
      const busPort = port + CLUSTER_BUS_OFFSET;
      if (busPort > 65_535 || handedOutPorts.has(busPort) || !(await isPortFree(busPort))) continue;
      handedOutPorts.add(busPort);
    }
    handedOutPorts.add(port);
    return port;
  }
  throw new Error('could not find a free TCP port on 127.0.0.1');
}

// ---------------------------------------------------------------------------------------------
// Talking to redis without a client library
// ---------------------------------------------------------------------------------------------

/**
 * Which process answers on `port`: sends inline `PING` and `INFO server` over a raw socket and
 * returns the `process_id` once the server answers +PONG (not -LOADING), undefined otherwise.
 * Checking the pid matters: another redis (e.g. a system one) may already listen on that port.
 */
function answeringPid(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: HOST, port });
    let reply = '';
    const finish = (pid: number | undefined): void => {
      socket.destroy();
      resolve(pid);
    };
    socket.setTimeout(1_000, () => finish(undefined));
    socket.once('error', () => finish(undefined));
    socket.once('close', () => finish(undefined));
    socket.once('connect', () => socket.write('PING\r\nINFO server\r\n'));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('utf8');
      if (reply.includes('\r\n') && !reply.startsWith('+PONG')) return finish(undefined);
      const pid = /process_id:(\d+)\r\n/.exec(reply)?.[1];
      if (pid !== undefined) finish(Number(pid));
    });
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run a short command (redis-cli) to completion, killing it if it hangs. */
function runCommand(command: string, args: string[], timeoutMs = 30_000): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`could not run ${command}: ${error.message}`));
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

// ---------------------------------------------------------------------------------------------
// One redis-server process
// ---------------------------------------------------------------------------------------------

interface RunningProcess {
  child: ChildProcess;
  exited: Promise<void>;
  hasExited(): boolean;
  output(): string;
}

function spawnRedis(args: string[]): RunningProcess {
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  liveChildren.add(child);

  let output = '';
  const collect = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-MAX_OUTPUT_CHARS);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);

  let exited = false;
  const exitedPromise = new Promise<void>((resolve) => {
    const done = (): void => {
      exited = true;
      liveChildren.delete(child);
      resolve();
    };
    child.once('exit', done);
    // Spawn failures (binary not on PATH) emit 'error' and may never emit 'exit'.
    child.once('error', (error) => {
      collect(Buffer.from(`spawn error: ${error.message}\n`));
      done();
    });
  });

  // A forgotten server must not keep Jest (or any script) from exiting; the exit hook kills it.
  child.unref();
  unrefStream(child.stdout);
  unrefStream(child.stderr);

  return { child, exited: exitedPromise, hasExited: () => exited, output: () => output };
}

function unrefStream(stream: NodeJS.ReadableStream | null): void {
  if (stream instanceof net.Socket) stream.unref();
}

function formatArgs(args: string[]): string {
  return args.map((arg) => (arg === '' ? "''" : arg)).join(' ');
}

async function waitUntilReady(proc: RunningProcess, port: number, args: string[]): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (proc.hasExited()) {
      throw new Error(
        `redis-server exited before answering PING (args: ${formatArgs(args)})\n--- output ---\n${proc.output()}`,
      );
    }
    const pid = await answeringPid(port);
    if (pid === proc.child.pid) return;
    await delay(POLL_INTERVAL_MS);
  }
  await terminate(proc, 'SIGKILL');
  throw new Error(
    `redis-server on port ${port} did not answer PING (as pid ${proc.child.pid}) within ${READY_TIMEOUT_MS} ms ` +
      `(args: ${formatArgs(args)})\n--- output ---\n${proc.output()}`,
  );
}

/** Signal the process and wait for it to exit; escalate to SIGKILL if it takes too long. */
async function terminate(proc: RunningProcess, signal: NodeJS.Signals): Promise<void> {
  if (proc.hasExited()) return;
  // While we wait, the process must hold the event loop open (it is unref'ed otherwise).
  proc.child.ref();
  proc.child.kill(signal);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([
    proc.exited.then(() => false),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), STOP_TIMEOUT_MS);
    }),
  ]);
  clearTimeout(timer);
  if (timedOut) {
    proc.child.kill('SIGKILL');
    await proc.exited;
  }
}

function redisArgs(port: number, dir: string, appendOnly: boolean, extra: string[]): string[] {
  return [
    '--port', String(port),
    '--bind', HOST,
    '--dir', dir,
    '--daemonize', 'no',
    // No RDB snapshots: persistence, when wanted, is the AOF alone.
    '--save', '',
    ...(appendOnly ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']),
    ...extra,
  ];
}

async function startServer(
  options: RedisServerOptions,
  extraArgs: string[],
  portOptions: { withClusterBus?: boolean } = {},
): Promise<RedisServerHandle> {
  installExitHook();
  const ownsDir = options.dir === undefined;
  const dir = options.dir ?? (await mkdtemp(path.join(os.tmpdir(), 'redis-test-')));
  if (ownsDir) ownedDirs.add(dir);
  const port = options.port ?? (await findFreePort(portOptions));
  const args = redisArgs(port, dir, options.appendOnly ?? false, extraArgs);

  let current: RunningProcess | undefined;
  let removed = false;

  const launch = async (): Promise<void> => {
    current = spawnRedis(args);
    await waitUntilReady(current, port, args);
  };
  const halt = async (signal: NodeJS.Signals): Promise<void> => {
    if (current) await terminate(current, signal);
  };
  const removeDir = async (): Promise<void> => {
    if (!ownsDir || removed) return;
    removed = true;
    await rm(dir, { recursive: true, force: true });
    ownedDirs.delete(dir);
  };

  try {
    await launch();
  } catch (error) {
    await removeDir();
    throw error;
  }

  return {
    url: `redis://${HOST}:${port}`,
    port,
    dir,
    async stop() {
      await halt('SIGTERM');
      await removeDir();
    },
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      await halt(signal);
    },
    async restart() {
      if (removed) throw new Error('restart() after stop(): the directory has been removed');
      await halt('SIGTERM');
      await launch();
    },
  };
}

/** Start a standalone redis-server; see {@link RedisServerOptions}. */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServerHandle> {
  return startServer(options, []);
}

// ---------------------------------------------------------------------------------------------
// Cluster
// ---------------------------------------------------------------------------------------------

async function waitForClusterOk(ports: number[]): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let lastInfo = '';
  while (Date.now() < deadline) {
    const states = await Promise.all(
      ports.map(async (port) => {
        const result = await runCommand('redis-cli', ['-h', HOST, '-p', String(port), 'cluster', 'info'], 5_000);
        lastInfo = result.stdout + result.stderr;
        return /cluster_state:ok/.test(result.stdout);
      }),
    );
    if (states.every(Boolean)) return;
    await delay(100);
  }
  throw new Error(`redis cluster did not reach cluster_state:ok within ${READY_TIMEOUT_MS} ms\n${lastInfo}`);
}

/**
 * Start `nodes` cluster-enabled redis servers (each in its own temp dir, masters only), join them with
 * `redis-cli --cluster create`, and wait until every node reports `cluster_state:ok`.
 */
export async function startRedisCluster(nodes = 3): Promise<RedisClusterHandle> {
  if (nodes < 3) throw new Error('redis-cli --cluster create needs at least 3 master nodes');
  const servers: RedisServerHandle[] = [];
  const stopAll = async (): Promise<void> => {
    await Promise.all(servers.map((server) => server.stop()));
  };

  try {
    for (let i = 0; i < nodes; i += 1) {
      servers.push(
        await startServer(
          {},
          ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '5000'],
          { withClusterBus: true },
        ),
      );
    }
    const ports = servers.map((server) => server.port);
    const create = await runCommand('redis-cli', [
      '--cluster', 'create',
      ...ports.map((port) => `${HOST}:${port}`),
      '--cluster-replicas', '0',
      '--cluster-yes',
    ]);
    if (create.code !== 0) {
      throw new Error(`redis-cli --cluster create failed (exit ${create.code})\n${create.stdout}\n${create.stderr}`);
    }
    await waitForClusterOk(ports);
  } catch (error) {
    await stopAll();
    throw error;
  }

  return {
    nodes: servers.map((server) => ({ host: HOST, port: server.port })),
    stop: stopAll,
  };
}
