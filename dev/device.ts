/**
 * `npm run device -- --activation-code XXXX [--approve | --deny] [--once]`
 *
 * A stand-in for the user's phone, on the reference device client (real keys, DPoP proofs, signed
 * decisions): enrols with an activation code, then shows each authentication request and approves
 * it, denies it, or asks. Its keys live only as long as the process; enrol again after a restart.
 */
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { DeviceClient, type RequestView } from './device-client.js';
import { demoServiceUrl } from './demo-settings.js';

const USAGE = `Usage: npm run device -- --activation-code <code> [--approve | --deny] [--once]

  --activation-code <code>  from the admin API (npm run demo prints one)
  --approve                 approve every request (all requested scopes)
  --deny                    deny every request
                            (neither: ask for each request)
  --once                    exit after the first decision
  --service-url <url>       the service's public URL (default ${demoServiceUrl()})
`;

const POLL_INTERVAL_MS = 500;

function fail(message: string): never {
  process.stderr.write(`${message}\n\n${USAGE}`);
  process.exit(2);
}

function summary(view: RequestView): string {
  const client = view.client.name ?? view.client.id ?? 'an application';
  const lines = [`\nrequest ${view.request_id} from ${client}`];
  if (view.binding_message !== undefined) lines.push(`  binding message: ${view.binding_message}`);
  lines.push(`  scopes: ${view.scopes.map((scope) => scope.display_name ?? scope.name).join(', ')}`);
  lines.push(`  expires at: ${view.expires_at}`);
  return lines.join('\n');
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        'activation-code': { type: 'string' },
        approve: { type: 'boolean', default: false },
        deny: { type: 'boolean', default: false },
        once: { type: 'boolean', default: false },
        'service-url': { type: 'string', default: demoServiceUrl() },
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
  const code = values['activation-code'];
  if (code === undefined || code === '') fail('--activation-code is required');
  if (values.approve && values.deny) fail('--approve and --deny exclude each other');

  const device = await DeviceClient.enroll(values['service-url'], code, { name: 'npm run device', platform: 'other' });
  process.stdout.write(`enrolled device ${device.deviceId} for user ${device.userId}; waiting for requests (Ctrl-C stops)\n`);

  const prompt = values.approve || values.deny ? undefined : createInterface({ input: process.stdin, output: process.stdout });
  const seen = new Set<string>();
  let stopping = false;
  process.on('SIGINT', () => {
    stopping = true;
    prompt?.close();
    process.exit(0);
  });

  while (!stopping) {
    for (const view of await device.listRequests()) {
      if (seen.has(view.request_id)) continue;
      seen.add(view.request_id);
      process.stdout.write(`${summary(view)}\n`);
      let action: 'approve' | 'deny' = values.deny ? 'deny' : 'approve';
      if (prompt !== undefined) {
        const answer = await prompt.question('  approve? [y/N] ');
        action = /^y(es)?$/i.test(answer.trim()) ? 'approve' : 'deny';
      }
      const decided = await device.decide(view, action);
      process.stdout.write(
        decided.status === 202 ? `  ${action === 'approve' ? 'approved' : 'denied'}\n` : `  decision refused: ${decided.status} ${JSON.stringify(decided.body)}\n`,
      );
      if (values.once) {
        prompt?.close();
        return;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
