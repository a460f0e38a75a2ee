import type { ScopeView } from './authentication-request.js';

/** The forms SecureAuth may use for requested scopes in `/authentication/start`. */
export interface StartScopeFields {
  requested_scopes?: Array<string | { name: string; display_name?: string; description?: string }>;
  scopes?: string[];
  scope?: string;
}

/**
 * Merges `requested_scopes` (strings or objects), `scopes` and a space-separated `scope` into one
 * list without duplicates, keeping the first order seen and the richest description of each.
 */
export function normalizeRequestedScopes(fields: StartScopeFields): ScopeView[] {
  const byName = new Map<string, ScopeView>();
  const add = (scope: ScopeView): void => {
    const name = scope.name.trim();
    if (name.length === 0) return;
    const known = byName.get(name);
    byName.set(name, {
      name,
      ...(known?.display_name ?? scope.display_name ? { display_name: known?.display_name ?? scope.display_name } : {}),
      ...(known?.description ?? scope.description ? { description: known?.description ?? scope.description } : {}),
    });
  };
  for (const scope of fields.requested_scopes ?? []) {
    if (typeof scope === 'string') add({ name: scope });
    else add({ name: scope.name, display_name: scope.display_name, description: scope.description });
  }
  for (const name of fields.scopes ?? []) add({ name });
  for (const name of (fields.scope ?? '').split(/\s+/)) add({ name });
  return [...byName.values()];
}
