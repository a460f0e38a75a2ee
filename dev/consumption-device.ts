/**
 * `npm run cd -- --login-hint alice [--binding-message "Pay 50 EUR"] [--scope "openid profile"] [--mode ping]`
 *
 * A consumption device (the CIBA client, e.g. a shop's terminal) on openid-client. Without flags
 * for the server and the client it talks to the `npm run demo` authorization server. Prints the
 * auth_req_id, waits, then prints the token response and the ID token's claims, or the CIBA error
 * (exit code 1). Run with --help for every option.
 */
import { parseArgs } from 'node:util';
import { requestTokens, type CibaEvent, type DeliveryMode } from './ciba-client.js';
import { DEMO, demoIssuer, demoNotificationEndpoint } from './demo-settings.js';

const USAGE = `Usage: npm run cd -- --login-hint <user> [options]

  --login-hint <id>             the user to authenticate (required), e.g. alice
  --binding-message <text>      shown on the user's device, e.g. "Pay 50 EUR"
  --scope <scopes>              space-separated (default "openid profile")
  --mode poll|ping              token delivery mode (default poll)
  --requested-expiry <seconds>  ask for a shorter request lifetime
  --issuer <url>                authorization server (default ${demoIssuer()})
  --client-id <id>              default: the demo's ${DEMO.pollClient.id} / ${DEMO.pingClient.id}
  --client-secret <secret>      default: the demo client's secret
  --notification-endpoint <url> ping mode: the endpoint registered for the client, served here
                                (default ${demoNotificationEndpoint()})
`;

function fail(message: string): never {
  process.stderr.write(`${message}\n\n${USAGE}`);
  process.exit(2);
}

function describe(event: CibaEvent): string {
  switch (event.type) {
    case 'listening':
      return `listening for the ping on ${event.notificationEndpoint}`;
    case 'initiated':
      return `auth_req_id: ${event.authReqId}\nexpires_in: ${event.expiresIn} s${event.interval !== undefined ? `, poll interval: ${event.interval} s` : ''}\nwaiting for the user to decide on their device…`;
    case 'ping':
      return `ping received for auth_req_id ${event.authReqId}; fetching the tokens`;
    case 'ping-refused':
      return `refused a notification: ${event.reason}`;
  }
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        'login-hint': { type: 'string' },
        'binding-message': { type: 'string' },
        scope: { type: 'string', default: 'openid profile' },
        mode: { type: 'string', default: 'poll' },
        'requested-expiry': { type: 'string' },
        issuer: { type: 'string', default: demoIssuer() },
        'client-id': { type: 'string' },
        'client-secret': { type: 'string' },
        'notification-endpoint': { type: 'string', default: demoNotificationEndpoint() },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const loginHint = values['login-hint'];
  if (loginHint === undefined || loginHint === '') fail('--login-hint is required');
  if (values.mode !== 'poll' && values.mode !== 'ping') fail('--mode must be poll or ping');
  const mode: DeliveryMode = values.mode;
  const demoClient = mode === 'ping' ? DEMO.pingClient : DEMO.pollClient;
  const requestedExpiry = values['requested-expiry'] === undefined ? undefined : Number(values['requested-expiry']);
  if (requestedExpiry !== undefined && !(Number.isInteger(requestedExpiry) && requestedExpiry > 0)) fail('--requested-expiry must be a positive integer');

  const outcome = await requestTokens({
    issuer: values.issuer,
    clientId: values['client-id'] ?? demoClient.id,
    clientSecret: values['client-secret'] ?? demoClient.secret,
    loginHint,
    scope: values.scope,
    mode,
    ...(values['binding-message'] !== undefined ? { bindingMessage: values['binding-message'] } : {}),
    ...(requestedExpiry !== undefined ? { requestedExpiry } : {}),
    ...(mode === 'ping' ? { notificationEndpoint: values['notification-endpoint'] } : {}),
    onEvent: (event) => process.stdout.write(`${describe(event)}\n`),
  });

  if (!outcome.ok) {
    process.stdout.write(`\nCIBA error: ${outcome.error}${outcome.errorDescription ? ` (${outcome.errorDescription})` : ''}\n`);
    process.exitCode = 1;
    return;
  }
  process.stdout.write(`\ntoken response:\n${JSON.stringify(outcome.tokens, null, 2)}\n`);
  process.stdout.write(`\nID token claims:\n${JSON.stringify(outcome.idTokenClaims ?? null, null, 2)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
