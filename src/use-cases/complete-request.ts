import type { AuthenticationRequest } from '../domain/authentication-request.js';
import { openBankingKindOf } from '../domain/openbanking.js';
import { unreachableDescriptions, type UnreachableReason } from '../domain/user.js';
import { AuthorizationServerError, type Rejection } from '../ports/authorization-server.js';
import { retryBeforeExpiry, type JobContext } from '../ports/jobs.js';
import type { Dependencies } from './dependencies.js';
import { reportOpenBankingOutcome } from './openbanking-consent.js';

/** What the authorization server is told when a request is denied, by the user or by the service. */
export function rejectionFor(request: AuthenticationRequest): Rejection {
  const decision = request.decision;
  if (decision?.channel === 'system') {
    const reason = decision.reason ?? 'denied';
    const unreachable = reason in unreachableDescriptions;
    return {
      error: decision.error ?? 'access_denied',
      description: decision.description ?? (unreachable ? unreachableDescriptions[reason as UnreachableReason] : reason),
      cause: unreachable ? 'user_unreachable' : reason,
    };
  }
  // Denials that carry their own reason (a wrong binding-message pick) say so.
  if (decision?.reason !== undefined && decision.description !== undefined) {
    return { error: decision.error ?? 'access_denied', description: decision.description, cause: decision.reason };
  }
  return { error: 'access_denied', description: 'the user denied the request', cause: 'denied_by_user' };
}

/**
 * Reports a decided request to the authorization server: accept with the granted scopes (and, for Open
 * Banking, the chosen accounts), or reject.
 * Network errors, 5xx and 429 are retried (by the job) until the request expires; any other answer
 * ends it as failed. The transition to completed happens once, so no request has two outcomes.
 *
 * An answer "this login was already accepted" to an accept (or "already rejected" to a reject) counts
 * as success: an earlier run of this completion got through, and only its answer was lost — a timeout,
 * a reset connection, or a worker that died (SIGKILL, crash) after sending, whose job BullMQ then
 * runs again (stalled jobs are re-run with the same attempt number, so "first attempt" proves
 * nothing). Nobody else decides these logins: SecureAuth hands each one to this service, the request
 * id derives from the login id, and the completion job's id from the request id, so the only earlier
 * accept there can have been is ours. Counting it as failed would report a delivered approval as lost.
 * The opposite answer (accept → "already rejected") is a real conflict and fails the request.
 */
export async function completeRequest(
  deps: Pick<Dependencies, 'requests' | 'authorizationServer' | 'clock' | 'logger' | 'audit' | 'metrics'>,
  requestId: string,
  context: JobContext,
): Promise<void> {
  const request = await deps.requests.get(requestId);
  if (request === undefined || (request.status !== 'approved' && request.status !== 'denied')) return;
  const log = deps.logger.child({ requestId });
  // Open Banking requests are reported through the consent page of their kind instead.
  const openBankingKind = openBankingKindOf(request);

  try {
    if (openBankingKind !== undefined) {
      await reportOpenBankingOutcome(deps.authorizationServer, request, openBankingKind, rejectionFor(request));
    } else if (request.status === 'approved') {
      await deps.authorizationServer.accept(request, request.decision?.grantedScopes ?? request.requestedScopes.map((s) => s.name));
    } else {
      await deps.authorizationServer.reject(request, rejectionFor(request));
    }
  } catch (error) {
    if (!(error instanceof AuthorizationServerError)) throw error;
    const now = deps.clock.now();
    const wanted = request.status === 'approved' ? 'accepted' : 'rejected';
    if (error.alreadyDecided === wanted) {
      await deps.requests.complete(requestId, { result: wanted, attempts: context.attempt, completedAt: now });
      log.warn({ result: wanted, attempt: context.attempt, reason: error.message }, 'the authorization server already had this outcome (an earlier attempt got through); request completed');
      return;
    }
    retryBeforeExpiry(context, { now, expiresAt: request.expiresAt }, error, () => {
      log.warn({ attempt: context.attempt, reason: error.message }, 'authorization server not reached; will retry');
      deps.metrics.completionAttempts.inc({ result: 'retry' });
    });
    await deps.requests.complete(requestId, { result: 'failed', attempts: context.attempt, completedAt: now, error: error.message });
    log.error({ attempt: context.attempt, reason: error.message }, 'the outcome could not be reported; request failed');
    await deps.audit.record({ type: 'completion.failed', at: now, requestId, actor: 'service', reason: error.message, ...userOf(request) });
    return;
  }

  const result = request.status === 'approved' ? 'accepted' : 'rejected';
  const completedAt = deps.clock.now();
  await deps.requests.complete(requestId, { result, attempts: context.attempt, completedAt });
  await deps.audit.record({ type: 'completion.succeeded', at: completedAt, requestId, actor: 'service', outcome: result, ...userOf(request) });
}

const userOf = (request: AuthenticationRequest): { userId?: string } => (request.userId !== null ? { userId: request.userId } : {});
