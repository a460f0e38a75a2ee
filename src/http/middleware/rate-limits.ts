/**
 * Rate limits (rate-limiter-flexible), one limiter per concern:
 *
 * - `activation`: wrong activation codes per source address ({@link guardActivation});
 * - `basicFailures`: failed HTTP Basic on /user/verify and /authentication/start per source address;
 * - `adminFailures`: failed admin bearer tokens per source address ({@link limitFailures} for both);
 * - `device`: calls per authenticated device; `admin`: admin API calls per source address ({@link limitCalls}).
 *
 * On Redis every process shares the counts; each Redis limiter has an in-memory `insuranceLimiter`, so
 * a Redis outage degrades to per-process counting instead of failing calls. Every rate-limiter operation
 * is on one key, so the keys work on a Redis Cluster without hash tags. Over a limit the answer is
 * `429 too_many_requests` with `Retry-After` in whole seconds.
 *
 * The source address is `req.ip`, which `TRUST_PROXY` decides (express `trust proxy`): without it the TCP
 * peer, whatever X-Forwarded-For says.
 */
import type { Request, RequestHandler, Response } from 'express';
import ipaddr from 'ipaddr.js';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { RateLimit, RateLimitsConfig } from '../../config/config.js';
import type { RedisConnection } from '../../adapters/redis/redis-client.js';
import { AppError } from '../../domain/errors.js';

export interface RateLimiters {
  activation: RateLimiterAbstract;
  basicFailures: FailureLimiter;
  adminFailures: FailureLimiter;
  device: RateLimiterAbstract;
  admin: RateLimiterAbstract;
}

/**
 * Counts failed authentications per key. Only a failure costs a store round trip — a success costs none,
 * so the authorization server's calls keep their Redis budget. A key over the limit is therefore
 * remembered here, in this process, until its window ends, and refused even with correct credentials
 * (otherwise a 200 among the 429s would still tell a guesser they were right). Another process learns of
 * the block at that key's next failure there.
 */
export class FailureLimiter {
  /** Expired entries are dropped when read, and all at once when the map grows past this size. */
  private static readonly sweepAbove = 10_000;
  private readonly blockedUntil = new Map<string, number>();

  constructor(private readonly limiter: RateLimiterAbstract) {}

  /** Milliseconds the key is still refused for; 0 when it is not. */
  blockedFor(key: string): number {
    const until = this.blockedUntil.get(key);
    if (until === undefined) return 0;
    const left = until - Date.now();
    if (left > 0) return left;
    this.blockedUntil.delete(key);
    return 0;
  }

  /**
   * Counts one failure. Resolves to the milliseconds this failure is refused for: 0 while it is within
   * the allowance (answered as the failure it is). The failure that uses the allowance up blocks the key
   * from then on, until the window ends.
   */
  async recordFailure(key: string): Promise<number> {
    let counted: RateLimiterRes;
    try {
      counted = await this.limiter.consume(key);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      const blockedMs = Math.max(1, rejection.msBeforeNext);
      this.block(key, blockedMs);
      return blockedMs;
    }
    if (counted.remainingPoints === 0) this.block(key, Math.max(1, counted.msBeforeNext));
    return 0;
  }

  private block(key: string, ms: number): void {
    const now = Date.now();
    if (this.blockedUntil.size >= FailureLimiter.sweepAbove) {
      for (const [blocked, until] of this.blockedUntil) if (until <= now) this.blockedUntil.delete(blocked);
    }
    this.blockedUntil.set(key, now + ms);
  }
}

/** Where the counts live: the service's Redis (with its key prefix), or this process for the embedded default. */
export interface RateLimitStore {
  client: RedisConnection;
  keyPrefix: string;
}

function limiterFor(name: string, limit: RateLimit, store: RateLimitStore | undefined): RateLimiterAbstract {
  const options = { points: limit.points, duration: limit.durationSeconds };
  const inMemory = new RateLimiterMemory({ keyPrefix: name, ...options });
  if (store === undefined) return inMemory;
  return new RateLimiterRedis({
    storeClient: store.client,
    keyPrefix: `${store.keyPrefix}rl:${name}`,
    ...options,
    // While Redis is not connected, count in memory at once rather than wait for the connection (or fail).
    rejectIfRedisNotReady: true,
    insuranceLimiter: inMemory,
  });
}

export function createRateLimiters(limits: RateLimitsConfig, store?: RateLimitStore): RateLimiters {
  return {
    activation: limiterFor('activation', limits.activation, store),
    basicFailures: new FailureLimiter(limiterFor('basic-failures', limits.basicFailures, store)),
    adminFailures: new FailureLimiter(limiterFor('admin-failures', limits.adminFailures, store)),
    device: limiterFor('device', limits.device, store),
    admin: limiterFor('admin', limits.admin, store),
  };
}

export function tooManyRequests(what: string, msBeforeNext: number): AppError {
  const seconds = Math.max(1, Math.ceil(msBeforeNext / 1000));
  return new AppError(429, 'too_many_requests', `${what}; retry in ${seconds} s`, { 'retry-after': String(seconds) });
}

/** IPv6 clients usually hold a whole /64, so one is counted as one address. */
const IPV6_GROUPS_COUNTED = 4;

/**
 * The key a source address is counted under: IPv4 as is (also when IPv4-mapped, `::ffff:a.b.c.d`), IPv6
 * by its /64 prefix. Parsing is ipaddr.js's (what express's `trust proxy` uses too).
 */
export function addressKey(ip: string | undefined): string {
  if (ip === undefined || ip === '') return 'unknown';
  // express gives a parsed peer address; anything else is counted as the text it is.
  if (!ipaddr.isValid(ip)) return ip;
  const address = ipaddr.parse(ip);
  if (address.kind() === 'ipv4') return address.toString();
  const ipv6 = address as ipaddr.IPv6;
  if (ipv6.isIPv4MappedAddress()) return ipv6.toIPv4Address().toString();
  return `${ipv6.parts
    .slice(0, IPV6_GROUPS_COUNTED)
    .map((group) => group.toString(16))
    .join(':')}::/64`;
}

const sourceAddress = (req: Request): string => addressKey(req.ip);

/** One point per call under the key; 429 once the key has none left in its window. */
export function limitCalls(limiter: RateLimiterAbstract, keyOf: (req: Request, res: Response) => string, what: string): RequestHandler {
  return (req, res, next) => {
    limiter.consume(keyOf(req, res)).then(
      () => next(),
      (rejection: unknown) => next(rejection instanceof RateLimiterRes ? tooManyRequests(what, rejection.msBeforeNext) : rejection),
    );
  };
}

/** Admin API calls per source address, counted before authentication so that floods without a token count too. */
export const limitAdminCalls = (limiter: RateLimiterAbstract): RequestHandler => limitCalls(limiter, sourceAddress, 'too many admin API calls from this address');

/** Calls per device; behind device authentication. */
export const limitDeviceCalls = (limiter: RateLimiterAbstract, deviceIdOf: (res: Response) => string): RequestHandler =>
  limitCalls(limiter, (_req, res) => deviceIdOf(res), 'too many calls from this device');

const isAuthenticationFailure = (error: unknown): error is AppError => error instanceof AppError && error.status === 401;

/**
 * Wraps an authentication middleware: an address over the failure limit is refused before its
 * credentials are looked at; each 401 the middleware gives is counted, and the one that goes over the
 * limit is answered 429 instead.
 */
export function limitFailures(failures: FailureLimiter, authenticate: RequestHandler): RequestHandler {
  const what = 'too many failed authentications from this address';
  return (req, res, next) => {
    const key = sourceAddress(req);
    const blockedMs = failures.blockedFor(key);
    if (blockedMs > 0) {
      next(tooManyRequests(what, blockedMs));
      return;
    }
    void authenticate(req, res, (error?: unknown) => {
      if (!isAuthenticationFailure(error)) {
        next(error);
        return;
      }
      failures.recordFailure(key).then(
        (nowBlockedMs) => next(nowBlockedMs > 0 ? tooManyRequests(what, nowBlockedMs) : error),
        (limiterError: unknown) => next(limiterError),
      );
    });
  };
}

/**
 * Activation codes cannot be guessed: every attempt from a source address spends a point before the
 * code is looked at (so parallel guesses cannot slip past the limit); only a wrong code keeps it spent.
 */
export async function guardActivation<T>(limiter: RateLimiterAbstract, req: Request, attempt: () => Promise<T>): Promise<T> {
  const key = sourceAddress(req);
  try {
    await limiter.consume(key);
  } catch (rejection) {
    if (rejection instanceof RateLimiterRes) throw tooManyRequests('too many activation attempts', rejection.msBeforeNext);
    throw rejection;
  }
  let wrongCode = false;
  try {
    return await attempt();
  } catch (error) {
    wrongCode = error instanceof AppError && error.code === 'invalid_grant';
    throw error;
  } finally {
    if (!wrongCode) await limiter.reward(key, 1);
  }
}
