/**
 * The e-mail channel against a real SMTP server started by the test (smtp-server, parsed with
 * mailparser) and the magic-link page in real Chromium: a user with an e-mail alias and no device is
 * reachable, gets the right template, approves or denies through the link once, and a second use shows
 * the used-link page. Runs on the embedded default and on Redis.
 */
import { jest } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { DeviceClient } from '../../dev/device-client.js';
import { startRequest, type RegisteredClient } from '../support/api-helpers.js';
import { launchChromium, pageErrors, saveScreenshot } from '../support/browser.js';
import { startRedisServer, type RedisServerHandle } from '../support/redis-server.js';
import { startSecureAuthStub, type SecureAuthStub } from '../support/secureauth-stub.js';
import { eventually, sleep, startService, type StoreKind, type TestService } from '../support/service.js';
import { magicLinkIn, startSmtpServer, type SmtpServerHandle } from '../support/smtp-server.js';
import { serveLogosLocally } from '../support/web-fixtures.js';

jest.setTimeout(60_000);

let redis: RedisServerHandle;
let browser: Browser;
beforeAll(async () => {
  [redis, browser] = await Promise.all([startRedisServer(), launchChromium()]);
});
afterAll(async () => {
  await browser?.close();
  await redis?.stop();
});

describe.each<StoreKind>(['memory', 'redis'])('e-mail channel on the %s store', (store) => {
  let secureAuth: SecureAuthStub;
  let smtp: SmtpServerHandle;
  let service: TestService;
  let context: BrowserContext;
  let page: Page;

  async function startWith(env: Record<string, string> = {}): Promise<void> {
    service = await startService({
      store,
      redisUrl: redis.url,
      secureAuth,
      env: { SMTP_URL: smtp.url, EMAIL_FROM: 'Bank Authenticator <no-reply@bank.example>', ...env },
    });
  }

  beforeEach(async () => {
    [secureAuth, smtp] = await Promise.all([startSecureAuthStub(), startSmtpServer()]);
    context = await browser.newContext();
    await serveLogosLocally(context);
    page = await context.newPage();
  });
  afterEach(async () => {
    await context.close();
    await service?.stop();
    await Promise.all([secureAuth.close(), smtp.stop()]);
    expect(secureAuth.stubErrors).toEqual([]);
  });

  const BOOKSHOP: RegisteredClient = {
    client_id: 'bookshop',
    client_name: 'Riverside Books',
    logo_uri: 'https://books.example/logo.png',
    scopes: [
      { name: 'openid', display_name: 'Sign you in' },
      { name: 'orders', display_name: 'Place an order' },
    ],
  };

  /** A start call as SecureAuth makes it, without a binding message unless `extra` has one. */
  const start = (userIdentifier: string, extra: Record<string, unknown> = {}) =>
    startRequest(service, secureAuth, userIdentifier, {
      client: BOOKSHOP,
      extra: { requested_scopes: ['openid', 'orders'], binding_message: undefined, ...extra },
    });

  it('reaches a user with only an e-mail alias: /user/verify is valid, and the link approves once', async () => {
    await startWith();
    await service.createUser('mia', { aliases: ['Mia@Example.com'] });
    expect((await service.asCall('/user/verify', { user_identifier: 'mia@example.com' })).body).toEqual({ valid: true });

    const { requestId, login_id, login_state } = await start('mia@example.com', { binding_message: 'Order 4711' });
    const mail = await smtp.waitForMessage();
    expect(mail.to).toEqual(['mia@example.com']);
    expect(mail.parsed.from?.text).toContain('no-reply@bank.example');
    expect(mail.subject).toBe('Riverside Books asks you to confirm: Order 4711');
    const link = magicLinkIn(mail);
    expect(link.startsWith(`${service.url}/magic-links/${requestId}.`)).toBe(true);
    for (const part of [mail.text, mail.html]) {
      expect(part).toContain('Riverside Books');
      expect(part).toContain('Order 4711');
      expect(part).toContain(requestId);
      expect(part).toMatch(/expires in 2 minutes \(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\)/);
    }
    expect(mail.html).toContain(`href="${link}"`);

    const errors = pageErrors(page);
    const opened = await page.goto(link);
    expect(opened?.status()).toBe(200);
    const csp = opened?.headers()['content-security-policy'] ?? '';
    expect(csp).toContain("script-src 'self'");
    const body = await page.locator('main').innerText();
    expect(body).toContain('Riverside Books');
    expect(body).toContain('Order 4711');
    expect(body).toContain('Place an order');
    expect(body).toMatch(/Expires in \d+ (minutes|seconds)/);
    await saveScreenshot(page, 'docs/magic-link.png');
    // Opening the page decided nothing (a mail scanner fetching the link cannot approve).
    expect(secureAuth.calls.filter((c) => c.login === login_id && c.kind !== 'get')).toEqual([]);

    await page.getByRole('button', { name: 'Approve' }).click();
    await page.getByRole('heading', { name: 'Approved' }).waitFor();
    await secureAuth.waitFor(() => secureAuth.decisionOf(login_id) === 'accepted');
    expect(secureAuth.accepted(login_id)).toEqual([{ id: login_id, login_state, granted_scopes: ['openid', 'orders'] }]);

    expect(errors).toEqual([]); // no CSP violation, no script error

    const again = await page.goto(link);
    expect(again?.status()).toBe(410);
    await page.getByRole('heading', { name: 'This link was already used' }).waitFor();

    const admin = await eventually(async () => {
      const response = await service.admin<{ status: string; decision: { channel: string }; deliveries: Array<{ channel: string; result: string }> }>(
        'GET',
        `/requests/${requestId}`,
      );
      return response.body.status === 'completed' ? response.body : undefined;
    });
    expect(admin.decision).toMatchObject({ action: 'approve', channel: 'email' });
    expect(admin.deliveries).toEqual([expect.objectContaining({ channel: 'email', result: 'sent' })]);
    const evidence = await service.admin<Record<string, unknown>>('GET', `/requests/${requestId}/evidence`);
    expect(evidence.status).toBe(200);
    expect(evidence.body).toMatchObject({ channel: 'email', action: 'approve', note: expect.stringContaining('no device signature') });
    expect(evidence.body.decision_jws).toBeUndefined();
    expect(JSON.stringify(service.logs)).not.toContain(link.split('.').pop());
  });

  it('uses the template without a binding message, and Deny through the link rejects', async () => {
    await startWith();
    await service.createUser('noah', { aliases: ['noah@example.com'] });
    const { requestId, login_id } = await start('noah@example.com');
    const mail = await smtp.waitForMessage();
    expect(mail.subject).toBe('Riverside Books asks you to sign in');
    expect(mail.text).not.toContain('Check that the screen');
    expect(mail.text).toContain(requestId);
    await page.goto(magicLinkIn(mail));
    await page.getByRole('button', { name: 'Deny' }).click();
    await page.getByRole('heading', { name: 'Denied' }).waitFor();
    await secureAuth.waitFor(() => secureAuth.decisionOf(login_id) === 'rejected');
    expect(secureAuth.rejected(login_id)).toEqual([expect.objectContaining({ error_cause: 'denied_by_user' })]);
  });

  it('a link whose request expired, or a wrong link, shows a clear page — never a stack trace', async () => {
    await startWith({ REQUEST_TTL_SECONDS: '1' });
    await service.createUser('olga', { aliases: ['olga@example.com'] });
    const { requestId } = await start('olga@example.com');
    const link = magicLinkIn(await smtp.waitForMessage());
    await eventually(async () => (await service.admin<{ status: string }>('GET', `/requests/${requestId}`)).body.status === 'expired');
    const expired = await page.goto(link);
    expect(expired?.status()).toBe(410);
    await page.getByRole('heading', { name: 'This link has expired' }).waitFor();

    const wrong = await page.goto(`${link.slice(0, -4)}AAAA`);
    expect(wrong?.status()).toBe(404);
    await page.getByRole('heading', { name: 'This link is not valid' }).waitFor();
    for (const path of ['/magic-links/nonsense', '/magic-links/%E0%A4%A']) {
      const response = await fetch(`${service.url}${path}`);
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await response.text()).not.toMatch(/at .*\.(ts|js):\d+/);
    }
  });

  it('refuses a decision posted without the page’s CSRF token or from another origin', async () => {
    await startWith();
    await service.createUser('pia', { aliases: ['pia@example.com'] });
    const { login_id } = await start('pia@example.com');
    const link = magicLinkIn(await smtp.waitForMessage());
    const page1 = await fetch(link);
    const cookie = (page1.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const html = await page1.text();
    const csrf = /name="csrf_token" value="([^"]+)"/.exec(html)?.[1] ?? '';
    const consentHash = /name="consent_hash" value="([^"]+)"/.exec(html)?.[1] ?? '';
    const post = (headers: Record<string, string>, form: Record<string, string>) =>
      fetch(link, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(form).toString() });

    expect((await post({}, { action: 'approve', csrf_token: csrf, consent_hash: consentHash })).status).toBe(403);
    expect((await post({ cookie, origin: 'https://evil.example' }, { action: 'approve', csrf_token: csrf, consent_hash: consentHash })).status).toBe(403);
    expect((await post({ cookie }, { action: 'approve', csrf_token: 'x'.repeat(32), consent_hash: consentHash })).status).toBe(403);
    await sleep(100);
    expect(secureAuth.calls.filter((c) => c.login === login_id && c.kind !== 'get')).toEqual([]);
    const ok = await post({ cookie, origin: service.url }, { action: 'approve', csrf_token: csrf, consent_hash: consentHash });
    expect(ok.status).toBe(200);
    await secureAuth.waitFor(() => secureAuth.decisionOf(login_id) === 'accepted');
  });

  it('falls back to e-mail when no device decided within EMAIL_FALLBACK_AFTER_SECONDS', async () => {
    await startWith({ EMAIL_FALLBACK_AFTER_SECONDS: '1' });
    const code = await service.createUser('quin', { aliases: ['quin@example.com'] });
    const device = await DeviceClient.enroll(service.url, code);
    const { requestId, login_id } = await start('quin', { binding_message: 'Order 99' });
    await device.waitForRequest((r) => r.request_id === requestId);
    const mail = await smtp.waitForMessage();
    expect(mail.to).toEqual(['quin@example.com']);
    expect(mail.subject).toContain('Order 99');
    await page.goto(magicLinkIn(mail));
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.getByRole('heading', { name: 'Approved' }).waitFor();
    await secureAuth.waitFor(() => secureAuth.decisionOf(login_id) === 'accepted');
    // The device can no longer decide.
    expect((await device.call('GET', `/device/v1/requests/${requestId}`)).status).toBe(409);
  });

  it('sends nothing to a user whose device decides, when the fallback is off (the default)', async () => {
    await startWith();
    const code = await service.createUser('rosa', { aliases: ['rosa@example.com'] });
    const device = await DeviceClient.enroll(service.url, code);
    const { requestId, login_id } = await start('rosa');
    const view = await device.waitForRequest((r) => r.request_id === requestId);
    expect((await device.decide(view, 'approve')).status).toBe(202);
    await secureAuth.waitFor(() => secureAuth.decisionOf(login_id) === 'accepted');
    await sleep(300);
    expect(smtp.messages).toEqual([]);
  });

  it('binding confirmation on the magic-link page: a wrong pick denies', async () => {
    await startWith({ BINDING_CONFIRMATION: 'required' });
    await service.createUser('sven', { aliases: ['sven@example.com'] });
    const { login_id } = await start('sven@example.com', { binding_message: 'Order 4711' });
    await page.goto(magicLinkIn(await smtp.waitForMessage()));
    const choices = (await page.locator('.choice').allInnerTexts()).map((choice) => choice.trim());
    expect(choices).toHaveLength(3);
    expect(choices).toContain('Order 4711');
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.getByRole('heading', { name: 'Pick the message first' }).waitFor();
    await page.goBack();
    await page.getByRole('radio', { name: choices.find((choice) => choice !== 'Order 4711') }).check();
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.getByRole('heading', { name: 'Request denied' }).waitFor();
    await secureAuth.waitFor(() => secureAuth.decisionOf(login_id) === 'rejected');
    expect(secureAuth.rejected(login_id)).toEqual([expect.objectContaining({ error_cause: 'binding_mismatch' })]);
  });

  it('takes templates from EMAIL_TEMPLATE_DIR, file by file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mail-templates-'));
    try {
      await writeFile(join(dir, 'without-binding-message.subject.txt'), 'Sign in to {{app_name}}? ({{request_id}})\n');
      await writeFile(join(dir, 'without-binding-message.txt'), 'Hello! {{app_name}} — {{magic_link}} — until {{expires_at}}\n');
      await startWith({ EMAIL_TEMPLATE_DIR: dir });
      await service.createUser('tara', { aliases: ['tara@example.com'] });
      const { requestId } = await start('tara@example.com');
      const mail = await smtp.waitForMessage();
      expect(mail.subject).toBe(`Sign in to Riverside Books? (${requestId})`);
      expect(mail.text).toMatch(/^Hello! Riverside Books — http:\/\/127\.0\.0\.1:\d+\/magic-links\/\S+ — until \d{4}-/);
      // The HTML part was not overridden: the built-in one is used.
      expect(mail.html).toContain('Review the request');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a user with an e-mail alias and no device is not reachable without SMTP_URL', async () => {
    service = await startService({ store, redisUrl: redis.url, secureAuth });
    await service.createUser('uma', { aliases: ['uma@example.com'] });
    expect((await service.asCall('/user/verify', { user_identifier: 'uma@example.com' })).body).toEqual({ valid: false });
    const { login_id } = await start('uma@example.com');
    await secureAuth.waitFor(() => secureAuth.decisionOf(login_id) === 'rejected');
    expect(secureAuth.rejected(login_id)).toEqual([expect.objectContaining({ error_cause: 'user_unreachable' })]);
  });
});
