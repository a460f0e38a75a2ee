/**
 * Users for a benchmark, made the way operators and phones make them: the admin API creates the user
 * (with an e-mail alias, the identifier SecureAuth sends) and an activation code, then a device with
 * a real ES256 key enrols through the device API.
 */
import { DeviceClient } from '../../dev/device-client.js';
import { ADMIN_TOKEN } from './processes.js';

export interface SeededUser {
  userId: string;
  /** What the start and verify calls send as user_identifier. */
  alias: string;
  device: DeviceClient;
}

async function admin(baseUrl: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${baseUrl}/admin/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, body: (await response.json()) as unknown };
}

/** An FCM registration token is about this long; devices of the memory figures carry one. */
const pushTokenFor = (userId: string): string => `${Buffer.from(userId).toString('base64url')}:APA91b${'x'.repeat(140)}`.slice(0, 163);

async function seedOne(baseUrl: string, userId: string, alias: string, withPushToken: boolean): Promise<SeededUser> {
  const saved = await admin(baseUrl, 'PUT', `/users/${encodeURIComponent(userId)}`, { aliases: [alias], display_name: `Bench user ${userId}` });
  if (saved.status !== 200) throw new Error(`creating ${userId} failed: ${saved.status} ${JSON.stringify(saved.body)}`);
  const code = await admin(baseUrl, 'POST', `/users/${encodeURIComponent(userId)}/activation-codes`);
  if (code.status !== 201) throw new Error(`activation code for ${userId} failed: ${code.status}`);
  const device = await DeviceClient.enroll(baseUrl, (code.body as { activation_code: string }).activation_code, {
    name: `${userId}'s phone`,
    platform: 'android',
    ...(withPushToken ? { pushToken: pushTokenFor(userId) } : {}),
  });
  return { userId, alias, device };
}

/** `count` users named `{tag}-user-N` with alias `{tag}-user-N@bank.example`, a few at a time. */
export async function seedUsers(baseUrl: string, count: number, tag: string, options: { withPushToken?: boolean; parallel?: number } = {}): Promise<SeededUser[]> {
  const users: SeededUser[] = new Array<SeededUser>(count);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count) {
      const index = next;
      next += 1;
      const userId = `${tag}-user-${index}`;
      users[index] = await seedOne(baseUrl, userId, `${userId}@bank.example`, options.withPushToken ?? false);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.parallel ?? 8, count) }, lane));
  return users;
}
