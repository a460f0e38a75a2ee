/**
 * Every operation of the OpenAPI document, read from the document itself, gets arbitrary requests:
 * path parameters of any shape, query strings, Authorization headers right and wrong, bodies valid,
 * malformed or deep, any content type and encoding, odd extra headers. Whatever arrives, the answer
 * is below 500 and is the documented kind (JSON `{error, error_description}` for every API error, an
 * HTML page on the browser routes), carries nothing of the service's insides, and a valid call made
 * at the same moment is answered as if nothing happened.
 */
import fc from 'fast-check';
import { DeviceClient } from '../../dev/device-client.js';
import { startRequest } from '../support/api-helpers.js';
import {
  authorization,
  bodyText,
  check,
  contentEncoding,
  contentType,
  documentedOperations,
  expectHtmlAnswer,
  expectJsonAnswer,
  expectNoInternals,
  expectStillServing,
  extraHeaders,
  headerText,
  LIMITS_OUT_OF_REACH,
  objectWith,
  send,
  type Answer,
  type DocumentedOperation,
} from '../support/hostile.js';
import { startSecureAuthStub, type SecureAuthStub } from '../support/secureauth-stub.js';
import { ADMIN_TOKEN, AS_PASSWORD, AS_USER, startService, type TestService } from '../support/service.js';

const BASIC = `Basic ${Buffer.from(`${AS_USER}:${AS_PASSWORD}`).toString('base64')}`;

let secureAuth: SecureAuthStub;
let service: TestService;
/** alice's device only decides the final check; fuzzing uses bob's device, so alice stays reachable. */
let bobDevice: DeviceClient;
let bobDeviceId: string;
let requestId: string;

beforeAll(async () => {
  secureAuth = await startSecureAuthStub();
  service = await startService({ store: 'memory', secureAuth, env: LIMITS_OUT_OF_REACH });
  await DeviceClient.enroll(service.url, await service.createUser('alice'));
  bobDevice = await DeviceClient.enroll(service.url, await service.createUser('bob'));
  bobDeviceId = bobDevice.deviceId;
  requestId = (await startRequest(service, secureAuth, 'bob')).requestId;
  await service.createUser('mallory');
});
afterAll(async () => {
  await service.stop();
  await secureAuth.close();
});

/** The valid call that must keep working beside the garbage. */
async function validCall(): Promise<void> {
  const answer = await send(service.url, {
    method: 'POST',
    path: '/user/verify',
    headers: { authorization: BASIC, 'content-type': 'application/json' },
    body: JSON.stringify({ user_identifier: 'alice' }),
  });
  expect({ status: answer.status, body: answer.json }).toEqual({ status: 200, body: { valid: true } });
}

/** Values of path parameters: real ones (so the request goes deep), and anything else. */
function pathParameter(name: string): fc.Arbitrary<string> {
  const real: Record<string, string[]> = {
    user_id: ['mallory', 'nobody'],
    device_id: [bobDeviceId],
    request_id: [requestId, 'unknown-request'],
    asset: ['app.js', 'styles.css'],
    token: [`${requestId}.${'A'.repeat(43)}`],
  };
  return fc.oneof(
    fc.constantFrom(...(real[name] ?? ['x'])),
    fc.string({ maxLength: 40 }).map(encodeURIComponent),
    fc.string({ unit: 'binary', maxLength: 20 }).map(encodeURIComponent),
    fc.constantFrom('%', '%zz', '%00', '%E0%A4%A', '%2e%2e', '%2F', 'a%2Fb', '%C0%AF', ';', '~', '@', ':', '$', '!'),
    fc.integer({ min: 200, max: 3_000 }).map((length) => 'x'.repeat(length)),
  );
}

const queryString: fc.Arbitrary<string> = fc.oneof(
  fc.constant(''),
  fc.webQueryParameters().map((query) => `?${query}`),
  fc
    .dictionary(fc.constantFrom('limit', 'since', 'cursor', 'type', 'user_id', 'request_id', 'x'), fc.string({ maxLength: 30 }), { maxKeys: 4 })
    .map((query) => `?${new URLSearchParams(query).toString()}`),
  fc.constantFrom('?limit=0', '?limit=999', '?limit=-1', '?since=yesterday', '?since=9999-99-99T99:99:99Z', '?a[b]=1&a[c]=2', '?%', '?limit=1&limit=2', '?cursor=%00'),
);

const fieldsOf: Record<string, string[]> = {
  verifyUser: ['user_identifier'],
  startAuthentication: ['login_id', 'user_identifier', 'state', 'client_id', 'binding_message', 'requested_scopes', 'scopes', 'scope', 'authorization_details'],
  putUser: ['display_name', 'aliases', 'disabled'],
  putAccounts: ['accounts'],
  enrollDevice: ['activation_code', 'public_jwk', 'name', 'platform', 'push_token'],
  updateOwnDevice: ['name', 'push_token'],
  decideRequest: ['decision'],
  decideByMagicLink: ['action', 'csrf_token', 'consent_hash', 'binding_choice'],
};

/** A body: any text, or an object with the operation's field names and values of any type. */
function body(operation: DocumentedOperation): fc.Arbitrary<string | undefined> {
  const fields = fieldsOf[operation.operationId] ?? ['x'];
  return fc.oneof(
    fc.constant(undefined),
    bodyText,
    objectWith(fields).map((value) => JSON.stringify(value)),
    // Values may be objects without a prototype (fast-check makes those too), which String() cannot print.
    objectWith(fields).map((value) =>
      new URLSearchParams(Object.entries(value).map(([key, item]) => [key, typeof item === 'string' ? item : (JSON.stringify(item) ?? '')])).toString(),
    ),
  );
}

/** Credentials: garbage, or the right ones for the operation's security scheme (so the body is looked at). */
async function rightCredentials(operation: DocumentedOperation, method: string, path: string): Promise<Record<string, string>> {
  if (operation.security.includes('authorizationServerBasic')) return { authorization: BASIC };
  if (operation.security.includes('adminBearer')) return { authorization: `Bearer ${ADMIN_TOKEN}` };
  // Un-enrolling bob's device would leave the rest of the run without a device: garbage only there.
  if (operation.security.includes('deviceDPoP') && operation.operationId !== 'unenrollOwnDevice') {
    return { authorization: `DPoP ${bobDevice.deviceToken}`, dpop: await bobDevice.proof(method, path.split('?')[0] ?? path) };
  }
  return {};
}

const STATIC_OK: Record<string, RegExp> = {
  getMetrics: /^text\/plain\b/,
  getOpenApiDocument: /^application\/yaml\b/,
  getWebAuthenticator: /^text\/html\b/,
  // An empty asset name is /authenticator/, which is the page itself.
  getWebAuthenticatorAsset: /^text\/(?:javascript|css|html)\b/,
};

/** The documented kind of answer for this operation and status (for where the request really went: `..` segments resolve). */
function expectDocumented(operation: DocumentedOperation, answer: Answer, context: string, sentPath: string): void {
  if (new URL(sentPath, 'http://service').pathname.startsWith('/magic-links/')) {
    expectHtmlAnswer(answer, context);
    return;
  }
  const staticKind = STATIC_OK[operation.operationId];
  if (staticKind !== undefined && answer.status >= 200 && answer.status < 300) {
    expect(answer.headers.get('content-type') ?? '').toMatch(staticKind);
    return;
  }
  expectJsonAnswer(answer, context);
}

const operations = documentedOperations();

it('reads every operation of the OpenAPI document', () => {
  expect(operations.length).toBeGreaterThanOrEqual(24);
  expect(operations.map((operation) => operation.operationId)).toEqual(expect.arrayContaining(['verifyUser', 'enrollDevice', 'decideRequest', 'decideByMagicLink', 'getHealth']));
});

describe.each(operations.map((operation) => [`${operation.method} ${operation.path}`, operation] as const))('%s', (_name, operation) => {
  const parameterNames = [...operation.path.matchAll(/\{(\w+)\}/g)].map((match) => match[1] ?? '');
  const parameters = fc.tuple(...parameterNames.map(pathParameter)) as fc.Arbitrary<string[]>;
  const hasBody = operation.method !== 'GET';

  it('answers arbitrary requests with the documented kind of answer, below 500, while valid calls go on', async () => {
    await check(
      [parameters, queryString, fc.boolean(), authorization, hasBody ? body(operation) : fc.constant(undefined), contentType, contentEncoding, extraHeaders],
      async (values, query, useRightCredentials, wrongAuthorization, text, type, encoding, extra) => {
        let path = operation.path;
        parameterNames.forEach((name, index) => {
          path = path.replace(`{${name}}`, values[index] ?? '');
        });
        const headers: Record<string, string> = { ...extra };
        if (useRightCredentials) Object.assign(headers, await rightCredentials(operation, operation.method, path));
        else if (wrongAuthorization !== undefined) headers.authorization = wrongAuthorization;
        if (type !== undefined) headers['content-type'] = type;
        if (encoding !== undefined) headers['content-encoding'] = encoding;
        const request = { method: operation.method, path: `${path}${query}`, headers, ...(text !== undefined ? { body: text } : {}) };
        const [answer] = await Promise.all([send(service.url, request), validCall()]);
        expectDocumented(operation, answer, `${operation.method} ${request.path}`, request.path);
      },
    );
    await expectStillServing(service.url, validCall);
  });
});

describe('methods and paths the document does not have', () => {
  const documentedPaths = [...new Set(operations.map((operation) => operation.path))];

  it('answers any other method on a documented path with JSON (or the HTML page of a browser route)', async () => {
    await check(
      [fc.constantFrom(...documentedPaths), fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'), authorization],
      async (template, method, auth) => {
        const path = template.replace(/\{\w+\}/g, 'x');
        const answer = await send(service.url, { method, path, headers: auth === undefined ? {} : { authorization: auth } });
        const documented = operations.some((operation) => operation.path === template && operation.method === method);
        if (documented) {
          expect(answer.status).toBeLessThan(500);
          expectNoInternals(answer.text);
        } else if (template.startsWith('/magic-links/')) {
          expect(answer.status).toBeLessThan(500);
          expectNoInternals(answer.text);
        } else {
          expectJsonAnswer(answer, `${method} ${path}`);
          expect(answer.status).toBeGreaterThanOrEqual(400);
        }
      },
    );
  });

  it('answers arbitrary paths with 404 JSON (or a page under /magic-links)', async () => {
    await check([fc.webPath(), headerText(30), fc.constantFrom('GET', 'POST', 'PUT', 'DELETE')], async (webPath, noise, method) => {
      const path = `/${webPath.replace(/^\/+/, '')}${encodeURIComponent(noise)}`;
      const answer = await send(service.url, { method, path });
      if (/^\/magic-links\//.test(new URL(path, service.url).pathname)) expectHtmlAnswer(answer, `${method} ${path}`);
      else if (answer.status < 300) expect(answer.status).toBeLessThan(500);
      else expectJsonAnswer(answer, `${method} ${path}`);
    });
    await expectStillServing(service.url, validCall);
  });
});
