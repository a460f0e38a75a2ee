/**
 * A local stand-in for Google's side of Firebase Cloud Messaging, so tests run the REAL firebase-admin
 * SDK — its message validation and JSON building, its OAuth token exchange for the service account,
 * its error mapping — and replace only the network edge.
 *
 * How the SDK is pointed here, and why this way: firebase-admin has no emulator or host setting for
 * messaging (the FCM host `fcm.googleapis.com` is a constant, and google-auth-library posts the
 * service-account JWT to the constant `https://oauth2.googleapis.com/token`, ignoring the file's
 * `token_uri`). What it does offer, publicly, is `httpAgent`: the Node HTTPS agent used for every
 * call of the app (with the HTTP/1.1 transport the service uses) and, when the credential is given as
 * a file path, for the token exchange too. The service accepts such an agent as an override
 * (`ServiceOverrides.fcmAgent`); the one made here keeps every request exactly as the SDK builds it —
 * URL, headers, body — and only connects its socket to this server on loopback instead of to
 * Google. TLS goes with the destination: the socket is plain TCP, so no certificate is needed, and no
 * call can leave the machine whatever host the SDK asks for.
 *
 * The stand-in checks what it receives like Google would, so contract mistakes fail tests: the token
 * request's JWT assertion (signed with the throwaway key of the fake service-account file it writes),
 * the bearer token on every send, the project in the path, the message shape. Problems are collected in
 * `problems` (a test expects it to stay empty). It records the exact JSON of every message and answers
 * 200 `{name}` unless told otherwise per token, with FCM HTTP v1 error bodies.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { Agent, type AgentOptions } from 'node:https';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { importSPKI, jwtVerify } from 'jose';

export const FCM_HOST = 'fcm.googleapis.com';
const OAUTH_HOST = 'oauth2.googleapis.com';
const TOKEN_AUDIENCE = `https://${OAUTH_HOST}/token`;
const MESSAGING_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';

/** FCM HTTP v1 failures, as FCM answers them. */
export type FcmFailure = 'unavailable' | 'internal' | 'quota-exceeded' | 'unregistered' | 'invalid-token';

export interface ScriptedFcmAnswer {
  status: number;
  body: unknown;
}

export interface RecordedFcmMessage {
  /** The `message` object of the request body, exactly as received. */
  message: Record<string, unknown>;
  token: string | undefined;
  /** The whole request body (`{message}`, plus `validate_only` if it were set). */
  body: unknown;
  headers: IncomingHttpHeaders;
  status: number;
  /** When the request arrived, as `performance.timeOrigin + performance.now()` (ms, sub-ms precision). */
  receivedAt: number;
}

export interface FcmStandInOptions {
  projectId?: string;
  /** Called for every message as it arrives, before answering (benchmarks record arrival times). */
  onMessage?: (message: RecordedFcmMessage) => void;
  /** Keep no records (long benchmark runs). */
  record?: boolean;
}

export interface FcmStandIn {
  readonly projectId: string;
  /** Loopback port of the stand-in (an agent for another thread: `new LoopbackAgent(port)`). */
  readonly port: number;
  readonly clientEmail: string;
  /** Path of the fake service-account JSON (throwaway RSA key); give it as FIREBASE_SERVICE_ACCOUNT_FILE. */
  readonly serviceAccountFile: string;
  /** HTTPS agent whose connections lead here; give it as `ServiceOverrides.fcmAgent`. */
  readonly agent: Agent;
  /** Every send request, in arrival order, whatever the answer. */
  readonly messages: readonly RecordedFcmMessage[];
  /** Number of OAuth tokens issued. */
  readonly tokensIssued: number;
  /** What the stand-in found wrong in what it received. Should stay empty. */
  readonly problems: readonly string[];
  /** Answer the next sends to `token` with these failures (then normally again). */
  failNext(token: string, failures: Array<FcmFailure | ScriptedFcmAnswer>): void;
  /** From now on every send to `token` fails like this. */
  failAlways(token: string, failure: FcmFailure): void;
  /** Messages sent to `token` (any answer), in order. */
  messagesTo(token: string): RecordedFcmMessage[];
  /** Messages to `token` that FCM accepted (200). */
  deliveredTo(token: string): Array<Record<string, unknown>>;
  waitFor(predicate: (messages: readonly RecordedFcmMessage[]) => boolean, timeoutMs?: number, what?: string): Promise<void>;
  close(): Promise<void>;
}

const fcmError = (code: number, status: string, message: string, errorCode: string): ScriptedFcmAnswer => ({
  status: code,
  body: {
    error: {
      code,
      message,
      status,
      details: [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode }],
    },
  },
});

/** The bodies FCM HTTP v1 answers with (https://firebase.google.com/docs/reference/fcm/rest/v1/ErrorCode). */
const FCM_FAILURES: Record<FcmFailure, ScriptedFcmAnswer> = {
  unavailable: fcmError(503, 'UNAVAILABLE', 'The service is currently unavailable.', 'UNAVAILABLE'),
  internal: fcmError(500, 'INTERNAL', 'Internal error encountered.', 'INTERNAL'),
  'quota-exceeded': fcmError(429, 'RESOURCE_EXHAUSTED', 'Quota exceeded for quota metric.', 'QUOTA_EXCEEDED'),
  unregistered: fcmError(404, 'NOT_FOUND', 'Requested entity was not found.', 'UNREGISTERED'),
  'invalid-token': fcmError(400, 'INVALID_ARGUMENT', 'The registration token is not a valid FCM registration token', 'INVALID_ARGUMENT'),
};

/** An HTTPS agent that connects every request to the stand-in's loopback port (plain TCP). */
export class LoopbackAgent extends Agent {
  constructor(
    private readonly port: number,
    options: AgentOptions = {},
  ) {
    super({ keepAlive: true, ...options });
  }

  override createConnection(): Socket {
    return connect(this.port, '127.0.0.1');
  }
}

const now = (): number => performance.timeOrigin + performance.now();

export async function startFcmStandIn(options: FcmStandInOptions = {}): Promise<FcmStandIn> {
  const projectId = options.projectId ?? 'ciba-test-project';
  const clientEmail = `push-sender@${projectId}.iam.gserviceaccount.com`;
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const verificationKey = await importSPKI(publicKey, 'RS256');
  const folder = mkdtempSync(join(tmpdir(), 'fcm-stand-in-'));
  const serviceAccountFile = join(folder, 'service-account.json');
  writeFileSync(
    serviceAccountFile,
    JSON.stringify({
      type: 'service_account',
      project_id: projectId,
      private_key_id: randomBytes(20).toString('hex'),
      private_key: privateKey,
      client_email: clientEmail,
      client_id: '100000000000000000000',
      auth_uri: 'https://accounts.google.com/o/oauth2/auth',
      // Not used by google-auth-library (it posts to the constant oauth2.googleapis.com); kept realistic.
      token_uri: TOKEN_AUDIENCE,
    }),
    { mode: 0o600 },
  );

  const messages: RecordedFcmMessage[] = [];
  const problems: string[] = [];
  const issuedTokens = new Set<string>();
  const scripted = new Map<string, ScriptedFcmAnswer[]>();
  const permanent = new Map<string, ScriptedFcmAnswer>();
  const record = options.record ?? true;
  const sendPath = `/v1/projects/${projectId}/messages:send`;

  const server: Server = createServer((req, res) => {
    const receivedAt = now();
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const answer = (status: number, body: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
        res.end(JSON.stringify(body));
      };
      const host = req.headers.host;
      if (host === OAUTH_HOST && req.method === 'POST' && req.url === '/token') {
        void issueToken(text).then(
          (token) => answer(200, { access_token: token, expires_in: 3599, token_type: 'Bearer' }),
          (error: unknown) => {
            problems.push(`token request refused: ${(error as Error).message}`);
            answer(400, { error: 'invalid_grant', error_description: (error as Error).message });
          },
        );
        return;
      }
      if (host !== FCM_HOST || req.method !== 'POST' || req.url !== sendPath) {
        problems.push(`unexpected call ${req.method} ${host}${req.url}`);
        answer(404, { error: { code: 404, message: 'not found', status: 'NOT_FOUND' } });
        return;
      }
      const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      if (bearer === undefined || !issuedTokens.has(bearer)) {
        problems.push('send without a valid bearer token');
        answer(401, { error: { code: 401, message: 'Request had invalid authentication credentials.', status: 'UNAUTHENTICATED' } });
        return;
      }
      let body: { message?: Record<string, unknown> } | undefined;
      try {
        body = JSON.parse(text) as { message?: Record<string, unknown> };
      } catch {
        problems.push('send body is not JSON');
      }
      const message = body?.message ?? {};
      problems.push(...messageProblems(message, req.headers['content-type']));
      const token = typeof message.token === 'string' ? message.token : undefined;
      const reply = (token !== undefined ? (scripted.get(token)?.shift() ?? permanent.get(token)) : undefined) ?? {
        status: 200,
        body: { name: `projects/${projectId}/messages/${randomBytes(8).toString('hex')}` },
      };
      const recorded: RecordedFcmMessage = { message, token, body, headers: req.headers, status: reply.status, receivedAt };
      if (record) messages.push(recorded);
      options.onMessage?.(recorded);
      answer(reply.status, reply.body);
    });
  });

  /** Checks the JWT bearer grant the way Google's token endpoint would, and issues an access token. */
  async function issueToken(form: string): Promise<string> {
    const params = new URLSearchParams(form);
    if (params.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') throw new Error('wrong grant_type');
    const { payload } = await jwtVerify(params.get('assertion') ?? '', verificationKey, { issuer: clientEmail, audience: TOKEN_AUDIENCE });
    if (typeof payload.scope !== 'string' || !payload.scope.split(' ').includes(MESSAGING_SCOPE)) throw new Error('the firebase.messaging scope is missing');
    const token = `ya29.stand-in-${randomBytes(16).toString('hex')}`;
    issuedTokens.add(token);
    return token;
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const agent = new LoopbackAgent(port);

  return {
    projectId,
    port,
    clientEmail,
    serviceAccountFile,
    agent,
    messages,
    get tokensIssued() {
      return issuedTokens.size;
    },
    problems,
    failNext(token, failures) {
      const queue = scripted.get(token) ?? [];
      queue.push(...failures.map((failure) => (typeof failure === 'string' ? FCM_FAILURES[failure] : failure)));
      scripted.set(token, queue);
    },
    failAlways(token, failure) {
      permanent.set(token, FCM_FAILURES[failure]);
    },
    messagesTo: (token) => messages.filter((message) => message.token === token),
    deliveredTo: (token) => messages.filter((message) => message.token === token && message.status === 200).map((message) => message.message),
    async waitFor(predicate, timeoutMs = 10_000, what = 'the expected FCM messages') {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(messages)) {
        if (Date.now() > deadline) throw new Error(`${what} did not arrive within ${timeoutMs} ms; got ${JSON.stringify(messages.map((m) => m.message))}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async close() {
      agent.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(folder, { recursive: true, force: true });
    },
  };
}

/** What FCM HTTP v1 itself would refuse in a message (https://firebase.google.com/docs/reference/fcm/rest/v1/projects.messages). */
function messageProblems(message: Record<string, unknown>, contentType: string | undefined): string[] {
  const problems: string[] = [];
  if (!/^application\/json/.test(contentType ?? '')) problems.push(`content-type ${contentType}`);
  const targets = ['token', 'topic', 'condition'].filter((key) => message[key] !== undefined);
  if (targets.length !== 1) problems.push(`a message needs exactly one of token, topic, condition (got ${targets.join(', ') || 'none'})`);
  const data = message.data;
  if (data !== undefined && (typeof data !== 'object' || data === null || Object.values(data).some((value) => typeof value !== 'string'))) {
    problems.push('data values must be strings');
  }
  const android = message.android as { ttl?: unknown } | undefined;
  if (android?.ttl !== undefined && !(typeof android.ttl === 'string' && /^\d+(\.\d{1,9})?s$/.test(android.ttl))) {
    problems.push(`android.ttl must be a duration like "3.5s" (got ${JSON.stringify(android.ttl)})`);
  }
  const apnsHeaders = (message.apns as { headers?: Record<string, unknown> } | undefined)?.headers;
  if (apnsHeaders !== undefined && Object.values(apnsHeaders).some((value) => typeof value !== 'string')) {
    problems.push('apns.headers values must be strings');
  }
  return problems;
}
