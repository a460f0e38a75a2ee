/** A person who can be asked to approve requests. Aliases are other identifiers that resolve to them. */
export interface User {
  userId: string;
  partition: string;
  displayName?: string;
  aliases: string[];
  disabled: boolean;
  createdAt: number;
  updatedAt: number;
}

/** What `/user/verify` and `/authentication/start` need to know, read in one step. */
export interface UserReachability {
  exists: boolean;
  disabled: boolean;
  activeDevices: number;
  /** Whether one of the user's aliases is an e-mail address (contains '@'): the e-mail channel can reach them. */
  hasEmailAlias?: boolean;
}

export interface UserRef {
  userId: string;
  partition: string;
}

export type UnreachableReason = 'unknown_user' | 'user_disabled' | 'no_active_device';

/** `channels.email`: the e-mail channel is configured, so an e-mail alias makes a device-less user reachable. */
export function unreachableReason(reachability: UserReachability, channels: { email?: boolean } = {}): UnreachableReason | undefined {
  if (!reachability.exists) return 'unknown_user';
  if (reachability.disabled) return 'user_disabled';
  if (reachability.activeDevices === 0 && !(channels.email === true && reachability.hasEmailAlias === true)) return 'no_active_device';
  return undefined;
}

/** An alias that is an e-mail address: the first containing '@'. */
export function emailAliasOf(user: Pick<User, 'aliases'>): string | undefined {
  return user.aliases.find((alias) => alias.includes('@'));
}

/** Reasons the service denies a request at creation because a notification limit was reached. */
export type LimitReason = 'too_many_pending' | 'daily_limit_reached';

export function limitDescription(reason: LimitReason, limits: { maxPending: number; maxPerDay: number }): string {
  return reason === 'too_many_pending'
    ? `the user already has ${limits.maxPending} pending requests (NOTIFY_MAX_PENDING); no further prompt is sent until one is decided or expires`
    : `the user was sent ${limits.maxPerDay} requests today (NOTIFY_MAX_PER_DAY); no further prompt is sent today`;
}

export const unreachableDescriptions: Record<UnreachableReason, string> = {
  unknown_user: 'the user is not known to the authentication service',
  user_disabled: 'the user is disabled',
  no_active_device: 'the user has no active authentication device',
};

/** A daily count outlives its day by a day, so the limit holds across midnight skew between hosts. */
export const DAY_COUNTER_TTL_MS = 2 * 24 * 3600 * 1000;

/** `YYYY-MM-DD` of a timestamp in UTC: the day NOTIFY_MAX_PER_DAY counts in. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
