/**
 * Malformed JWKs and activation codes at enrolment. Every generated key is unusable — a symmetric or
 * private key, another type or curve, coordinates of the wrong length or off the curve, an `alg` that
 * does not fit, members of the wrong type — and is refused with 400 naming public_jwk, without
 * spending the activation code: the same code then enrols a real key.
 */
import fc from 'fast-check';
import { exportJWK, generateKeyPair } from 'jose';
import { enrollWithKey } from '../support/api-helpers.js';
import { base64url, check, expectJsonAnswer, expectStillServing, send, LIMITS_OUT_OF_REACH } from '../support/hostile.js';
import { forgeryKeys } from '../support/jose-forgery.js';
import { startService, type TestService } from '../support/service.js';

let service: TestService;
let code: string;
const keys = forgeryKeys();

beforeAll(async () => {
  service = await startService({ store: 'memory', env: LIMITS_OUT_OF_REACH });
  code = await service.createUser('frank');
});
afterAll(async () => {
  await service.stop();
});

const coordinate = fc.oneof(base64url(120), fc.constantFrom('', '====', 'AA', 'A'.repeat(43), '_'.repeat(43)), fc.jsonValue({ maxDepth: 1 }));

/** Keys that cannot be a device key, each for a reason of its own. */
const unusableJwk: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  // Symmetric keys and private members.
  fc.record({ kty: fc.constant('oct'), k: base64url(64) }),
  fc.constantFrom('d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k').chain((member) =>
    fc.constant({ ...keys.es256.publicJwk, [member]: 'AAAA' }),
  ),
  fc.constant(keys.es256.privateKey.export({ format: 'jwk' }) as Record<string, unknown>),
  // Other types and curves, real keys of them included.
  fc.constantFrom(keys.es384.publicJwk, keys.es256k.publicJwk, keys.rsaTiny.publicJwk),
  fc.record({ kty: fc.constantFrom('EC', 'OKP'), crv: fc.constantFrom('P-384', 'P-521', 'secp256k1', 'X25519', 'Ed448', 'p-256', 'ed25519', ''), x: coordinate, y: coordinate }),
  fc.record({ kty: fc.oneof(fc.string({ maxLength: 16 }), fc.constantFrom('RSA', 'ec', '')), crv: fc.string({ maxLength: 16 }) }, { requiredKeys: ['kty'] }).filter((jwk) => jwk.kty !== 'EC' && jwk.kty !== 'OKP'),
  // The right type with broken members: not on the curve, wrong length, not strings, missing.
  fc.record({ kty: fc.constant('EC'), crv: fc.constant('P-256'), x: coordinate, y: coordinate }, { requiredKeys: ['kty', 'crv'] }),
  fc.record({ kty: fc.constant('OKP'), crv: fc.constant('Ed25519'), x: fc.oneof(base64url(120).filter((x) => x.length !== 43), fc.jsonValue({ maxDepth: 1 })) }, { requiredKeys: ['kty', 'crv'] }),
  // A real key with an alg that does not fit it.
  fc.constantFrom('EdDSA', 'HS256', 'none', 'RS256', 'ES384', '').map((alg) => ({ ...keys.es256.publicJwk, alg })),
  fc.constantFrom('ES256', 'HS256', 'none').map((alg) => ({ ...keys.ed25519.publicJwk, alg })),
);

it('refuses every unusable key with 400 naming public_jwk, and keeps the activation code', async () => {
  await check([unusableJwk], async (jwk) => {
    const answer = await enrollWithKey(service.url, code, jwk);
    const text = JSON.stringify(answer.body);
    expectJsonAnswer({ status: answer.status, headers: answer.headers, text, json: answer.body }, `enrolment with ${text.slice(0, 200)}`);
    expect({ jwk, status: answer.status }).toEqual({ jwk, status: 400 });
    expect(answer.body.error_description).toMatch(/public_jwk/);
  });
  // The code survived every refusal: it enrols a real key now, once.
  const { publicKey } = await generateKeyPair('ES256');
  expect((await enrollWithKey(service.url, code, await exportJWK(publicKey))).status).toBe(201);
});

it('answers guessed activation codes with 401 invalid_grant (or 429 once limited), as JSON', async () => {
  const { publicKey } = await generateKeyPair('ES256');
  const jwk = await exportJWK(publicKey);
  const guess = fc.oneof(fc.string({ minLength: 1, maxLength: 64 }), fc.stringMatching(/^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/));
  await check([guess], async (activationCode) => {
    const answer = await send(service.url, {
      method: 'POST',
      path: '/device/v1/enrollments',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ activation_code: activationCode, public_jwk: jwk }),
    });
    expectJsonAnswer(answer, `activation code ${activationCode}`);
    expect([400, 401, 429]).toContain(answer.status);
  });
  await expectStillServing(service.url, async () => {
    const fresh = await service.createUser('grace');
    expect((await enrollWithKey(service.url, fresh, jwk)).status).toBe(201);
  });
});
