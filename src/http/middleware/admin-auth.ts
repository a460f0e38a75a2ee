import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { AppError } from '../../domain/errors.js';

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/** Bearer `ADMIN_API_TOKEN` for the admin API; without a configured token the admin API is closed. */
export function adminAuth(token: string | undefined): RequestHandler {
  const expected = token === undefined ? undefined : digest(token);
  const challenge = { 'www-authenticate': 'Bearer realm="ciba-admin"' };
  return (req, _res, next) => {
    if (expected === undefined) {
      next(new AppError(401, 'invalid_token', 'the admin API is disabled: ADMIN_API_TOKEN is not set', challenge));
      return;
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    const valid = match?.[1] !== undefined && timingSafeEqual(digest(match[1]), expected);
    next(valid ? undefined : new AppError(401, 'invalid_token', 'the admin token is missing or wrong', challenge));
  };
}
