/**
 * One contract for the storage ports (src/ports), run against both implementations: the embedded
 * in-memory adapters and the Redis adapters on a private redis-server (and on a private three-node
 * Redis Cluster, where every multi-key step must stay in one slot). Whatever a use case may rely
 * on is pinned here, so the two stores cannot drift apart.
 */
import { MemoryActivationCodes, MemoryDevices, MemoryReplayCache } from '../../src/adapters/memory/memory-devices.js';
import { MemoryRequests } from '../../src/adapters/memory/memory-requests.js';
import { MemoryUsers } from '../../src/adapters/memory/memory-users.js';
import { createRedisConnection, type RedisConnection } from '../../src/adapters/redis/redis-client.js';
import { RedisActivationCodes, RedisDevices, RedisReplayCache } from '../../src/adapters/redis/redis-devices.js';
import { RedisKeys } from '../../src/adapters/redis/redis-keys.js';
import { RedisRequests } from '../../src/adapters/redis/redis-requests.js';
import { RedisUsers } from '../../src/adapters/redis/redis-users.js';
import type { ConsentView, DecisionRecord, RequestDraft } from '../../src/domain/authentication-request.js';
import { consentHash } from '../../src/domain/consent-view.js';
import type { Device } from '../../src/domain/device.js';
import {
  PARTITION_LENGTH,
  newDeviceId,
  newPartition,
  newSecret,
  normalizeIdentifier,
  partitionForUnknownIdentifier,
  requestIdFor,
  sha256Base64url,
} from '../../src/domain/identifiers.js';
import type { User } from '../../src/domain/user.js';
import type { ActivationCodeRepository, DeviceRepository, ReplayCache } from '../../src/ports/devices.js';
import type { RequestRepository } from '../../src/ports/requests.js';
import type { UserInput, UserRepository } from '../../src/ports/users.js';
import { startRedisCluster, startRedisServer, type RedisClusterHandle, type RedisServerHandle } from '../support/redis-server.js';
import { sleep } from '../support/service.js';

interface Repositories {
  users: UserRepository;
  devices: DeviceRepository;
  activationCodes: ActivationCodeRepository;
  replayCache: ReplayCache;
  requests: RequestRepository;
}

/** 'redis-cluster': the Redis adapters on a three-node cluster, where a step that crosses slots fails. */
type StoreKind = 'memory' | 'redis' | 'redis-cluster';

let redisServer: RedisServerHandle;
let connection: RedisConnection;
let cluster: RedisClusterHandle;
let clusterConnection: RedisConnection;
let prefixCounter = 0;

beforeAll(async () => {
  redisServer = await startRedisServer();
  connection = createRedisConnection({ url: redisServer.url }, 'fail-fast');
  cluster = await startRedisCluster(3);
  clusterConnection = createRedisConnection({ clusterNodes: cluster.nodes }, 'fail-fast');
});
afterAll(async () => {
  await connection.quit();
  await clusterConnection?.quit();
  await cluster?.stop();
  await redisServer.stop();
});

function memoryRepositories(): Repositories {
  const devices = new MemoryDevices();
  const users = new MemoryUsers(devices);
  return {
    users,
    devices,
    activationCodes: new MemoryActivationCodes(),
    replayCache: new MemoryReplayCache(),
    requests: new MemoryRequests(users),
  };
}

/** Fresh Redis repositories: a key prefix of their own, so no test sees another's data. */
function redisRepositories(on: RedisConnection = connection): Repositories {
  prefixCounter += 1;
  const keys = new RedisKeys(`contract-${process.pid}-${prefixCounter}:`);
  return {
    users: new RedisUsers(on, keys),
    devices: new RedisDevices(on, keys),
    activationCodes: new RedisActivationCodes(on, keys),
    replayCache: new RedisReplayCache(on, keys),
    requests: new RedisRequests(on, keys),
  };
}

const MINUTE = 60_000;
const RETENTION_SECONDS = 3600;

describe.each<StoreKind>(['memory', 'redis', 'redis-cluster'])('storage contract on the %s store', (store) => {
  let repos: Repositories;
  let clock: number;
  let loginCounter = 0;

  beforeEach(() => {
    repos = store === 'memory' ? memoryRepositories() : redisRepositories(store === 'redis-cluster' ? clusterConnection : connection);
    clock = Date.now();
  });

  /** A strictly increasing timestamp, so creation orders are unambiguous. */
  const tick = (): number => (clock += 10);

  async function createUser(userId: string, input: UserInput = {}): Promise<User> {
    const result = await repos.users.upsert(userId, input, tick());
    if (!result.ok) throw new Error(`could not create ${userId}: ${result.conflictingAlias} is taken`);
    return result.user;
  }

  function deviceFor(user: User, overrides: Partial<Device> = {}): Device {
    return {
      deviceId: newDeviceId(user.partition),
      userId: user.userId,
      platform: 'android',
      publicJwk: { kty: 'EC', crv: 'P-256', x: newSecret(32), y: newSecret(32) },
      jwkThumbprint: newSecret(32),
      alg: 'ES256',
      tokenHash: sha256Base64url(newSecret()),
      pushTokenStatus: 'none',
      status: 'active',
      createdAt: tick(),
      ...overrides,
    };
  }

  async function enrol(user: User, overrides: Partial<Device> = {}): Promise<Device> {
    const device = deviceFor(user, overrides);
    await repos.devices.create(device);
    return device;
  }

  async function reachableUser(userId: string): Promise<User> {
    const user = await createUser(userId);
    await enrol(user);
    return user;
  }

  /** A draft as /authentication/start builds it: the id derives from the partition and the login id. */
  function draftFor(user: User | null, options: { identifier?: string; createdAt?: number; ttlMs?: number } = {}): RequestDraft {
    loginCounter += 1;
    const identifier = options.identifier ?? user?.userId ?? `unknown-${loginCounter}`;
    const partition = user?.partition ?? partitionForUnknownIdentifier(normalizeIdentifier(identifier));
    const loginId = `login-${loginCounter}`;
    const createdAt = options.createdAt ?? tick();
    return {
      requestId: requestIdFor(partition, loginId),
      partition,
      loginId,
      loginState: `state-${loginCounter}`,
      userId: user?.userId ?? null,
      userIdentifier: identifier,
      clientId: 'pos',
      bindingMessage: 'Pay 50 EUR',
      requestedScopes: [{ name: 'openid' }, { name: 'payments', display_name: 'Make payments' }],
      createdAt,
      expiresAt: createdAt + (options.ttlMs ?? 2 * MINUTE),
    };
  }

  function viewOf(draft: RequestDraft): ConsentView {
    return {
      request_id: draft.requestId,
      client: { id: 'pos', name: 'Corner Shop POS' },
      binding_message: draft.bindingMessage ?? '',
      scopes: draft.requestedScopes,
      created_at: new Date(draft.createdAt).toISOString(),
      expires_at: new Date(draft.expiresAt).toISOString(),
    };
  }

  async function createPending(user: User, options: { createdAt?: number; ttlMs?: number } = {}): Promise<RequestDraft> {
    const draft = draftFor(user, options);
    expect(await repos.requests.create(draft, RETENTION_SECONDS)).toEqual({ created: true, status: 'pending' });
    return draft;
  }

  /** A pending request whose device view is ready; returns the draft and the view's hash. */
  async function createReady(user: User, options: { createdAt?: number; ttlMs?: number } = {}): Promise<{ draft: RequestDraft; hash: string }> {
    const draft = await createPending(user, options);
    const view = viewOf(draft);
    const hash = consentHash(view);
    expect((await repos.requests.setView(draft.requestId, view, hash)).ok).toBe(true);
    return { draft, hash };
  }

  function deviceDecision(action: 'approve' | 'deny', tag = 'jws'): DecisionRecord {
    return { action, channel: 'device', decidedAt: clock, deviceId: `device-${tag}`, jws: tag, ...(action === 'approve' ? { grantedScopes: ['openid'] } : {}) };
  }

  // -------------------------------------------------------------------------------------------
  describe('UserRepository', () => {
    it('creates a user with a partition, normalised aliases and timestamps', async () => {
      const now = tick();
      const result = await repos.users.upsert('alice', { displayName: 'Alice', aliases: [' Alice@Example.COM ', '+447700900123'] }, now);
      expect(result).toEqual({
        ok: true,
        user: {
          userId: 'alice',
          partition: expect.stringMatching(new RegExp(`^[A-Za-z0-9_-]{${PARTITION_LENGTH}}$`)),
          displayName: 'Alice',
          aliases: ['alice@example.com', '+447700900123'],
          disabled: false,
          createdAt: now,
          updatedAt: now,
        },
      });
      expect(await repos.users.get('alice')).toEqual(result.ok ? result.user : undefined);
    });

    it('resolves the user id and every alias to the same user', async () => {
      const alice = await createUser('alice', { aliases: ['alice@example.com', '+447700900123'] });
      const ref = { userId: 'alice', partition: alice.partition };
      expect(await repos.users.resolve('alice')).toEqual(ref);
      expect(await repos.users.resolve('alice@example.com')).toEqual(ref);
      expect(await repos.users.resolve('+447700900123')).toEqual(ref);
    });

    it('resolves a mixed-case user id through its normalised form', async () => {
      const user = await createUser('Bob.Smith');
      expect(await repos.users.resolve('bob.smith')).toEqual({ userId: 'Bob.Smith', partition: user.partition });
    });

    it('resolves and gets nothing for an unknown identifier', async () => {
      await createUser('alice');
      expect(await repos.users.resolve('nobody')).toBeUndefined();
      expect(await repos.users.get('nobody')).toBeUndefined();
    });

    it('keeps the fields an update leaves out, and the partition and creation time', async () => {
      const created = await createUser('alice', { displayName: 'Alice', aliases: ['alice@example.com'], disabled: true });
      const now = tick();
      const updated = await repos.users.upsert('alice', {}, now);
      expect(updated).toEqual({ ok: true, user: { ...created, updatedAt: now } });
    });

    it('replaces the aliases on update and frees the dropped ones', async () => {
      await createUser('alice', { aliases: ['old@example.com', 'kept@example.com'] });
      await createUser('alice', { aliases: ['kept@example.com', 'new@example.com'] });
      expect(await repos.users.resolve('old@example.com')).toBeUndefined();
      expect((await repos.users.resolve('new@example.com'))?.userId).toBe('alice');
      expect((await repos.users.resolve('kept@example.com'))?.userId).toBe('alice');
      await createUser('bob', { aliases: ['old@example.com'] });
      expect((await repos.users.resolve('old@example.com'))?.userId).toBe('bob');
    });

    it('refuses an alias of another user and changes nothing for either user', async () => {
      const alice = await createUser('alice', { aliases: ['alice@example.com'] });
      const bob = await createUser('bob', { displayName: 'Bob', aliases: ['bob@example.com'] });

      const result = await repos.users.upsert('bob', { displayName: 'Robert', aliases: ['robert@example.com', 'Alice@Example.com'] }, tick());

      expect(result).toEqual({ ok: false, conflictingAlias: 'alice@example.com' });
      expect(await repos.users.get('alice')).toEqual(alice);
      expect(await repos.users.get('bob')).toEqual(bob);
      expect(await repos.users.resolve('robert@example.com')).toBeUndefined();
      expect((await repos.users.resolve('bob@example.com'))?.userId).toBe('bob');
      expect((await repos.users.resolve('alice@example.com'))?.userId).toBe('alice');
    });

    it('refuses a new user whose alias is another user id', async () => {
      await createUser('alice');
      expect(await repos.users.upsert('carol', { aliases: ['ALICE'] }, tick())).toEqual({ ok: false, conflictingAlias: 'alice' });
      expect(await repos.users.get('carol')).toBeUndefined();
    });

    it('says an unknown user does not exist', async () => {
      expect(await repos.users.reachability({ userId: 'ghost', partition: newPartition() })).toEqual({
        exists: false,
        disabled: false,
        activeDevices: 0,
        hasEmailAlias: false,
      });
    });

    it('says whether the user has an e-mail alias (for the e-mail channel)', async () => {
      const withMail = await createUser('mailer', { aliases: ['mailer@example.com'] });
      const withoutMail = await createUser('phoner', { aliases: ['+447700900123'] });
      expect(await repos.users.reachability({ userId: 'mailer', partition: withMail.partition })).toMatchObject({ hasEmailAlias: true });
      expect(await repos.users.reachability({ userId: 'phoner', partition: withoutMail.partition })).toMatchObject({ hasEmailAlias: false });
    });

    it('counts only active devices and reports the disabled flag', async () => {
      const alice = await createUser('alice');
      const ref = { userId: 'alice', partition: alice.partition };
      expect(await repos.users.reachability(ref)).toEqual({ exists: true, disabled: false, activeDevices: 0, hasEmailAlias: false });

      const first = await enrol(alice);
      await enrol(alice);
      expect(await repos.users.reachability(ref)).toEqual({ exists: true, disabled: false, activeDevices: 2, hasEmailAlias: false });

      await repos.devices.revoke(first.deviceId, tick());
      await createUser('alice', { disabled: true });
      expect(await repos.users.reachability(ref)).toEqual({ exists: true, disabled: true, activeDevices: 1, hasEmailAlias: false });
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('DeviceRepository', () => {
    it('gives back a created device as it was stored', async () => {
      const alice = await createUser('alice');
      const device = await enrol(alice, { name: "Alice's phone", pushToken: 'push-1', pushTokenStatus: 'active', lastSeenAt: clock });
      expect(await repos.devices.get(device.deviceId)).toEqual(device);
    });

    it('finds an active device by the hash of its token', async () => {
      const alice = await createUser('alice');
      const device = await enrol(alice);
      expect(await repos.devices.findByTokenHash(device.tokenHash)).toEqual(device);
      expect(await repos.devices.findByTokenHash(sha256Base64url('some other token'))).toBeUndefined();
    });

    it('gets nothing for an unknown device id', async () => {
      const alice = await createUser('alice');
      expect(await repos.devices.get(newDeviceId(alice.partition))).toBeUndefined();
    });

    it("lists the user's devices, active and revoked, oldest first, and nobody else's", async () => {
      const alice = await createUser('alice');
      const bob = await createUser('bob');
      const first = await enrol(alice);
      await enrol(bob);
      const second = await enrol(alice);
      await repos.devices.revoke(first.deviceId, tick());

      const listed = await repos.devices.listForUser('alice', alice.partition);
      expect(listed.map((device) => [device.deviceId, device.status])).toEqual([
        [first.deviceId, 'revoked'],
        [second.deviceId, 'active'],
      ]);
      expect(await repos.devices.listForUser('carol', newPartition())).toEqual([]);
    });

    it('updates only the given fields of an active device', async () => {
      const alice = await createUser('alice');
      const device = await enrol(alice, { name: 'Old name' });
      const seenAt = tick();
      const updated = await repos.devices.update(device.deviceId, { pushToken: 'push-2', pushTokenStatus: 'active', lastSeenAt: seenAt });
      const expected: Device = { ...device, pushToken: 'push-2', pushTokenStatus: 'active', lastSeenAt: seenAt };
      expect(updated).toEqual(expected);
      expect(await repos.devices.get(device.deviceId)).toEqual(expected);
    });

    it('does not update a revoked device', async () => {
      const alice = await createUser('alice');
      const device = await enrol(alice, { name: 'Old name' });
      await repos.devices.revoke(device.deviceId, tick());
      expect(await repos.devices.update(device.deviceId, { name: 'New name' })).toBeUndefined();
      expect((await repos.devices.get(device.deviceId))?.name).toBe('Old name');
    });

    it('revokes once: the device is marked revoked with the time, and its token no longer finds it', async () => {
      const alice = await createUser('alice');
      const device = await enrol(alice);
      const revokedAt = tick();
      expect(await repos.devices.revoke(device.deviceId, revokedAt)).toBe(true);
      expect(await repos.devices.get(device.deviceId)).toEqual({ ...device, status: 'revoked', revokedAt });
      expect(await repos.devices.findByTokenHash(device.tokenHash)).toBeUndefined();
      expect(await repos.devices.revoke(device.deviceId, tick())).toBe(false);
    });

    it('does not revoke an unknown device', async () => {
      const alice = await createUser('alice');
      expect(await repos.devices.revoke(newDeviceId(alice.partition), tick())).toBe(false);
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('ActivationCodeRepository', () => {
    it('gives the user of a code once, then nothing', async () => {
      await repos.activationCodes.save('code-hash', 'alice', 600);
      expect(await repos.activationCodes.consume('code-hash')).toBe('alice');
      expect(await repos.activationCodes.consume('code-hash')).toBeUndefined();
    });

    it('knows nothing of a code never saved', async () => {
      expect(await repos.activationCodes.consume('never-saved')).toBeUndefined();
    });

    it('forgets a code once its time to live has passed', async () => {
      // consume() is destructive, so the expiry is watched on probe codes saved just after the code
      // under test with the same TTL: once a probe is gone, the code saved before it is too.
      await repos.activationCodes.save('expiring', 'alice', 1);
      const probes = Array.from({ length: 60 }, (_, i) => `probe-${i}`);
      for (const probe of probes) await repos.activationCodes.save(probe, 'alice', 1);

      let expired = false;
      for (const probe of probes) {
        if ((await repos.activationCodes.consume(probe)) === undefined) {
          expired = true;
          break;
        }
        await sleep(100);
      }
      expect(expired).toBe(true);
      expect(await repos.activationCodes.consume('expiring')).toBeUndefined();
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('ReplayCache', () => {
    it('accepts an id the first time and refuses it afterwards', async () => {
      expect(await repos.replayCache.firstUse('dpop:device-1', 'jti-1', 60)).toBe(true);
      expect(await repos.replayCache.firstUse('dpop:device-1', 'jti-1', 60)).toBe(false);
      expect(await repos.replayCache.firstUse('dpop:device-1', 'jti-1', 60)).toBe(false);
    });

    it('keeps scopes and ids apart', async () => {
      expect(await repos.replayCache.firstUse('dpop:device-1', 'jti-1', 60)).toBe(true);
      expect(await repos.replayCache.firstUse('dpop:device-2', 'jti-1', 60)).toBe(true);
      expect(await repos.replayCache.firstUse('dpop:device-1', 'jti-2', 60)).toBe(true);
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('RequestRepository', () => {
    describe('create', () => {
      it('stores a request of a reachable user as pending, with no view, decision or delivery', async () => {
        const alice = await reachableUser('alice');
        const draft = await createPending(alice);
        expect(await repos.requests.get(draft.requestId)).toEqual({ ...draft, status: 'pending', deliveries: [] });
      });

      it.each([
        ['an identifier naming nobody', 'unknown_user'],
        ['a user id with no user record', 'unknown_user'],
        ['a disabled user', 'user_disabled'],
        ['a user without devices', 'no_active_device'],
        ['a user whose only device is revoked', 'no_active_device'],
      ])('stores a request for %s already denied (%s)', async (situation, reason) => {
        let draft: RequestDraft;
        if (situation === 'an identifier naming nobody') {
          draft = draftFor(null, { identifier: 'who-is-this' });
        } else if (situation === 'a user id with no user record') {
          draft = draftFor({ userId: 'ghost', partition: newPartition(), aliases: [], disabled: false, createdAt: 0, updatedAt: 0 });
        } else if (situation === 'a disabled user') {
          await reachableUser('dora');
          draft = draftFor(await createUser('dora', { disabled: true }));
        } else if (situation === 'a user without devices') {
          draft = draftFor(await createUser('erin'));
        } else {
          const user = await createUser('frank');
          const device = await enrol(user);
          await repos.devices.revoke(device.deviceId, tick());
          draft = draftFor(user);
        }

        expect(await repos.requests.create(draft, RETENTION_SECONDS)).toEqual({ created: true, status: 'denied', reason });
        expect(await repos.requests.get(draft.requestId)).toEqual({
          ...draft,
          status: 'denied',
          deliveries: [],
          decision: { action: 'deny', channel: 'system', decidedAt: draft.createdAt, reason, error: 'access_denied' },
        });
      });

      it('does not list a denied request as pending', async () => {
        const erin = await createUser('erin');
        const draft = draftFor(erin);
        await repos.requests.create(draft, RETENTION_SECONDS);
        expect(await repos.requests.listPending('erin', erin.partition, clock)).toEqual([]);
      });

      it('creates nothing for a repeated request id and leaves the first untouched', async () => {
        const alice = await reachableUser('alice');
        const draft = await createPending(alice);
        const again = { ...draft, loginState: 'another-state', bindingMessage: 'Pay 5000 EUR' };
        expect(await repos.requests.create(again, RETENTION_SECONDS)).toEqual({ created: false });
        expect(await repos.requests.get(draft.requestId)).toMatchObject({ loginState: draft.loginState, bindingMessage: 'Pay 50 EUR' });
      });

      it('gets nothing for an unknown request id', async () => {
        expect(await repos.requests.get(requestIdFor(newPartition(), 'never-started'))).toBeUndefined();
      });
    });

    describe('setView', () => {
      it('stores the view and its hash on a pending request', async () => {
        const alice = await reachableUser('alice');
        const draft = await createPending(alice);
        const view = viewOf(draft);
        const result = await repos.requests.setView(draft.requestId, view, consentHash(view));
        expect(result).toEqual({ ok: true, request: { ...draft, status: 'pending', deliveries: [], view, consentHash: consentHash(view) } });
        expect(await repos.requests.get(draft.requestId)).toEqual(result.ok ? result.request : undefined);
      });

      it('refuses once the request is no longer pending', async () => {
        const alice = await reachableUser('alice');
        const { draft } = await createReady(alice);
        await repos.requests.decide(draft.requestId, deviceDecision('deny'), clock);
        expect(await repos.requests.setView(draft.requestId, viewOf(draft), 'other-hash')).toEqual({ ok: false, reason: 'not_pending' });
      });

      it('refuses for an unknown request', async () => {
        const draft = draftFor(await createUser('alice'));
        expect(await repos.requests.setView(draft.requestId, viewOf(draft), 'hash')).toEqual({ ok: false, reason: 'not_found' });
      });
    });

    describe('decide', () => {
      it('moves a pending request with a matching view to approved, keeping the decision', async () => {
        const alice = await reachableUser('alice');
        const { draft, hash } = await createReady(alice);
        const decision = deviceDecision('approve');
        const result = await repos.requests.decide(draft.requestId, decision, clock, hash);
        expect(result).toEqual({ ok: true, request: expect.objectContaining({ status: 'approved', decision }) });
        expect(await repos.requests.get(draft.requestId)).toMatchObject({ status: 'approved', decision });
      });

      it('moves a pending request to denied on a deny', async () => {
        const alice = await reachableUser('alice');
        const { draft, hash } = await createReady(alice);
        expect(await repos.requests.decide(draft.requestId, deviceDecision('deny'), clock, hash)).toMatchObject({
          ok: true,
          request: { status: 'denied' },
        });
      });

      it('lets exactly one of 20 concurrent decisions win', async () => {
        const alice = await reachableUser('alice');
        const { draft, hash } = await createReady(alice);
        const decisions = Array.from({ length: 20 }, (_, i) => deviceDecision(i % 2 === 0 ? 'approve' : 'deny', `jws-${i}`));

        const results = await Promise.all(decisions.map((decision) => repos.requests.decide(draft.requestId, decision, clock, hash)));

        const winners = results.flatMap((result, i) => (result.ok ? [decisions[i]] : []));
        expect(winners).toHaveLength(1);
        expect(results.filter((result) => !result.ok)).toEqual(Array.from({ length: 19 }, () => ({ ok: false, reason: 'not_pending' })));
        expect((await repos.requests.get(draft.requestId))?.decision).toEqual(winners[0]);
      });

      it('refuses a second decision', async () => {
        const alice = await reachableUser('alice');
        const { draft, hash } = await createReady(alice);
        await repos.requests.decide(draft.requestId, deviceDecision('approve'), clock, hash);
        expect(await repos.requests.decide(draft.requestId, deviceDecision('deny'), clock, hash)).toEqual({ ok: false, reason: 'not_pending' });
      });

      it('refuses once the expiry has passed, and the request stays pending', async () => {
        const alice = await reachableUser('alice');
        const { draft, hash } = await createReady(alice);
        expect(await repos.requests.decide(draft.requestId, deviceDecision('approve'), draft.expiresAt, hash)).toEqual({
          ok: false,
          reason: 'expired',
        });
        expect((await repos.requests.get(draft.requestId))?.status).toBe('pending');
      });

      it('refuses a decision made on another view (hash differs)', async () => {
        const alice = await reachableUser('alice');
        const { draft } = await createReady(alice);
        expect(await repos.requests.decide(draft.requestId, deviceDecision('approve'), clock, 'A'.repeat(43))).toEqual({
          ok: false,
          reason: 'view_changed',
        });
        expect((await repos.requests.get(draft.requestId))?.status).toBe('pending');
      });

      it('refuses a device decision before the view is ready', async () => {
        const alice = await reachableUser('alice');
        const draft = await createPending(alice);
        expect(await repos.requests.decide(draft.requestId, deviceDecision('approve'), clock, 'A'.repeat(43))).toEqual({
          ok: false,
          reason: 'not_ready',
        });
      });

      it('accepts a decision of the service itself (no hash) before the view is ready', async () => {
        const alice = await reachableUser('alice');
        const draft = await createPending(alice);
        const decision: DecisionRecord = { action: 'deny', channel: 'system', decidedAt: clock, reason: 'shutdown', error: 'access_denied' };
        expect(await repos.requests.decide(draft.requestId, decision, clock)).toMatchObject({ ok: true, request: { status: 'denied', decision } });
      });

      it('refuses for an unknown request', async () => {
        const draft = draftFor(await reachableUser('alice'));
        expect(await repos.requests.decide(draft.requestId, deviceDecision('approve'), clock, 'hash')).toEqual({ ok: false, reason: 'not_found' });
      });
    });

    describe('complete', () => {
      it('refuses a request that was not decided', async () => {
        const alice = await reachableUser('alice');
        const { draft } = await createReady(alice);
        expect(await repos.requests.complete(draft.requestId, { result: 'accepted', attempts: 1, completedAt: clock })).toEqual({
          ok: false,
          reason: 'not_decided',
        });
        expect((await repos.requests.get(draft.requestId))?.status).toBe('pending');
      });

      it('moves an approved request to completed with its outcome', async () => {
        const alice = await reachableUser('alice');
        const { draft, hash } = await createReady(alice);
        await repos.requests.decide(draft.requestId, deviceDecision('approve'), clock, hash);
        const outcome = { result: 'accepted' as const, attempts: 2, completedAt: tick() };
        expect(await repos.requests.complete(draft.requestId, outcome)).toMatchObject({ ok: true, request: { status: 'completed', outcome } });
      });

      it('moves a decided request to failed when the outcome failed', async () => {
        const alice = await reachableUser('alice');
        const { draft, hash } = await createReady(alice);
        await repos.requests.decide(draft.requestId, deviceDecision('deny'), clock, hash);
        const outcome = { result: 'failed' as const, attempts: 5, completedAt: tick(), error: 'http_400' };
        expect(await repos.requests.complete(draft.requestId, outcome)).toMatchObject({ ok: true, request: { status: 'failed', outcome } });
      });

      it('completes a request denied by the service at creation', async () => {
        const draft = draftFor(null);
        await repos.requests.create(draft, RETENTION_SECONDS);
        const outcome = { result: 'rejected' as const, attempts: 1, completedAt: tick() };
        expect(await repos.requests.complete(draft.requestId, outcome)).toMatchObject({ ok: true, request: { status: 'completed', outcome } });
      });

      it('completes only once', async () => {
        const alice = await reachableUser('alice');
        const { draft, hash } = await createReady(alice);
        await repos.requests.decide(draft.requestId, deviceDecision('approve'), clock, hash);
        await repos.requests.complete(draft.requestId, { result: 'accepted', attempts: 1, completedAt: tick() });
        expect(await repos.requests.complete(draft.requestId, { result: 'failed', attempts: 2, completedAt: tick() })).toEqual({
          ok: false,
          reason: 'not_decided',
        });
        expect((await repos.requests.get(draft.requestId))?.outcome?.result).toBe('accepted');
      });
    });

    describe('expire', () => {
      it('refuses before the expiry', async () => {
        const alice = await reachableUser('alice');
        const { draft } = await createReady(alice);
        expect(await repos.requests.expire(draft.requestId, draft.expiresAt - 1)).toEqual({ ok: false, reason: 'not_ready' });
        expect((await repos.requests.get(draft.requestId))?.status).toBe('pending');
      });

      it('moves a pending request to expired once the expiry has passed, and then it cannot be decided', async () => {
        const alice = await reachableUser('alice');
        const { draft, hash } = await createReady(alice);
        expect(await repos.requests.expire(draft.requestId, draft.expiresAt)).toMatchObject({ ok: true, request: { status: 'expired' } });
        expect(await repos.requests.decide(draft.requestId, deviceDecision('approve'), clock, hash)).toEqual({ ok: false, reason: 'not_pending' });
      });

      it('leaves a decided request alone', async () => {
        const alice = await reachableUser('alice');
        const { draft, hash } = await createReady(alice);
        await repos.requests.decide(draft.requestId, deviceDecision('approve'), clock, hash);
        expect(await repos.requests.expire(draft.requestId, draft.expiresAt + 1)).toEqual({ ok: false, reason: 'not_pending' });
        expect((await repos.requests.get(draft.requestId))?.status).toBe('approved');
      });

      it('refuses for an unknown request', async () => {
        const draft = draftFor(await reachableUser('alice'));
        expect(await repos.requests.expire(draft.requestId, draft.expiresAt)).toEqual({ ok: false, reason: 'not_found' });
      });
    });

    describe('expiry tracking', () => {
      it('gives a tracked request once its expiry has passed, oldest first, not before', async () => {
        await repos.requests.trackExpiry('req-late', 2_000);
        await repos.requests.trackExpiry('req-early', 1_000);
        await repos.requests.trackExpiry('req-future', 9_000);
        expect(await repos.requests.leaseExpired(999, 30_000, 10)).toEqual([]);
        expect(await repos.requests.leaseExpired(2_000, 30_000, 10)).toEqual(['req-early', 'req-late']);
      });

      it('leases what it gives: no second sweep takes it until the lease ends, then it comes due again', async () => {
        await repos.requests.trackExpiry('req-a', 1_000);
        expect(await repos.requests.leaseExpired(1_000, 5_000, 10)).toEqual(['req-a']);
        expect(await repos.requests.leaseExpired(5_999, 5_000, 10)).toEqual([]);
        expect(await repos.requests.leaseExpired(6_000, 5_000, 10)).toEqual(['req-a']);
      });

      it('forgets what was dealt with, and gives at most the limit at a time', async () => {
        for (const id of ['req-1', 'req-2', 'req-3']) await repos.requests.trackExpiry(id, 1_000);
        const first = await repos.requests.leaseExpired(1_000, 5_000, 2);
        expect(first).toHaveLength(2);
        await repos.requests.forgetExpiry(first);
        expect(await repos.requests.leaseExpired(1_000, 5_000, 10)).toEqual(['req-1', 'req-2', 'req-3'].filter((id) => !first.includes(id)));
        await repos.requests.forgetExpiry(['req-1', 'req-2', 'req-3']);
        expect(await repos.requests.leaseExpired(100_000, 5_000, 10)).toEqual([]);
      });
    });

    describe('listPending', () => {
      it("lists only the user's ready, undecided, unexpired requests, oldest first", async () => {
        const alice = await reachableUser('alice');
        const bob = await reachableUser('bob');
        const base = tick();

        const newer = await createReady(alice, { createdAt: base + 300 });
        const older = await createReady(alice, { createdAt: base + 100 });
        await createPending(alice, { createdAt: base + 50 }); // view not ready
        const shortLived = await createReady(alice, { createdAt: base + 10, ttlMs: 1_000 }); // expired at `now` below
        const decided = await createReady(alice, { createdAt: base + 20 });
        await repos.requests.decide(decided.draft.requestId, deviceDecision('deny'), base + 400, decided.hash);
        const expired = await createReady(alice, { createdAt: base + 30 });
        await repos.requests.expire(expired.draft.requestId, expired.draft.expiresAt);
        await createReady(bob, { createdAt: base + 200 });

        const now = shortLived.draft.expiresAt;
        const listed = await repos.requests.listPending('alice', alice.partition, now);

        expect(listed.map((request) => request.requestId)).toEqual([older.draft.requestId, newer.draft.requestId]);
        expect(listed[0]).toMatchObject({ status: 'pending', consentHash: older.hash, view: viewOf(older.draft) });
      });

      it('orders requests created at the same time by request id', async () => {
        const alice = await reachableUser('alice');
        const at = tick();
        const ids = [(await createReady(alice, { createdAt: at })).draft.requestId, (await createReady(alice, { createdAt: at })).draft.requestId];
        const listed = await repos.requests.listPending('alice', alice.partition, at);
        expect(listed.map((request) => request.requestId)).toEqual([...ids].sort());
      });

      it('is empty for a user with no requests', async () => {
        const alice = await reachableUser('alice');
        expect(await repos.requests.listPending('alice', alice.partition, clock)).toEqual([]);
      });
    });

    describe('addDelivery', () => {
      it('appends delivery records in order', async () => {
        const alice = await reachableUser('alice');
        const { draft } = await createReady(alice);
        const first = { channel: 'push', result: 'failed' as const, at: tick(), deviceId: 'd1', errorCode: 'unregistered' };
        const second = { channel: 'poll', result: 'skipped' as const, at: tick(), deviceId: 'd2' };
        await repos.requests.addDelivery(draft.requestId, first);
        await repos.requests.addDelivery(draft.requestId, second);
        expect((await repos.requests.get(draft.requestId))?.deliveries).toEqual([first, second]);
      });

      it('keeps deliveries across later transitions', async () => {
        const alice = await reachableUser('alice');
        const { draft, hash } = await createReady(alice);
        const delivery = { channel: 'poll', result: 'skipped' as const, at: tick() };
        await repos.requests.addDelivery(draft.requestId, delivery);
        const decided = await repos.requests.decide(draft.requestId, deviceDecision('approve'), clock, hash);
        expect(decided).toMatchObject({ ok: true, request: { deliveries: [delivery] } });
      });

      it('creates nothing for an unknown request', async () => {
        const draft = draftFor(await reachableUser('alice'));
        await repos.requests.addDelivery(draft.requestId, { channel: 'poll', result: 'skipped', at: tick() });
        expect(await repos.requests.get(draft.requestId)).toBeUndefined();
      });
    });
  });
});
