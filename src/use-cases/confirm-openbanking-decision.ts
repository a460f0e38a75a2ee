import type { AuthenticationRequest, ConsentView, DecisionRecord } from '../domain/authentication-request.js';
import { consentHash } from '../domain/consent-view.js';
import { AppError } from '../domain/errors.js';
import { chooseAccounts, consentProblem, type BrasilAccountIdentification, type OpenBankingConsent, type OpenBankingView } from '../domain/openbanking.js';
import { buildOpenBankingConsentView } from '../domain/openbanking-view.js';
import { AccountDirectoryError } from '../ports/accounts.js';
import { AuthorizationServerError } from '../ports/authorization-server.js';
import type { DecisionClaims } from '../protocol/decision-token.js';
import type { Dependencies } from './dependencies.js';
import { denyRequest } from './deny-request.js';

type ConfirmDeps = Pick<Dependencies, 'requests' | 'jobs' | 'authorizationServer' | 'accountDirectory' | 'clock' | 'logger' | 'audit' | 'notifiers'>;

export type OpenBankingDecisionFields = Pick<DecisionRecord, 'accountIds' | 'debtorAccount'>;

const unavailable = (what: string): AppError => AppError.unavailable(`${what}; try again shortly`);

/**
 * What an Open Banking decision adds, checked before it is recorded. For an approval:
 * 1. `account_ids` must fit what the view offered (400 otherwise);
 * 2. the consent is read again from the authorization server (one call, bounded by the client's
 *    timeout): if what it would display now differs from what the user saw — amount, currency, payee,
 *    permissions, expiry… — the approval is refused with 409 `consent_changed` and nothing is sent;
 *    the stored view (and hash) is replaced by the new one, so the device's next GET shows it;
 *    a consent gone or no longer awaiting authorisation denies the request (409 `consent_unavailable`);
 * 3. a Brasil payment gets the payer's account it will be accepted with.
 * A request that is not Open Banking may not carry `account_ids`.
 */
export async function confirmOpenBankingDecision(
  deps: ConfirmDeps,
  request: AuthenticationRequest & { view: ConsentView },
  claims: DecisionClaims,
): Promise<OpenBankingDecisionFields> {
  const shown = request.view.openbanking;
  if (shown === undefined) {
    if (claims.account_ids !== undefined) throw AppError.invalidRequest('account_ids: only Open Banking requests have accounts to choose');
    return {};
  }
  if (claims.action !== 'approve') return {};

  const choice = chooseAccounts(shown, claims.account_ids);
  if (!choice.ok) throw AppError.invalidRequest(choice.description);

  const consent = await rereadConsent(deps, request, shown);
  // The binding-message choices were drawn once, when the view was published; they are kept as shown.
  const rebuilt = buildOpenBankingConsentView(request, consent, shown.accounts);
  const current = request.view.binding_choices === undefined ? rebuilt : { ...rebuilt, binding_choices: request.view.binding_choices };
  const currentHash = consentHash(current);
  if (currentHash !== request.consentHash) {
    await deps.requests.setView(request.requestId, current, currentHash);
    deps.logger.warn({ requestId: request.requestId }, 'the consent changed at the authorization server since it was displayed; approval refused');
    throw AppError.conflict(
      'consent_changed',
      'the consent changed at the authorization server since it was displayed (amount, payee, permissions or expiry); fetch the request again',
    );
  }

  const debtorAccount = await payerAccount(deps, request, shown, consent, choice.accountIds);
  return { accountIds: choice.accountIds, ...(debtorAccount !== undefined ? { debtorAccount } : {}) };
}

/** The consent as the authorization server holds it now; one that can no longer be decided ends the request. */
async function rereadConsent(deps: ConfirmDeps, request: AuthenticationRequest, shown: OpenBankingView): Promise<OpenBankingConsent> {
  let lookup;
  try {
    lookup = await deps.authorizationServer.fetchOpenBankingConsent(request, shown.kind);
  } catch (error) {
    if (!(error instanceof AuthorizationServerError)) throw error;
    deps.logger.warn({ requestId: request.requestId, reason: error.message }, 'the consent could not be read again');
    throw unavailable('the consent could not be read again from the authorization server');
  }
  const endRequest = async (problem: { reason: string; description: string }): Promise<never> => {
    await denyRequest(deps, request.requestId, problem.reason, problem.description);
    throw AppError.conflict('consent_unavailable', `${problem.description}; the request was denied`);
  };
  if (!lookup.found) {
    return endRequest({ reason: 'consent_not_found', description: `consent ${shown.consent_id} is no longer known to the authorization server` });
  }
  const problem = consentProblem(lookup.consent, request.openbankingIntentId, deps.clock.now());
  if (problem !== undefined) return endRequest(problem);
  return lookup.consent;
}

/**
 * Brasil payments are accepted with the payer's account (`debtor_account`): the one the consent fixes,
 * or the bank's identification of the account the user chose.
 */
async function payerAccount(
  deps: ConfirmDeps,
  request: AuthenticationRequest,
  shown: OpenBankingView,
  consent: OpenBankingConsent,
  accountIds: string[],
): Promise<BrasilAccountIdentification | undefined> {
  if (shown.kind !== 'brasil_payment') return undefined;
  if (consent.brasilDebtorAccount !== undefined) return consent.brasilDebtorAccount;
  const [chosen] = accountIds;
  if (chosen === undefined || request.userId === null) return undefined;
  let accounts;
  try {
    accounts = await deps.accountDirectory.listAccounts({ userId: request.userId, partition: request.partition });
  } catch (error) {
    if (!(error instanceof AccountDirectoryError)) throw error;
    throw unavailable("the user's accounts could not be read");
  }
  const identification = accounts.find((account) => account.accountId === chosen)?.brasil;
  if (identification === undefined) {
    throw AppError.conflict('account_unavailable', `account ${chosen} can no longer pay this consent; fetch the request again`);
  }
  return identification;
}
