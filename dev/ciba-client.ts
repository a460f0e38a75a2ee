/**
 * A CIBA consumption device on openid-client (a certified Relying Party library): it starts a
 * backchannel authentication request and obtains the tokens by polling, or after the authorization
 * server's ping. Used by `npm run cd` and the end-to-end tests.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import * as openid from 'openid-client';
import { generate as generateCertificate } from 'selfsigned';

export type DeliveryMode = 'poll' | 'ping';

export interface CibaRequestOptions {
  issuer: string;
  clientId: string;
  clientSecret: string;
  loginHint: string;
  scope: string;
  bindingMessage?: string;
  /** Asks for a shorter lifetime than the server's default (seconds). */
  requestedExpiry?: number;
  mode: DeliveryMode;
  /** Ping mode: the client's registered notification endpoint, which this process serves (https). */
  notificationEndpoint?: string;
  /** Progress for people watching (the command prints these). */
  onEvent?: (event: CibaEvent) => void;
}

export type CibaEvent =
  | { type: 'listening'; notificationEndpoint: string }
  | { type: 'initiated'; authReqId: string; expiresIn: number; interval: number | undefined }
  | { type: 'ping'; authReqId: string }
  | { type: 'ping-refused'; reason: string };

export interface ReceivedPing {
  authorization: string | undefined;
  body: unknown;
}

interface OutcomeCommon {
  /** Ping mode: the bearer token the client gave for its notification endpoint. */
  clientNotificationToken: string | undefined;
  /** Ping mode: every notification received, valid or not. */
  pings: ReceivedPing[];
}

export type CibaOutcome = OutcomeCommon &
  (
  | {
      ok: true;
      authReqId: string;
      tokens: openid.TokenEndpointResponse;
      idTokenClaims: openid.IDToken | undefined;
    }
  | {
      ok: false;
      authReqId: string | undefined;
      error: string;
      errorDescription: string | undefined;
    }
  );

/**
 * The server keeps an expired request this long after its expiry (oidc-provider's clock tolerance is
 * 15 s), so a client still polling then hears `expired_token` rather than timing out on its own.
 */
const AFTER_EXPIRY_GRACE_SECONDS = 10;

/**
 * Discovery and client authentication (client_secret_basic). openid-client refuses plain-http
 * authorization servers unless told otherwise: `allowInsecureRequests` is its documented switch for
 * development, and it is used here only for http issuers (the local development server).
 */
export async function configureClient(issuer: string, clientId: string, clientSecret: string): Promise<openid.Configuration> {
  const url = new URL(issuer);
  return openid.discovery(url, clientId, undefined, openid.ClientSecretBasic(clientSecret), {
    ...(url.protocol === 'http:' ? { execute: [openid.allowInsecureRequests] } : {}),
    timeout: 10,
  });
}

function failure(authReqId: string | undefined, error: unknown, common: OutcomeCommon): CibaOutcome {
  if (error instanceof openid.ResponseBodyError) {
    return { ok: false, authReqId, error: error.error, errorDescription: error.error_description, ...common };
  }
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return { ok: false, authReqId, error: 'timeout', errorDescription: error.message, ...common };
  }
  const message = error instanceof Error ? error.message : String(error);
  const code = error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : 'client_error';
  return { ok: false, authReqId, error: code, errorDescription: message, ...common };
}

export async function requestTokens(options: CibaRequestOptions): Promise<CibaOutcome> {
  const emit = options.onEvent ?? (() => {});
  const pings: ReceivedPing[] = [];
  const config = await configureClient(options.issuer, options.clientId, options.clientSecret);

  let listener: NotificationListener | undefined;
  const notificationToken = randomBytes(24).toString('base64url');
  if (options.mode === 'ping') {
    if (options.notificationEndpoint === undefined) throw new Error('ping mode needs the notification endpoint registered for the client');
    listener = await listenForPings(options.notificationEndpoint, notificationToken, pings, emit);
  }

  const common: OutcomeCommon = { clientNotificationToken: options.mode === 'ping' ? notificationToken : undefined, pings };
  let authReqId: string | undefined;
  try {
    const parameters: Record<string, string> = {
      scope: options.scope,
      login_hint: options.loginHint,
      ...(options.bindingMessage !== undefined ? { binding_message: options.bindingMessage } : {}),
      ...(options.requestedExpiry !== undefined ? { requested_expiry: String(options.requestedExpiry) } : {}),
      ...(options.mode === 'ping' ? { client_notification_token: notificationToken } : {}),
    };
    const response = await openid.initiateBackchannelAuthentication(config, parameters);
    authReqId = response.auth_req_id;
    emit({ type: 'initiated', authReqId, expiresIn: response.expires_in, interval: response.interval });

    const deadline = AbortSignal.timeout((response.expires_in + AFTER_EXPIRY_GRACE_SECONDS) * 1000);
    let tokens: openid.TokenEndpointResponse & openid.TokenEndpointResponseHelpers;
    if (listener === undefined) {
      tokens = await openid.pollBackchannelAuthenticationGrant(config, response, undefined, { signal: deadline });
    } else {
      // No ping comes when the request expires: wait until then, and ask once either way.
      await listener.waitForPing(authReqId, response.expires_in * 1000 + 1000);
      // After the ping the result is stored, so the token request need not wait for an interval.
      tokens = await openid.pollBackchannelAuthenticationGrant(config, { ...response, interval: 0 }, undefined, { signal: deadline });
    }
    return { ok: true, authReqId, tokens, idTokenClaims: tokens.claims(), ...common };
  } catch (error) {
    return failure(authReqId, error, common);
  } finally {
    await listener?.close();
  }
}

interface NotificationListener {
  /** Resolves on a valid ping for `authReqId`, or after `timeoutMs` without one. */
  waitForPing(authReqId: string, timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * The client notification endpoint (CIBA ping mode): https with a throw-away self-signed
 * certificate; a ping counts only with `Authorization: Bearer <client_notification_token>` and the
 * expected `auth_req_id`. Every ping received is recorded, valid or not.
 */
async function listenForPings(
  endpoint: string,
  token: string,
  received: ReceivedPing[],
  emit: (event: CibaEvent) => void,
): Promise<NotificationListener> {
  const url = new URL(endpoint);
  if (url.protocol !== 'https:') throw new Error('the notification endpoint must be https (CIBA requires it)');
  const certificate = await generateCertificate([{ name: 'commonName', value: url.hostname }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + 24 * 3600 * 1000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }, { type: 7, ip: '::1' }] },
    ],
  });

  const validPings = new Set<string>();
  const waiters = new Map<string, () => void>();
  const server: Server = createServer({ key: certificate.private, cert: certificate.cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        body = undefined;
      }
      received.push({ authorization: req.headers.authorization, body });
      const refuse = (status: number, reason: string): void => {
        emit({ type: 'ping-refused', reason });
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: reason }));
      };
      if (req.method !== 'POST' || (req.url ?? '').split('?')[0] !== url.pathname) return refuse(404, 'not the notification endpoint');
      if (req.headers.authorization !== `Bearer ${token}`) return refuse(401, 'wrong or missing client_notification_token');
      const authReqId = typeof body === 'object' && body !== null ? (body as { auth_req_id?: unknown }).auth_req_id : undefined;
      if (typeof authReqId !== 'string') return refuse(400, 'no auth_req_id in the ping');
      res.writeHead(204).end();
      emit({ type: 'ping', authReqId });
      validPings.add(authReqId);
      waiters.get(authReqId)?.();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new Error(`the notification endpoint's port is in use: ${endpoint}`) : error),
    );
    server.listen(Number(url.port || 443), url.hostname.replace(/^\[|\]$/g, ''), resolve);
  });
  emit({ type: 'listening', notificationEndpoint: endpoint });

  return {
    waitForPing(authReqId, timeoutMs) {
      if (validPings.has(authReqId)) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const timer = setTimeout(finish, timeoutMs);
        function finish(): void {
          clearTimeout(timer);
          waiters.delete(authReqId);
          resolve();
        }
        waiters.set(authReqId, finish);
      });
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
