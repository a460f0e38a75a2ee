import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The generated types must be what the OpenAPI document says today (run `npm run generate`). */
it('src/http/generated/openapi.ts is up to date with the OpenAPI document', async () => {
  const folder = await mkdtemp(join(tmpdir(), 'openapi-types-'));
  try {
    const fresh = join(folder, 'openapi.ts');
    await run(process.execPath, ['node_modules/openapi-typescript/bin/cli.js', 'openapi/authentication-service.yaml', '-o', fresh]);
    const committed = await readFile('src/http/generated/openapi.ts', 'utf8');
    expect(committed).toBe(await readFile(fresh, 'utf8'));
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
});
