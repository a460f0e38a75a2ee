import { ConfigError, loadConfig } from '../../src/config/config.js';

const secureAuth = {
  SECUREAUTH_ISSUER_URL: 'https://acme.example/acme/ciba/',
  SECUREAUTH_CLIENT_ID: 'id',
  SECUREAUTH_CLIENT_SECRET: 'secret',
};

describe('Open Banking settings', () => {
  it('are off by default, and accounts come from the store', () => {
    const config = loadConfig(secureAuth);
    expect(config.openBanking).toBeUndefined();
    expect(config.accounts).toEqual({ apiUrl: undefined, apiToken: undefined, timeoutMs: 5000 });
    // Consent pages then live under the issuer (the SecureAuth client's default).
    expect(loadConfig({ ...secureAuth, OPENBANKING_PROFILE: 'uk' }).openBanking).toEqual({ profile: 'uk', consentPagesUrl: undefined });
  });

  it('take a profile, a vanity consent-page base and the bank accounts API', () => {
    const config = loadConfig({
      ...secureAuth,
      OPENBANKING_PROFILE: 'brasil',
      SECUREAUTH_OPENBANKING_URL: 'https://auth.bank.example/',
      ACCOUNTS_API_URL: 'https://core.bank.example/users/{user_id}/accounts',
      ACCOUNTS_API_TOKEN: 'token',
      ACCOUNTS_API_TIMEOUT_MS: '1500',
    });
    expect(config.openBanking).toEqual({ profile: 'brasil', consentPagesUrl: 'https://auth.bank.example' });
    expect(config.accounts).toEqual({ apiUrl: 'https://core.bank.example/users/{user_id}/accounts', apiToken: 'token', timeoutMs: 1500 });
  });

  it('refuse an unknown profile and a URL that is not http(s), naming the variable', () => {
    expect(() => loadConfig({ OPENBANKING_PROFILE: 'eu' })).toThrow(ConfigError);
    expect(() => loadConfig({ OPENBANKING_PROFILE: 'eu' })).toThrow(/OPENBANKING_PROFILE/);
    expect(() => loadConfig({ ACCOUNTS_API_URL: 'ftp://bank' })).toThrow(/ACCOUNTS_API_URL/);
  });
});
