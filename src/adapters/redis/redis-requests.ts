import type {
  AuthenticationRequest,
  ConsentView,
  DecisionRecord,
  DeliveryRecord,
  OutcomeRecord,
  RequestDraft,
  RequestStatus,
} from '../../domain/authentication-request.js';
import { DAY_COUNTER_TTL_MS, type LimitReason, type UnreachableReason } from '../../domain/user.js';
import { partitionOf } from '../../domain/identifiers.js';
import type { CreatePolicy, CreateRequestResult, RequestRepository, TransitionResult } from '../../ports/requests.js';
import { LuaScript } from './lua-script.js';
import type { RedisConnection } from './redis-client.js';
import type { RedisKeys } from './redis-keys.js';
import { deliveryLine, draftLines, requestFromRecord, viewLine } from './request-record.js';

/*
 * A request is one string of `name=value` lines (its format: request-record.ts), which the scripts
 * below read and edit a line at a time. It lives until expiry plus the retention period (Redis TTL),
 * so decisions that come late get a 410 and operators can read what happened; nothing else deletes it.
 *
 * Redis memory per prepared pending request (`npm run bench -- --sections memory`, MEMORY USAGE
 * summed over 500 requests; docs/benchmarks.md): 906 B, where the hash, a per-day counter key and the
 * expiry index took 1,755 B. The record is 616 B (457 bytes of lines in a 512-byte allocation; the hash
 * was 1,392 B), the user's pending index with the day count 152 B (136 B plus 88 B for the counter
 * key before), the expiry index entry 135 B. The record grows in the allocator's steps (128 bytes
 * between 512 and 1,024): some 50 bytes more content — a longer state, logo URL, client name — cost
 * 128 B more.
 */

/**
 * The lines of a record: `line_of` finds where a field's line starts and ends, `field` gives its value,
 * `with_field` replaces or appends it. Names are found as plain text, so a name needs no escaping.
 */
const RECORD_LINES = `
local function line_of(record, name)
  local at = string.find('\\n' .. record, '\\n' .. name .. '=', 1, true)
  if not at then return nil end
  return at, string.find(record, '\\n', at, true)
end
local function field(record, name)
  local at, stop = line_of(record, name)
  if not at then return nil end
  return string.sub(record, at + #name + 1, stop - 1)
end
local function with_field(record, name, value)
  local at, stop = line_of(record, name)
  if not at then return record .. name .. '=' .. value .. '\\n' end
  return string.sub(record, 1, at - 1) .. name .. '=' .. value .. string.sub(record, stop)
end
`;

/**
 * Creates the request unless it exists, deciding in the same step whether the user can be reached and
 * whether a notification limit stops it: unknown, disabled or unreachable users, and users at their
 * limit, get a request that is already denied by the service (and nothing is sent to them). A user
 * without an active device is reachable when the e-mail channel is on and one of their aliases is an
 * e-mail address. Only a request that goes on to reach the user counts towards the daily limit.
 *
 * The user's index holds their pending requests scored by expiry and, under negative scores, how many
 * requests reached them on a UTC day (member `day:<days since the epoch>`, score minus the count): one
 * key per user instead of one more per user and day. Counts older than the day before are dropped; the
 * index lives as long as the longest-lived record it lists and at least DAY_COUNTER_TTL_MS after a count,
 * so a count holds across midnight skew between hosts as a per-day key with that TTL did.
 * KEYS: request, user, active devices, the user's index. ARGV: draft lines, user known, expires_at,
 * pexpireat, request id, now, e-mail channel ('1'/'0'), max pending ('' = no limit), max per day
 * ('' = no limit), day number of now, counter TTL (ms), description of each limit.
 */
const CREATE = new LuaScript(
  `
if redis.call('EXISTS', KEYS[1]) == 1 then return {0} end
local today = tonumber(ARGV[10])
local counter = 'day:' .. ARGV[10]
local reason = ''
local description = ''
if ARGV[2] ~= '1' or redis.call('HGET', KEYS[2], 'disabled') == false then reason = 'unknown_user'
elseif redis.call('HGET', KEYS[2], 'disabled') == '1' then reason = 'user_disabled'
elseif redis.call('SCARD', KEYS[3]) == 0 and not (ARGV[7] == '1' and redis.call('HGET', KEYS[2], 'email') == '1') then reason = 'no_active_device'
elseif ARGV[8] ~= '' and redis.call('ZCOUNT', KEYS[4], '(' .. ARGV[6], '+inf') >= tonumber(ARGV[8]) then
  reason = 'too_many_pending'
  description = ARGV[12]
elseif ARGV[9] ~= '' and -tonumber(redis.call('ZSCORE', KEYS[4], counter) or '0') >= tonumber(ARGV[9]) then
  reason = 'daily_limit_reached'
  description = ARGV[13]
end
local record
if reason == '' then
  record = 'st=pending\\nex=' .. ARGV[3] .. '\\n' .. ARGV[1]
  redis.call('ZADD', KEYS[4], ARGV[3], ARGV[5])
  local keep_until = tonumber(ARGV[4])
  if ARGV[9] ~= '' then
    redis.call('ZINCRBY', KEYS[4], -1, counter)
    for _, day in ipairs(redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', '(0')) do
      if tonumber(string.sub(day, 5)) < today - 1 then redis.call('ZREM', KEYS[4], day) end
    end
    keep_until = math.max(keep_until, tonumber(ARGV[6]) + tonumber(ARGV[11]))
  end
  if redis.call('PEXPIRETIME', KEYS[4]) < keep_until then redis.call('PEXPIREAT', KEYS[4], string.format('%d', keep_until)) end
else
  local decision = '{"action":"deny","channel":"system","decidedAt":' .. ARGV[6] .. ',"reason":"' .. reason .. '","error":"access_denied"'
  if description ~= '' then decision = decision .. ',"description":' .. cjson.encode(description) end
  decision = decision .. '}'
  record = 'st=denied\\nex=' .. ARGV[3] .. '\\n' .. ARGV[1] .. 'dc=' .. decision .. '\\n'
end
redis.call('SET', KEYS[1], record)
redis.call('PEXPIREAT', KEYS[1], ARGV[4])
return {1, reason}`,
  4,
);

/** pending → final view. KEYS: request. ARGV: view line, hash. */
const SET_VIEW = new LuaScript(
  `${RECORD_LINES}
local record = redis.call('GET', KEYS[1])
if not record then return {'not_found'} end
if field(record, 'st') ~= 'pending' then return {'not_pending'} end
record = with_field(with_field(record, 'v', ARGV[1]), 'h', ARGV[2])
redis.call('SET', KEYS[1], record, 'KEEPTTL')
return {'ok', record}`,
  1,
);

/**
 * pending → approved/denied, once. KEYS: request, the user's index. ARGV: new status, decision, now,
 * expected consent hash ('' for decisions of the service itself), request id.
 */
const DECIDE = new LuaScript(
  `${RECORD_LINES}
local record = redis.call('GET', KEYS[1])
if not record then return {'not_found'} end
if field(record, 'st') ~= 'pending' then return {'not_pending'} end
if tonumber(ARGV[3]) >= tonumber(field(record, 'ex')) then return {'expired'} end
if ARGV[4] ~= '' then
  local hash = field(record, 'h')
  if not hash then return {'not_ready'} end
  if hash ~= ARGV[4] then return {'view_changed'} end
end
record = with_field(with_field(record, 'st', ARGV[1]), 'dc', ARGV[2])
redis.call('SET', KEYS[1], record, 'KEEPTTL')
redis.call('ZREM', KEYS[2], ARGV[5])
return {'ok', record}`,
  2,
);

/** approved/denied → completed/failed. KEYS: request. ARGV: new status, outcome. */
const COMPLETE = new LuaScript(
  `${RECORD_LINES}
local record = redis.call('GET', KEYS[1])
if not record then return {'not_found'} end
local status = field(record, 'st')
if status ~= 'approved' and status ~= 'denied' then return {'not_decided'} end
record = with_field(with_field(record, 'st', ARGV[1]), 'oc', ARGV[2])
redis.call('SET', KEYS[1], record, 'KEEPTTL')
return {'ok', record}`,
  1,
);

/** pending → expired, only once the expiry has passed. KEYS: request, the user's index. ARGV: now, request id. */
const EXPIRE = new LuaScript(
  `${RECORD_LINES}
local record = redis.call('GET', KEYS[1])
if not record then return {'not_found'} end
if field(record, 'st') ~= 'pending' then return {'not_pending'} end
if tonumber(ARGV[1]) < tonumber(field(record, 'ex')) then return {'not_ready'} end
record = with_field(record, 'st', 'expired')
redis.call('SET', KEYS[1], record, 'KEEPTTL')
redis.call('ZREM', KEYS[2], ARGV[2])
return {'ok', record}`,
  2,
);

/** Stores the magic-link hash of a pending request. KEYS: request. ARGV: hash. */
const SET_MAGIC_LINK = new LuaScript(
  `${RECORD_LINES}
local record = redis.call('GET', KEYS[1])
if not record or field(record, 'st') ~= 'pending' then return 0 end
redis.call('SET', KEYS[1], with_field(record, 'lk', ARGV[1]), 'KEEPTTL')
return 1`,
  1,
);

/**
 * Appends a delivery record to an existing request. KEYS: request. ARGV: delivery line. Not APPEND:
 * Redis grows an appended string to twice its length ahead of time, and that room stays allocated.
 */
const ADD_DELIVERY = new LuaScript(
  `
local record = redis.call('GET', KEYS[1])
if not record then return 0 end
redis.call('SET', KEYS[1], record .. 'd=' .. ARGV[1] .. '\\n', 'KEEPTTL')
return 1`,
  1,
);

const DAY_MS = 24 * 3600 * 1000;

/** Adds a claim line to an existing request, once per token. KEYS: request. ARGV: token. */
const CLAIM = new LuaScript(
  `
local record = redis.call('GET', KEYS[1])
if not record then return 0 end
if string.find('\\n' .. record, '\\ncl=' .. ARGV[1] .. '\\n', 1, true) then return 0 end
redis.call('SET', KEYS[1], record .. 'cl=' .. ARGV[1] .. '\\n', 'KEEPTTL')
return 1`,
  1,
);
/**
 * Leases the due entries of the expiry index: they move to now + lease in one atomic step, so two
 * sweeps never take the same one, and one a crashed sweep never finished comes due again.
 */
const LEASE_EXPIRED = new LuaScript(
  `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local until_ms = tonumber(ARGV[1]) + tonumber(ARGV[3])
for _, id in ipairs(due) do redis.call('ZADD', KEYS[1], until_ms, id) end
return due`,
  1,
);

export class RedisRequests implements RequestRepository {
  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: RedisKeys,
  ) {}

  async create(draft: RequestDraft, retentionSeconds: number, policy: CreatePolicy = {}): Promise<CreateRequestResult> {
    const userId = draft.userId ?? '';
    const result = (await CREATE.run(
      this.redis,
      [
        this.keys.request(draft.requestId),
        this.keys.user(draft.partition, userId),
        this.keys.activeDevices(draft.partition, userId),
        this.keys.pendingRequests(draft.partition),
      ],
      [
        draftLines(draft),
        draft.userId === null ? '0' : '1',
        draft.expiresAt,
        draft.expiresAt + retentionSeconds * 1000,
        draft.requestId,
        draft.createdAt,
        policy.emailChannel === true ? '1' : '0',
        policy.maxPending ?? '',
        policy.maxPerDay ?? '',
        // The UTC day of utcDay(createdAt), as a number the script can compare.
        Math.floor(draft.createdAt / DAY_MS),
        DAY_COUNTER_TTL_MS,
        policy.limitDescriptions?.too_many_pending ?? '',
        policy.limitDescriptions?.daily_limit_reached ?? '',
      ],
    )) as [number, string?];
    if (result[0] === 0) return { created: false };
    const reason = result[1] ?? '';
    return reason === ''
      ? { created: true, status: 'pending' }
      : { created: true, status: 'denied', reason: reason as UnreachableReason | LimitReason };
  }

  async get(requestId: string): Promise<AuthenticationRequest | undefined> {
    return requestFromRecord(await this.redis.get(this.keys.request(requestId)), requestId);
  }

  async listPending(_userId: string, partition: string, now: number): Promise<AuthenticationRequest[]> {
    const index = this.keys.pendingRequests(partition);
    const ids = await this.redis.zrangebyscore(index, `(${now}`, '+inf');
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.get(this.keys.request(id));
    const results = (await pipeline.exec()) ?? [];
    const requests = results.flatMap(([error, record], index) => {
      if (error) throw error;
      const request = requestFromRecord(record as string | null, ids[index] ?? '');
      return request !== undefined && request.status === 'pending' && request.view !== undefined ? [request] : [];
    });
    return requests.sort((a, b) => a.createdAt - b.createdAt || a.requestId.localeCompare(b.requestId));
  }

  async setView(requestId: string, view: ConsentView, consentHash: string): Promise<TransitionResult> {
    // The draft the view is stored against never changes, so reading it first is safe.
    const request = await this.get(requestId);
    if (request === undefined) return { ok: false, reason: 'not_found' };
    return toTransition(await SET_VIEW.run(this.redis, [this.keys.request(requestId)], [viewLine(view, request), consentHash]), requestId);
  }

  async decide(requestId: string, decision: DecisionRecord, now: number, expectedConsentHash?: string): Promise<TransitionResult> {
    const status: RequestStatus = decision.action === 'approve' ? 'approved' : 'denied';
    return toTransition(
      await DECIDE.run(
        this.redis,
        [this.keys.request(requestId), this.keys.pendingRequests(partitionOf(requestId))],
        [status, JSON.stringify(decision), now, expectedConsentHash ?? '', requestId],
      ),
      requestId,
    );
  }

  async complete(requestId: string, outcome: OutcomeRecord): Promise<TransitionResult> {
    const status: RequestStatus = outcome.result === 'failed' ? 'failed' : 'completed';
    return toTransition(await COMPLETE.run(this.redis, [this.keys.request(requestId)], [status, JSON.stringify(outcome)]), requestId);
  }

  async expire(requestId: string, now: number): Promise<TransitionResult> {
    return toTransition(
      await EXPIRE.run(
        this.redis,
        [this.keys.request(requestId), this.keys.pendingRequests(partitionOf(requestId))],
        [now, requestId],
      ),
      requestId,
    );
  }

  async trackExpiry(requestId: string, expiresAt: number): Promise<void> {
    await this.redis.zadd(this.keys.expiring, expiresAt, requestId);
  }

  async leaseExpired(now: number, leaseMs: number, limit: number): Promise<string[]> {
    return (await LEASE_EXPIRED.run(this.redis, [this.keys.expiring], [now, limit, leaseMs])) as string[];
  }

  async forgetExpiry(requestIds: string[]): Promise<void> {
    if (requestIds.length > 0) await this.redis.zrem(this.keys.expiring, ...requestIds);
  }

  async claim(requestId: string, token: string): Promise<boolean> {
    if (token.includes('\n')) throw new Error('a claim token cannot hold a line break');
    return (await CLAIM.run(this.redis, [this.keys.request(requestId)], [token])) === 1;
  }

  async addDelivery(requestId: string, delivery: DeliveryRecord): Promise<void> {
    await ADD_DELIVERY.run(this.redis, [this.keys.request(requestId)], [deliveryLine(delivery)]);
  }

  async setMagicLink(requestId: string, secretHash: string): Promise<boolean> {
    return (await SET_MAGIC_LINK.run(this.redis, [this.keys.request(requestId)], [secretHash])) === 1;
  }
}

function toTransition(result: unknown, requestId: string): TransitionResult {
  const [outcome, record] = result as [string, string?];
  if (outcome !== 'ok') return { ok: false, reason: outcome as Exclude<TransitionResult, { ok: true }>['reason'] };
  const request = requestFromRecord(record, requestId);
  if (request === undefined) throw new Error('transition returned an unreadable request');
  return { ok: true, request };
}
