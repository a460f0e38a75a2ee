/**
 * The newcomer's path, as processes: `npm run demo`, then what it prints — the web authenticator URL and
 * activation code opened in Debian's Chromium, and the device and consumption-device commands exactly as
 * printed (on free ports, so the printed lines carry the port flags).
 */
import { rm } from 'node:fs/promises';
import { DEMO } from '../../dev/demo-settings.js';
import { freePort, spawnTypeScript, type ChildHandle } from '../../dev/support/processes.js';
import { seedUser } from '../../dev/support/stack.js';
import { launchChromium, pageErrors, saveScreenshot } from '../support/browser.js';
import { serveLogosLocally } from '../support/web-fixtures.js';

/** Splits a printed command line into words (double quotes group words, as a shell does). */
function shellWords(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((match) => match[1] ?? match[2] ?? '');
}

async function waitForOutput(child: ChildHandle, pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = pattern.exec(child.output());
    if (match) return match;
    if (child.hasExited()) throw new Error(`${child.name} exited before printing ${pattern}\n--- output ---\n${child.output()}`);
    if (Date.now() > deadline) throw new Error(`${child.name} did not print ${pattern} within ${timeoutMs} ms\n--- output ---\n${child.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Runs a printed `npm run <script> -- args…` line as its script does, and waits for it to exit. */
function commandFrom(printed: string, env: Record<string, string>): ChildHandle {
  const [npm, run, script, separator, ...args] = shellWords(printed.trim());
  expect([npm, run, separator]).toEqual(['npm', 'run', '--']);
  const entry = { cd: 'dev/consumption-device.ts', device: 'dev/device.ts' }[script ?? ''];
  if (entry === undefined) throw new Error(`unexpected command: ${printed}`);
  return spawnTypeScript(`npm run ${script}`, entry, { env, args });
}

async function finished(child: ChildHandle, timeoutMs = 30_000): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${child.name} did not finish within ${timeoutMs} ms\n${child.output()}`)), timeoutMs);
  });
  try {
    return await Promise.race([child.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe('npm run demo, then the commands it prints', () => {
  const running: ChildHandle[] = [];
  let env: Record<string, string>;
  let demo: ChildHandle;

  beforeAll(async () => {
    env = {
      DEMO_SERVICE_PORT: String(await freePort()),
      DEMO_AS_PORT: String(await freePort()),
      DEMO_NOTIFICATION_PORT: String(await freePort()),
    };
    demo = spawnTypeScript('npm run demo', 'dev/demo.ts', { env });
    running.push(demo);
    await waitForOutput(demo, /Ctrl-C stops the demo\./, 60_000);
  }, 90_000);

  afterAll(async () => {
    await Promise.all(running.map((child) => child.stop()));
    expect(demo.output()).toContain('stopping');
    // The demo keeps its logs for people to read afterwards; the test removes them.
    const logDirectory = /^logs\s+(\S+)$/m.exec(demo.output())?.[1];
    if (logDirectory?.includes('ciba-demo-')) await rm(logDirectory, { recursive: true, force: true });
  });

  const printed = (pattern: RegExp): string => {
    const line = demo.output().split('\n').find((candidate) => pattern.test(candidate));
    if (line === undefined) throw new Error(`the demo printed no line matching ${pattern}\n${demo.output()}`);
    return line;
  };

  it('the printed web authenticator URL and code enrol Chromium; Approve there → the cd command prints tokens for the demo user', async () => {
    const [, url, code] = /^\s*Open (\S+) and enter activation code (\S+)$/m.exec(demo.output()) ?? [];
    expect(url).toBe(`http://127.0.0.1:${env['DEMO_SERVICE_PORT']}/authenticator`);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 480, height: 640 } });
      page.setDefaultTimeout(15_000);
      await serveLogosLocally(page.context());
      const errors = pageErrors(page);
      await page.goto(url ?? '');
      await page.getByLabel('Activation code').fill(code ?? '');
      await page.getByRole('button', { name: 'Enrol' }).click();
      await page.getByText('Signed in as alice').waitFor();

      const cd = commandFrom(printed(/npm run cd -- --login-hint alice/), env);
      running.push(cd);
      const card = page.getByRole('article', { name: DEMO.pollClient.name });
      await card.waitFor();
      expect(await card.innerText()).toContain('Pay 50 EUR');
      await saveScreenshot(page, 'docs/demo-web-authenticator.png');
      await card.getByRole('button', { name: 'Approve' }).click();

      expect(await finished(cd)).toBe(0);
      expect(cd.output()).toContain('"sub": "alice"');
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 90_000);

  it('approve on the device command → the cd command prints tokens for the demo user, in poll and ping mode', async () => {
    const device = commandFrom(printed(/npm run device -- --activation-code \S+ --approve/), env);
    running.push(device);
    await waitForOutput(device, /enrolled device \S+ for user alice/, 30_000);

    const poll = commandFrom(printed(/npm run cd -- --login-hint alice/), env);
    expect(await finished(poll)).toBe(0);
    expect(poll.output()).toMatch(/auth_req_id: \S+/);
    expect(poll.output()).toContain('"sub": "alice"');
    expect(poll.output()).toContain('"scope": "openid profile"');

    const ping = commandFrom(printed(/npm run cd -- --mode ping/), env);
    expect(await finished(ping)).toBe(0);
    expect(ping.output()).toMatch(/ping received for auth_req_id \S+/);
    expect(ping.output()).toContain('"sub": "alice"');
    expect(device.output()).toContain('binding message: Pay 50 EUR');
    await device.stop();
  }, 90_000);

  it('deny on the device command → the cd command prints access_denied and exits non-zero', async () => {
    const serviceUrl = `http://127.0.0.1:${env['DEMO_SERVICE_PORT']}`;
    const { activationCode } = await seedUser(serviceUrl, DEMO.adminToken, { id: DEMO.user.id });
    const device = spawnTypeScript('npm run device', 'dev/device.ts', { env, args: ['--activation-code', activationCode, '--deny', '--once'] });
    running.push(device);
    await waitForOutput(device, /enrolled device/, 30_000);

    const cd = commandFrom(printed(/npm run cd -- --login-hint alice/), env);
    expect(await finished(cd)).toBe(1);
    expect(cd.output()).toContain('CIBA error: access_denied (the user denied the request)');
    expect(await finished(device)).toBe(0);
  }, 90_000);
});
