import type { AuthenticationRequest } from '../domain/authentication-request.js';
import { kindsToTry, type OpenBankingConsent, type OpenBankingKind } from '../domain/openbanking.js';
import type { AuthorizationServerClient, Rejection } from '../ports/authorization-server.js';

const kindNames: Record<OpenBankingKind, string> = {
  uk_account_access: 'account-access consent',
  uk_domestic_payment: 'domestic-payment consent',
  brasil_data_access: 'data-access consent',
  brasil_payment: 'payment consent',
};

export type ConsentSearch = { found: true; consent: OpenBankingConsent } | { found: false; description: string };

/**
 * Finds the request's consent: the kind first guessed, then — if the authorization server has none of
 * that kind (404) — the other kind of the profile. Transport and server failures propagate.
 */
export async function findOpenBankingConsent(
  authorizationServer: AuthorizationServerClient,
  request: AuthenticationRequest,
  guess: OpenBankingKind,
): Promise<ConsentSearch> {
  const tried = kindsToTry(guess);
  for (const kind of tried) {
    const lookup = await authorizationServer.fetchOpenBankingConsent(request, kind);
    if (lookup.found) return lookup;
  }
  const named = request.openbankingIntentId !== undefined ? ` ${request.openbankingIntentId}` : '';
  return {
    found: false,
    description: `consent${named} is not known to the authorization server (no ${tried.map((kind) => kindNames[kind]).join(' and no ')} for this login)`,
  };
}

/** Tells the authorization server the outcome of an Open Banking request through its consent page. */
export async function reportOpenBankingOutcome(
  authorizationServer: AuthorizationServerClient,
  request: AuthenticationRequest,
  kind: OpenBankingKind,
  rejection: Rejection,
): Promise<void> {
  if (request.status !== 'approved') {
    await authorizationServer.rejectOpenBankingConsent(request, kind, rejection);
    return;
  }
  const decision = request.decision;
  await authorizationServer.acceptOpenBankingConsent(request, kind, {
    grantedScopes: decision?.grantedScopes ?? (request.view?.scopes ?? request.requestedScopes).map((scope) => scope.name),
    accountIds: decision?.accountIds ?? [],
    ...(decision?.debtorAccount !== undefined ? { debtorAccount: decision.debtorAccount } : {}),
  });
}
