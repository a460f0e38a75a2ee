import { createHash, randomBytes } from 'node:crypto';

/**
 * Identifiers and secrets.
 *
 * Every key that belongs to one user lives in the same Redis Cluster slot, so multi-key steps
 * (create a request while checking the user's devices, record a decision while updating the user's
 * pending list) run atomically in one script. A user's slot is named by a random *partition*
 * assigned when the user is created; request and device ids start with it, so any id leads
 * straight to its keys without a lookup and without revealing who the user is.
 */

export const PARTITION_LENGTH = 8;

const base64url = (bytes: Buffer): string => bytes.toString('base64url');

export function sha256Base64url(input: string | Uint8Array): string {
  return createHash('sha256').update(input).digest('base64url');
}

export function newPartition(): string {
  return base64url(randomBytes(6));
}

/** Partition for a request whose identifier names no user: stable, so a repeated start is still a duplicate. */
export function partitionForUnknownIdentifier(identifier: string): string {
  return sha256Base64url(`unknown-user:${identifier}`).slice(0, PARTITION_LENGTH);
}

/**
 * Request ids are derived from SecureAuth's `login_id` so a repeated start maps onto the same request
 * (and the same job ids) without a lookup; the hash keeps the login id itself away from devices.
 */
export function requestIdFor(partition: string, loginId: string): string {
  return partition + sha256Base64url(`login:${loginId}`).slice(0, 24);
}

export function newDeviceId(partition: string): string {
  return partition + base64url(randomBytes(12));
}

export function partitionOf(id: string): string {
  return id.slice(0, PARTITION_LENGTH);
}

export function newSecret(bytes = 32): string {
  return base64url(randomBytes(bytes));
}

/** Identifiers (user ids and aliases) match after trimming, Unicode normalisation and lower-casing. */
export function normalizeIdentifier(identifier: string): string {
  return identifier.normalize('NFKC').trim().toLowerCase();
}

// Crockford's base32 without I, L, O, U: readable aloud and hard to mistype.
const ACTIVATION_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** 12 symbols of base32 (60 bits), shown as XXXX-XXXX-XXXX. */
export function newActivationCode(): string {
  const bytes = randomBytes(12);
  let code = '';
  for (const byte of bytes) code += ACTIVATION_ALPHABET[byte & 31];
  return `${code.slice(0, 4)}-${code.slice(4, 8)}-${code.slice(8, 12)}`;
}

/** Codes are compared without dashes, spaces or case, and with the usual look-alikes folded. */
export function normalizeActivationCode(code: string): string {
  return code
    .toUpperCase()
    .replace(/[\s-]/g, '')
    .replace(/[IL]/g, '1')
    .replace(/O/g, '0');
}
