import { Redis, Cluster, type RedisOptions } from 'ioredis';
import type { RedisStoreConfig } from '../../config/config.js';

export type RedisConnection = Redis | Cluster;

export interface RedisConnectionSettings {
  url?: string;
  clusterNodes?: Array<{ host: string; port: number }>;
  /** Credentials and TLS of every cluster node (a single server's come with its URL). */
  clusterNodeOptions?: { username?: string; password?: string; tls?: boolean };
}

/** What to connect to for the configured store: one server (`REDIS_URL`) or a cluster (`REDIS_CLUSTER_NODES`). */
export function connectionSettingsFor(store: RedisStoreConfig): RedisConnectionSettings {
  return 'cluster' in store ? { clusterNodes: store.cluster.nodes, clusterNodeOptions: store.cluster.options } : { url: store.url };
}

/**
 * Options for connections that serve HTTP requests: fail fast when Redis is away so the caller gets
 * a 503 at once instead of a request hanging on a reconnect loop.
 */
const failFast: RedisOptions = {
  maxRetriesPerRequest: 1,
  commandTimeout: 2000,
  enableAutoPipelining: true,
  retryStrategy: (attempt) => Math.min(attempt * 100, 2000),
};

/** BullMQ workers block on Redis and must retry forever (BullMQ requires `maxRetriesPerRequest: null`). */
const patient: RedisOptions = {
  maxRetriesPerRequest: null,
  retryStrategy: (attempt) => Math.min(attempt * 200, 5000),
};

export function createRedisConnection(settings: RedisConnectionSettings, kind: 'fail-fast' | 'patient'): RedisConnection {
  const options = kind === 'fail-fast' ? failFast : patient;
  if (settings.clusterNodes !== undefined && settings.clusterNodes.length > 0) {
    const { username, password, tls } = settings.clusterNodeOptions ?? {};
    const nodeOptions: RedisOptions = {
      ...options,
      ...(username !== undefined ? { username } : {}),
      ...(password !== undefined ? { password } : {}),
      ...(tls === true ? { tls: {} } : {}),
    };
    return new Cluster(settings.clusterNodes, { redisOptions: nodeOptions, enableAutoPipelining: kind === 'fail-fast' });
  }
  if (settings.url === undefined) throw new Error('a Redis URL or cluster nodes are required');
  return new Redis(settings.url, options);
}

/** Whether an error means Redis could not be reached (as opposed to a bug in a command). */
export function isRedisUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === 'MaxRetriesPerRequestError' || error.name === 'ClusterAllFailedError') return true;
  return /Connection is closed|Command timed out|ECONNREFUSED|ECONNRESET|Stream isn't writeable|enableOfflineQueue|Failed to refresh slots cache|CLUSTERDOWN|LOADING/i.test(
    error.message,
  );
}
