/**
 * Fixed settings of the local demo, shared by `npm run demo`, `npm run cd` and `npm run device` so
 * that the commands work without flags. Nothing here is a secret: these values exist only on a
 * developer's machine, on loopback.
 */
export const DEMO = {
  servicePort: Number(process.env['DEMO_SERVICE_PORT'] ?? 8080),
  authorizationServerPort: Number(process.env['DEMO_AS_PORT'] ?? 8081),
  notificationPort: Number(process.env['DEMO_NOTIFICATION_PORT'] ?? 8082),
  tenant: 'demo',
  workspace: 'ciba',
  /** What the development authorization server sends to the service as HTTP Basic. */
  serviceBasic: { username: 'secureauth', password: 'demo-basic-password' },
  /** The client the service uses at the authorization server's system token endpoint. */
  systemClient: { id: 'ciba-authentication-service', secret: 'demo-system-secret' },
  adminToken: 'demo-admin-token-0123456789',
  pollClient: { id: 'demo-poll-client', secret: 'demo-poll-secret', name: 'Demo Shop (poll)' },
  pingClient: { id: 'demo-ping-client', secret: 'demo-ping-secret', name: 'Demo Shop (ping)' },
  user: { id: 'alice', displayName: 'Alice Example', aliases: ['alice@example.com'] },
} as const;

export const demoServiceUrl = (port = DEMO.servicePort): string => `http://127.0.0.1:${port}`;
export const demoIssuer = (port = DEMO.authorizationServerPort): string => `http://127.0.0.1:${port}/${DEMO.tenant}/${DEMO.workspace}`;
export const demoNotificationEndpoint = (port = DEMO.notificationPort): string => `https://127.0.0.1:${port}/ciba/notification`;
