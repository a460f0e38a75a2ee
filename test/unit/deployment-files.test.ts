/**
 * No Docker engine runs here, so the deployment files are checked for what can be checked without
 * one: the compose file parses and is wired as intended, every setting is documented, and the
 * Dockerfile builds a small non-root image with a health check.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { loadConfig } from '../../src/config/config.js';
import { projectRoot } from '../../src/support/project-files.js';

type Json = Record<string, unknown>;

const root = projectRoot();
const read = (file: string): string => readFileSync(path.join(root, file), 'utf8');

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function composeFile(): Json {
  const document = parseDocument(read('docker-compose.yml'), { merge: true });
  expect(document.errors.map((error) => error.message)).toEqual([]);
  const compose: unknown = document.toJS({ maxAliasCount: 100 });
  if (!isObject(compose)) throw new Error('docker-compose.yml is not a mapping');
  return compose;
}

function services(compose: Json): Record<string, Json> {
  const found = compose['services'];
  if (!isObject(found)) throw new Error('docker-compose.yml has no services');
  return Object.fromEntries(Object.entries(found).map(([name, service]) => [name, isObject(service) ? service : {}]));
}

/** Variables `.env.example` documents: `NAME=value` lines, also when commented out (`# NAME=`). */
function documentedVariables(): Set<string> {
  return new Set([...read('.env.example').matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=/gm)].map((match) => match[1] ?? ''));
}

/**
 * The variables the service reads: loadConfig is handed an environment that records every name it
 * looks up, so a variable added to the config is caught here without editing this test.
 */
function variablesTheServiceReads(): string[] {
  const asked = new Set<string>();
  const recordingEnvironment = new Proxy({} as NodeJS.ProcessEnv, {
    get(_target, name) {
      if (typeof name === 'string') asked.add(name);
      return undefined;
    },
  });
  loadConfig(recordingEnvironment);
  return [...asked].filter((name) => /^[A-Z][A-Z0-9_]*$/.test(name)).sort();
}

/** The Dockerfile's stages: the FROM line and the instructions after it (continuations joined). */
function dockerStages(): Array<{ from: string; instructions: string[] }> {
  const instructions = read('Dockerfile')
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0 && !line.startsWith('#'));
  const stages: Array<{ from: string; instructions: string[] }> = [];
  for (const instruction of instructions) {
    if (/^FROM\s/i.test(instruction)) stages.push({ from: instruction, instructions: [] });
    else stages.at(-1)?.instructions.push(instruction);
  }
  return stages;
}

describe('.env.example', () => {
  it('documents every variable the service reads', () => {
    const read = variablesTheServiceReads();
    expect(read.length).toBeGreaterThan(20);
    expect(read).toEqual(expect.arrayContaining(['REDIS_URL', 'ROLE', 'SECUREAUTH_ISSUER_URL', 'REQUEST_TTL_SECONDS']));
    const documented = documentedVariables();
    expect(read.filter((name) => !documented.has(name))).toEqual([]);
  });

  it('copied as it is, with only the SecureAuth client filled in, is a configuration the service starts with', () => {
    const env = Object.fromEntries([...read('.env.example').matchAll(/^([A-Z][A-Z0-9_]*)=(.*)$/gm)].map((match) => [match[1] ?? '', match[2] ?? '']));
    expect(env).toHaveProperty('FCM_ENABLED', '');
    expect(() => loadConfig({ ...env, SECUREAUTH_CLIENT_ID: 'ciba-service', SECUREAUTH_CLIENT_SECRET: 'secret' })).not.toThrow();
  });
});

describe('docker-compose.yml', () => {
  it('parses, and every ${VAR} it uses is documented in .env.example', () => {
    composeFile();
    const text = read('docker-compose.yml').replace(/\$\$/g, '');
    const used = [...text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)/g)].map((match) => match[1] ?? '');
    expect(used.length).toBeGreaterThan(0);
    const documented = documentedVariables();
    expect(used.filter((name) => !documented.has(name))).toEqual([]);
  });

  it('sets only variables the service knows in its containers', () => {
    const known = new Set(variablesTheServiceReads());
    for (const [name, service] of Object.entries(services(composeFile()))) {
      if (name === 'redis' || name === 'mailpit') continue;
      const environment = isObject(service['environment']) ? Object.keys(service['environment']) : [];
      expect({ service: name, unknown: environment.filter((variable) => !known.has(variable)) }).toEqual({ service: name, unknown: [] });
    }
  });

  it('gives every service a health check', () => {
    for (const [name, service] of Object.entries(services(composeFile()))) {
      const check = service['healthcheck'];
      expect({ service: name, test: isObject(check) ? check['test'] : undefined }).toEqual({ service: name, test: expect.arrayContaining(['CMD']) });
    }
  });

  it('runs Redis with append-only persistence on a named volume', () => {
    const compose = composeFile();
    const redis = services(compose)['redis'] ?? {};
    expect(String(redis['image'])).toMatch(/^redis:/);
    expect(redis['command']).toEqual(expect.arrayContaining(['--appendonly', 'yes']));
    const mounts = (Array.isArray(redis['volumes']) ? redis['volumes'] : []).map(String);
    const dataVolume = mounts.find((mount) => mount.endsWith(':/data'))?.split(':')[0];
    expect(dataVolume).toBeDefined();
    expect(isObject(compose['volumes']) && Object.keys(compose['volumes'])).toContain(dataVolume);
  });

  it('runs the api and a worker from the same image, settings from .env, on Redis', () => {
    const all = services(composeFile());
    const api = all['api'] ?? {};
    const worker = all['worker'] ?? {};
    expect(api['image']).toBe(worker['image']);
    expect(api['build']).toBe('.');
    for (const [service, role] of [[api, 'api'], [worker, 'worker']] as const) {
      expect(service['env_file']).toBe('.env');
      expect(service['environment']).toMatchObject({ ROLE: role, REDIS_URL: 'redis://redis:6379' });
      expect(service['depends_on']).toMatchObject({ redis: { condition: 'service_healthy' } });
    }
    expect(String((api['healthcheck'] as Json)['test'])).toContain('/healthz');
    expect(api['ports']).toEqual([expect.stringMatching(/:8080$/)]);
  });

  it('has a mail catcher only under the optional "mail" profile', () => {
    const all = services(composeFile());
    const withProfiles = Object.entries(all).filter(([, service]) => service['profiles'] !== undefined);
    expect(withProfiles.map(([name, service]) => [name, service['profiles']])).toEqual([['mailpit', ['mail']]]);
  });
});

describe('Dockerfile', () => {
  const stages = dockerStages();
  const runtime = stages.at(-1) ?? { from: '', instructions: [] };

  it('compiles in a build stage and ships a separate runtime stage', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(stages[0]?.from).toMatch(/\bAS\s+build\b/i);
    expect(stages[0]?.instructions).toEqual(expect.arrayContaining([expect.stringMatching(/^RUN npm ci\b/), 'RUN npm run build']));
    expect(runtime.instructions).toContain('COPY --from=build /app/dist ./dist');
    expect(runtime.instructions.filter((line) => /^COPY (?!--from)/.test(line))).not.toContainEqual(expect.stringMatching(/\bsrc\b/));
  });

  it('installs production dependencies only, without install scripts', () => {
    expect(runtime.instructions).toContainEqual(expect.stringMatching(/^RUN npm ci --omit=dev --ignore-scripts\b/));
  });

  it('copies the OpenAPI document the service reads at start', () => {
    expect(runtime.instructions).toContain('COPY openapi ./openapi');
    expect(existsSync(path.join(root, 'openapi', 'authentication-service.yaml'))).toBe(true);
  });

  it('copies the web assets and e-mail templates the service serves', () => {
    expect(runtime.instructions).toContain('COPY web ./web');
    expect(existsSync(path.join(root, 'web', 'authenticator'))).toBe(true);
    expect(existsSync(path.join(root, 'web', 'email'))).toBe(true);
  });

  it('runs as a non-root user', () => {
    const users = runtime.instructions.filter((line) => /^USER\s/i.test(line));
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)).not.toMatch(/^USER\s+(root|0)(:|$)/i);
  });

  it('has a HEALTHCHECK that asks /healthz with node, and starts the compiled entry point', () => {
    expect(runtime.instructions).toContainEqual(expect.stringMatching(/^HEALTHCHECK .*CMD \["node".*\/healthz/));
    expect(runtime.instructions.at(-1)).toBe('CMD ["node", "dist/src/main.js"]');
    expect(read('tsconfig.build.json')).toContain('src/**/*.ts');
  });

  it('keeps secrets and local builds out of the build context', () => {
    const ignored = read('.dockerignore').split(/\r?\n/).map((line) => line.trim());
    expect(ignored).toEqual(expect.arrayContaining(['.env', 'node_modules', 'dist']));
  });
});
