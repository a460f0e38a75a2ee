/**
 * Hostile input stays small: every string a caller can send — in a request body, a path or a query
 * parameter — has a documented bound (maxLength, an enum, or an anchored pattern of bounded length)
 * that the OpenAPI validator enforces, and every array a bound on its items.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { openApiDocumentPath } from '../../src/support/project-files.js';

type Schema = Record<string, unknown>;
const document = parse(readFileSync(openApiDocumentPath(), 'utf8')) as { paths: Record<string, Record<string, Schema>>; components: Record<string, Record<string, Schema>> };

function resolve(schema: Schema): Schema {
  const ref = schema.$ref;
  if (typeof ref !== 'string') return schema;
  const [, , section, name] = ref.split('/');
  return resolve(document.components[section ?? '']?.[name ?? ''] ?? {});
}

/** An anchored pattern whose every part has a bounded repetition (no `*`, `+` or open `{n,}`). */
const boundedPattern = (pattern: unknown): boolean => typeof pattern === 'string' && /^\^.*\$$/.test(pattern) && !/[*+]|\{\d+,\}/.test(pattern);

/** Where a string or array in a request schema has no bound, as `where` paths. */
function unbounded(schema: Schema, where: string, seen = new Set<Schema>()): string[] {
  const resolved = resolve(schema);
  if (seen.has(resolved)) return [];
  seen.add(resolved);
  const found: string[] = [];
  if (resolved.type === 'string' && resolved.maxLength === undefined && resolved.enum === undefined && !boundedPattern(resolved.pattern)) found.push(where);
  if (resolved.type === 'array' && resolved.maxItems === undefined) found.push(`${where}[]`);
  for (const [name, property] of Object.entries((resolved.properties ?? {}) as Record<string, Schema>)) found.push(...unbounded(property, `${where}.${name}`, seen));
  if (resolved.items !== undefined) found.push(...unbounded(resolved.items as Schema, `${where}[]`, seen));
  for (const key of ['oneOf', 'anyOf', 'allOf']) for (const [index, part] of ((resolved[key] ?? []) as Schema[]).entries()) found.push(...unbounded(part, `${where}(${key} ${index})`, seen));
  return found;
}

function requestInputs(): Array<{ where: string; schema: Schema }> {
  const inputs: Array<{ where: string; schema: Schema }> = [];
  for (const [path, item] of Object.entries(document.paths)) {
    const shared = (item.parameters ?? []) as Schema[];
    for (const method of ['get', 'put', 'post', 'delete', 'patch']) {
      const operation = item[method];
      if (operation === undefined) continue;
      for (const parameter of [...shared, ...((operation.parameters ?? []) as Schema[])].map(resolve)) {
        inputs.push({ where: `${method.toUpperCase()} ${path} ${String(parameter.in)} ${String(parameter.name)}`, schema: parameter.schema as Schema });
      }
      const content = ((operation.requestBody as Schema | undefined)?.content ?? {}) as Record<string, { schema: Schema }>;
      for (const [mediaType, { schema }] of Object.entries(content)) inputs.push({ where: `${method.toUpperCase()} ${path} body (${mediaType})`, schema });
    }
  }
  return inputs;
}

describe('bounds on what callers send (OpenAPI document)', () => {
  it('finds the request bodies and parameters of the document', () => {
    const inputs = requestInputs();
    expect(inputs.length).toBeGreaterThan(15);
    expect(inputs.map((input) => input.where)).toEqual(expect.arrayContaining(['POST /user/verify body (application/json)', 'GET /admin/v1/audit query since']));
  });

  it('bounds every string and array a caller can send', () => {
    expect(requestInputs().flatMap(({ where, schema }) => unbounded(schema, where))).toEqual([]);
  });

  it('would notice an unbounded string', () => {
    expect(unbounded({ type: 'object', properties: { name: { type: 'string' }, code: { type: 'string', pattern: '^[0-9]+$' } } }, 'x')).toEqual(['x.name', 'x.code']);
  });
});
