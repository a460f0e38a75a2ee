import { startRedisServer, type RedisServerHandle } from '../support/redis-server.js';
import { describeCibaFlows } from './ciba-flows.js';

let redis: RedisServerHandle;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
});

describeCibaFlows('redis', () => ({ REDIS_URL: redis.url, REDIS_KEY_PREFIX: 'e2e:' }));
