import { ConfigError, loadConfig } from '../../src/config/config.js';

describe('settings of the web authenticator, e-mail channel and notification policy', () => {
  it('default: authenticator on outside production, no e-mail, limits 3 and 50, confirmation off', () => {
    const config = loadConfig({ WEB_AUTHENTICATOR_ENABLED: '', SMTP_URL: '', EMAIL_FALLBACK_AFTER_SECONDS: '' });
    expect(config.webAuthenticator).toEqual({ enabled: true });
    expect(config.email).toBeUndefined();
    expect(config.notifications).toEqual({ maxPending: 3, maxPerDay: 50 });
    expect(config.bindingConfirmation).toBe('off');
  });

  it('the authenticator is off in production unless WEB_AUTHENTICATOR_ENABLED says otherwise', () => {
    const production = {
      NODE_ENV: 'production',
      REDIS_URL: 'redis://localhost:6379',
      AS_BASIC_CREDENTIALS: 'a:b',
      PUBLIC_URL: 'https://auth.example',
      SECUREAUTH_ISSUER_URL: 'https://acme.example/acme/ciba',
      SECUREAUTH_CLIENT_ID: 'id',
      SECUREAUTH_CLIENT_SECRET: 'secret',
    };
    expect(loadConfig(production).webAuthenticator.enabled).toBe(false);
    expect(loadConfig({ ...production, WEB_AUTHENTICATOR_ENABLED: 'true' }).webAuthenticator.enabled).toBe(true);
  });

  it('reads the e-mail channel, and wants EMAIL_FROM with SMTP_URL', () => {
    expect(loadConfig({ SMTP_URL: 'smtp://mail.example:587', EMAIL_FROM: 'a@b.example', EMAIL_FALLBACK_AFTER_SECONDS: '30' }).email).toEqual({
      smtpUrl: 'smtp://mail.example:587',
      from: 'a@b.example',
      fallbackAfterSeconds: 30,
      templateDir: undefined,
    });
    expect(() => loadConfig({ SMTP_URL: 'smtp://mail.example:587' })).toThrow(ConfigError);
    expect(() => loadConfig({ SMTP_URL: 'http://mail.example', EMAIL_FROM: 'a@b.example' })).toThrow(/SMTP_URL/);
    expect(() => loadConfig({ BINDING_CONFIRMATION: 'sometimes' })).toThrow(/BINDING_CONFIRMATION/);
    expect(() => loadConfig({ NOTIFY_MAX_PENDING: '0' })).toThrow(/NOTIFY_MAX_PENDING/);
  });
});
