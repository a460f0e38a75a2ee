import type { RequestHandler } from 'express';
import { AppError } from '../../domain/errors.js';
import { bearerAuth, bearerChallenge } from './bearer-auth.js';

/** Bearer `ADMIN_API_TOKEN` for the admin API; without a configured token the admin API is closed. */
export function adminAuth(token: string | undefined): RequestHandler {
  if (token === undefined) {
    return (_req, _res, next) =>
      next(new AppError(401, 'invalid_token', 'the admin API is disabled: ADMIN_API_TOKEN is not set', bearerChallenge('ciba-admin')));
  }
  return bearerAuth(token, 'ciba-admin', 'the admin token is missing or wrong');
}
