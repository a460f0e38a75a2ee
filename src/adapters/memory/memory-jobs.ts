import type { Logger } from 'pino';
import {
  RetryLaterError,
  type JobHandlers,
  type JobName,
  type JobPayloads,
  type JobQueue,
  type JobRequest,
  type JobWorker,
} from '../../ports/jobs.js';
import { jobPolicies, retryDelayMs } from '../../workers/job-policies.js';


/**
 * The embedded default's job queue: timers in this process, with the same job ids, delays and
 * retry policies as the BullMQ queue. Written here rather than taken from a library because it is a
 * stand-in for BullMQ with no Redis, not a queue anyone should deploy; jobs die with the process.
 */
export class MemoryJobQueue implements JobQueue, JobWorker {
  private handlers: JobHandlers | undefined;
  /** Ids of jobs waiting or running: the same id is not added twice meanwhile (as in BullMQ). */
  private readonly known = new Set<string>();
  /** Repeating jobs by name: asking again for one that runs already changes nothing. */
  private readonly intervals = new Map<string, NodeJS.Timeout>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly running = new Set<Promise<void>>();
  /** Jobs added before the worker started; they run when it starts. */
  private readonly waiting: Array<() => void> = [];
  private closed = false;

  constructor(private readonly logger: Logger) {}

  async add(jobs: JobRequest[]): Promise<void> {
    for (const job of jobs) {
      if (this.known.has(job.options.jobId)) continue;
      this.known.add(job.options.jobId);
      this.schedule(job, 1, job.options.delayMs ?? 0);
    }
  }

  async start(handlers: JobHandlers): Promise<void> {
    this.handlers = handlers;
    for (const run of this.waiting.splice(0)) run();
  }

  async depth(): Promise<Record<string, number>> {
    return { delayed: this.timers.size, waiting: this.waiting.length, active: this.running.size, failed: 0 };
  }

  isRunning(): boolean {
    return this.handlers !== undefined && !this.closed;
  }

  async repeat(name: 'sweep-expired', everyMs: number): Promise<void> {
    if (this.intervals.has(name)) return;
    const interval = setInterval(() => void this.add([{ name, data: {}, options: { jobId: `repeat.${name}` } }]), everyMs);
    interval.unref();
    this.intervals.set(name, interval);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const interval of this.intervals.values()) clearInterval(interval);
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await Promise.allSettled([...this.running]);
  }

  private schedule(job: JobRequest, attempt: number, delayMs: number): void {
    if (this.closed) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.handlers === undefined) this.waiting.push(() => this.schedule(job, attempt, 0));
      else this.track(this.run(job, attempt));
    }, delayMs);
    this.timers.add(timer);
  }

  private track(run: Promise<void>): void {
    this.running.add(run);
    void run.finally(() => this.running.delete(run));
  }

  private async run(job: JobRequest, attempt: number): Promise<void> {
    const policy = jobPolicies[job.name];
    try {
      await this.invoke(job.name, job.data, attempt, policy.attempts);
      this.known.delete(job.options.jobId);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (attempt >= policy.attempts) {
        this.logger.error({ job: job.name, jobId: job.options.jobId, attempt, err: error }, 'job failed for good');
        this.known.delete(job.options.jobId);
        return;
      }
      const delay = retryDelayMs(policy, attempt, error instanceof RetryLaterError ? error.delayMs : undefined);
      this.logger.debug({ job: job.name, jobId: job.options.jobId, attempt, delay, reason: message }, 'job will be retried');
      this.schedule(job, attempt + 1, delay);
    }
  }

  private invoke<N extends JobName>(name: N, data: JobPayloads[N], attempt: number, attempts: number): Promise<void> {
    const handler = this.handlers?.[name];
    if (handler === undefined) throw new Error(`no handler for job ${name}`);
    return handler(data, { attempt, isLastAttempt: attempt >= attempts });
  }
}
