import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The service's Prometheus metrics, on a registry of its own (several services can live in one test
 * process without clashing). Lifecycle counters are fed by the audit trail; HTTP timings by a
 * middleware; queue depth is read from the queue when scraped.
 */
export class Metrics {
  readonly registry = new Registry();

  readonly httpDuration = new Histogram({
    name: 'ciba_http_request_duration_seconds',
    help: 'HTTP request latency by route (OpenAPI path template), method and status.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  readonly requestsReceived = new Counter({
    name: 'ciba_requests_received_total',
    help: 'Authentication requests created by /authentication/start, by initial status (pending, or denied at once).',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });

  readonly requestsFinished = new Counter({
    name: 'ciba_requests_finished_total',
    help: 'Requests that reached a final state: completed (by result accepted/rejected), failed or expired.',
    labelNames: ['state', 'result'] as const,
    registers: [this.registry],
  });

  readonly decisions = new Counter({
    name: 'ciba_decisions_total',
    help: 'Decisions recorded, by action and channel (device, email, system).',
    labelNames: ['action', 'channel'] as const,
    registers: [this.registry],
  });

  readonly promptDeliveries = new Counter({
    name: 'ciba_prompt_deliveries_total',
    help: 'Prompt delivery attempts by channel (push, email…) and result (sent, failed).',
    labelNames: ['channel', 'result'] as const,
    registers: [this.registry],
  });

  readonly completionAttempts = new Counter({
    name: 'ciba_completion_attempts_total',
    help: 'Attempts to report an outcome to the authorization server: success, retry (will try again) or failed (gave up).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly tokenRefreshes = new Counter({
    name: 'ciba_system_token_refreshes_total',
    help: 'System API access tokens obtained with the client-credentials grant.',
    registers: [this.registry],
  });

  constructor(queueDepth?: () => Promise<Record<string, number>>) {
    collectDefaultMetrics({ register: this.registry, prefix: 'ciba_process_' });
    if (queueDepth !== undefined) {
      new Gauge({
        name: 'ciba_queue_jobs',
        help: 'Jobs in the queue by state (waiting, delayed, active, failed).',
        labelNames: ['state'] as const,
        registers: [this.registry],
        async collect() {
          for (const [state, count] of Object.entries(await queueDepth())) this.set({ state }, count);
        },
      });
    }
  }
}
