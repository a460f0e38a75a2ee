/**
 * Validation of JSON bodies against the SecureAuth reference definitions (Swagger 2.0 subsets, see
 * the README next to the YAML files).
 *
 * The Swagger 2.0 schemas are converted to draft-07 JSON Schema for ajv:
 * - `#/definitions/X` references point at the converted document of the same file;
 * - vendor extensions (`x-*`) and Swagger-only keywords (`example`, `discriminator`, ...) are dropped;
 *   `x-nullable: false` is what JSON Schema does anyway, `x-nullable: true` allows null;
 * - formats that ajv-formats knows (date-time, date, int64, ...) are validated, SecureAuth's own
 *   formats (loginID, scopeName, tenantID, ...) are accepted as any string;
 * - a bare `type: object` (no properties, no additionalProperties) means "any JSON value", as in the
 *   go-swagger code SecureAuth's API is generated with (it becomes `interface{}`): for example
 *   `authorization_details` items are maps of arbitrary JSON values, not maps of objects.
 *
 * The reference folder is `../shared/reference/secureauth` next to the repository (override with
 * SECUREAUTH_REFERENCE_DIR); a fresh clone without it uses the copy in
 * `test/fixtures/secureauth-reference/`. Both are looked for from the working directory and from the
 * repository this file belongs to, so the development authorization server finds them wherever it runs.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject, type SchemaObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { parse as parseYaml } from 'yaml';

export type ReferenceFile = 'system-scope-grants' | 'openbanking-uk-consent-page' | 'openbanking-brasil-consent-page';

export interface DefinitionValidationOptions {
  /** Reject properties that the definition does not list (top level of the body only). */
  strictProperties?: boolean;
}

export interface DefinitionValidationResult {
  valid: boolean;
  errors: string[];
}

const REFERENCE_FILES: readonly ReferenceFile[] = [
  'system-scope-grants',
  'openbanking-uk-consent-page',
  'openbanking-brasil-consent-page',
];

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ---------------------------------------------------------------------------------------------
// Locating and loading the YAML files
// ---------------------------------------------------------------------------------------------

/** The folder the reference YAML files are read from. */
export function referenceDirectory(): string {
  const fromEnv = process.env['SECUREAUTH_REFERENCE_DIR'];
  if (fromEnv) {
    const dir = path.resolve(process.cwd(), fromEnv);
    if (!existsSync(dir)) throw new Error(`SECUREAUTH_REFERENCE_DIR points at a missing folder: ${dir}`);
    return dir;
  }
  const repositoryRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  const candidates = [...new Set([process.cwd(), repositoryRoot])].flatMap((root) => [
    path.resolve(root, '../shared/reference/secureauth'),
    path.resolve(root, 'test/fixtures/secureauth-reference'),
  ]);
  const found = candidates.find((dir) => existsSync(path.join(dir, 'system-scope-grants.yaml')));
  if (!found) throw new Error(`SecureAuth reference YAML files not found; looked in:\n${candidates.join('\n')}`);
  return found;
}

function loadSwaggerDefinitions(file: ReferenceFile): JsonObject {
  const text = readFileSync(path.join(referenceDirectory(), `${file}.yaml`), 'utf8');
  const document: unknown = parseYaml(text);
  if (!isObject(document) || !isObject(document['definitions'])) {
    throw new Error(`${file}.yaml has no definitions section`);
  }
  return document['definitions'];
}

// ---------------------------------------------------------------------------------------------
// Swagger 2.0 schema -> draft-07 JSON Schema
// ---------------------------------------------------------------------------------------------

/** Swagger 2.0 schema keywords that JSON Schema does not have (or that must not be enforced). */
const SWAGGER_ONLY_KEYWORDS = new Set(['example', 'discriminator', 'xml', 'externalDocs']);

/** Keywords that make a `type: object` schema mean more than "any value". */
const OBJECT_SHAPE_KEYWORDS = [
  'properties',
  'additionalProperties',
  'patternProperties',
  'required',
  'minProperties',
  'maxProperties',
  'allOf',
  'anyOf',
  'oneOf',
  'enum',
  '$ref',
];

function documentId(file: ReferenceFile): string {
  return `https://secureauth-reference.test/${file}.json`;
}

function convertSchema(node: unknown, file: ReferenceFile): unknown {
  if (!isObject(node)) return node;
  const out: JsonObject = {};
  for (const [keyword, value] of Object.entries(node)) {
    if (keyword.startsWith('x-') || SWAGGER_ONLY_KEYWORDS.has(keyword)) continue;
    out[keyword] = convertKeyword(keyword, value, file);
  }
  fixExclusiveBounds(out);
  if (out['type'] === 'object' && !OBJECT_SHAPE_KEYWORDS.some((keyword) => keyword in out)) {
    delete out['type']; // go-swagger's interface{}
  }
  return node['x-nullable'] === true ? { anyOf: [{ type: 'null' }, out] } : out;
}

/** Convert the value of one keyword; only keywords whose values are schemas are walked into. */
function convertKeyword(keyword: string, value: unknown, file: ReferenceFile): unknown {
  switch (keyword) {
    case '$ref':
      return typeof value === 'string' && value.startsWith('#/definitions/') ? `${documentId(file)}${value}` : value;
    case 'properties':
      return isObject(value)
        ? Object.fromEntries(Object.entries(value).map(([name, schema]) => [name, convertSchema(schema, file)]))
        : value;
    case 'items':
      return Array.isArray(value) ? value.map((schema) => convertSchema(schema, file)) : convertSchema(value, file);
    case 'additionalProperties':
    case 'not':
      return convertSchema(value, file);
    case 'allOf':
    case 'anyOf':
    case 'oneOf':
      return Array.isArray(value) ? value.map((schema) => convertSchema(schema, file)) : value;
    default:
      return value;
  }
}

/** Swagger 2.0 (draft-04) `exclusiveMaximum: true` + `maximum: n` is draft-07 `exclusiveMaximum: n`. */
function fixExclusiveBounds(schema: JsonObject): void {
  for (const [flag, bound] of [
    ['exclusiveMaximum', 'maximum'],
    ['exclusiveMinimum', 'minimum'],
  ] as const) {
    if (typeof schema[flag] !== 'boolean') continue;
    if (schema[flag] === true) schema[flag] = schema[bound];
    else delete schema[flag];
    if (schema[flag] !== undefined) delete schema[bound];
  }
}

function collectFormats(node: unknown, into: Set<string>): void {
  if (Array.isArray(node)) {
    for (const item of node) collectFormats(item, into);
  } else if (isObject(node)) {
    if (typeof node['format'] === 'string') into.add(node['format']);
    for (const value of Object.values(node)) collectFormats(value, into);
  }
}

// ---------------------------------------------------------------------------------------------
// ajv setup (one instance, every reference file added once, validators cached)
// ---------------------------------------------------------------------------------------------

interface Registry {
  ajv: Ajv;
  definitions: Map<ReferenceFile, JsonObject>;
  validators: Map<string, ValidateFunction>;
}

let registry: Registry | undefined;

function getRegistry(): Registry {
  if (registry) return registry;
  // strict: false because Swagger schemas legitimately mix keywords that ajv's strict mode flags
  // (e.g. `required` next to `allOf`); formats are checked explicitly below instead.
  const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: true });
  addFormatsModule.default(ajv, { mode: 'full' });

  const definitions = new Map<ReferenceFile, JsonObject>();
  const formats = new Set<string>();
  for (const file of REFERENCE_FILES) {
    const fileDefinitions = Object.fromEntries(
      Object.entries(loadSwaggerDefinitions(file)).map(([name, schema]) => [name, convertSchema(schema, file)]),
    );
    collectFormats(fileDefinitions, formats);
    definitions.set(file, fileDefinitions);
    ajv.addSchema({ $id: documentId(file), definitions: fileDefinitions });
  }
  for (const format of formats) {
    if (!ajv.formats[format]) ajv.addFormat(format, true); // SecureAuth-specific: any string
  }
  registry = { ajv, definitions, validators: new Map() };
  return registry;
}

function definitionSchema(reg: Registry, file: ReferenceFile, definition: string): JsonObject {
  const fileDefinitions = reg.definitions.get(file);
  const schema = fileDefinitions?.[definition];
  if (!fileDefinitions || !isObject(schema)) {
    const known = fileDefinitions ? Object.keys(fileDefinitions).sort().join(', ') : '(none)';
    throw new Error(`no definition "${definition}" in ${file}.yaml; known definitions: ${known}`);
  }
  return schema;
}

/** Names of the properties an object definition lists, following allOf and $ref inside the file. */
function listedProperties(reg: Registry, file: ReferenceFile, schema: JsonObject, seen = new Set<string>()): string[] {
  const names = isObject(schema['properties']) ? Object.keys(schema['properties']) : [];
  const ref = schema['$ref'];
  if (typeof ref === 'string' && !seen.has(ref)) {
    seen.add(ref);
    const name = ref.slice(ref.lastIndexOf('/') + 1);
    names.push(...listedProperties(reg, file, definitionSchema(reg, file, name), seen));
  }
  if (Array.isArray(schema['allOf'])) {
    for (const part of schema['allOf']) {
      if (isObject(part)) names.push(...listedProperties(reg, file, part, seen));
    }
  }
  return names;
}

/**
 * The top-level definition with unknown properties forbidden. JSON Schema's additionalProperties only
 * sees `properties` next to it, so for allOf definitions every listed name is repeated there.
 */
function withoutAdditionalProperties(reg: Registry, file: ReferenceFile, schema: JsonObject): SchemaObject {
  if (schema['additionalProperties'] !== undefined) return schema; // a map type: leave it alone
  const properties = Object.fromEntries(listedProperties(reg, file, schema).map((name) => [name, true]));
  return {
    ...schema,
    properties: { ...properties, ...(isObject(schema['properties']) ? schema['properties'] : {}) },
    additionalProperties: false,
  };
}

function getValidator(file: ReferenceFile, definition: string, strictProperties: boolean): ValidateFunction {
  const reg = getRegistry();
  const key = `${file}#${definition}#${strictProperties}`;
  const cached = reg.validators.get(key);
  if (cached) return cached;
  const schema = definitionSchema(reg, file, definition);
  const validator = reg.ajv.compile(
    strictProperties
      ? withoutAdditionalProperties(reg, file, schema)
      : { $ref: `${documentId(file)}#/definitions/${definition}` },
  );
  reg.validators.set(key, validator);
  return validator;
}

function describeError(error: ErrorObject): string {
  const where = error.instancePath === '' ? '(root)' : error.instancePath;
  const params = error.params as Record<string, unknown>;
  let detail = '';
  if (typeof params['additionalProperty'] === 'string') detail = `: "${params['additionalProperty']}"`;
  else if (Array.isArray(params['allowedValues'])) detail = `: ${JSON.stringify(params['allowedValues'])}`;
  return `${where} ${error.message ?? 'is invalid'}${detail}`;
}

// ---------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------

/** Validate `body` against `definitions.<definition>` of the given reference file. */
export function validateAgainstDefinition(
  file: ReferenceFile,
  definition: string,
  body: unknown,
  options: DefinitionValidationOptions = {},
): DefinitionValidationResult {
  const validator = getValidator(file, definition, options.strictProperties ?? false);
  const valid = validator(body);
  return { valid, errors: valid ? [] : (validator.errors ?? []).map(describeError) };
}

/** Like {@link validateAgainstDefinition}, but throws an Error that lists every problem. */
export function assertMatchesDefinition(
  file: ReferenceFile,
  definition: string,
  body: unknown,
  options: DefinitionValidationOptions = {},
): void {
  const result = validateAgainstDefinition(file, definition, body, options);
  if (!result.valid) {
    throw new Error(
      `body does not match ${file}.yaml#/definitions/${definition}:\n  ${result.errors.join('\n  ')}\n` +
        `body: ${JSON.stringify(body)}`,
    );
  }
}
