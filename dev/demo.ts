/**
 * `npm run demo`: the whole decoupled CIBA flow on this machine.
 *
 * Starts this service (embedded in-memory store) and the development authorization server
 * (oidc-provider, CIBA poll and ping clients) wired to each other, creates a demo user with an
 * activation code, and prints the two commands to run in other terminals: a device that approves,
 * and a consumption device asking for tokens. Ctrl-C stops everything.
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
    serviceEnv: { LOG_LEVEL: 'info' },
    pollIntervalSeconds: 2,
    logDirectory,
    // In the demo's process group: Ctrl-C in the terminal, or killing the demo's group, stops them too.
    ownProcessGroups: false,
  });

  const { activationCode, expiresAt } = await seedUser(stack.serviceUrl, DEMO.adminToken, {
    id: DEMO.user.id,
    displayName: DEMO.user.displayName,
    aliases: DEMO.user.aliases,
  });

  const serviceFlag = stack.serviceUrl === demoServiceUrl(8080) ? '' : ` --service-url ${stack.serviceUrl}`;
  const issuerFlag = stack.issuer === demoIssuer(8081) ? '' : ` --issuer ${stack.issuer}`;
  const notificationFlag = demoNotificationEndpoint() === demoNotificationEndpoint(8082) ? '' : ` --notification-endpoint ${demoNotificationEndpoint()}`;
  process.stdout.write(`
authentication service      ${stack.serviceUrl}   (embedded in-memory store)
authorization server        ${stack.issuer}
  clients                   ${DEMO.pollClient.id} (poll), ${DEMO.pingClient.id} (ping → ${demoNotificationEndpoint()})
logs                        ${logDirectory}

demo user "${DEMO.user.id}" is ready; activation code ${activationCode} (valid until ${expiresAt})

1. In a second terminal, enrol a device that approves every request:

     npm run device -- --activation-code ${activationCode} --approve${serviceFlag}

   (leave out --approve to be asked for each request)

2. In a third terminal, ask for tokens as a consumption device:

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

main().catch((error: unknown) => {
  process.stderr.write(`the demo could not start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
