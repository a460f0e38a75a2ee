import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

/**
 * Debian's Chromium (`apt-get install chromium`; `.ci/run` installs it), driven by playwright-core —
 * never a browser downloaded by Playwright. Headless, without the sandbox (tests run as root) and
 * without any background traffic.
 */
const CHROMIUM_PATH = '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`${CHROMIUM_PATH} is missing: apt-get install -y chromium (.ci/run does it)`);
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  });
}

/** Saves a screenshot under docs/ when SAVE_SCREENSHOTS=1 (how the README's pictures are made). */
export async function saveScreenshot(page: Page, path: string): Promise<void> {
  if (process.env.SAVE_SCREENSHOTS !== '1') return;
  await mkdir(dirname(path), { recursive: true });
  await page.screenshot({ path, fullPage: true });
}

/** Collects what the page logs as errors (CSP violations included) so a test can assert there are none. */
export function pageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  return errors;
}
