import type { DecisionChannel, DecisionRecord } from '../domain/authentication-request.js';
import { jobFor } from '../ports/jobs.js';
import type { TransitionResult } from '../ports/requests.js';
import { closePromptJobs } from './close-prompt.js';
import type { Dependencies } from './dependencies.js';

/** Who acted, as the audit trail names it, for each way a decision arrives. */
const actorOf: Record<DecisionChannel, string> = { device: 'device', email: 'user', system: 'service' };

/**
 * Records a decision once (of concurrent decisions exactly one wins), then queues the report to the
 * authorization server and the closing of the other devices' prompts — so the answer does not wait for
 * either — and audits it. Callers map a failed transition to their own errors.
 */
export async function commitDecision(
  deps: Pick<Dependencies, 'requests' | 'jobs' | 'audit' | 'notifiers'>,
  requestId: string,
  decision: DecisionRecord,
  now: number,
  expectedConsentHash?: string,
): Promise<TransitionResult> {
  const result = await deps.requests.decide(requestId, decision, now, expectedConsentHash);
  if (!result.ok) return result;
  await deps.jobs.add([jobFor('complete-request', { requestId }), ...closePromptJobs(deps, requestId)]);
  const { userId } = result.request;
  await deps.audit.record({
    type: 'decision.recorded',
    at: now,
    requestId,
    actor: actorOf[decision.channel],
    channel: decision.channel,
    outcome: decision.action,
    ...(userId !== null ? { userId } : {}),
    ...(decision.deviceId !== undefined ? { deviceId: decision.deviceId } : {}),
    ...(decision.reason !== undefined ? { reason: decision.reason } : {}),
  });
  return result;
}
