import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The project root, found from this file whether it runs from src/ (tests) or dist/src/ (built):
 * the nearest folder above that holds the OpenAPI document.
 */
export function projectRoot(): string {
  let folder = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(folder, 'openapi', 'authentication-service.yaml'))) return folder;
    const parent = dirname(folder);
    if (parent === folder) throw new Error('cannot find the project root (openapi/authentication-service.yaml)');
    folder = parent;
  }
}

export const openApiDocumentPath = (): string => join(projectRoot(), 'openapi', 'authentication-service.yaml');

/** Files served or used at run time from `web/` (the browser authenticator, e-mail templates). */
export const webAssetPath = (...segments: string[]): string => join(projectRoot(), 'web', ...segments);
