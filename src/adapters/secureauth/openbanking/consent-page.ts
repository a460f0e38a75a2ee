import { z } from 'zod';
import type { AuthenticationRequest, ClientView, ScopeView } from '../../../domain/authentication-request.js';
import type { OpenBankingConsent, OpenBankingKind } from '../../../domain/openbanking.js';
import { AuthorizationServerError, type OpenBankingGrant, type Rejection } from '../../../ports/authorization-server.js';

/**
 * One kind of Open Banking consent as SecureAuth's consent-page API serves it: where it lives, how its
 * GET answer reads in plain terms, and the bodies its accept and reject take. The client dispatches on
 * the kind to one of these; each is small and knows one schema (see the reference YAML files).
 */
export interface ConsentPage {
  readonly kind: OpenBankingKind;
  /** Under the Open Banking base URL, before `/{login}`. */
  readonly path: string;
  /** For messages: `account-access consent`. */
  readonly what: string;
  /** The GET answer as a consent; undefined when it holds no consent of this kind. */
  toConsent(body: unknown): OpenBankingConsent | undefined;
  acceptBody(request: AuthenticationRequest, grant: OpenBankingGrant): object;
  rejectBody(request: AuthenticationRequest, rejection: Rejection): object;
}

/** The fields every consent-page GET answer shares (`Get…ConsentResponse`), as far as they are used. */
const envelopeSchema = z.object({
  consent_id: z.string().optional(),
  client_id: z.string().optional(),
  client_info: z.object({ client_name: z.string().optional(), logo_uri: z.string().optional() }).optional(),
  requested_scopes: z
    .array(
      z.object({
        name: z.string().optional(),
        requested_name: z.string().optional(),
        display_name: z.string().optional(),
        description: z.string().optional(),
      }),
    )
    .optional(),
  status: z.string().optional(),
});

export interface Envelope {
  ids: string[];
  status?: string;
  client: ClientView;
  scopes: ScopeView[];
}

/**
 * Reads the envelope and the kind's own object (`field`). Undefined when that object is absent (the
 * answer is about another kind); a present but malformed object is an error, not a guess.
 */
export function readConsentBody<T>(
  what: string,
  body: unknown,
  field: string,
  schema: z.ZodType<T>,
): { envelope: Envelope; consent: T } | undefined {
  if (typeof body !== 'object' || body === null || !(field in body)) return undefined;
  const envelope = envelopeSchema.safeParse(body);
  const consent = schema.safeParse((body as Record<string, unknown>)[field]);
  if (!envelope.success || !consent.success) {
    const issue = (envelope.success ? consent.error : envelope.error)?.issues[0];
    const where = issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'unreadable';
    throw new AuthorizationServerError(`the ${what} cannot be read (${field}.${where})`, false);
  }
  const { consent_id: consentId, client_id: clientId, client_info: clientInfo, requested_scopes: requested, status } = envelope.data;
  // A dynamic scope (OBBR `consent:urn:…`) is requested under its full name; `name` is the scope's.
  const scopes = (requested ?? []).flatMap((scope) => {
    const name = scope.requested_name ?? scope.name;
    if (name === undefined || name.length === 0) return [];
    return [{ name, ...(scope.display_name ? { display_name: scope.display_name } : {}), ...(scope.description ? { description: scope.description } : {}) }];
  });
  return {
    envelope: {
      ids: consentId !== undefined && consentId.length > 0 ? [consentId] : [],
      ...(status !== undefined ? { status } : {}),
      client: {
        ...(clientId ? { id: clientId } : {}),
        ...(clientInfo?.client_name ? { name: clientInfo.client_name } : {}),
        ...(clientInfo?.logo_uri ? { logo_uri: clientInfo.logo_uri } : {}),
      },
      scopes,
    },
    consent: consent.data,
  };
}

/** Date-times in one form (ISO 8601, UTC), so the view and its hash do not depend on the server's spelling. */
export function isoDateTime(value: string | undefined): string | undefined {
  if (value === undefined || value.length === 0) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? value : new Date(ms).toISOString();
}

export function epochMs(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

export const uniqueIds = (...ids: Array<string | undefined>): string[] => [...new Set(ids.filter((id): id is string => id !== undefined && id.length > 0))];

/** `AcceptConsentRequest` (UK both kinds, Brasil data access). It has no `id`, unlike the scope-grant accept. */
export function acceptConsentRequest(request: AuthenticationRequest, grant: OpenBankingGrant): Record<string, unknown> {
  return {
    login_state: request.loginState,
    granted_scopes: grant.grantedScopes,
    ...(grant.accountIds.length > 0 ? { account_ids: grant.accountIds } : {}),
  };
}

