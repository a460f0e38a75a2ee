/**
 * Background work. Everything slow after `/authentication/start` — fetching consent details,
 * notifying devices, reporting the outcome — runs as a job so the authorization server's calls
 * answer at once. Each job name has a retry policy (see workers/job-policies.ts).
 */
export interface JobPayloads {
  /** Fetch consent details, fix the device view, then prompt the user. */
  'prepare-request': { requestId: string };
  /** Tell the user's devices there is something to decide. */
  'deliver-prompt': { requestId: string };
  /** Report approve/deny to the authorization server. */
  'complete-request': { requestId: string };
  /** Close the requests nobody decided in time (runs every EXPIRY_SWEEP_INTERVAL_MS on one worker). */
  'sweep-expired': Record<string, never>;
  /** E-mail the user a magic link (no reachable device, or none decided in time). */
  'deliver-email': { requestId: string };
  /** Tell the devices that were prompted that the request is over, so the prompt disappears. */
  'close-prompt': { requestId: string };
}

export type JobName = keyof JobPayloads;

export interface JobOptions {
  /** A job with the id of a job still known to the queue is not added again. */
  jobId: string;
  /** Run no earlier than this many milliseconds from now. */
  delayMs?: number;
}

export interface JobRequest<N extends JobName = JobName> {
  name: N;
  data: JobPayloads[N];
  options: JobOptions;
}

export interface JobContext {
  /** 1 for the first run, 2 for the first retry… */
  attempt: number;
  /** No retry follows if this run fails: a handler settles the request's fate instead of throwing. */
  isLastAttempt: boolean;
}

export type JobHandler<N extends JobName> = (data: JobPayloads[N], context: JobContext) => Promise<void>;
export type JobHandlers = { [N in JobName]: JobHandler<N> };

export interface JobQueue {
  /** Adds jobs in one round trip. */
  add(jobs: JobRequest[]): Promise<void>;
  /** Jobs by state (waiting, delayed, active, failed), for metrics. */
  depth(): Promise<Record<string, number>>;
  /** Runs a job every `everyMs` on one worker of all those sharing the queue (idempotent to call again). */
  repeat(name: 'sweep-expired', everyMs: number): Promise<void>;
  close(): Promise<void>;
}

export interface JobWorker {
  start(handlers: JobHandlers): Promise<void>;
  /** Stops taking jobs and waits for the running ones. */
  close(): Promise<void>;
  isRunning(): boolean;
}

/** Thrown by a handler to be run again later: after `delayMs` at least, within the job's policy. */
export class RetryLaterError extends Error {
  constructor(
    message: string,
    readonly delayMs?: number,
  ) {
    super(message);
    this.name = 'RetryLaterError';
  }
}

/** A failure a job may meet: `retryable` when it may pass, `retryAfterMs` when the other side said when. */
export interface JobFailure {
  message: string;
  retryable: boolean;
  retryAfterMs?: number;
}

/**
 * Throws a RetryLaterError (after `onRetry`, e.g. a log line) when a failure is worth another run:
 * it may pass, this run is not the job's last, and the retry (`retryAfterMs` from `now`) would come
 * before the request expires. Otherwise returns, and the caller settles the request's fate.
 */
export function retryBeforeExpiry(
  context: JobContext,
  window: { now: number; expiresAt: number },
  failure: JobFailure,
  onRetry?: () => void,
): void {
  if (!failure.retryable || context.isLastAttempt || window.now + (failure.retryAfterMs ?? 0) >= window.expiresAt) return;
  onRetry?.();
  throw new RetryLaterError(failure.message, failure.retryAfterMs);
}

// BullMQ forbids ":" in custom job ids.
export const jobId = (name: JobName, requestId: string): string => `${name}.${requestId}`;

export const jobFor = <N extends JobName>(name: N, data: JobPayloads[N] & { requestId: string }, delayMs?: number): JobRequest<N> => ({
  name,
  data,
  options: { jobId: jobId(name, data.requestId), ...(delayMs !== undefined ? { delayMs } : {}) },
});
