/**
 * docs/security.md maps threats to code and tests. Every file it names must exist, every function it
 * names (`path#name`) must appear in that file, and every test it names (`file` › "name") must appear
 * in that test file — a renamed test or a moved function fails here instead of leaving the table wrong.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../src/support/project-files.js';

const root = projectRoot();
const doc = readFileSync(join(root, 'docs', 'security.md'), 'utf8');

/** `path` or `path#symbol` in backticks, for files of this repository. */
const codeReferences = [...doc.matchAll(/`((?:src|test|web|openapi|docs|dev)\/[^`\s#]+)(?:#([\w$.]+))?`/g)].map((match) => ({
  path: match[1] ?? '',
  symbol: match[2],
}));

/** `test/….test.ts` followed by › "test name" › "another"… */
const testReferences = [...doc.matchAll(/`(test\/[^`\s]+\.test\.ts)`((?:\s*›\s*"[^"]+")*)/g)].flatMap((match) =>
  [...(match[2] ?? '').matchAll(/"([^"]+)"/g)].map((name) => ({ path: match[1] ?? '', name: name[1] ?? '' })),
);

describe('docs/security.md', () => {
  it('names files, functions and tests', () => {
    expect(codeReferences.length).toBeGreaterThan(30);
    expect(testReferences.length).toBeGreaterThan(30);
    expect(doc).toMatch(/credential guessing/i);
  });

  it.each(['src/http/middleware/rate-limits.ts', 'test/component/rate-limits.test.ts'])('covers the rate limits: names %s', (path) => {
    expect(codeReferences.map((reference) => reference.path)).toContain(path);
  });

  it.each([...new Set(codeReferences.map((reference) => reference.path))])('names %s, which exists', (path) => {
    expect(existsSync(join(root, path))).toBe(true);
  });

  const symbols = codeReferences.filter((reference) => reference.symbol !== undefined);
  it.each(symbols.map((reference) => [`${reference.path}#${reference.symbol}`, reference] as const))('names %s, which is in that file', (_name, reference) => {
    const path = join(root, reference.path);
    expect(existsSync(path)).toBe(true);
    expect(readFileSync(path, 'utf8')).toContain(reference.symbol ?? '');
  });

  it.each(testReferences.map((reference) => [`${reference.path} › ${reference.name}`, reference] as const))('names the test %s, which exists', (_name, reference) => {
    const path = join(root, reference.path);
    expect(existsSync(path)).toBe(true);
    expect(readFileSync(path, 'utf8')).toContain(reference.name);
  });
});
