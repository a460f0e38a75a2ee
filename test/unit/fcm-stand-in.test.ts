/**
 * The FCM stand-in checks what it receives, so tests using it can fail: the real firebase-admin SDK gets
 * through with the stand-in's service account, and a foreign key or a missing bearer token is refused.
 */
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { cert, deleteApp, initializeApp } from 'firebase-admin/app';
import { getMessaging } from 'firebase-admin/messaging';
import { FCM_HOST, startFcmStandIn, type FcmStandIn } from '../support/fcm-stand-in.js';

let standIn: FcmStandIn;
beforeEach(async () => {
  standIn = await startFcmStandIn({ projectId: 'stand-in-check' });
});
afterEach(async () => {
  await standIn.close();
});

let appCount = 0;
async function sendWith(serviceAccountFile: string, token: string) {
  appCount += 1;
  const app = initializeApp(
    { credential: cert(serviceAccountFile, standIn.agent), httpAgent: standIn.agent, projectId: standIn.projectId },
    `stand-in-check-${appCount}`,
  );
  try {
    const messaging = getMessaging(app);
    messaging.enableLegacyHttpTransport();
    return await messaging.sendEach([{ token, data: { hello: 'world' } }]);
  } finally {
    await deleteApp(app);
  }
}

it('lets the real SDK through and records the exact message', async () => {
  const result = await sendWith(standIn.serviceAccountFile, 'device-token');
  expect(result.successCount).toBe(1);
  expect(standIn.deliveredTo('device-token')).toEqual([{ token: 'device-token', data: { hello: 'world' } }]);
  expect(standIn.messages[0]?.headers.authorization).toMatch(/^Bearer ya29\.stand-in-/);
  expect(standIn.tokensIssued).toBe(1);
  expect(standIn.problems).toEqual([]);
});

it('refuses a service-account assertion signed with another key', async () => {
  const foreign = JSON.parse(readFileSync(standIn.serviceAccountFile, 'utf8')) as Record<string, string>;
  foreign.private_key = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } }).privateKey;
  const foreignFile = `${standIn.serviceAccountFile}.foreign.json`;
  writeFileSync(foreignFile, JSON.stringify(foreign));
  const result = await sendWith(foreignFile, 'device-token');
  expect(result.responses[0]?.error?.code).toBe('app/invalid-credential');
  expect(standIn.messages).toEqual([]);
  expect(standIn.problems).toEqual([expect.stringContaining('token request refused')]);
});

it('refuses a send without a bearer token it issued', async () => {
  const status = await new Promise<number>((resolve, reject) => {
    const call = request(
      { host: FCM_HOST, path: `/v1/projects/${standIn.projectId}/messages:send`, method: 'POST', agent: standIn.agent, headers: { 'content-type': 'application/json' } },
      (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      },
    );
    call.on('error', reject);
    call.end(JSON.stringify({ message: { token: 'x' } }));
  });
  expect(status).toBe(401);
  expect(standIn.problems).toEqual(['send without a valid bearer token']);
});
