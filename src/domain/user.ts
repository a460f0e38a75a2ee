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
}

export interface UserRef {
  userId: string;
  partition: string;
}

export type UnreachableReason = 'unknown_user' | 'user_disabled' | 'no_active_device';

export function unreachableReason(reachability: UserReachability): UnreachableReason | undefined {
  if (!reachability.exists) return 'unknown_user';
  if (reachability.disabled) return 'user_disabled';
  if (reachability.activeDevices === 0) return 'no_active_device';
  return undefined;
}

export const unreachableDescriptions: Record<UnreachableReason, string> = {
  unknown_user: 'the user is not known to the authentication service',
  user_disabled: 'the user is disabled',
  no_active_device: 'the user has no active authentication device',
};
