/**
 * The limits that keep hostile input small: body size (413, compressed bodies counted once
 * inflated), JSON depth (400 before validation), string lengths (400 naming the field), header size
 * and malformed HTTP (JSON 431/400 from the HTTP parser), methods nobody documented (405), and the
 * browser routes answering a page whatever the path.
 */
import fc from 'fast-check';
import { gzipSync } from 'node:zlib';
import { DeviceClient } from '../../dev/device-client.js';
import { check, expectHtmlAnswer, expectJsonAnswer, expectStillServing, send, sendRaw, type Outgoing, LIMITS_OUT_OF_REACH } from '../support/hostile.js';
import { ADMIN_TOKEN, AS_PASSWORD, AS_USER, startService, type TestService } from '../support/service.js';

const BASIC = `Basic ${Buffer.from(`${AS_USER}:${AS_PASSWORD}`).toString('base64')}`;
let service: TestService;
let device: DeviceClient;

beforeAll(async () => {
  service = await startService({ store: 'memory', env: LIMITS_OUT_OF_REACH });
  device = await DeviceClient.enroll(service.url, await service.createUser('heidi'));
});
afterAll(async () => {
  await service.stop();
});

async function validCall(): Promise<void> {
  const answer = await send(service.url, {
    method: 'POST',
    path: '/user/verify',
    headers: { authorization: BASIC, 'content-type': 'application/json' },
    body: JSON.stringify({ user_identifier: 'heidi' }),
  });
  expect(answer.json).toEqual({ valid: true });
}

/** The JSON-body endpoints, with what authenticates a call to them. */
const endpoints: Array<{ method: string; path: string; headers: () => Promise<Record<string, string>> }> = [
  { method: 'POST', path: '/user/verify', headers: async () => ({ authorization: BASIC }) },
  { method: 'POST', path: '/authentication/start', headers: async () => ({ authorization: BASIC }) },
  { method: 'PUT', path: '/admin/v1/users/ivan', headers: async () => ({ authorization: `Bearer ${ADMIN_TOKEN}` }) },
  { method: 'PUT', path: '/admin/v1/users/heidi/accounts', headers: async () => ({ authorization: `Bearer ${ADMIN_TOKEN}` }) },
  { method: 'POST', path: '/device/v1/enrollments', headers: async () => ({}) },
  {
    method: 'PUT',
    path: '/device/v1/devices/self',
    headers: async () => ({ authorization: `DPoP ${device.deviceToken}`, dpop: await device.proof('PUT', '/device/v1/devices/self') }),
  },
  {
    method: 'POST',
    path: '/device/v1/requests/r1/decision',
    headers: async () => ({ authorization: `DPoP ${device.deviceToken}`, dpop: await device.proof('POST', '/device/v1/requests/r1/decision') }),
  },
];

async function post(endpoint: (typeof endpoints)[number], body: string | Buffer, extra: Record<string, string> = {}): Promise<ReturnType<typeof send>> {
  const request: Outgoing = { method: endpoint.method, path: endpoint.path, headers: { ...(await endpoint.headers()), 'content-type': 'application/json', ...extra }, body };
  return send(service.url, request);
}

const nested = (depth: number): string => `{"a":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`;

describe('body size (BODY_LIMIT_BYTES, 64 KiB by default)', () => {
  it('answers a body over the limit with 413 request_too_large on every JSON endpoint', async () => {
    const limit = service.config.http.bodyLimitBytes;
    await check([fc.constantFrom(...endpoints), fc.integer({ min: limit + 1, max: limit * 3 })], async (endpoint, size) => {
      const answer = await post(endpoint, JSON.stringify({ padding: 'x'.repeat(size) }));
      expectJsonAnswer(answer, `${endpoint.method} ${endpoint.path} with ${size} bytes`);
      expect((answer.json as { error: string }).error).toBe('request_too_large');
      expect(answer.status).toBe(413);
    }, 15);
  });

  it('counts a compressed body once inflated: a gzip bomb gets 413', async () => {
    const bomb = gzipSync(JSON.stringify({ user_identifier: 'heidi', padding: ' '.repeat(10 * 1024 * 1024) }));
    expect(bomb.length).toBeLessThan(64 * 1024);
    const answer = await post(endpoints[0]!, bomb, { 'content-encoding': 'gzip' });
    expectJsonAnswer(answer, 'gzip bomb');
    expect(answer.status).toBe(413);
  });

  it('answers a body that does not inflate as its Content-Encoding says with 400 invalid_request', async () => {
    await check([fc.constantFrom('gzip', 'deflate', 'br'), fc.uint8Array({ maxLength: 64 })], async (encoding, bytes) => {
      const answer = await post(endpoints[0]!, Buffer.from(bytes), { 'content-encoding': encoding });
      expectJsonAnswer(answer, `${encoding} garbage`);
      expect(answer.status).toBe(400);
    }, 20);
  });
});

describe('JSON depth', () => {
  it('refuses bodies nested deeper than 20 levels with 400, before validation, on every JSON endpoint', async () => {
    await check([fc.constantFrom(...endpoints), fc.integer({ min: 21, max: 20_000 })], async (endpoint, depth) => {
      const answer = await post(endpoint, nested(depth));
      expectJsonAnswer(answer, `${endpoint.method} ${endpoint.path} nested ${depth} deep`);
      expect(answer.status).toBe(400);
      expect((answer.json as { error_description: string }).error_description).toBe('the body is nested deeper than 20 levels');
    }, 30);
  });

  it('lets bodies of up to 20 levels through to validation (a start with deep authorization_details is accepted)', async () => {
    const details = JSON.parse(nested(18)) as Record<string, unknown>;
    const answer = await post(endpoints[1]!, JSON.stringify({ login_id: 'deep-login', user_identifier: 'heidi', state: 's', authorization_details: [details] }));
    expect(answer.status).toBe(200);
  });
});

describe('string lengths', () => {
  const fields: Array<{ endpoint: number; field: string; max: number; base: Record<string, unknown> }> = [
    { endpoint: 0, field: 'user_identifier', max: 256, base: {} },
    { endpoint: 1, field: 'login_id', max: 256, base: { user_identifier: 'heidi', state: 's' } },
    { endpoint: 1, field: 'state', max: 1024, base: { login_id: 'l', user_identifier: 'heidi' } },
    { endpoint: 1, field: 'binding_message', max: 1024, base: { login_id: 'l', user_identifier: 'heidi', state: 's' } },
    { endpoint: 1, field: 'scope', max: 8192, base: { login_id: 'l', user_identifier: 'heidi', state: 's' } },
    { endpoint: 2, field: 'display_name', max: 256, base: {} },
    { endpoint: 4, field: 'activation_code', max: 64, base: { public_jwk: { kty: 'EC' } } },
    { endpoint: 5, field: 'name', max: 128, base: {} },
    { endpoint: 6, field: 'decision', max: 16_384, base: {} },
  ];

  it('refuses a string over its documented maxLength with 400 naming the field', async () => {
    await check([fc.constantFrom(...fields), fc.integer({ min: 1, max: 2_000 })], async ({ endpoint, field, max, base }, over) => {
      const answer = await post(endpoints[endpoint]!, JSON.stringify({ ...base, [field]: 'a'.repeat(max + over) }));
      expectJsonAnswer(answer, `${field} of ${max + over} characters`);
      expect(answer.status).toBe(400);
      expect((answer.json as { error_description: string }).error_description).toContain(field);
    }, 30);
    await expectStillServing(service.url, validCall);
  });
});

describe('what the HTTP parser refuses', () => {
  const raw = (lines: string[]): Buffer => Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');

  it('answers headers over the size limit with 431 JSON', async () => {
    await check([fc.integer({ min: 17 * 1024, max: 64 * 1024 })], async (size) => {
      const answer = await sendRaw(service.url, raw(['GET /healthz HTTP/1.1', 'host: x', `x-padding: ${'a'.repeat(size)}`]));
      expect(answer.status).toBe(431);
      expect(JSON.parse(answer.body)).toEqual({ error: 'request_header_fields_too_large', error_description: 'the request headers are too large' });
    }, 5);
    await expectStillServing(service.url, validCall);
  });

  it('answers bytes that are not HTTP with 400 JSON', async () => {
    const broken = fc.oneof(
      fc.constantFrom('GET /healthz HTTP/9.9', 'GET\t/healthz HTTP/1.1', 'GET /heal thz HTTP/1.1', 'HELLO', '\u0000\u0001\u0002'),
      fc.string({ unit: fc.integer({ min: 0, max: 31 }).filter((code) => code !== 9).map((code) => String.fromCharCode(code)), minLength: 1, maxLength: 5 }).map(
        (control) => `GET /healthz HTTP/1.1\r\nhost: x\r\nx-bad: a${control}b`,
      ),
      fc.constantFrom('POST /user/verify HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\ncontent-length: 6', 'POST /user/verify HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\ncontent-length: 3'),
    );
    await check([broken], async (text) => {
      const answer = await sendRaw(service.url, raw([text]));
      expect(answer.status).toBe(400);
      expect(JSON.parse(answer.body)).toEqual({ error: 'invalid_request', error_description: 'the request is not valid HTTP' });
    }, 20);
    await expectStillServing(service.url, validCall);
  });
});

describe('methods and browser routes', () => {
  it('answers OPTIONS anywhere with 405 JSON', async () => {
    await check([fc.constantFrom('/healthz', '/metrics', '/user/verify', '/admin/v1/audit', '/device/v1/requests', '/authenticator', '/nope')], async (path) => {
      const answer = await send(service.url, { method: 'OPTIONS', path });
      expectJsonAnswer(answer, `OPTIONS ${path}`);
      expect(answer.status).toBe(405);
    }, 10);
  });

  it('answers a page under /magic-links whatever the path and method', async () => {
    await check([fc.constantFrom('/magic-links', '/magic-links/', '/magic-links/a/b', '/magic-links/x.y/z'), fc.constantFrom('GET', 'POST', 'PUT', 'DELETE')], async (path, method) => {
      expectHtmlAnswer(await send(service.url, { method, path }), `${method} ${path}`);
    }, 16);
  });

  it('answers request media types of any text without a 500 (response validation on)', async () => {
    expect(service.config.http.validateResponses).toBe(true);
    await check([fc.oneof(fc.constantFrom('%', 'a/%', 'a/#', 'x/y z', 'application/json#'), fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((code) => String.fromCharCode(code)), minLength: 1, maxLength: 20 }))], async (type) => {
      const answer = await send(service.url, { method: 'GET', path: '/admin/v1/users/heidi', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': type } });
      expectJsonAnswer(answer, `content-type ${type}`);
      expect(answer.status).toBe(200);
    }, 20);
  });
});
