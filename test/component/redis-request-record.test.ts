/**
 * How a request record is kept in Redis (src/adapters/redis/request-record.ts): one string of
 * `name=value` lines, the draft without what the key and the expiry hold, the prepared view without
 * what the draft holds, and every field, view and delivery comes back exactly as it went in — key
 * order included, whatever the values hold (line breaks, quotes, `=`). The day counts of
 * NOTIFY_MAX_PER_DAY live in the user's pending index, and old days are dropped.
 */
import { createRedisConnection, type RedisConnection } from '../../src/adapters/redis/redis-client.js';
import { RedisKeys } from '../../src/adapters/redis/redis-keys.js';
import { RedisRequests } from '../../src/adapters/redis/redis-requests.js';
import { RedisUsers } from '../../src/adapters/redis/redis-users.js';
import { RedisDevices } from '../../src/adapters/redis/redis-devices.js';
import type { ConsentView, RequestDraft } from '../../src/domain/authentication-request.js';
import { buildConsentView } from '../../src/domain/consent-view.js';
import { newDeviceId, newPartition, newSecret, requestIdFor, sha256Base64url } from '../../src/domain/identifiers.js';
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

const DAY_MS = 24 * 3600 * 1000;

function fullDraft(loginId: string, partition = newPartition(), createdAt = Date.now()): RequestDraft {
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

  const stored = async (requestId: string): Promise<string> => (await redis.get(keys.request(requestId))) ?? '';
  const lineOf = (record: string, name: string): string | undefined =>
    record
      .split('\n')
      .find((line) => line.startsWith(`${name}=`))
      ?.slice(name.length + 1);

  /** A pending request of a user with an active device, so the create step lets it through. */
  async function pendingDraft(loginId: string, createdAt = Date.now()): Promise<RequestDraft> {
    const userId = `user-${loginId}`;
    const upserted = await new RedisUsers(redis, keys).upsert(userId, {}, createdAt);
    if (!upserted.ok) throw new Error('user not created');
    const partition = upserted.user.partition;
    await new RedisDevices(redis, keys).create({
      deviceId: newDeviceId(partition),
      userId,
      platform: 'android',
      publicJwk: { kty: 'EC', crv: 'P-256', x: newSecret(32), y: newSecret(32) },
      jwkThumbprint: newSecret(32),
      alg: 'ES256',
      tokenHash: sha256Base64url(newSecret()),
      pushTokenStatus: 'none',
      status: 'active',
      createdAt,
    });
    return { ...fullDraft(loginId, partition, createdAt), userId };
  }

  it('give back every draft field, from a record without what the key and the expiry hold', async () => {
    const draft = fullDraft('login-compact');
    expect(await requests.create(draft, 3600)).toEqual({ created: true, status: 'denied', reason: 'unknown_user' });

    const record = await stored(draft.requestId);
    expect(record).not.toContain(draft.requestId);
    expect(record).not.toContain('loginState');
    expect(lineOf(record, 's')).toBe('state-0123456789');
    expect(lineOf(record, 'ex')).toBe(String(draft.expiresAt));
    expect(record.match(new RegExp(String(draft.expiresAt), 'g'))).toHaveLength(1);

    const request = await requests.get(draft.requestId);
    expect(request).toMatchObject({ ...draft, status: 'denied' });
    expect(Object.keys(request!).filter((name) => name in draft).sort()).toEqual(Object.keys(draft).sort());
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

  it('give back values with line breaks, quotes, `=` and non-ASCII as they were', async () => {
    const draft = {
      ...fullDraft('login-odd'),
      loginState: 'a=b\nc="d"\\e',
      bindingMessage: 'Zahle 50 €\r\nan st=approved',
      requestedScopes: [{ name: 'openid' }, { name: 'pay=all' }],
    };
    await requests.create(draft, 3600);
    expect(await requests.get(draft.requestId)).toMatchObject({ ...draft, status: 'denied' });
  });

  it('keep the prepared view without what the draft holds, and give it back exactly, key order included', async () => {
    const draft = await pendingDraft('login-view');
    await requests.create(draft, 3600);
    const view = buildConsentView(
      { ...draft, status: 'pending', deliveries: [] },
      {
        client: { name: 'Corner Shop POS', logo_uri: 'https://shop.example/logo.png' },
        scopes: [{ name: 'openid', display_name: 'Sign you in' }, { name: 'payments', description: 'Pay from your account' }],
      },
    );
    const withChoices: ConsentView = { ...view, binding_choices: ['Pay 50 EUR', 'Pay 40 EUR', 'Pay 60 EUR'] };

    expect((await requests.setView(draft.requestId, withChoices, 'hash-1')).ok).toBe(true);

    const viewLine = lineOf(await stored(draft.requestId), 'v')!;
    for (const kept of [draft.requestId, 'request_id', 'binding_message', 'created_at', 'pos-terminal', 'openid', 'instructedAmount']) expect(viewLine).not.toContain(kept);
    const read = await requests.get(draft.requestId);
    expect(JSON.stringify(read?.view)).toBe(JSON.stringify(withChoices));
    expect(read?.consentHash).toBe('hash-1');
  });

  it('keep whole a view it cannot rebuild from the draft, and replace a view set again', async () => {
    const draft = await pendingDraft('login-other-view');
    await requests.create(draft, 3600);
    const first: ConsentView = {
      request_id: draft.requestId,
      client: { name: 'Someone else' },
      scopes: [{ name: 'email' }],
      created_at: 'not the draft’s time',
      expires_at: new Date(draft.expiresAt).toISOString(),
    };
    await requests.setView(draft.requestId, first, 'hash-1');
    expect(JSON.stringify((await requests.get(draft.requestId))?.view)).toBe(JSON.stringify(first));

    const second = buildConsentView({ ...draft, status: 'pending', deliveries: [] }, undefined);
    const result = await requests.setView(draft.requestId, second, 'hash-2');
    expect(result).toMatchObject({ ok: true, request: { view: second, consentHash: 'hash-2' } });
    const record = await stored(draft.requestId);
    expect(record.split('\n').filter((line) => line.startsWith('v=') || line.startsWith('h='))).toHaveLength(2);
    expect(JSON.stringify((await requests.get(draft.requestId))?.view)).toBe(JSON.stringify(second));
  });

  it('keep delivery records with short names, in order, and give them back with their own', async () => {
    const draft = fullDraft('login-deliveries');
    await requests.create(draft, 3600);
    const deliveries = [
      { channel: 'push', message: 'prompt' as const, at: 1, deviceId: 'device-1', result: 'sent' as const },
      { channel: 'push', result: 'failed' as const, at: 2, deviceId: 'device-2', errorCode: 'unavailable', retryable: true },
    ];
    for (const delivery of deliveries) await requests.addDelivery(draft.requestId, delivery);
    const lines = (await stored(draft.requestId)).split('\n').filter((line) => line.startsWith('d='));
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line).not.toContain('"channel"');
    const read = await requests.get(draft.requestId);
    expect(JSON.stringify(read?.deliveries)).toBe(JSON.stringify(deliveries));
  });

  it('keep the day counts of NOTIFY_MAX_PER_DAY in the pending index, dropping days before yesterday', async () => {
    const today = Math.floor(Date.now() / DAY_MS) * DAY_MS + 12 * 3600 * 1000;
    const policy = { maxPerDay: 2 };
    const first = await pendingDraft('login-day-1', today - 2 * DAY_MS);
    await requests.create(first, 3600, policy);
    const yesterday = { ...fullDraft('login-day-2', first.partition, today - DAY_MS), userId: first.userId };
    await requests.create(yesterday, 3600, policy);
    const index = keys.pendingRequests(first.partition);
    expect(await redis.zrangebyscore(index, '-inf', '(0', 'WITHSCORES')).toEqual([`day:${Math.floor(today / DAY_MS) - 2}`, '-1', `day:${Math.floor(today / DAY_MS) - 1}`, '-1']);

    for (const n of [3, 4, 5]) {
      const draft = { ...fullDraft(`login-day-${n}`, first.partition, today), userId: first.userId };
      const expected = n < 5 ? { created: true, status: 'pending' } : { created: true, status: 'denied', reason: 'daily_limit_reached' };
      expect(await requests.create(draft, 3600, policy)).toEqual(expected);
    }
    expect(await redis.zrangebyscore(index, '-inf', '(0', 'WITHSCORES')).toEqual([`day:${Math.floor(today / DAY_MS)}`, '-2', `day:${Math.floor(today / DAY_MS) - 1}`, '-1']);
    expect(await redis.pexpiretime(index)).toBeGreaterThanOrEqual(today + 2 * DAY_MS);
  });
});
