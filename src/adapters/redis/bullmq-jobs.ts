import { Queue, Worker, type Job } from 'bullmq';
import type { Logger } from 'pino';
import { RetryLaterError, type JobHandlers, type JobName, type JobPayloads, type JobQueue, type JobRequest, type JobWorker } from '../../ports/jobs.js';
import { jobPolicies, retryDelayMs } from '../../workers/job-policies.js';
import type { RedisConnection } from './redis-client.js';

const QUEUE_NAME = 'ciba';
const BACKOFF_TYPE = 'policy';

const isJobName = (name: string): name is JobName => name in jobPolicies;

/** Adds jobs to BullMQ; a job id still known to BullMQ is not added twice. */
export class BullMqJobQueue implements JobQueue {
  private readonly queue: Queue;

  constructor(connection: RedisConnection, prefix: string, logger: Logger) {
    this.queue = new Queue(QUEUE_NAME, {
      connection,
      prefix,
      defaultJobOptions: {
        // A finished job is dropped at once: every handler checks the request's state first, so the
        // same job added again later does nothing, and keeping finished jobs would cost Redis more
        // memory than the request itself. A job id still waiting or running is not added twice.
        removeOnComplete: true,
        removeOnFail: { age: 7 * 24 * 3600 },
      },
    });
    // Without a listener BullMQ writes connection errors to console.error, past the logger.
    this.queue.on('error', (error) => logger.warn({ err: error }, 'job queue error'));
  }

  async add(jobs: JobRequest[]): Promise<void> {
    await this.queue.addBulk(
      jobs.map((job) => ({
        name: job.name,
        data: job.data,
        opts: {
          jobId: job.options.jobId,
          attempts: jobPolicies[job.name].attempts,
          backoff: { type: BACKOFF_TYPE },
          ...(job.options.delayMs !== undefined && job.options.delayMs > 0 ? { delay: job.options.delayMs } : {}),
        },
      })),
    );
  }

  async repeat(name: 'sweep-expired', everyMs: number): Promise<void> {
    await this.queue.upsertJobScheduler(name, { every: everyMs }, { name, data: {}, opts: { attempts: jobPolicies[name].attempts } });
  }

  /** Jobs waiting, delayed or running, for metrics and readiness. */
  async depth(): Promise<Record<string, number>> {
    return this.queue.getJobCounts('waiting', 'delayed', 'active', 'failed');
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}

/** Runs BullMQ jobs with the handlers of the use cases; retries follow {@link jobPolicies}. */
export class BullMqJobWorker implements JobWorker {
  private worker: Worker | undefined;
  /** Handlers running now; shutdown waits for them itself (see close()). */
  private readonly running = new Set<Promise<void>>();

  constructor(
    private readonly connection: RedisConnection,
    private readonly prefix: string,
    private readonly logger: Logger,
    private readonly concurrency = 16,
    /** A running job's lock (renewed at half of it); a dead worker's jobs are taken over after one to two of these. */
    private readonly lockDurationMs = 30_000,
  ) {}

  async start(handlers: JobHandlers): Promise<void> {
    this.worker = new Worker(
      QUEUE_NAME,
      async (job: Job) => {
        if (!isJobName(job.name)) throw new Error(`unknown job ${job.name}`);
        const attempt = job.attemptsMade + 1;
        const context = { attempt, isLastAttempt: attempt >= jobPolicies[job.name].attempts };
        const run = this.dispatch(handlers, job.name, job.data, context);
        const tracked = run.then(
          () => undefined,
          () => undefined,
        );
        this.running.add(tracked);
        try {
          await run;
        } finally {
          this.running.delete(tracked);
        }
      },
      {
        connection: this.connection,
        prefix: this.prefix,
        concurrency: this.concurrency,
        lockDuration: this.lockDurationMs,
        // Stalled jobs (their worker died) are looked for as often as a lock lasts.
        stalledInterval: this.lockDurationMs,
        settings: {
          backoffStrategy: (attemptsMade, _type, error, job) => {
            const name = job?.name ?? '';
            const policy = isJobName(name) ? jobPolicies[name] : jobPolicies['deliver-prompt'];
            return retryDelayMs(policy, attemptsMade, error instanceof RetryLaterError ? error.delayMs : undefined);
          },
        },
      },
    );
    this.worker.on('failed', (job, error) => {
      const final = job !== undefined && job.attemptsMade >= (job.opts.attempts ?? 1);
      const fields = { job: job?.name, jobId: job?.id, attempt: job?.attemptsMade, reason: error.message };
      if (final) this.logger.error({ ...fields, err: error }, 'job failed for good');
      else this.logger.debug(fields, 'job will be retried');
    });
    this.worker.on('error', (error) => this.logger.warn({ err: error }, 'job worker error'));
    await this.worker.waitUntilReady();
  }

  isRunning(): boolean {
    return this.worker?.isRunning() ?? false;
  }

  /**
   * Stops taking jobs, lets the running ones finish, then closes. BullMQ's own graceful close waits
   * for its blocking connection to end, which can hang for good after Redis restarted under it; so
   * fetching is paused, the handlers are awaited here, and the worker is then closed with force.
   * A job fetched in the instant between the two is left to BullMQ's stalled-job recovery (another
   * worker runs it again after the lock expires); every handler is idempotent.
   */
  async close(): Promise<void> {
    const worker = this.worker;
    if (worker === undefined) return;
    await worker.pause(true);
    await Promise.allSettled([...this.running]);
    await worker.close(true);
  }

  private dispatch<N extends JobName>(
    handlers: JobHandlers,
    name: N,
    data: unknown,
    context: { attempt: number; isLastAttempt: boolean },
  ): Promise<void> {
    return handlers[name](data as JobPayloads[N], context);
  }
}
