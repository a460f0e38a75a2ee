/**
 * `npm run demo`: the whole decoupled CIBA flow on this machine.
 *
 * Starts this service (embedded in-memory store, web authenticator on) and the development
 * authorization server (oidc-provider, CIBA poll and ping clients) wired to each other, creates a demo
 * user, and prints what to do next: open the web authenticator with a fresh activation code (or, in a
 * terminal, run a device that approves with another code), then ask for tokens as a consumption device.
 * Ctrl-C stops everything.
 * Ports: 8080 (service), 8081 (authorization server), 8082 (ping notifications), or
 * DEMO_SERVICE_PORT, DEMO_AS_PORT, DEMO_NOTIFICATION_PORT.
 */
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DEMO, demoIssuer, demoNotificationEndpoint, demoServiceUrl } from './demo-settings.js';
import { isListening } from './support/processes.js';
import { seedUser, startStack, type Stack } from './support/stack.js';

async function main(): Promise<void> {
  const ports = { service: DEMO.servicePort, 'authorization server': DEMO.authorizationServerPort, 'ping notifications': DEMO.notificationPort };
  for (const [what, port] of Object.entries(ports)) {
    if (await isListening(port)) {
      process.stderr.write(`port ${port} (${what}) is already in use; stop what uses it or pick other ports (see README, "Local demo")\n`);
      process.exit(1);
    }
  }

  const logDirectory = await mkdtemp(path.join(os.tmpdir(), 'ciba-demo-'));
  process.stdout.write('starting the authentication service and the development authorization server…\n');
  const stack: Stack = await startStack({
    servicePort: DEMO.servicePort,
    authorizationServerPort: DEMO.authorizationServerPort,
    tenant: DEMO.tenant,
    workspace: DEMO.workspace,
    serviceBasic: DEMO.serviceBasic,
    systemClient: DEMO.systemClient,
    adminToken: DEMO.adminToken,
    clients: [
      { clientId: DEMO.pollClient.id, clientSecret: DEMO.pollClient.secret, clientName: DEMO.pollClient.name, deliveryMode: 'poll' },
      {
        clientId: DEMO.pingClient.id,
        clientSecret: DEMO.pingClient.secret,
        clientName: DEMO.pingClient.name,
        deliveryMode: 'ping',
        notificationEndpoint: demoNotificationEndpoint(),
      },
    ],
    // The page signs its DPoP proofs for PUBLIC_URL (the stack sets it to the service's own
    // http://127.0.0.1 address): the URL printed below is that address, a secure context for WebCrypto.
    serviceEnv: { LOG_LEVEL: 'info', WEB_AUTHENTICATOR_ENABLED: 'true' },
    pollIntervalSeconds: 2,
    logDirectory,
    // In the demo's process group: Ctrl-C in the terminal, or killing the demo's group, stops them too.
    ownProcessGroups: false,
  });

  const demoUser = { id: DEMO.user.id, displayName: DEMO.user.displayName, aliases: DEMO.user.aliases };
  // Activation codes are single-use: one for the browser, one for the terminal device, so both work.
  const browserCode = await seedUser(stack.serviceUrl, DEMO.adminToken, demoUser);
  const deviceCode = await seedUser(stack.serviceUrl, DEMO.adminToken, demoUser);
  const authenticatorUrl = `${stack.serviceUrl}/authenticator`;
  await expectPage(authenticatorUrl);

  const serviceFlag = stack.serviceUrl === demoServiceUrl(8080) ? '' : ` --service-url ${stack.serviceUrl}`;
  const issuerFlag = stack.issuer === demoIssuer(8081) ? '' : ` --issuer ${stack.issuer}`;
  const notificationFlag = demoNotificationEndpoint() === demoNotificationEndpoint(8082) ? '' : ` --notification-endpoint ${demoNotificationEndpoint()}`;
  process.stdout.write(`
authentication service      ${stack.serviceUrl}   (embedded in-memory store)
authorization server        ${stack.issuer}
  clients                   ${DEMO.pollClient.id} (poll), ${DEMO.pingClient.id} (ping → ${demoNotificationEndpoint()})
logs                        ${logDirectory}

demo user "${DEMO.user.id}" is ready (activation codes valid until ${browserCode.expiresAt})

1. Be the user's phone. In a browser on this machine:

     Open ${authenticatorUrl} and enter activation code ${browserCode.activationCode}

   (this exact address, not localhost: the page calls the service at ${stack.serviceUrl})

   or, in a second terminal, enrol a device that approves every request:

     npm run device -- --activation-code ${deviceCode.activationCode} --approve${serviceFlag}

   (leave out --approve to be asked for each request)

2. In another terminal, ask for tokens as a consumption device, then Approve or Deny in the browser:

     npm run cd -- --login-hint ${DEMO.user.id} --binding-message "Pay 50 EUR" --scope "openid profile"${issuerFlag}

   or in ping mode:

     npm run cd -- --mode ping --login-hint ${DEMO.user.id} --binding-message "Pay 50 EUR"${issuerFlag}${notificationFlag}

Ctrl-C stops the demo.
`);

  let stopping = false;
  const stop = (code: number): void => {
    if (stopping) return;
    stopping = true;
    process.stdout.write('\nstopping…\n');
    void stack.stop().then(() => process.exit(code));
  };
  process.on('SIGINT', () => stop(0));
  process.on('SIGTERM', () => stop(0));
  for (const child of [stack.service, stack.authorizationServer]) {
    void child.exited.then((code) => {
      if (stopping) return;
      process.stderr.write(`\n${child.name} exited (code ${code}); its last output:\n${child.output().slice(-4000)}\n`);
      stop(1);
    });
  }
}

/** Fails the demo before it prints a URL that does not answer with the page. */
async function expectPage(url: string): Promise<void> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
  const body = await response.text();
  if (response.status !== 200 || !body.includes('Activation code')) {
    throw new Error(`the web authenticator at ${url} answered ${response.status} without its page`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`the demo could not start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
