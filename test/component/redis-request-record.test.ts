/**
 * How a request record is kept in Redis: the stored draft is compact (no id, partition or expiry,
 * which the key and the `expires_at` field hold; short field names), every field comes back as it
 * went in, and records written before in the full form are still read the same.
 */
import { createRedisConnection, type RedisConnection } from '../../src/adapters/redis/redis-client.js';
import { RedisKeys } from '../../src/adapters/redis/redis-keys.js';
import { RedisRequests } from '../../src/adapters/redis/redis-requests.js';
import type { RequestDraft } from '../../src/domain/authentication-request.js';
import { newPartition, requestIdFor } from '../../src/domain/identifiers.js';
import { startRedisServer, type RedisServerHandle } from '../support/redis-server.js';

let server: RedisServerHandle;
let redis: RedisConnection;
let prefixCounter = 0;

beforeAll(async () => {
  server = await startRedisServer();
  redis = createRedisConnection({ url: server.url }, 'fail-fast');
});
afterAll(async () => {
  await redis.quit();
  await server.stop();
});

function fullDraft(loginId: string): RequestDraft {
  const partition = newPartition();
  const createdAt = Date.now();
  return {
    requestId: requestIdFor(partition, loginId),
    partition,
    loginId,
    loginState: 'state-0123456789',
    userId: null,
    userIdentifier: 'Someone@Example.com',
    clientId: 'pos-terminal',
    clientName: 'Corner Shop POS',
    bindingMessage: 'Pay 50 EUR',
    requestedScopes: [{ name: 'openid' }, { name: 'payments', display_name: 'Make payments', description: 'Pay from your account' }],
    authorizationDetails: [{ type: 'payment_initiation', instructedAmount: { amount: '50.00', currency: 'EUR' } }],
    openbankingIntentId: 'pcf_123',
    openbankingKind: 'uk_domestic_payment',
    createdAt,
    expiresAt: createdAt + 120_000,
  };
}

describe('request records in Redis', () => {
  let keys: RedisKeys;
  let requests: RedisRequests;

  beforeEach(() => {
    prefixCounter += 1;
    keys = new RedisKeys(`record-test-${prefixCounter}:`);
    requests = new RedisRequests(redis, keys);
  });

  it('give back every draft field, from a draft stored without what the record holds elsewhere', async () => {
    const draft = fullDraft('login-compact');
    expect(await requests.create(draft, 3600)).toEqual({ created: true, status: 'denied', reason: 'unknown_user' });

    const stored = JSON.parse((await redis.hget(keys.request(draft.requestId), 'draft'))!) as Record<string, unknown>;
    for (const kept of ['requestId', 'partition', 'expiresAt', 'loginState', 'requestedScopes']) expect(stored).not.toHaveProperty(kept);
    expect(JSON.stringify(stored)).not.toContain(draft.requestId);
    expect(Object.values(stored)).toContain('state-0123456789');

    const request = await requests.get(draft.requestId);
    expect(request).toMatchObject({ ...draft, status: 'denied' });
    expect(Object.keys(request!).filter((name) => name in draft).sort()).toEqual(Object.keys(draft).sort());
  });

  it('read records written with the full draft as before', async () => {
    const draft = fullDraft('login-full-form');
    await redis.hset(keys.request(draft.requestId), {
      draft: JSON.stringify(draft),
      status: 'pending',
      expires_at: String(draft.expiresAt),
    });
    expect(await requests.get(draft.requestId)).toEqual({ ...draft, status: 'pending', deliveries: [] });
  });

  it('keep an unknown user (userId null) and a draft without the optional fields', async () => {
    const optional = ['clientId', 'clientName', 'bindingMessage', 'authorizationDetails', 'openbankingIntentId', 'openbankingKind'] as const;
    const plain: RequestDraft = { ...fullDraft('login-plain') };
    for (const name of optional) delete plain[name];
    await requests.create(plain, 3600);
    const request = await requests.get(plain.requestId);
    expect(request).toMatchObject(plain);
    expect(request?.userId).toBeNull();
    for (const name of optional) expect(request).not.toHaveProperty(name);
  });
});
