import type { JobName } from '../ports/jobs.js';

export interface RetryPolicy {
  /** Runs in all, the first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

/**
 * How often and how fast each job is retried. Completions and prompts are also bounded by the
 * request's expiry inside their handlers, so the attempt counts here are ceilings, not the rule.
 */
export const jobPolicies: Record<JobName, RetryPolicy> = {
  // Consent details: a few quick tries, then the device gets the scopes from the start call.
  'prepare-request': { attempts: 4, baseDelayMs: 100, maxDelayMs: 1_000 },
  'deliver-prompt': { attempts: 8, baseDelayMs: 250, maxDelayMs: 10_000 },
  'complete-request': { attempts: 200, baseDelayMs: 250, maxDelayMs: 15_000 },
  // Not retried: the scheduler runs it again at the next interval, and what a failed sweep leased
  // comes due again when the lease ends.
  'sweep-expired': { attempts: 1, baseDelayMs: 1_000, maxDelayMs: 1_000 },
  // A mail server that is away is tried again for a while; the request's expiry bounds it anyway.
  'deliver-email': { attempts: 6, baseDelayMs: 500, maxDelayMs: 10_000 },
  // Closing messages are best effort: a few tries over some seconds.
  'close-prompt': { attempts: 4, baseDelayMs: 500, maxDelayMs: 5_000 },
};

/**
 * Exponential backoff with "equal jitter": half the exponential delay, plus a random share of the
 * other half, so retries of many requests do not arrive together. A delay the failure asked for
 * (`Retry-After`) is honoured as a floor.
 */
export function retryDelayMs(policy: RetryPolicy, failedAttempts: number, requestedDelayMs?: number, random = Math.random): number {
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, failedAttempts - 1));
  const jittered = exponential / 2 + random() * (exponential / 2);
  return Math.round(Math.max(jittered, requestedDelayMs ?? 0));
}
