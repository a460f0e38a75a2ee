import type { Config } from '../config/config.js';
import { limitDescription } from '../domain/user.js';
import type { CreatePolicy } from '../ports/requests.js';

/**
 * What the atomic create step of `/authentication/start` checks besides the user: whether the e-mail
 * channel makes a device-less user reachable, and the per-user limits that stop prompt bombing
 * (NOTIFY_MAX_PENDING, NOTIFY_MAX_PER_DAY).
 */
export function createPolicyFor(config: Pick<Config, 'email' | 'notifications'>): CreatePolicy {
  // The configuration never changes: the policy (and its descriptions) is built once, not per start call.
  const known = policies.get(config);
  if (known !== undefined) return known;
  const limits = config.notifications;
  const policy: CreatePolicy = {
    emailChannel: config.email !== undefined,
    maxPending: limits.maxPending,
    maxPerDay: limits.maxPerDay,
    limitDescriptions: {
      too_many_pending: limitDescription('too_many_pending', limits),
      daily_limit_reached: limitDescription('daily_limit_reached', limits),
    },
  };
  policies.set(config, policy);
  return policy;
}

const policies = new WeakMap<object, CreatePolicy>();
