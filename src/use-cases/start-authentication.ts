import type { RequestDraft } from '../domain/authentication-request.js';
import { normalizeIdentifier, partitionForUnknownIdentifier, requestIdFor } from '../domain/identifiers.js';
import { recognizeOpenBanking } from '../domain/openbanking.js';
import { normalizeRequestedScopes, type StartScopeFields } from '../domain/scopes.js';
import { jobFor } from '../ports/jobs.js';
import type { Dependencies } from './dependencies.js';
import { createPolicyFor } from './notification-policy.js';

export interface StartAuthenticationInput extends StartScopeFields {
  login_id: string;
  user_identifier: string;
  state: string;
  client_id?: string;
  client_name?: string;
  binding_message?: string;
  authorization_details?: Array<Record<string, unknown>>;
  openbanking_intent_id?: string;
}

/**
 * `/authentication/start`: records the request and queues its preparation, nothing more — it sits
 * inside the client's backchannel request. Two store round trips: resolve the identifier, then create
 * the request (checking in the same atomic step that the user can be reached) while the first job is
 * added. A user who cannot be reached still gets a request, already denied, which the job reports.
 */
export async function startAuthentication(
  deps: Pick<Dependencies, 'users' | 'requests' | 'jobs' | 'clock' | 'config' | 'logger' | 'audit'>,
  input: StartAuthenticationInput,
): Promise<{ requestId: string; created: boolean }> {
  const identifier = normalizeIdentifier(input.user_identifier);
  const user = await deps.users.resolve(identifier);
  const partition = user?.partition ?? partitionForUnknownIdentifier(identifier);
  const requestId = requestIdFor(partition, input.login_id);
  const now = deps.clock.now();

  // An Open Banking start (a consent id, as intent id or OBBR `consent:` scope) also gets its kind.
  const draft: RequestDraft = recognizeOpenBanking(deps.config.openBanking, {
    requestId,
    partition,
    loginId: input.login_id,
    loginState: input.state,
    userId: user?.userId ?? null,
    userIdentifier: input.user_identifier,
    requestedScopes: normalizeRequestedScopes(input),
    createdAt: now,
    expiresAt: now + deps.config.requests.ttlSeconds * 1000,
    ...(input.client_id ? { clientId: input.client_id } : {}),
    ...(input.client_name ? { clientName: input.client_name } : {}),
    ...(input.binding_message ? { bindingMessage: input.binding_message } : {}),
    ...(input.authorization_details && input.authorization_details.length > 0
      ? { authorizationDetails: input.authorization_details }
      : {}),
    ...(input.openbanking_intent_id ? { openbankingIntentId: input.openbanking_intent_id } : {}),
  });

  // The job may overtake the record; its handler waits for the record to appear (see prepareRequest).
  const [result] = await Promise.all([
    deps.requests.create(draft, deps.config.requests.retentionSeconds, createPolicyFor(deps.config)),
    deps.jobs.add([jobFor('prepare-request', { requestId })]),
  ]);

  if (!result.created) {
    deps.logger.info({ requestId }, 'repeated start for a known login; nothing new created');
  } else {
    // Written after the answer leaves: this call must not wait for a third store round trip.
    deps.audit.recordInBackground({
      type: 'request.received',
      at: now,
      requestId,
      actor: 'authorization-server',
      outcome: result.status,
      ...(draft.userId !== null ? { userId: draft.userId } : {}),
      ...(draft.clientId !== undefined ? { clientId: draft.clientId } : {}),
      ...(result.status === 'denied' ? { reason: result.reason } : {}),
    });
  }
  return { requestId, created: result.created };
}
