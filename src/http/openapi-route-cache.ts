import { createRequire } from 'node:module';
import { dirname } from 'node:path';

type CompilePath = (path: unknown, options?: unknown) => unknown;

const MEMOISED = Symbol.for('ciba.openapi-route-cache');
/** Documented paths × option sets: a few dozen. The cap only guards against an unexpected caller. */
const MAX_ENTRIES = 1000;

/**
 * express-openapi-validator 5 finds the OpenAPI operation of each request by compiling the documented
 * paths with path-to-regexp, one after the other, on every request, until one matches (lookupRoute in
 * its openapi.metadata.js): three compiles for `/user/verify`, fifteen for a device call. CPU profiles
 * of `npm run bench` put that at about 7 % of the service's time on `/user/verify`. The documented
 * paths never change, so each is compiled once: the validator reads `pathToRegexp` from the module's
 * exports at every call, and that export is replaced here by a memoising wrapper. What it returns,
 * `{ regexp, keys }`, is only read (a regexp without the `g` flag keeps no state), so sharing it is
 * safe. Should a later version of the validator bind the function differently, nothing breaks: it
 * compiles on every request again. Returns whether the wrapper is in place.
 */
export function cacheOpenApiRouteRegexps(): boolean {
  const require = createRequire(import.meta.url);
  let pathToRegexpModule: { pathToRegexp?: CompilePath & { [MEMOISED]?: true } };
  try {
    const validatorEntry = require.resolve('express-openapi-validator');
    pathToRegexpModule = require(require.resolve('path-to-regexp', { paths: [dirname(validatorEntry)] })) as typeof pathToRegexpModule;
  } catch {
    return false;
  }
  const original = pathToRegexpModule.pathToRegexp;
  if (typeof original !== 'function') return false;
  if (original[MEMOISED] === true) return true;

  const compiled = new Map<string, unknown>();
  const memoised = Object.assign(
    (path: unknown, options?: unknown): unknown => {
      if (typeof path !== 'string') return original(path, options);
      const key = `${path}\u0000${JSON.stringify(options ?? {})}`;
      const known = compiled.get(key);
      if (known !== undefined) return known;
      const result = original(path, options);
      if (compiled.size < MAX_ENTRIES) compiled.set(key, result);
      return result;
    },
    { [MEMOISED]: true as const },
  );
  try {
    pathToRegexpModule.pathToRegexp = memoised;
  } catch {
    return false;
  }
  return pathToRegexpModule.pathToRegexp === memoised;
}
