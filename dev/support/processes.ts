/**
 * Child processes for the demo and the end-to-end tests: the service and the development
 * authorization server run as real processes, started from their TypeScript sources with tsx.
 * Each child leads its own process group, and the groups are killed when this process exits, so a
 * crashed test run leaves nothing behind, not even a child's own children (the demo has two).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { onHostExit } from './host-process.js';

/** The repository root (this file is dev/support/processes.ts). */
export const REPOSITORY_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const MAX_OUTPUT_CHARS = 200_000;

export interface ChildHandle {
  name: string;
  pid: number | undefined;
  /** Everything the child printed (stdout and stderr, interleaved; the tail when it is long). */
  output(): string;
  hasExited(): boolean;
  exited: Promise<number | null>;
  /** SIGTERM to the child (it stops its own children), then SIGKILL to its group after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export interface SpawnOptions {
  env: Record<string, string>;
  /** Command-line arguments after the entry file. */
  args?: string[];
  /**
   * Start the child as the leader of its own process group (default), so that it and its own children
   * are killed together; false keeps it in this process's group (the demo's children: Ctrl-C in the
   * terminal, or killing the demo's group, reaches them too).
   */
  ownProcessGroup?: boolean;
  /** Also append the child's output to this file. */
  logFile?: string;
  /** Called with each complete line the child prints. */
  onLine?: (line: string) => void;
}

/** Running children, and whether each leads its own process group. */
const liveChildren = new Map<ChildProcess, boolean>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  onHostExit(() => {
    for (const [child, ownGroup] of liveChildren) killChild(child, ownGroup, 'SIGKILL');
  });
}

function killChild(child: ChildProcess, ownGroup: boolean, signal: NodeJS.Signals): void {
  try {
    if (ownGroup && child.pid !== undefined) {
      process.kill(-child.pid, signal);
      return;
    }
  } catch {
    // the group is gone already, or this platform has none
  }
  child.kill(signal);
}

/** Runs `node --import tsx <entry> [args]` from the repository root with `env` added to this environment. */
export function spawnTypeScript(name: string, entry: string, options: SpawnOptions): ChildHandle {
  installExitHook();
  const child = spawn(process.execPath, ['--import', 'tsx', path.resolve(REPOSITORY_ROOT, entry), ...(options.args ?? [])], {
    cwd: REPOSITORY_ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.ownProcessGroup ?? true,
  });
  const ownGroup = options.ownProcessGroup ?? true;
  liveChildren.set(child, ownGroup);

  let output = '';
  let partial = '';
  let log: WriteStream | undefined = options.logFile ? createWriteStream(options.logFile, { flags: 'a' }) : undefined;
  const collect = (chunk: Buffer): void => {
    const text = chunk.toString('utf8');
    output = (output + text).slice(-MAX_OUTPUT_CHARS);
    log?.write(text);
    if (options.onLine) {
      const lines = (partial + text).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) options.onLine(line);
    }
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);

  let exited = false;
  const exitedPromise = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      exited = true;
      liveChildren.delete(child);
      log?.end();
      log = undefined;
      resolve(code);
    });
    child.once('error', (error) => {
      collect(Buffer.from(`spawn error: ${error.message}\n`));
      exited = true;
      liveChildren.delete(child);
      resolve(null);
    });
  });

  return {
    name,
    pid: child.pid,
    output: () => output,
    hasExited: () => exited,
    exited: exitedPromise,
    async stop(graceMs = 10_000) {
      if (exited) return;
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        exitedPromise.then(() => false),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), graceMs);
        }),
      ]);
      clearTimeout(timer);
      if (timedOut) {
        killChild(child, ownGroup, 'SIGKILL');
        await exitedPromise;
      }
    },
  };
}

/** Polls `url` until it answers 200; fails early, with the child's output, if the child exits. */
export async function waitForHttp(url: string, child: ChildHandle, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.hasExited()) throw new Error(`${child.name} exited before ${url} answered\n--- output ---\n${child.output()}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await response.arrayBuffer();
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms\n--- ${child.name} output ---\n${child.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const handedOut = new Set<number>();

/** A TCP port on 127.0.0.1 that is free right now (and not handed out before by this process). */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const port = await new Promise<number>((resolve, reject) => {
      const probe = net.createServer();
      probe.unref();
      probe.once('error', reject);
      probe.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
        const address = probe.address();
        const chosen = typeof address === 'object' && address !== null ? address.port : 0;
        probe.close(() => resolve(chosen));
      });
    });
    if (port !== 0 && !handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('could not find a free TCP port on 127.0.0.1');
}

/** Whether something already listens on 127.0.0.1:port. */
export function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
