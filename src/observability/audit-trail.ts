import type { Logger } from 'pino';
import type { AuditEvent, AuditLog, AuditPage, AuditQuery } from '../ports/audit.js';
import type { Metrics } from './metrics.js';

/**
 * Records lifecycle events: appended to the audit log, written to the service log, and counted in
 * the metrics. An audit store that cannot be reached never fails the flow that emits the event: the
 * log line is the second copy, and the failure itself is logged.
 */
export class AuditTrail {
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly log: AuditLog,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
  ) {}

  async record(event: AuditEvent): Promise<void> {
    this.count(event);
    this.logger.info({ audit: event, ...(event.requestId !== undefined ? { requestId: event.requestId } : {}) }, `audit ${event.type}`);
    try {
      await this.log.append(event);
    } catch (error) {
      this.logger.warn({ err: error, auditType: event.type, requestId: event.requestId }, 'audit event not stored');
    }
  }

  /**
   * For the authorization server's calls, which must not wait for a third store round trip: the event
   * is written after the answer leaves. `flush()` waits for such writes at shutdown.
   */
  recordInBackground(event: AuditEvent): void {
    const write = this.record(event).finally(() => this.inFlight.delete(write));
    this.inFlight.add(write);
  }

  query(query: AuditQuery): Promise<AuditPage> {
    return this.log.query(query);
  }

  async flush(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }

  private count(event: AuditEvent): void {
    const m = this.metrics;
    switch (event.type) {
      case 'request.received':
        m.requestsReceived.inc({ status: event.outcome ?? 'pending' });
        break;
      case 'decision.recorded':
        m.decisions.inc({ action: event.outcome ?? 'unknown', channel: event.channel ?? 'unknown' });
        break;
      case 'prompt.delivered':
        m.promptDeliveries.inc({ channel: event.channel ?? 'unknown', result: 'sent' });
        break;
      case 'prompt.failed':
        m.promptDeliveries.inc({ channel: event.channel ?? 'unknown', result: 'failed' });
        break;
      case 'completion.succeeded':
        m.completionAttempts.inc({ result: 'success' });
        m.requestsFinished.inc({ state: 'completed', result: event.outcome ?? 'unknown' });
        break;
      case 'completion.failed':
        m.completionAttempts.inc({ result: 'failed' });
        m.requestsFinished.inc({ state: 'failed', result: 'none' });
        break;
      case 'request.expired':
        m.requestsFinished.inc({ state: 'expired', result: 'none' });
        break;
      default:
        break;
    }
  }
}
