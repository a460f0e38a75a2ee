/**
 * Runs the development authorization server as a process (the demo and the end-to-end tests start it
 * this way): `DEV_AS_CONFIG='{"port":8081,…}' node --import tsx dev/authorization-server/main.ts`.
 * The JSON holds the options of {@link startDevAuthorizationServer}; logs are JSON lines on stdout.
 */
import { pino } from 'pino';
import { z } from 'zod';
import { startDevAuthorizationServer } from './server.js';

const clientSchema = z.object({
  clientId: z.string().min(1),
  clientSecret: z.string().min(1),
  clientName: z.string().optional(),
  logoUri: z.url().optional(),
  deliveryMode: z.enum(['poll', 'ping']),
  notificationEndpoint: z.url({ protocol: /^https$/ }).optional(),
});

const configSchema = z.object({
  port: z.number().int().min(0).max(65535),
  host: z.string().optional(),
  tenant: z.string().regex(/^[\w-]+$/).optional(),
  workspace: z.string().regex(/^[\w-]+$/).optional(),
  service: z.object({ url: z.url(), username: z.string().min(1), password: z.string().min(1), timeoutMs: z.number().int().positive().optional() }),
  systemClient: z.object({ id: z.string().min(1), secret: z.string().min(1) }),
  clients: z.array(clientSchema).min(1),
  cibaExpirySeconds: z.number().int().positive().optional(),
  pollIntervalSeconds: z.number().int().positive().optional(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
});

async function main(): Promise<void> {
  let raw: unknown;
  try {
    raw = JSON.parse(process.env['DEV_AS_CONFIG'] ?? '');
  } catch {
    process.stderr.write('DEV_AS_CONFIG must hold the JSON options of the development authorization server\n');
    process.exit(78);
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    process.stderr.write(`invalid DEV_AS_CONFIG:\n${parsed.error.issues.map((i) => `  - ${i.path.join('.')}: ${i.message}`).join('\n')}\n`);
    process.exit(78);
  }
  const { logLevel, ...config } = parsed.data;
  const logger = pino({ name: 'dev-authorization-server', level: logLevel ?? 'info' });
  const clients = config.clients.map((client) => ({
    clientId: client.clientId,
    clientSecret: client.clientSecret,
    deliveryMode: client.deliveryMode,
    ...(client.clientName !== undefined ? { clientName: client.clientName } : {}),
    ...(client.logoUri !== undefined ? { logoUri: client.logoUri } : {}),
    ...(client.notificationEndpoint !== undefined ? { notificationEndpoint: client.notificationEndpoint } : {}),
  }));
  const server = await startDevAuthorizationServer({
    port: config.port,
    service: {
      url: config.service.url,
      username: config.service.username,
      password: config.service.password,
      ...(config.service.timeoutMs !== undefined ? { timeoutMs: config.service.timeoutMs } : {}),
    },
    systemClient: config.systemClient,
    clients,
    logger,
    ...(config.host !== undefined ? { host: config.host } : {}),
    ...(config.tenant !== undefined ? { tenant: config.tenant } : {}),
    ...(config.workspace !== undefined ? { workspace: config.workspace } : {}),
    ...(config.cibaExpirySeconds !== undefined ? { cibaExpirySeconds: config.cibaExpirySeconds } : {}),
    ...(config.pollIntervalSeconds !== undefined ? { pollIntervalSeconds: config.pollIntervalSeconds } : {}),
  });

  const stop = (signal: string): void => {
    logger.info({ signal }, 'shutting down');
    void server.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

void main();
