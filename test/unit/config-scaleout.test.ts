import { loadConfig } from '../../src/config/config.js';
import { connectionSettingsFor } from '../../src/adapters/redis/redis-client.js';
import { problemsOf } from '../support/config-problems.js';

describe('scale-out settings', () => {
  it('waits 25 s for in-flight work on shutdown and locks jobs for 15 s by default', () => {
    const config = loadConfig({});
    expect(config.shutdown).toEqual({ timeoutSeconds: 25 });
    expect(config.jobs).toEqual({ lockSeconds: 15 });
  });

  it('reads SHUTDOWN_TIMEOUT_SECONDS and JOB_LOCK_SECONDS, and refuses zero', () => {
    const config = loadConfig({ SHUTDOWN_TIMEOUT_SECONDS: '5', JOB_LOCK_SECONDS: '3' });
    expect(config.shutdown.timeoutSeconds).toBe(5);
    expect(config.jobs.lockSeconds).toBe(3);
    expect(problemsOf({ SHUTDOWN_TIMEOUT_SECONDS: '0' })).toEqual([expect.stringMatching(/^SHUTDOWN_TIMEOUT_SECONDS: /)]);
    expect(problemsOf({ JOB_LOCK_SECONDS: 'soon' })).toEqual([expect.stringMatching(/^JOB_LOCK_SECONDS: /)]);
  });

  describe('REDIS_CLUSTER_NODES', () => {
    it('lists the seed nodes of a cluster, host:port separated by commas', () => {
      const config = loadConfig({ REDIS_CLUSTER_NODES: 'redis-1:7000, redis-2:7001,10.0.0.3:7002', REDIS_KEY_PREFIX: 'bank:' });
      expect(config.redis).toEqual({
        cluster: {
          nodes: [
            { host: 'redis-1', port: 7000 },
            { host: 'redis-2', port: 7001 },
            { host: '10.0.0.3', port: 7002 },
          ],
          options: {},
        },
        keyPrefix: 'bank:',
      });
      expect(connectionSettingsFor(config.redis!)).toEqual({ clusterNodes: expect.any(Array), clusterNodeOptions: {} });
    });

    it('takes IPv6 addresses in brackets', () => {
      expect(loadConfig({ REDIS_CLUSTER_NODES: '[::1]:7000' }).redis).toMatchObject({ cluster: { nodes: [{ host: '::1', port: 7000 }] } });
    });

    it('takes credentials and TLS from redis:// or rediss:// entries, for every node', () => {
      const config = loadConfig({ REDIS_CLUSTER_NODES: 'rediss://ciba:p%40ss@redis-1:7000,redis-2:7001' });
      expect(config.redis).toEqual({
        cluster: {
          nodes: [
            { host: 'redis-1', port: 7000 },
            { host: 'redis-2', port: 7001 },
          ],
          options: { username: 'ciba', password: 'p@ss', tls: true },
        },
        keyPrefix: 'ciba:',
      });
    });

    it.each([
      ['redis-1'],
      ['redis-1:port'],
      ['redis-1:70000'],
      ['http://redis-1:7000'],
      ['redis://a:x@redis-1:7000,redis://b:y@redis-2:7001'],
      [' , '],
    ])('refuses %j with a message naming the variable', (value) => {
      expect(problemsOf({ REDIS_CLUSTER_NODES: value })).toEqual([expect.stringMatching(/^REDIS_CLUSTER_NODES: /)]);
    });

    it('is exclusive with REDIS_URL', () => {
      expect(problemsOf({ REDIS_URL: 'redis://redis:6379', REDIS_CLUSTER_NODES: 'redis-1:7000' })).toEqual([
        expect.stringMatching(/^REDIS_URL and REDIS_CLUSTER_NODES: set one of them, not both/),
      ]);
    });

    it('satisfies production instead of REDIS_URL', () => {
      const config = loadConfig({
        NODE_ENV: 'production',
        REDIS_CLUSTER_NODES: 'redis-1:7000',
        AS_BASIC_CREDENTIALS: 'secureauth:password',
        PUBLIC_URL: 'https://auth.example.com',
        SECUREAUTH_ISSUER_URL: 'https://auth.example.com/acme/ciba',
        SECUREAUTH_CLIENT_ID: 'ciba-service',
        SECUREAUTH_CLIENT_SECRET: 'secret',
      });
      expect(config.redis).toMatchObject({ cluster: { nodes: [{ host: 'redis-1', port: 7000 }] } });
    });

    it('empty means unset', () => {
      expect(loadConfig({ REDIS_CLUSTER_NODES: '' }).redis).toBeUndefined();
    });
  });
});
