/**
 * The validator's route lookup compiles each documented path once, not once per request: the
 * memoising wrapper sits on the path-to-regexp export that express-openapi-validator calls.
 */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { cacheOpenApiRouteRegexps } from '../../src/http/openapi-route-cache.js';
import { startService, type TestService } from '../support/service.js';

type Compile = (path: unknown, options?: unknown) => { regexp: RegExp; keys: Array<{ name: string }> };

const require = createRequire(import.meta.url);
const validatorsPathToRegexp = require(
  require.resolve('path-to-regexp', { paths: [dirname(require.resolve('express-openapi-validator'))] }),
) as { pathToRegexp: Compile };

describe('OpenAPI route regexps', () => {
  let compiles: string[];
  let service: TestService;

  beforeAll(async () => {
    // Count what reaches the real compiler underneath the cache.
    const real = validatorsPathToRegexp.pathToRegexp;
    compiles = [];
    validatorsPathToRegexp.pathToRegexp = (path, options) => {
      compiles.push(String(path));
      return real(path, options);
    };
    service = await startService({ store: 'memory' });
  });
  afterAll(async () => {
    await service.stop();
  });

  it('are compiled once per documented path, however many requests come', async () => {
    for (let i = 0; i < 20; i += 1) {
      const response = await service.asCall('/user/verify', { user_identifier: `nobody-${i}` });
      expect(response).toMatchObject({ status: 200, body: { valid: false } });
    }
    const bad = await service.asCall('/authentication/start', { login_id: 'x' });
    expect(bad.status).toBe(400);
    expect(compiles.length).toBeGreaterThan(0);
    expect(new Set(compiles).size).toBe(compiles.length);
  });

  it('match and name path parameters as before', () => {
    const first = validatorsPathToRegexp.pathToRegexp('/device/v1/requests/:request_id', { sensitive: false, strict: false });
    const again = validatorsPathToRegexp.pathToRegexp('/device/v1/requests/:request_id', { sensitive: false, strict: false });
    expect(again).toBe(first);
    expect(first.regexp.exec('/device/v1/requests/abc')?.[1]).toBe('abc');
    expect(first.keys.map((key) => key.name)).toEqual(['request_id']);
    const strict = validatorsPathToRegexp.pathToRegexp('/device/v1/requests/:request_id', { sensitive: true, strict: true });
    expect(strict).not.toBe(first);
    expect(validatorsPathToRegexp.pathToRegexp('/device/v1/requests/:request_id', { sensitive: true, strict: true })).toBe(strict);
    expect(strict.regexp.exec('/DEVICE/v1/requests/abc')).toBeNull();
    // Options the validator does not pass are compiled every time, as without the cache.
    const other = validatorsPathToRegexp.pathToRegexp('/device/v1/requests/:request_id', { end: false });
    expect(validatorsPathToRegexp.pathToRegexp('/device/v1/requests/:request_id', { end: false })).not.toBe(other);
    expect(other.regexp.exec('/device/v1/requests/abc/decision')?.[1]).toBe('abc');
  });

  it('is installed once however many apps are built', () => {
    const installed = validatorsPathToRegexp.pathToRegexp;
    expect(cacheOpenApiRouteRegexps()).toBe(true);
    expect(validatorsPathToRegexp.pathToRegexp).toBe(installed);
  });
});
