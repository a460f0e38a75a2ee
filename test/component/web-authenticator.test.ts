/**
 * The web authenticator in real Chromium (Debian's /usr/bin/chromium via playwright-core): enrolment
 * with an activation code, a request started by the authorization server appearing by itself, Approve
 * and Deny signed in the browser, and binding-message confirmation with a right and a wrong pick. The
 * SecureAuth stand-in checks what the service reports. Runs on the embedded default and on Redis.
 */
import { jest } from '@jest/globals';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { DeviceClient } from '../../dev/device-client.js';
import { POS_TERMINAL, startRequest, type RegisteredClient } from '../support/api-helpers.js';
import { launchChromium, pageErrors, saveScreenshot } from '../support/browser.js';
import { startRedisServer, type RedisServerHandle } from '../support/redis-server.js';
import { startSecureAuthStub, type SecureAuthStub } from '../support/secureauth-stub.js';
import { eventually, startService, type StoreKind, type TestService } from '../support/service.js';
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

describe.each<StoreKind>(['memory', 'redis'])('web authenticator on the %s store', (store) => {
  let secureAuth: SecureAuthStub;
  let service: TestService;
  let context: BrowserContext;
  let page: Page;
  let errors: string[];

  async function startWith(env: Record<string, string> = {}): Promise<void> {
    service = await startService({ store, redisUrl: redis.url, secureAuth, env });
  }

  beforeEach(async () => {
    secureAuth = await startSecureAuthStub();
    context = await browser.newContext();
    await serveLogosLocally(context);
    page = await context.newPage();
    errors = pageErrors(page);
  });
  afterEach(async () => {
    await context.close();
    await service.stop();
    await secureAuth.close();
    expect(secureAuth.stubErrors).toEqual([]);
  });

  /** Opens the authenticator and enrols this browser with a fresh activation code, by accessible names. */
  async function enrolInBrowser(userId: string, aliases: string[] = []): Promise<void> {
    const code = await service.createUser(userId, { aliases });
    await page.goto(`${service.url}/authenticator`);
    await page.getByLabel('Activation code').fill(code);
    await page.getByRole('button', { name: 'Enrol' }).click();
    await page.getByText(`Signed in as ${userId}`).waitFor();
  }

  const POS_PAYMENT: RegisteredClient = {
    ...POS_TERMINAL,
    scopes: [
      { name: 'openid', display_name: 'Sign you in' },
      { name: 'payments', display_name: 'Make a payment', description: 'One payment of 50 EUR to Corner Shop' },
    ],
  };

  /** A start call as SecureAuth makes it, with the login registered at the stand-in. */
  const start = (userIdentifier: string, extra: Record<string, unknown> = {}) =>
    startRequest(service, secureAuth, userIdentifier, {
      client: POS_PAYMENT,
      extra: { requested_scopes: ['openid', 'payments'], ...extra },
    });

  const requestCard = () => page.getByRole('article', { name: 'Corner Shop POS' });

  it('enrols with an activation code, shows a started request by itself, and Approve makes the authorization server accept', async () => {
    await startWith();
    await enrolInBrowser('wendy', ['wendy@example.com']);
    const { requestId, login_id, login_state } = await start('wendy@example.com', {
      authorization_details: [{ type: 'payment_initiation', instructedAmount: { amount: '50.00', currency: 'EUR' }, creditorName: 'Corner Shop' }],
    });

    const card = requestCard();
    await card.waitFor();
    const text = await card.innerText();
    expect(text).toContain('Pay 50 EUR');
    expect(text).toContain('Sign you in');
    expect(text).toContain('One payment of 50 EUR to Corner Shop');
    expect(text.toLowerCase()).toContain('payment initiation');
    expect(text).toContain('50.00 EUR');
    expect(text).toContain('Corner Shop');
    expect(text).toMatch(/Expires in \d:\d\d/);
    await saveScreenshot(page, 'docs/web-authenticator.png');

    await card.getByRole('button', { name: 'Approve' }).click();
    await secureAuth.waitFor(() => secureAuth.decisionOf(login_id) === 'accepted');
    expect(secureAuth.accepted(login_id)).toEqual([{ id: login_id, login_state, granted_scopes: ['openid', 'payments'] }]);
    await page.getByRole('status').getByText('Approved').waitFor();
    await card.waitFor({ state: 'detached' });

    const admin = await eventually(async () => {
      const response = await service.admin<{ status: string; decision: { channel: string; device_id: string } }>('GET', `/requests/${requestId}`);
      return response.body.status === 'completed' ? response.body : undefined;
    });
    expect(admin.decision).toMatchObject({ channel: 'device' });
    const user = await service.admin<{ devices: Array<{ device_id: string; platform: string; alg: string }> }>('GET', '/users/wendy');
    expect(user.body.devices).toEqual([expect.objectContaining({ device_id: admin.decision.device_id, platform: 'web', alg: 'ES256' })]);
    // The signed decision is verifiable evidence, as from the app.
    const evidence = await service.admin<{ decision_jws: string; public_jwk: { kty: string; crv: string } }>('GET', `/requests/${requestId}/evidence`);
    expect(evidence.body).toMatchObject({ channel: 'device', public_jwk: { kty: 'EC', crv: 'P-256' } });
    expect(evidence.body.decision_jws.split('.')).toHaveLength(3);
    expect(errors).toEqual([]);
  });

  it('keeps the private key in the browser, not extractable, across reloads', async () => {
    await startWith();
    await enrolInBrowser('xena');
    await page.reload();
    await page.getByText('Signed in as xena').waitFor();
    const stored = await page.evaluate(
      () =>
        new Promise<{ extractable: boolean; type: string; algorithm: string; hasPrivateMembers: boolean }>((resolve, reject) => {
          const open = indexedDB.open('ciba-authenticator', 1);
          open.onsuccess = () => {
            const get = open.result.transaction('device').objectStore('device').get('self');
            get.onsuccess = () => {
              const record = get.result as { privateKey: CryptoKey; publicJwk: Record<string, unknown> };
              resolve({
                extractable: record.privateKey.extractable,
                type: record.privateKey.type,
                algorithm: (record.privateKey.algorithm as EcKeyAlgorithm).namedCurve,
                hasPrivateMembers: 'd' in record.publicJwk,
              });
            };
            get.onerror = () => reject(get.error);
          };
          open.onerror = () => reject(open.error);
        }),
    );
    expect(stored).toEqual({ extractable: false, type: 'private', algorithm: 'P-256', hasPrivateMembers: false });
  });

  it('Deny makes the authorization server reject', async () => {
    await startWith();
    await enrolInBrowser('yuri');
    const { login_id, login_state } = await start('yuri');
    const card = requestCard();
    await card.waitFor();
    await card.getByRole('button', { name: 'Deny' }).click();
    await secureAuth.waitFor(() => secureAuth.decisionOf(login_id) === 'rejected');
    expect(secureAuth.rejected(login_id)).toEqual([
      expect.objectContaining({ id: login_id, login_state, error: 'access_denied', error_cause: 'denied_by_user' }),
    ]);
    await page.getByRole('status').getByText('Denied').waitFor();
  });

  it('refuses an unknown activation code with a readable message', async () => {
    await startWith();
    await page.goto(`${service.url}/authenticator`);
    await page.getByLabel('Activation code').fill('AAAA-BBBB-CCCC');
    await page.getByRole('button', { name: 'Enrol' }).click();
    await page.getByRole('status').getByText('the activation code is unknown, used or expired').waitFor();
  });

  describe('binding confirmation', () => {
    it('required: the right pick approves; the device API refuses an approve without a pick (400)', async () => {
      await startWith({ BINDING_CONFIRMATION: 'required' });
      await enrolInBrowser('zoe');
      const { login_id } = await start('zoe');
      const card = requestCard();
      await card.waitFor();
      const choices = card.getByRole('radio');
      expect(await choices.count()).toBe(3);
      const labels = await card.locator('.choice').allInnerTexts();
      expect(labels.map((label) => label.trim())).toContain('Pay 50 EUR');
      for (const label of labels) expect(label.trim()).toMatch(/^Pay \d\d EUR$/);
      expect(await card.getByText('Check that your other screen shows').count()).toBe(0);

      // Approve without a pick is held back by the page.
      await card.getByRole('button', { name: 'Approve' }).click();
      await card.getByText('Pick the message your other screen shows first.').waitFor();
      await saveScreenshot(page, 'docs/web-authenticator-binding.png');

      await card.getByRole('radio', { name: 'Pay 50 EUR' }).check();
      await card.getByRole('button', { name: 'Approve' }).click();
      await secureAuth.waitFor(() => secureAuth.decisionOf(login_id) === 'accepted');

      // The same rule on the device API, for apps.
      const code = await service.createUser('zoe-app');
      const app = await DeviceClient.enroll(service.url, code);
      const second = await start('zoe-app');
      const view = await app.waitForRequest((r) => r.request_id === second.requestId);
      expect(view.binding_choices).toEqual(expect.arrayContaining(['Pay 50 EUR']));
      const refused = await app.decide(view, 'approve');
      expect(refused).toMatchObject({ status: 400, body: { error: 'invalid_request', error_description: expect.stringContaining('binding_choice') } });
      expect((await app.decide(view, 'approve', { claims: { binding_choice: 'Pay 50 EUR' } })).body).toEqual({
        request_id: second.requestId,
        status: 'approved',
      });
    });

    it('a wrong pick denies the request and the reject says why', async () => {
      await startWith({ BINDING_CONFIRMATION: 'required' });
      await enrolInBrowser('abel');
      const { login_id, requestId } = await start('abel');
      const card = requestCard();
      await card.waitFor();
      const labels = (await card.locator('.choice').allInnerTexts()).map((label) => label.trim());
      const decoy = labels.find((label) => label !== 'Pay 50 EUR');
      expect(decoy).toBeDefined();
      await card.getByRole('radio', { name: decoy }).check();
      await card.getByRole('button', { name: 'Approve' }).click();
      await secureAuth.waitFor(() => secureAuth.decisionOf(login_id) === 'rejected');
      expect(secureAuth.rejected(login_id)).toEqual([
        expect.objectContaining({
          error: 'access_denied',
          error_cause: 'binding_mismatch',
          error_description: expect.stringContaining('binding message that is not the one the consumption device shows'),
        }),
      ]);
      await page.getByRole('status').getByText('the message you picked is not the one your other screen shows').waitFor();
      const evidence = await service.admin<{ binding_choice: string; channel: string }>('GET', `/requests/${requestId}/evidence`);
      expect(evidence.body).toMatchObject({ channel: 'device', binding_choice: decoy });
    });

    it('optional: an approve without binding_choice is accepted on the device API', async () => {
      await startWith({ BINDING_CONFIRMATION: 'optional' });
      const code = await service.createUser('bea');
      const app = await DeviceClient.enroll(service.url, code);
      const { requestId, login_id } = await start('bea');
      const view = await app.waitForRequest((r) => r.request_id === requestId);
      expect(view.binding_choices).toHaveLength(3);
      expect((await app.decide(view, 'approve')).status).toBe(202);
      await secureAuth.waitFor(() => secureAuth.decisionOf(login_id) === 'accepted');
    });

    it('off (the default): no choices in the view', async () => {
      await startWith();
      const code = await service.createUser('cato');
      const app = await DeviceClient.enroll(service.url, code);
      const { requestId } = await start('cato');
      const view = await app.waitForRequest((r) => r.request_id === requestId);
      expect(view.binding_choices).toBeUndefined();
      expect(view.binding_message).toBe('Pay 50 EUR');
    });
  });

  it('serves the page with a strict Content-Security-Policy and the other helmet headers', async () => {
    await startWith();
    const response = await fetch(`${service.url}/authenticator`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = response.headers.get('content-security-policy') ?? '';
    const scriptSrc = csp.split(';').map((d) => d.trim()).find((d) => d.startsWith('script-src'));
    expect(scriptSrc).toBe("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('strict-transport-security')).not.toBeNull();
    const html = await response.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).toContain(`content="${service.url}"`);
    expect((await fetch(`${service.url}/authenticator/app.js`)).headers.get('content-type')).toMatch(/^text\/javascript/);
  });

  it('is off when WEB_AUTHENTICATOR_ENABLED=false', async () => {
    await startWith({ WEB_AUTHENTICATOR_ENABLED: 'false' });
    const response = await fetch(`${service.url}/authenticator`);
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: 'not_found' });
  });
});
