import { timingSafeEqual } from 'node:crypto';
import { newSecret, sha256Base64url } from './identifiers.js';

/**
 * Magic links: `{request_id}.{secret}`. The request id leads straight to the request (and its user's
 * partition) without a lookup; the secret is 256 random bits of which only the SHA-256 is stored, in
 * the request itself — so a link is bound to one request and dies with it. It is single-use because
 * the request can be decided only once.
 */
export interface MagicLinkToken {
  requestId: string;
  secret: string;
}

const TOKEN_PATTERN = /^([A-Za-z0-9_-]{8,128})\.([A-Za-z0-9_-]{43})$/;

export function newMagicLinkToken(requestId: string): { token: string; secretHash: string } {
  const secret = newSecret(32);
  return { token: `${requestId}.${secret}`, secretHash: sha256Base64url(secret) };
}

export function parseMagicLinkToken(token: string): MagicLinkToken | undefined {
  const match = TOKEN_PATTERN.exec(token);
  if (match?.[1] === undefined || match[2] === undefined) return undefined;
  return { requestId: match[1], secret: match[2] };
}

/** Constant-time comparison of a presented secret with the stored hash. */
export function magicLinkMatches(secret: string, storedHash: string | undefined): boolean {
  if (storedHash === undefined) return false;
  const presented = Buffer.from(sha256Base64url(secret));
  const stored = Buffer.from(storedHash);
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}
