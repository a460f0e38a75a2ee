import { loadConfig, type Config } from '../../src/config/config.js';
import { problemsOf } from '../support/config-problems.js';

const secureAuthEnv = {
  SECUREAUTH_ISSUER_URL: 'https://auth.example.com/acme/ciba',
  SECUREAUTH_CLIENT_ID: 'ciba-service',
  SECUREAUTH_CLIENT_SECRET: 'secret',
};

describe('loadConfig', () => {
  describe('defaults', () => {
    let config: Config;
    beforeAll(() => {
      config = loadConfig({});
    });

    it('runs as a development process on port 8080 serving every role', () => {
      expect(config.env).toBe('development');
      expect(config.role).toBe('all');
      expect(config.http).toMatchObject({ port: 8080, host: '0.0.0.0', publicUrl: 'http://localhost:8080', bodyLimitBytes: 65_536 });
      expect(config.http.validateResponses).toBe(false);
      expect(config.logLevel).toBe('info');
    });

    it('uses the embedded store and leaves SecureAuth, Basic credentials and the admin API unconfigured', () => {
      expect(config.redis).toBeUndefined();
      expect(config.keyPrefix).toBe('ciba:');
      expect(config.secureAuth).toBeUndefined();
      expect(config.authorizationServer.credentials).toEqual([]);
      expect(config.admin.token).toBeUndefined();
    });

    it('has a 120 s request lifetime, one day of retention, 10 minute codes and 60 s clock skew', () => {
      expect(config.requests).toEqual({ ttlSeconds: 120, retentionSeconds: 86_400, expirySweepIntervalMs: 1_000 });
      expect(config.devices).toEqual({ activationCodeTtlSeconds: 600, clockSkewSeconds: 60 });
      expect(config.rateLimits.activation).toEqual({ points: 10, durationSeconds: 600 });
    });
  });

  it('parses several Basic credential pairs', () => {
    const config = loadConfig({ AS_BASIC_CREDENTIALS: 'old:pw1, new:pw:with:colons' });
    expect(config.authorizationServer.credentials).toEqual([
      { username: 'old', password: 'pw1' },
      { username: 'new', password: 'pw:with:colons' },
    ]);
  });

  it('drops trailing slashes from PUBLIC_URL', () => {
    expect(loadConfig({ PUBLIC_URL: 'https://auth.example.com/' }).http.publicUrl).toBe('https://auth.example.com');
  });

  it('treats an empty ADMIN_API_TOKEN as not set', () => {
    expect(loadConfig({ ADMIN_API_TOKEN: '' }).admin.token).toBeUndefined();
  });

  describe('a bad value is refused with a message naming the variable', () => {
    it.each([
      ['PORT', 'abc'],
      ['PORT', '70000'],
      ['REQUEST_TTL_SECONDS', '-1'],
      ['REQUEST_TTL_SECONDS', '0'],
      ['AS_BASIC_CREDENTIALS', 'nocolon'],
      ['AS_BASIC_CREDENTIALS', 'user:'],
      ['ADMIN_API_TOKEN', 'short'],
      ['REDIS_URL', 'http://localhost:6379'],
      ['REDIS_KEY_PREFIX', 'ciba{x}:'],
      ['LOG_LEVEL', 'loud'],
      ['OPENAPI_VALIDATE_RESPONSES', 'maybe'],
    ])('%s=%s', (name, value) => {
      const problems = problemsOf({ [name]: value });
      expect(problems).toEqual([expect.stringMatching(new RegExp(`^${name}: `))]);
    });

    it('lists every bad variable at once', () => {
      const problems = problemsOf({ PORT: 'abc', REQUEST_TTL_SECONDS: '-1' });
      expect(problems).toHaveLength(2);
      expect(problems.join('\n')).toMatch(/PORT/);
      expect(problems.join('\n')).toMatch(/REQUEST_TTL_SECONDS/);
    });

    it('says so in the error message too', () => {
      expect(() => loadConfig({ PORT: 'abc' })).toThrow(/invalid configuration:[\s\S]*PORT/);
    });
  });

  describe('production', () => {
    const production = {
      NODE_ENV: 'production',
      REDIS_URL: 'redis://redis:6379',
      AS_BASIC_CREDENTIALS: 'secureauth:password',
      PUBLIC_URL: 'https://auth.example.com',
      ...secureAuthEnv,
    };

    it('loads with Redis, Basic credentials, a public URL and SecureAuth', () => {
      const config = loadConfig(production);
      expect(config.env).toBe('production');
      expect(config.redis).toEqual({ url: 'redis://redis:6379', keyPrefix: 'ciba:' });
    });

    it('refuses to start without REDIS_URL', () => {
      const { REDIS_URL: _omitted, ...withoutRedis } = production;
      expect(problemsOf(withoutRedis)).toEqual([expect.stringMatching(/^REDIS_URL: .*required/)]);
    });

    it('refuses to start without Basic credentials, public URL or SecureAuth', () => {
      const problems = problemsOf({ NODE_ENV: 'production', REDIS_URL: 'redis://redis:6379' });
      expect(problems.join('\n')).toMatch(/AS_BASIC_CREDENTIALS/);
      expect(problems.join('\n')).toMatch(/PUBLIC_URL/);
      expect(problems.join('\n')).toMatch(/SECUREAUTH_ISSUER_URL/);
    });
  });

  describe('SecureAuth URLs', () => {
    it('derives the token endpoint and the System API from https://host/tenant/workspace', () => {
      expect(loadConfig(secureAuthEnv).secureAuth).toEqual({
        issuerUrl: 'https://auth.example.com/acme/ciba',
        tokenUrl: 'https://auth.example.com/acme/system/oauth2/token',
        systemApiUrl: 'https://auth.example.com/api/system/acme',
        clientId: 'ciba-service',
        clientSecret: 'secret',
        timeoutMs: 5000,
      });
    });

    it('uses SECUREAUTH_TOKEN_URL when given', () => {
      const config = loadConfig({ ...secureAuthEnv, SECUREAUTH_TOKEN_URL: 'https://login.example.com/oauth2/token' });
      expect(config.secureAuth).toMatchObject({
        tokenUrl: 'https://login.example.com/oauth2/token',
        systemApiUrl: 'https://auth.example.com/api/system/acme',
      });
    });

    it('uses SECUREAUTH_SYSTEM_API_URL when given, without a trailing slash', () => {
      const config = loadConfig({ ...secureAuthEnv, SECUREAUTH_SYSTEM_API_URL: 'https://login.example.com/api/system/acme/' });
      expect(config.secureAuth).toMatchObject({
        tokenUrl: 'https://auth.example.com/acme/system/oauth2/token',
        systemApiUrl: 'https://login.example.com/api/system/acme',
      });
    });

    it('accepts an issuer without a tenant (vanity domain) only with both overrides', () => {
      const vanity = { ...secureAuthEnv, SECUREAUTH_ISSUER_URL: 'https://login.example.com' };
      expect(problemsOf(vanity)).toEqual([expect.stringMatching(/^SECUREAUTH_ISSUER_URL: /)]);
      const config = loadConfig({
        ...vanity,
        SECUREAUTH_TOKEN_URL: 'https://login.example.com/oauth2/token',
        SECUREAUTH_SYSTEM_API_URL: 'https://login.example.com/api/system',
      });
      expect(config.secureAuth).toMatchObject({ tokenUrl: 'https://login.example.com/oauth2/token', systemApiUrl: 'https://login.example.com/api/system' });
    });

    it('refuses an issuer without client id and secret', () => {
      expect(problemsOf({ SECUREAUTH_ISSUER_URL: secureAuthEnv.SECUREAUTH_ISSUER_URL })).toEqual([
        expect.stringMatching(/SECUREAUTH_ISSUER_URL, SECUREAUTH_CLIENT_ID and SECUREAUTH_CLIENT_SECRET must be set together/),
      ]);
    });
  });
});
