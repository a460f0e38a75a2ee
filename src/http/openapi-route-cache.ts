import { createRequire } from 'node:module';
import { dirname } from 'node:path';

type CompilePath = (path: unknown, options?: unknown) => unknown;

const MEMOISED = Symbol.for('ciba.openapi-route-cache');
/** The documented paths: a few dozen. The cap only guards against an unexpected caller. */
const MAX_PATHS = 1000;

/**
 * Where the result for these options goes in a path's slots: the validator passes `{ sensitive, strict }`
 * (booleans). Anything else is not cached. The lookup stays cheap: the path strings are the
 * validator's own, whose hashes V8 keeps, and no key string is built per call.
 */
function optionSlot(options: unknown): number | undefined {
  if (options === undefined) return 0;
  if (typeof options !== 'object' || options === null) return undefined;
  for (const name in options) if (name !== 'sensitive' && name !== 'strict') return undefined;
  const { sensitive, strict } = options as { sensitive?: unknown; strict?: unknown };
  if ((sensitive !== undefined && typeof sensitive !== 'boolean') || (strict !== undefined && typeof strict !== 'boolean')) return undefined;
  return 1 + (sensitive === true ? 1 : 0) + (strict === true ? 2 : 0);
}

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

  const compiled = new Map<string, unknown[]>();
  const memoised = Object.assign(
    (path: unknown, options?: unknown): unknown => {
      const slot = optionSlot(options);
      if (typeof path !== 'string' || slot === undefined) return original(path, options);
      let slots = compiled.get(path);
      if (slots === undefined) {
        if (compiled.size >= MAX_PATHS) return original(path, options);
        slots = [];
        compiled.set(path, slots);
      }
      return (slots[slot] ??= original(path, options));
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
