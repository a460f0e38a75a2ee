import { existsSync } from 'node:fs';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { startRedisCluster, startRedisServer, type RedisServerHandle } from '../support/redis-server.js';

/** Send one inline command over a raw socket and return the first reply line. */
function rawCommand(port: number, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let reply = '';
    socket.setTimeout(5_000, () => {
      socket.destroy();
      reject(new Error(`no reply to ${command}`));
    });
    socket.once('error', reject);
    socket.once('connect', () => socket.write(`${command}\r\n`));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('utf8');
      if (reply.includes('\r\n')) {
        socket.destroy();
        resolve(reply.slice(0, reply.indexOf('\r\n')));
      }
    });
  });
}

function redisCli(port: number, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`redis-cli exited ${code}: ${out}`))));
  });
}

describe('startRedisServer', () => {
  const started: RedisServerHandle[] = [];
  afterAll(async () => {
    await Promise.all(started.map((server) => server.stop()));
  });

  it('starts a server that answers PING and removes its temp dir on stop', async () => {
    const server = await startRedisServer();
    started.push(server);
    expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
    expect(await rawCommand(server.port, 'PING')).toBe('+PONG');
    expect(await redisCli(server.port, 'config', 'get', 'appendonly')).toBe('appendonly\nno');

    await server.stop();
    expect(existsSync(server.dir)).toBe(false);
    await expect(rawCommand(server.port, 'PING')).rejects.toThrow();
  });

  it('keeps data across restart() and kill() with appendOnly, on the same port and dir', async () => {
    const server = await startRedisServer({ appendOnly: true });
    started.push(server);
    await redisCli(server.port, 'SET', 'survivor', 'still-here');

    await server.restart();
    expect(await redisCli(server.port, 'GET', 'survivor')).toBe('still-here');

    // appendfsync always: even a SIGKILL loses nothing that was acknowledged.
    await redisCli(server.port, 'SET', 'after-crash', 'yes');
    await server.kill();
    await expect(rawCommand(server.port, 'PING')).rejects.toThrow();
    await server.restart();
    expect(await redisCli(server.port, 'GET', 'after-crash')).toBe('yes');
    expect(existsSync(server.dir)).toBe(true);

    await server.stop();
    expect(existsSync(server.dir)).toBe(false);
  });

  it('does not persist without appendOnly', async () => {
    const server = await startRedisServer();
    started.push(server);
    await redisCli(server.port, 'SET', 'ephemeral', '1');
    await server.restart();
    expect(await redisCli(server.port, 'EXISTS', 'ephemeral')).toBe('0');
  });
});

describe('startRedisCluster', () => {
  it('starts a 3-node cluster whose nodes all report cluster_state:ok', async () => {
    const cluster = await startRedisCluster();
    try {
      expect(cluster.nodes).toHaveLength(3);
      for (const node of cluster.nodes) {
        expect(node.host).toBe('127.0.0.1');
        expect(await redisCli(node.port, 'cluster', 'info')).toContain('cluster_state:ok');
      }
      // -c follows MOVED redirections, so the key lands on whichever node owns its slot.
      const first = cluster.nodes[0];
      if (!first) throw new Error('no nodes');
      await redisCli(first.port, '-c', 'SET', 'some-key', 'v');
      expect(await redisCli(first.port, '-c', 'GET', 'some-key')).toBe('v');
    } finally {
      await cluster.stop();
    }
  });
});
