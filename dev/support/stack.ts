/**
 * The whole decoupled flow on one machine, as real processes: this service (`src/main.ts`) and the
 * development authorization server, wired to each other. Used by `npm run demo` and the end-to-end
 * tests.
 */
import { spawnTypeScript, waitForHttp, type ChildHandle, type SpawnOptions } from './processes.js';
import type { DevClient } from '../authorization-server/server.js';

export interface StackSettings {
  servicePort: number;
  authorizationServerPort: number;
  tenant: string;
  workspace: string;
  serviceBasic: { username: string; password: string };
  systemClient: { id: string; secret: string };
  adminToken: string;
  clients: DevClient[];
  /** Extra environment for the service (REDIS_URL, REQUEST_TTL_SECONDS, LOG_LEVEL, …). */
  serviceEnv?: Record<string, string>;
  cibaExpirySeconds?: number;
  pollIntervalSeconds?: number;
  /** Append each process's output to `<logDirectory>/service.log` and `authorization-server.log`. */
  logDirectory?: string;
  authorizationServerLogLevel?: string;
  /** See {@link SpawnOptions.ownProcessGroup} (default true). */
  ownProcessGroups?: boolean;
}

export interface Stack {
  serviceUrl: string;
  issuer: string;
  service: ChildHandle;
  authorizationServer: ChildHandle;
  stop(): Promise<void>;
}

export async function startStack(settings: StackSettings): Promise<Stack> {
  const serviceUrl = `http://127.0.0.1:${settings.servicePort}`;
  const origin = `http://127.0.0.1:${settings.authorizationServerPort}`;
  const issuer = `${origin}/${settings.tenant}/${settings.workspace}`;
  const spawnOptions = (name: string): Omit<SpawnOptions, 'env'> => ({
    ...(settings.logDirectory !== undefined ? { logFile: `${settings.logDirectory}/${name}.log` } : {}),
    ...(settings.ownProcessGroups !== undefined ? { ownProcessGroup: settings.ownProcessGroups } : {}),
  });

  const service = spawnTypeScript('service', 'src/main.ts', {
    env: {
      NODE_ENV: 'development',
      ROLE: 'all',
      PORT: String(settings.servicePort),
      HOST: '127.0.0.1',
      PUBLIC_URL: serviceUrl,
      // The embedded store unless the caller asks for Redis; never a REDIS_URL from the caller's shell.
      REDIS_URL: '',
      AS_BASIC_CREDENTIALS: `${settings.serviceBasic.username}:${settings.serviceBasic.password}`,
      ADMIN_API_TOKEN: settings.adminToken,
      SECUREAUTH_ISSUER_URL: issuer,
      SECUREAUTH_CLIENT_ID: settings.systemClient.id,
      SECUREAUTH_CLIENT_SECRET: settings.systemClient.secret,
      ...settings.serviceEnv,
    },
    ...spawnOptions('service'),
  });
  const authorizationServer = spawnTypeScript('authorization-server', 'dev/authorization-server/main.ts', {
    env: {
      DEV_AS_CONFIG: JSON.stringify({
        port: settings.authorizationServerPort,
        host: '127.0.0.1',
        tenant: settings.tenant,
        workspace: settings.workspace,
        service: { url: serviceUrl, ...settings.serviceBasic },
        systemClient: settings.systemClient,
        clients: settings.clients,
        ...(settings.cibaExpirySeconds !== undefined ? { cibaExpirySeconds: settings.cibaExpirySeconds } : {}),
        ...(settings.pollIntervalSeconds !== undefined ? { pollIntervalSeconds: settings.pollIntervalSeconds } : {}),
        ...(settings.authorizationServerLogLevel !== undefined ? { logLevel: settings.authorizationServerLogLevel } : {}),
      }),
    },
    ...spawnOptions('authorization-server'),
  });

  const stop = async (): Promise<void> => {
    await Promise.all([service.stop(), authorizationServer.stop()]);
  };
  try {
    await Promise.all([
      waitForHttp(`${serviceUrl}/healthz`, service),
      waitForHttp(`${issuer}/.well-known/openid-configuration`, authorizationServer),
    ]);
  } catch (error) {
    await stop();
    throw error;
  }
  return { serviceUrl, issuer, service, authorizationServer, stop };
}

/** Creates (or updates) a user through the admin API and returns a fresh activation code. */
export async function seedUser(
  serviceUrl: string,
  adminToken: string,
  user: { id: string; displayName?: string; aliases?: readonly string[] },
): Promise<{ activationCode: string; expiresAt: string }> {
  const headers = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
  const userUrl = `${serviceUrl}/admin/v1/users/${encodeURIComponent(user.id)}`;
  const saved = await fetch(userUrl, {
    method: 'PUT',
    headers,
    body: JSON.stringify({
      ...(user.displayName !== undefined ? { display_name: user.displayName } : {}),
      ...(user.aliases !== undefined ? { aliases: [...user.aliases] } : {}),
    }),
  });
  if (saved.status !== 200) throw new Error(`creating user ${user.id} failed: ${saved.status} ${await saved.text()}`);
  const code = await fetch(`${userUrl}/activation-codes`, { method: 'POST', headers: { authorization: headers.authorization } });
  const body = (await code.json()) as { activation_code?: string; expires_at?: string };
  if (code.status !== 201 || body.activation_code === undefined) throw new Error(`activation code for ${user.id} failed: ${code.status}`);
  return { activationCode: body.activation_code, expiresAt: body.expires_at ?? '' };
}
