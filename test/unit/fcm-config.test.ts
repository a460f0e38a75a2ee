/** FCM settings: when push is on, where the project id comes from, and clear refusals naming the variable. */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/config.js';

let folder: string;
let accountFile: string;
const PRIVATE_KEY = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } }).privateKey;

beforeAll(() => {
  folder = mkdtempSync(join(tmpdir(), 'fcm-config-'));
  accountFile = join(folder, 'account.json');
  writeFileSync(accountFile, JSON.stringify({ type: 'service_account', project_id: 'from-file', client_email: 'a@from-file.iam.gserviceaccount.com', private_key: PRIVATE_KEY }));
});
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const problemsOf = (env: Record<string, string>): string[] => {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
};

describe('FCM configuration', () => {
  it('is off without a service-account file', () => {
    expect(loadConfig({}).fcm).toBeUndefined();
  });

  it('takes the project id from the file, with the default notification texts', () => {
    expect(loadConfig({ FIREBASE_SERVICE_ACCOUNT_FILE: accountFile }).fcm).toEqual({
      serviceAccountFile: accountFile,
      projectId: 'from-file',
      notification: { title: 'Sign-in request from {client_name}', body: 'Open the app to approve or deny it.' },
      maxConnections: 32,
    });
  });

  it('accepts GOOGLE_APPLICATION_CREDENTIALS, FIREBASE_PROJECT_ID and custom texts', () => {
    const fcm = loadConfig({
      GOOGLE_APPLICATION_CREDENTIALS: accountFile,
      FIREBASE_PROJECT_ID: 'explicit',
      FCM_NOTIFICATION_TITLE: '{client_name} asks you to sign in',
      FCM_NOTIFICATION_BODY: '',
    }).fcm;
    expect(fcm).toMatchObject({ serviceAccountFile: accountFile, projectId: 'explicit', notification: { title: '{client_name} asks you to sign in', body: '' } });
  });

  it('FCM_ENABLED=false turns it off even with a file; FCM_ENABLED=true without one is refused', () => {
    expect(loadConfig({ FIREBASE_SERVICE_ACCOUNT_FILE: accountFile, FCM_ENABLED: 'false' }).fcm).toBeUndefined();
    expect(problemsOf({ FCM_ENABLED: 'true' })).toEqual([expect.stringMatching(/^FCM_ENABLED: .*FIREBASE_SERVICE_ACCOUNT_FILE/)]);
  });

  it('refuses a missing or wrong file, naming the variable and never showing the content', () => {
    expect(problemsOf({ FIREBASE_SERVICE_ACCOUNT_FILE: join(folder, 'missing.json') })).toEqual([
      expect.stringMatching(/^FIREBASE_SERVICE_ACCOUNT_FILE: cannot read .*ENOENT/),
    ]);
    const notJson = join(folder, 'not-json.json');
    writeFileSync(notJson, PRIVATE_KEY);
    const [notJsonProblem] = problemsOf({ GOOGLE_APPLICATION_CREDENTIALS: notJson });
    expect(notJsonProblem).toMatch(/^GOOGLE_APPLICATION_CREDENTIALS: .*not valid JSON/);
    expect(notJsonProblem).not.toContain('PRIVATE KEY');

    const badKey = join(folder, 'bad-key.json');
    writeFileSync(badKey, JSON.stringify({ project_id: 'p', client_email: 'a@b', private_key: '-----BEGIN PRIVATE KEY-----\nsecret-garbage\n-----END PRIVATE KEY-----\n' }));
    const [badKeyProblem] = problemsOf({ FIREBASE_SERVICE_ACCOUNT_FILE: badKey });
    expect(badKeyProblem).toBe('FIREBASE_SERVICE_ACCOUNT_FILE: private_key is not a PEM private key');

    const userCredentials = join(folder, 'authorized-user.json');
    writeFileSync(userCredentials, JSON.stringify({ type: 'authorized_user', client_id: 'x', refresh_token: 'secret-refresh' }));
    expect(problemsOf({ FIREBASE_SERVICE_ACCOUNT_FILE: userCredentials })).toEqual([expect.stringMatching(/not a service-account key file/)]);

    const noProject = join(folder, 'no-project.json');
    writeFileSync(noProject, JSON.stringify({ client_email: 'a@b', private_key: PRIVATE_KEY }));
    expect(problemsOf({ FIREBASE_SERVICE_ACCOUNT_FILE: noProject })).toEqual([expect.stringMatching(/^FIREBASE_PROJECT_ID: is required/)]);
    expect(loadConfig({ FIREBASE_SERVICE_ACCOUNT_FILE: noProject, FIREBASE_PROJECT_ID: 'given' }).fcm?.projectId).toBe('given');
  });
});
