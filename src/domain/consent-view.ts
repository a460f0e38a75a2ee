import canonicalize from 'canonicalize';
import type { AuthenticationRequest, ClientView, ConsentView, ScopeView } from './authentication-request.js';
import { sha256Base64url } from './identifiers.js';

/** What the authorization server told us about the request, when it could be asked. */
export interface ConsentDetails {
  client?: ClientView;
  scopes?: ScopeView[];
  authorizationDetails?: Record<string, unknown>[];
}

/**
 * `consent_hash` = base64url(SHA-256(RFC 8785 canonical JSON of the view)). A decision carries the
 * hash of what the device displayed, so an approval is bound to exactly that view.
 */
export function consentHash(view: object): string {
  const canonical = canonicalize(view);
  if (canonical === undefined) throw new Error('consent view cannot be canonicalised');
  return sha256Base64url(canonical);
}

const withoutEmpty = <T extends object>(value: T): T =>
  Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined && field !== '')) as T;

/**
 * Builds the view from the start call and, when the authorization server could be asked, its consent
 * details: its scope descriptions win, but only for the scopes the start call requested.
 */
export function buildConsentView(request: AuthenticationRequest, details: ConsentDetails | undefined): ConsentView {
  const described = new Map((details?.scopes ?? []).map((scope) => [scope.name, scope]));
  const requested = request.requestedScopes.length > 0 ? request.requestedScopes : (details?.scopes ?? []);
  const scopes = requested.map((scope) => {
    const richer = described.get(scope.name);
    return withoutEmpty<ScopeView>({
      name: scope.name,
      display_name: richer?.display_name ?? scope.display_name,
      description: richer?.description ?? scope.description,
    });
  });
  const client = withoutEmpty<ClientView>({
    id: request.clientId ?? details?.client?.id,
    name: details?.client?.name ?? request.clientName ?? request.clientId,
    logo_uri: details?.client?.logo_uri,
  });
  const authorizationDetails = details?.authorizationDetails ?? request.authorizationDetails;
  return withoutEmpty<ConsentView>({
    request_id: request.requestId,
    client,
    binding_message: request.bindingMessage,
    scopes,
    authorization_details: authorizationDetails !== undefined && authorizationDetails.length > 0 ? authorizationDetails : undefined,
    created_at: new Date(request.createdAt).toISOString(),
    expires_at: new Date(request.expiresAt).toISOString(),
  });
}
