import type { BankAccount } from '../domain/account.js';
import type { AuthenticationRequest } from '../domain/authentication-request.js';
import { accountSelectionFor, consentProblem, type OpenBankingKind } from '../domain/openbanking.js';
import { buildOpenBankingConsentView, offeredAccounts } from '../domain/openbanking-view.js';
import { AccountDirectoryError } from '../ports/accounts.js';
import { AuthorizationServerError } from '../ports/authorization-server.js';
import { retryBeforeExpiry, type JobContext, type JobFailure } from '../ports/jobs.js';
import type { Dependencies } from './dependencies.js';
import { denyRequest } from './deny-request.js';
import { findOpenBankingConsent } from './openbanking-consent.js';
import { publishView } from './publish-view.js';

type PrepareDeps = Pick<
  Dependencies,
  'requests' | 'jobs' | 'authorizationServer' | 'accountDirectory' | 'clock' | 'logger' | 'audit' | 'config' | 'users' | 'devices' | 'notifiers' | 'email'
>;

/**
 * Prepares an Open Banking request: finds its consent (guessed kind, then the other kind of the
 * profile), checks it can still be decided, reads the user's accounts, and fixes the view. Unlike a
 * regular request there is no fallback view: a consent that cannot be read or used ends the request
 * with a reject saying why, since a payment cannot be shown without its amount and payee.
 */
export async function prepareOpenBankingRequest(
  deps: PrepareDeps,
  request: AuthenticationRequest,
  guess: OpenBankingKind,
  context: JobContext,
): Promise<void> {
  const { requestId } = request;
  const log = deps.logger.child({ requestId, openbankingKind: guess });
  const deny = async (reason: string, description: string): Promise<void> => {
    log.warn({ reason, description }, 'open banking request cannot be put to the user');
    await denyRequest(deps, requestId, reason, description);
  };
  /** A failure that may pass is retried while the job and the request allow; then the request is denied. */
  const retryOrDeny = async (failure: JobFailure, reason: string, what: string): Promise<void> => {
    retryBeforeExpiry(context, { now: deps.clock.now(), expiresAt: request.expiresAt }, failure);
    await deny(reason, `${what} (${failure.message})`);
  };

  // Never true here: a request of an unknown user is stored denied, and prepareRequest sends it to
  // completion before this. The check narrows userId for the account lookup below.
  if (request.userId === null) return deny('unknown_user', 'the user is not known to the authentication service');

  let search;
  try {
    search = await findOpenBankingConsent(deps.authorizationServer, request, guess);
  } catch (error) {
    if (!(error instanceof AuthorizationServerError)) throw error;
    return retryOrDeny(error, 'consent_unavailable', 'the consent could not be read from the authorization server');
  }
  if (!search.found) return deny('consent_not_found', search.description);
  const consent = search.consent;
  const problem = consentProblem(consent, request.openbankingIntentId, deps.clock.now());
  if (problem !== undefined) return deny(problem.reason, problem.description);

  let accounts: BankAccount[];
  try {
    accounts = await deps.accountDirectory.listAccounts({ userId: request.userId, partition: request.partition });
  } catch (error) {
    if (!(error instanceof AccountDirectoryError)) throw error;
    return retryOrDeny(error, 'accounts_unavailable', "the user's accounts could not be read");
  }
  const offered = offeredAccounts(consent, accounts);
  if (offered.length === 0 && accountSelectionFor(consent) !== 'fixed') {
    return deny('no_accounts', `the user has no account that ${consent.terms.payment ? 'can make this payment' : 'can be shared'}`);
  }

  if (await publishView(deps, request, buildOpenBankingConsentView(request, consent, offered))) {
    log.info({ openbankingKind: consent.kind, accounts: offered.length }, 'open banking request ready for devices');
  }
}
