/**
 * Shared by the hostile-input tests (test/hostile/): fast-check arbitraries for malformed bodies,
 * headers and tokens, a sender that hands the service exactly the bytes it is given, and the checks
 * every answer must pass — below 500, the documented media type, `{error, error_description}` for a
 * 4xx, and nothing of the service's insides (stack frames, source paths) in the body.
 */
import fc from 'fast-check';
import { connect } from 'node:net';
import { parse } from 'yaml';
import { readFileSync } from 'node:fs';
import { openApiDocumentPath } from '../../src/support/project-files.js';

/** Runs per property: enough to meet the odd shapes, few enough for a file to stay well under a minute. */
const RUNS = 50;

/**
 * The rate limits, raised out of reach: these properties throw thousands of bad credentials from one
 * address, and what they test is the answer to each input, not the limits (test/component/rate-limits.test.ts).
 */
export const LIMITS_OUT_OF_REACH: Record<string, string> = {
  ACTIVATION_MAX_ATTEMPTS: '1000000',
  RATE_LIMIT_BASIC_FAILURES: '1000000',
  RATE_LIMIT_ADMIN_FAILURES: '1000000',
  RATE_LIMIT_ADMIN_PER_MINUTE: '1000000',
  RATE_LIMIT_DEVICE_PER_MINUTE: '1000000',
};

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
}

export interface Outgoing {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/** Sends exactly what it is given (fetch adds no content type of its own to a byte body). */
export async function send(baseUrl: string, request: Outgoing): Promise<Answer> {
  const body = typeof request.body === 'string' ? new Uint8Array(Buffer.from(request.body, 'utf8')) : request.body === undefined ? undefined : new Uint8Array(request.body);
  const response = await fetch(`${baseUrl}${request.path}`, {
    method: request.method,
    headers: request.headers ?? {},
    ...(body !== undefined && request.method !== 'GET' && request.method !== 'HEAD' ? { body } : {}),
    redirect: 'manual',
    signal: AbortSignal.timeout(15_000),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = text.length > 0 ? (JSON.parse(text) as unknown) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/**
 * Writes raw bytes on a fresh connection and reads until the server closes it or a full answer
 * arrived: for what fetch refuses to send (control characters, broken request lines, huge headers).
 */
export async function sendRaw(baseUrl: string, bytes: Buffer): Promise<{ status: number; head: string; body: string }> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('no answer within 15 s'));
    }, 15_000);
    const finish = (): void => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('latin1');
      const [head = '', ...rest] = text.split('\r\n\r\n');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
      resolve({ status, head, body: rest.join('\r\n\r\n') });
    };
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      const text = Buffer.concat(chunks).toString('latin1');
      const length = /\r\ncontent-length: *(\d+)/i.exec(text);
      const headEnd = text.indexOf('\r\n\r\n');
      if (length?.[1] !== undefined && headEnd >= 0 && Buffer.byteLength(text.slice(headEnd + 4), 'latin1') >= Number(length[1])) {
        socket.destroy();
        finish();
      }
    });
    socket.on('error', () => {
      // A reset after the answer was written still leaves the answer in `chunks`.
    });
    socket.on('close', finish);
    socket.write(bytes);
  });
}

const STACK_FRAME = /\bat (?:async )?\S*\s?\(?(?:file:\/\/|node:|\/)[^\s)]*:\d+:\d+/;
const ERROR_CLASS = /\b(?:TypeError|RangeError|ReferenceError|SyntaxError|JOSEError|AggregateError)\b/;

/** Nothing of the service's insides: no stack frame, no source path, no JavaScript error class. */
export function expectNoInternals(text: string): void {
  expect(text).not.toMatch(STACK_FRAME);
  expect(text).not.toMatch(ERROR_CLASS);
  expect(text).not.toContain(process.cwd());
  expect(text).not.toContain('node_modules');
}

/**
 * An answer of the JSON API: below 500; a 4xx is `application/json` with exactly
 * `{error, error_description}` (strings); a 2xx with a body is JSON too.
 */
export function expectJsonAnswer(answer: Answer, context: string): void {
  const summary = `${context} → ${answer.status} ${answer.headers.get('content-type') ?? ''} ${answer.text.slice(0, 300)}`;
  if (answer.status >= 500 || answer.status < 200) throw new Error(`server error or no answer: ${summary}`);
  expectNoInternals(answer.text);
  if (answer.status === 204 || answer.status === 304) return;
  if (!/^application\/json\b/.test(answer.headers.get('content-type') ?? '')) throw new Error(`not JSON: ${summary}`);
  if (answer.status >= 400) {
    const body = answer.json as Record<string, unknown> | undefined;
    const wellFormed =
      typeof body === 'object' &&
      body !== null &&
      !Array.isArray(body) &&
      Object.keys(body).sort().join(',') === 'error,error_description' &&
      typeof body.error === 'string' &&
      typeof body.error_description === 'string';
    if (!wellFormed) throw new Error(`not {error, error_description}: ${summary}`);
  }
}

/** An answer of a page for people: below 500, HTML (errors too), nothing of the insides. */
export function expectHtmlAnswer(answer: Answer, context: string): void {
  const summary = `${context} → ${answer.status} ${answer.headers.get('content-type') ?? ''} ${answer.text.slice(0, 300)}`;
  if (answer.status >= 500 || answer.status < 200) throw new Error(`server error or no answer: ${summary}`);
  if (!/^text\/html\b/.test(answer.headers.get('content-type') ?? '')) throw new Error(`not HTML: ${summary}`);
  expectNoInternals(answer.text);
}

/** The process still answers: /healthz, and whatever valid call the test file names. */
export async function expectStillServing(baseUrl: string, valid: () => Promise<void>): Promise<void> {
  const health = await send(baseUrl, { method: 'GET', path: '/healthz' });
  expect({ status: health.status, body: health.json }).toEqual({ status: 200, body: { status: 'ok' } });
  await valid();
}

/** Runs a property with the suite's number of runs; fast-check prints the seed and the shrunk case on failure. */
export async function check<Ts extends [unknown, ...unknown[]]>(
  arbitraries: { [K in keyof Ts]: fc.Arbitrary<Ts[K]> },
  predicate: (...values: Ts) => Promise<void>,
  runs = RUNS,
): Promise<void> {
  await fc.assert(fc.asyncProperty(...arbitraries, predicate), { numRuns: runs });
}

// ── Arbitraries ────────────────────────────────────────────────────────────────────────────────

const printable = fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code));
const latin1 = fc.integer({ min: 0x80, max: 0xff }).map((code) => String.fromCharCode(code));

/** Text that may stand in an HTTP header value (fetch refuses control characters and code points > 0xFF). */
export const headerText = (maxLength = 200): fc.Arbitrary<string> =>
  fc.string({ unit: fc.oneof({ weight: 9, arbitrary: printable }, { weight: 1, arbitrary: latin1 }), maxLength }).map((text) => text.trim());

/** Any JSON text at all, valid or not, shallow or deep, small or large. */
export const bodyText: fc.Arbitrary<string> = fc.oneof(
  fc.json({ maxDepth: 4 }),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.constantFrom(
    '',
    '{',
    '[',
    '"',
    'null',
    'true',
    '0',
    '-0',
    '1e999',
    '""',
    '[]',
    '{}',
    '{"a":',
    '{"a" 1}',
    '\u0000',
    '\uFEFF{}',
    '{"__proto__":{"polluted":true}}',
    '{"constructor":{"prototype":{"polluted":true}}}',
    '{"user_identifier":"alice","user_identifier":{"$gt":""}}',
  ),
  fc.integer({ min: 2, max: 20_000 }).map((depth) => `${'['.repeat(depth)}${']'.repeat(depth)}`),
  fc.integer({ min: 2, max: 5_000 }).map((depth) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`),
);

/** A JSON object shaped roughly like a request body: known field names with values of any type. */
export const objectWith = (fields: readonly string[]): fc.Arbitrary<Record<string, unknown>> =>
  fc.dictionary(fc.oneof(fc.constantFrom(...fields), fc.string({ maxLength: 12 })), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 8 });

/** Content types, right, nearly right and wrong. */
export const contentType: fc.Arbitrary<string | undefined> = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom(
    'application/json',
    'application/json; charset=utf-8',
    'application/json; charset=utf-16',
    'application/json; charset=latin1',
    'application/json; charset="',
    'application/json;;;',
    'APPLICATION/JSON',
    'application/merge-patch+json',
    'application/jwt',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=xyz',
    'text/plain',
    'text/html',
    'application/xml',
    '*/*',
    '',
  ),
  headerText(60),
);

/** Content encodings: gzip and deflate are inflated under the size limit, anything else is refused. */
export const contentEncoding: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 4, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'compress', 'gzip, gzip', 'x-unknown') },
);

/** Authorization header values: absent, garbage, and near misses of Basic, Bearer and DPoP. */
export const authorization: fc.Arbitrary<string | undefined> = fc.oneof(
  fc.constant(undefined),
  headerText(100),
  fc.constantFrom('Basic', 'Basic ', 'Bearer', 'DPoP', 'basic ====', 'Basic Og==', 'Basic !!!!', 'Digest x', 'Bearer  ', 'DPoP a b c'),
  fc.tuple(fc.constantFrom('Basic', 'basic', 'BASIC', 'Bearer', 'DPoP', 'dpop'), headerText(80)).map(([scheme, rest]) => `${scheme} ${rest}`),
  fc.tuple(headerText(40), headerText(40)).map(([user, pass]) => `Basic ${Buffer.from(`${user}:${pass}`, 'latin1').toString('base64')}`),
  fc.base64String({ maxLength: 200 }).map((value) => `Basic ${value}`),
  fc.integer({ min: 1_000, max: 12_000 }).map((length) => `Basic ${'A'.repeat(length)}`),
  fc.integer({ min: 1_000, max: 12_000 }).map((length) => `Bearer ${'x'.repeat(length)}`),
);

/** Extra headers a hostile client may add: request ids, forwarded-for, odd accept values, cookies. */
export const extraHeaders: fc.Arbitrary<Record<string, string>> = fc
  .record(
    {
      'x-request-id': headerText(120),
      'x-forwarded-for': fc.oneof(headerText(60), fc.ipV4(), fc.ipV6()),
      accept: fc.oneof(headerText(40), fc.constantFrom('text/html', 'application/xml', '*/*', 'application/json;q=0')),
      cookie: headerText(200),
      origin: fc.oneof(headerText(60), fc.constant('null')),
      'accept-language': headerText(40),
    },
    { requiredKeys: [] },
  )
  .map((headers) => Object.fromEntries(Object.entries(headers).filter(([, value]) => value.length > 0)));

const base64urlChars = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.split(''));
/** A base64url string, as in JOSE serializations. */
export const base64url = (maxLength = 64): fc.Arbitrary<string> => fc.string({ unit: base64urlChars, maxLength });

/** Strings to stand in for a JWS or a path segment: dots, empties, padding, non-ASCII. */
export const tokenLike: fc.Arbitrary<string> = fc.oneof(
  base64url(200),
  fc.tuple(base64url(80), base64url(80), base64url(80)).map((parts) => parts.join('.')),
  fc.array(base64url(30), { maxLength: 7 }).map((parts) => parts.join('.')),
  fc.string({ maxLength: 200 }),
  fc.constantFrom('', '.', '..', '...', 'a.b.c', 'a..c', 'e30.e30.', 'e30.e30.e30.e30.e30'),
);

/** The OpenAPI document, parsed: every documented path and method. */
export interface DocumentedOperation {
  path: string;
  method: string;
  operationId: string;
  tags: string[];
  security: string[];
  requestContentTypes: string[];
}

export function documentedOperations(): DocumentedOperation[] {
  const document = parse(readFileSync(openApiDocumentPath(), 'utf8')) as {
    paths: Record<string, Record<string, { operationId?: string; tags?: string[]; security?: Array<Record<string, unknown>>; requestBody?: { content?: Record<string, unknown> } }>>;
  };
  const operations: DocumentedOperation[] = [];
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of ['get', 'put', 'post', 'delete', 'patch']) {
      const operation = item[method];
      if (operation === undefined) continue;
      operations.push({
        path,
        method: method.toUpperCase(),
        operationId: operation.operationId ?? `${method} ${path}`,
        tags: operation.tags ?? [],
        security: (operation.security ?? []).flatMap((requirement) => Object.keys(requirement)),
        requestContentTypes: Object.keys(operation.requestBody?.content ?? {}),
      });
    }
  }
  return operations;
}
