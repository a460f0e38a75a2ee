/**
 * Malformed and forged DPoP proofs (RFC 9449) on every DPoP-protected device call. Each generated
 * proof carries at least one defect — another method or URL, no or a short jti, a replayed jti, an
 * iat far off, a private or foreign embedded key, a tiny RSA key, another curve, alg none, HS256 with
 * the public key as the secret, unknown crit, b64=false, a huge payload, plain garbage — and each is
 * refused with 401 and a DPoP challenge, as JSON; the device's next proper call still works.
 */
import fc from 'fast-check';
import { createHash, KeyObject, randomUUID } from 'node:crypto';
import { DeviceClient } from '../../dev/device-client.js';
import { check, expectJsonAnswer, expectStillServing, send, tokenLike, LIMITS_OUT_OF_REACH } from '../support/hostile.js';
import { forgeryKeys, macCompact, signCompact } from '../support/jose-forgery.js';
import { startService, type TestService } from '../support/service.js';

let service: TestService;
let device: DeviceClient;
let enrolledKey: KeyObject;
const keys = forgeryKeys();

beforeAll(async () => {
  service = await startService({ store: 'memory', env: LIMITS_OUT_OF_REACH });
  device = await DeviceClient.enroll(service.url, await service.createUser('dora'));
  enrolledKey = KeyObject.from(device.privateKey);
});
afterAll(async () => {
  await service.stop();
});

async function validCall(): Promise<void> {
  const answer = await device.call('GET', '/device/v1/devices/self');
  expect(answer.status).toBe(200);
}

/** The DPoP-protected operations of the device API (the request id need not exist: auth comes first). */
const operations: Array<{ method: string; path: string; body?: unknown }> = [
  { method: 'GET', path: '/device/v1/requests' },
  { method: 'GET', path: '/device/v1/requests/some-request' },
  { method: 'POST', path: '/device/v1/requests/some-request/decision', body: { decision: 'a.b.c' } },
  { method: 'GET', path: '/device/v1/devices/self' },
  { method: 'PUT', path: '/device/v1/devices/self', body: { name: 'renamed' } },
  { method: 'DELETE', path: '/device/v1/devices/self' },
];

type Defect =
  | 'htm'
  | 'htu'
  | 'no-jti'
  | 'short-jti'
  | 'jti-not-string'
  | 'replayed-jti'
  | 'iat-far-off'
  | 'iat-not-number'
  | 'no-ath'
  | 'wrong-ath'
  | 'typ'
  | 'alg-none'
  | 'hs256-public-key-secret'
  | 'private-jwk'
  | 'foreign-key'
  | 'enrolled-jwk-foreign-signature'
  | 'rsa-tiny'
  | 'other-curve'
  | 'crit'
  | 'b64-false'
  | 'payload-not-object'
  | 'huge'
  | 'garbage';

const defects: Defect[] = [
  'htm', 'htu', 'no-jti', 'short-jti', 'jti-not-string', 'replayed-jti', 'iat-far-off', 'iat-not-number', 'no-ath', 'wrong-ath', 'typ',
  'alg-none', 'hs256-public-key-secret', 'private-jwk', 'foreign-key', 'enrolled-jwk-foreign-signature', 'rsa-tiny', 'other-curve', 'crit',
  'b64-false', 'payload-not-object', 'huge', 'garbage',
];

interface Noise {
  otherMethod: string;
  otherUrl: string;
  farOff: number;
  junk: fc.JsonValue;
  garbage: string;
  extraHeader: Record<string, fc.JsonValue>;
  curve: 'es384' | 'es256k' | 'ed25519-as-es256';
}

const noise: fc.Arbitrary<Noise> = fc.record({
  otherMethod: fc.oneof(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'get', 'PATCH', ''), fc.string({ maxLength: 10 })),
  otherUrl: fc.oneof(fc.webUrl(), fc.constantFrom('', '/device/v1/requests', 'http://evil.example/device/v1/requests', 'not a url')),
  farOff: fc.oneof(fc.integer({ min: 120, max: 10_000_000 }), fc.integer({ min: -10_000_000, max: -120 })),
  junk: fc.jsonValue({ maxDepth: 2 }),
  garbage: tokenLike,
  extraHeader: fc.dictionary(fc.constantFrom('kid', 'jku', 'x5u', 'x5c', 'cty', 'zip', 'nonce'), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }),
  curve: fc.constantFrom('es384', 'es256k', 'ed25519-as-es256'),
});

/** A proof for `method path` with the given defects (and nothing else wrong). */
async function defectiveProof(method: string, path: string, chosen: Defect[], extra: Noise): Promise<string> {
  const has = (defect: Defect): boolean => chosen.includes(defect);
  if (has('garbage')) return extra.garbage.length > 0 ? extra.garbage : '.';
  if (has('replayed-jti')) {
    // A proper proof, spent by a proper call to the same operation, then sent again.
    const proof = await device.proof(method, path);
    expect((await device.call(method, path, undefined, { proof })).status).toBe(200);
    return proof;
  }
  const now = Math.floor(Date.now() / 1000);
  const payload: Record<string, unknown> = {
    htm: has('htm') ? (extra.otherMethod === method ? `${method}X` : extra.otherMethod) : method,
    htu: has('htu') ? (extra.otherUrl === `${service.url}${path}` ? `${extra.otherUrl}/x` : extra.otherUrl) : `${service.url}${path}`,
    iat: has('iat-far-off') ? now + extra.farOff : has('iat-not-number') ? String(now) : now,
    jti: has('jti-not-string') ? 12345678901 : has('short-jti') ? 'abc' : randomUUID(),
    ath: has('wrong-ath') ? createHash('sha256').update('another token').digest('base64url') : createHash('sha256').update(device.deviceToken).digest('base64url'),
  };
  if (has('no-jti')) delete payload.jti;
  if (has('no-ath')) delete payload.ath;
  if (has('huge')) payload.padding = 'x'.repeat(9_000);
  const header: Record<string, unknown> = { ...extra.extraHeader, typ: has('typ') ? 'jwt' : 'dpop+jwt', alg: device.alg, jwk: device.publicJwk };
  if (has('crit')) Object.assign(header, { crit: ['urn:example:unknown'], 'urn:example:unknown': true });
  if (has('b64-false')) Object.assign(header, { b64: false, crit: ['b64'] });
  const body: unknown = has('payload-not-object') ? (typeof extra.junk === 'object' && extra.junk !== null && !Array.isArray(extra.junk) ? [extra.junk] : extra.junk) : payload;

  if (has('alg-none')) return signCompact({ ...header, alg: 'none' }, body, undefined);
  if (has('hs256-public-key-secret')) return macCompact({ ...header, alg: 'HS256' }, body, JSON.stringify(device.publicJwk));
  if (has('private-jwk')) {
    const privateJwk = enrolledKey.export({ format: 'jwk' });
    return signCompact({ ...header, jwk: privateJwk }, body, enrolledKey);
  }
  if (has('foreign-key')) return signCompact({ ...header, alg: 'ES256', jwk: keys.es256.publicJwk }, body, keys.es256.privateKey);
  if (has('enrolled-jwk-foreign-signature')) return signCompact({ ...header, alg: 'ES256' }, body, keys.es256.privateKey);
  if (has('rsa-tiny')) return signCompact({ ...header, alg: 'RS256', jwk: keys.rsaTiny.publicJwk }, body, keys.rsaTiny.privateKey);
  if (has('other-curve')) {
    if (extra.curve === 'ed25519-as-es256') return signCompact({ ...header, alg: 'ES256', jwk: keys.ed25519.publicJwk }, body, keys.ed25519.privateKey);
    const key = keys[extra.curve];
    return signCompact({ ...header, alg: key.alg, jwk: key.publicJwk }, body, key.privateKey);
  }
  return signCompact(header, body, enrolledKey);
}

it('refuses every defective proof with 401 and a DPoP challenge, on every DPoP-protected call', async () => {
  await check(
    [fc.constantFrom(...operations), fc.subarray(defects, { minLength: 1, maxLength: 3 }), noise],
    async (drawn, chosen, extra) => {
      // Spending a proof needs a call that succeeds and changes nothing.
      const operation = chosen.includes('replayed-jti') ? { method: 'GET', path: '/device/v1/devices/self' } : drawn;
      const proof = await defectiveProof(operation.method, operation.path, chosen, extra);
      const answer = await send(service.url, {
        method: operation.method,
        path: operation.path,
        headers: {
          authorization: `DPoP ${device.deviceToken}`,
          dpop: proof,
          ...(operation.body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(operation.body !== undefined ? { body: JSON.stringify(operation.body) } : {}),
      });
      expectJsonAnswer(answer, `${operation.method} ${operation.path} with ${chosen.join('+')}`);
      expect({ status: answer.status, defects: chosen }).toEqual({ status: 401, defects: chosen });
      expect(answer.headers.get('www-authenticate')).toMatch(/^DPoP /);
      expect((answer.json as { error: string }).error).toMatch(/^invalid_(dpop_proof|token)$/);
    },
  );
  await expectStillServing(service.url, validCall);
});

it('refuses a proper proof with a malformed Authorization header', async () => {
  const scheme = fc.constantFrom('DPoP', 'dpop', 'Bearer', 'Basic', '');
  const token = fc.oneof(
    fc.constant(device.deviceToken).map((value) => `${value} ${value}`),
    fc.constant(device.deviceToken).map((value) => `${value}x`),
    fc.constant(device.deviceToken).map((value) => value.slice(1)),
    fc.string({ unit: fc.constantFrom(...'abcXYZ019-._~+/= '.split('')), maxLength: 80 }),
  );
  await check([fc.constantFrom(...operations), scheme, token], async (operation, authScheme, value) => {
    const authorization = `${authScheme} ${value}`.trim();
    // The proof is right for the real token: only the Authorization header is wrong.
    const answer = await send(service.url, {
      method: operation.method,
      path: operation.path,
      headers: { authorization, dpop: await device.proof(operation.method, operation.path) },
    });
    expectJsonAnswer(answer, `${operation.method} ${operation.path} with Authorization: ${authorization}`);
    expect(answer.status).toBe(401);
    expect(answer.headers.get('www-authenticate')).toMatch(/^DPoP /);
  });
  await expectStillServing(service.url, validCall);
});
