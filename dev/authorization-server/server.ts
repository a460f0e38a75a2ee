/**
 * A development authorization server: oidc-provider (a certified OpenID Provider) with CIBA in poll
 * and ping modes, which towards the authentication service behaves as SecureAuth does.
 *
 * - A client's backchannel request names the user with `login_hint`; `processLoginHint` asks the
 *   service `POST /user/verify` (Basic). An unknown user, or a service that cannot answer, is
 *   `unknown_user_id` at the backchannel endpoint.
 * - `triggerAuthenticationDevice` calls `POST /authentication/start` with a fresh `login_id` (kept
 *   mapped to the backchannel request) and a random `state`, checked later as `login_state`.
 * - The same origin serves the SecureAuth endpoints the service calls (system-api.ts); an accept
 *   completes the backchannel request with a Grant of the granted scopes for the user, a reject with
 *   `access_denied`. The client then gets its tokens (or the error) by polling, or after a ping.
 *
 * Its issuer, `http://127.0.0.1:PORT/{tenant}/{workspace}`, is what the service takes as
 * SECUREAUTH_ISSUER_URL.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { exportJWK, generateKeyPair } from 'jose';
import Provider, { errors, type ClientMetadata, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import { pino, type Logger } from 'pino';
import { AuthenticationService, type AuthenticationServiceSettings } from './authentication-service.js';
import { loopbackTolerantFetch } from './loopback-fetch.js';
import { Logins, type Login } from './logins.js';
import { systemApi, type Decision, type ScopeDescription } from './system-api.js';

export interface DevClient {
  clientId: string;
  clientSecret: string;
  clientName?: string;
  logoUri?: string;
  deliveryMode: 'poll' | 'ping';
  /** Required for ping: where the ping goes (https; loopback certificates are not verified). */
  notificationEndpoint?: string;
}

export interface DevAuthorizationServerOptions {
  /** 0 picks a free port. */
  port: number;
  host?: string;
  tenant?: string;
  workspace?: string;
  /** The authentication service, and the Basic credentials SecureAuth would use towards it. */
  service: AuthenticationServiceSettings;
  /** The client the service uses for the client-credentials grant (SECUREAUTH_CLIENT_ID/SECRET). */
  systemClient: { id: string; secret: string };
  clients: DevClient[];
  /** Lifetime of a backchannel request; a smaller `requested_expiry` from the client wins. */
  cibaExpirySeconds?: number;
  /** The `interval` announced to polling clients (CIBA's default is 5 s; shorter keeps demos brisk). */
  pollIntervalSeconds?: number;
  logger?: Logger;
  /** Told of each login handed to the service (tests use it to call the System API themselves). */
  onLogin?: (login: Readonly<Login>) => void;
}

export interface DevAuthorizationServer {
  origin: string;
  /** `{origin}/{tenant}/{workspace}` */
  issuer: string;
  provider: Provider;
  close(): Promise<void>;
}

/** What the device shows for each scope (SecureAuth keeps the same in its scope catalogue). */
export const DEV_SCOPES: Record<string, ScopeDescription> = {
  openid: { display_name: 'Sign you in', description: 'Confirms who you are to the application' },
  profile: { display_name: 'Your profile', description: 'Your user name' },
  offline_access: { display_name: 'Stay signed in', description: 'Lets the application refresh its access' },
};

const BINDING_MESSAGE_MAX = 256;

function clientMetadata(client: DevClient): ClientMetadata {
  if (client.deliveryMode === 'ping' && client.notificationEndpoint === undefined) {
    throw new Error(`client ${client.clientId}: ping mode needs a notification endpoint`);
  }
  return {
    client_id: client.clientId,
    client_secret: client.clientSecret,
    ...(client.clientName !== undefined ? { client_name: client.clientName } : {}),
    ...(client.logoUri !== undefined ? { logo_uri: client.logoUri } : {}),
    grant_types: ['urn:openid:params:grant-type:ciba'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_basic',
    backchannel_token_delivery_mode: client.deliveryMode,
    ...(client.deliveryMode === 'ping' ? { backchannel_client_notification_endpoint: client.notificationEndpoint } : {}),
  };
}

export async function startDevAuthorizationServer(options: DevAuthorizationServerOptions): Promise<DevAuthorizationServer> {
  const host = options.host ?? '127.0.0.1';
  const tenant = options.tenant ?? 'demo';
  const workspace = options.workspace ?? 'ciba';
  const cibaExpirySeconds = options.cibaExpirySeconds ?? 120;
  const pollIntervalSeconds = options.pollIntervalSeconds ?? 2;
  const logger = options.logger ?? pino({ name: 'dev-authorization-server' });
  const service = new AuthenticationService(options.service);
  const logins = new Logins();

  // The issuer contains the port, so listen first and mount the provider afterwards.
  const app = express();
  app.disable('x-powered-by');
  const server: Server = await new Promise((resolve, reject) => {
    const listening = app.listen(options.port, host, (error?: Error) => (error ? reject(error) : resolve(listening)));
  });
  const { port } = server.address() as AddressInfo;
  const origin = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const issuer = `${origin}/${tenant}/${workspace}`;

  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const signingKey = { ...(await exportJWK(privateKey)), kid: randomUUID(), use: 'sig', alg: 'RS256' };

  let provider: Provider | undefined;
  const providerOf = (): Provider => {
    if (provider === undefined) throw new Error('provider not ready');
    return provider;
  };

  const configuration: Configuration = {
    clients: options.clients.map(clientMetadata),
    clientAuthMethods: ['client_secret_basic'],
    jwks: { keys: [signingKey] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    scopes: Object.keys(DEV_SCOPES),
    claims: { openid: ['sub'], profile: ['preferred_username'] },
    responseTypes: ['none'],
    findAccount: (_ctx, sub) => ({
      accountId: sub,
      claims: () => ({ sub, preferred_username: sub }),
    }),
    ttl: {
      AccessToken: 600,
      IdToken: 600,
      Grant: 3600,
      Session: 3600,
      Interaction: 600,
      ClientCredentials: 600,
      RefreshToken: 3600,
      BackchannelAuthenticationRequest: (ctx: KoaContextWithOIDC) => {
        const requested = Number(ctx?.oidc?.params?.['requested_expiry']);
        return Number.isSafeInteger(requested) && requested > 0 ? Math.min(requested, cibaExpirySeconds) : cibaExpirySeconds;
      },
    },
    fetch: loopbackTolerantFetch,
    features: {
      devInteractions: { enabled: false },
      ciba: {
        enabled: true,
        deliveryModes: ['poll', 'ping'],
        async processLoginHint(_ctx, loginHint) {
          if (loginHint === undefined || loginHint.trim() === '') return undefined;
          try {
            const valid = await service.verifyUser(loginHint);
            logger.info({ loginHint, valid }, 'POST /user/verify');
            return valid ? loginHint : undefined;
          } catch (error) {
            // SecureAuth cannot tell an unreachable service from an unknown user either.
            logger.warn({ err: error, loginHint }, '/user/verify failed; answering unknown_user_id');
            return undefined;
          }
        },
        async processLoginHintToken() {
          throw new errors.InvalidRequest('login_hint_token is not supported; use login_hint');
        },
        validateBindingMessage(_ctx, bindingMessage) {
          if (bindingMessage === undefined) return;
          // eslint-disable-next-line no-control-regex
          if (bindingMessage.length === 0 || bindingMessage.length > BINDING_MESSAGE_MAX || /[\u0000-\u001f\u007f]/.test(bindingMessage)) {
            throw new errors.InvalidBindingMessage(`binding_message must be 1-${BINDING_MESSAGE_MAX} printable characters`);
          }
        },
        validateRequestContext() {
          // request_context is optional in CIBA and carries nothing the development server acts on.
        },
        verifyUserCode(_ctx, _account, userCode) {
          if (userCode !== undefined) throw new errors.InvalidRequest('user_code is not supported');
        },
        async triggerAuthenticationDevice(_ctx, request, account, client) {
          const authReqId = request.jti;
          const login: Login = {
            loginId: `login-${randomBytes(10).toString('hex')}`,
            state: randomBytes(16).toString('base64url'),
            authReqId,
            accountId: account.accountId,
            clientId: client.clientId,
            requestedScopes: (request.scope ?? '').split(' ').filter(Boolean),
            bindingMessage: typeof request.params?.['binding_message'] === 'string' ? request.params['binding_message'] : undefined,
            requestedAt: new Date().toISOString(),
            decision: 'pending',
          };
          // Registered before the call: the service may read the login before it even answers.
          logins.add(login);
          options.onLogin?.(login);
          const requestId = await service.startAuthentication({
            login_id: login.loginId,
            user_identifier: login.accountId,
            state: login.state,
            client_id: login.clientId,
            ...(login.bindingMessage !== undefined ? { binding_message: login.bindingMessage } : {}),
            requested_scopes: login.requestedScopes,
          });
          logger.info({ loginId: login.loginId, authReqId, requestId, clientId: client.clientId }, 'POST /authentication/start');
        },
      },
    },
  };

  provider = new Provider(issuer, configuration);
  // CIBA lets the server announce its polling interval; oidc-provider leaves it out (meaning 5 s).
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.oidc?.route === 'backchannel_authentication' && ctx.status === 200 && typeof ctx.body === 'object' && ctx.body !== null) {
      (ctx.body as Record<string, unknown>)['interval'] = pollIntervalSeconds;
    }
  });
  provider.on('server_error', (_ctx, error) => logger.error({ err: error }, 'oidc-provider server error'));
  provider.on('backchannel_authentication.error', (_ctx, error) => logger.info({ error: error.message }, 'backchannel request refused'));
  provider.on('grant.error', (_ctx, error) => logger.info({ error: error.message }, 'token request refused'));
  provider.on('grant.success', (ctx) => logger.info({ clientId: ctx.oidc.client?.clientId }, 'tokens issued'));

  const decide = async (login: Login, decision: Decision): Promise<void> => {
    const current = providerOf();
    if (decision.kind === 'accept') {
      const grant = new current.Grant({ accountId: login.accountId, clientId: login.clientId });
      grant.addOIDCScope(decision.grantedScopes.filter((scope) => scope in DEV_SCOPES));
      await grant.save();
      await current.backchannelResult(login.authReqId, grant);
    } else {
      const description = decision.errorDescription ?? 'the authentication was rejected';
      const request = await current.BackchannelAuthenticationRequest.find(login.authReqId, { ignoreExpiration: true });
      if (request === undefined) throw new Error(`backchannel request ${login.authReqId} not found`);
      // oidc-provider 9.13 copies the error's description to a property it does not store
      // (error_description, where the model keeps errorDescription); setting it here keeps it.
      request.errorDescription = description;
      await current.backchannelResult(request, new errors.AccessDenied(description));
    }
  };

  app.use(
    systemApi({
      tenant,
      workspace,
      issuer,
      systemClient: options.systemClient,
      logins,
      scopes: DEV_SCOPES,
      async describeClient(clientId) {
        const client = await providerOf().Client.find(clientId);
        return {
          ...(client?.clientName ? { client_name: client.clientName } : {}),
          ...(client?.logoUri ? { logo_uri: client.logoUri } : {}),
        };
      },
      decide,
      logger,
    }),
  );
  app.use(`/${tenant}/${workspace}`, provider.callback());
  app.get('/healthz', (_req, res) => {
    res.status(200).json({ status: 'ok', issuer });
  });

  logger.info({ issuer, clients: options.clients.map((c) => `${c.clientId} (${c.deliveryMode})`) }, 'development authorization server listening');

  let closing: Promise<void> | undefined;
  return {
    origin,
    issuer,
    provider,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
