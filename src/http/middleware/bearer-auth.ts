import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { AppError } from '../../domain/errors.js';

/** Secrets are compared as SHA-256 digests: fixed length, so timingSafeEqual reveals neither length nor prefix. */
export const secretDigest = (value: string): Buffer => createHash('sha256').update(value).digest();

/** The challenge of a bearer-protected endpoint of `realm`. */
export const bearerChallenge = (realm: string): Record<string, string> => ({ 'www-authenticate': `Bearer realm="${realm}"` });

/** `Authorization: Bearer <token>` checked against one configured token; otherwise 401 with a challenge for `realm`. */
export function bearerAuth(token: string, realm: string, wrongMessage: string): RequestHandler {
  const expected = secretDigest(token);
  return (req, _res, next) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    const valid = match?.[1] !== undefined && timingSafeEqual(secretDigest(match[1]), expected);
    next(valid ? undefined : new AppError(401, 'invalid_token', wrongMessage, bearerChallenge(realm)));
  };
}
