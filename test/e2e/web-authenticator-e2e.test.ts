/**
 * The decoupled flow end to end with a person's browser as the authentication device: openid-client
 * (the consumption device code in dev/, in this process) → oidc-provider (the development authorization
 * server, a child process) → this service (a child process, `src/main.ts`) → the web authenticator page
 * in Debian's Chromium, enrolled with an activation code, where a click on Approve or Deny decides.
 * Every wait is bounded: Playwright's per-action timeout, the CIBA request's lifetime, Jest's timeout.
 */
import { jest } from '@jest/globals';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { seedUser } from '../../dev/support/stack.js';
import { launchChromium, pageErrors } from '../support/browser.js';
import { serveLogosLocally } from '../support/web-fixtures.js';
import { contractComplaints, startE2eStack, type E2eStack } from './ciba-flows.js';

/** Long enough for a page that polls every 2 s; the tests end as soon as the client has its answer. */
const REQUEST_TTL_SECONDS = 30;
const STEP_TIMEOUT_MS = 15_000;

jest.setTimeout(60_000);

let stack: E2eStack;
let browser: Browser;
beforeAll(async () => {
  [stack, browser] = await Promise.all([startE2eStack({}, { requestTtlSeconds: REQUEST_TTL_SECONDS }), launchChromium()]);
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

let context: BrowserContext;
let page: Page;
let errors: string[];
beforeEach(async () => {
  context = await browser.newContext();
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  await serveLogosLocally(context);
  page = await context.newPage();
  errors = pageErrors(page);
});
afterEach(async () => {
  await context.close();
  expect(contractComplaints(stack)).toEqual([]);
});

/** A new user enrolled in this browser only, through the page's labelled controls. */
async function userEnrolledInBrowser(userId: string): Promise<void> {
  const { activationCode } = await seedUser(stack.serviceUrl, stack.settings.adminToken, { id: userId, displayName: `${userId} (browser)` });
  await page.goto(`${stack.serviceUrl}/authenticator`);
  await page.getByLabel('Activation code').fill(activationCode);
  await page.getByRole('button', { name: 'Enrol' }).click();
  await page.getByText(`Signed in as ${userId}`).waitFor();
}

async function devicesOf(userId: string): Promise<Array<{ platform: string; alg: string }>> {
  const response = await fetch(`${stack.serviceUrl}/admin/v1/users/${encodeURIComponent(userId)}`, {
    headers: { authorization: `Bearer ${stack.settings.adminToken}` },
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { devices: Array<{ platform: string; alg: string }> }).devices;
}

const requestCard = () => page.getByRole('article', { name: 'E2E Shop (poll)' });

it('enrol with an activation code → the request appears in the page → Approve → tokens whose subject is the user', async () => {
  const userId = 'web-approver';
  await userEnrolledInBrowser(userId);
  // The browser is the user's only device, so the decision below can only come from the page.
  expect(await devicesOf(userId)).toEqual([expect.objectContaining({ platform: 'web', alg: 'ES256' })]);

  const pending = stack.tokens({ loginHint: userId, bindingMessage: 'Pay 42 EUR from the browser' });
  const card = requestCard();
  await card.waitFor();
  const text = await card.innerText();
  expect(text).toContain('Pay 42 EUR from the browser');
  expect(text).toContain('Sign you in');
  expect(text).toMatch(/Expires in \d:\d\d/);

  await card.getByRole('button', { name: 'Approve' }).click();
  await page.getByRole('status').getByText('Approved').waitFor();

  const outcome = await pending;
  if (!outcome.ok) throw new Error(`expected tokens, got ${outcome.error}: ${outcome.errorDescription}`);
  expect(outcome.idTokenClaims).toMatchObject({ sub: userId, aud: 'e2e-poll-client', iss: stack.issuer });
  expect(outcome.tokens).toMatchObject({ token_type: 'bearer', scope: 'openid profile', access_token: expect.any(String) });
  await card.waitFor({ state: 'detached' });
  expect(errors).toEqual([]);
});

it('Deny in the page → the consumption device gets access_denied', async () => {
  const userId = 'web-denier';
  await userEnrolledInBrowser(userId);

  const pending = stack.tokens({ loginHint: userId, bindingMessage: 'Pay 9999 EUR from the browser' });
  const card = requestCard();
  await card.waitFor();
  expect(await card.innerText()).toContain('Pay 9999 EUR from the browser');

  await card.getByRole('button', { name: 'Deny' }).click();
  await page.getByRole('status').getByText('Denied').waitFor();

  expect(await pending).toMatchObject({ ok: false, error: 'access_denied', errorDescription: 'the user denied the request' });
  expect(errors).toEqual([]);
});
