import type { Services } from '../composition/services.js';
import { jobHandlers } from './job-handlers.js';

/** Runs the job workers of this process and the periodic expiry sweep (one run at a time across all workers). */
export async function startWorkers(services: Services): Promise<void> {
  await services.worker.start(jobHandlers(services));
  await services.jobs.repeat('sweep-expired', services.config.requests.expirySweepIntervalMs);
}
