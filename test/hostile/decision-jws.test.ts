/**
 * Forged and malformed decision JWS, on the service with a private Redis (the decision's atomic step
 * is a Lua script there). Each generated decision carries at least one defect — alg none, HS256 with
 * the device's public key as the secret (algorithm confusion), another key (with its jwk embedded:
 * key substitution), another curve, a wrong kid or typ, b64=false or an unknown crit, a huge payload,
 * wrong claims of every kind — and each is refused as JSON with 400, 401 or 409, the request stays
 * pending, nothing reaches SecureAuth, and a proper decision afterwards is recorded once.
 */
import fc from 'fast-check';
import { KeyObject, randomUUID } from 'node:crypto';
import { DeviceClient, type RequestView } from '../../dev/device-client.js';
import { startRequest, type StartedRequest } from '../support/api-helpers.js';
import { adminRequestWhen, decisionCalls } from '../support/flow-helpers.js';
import { base64url, check, expectJsonAnswer, expectStillServing, send, tokenLike, LIMITS_OUT_OF_REACH } from '../support/hostile.js';
import { forgeryKeys, macCompact, signCompact } from '../support/jose-forgery.js';
import { startRedisServer, type RedisServerHandle } from '../support/redis-server.js';
import { startSecureAuthStub, type SecureAuthStub } from '../support/secureauth-stub.js';
import { startService, type TestService } from '../support/service.js';

let redis: RedisServerHandle;
let secureAuth: SecureAuthStub;
let service: TestService;
let device: DeviceClient;
let otherDevice: DeviceClient;
let enrolledKey: KeyObject;
let started: StartedRequest;
let view: RequestView;
const keys = forgeryKeys();

beforeAll(async () => {
  redis = await startRedisServer();
  secureAuth = await startSecureAuthStub();
  service = await startService({ store: 'redis', redisUrl: redis.url, secureAuth, env: LIMITS_OUT_OF_REACH });
  device = await DeviceClient.enroll(service.url, await service.createUser('erin'));
  // erin's second device: its signature is a real one, of the wrong device.
  otherDevice = await DeviceClient.enroll(service.url, (await service.admin<{ activation_code: string }>('POST', '/users/erin/activation-codes')).body.activation_code);
  enrolledKey = KeyObject.from(device.privateKey);
  started = await startRequest(service, secureAuth, 'erin');
  view = await device.waitForRequest((candidate) => candidate.request_id === started.requestId);
});
afterAll(async () => {
  await service.stop();
  await secureAuth.close();
  await redis.stop();
});

type Defect =
  | 'alg-none'
  | 'hs256-public-key-secret'
  | 'foreign-key-with-embedded-jwk'
  | 'other-device'
  | 'other-curve'
  | 'rsa-tiny'
  | 'wrong-kid'
  | 'no-kid'
  | 'typ'
  | 'b64-false'
  | 'crit'
  | 'huge'
  | 'request-id'
  | 'action'
  | 'consent-hash'
  | 'stale-iat'
  | 'no-jti'
  | 'granted-scopes'
  | 'binding-choice'
  | 'account-ids'
  | 'payload-not-object'
  | 'garbage'
  | 'bad-signature';

const defects: Defect[] = [
  'alg-none', 'hs256-public-key-secret', 'foreign-key-with-embedded-jwk', 'other-device', 'other-curve', 'rsa-tiny', 'wrong-kid', 'no-kid', 'typ',
  'b64-false', 'crit', 'huge', 'request-id', 'action', 'consent-hash', 'stale-iat', 'no-jti', 'granted-scopes', 'binding-choice', 'account-ids',
  'payload-not-object', 'garbage', 'bad-signature',
];

interface Noise {
  junk: fc.JsonValue;
  text: string;
  kid: string;
  farOff: number;
  hugeLength: number;
  garbage: string;
  signature: string;
}

const noise: fc.Arbitrary<Noise> = fc.record({
  junk: fc.jsonValue({ maxDepth: 2 }),
  text: fc.string({ maxLength: 40 }),
  kid: fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('', '../../etc/passwd', 'null')),
  farOff: fc.oneof(fc.integer({ min: 120, max: 100_000_000 }), fc.integer({ min: -100_000_000, max: -120 })),
  // Padding that takes the compact JWS past the documented 16,384 characters of `decision` (base64url
  // adds a third): a smaller extra claim is no defect at all — unknown claims are ignored, as in any JWT.
  hugeLength: fc.integer({ min: 12_500, max: 40_000 }),
  garbage: tokenLike,
  signature: base64url(90),
});

/** A decision for the pending request with the given defects (and nothing else wrong). */
function defectiveDecision(chosen: Defect[], extra: Noise): string {
  const has = (defect: Defect): boolean => chosen.includes(defect);
  if (has('garbage')) return extra.garbage;
  const now = Math.floor(Date.now() / 1000);
  const payload: Record<string, unknown> = {
    request_id: has('request-id') ? `${started.requestId}${extra.text.length > 0 ? extra.text : 'x'}` : started.requestId,
    action: has('action') ? (extra.junk === 'approve' || extra.junk === 'deny' ? 'maybe' : extra.junk) : 'approve',
    consent_hash: has('consent-hash') ? (extra.text === view.consent_hash ? `${extra.text}x` : extra.text) : view.consent_hash,
    iat: has('stale-iat') ? now + extra.farOff : now,
    jti: randomUUID(),
  };
  if (has('no-jti')) delete payload.jti;
  // Each of these is wrong in kind: not an array of strings, a scope never requested, a string too long.
  if (has('granted-scopes')) payload.granted_scopes = Array.isArray(extra.junk) && extra.junk.length === 0 ? ['admin'] : typeof extra.junk === 'string' ? extra.junk : [extra.junk, 'admin'];
  if (has('binding-choice')) payload.binding_choice = typeof extra.junk === 'string' ? 'x'.repeat(1025) : extra.junk === null ? 42 : extra.junk;
  if (has('account-ids')) payload.account_ids = typeof extra.junk === 'string' ? extra.junk : [extra.junk, ''];
  if (has('huge')) payload.padding = 'x'.repeat(extra.hugeLength);
  const header: Record<string, unknown> = { alg: device.alg, typ: has('typ') ? 'JWT' : 'ciba-decision+jwt', kid: device.deviceId };
  if (has('wrong-kid')) header.kid = extra.kid === device.deviceId ? `${extra.kid}x` : extra.kid;
  if (has('no-kid')) delete header.kid;
  if (has('crit')) Object.assign(header, { crit: ['urn:example:unknown'], 'urn:example:unknown': true });
  if (has('b64-false')) Object.assign(header, { b64: false, crit: ['b64'] });
  const body: unknown = has('payload-not-object') ? (typeof extra.junk === 'object' && extra.junk !== null && !Array.isArray(extra.junk) ? [extra.junk] : extra.junk) : payload;

  if (has('alg-none')) return signCompact({ ...header, alg: 'none' }, body, undefined);
  if (has('hs256-public-key-secret')) return macCompact({ ...header, alg: 'HS256' }, body, JSON.stringify(device.publicJwk));
  if (has('foreign-key-with-embedded-jwk')) return signCompact({ ...header, alg: 'ES256', jwk: keys.es256.publicJwk }, body, keys.es256.privateKey);
  if (has('other-device')) return signCompact(header, body, KeyObject.from(otherDevice.privateKey));
  if (has('other-curve')) return signCompact({ ...header, alg: 'ES384', jwk: keys.es384.publicJwk }, body, keys.es384.privateKey);
  if (has('rsa-tiny')) return signCompact({ ...header, alg: 'RS256', jwk: keys.rsaTiny.publicJwk }, body, keys.rsaTiny.privateKey);
  const signed = signCompact(header, body, enrolledKey);
  if (has('bad-signature')) return `${signed.slice(0, signed.lastIndexOf('.'))}.${extra.signature}`;
  return signed;
}

async function submit(decision: string): Promise<ReturnType<typeof send>> {
  const path = `/device/v1/requests/${started.requestId}/decision`;
  return send(service.url, {
    method: 'POST',
    path,
    headers: { authorization: `DPoP ${device.deviceToken}`, dpop: await device.proof('POST', path), 'content-type': 'application/json' },
    body: JSON.stringify({ decision }),
  });
}

async function validCall(): Promise<void> {
  expect((await device.call('GET', `/device/v1/requests/${started.requestId}`)).status).toBe(200);
}

it('refuses every defective decision as JSON (400, 401 or 409), and the request stays pending', async () => {
  await check([fc.subarray(defects, { minLength: 1, maxLength: 3 }), noise], async (chosen, extra) => {
    const answer = await submit(defectiveDecision(chosen, extra));
    expectJsonAnswer(answer, `decision with ${chosen.join('+')}`);
    expect({ defects: chosen, refused: [400, 401, 409, 413].includes(answer.status) }).toEqual({ defects: chosen, refused: true });
    if (answer.status === 401) expect(answer.headers.get('www-authenticate')).toMatch(/^DPoP /);
  });
  const admin = await service.admin<{ status: string }>('GET', `/requests/${started.requestId}`);
  expect(admin.body.status).toBe('pending');
  expect(decisionCalls(secureAuth, started.login_id)).toEqual([]);
  await expectStillServing(service.url, validCall);
});

it('then records a proper decision once, and refuses it when replayed', async () => {
  const decision = await device.decisionToken(view, 'approve');
  expect((await submit(decision)).status).toBe(202);
  const replayed = await submit(decision);
  expectJsonAnswer(replayed, 'replayed decision');
  expect(replayed.status).toBe(409);
  await adminRequestWhen(service, started.requestId, (request) => request.status === 'completed');
  expect(secureAuth.accepted(started.login_id)).toHaveLength(1);
});
