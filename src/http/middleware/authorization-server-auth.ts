import { timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { BasicCredential } from '../../config/config.js';
import { AppError } from '../../domain/errors.js';
import { secretDigest } from './bearer-auth.js';

/**
 * HTTP Basic for the authorization server's calls. Several credential pairs may be valid at once so
 * SecureAuth's can be rotated. Comparison is over fixed-length digests with timingSafeEqual, and every
 * configured pair is compared, so timing reveals neither which pair nor how much of it matched.
 */
export function authorizationServerAuth(credentials: BasicCredential[]): RequestHandler {
  const expected = credentials.map(({ username, password }) => secretDigest(`${username}:${password}`));
  const challenge = { 'www-authenticate': 'Basic realm="ciba-authentication-service", charset="UTF-8"' };
  return (req, _res, next) => {
    const header = req.headers.authorization ?? '';
    const match = /^Basic\s+([A-Za-z0-9+/]+=*)\s*$/i.exec(header);
    if (match?.[1] === undefined || expected.length === 0) {
      next(new AppError(401, 'invalid_client', 'client authentication failed', challenge));
      return;
    }
    const presented = secretDigest(Buffer.from(match[1], 'base64').toString('utf8'));
    let valid = false;
    for (const candidate of expected) valid = timingSafeEqual(candidate, presented) || valid;
    next(valid ? undefined : new AppError(401, 'invalid_client', 'client authentication failed', challenge));
  };
}
