import type { RequestHandler } from 'express';
import { AppError } from '../../domain/errors.js';

/**
 * Deepest nesting a JSON body may have. The API's own bodies nest at most five levels (an account list,
 * a start call's authorization details); twenty leaves room for rich authorization details while a
 * 64 KiB body nested thousands deep — which JSON.parse accepts, but which overflows the stack of every
 * recursive step after it (validation, JSON.stringify, structuredClone, RFC 8785 hashing) — is refused.
 */
export const MAX_JSON_DEPTH = 20;

/** Whether a parsed JSON value nests objects and arrays deeper than `maxDepth`; walked without recursion. */
export function nestsDeeperThan(value: unknown, maxDepth: number): boolean {
  const pending: Array<{ value: unknown; depth: number }> = [{ value, depth: 1 }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    if (typeof next.value !== 'object' || next.value === null) continue;
    if (next.depth > maxDepth) return true;
    for (const child of Object.values(next.value)) pending.push({ value: child, depth: next.depth + 1 });
  }
  return false;
}

/** Refuses parsed JSON bodies nested deeper than {@link MAX_JSON_DEPTH} with 400, before validation. */
export function jsonDepthLimit(maxDepth = MAX_JSON_DEPTH): RequestHandler {
  return (req, _res, next) => {
    next(nestsDeeperThan(req.body, maxDepth) ? AppError.invalidRequest(`the body is nested deeper than ${maxDepth} levels`) : undefined);
  };
}
