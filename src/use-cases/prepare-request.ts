import { buildConsentView, type ConsentDetails } from '../domain/consent-view.js';
import { AuthorizationServerError } from '../ports/authorization-server.js';
import { jobFor, retryBeforeExpiry, RetryLaterError, type JobContext } from '../ports/jobs.js';
import type { Dependencies } from './dependencies.js';
import { prepareOpenBankingRequest } from './prepare-openbanking-request.js';
import { publishView } from './publish-view.js';

/** How long a job may wait for the record `/authentication/start` writes alongside it. */
const RECORD_WAIT_ATTEMPTS = 3;

/**
 * First job of every request: fix what the device will display (consent details from the
 * authorization server, or — if they cannot be had — the scopes from the start call), schedule the
 * expiry, then prompt the user. A request the service already denied goes straight to completion.
 */
export async function prepareRequest(
  deps: Pick<
    Dependencies,
    'requests' | 'jobs' | 'authorizationServer' | 'accountDirectory' | 'clock' | 'logger' | 'audit' | 'config' | 'users' | 'devices' | 'notifiers' | 'email'
  >,
  requestId: string,
  context: JobContext,
): Promise<void> {
  const request = await deps.requests.get(requestId);
  if (request === undefined) {
    if (context.attempt < RECORD_WAIT_ATTEMPTS) throw new RetryLaterError('the request record is not visible yet', 50);
    deps.logger.warn({ requestId }, 'prepare job found no request; dropping it');
    return;
  }
  const log = deps.logger.child({ requestId });

  if (request.status === 'denied' && request.decision?.channel === 'system') {
    await deps.jobs.add([jobFor('complete-request', { requestId })]);
    return;
  }
  if (request.status !== 'pending' || request.view !== undefined) return;

  const now = deps.clock.now();
  await deps.requests.trackExpiry(requestId, request.expiresAt);

  if (request.openbankingKind !== undefined) {
    await prepareOpenBankingRequest(deps, request, request.openbankingKind, context);
    return;
  }

  let details: ConsentDetails | undefined;
  try {
    details = await deps.authorizationServer.fetchConsentDetails(request);
  } catch (error) {
    if (!(error instanceof AuthorizationServerError)) throw error;
    retryBeforeExpiry(context, { now, expiresAt: request.expiresAt }, error);
    log.warn({ reason: error.message }, 'consent details unavailable; the device shows the scopes from the start call');
  }

  if (await publishView(deps, request, buildConsentView(request, details))) {
    log.info({ consentDetails: details !== undefined }, 'request ready for devices');
  }
}
