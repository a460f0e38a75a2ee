import { normalizeIdentifier } from '../domain/identifiers.js';
import { unreachableReason } from '../domain/user.js';
import type { Dependencies } from './dependencies.js';

/**
 * `/user/verify`: true only for an enabled user with an active device. Two store round trips
 * (identifier → user, then the user's reachability); no outbound call.
 */
export async function verifyUser(deps: Pick<Dependencies, 'users' | 'config'>, userIdentifier: string): Promise<boolean> {
  const user = await deps.users.resolve(normalizeIdentifier(userIdentifier));
  if (user === undefined) return false;
  // With the e-mail channel on, an e-mail alias makes a user without a device reachable (magic link).
  return unreachableReason(await deps.users.reachability(user), { email: deps.config.email !== undefined }) === undefined;
}
