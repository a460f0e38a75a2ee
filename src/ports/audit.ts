/**
 * The audit trail: every lifecycle event of a request and every change to users and devices, in
 * order, so operators can show what happened and who decided. Events carry ids and codes only —
 * never tokens, login_state, push tokens or personal data beyond the user id.
 */
export type AuditEventType =
  | 'request.received'
  | 'prompt.delivered'
  | 'prompt.failed'
  | 'decision.recorded'
  | 'completion.succeeded'
  | 'completion.failed'
  | 'request.expired'
  | 'user.saved'
  | 'user.accounts_saved'
  | 'activation_code.created'
  | 'device.enrolled'
  | 'device.updated'
  | 'device.revoked';

export interface AuditEvent {
  type: AuditEventType;
  /** When it happened, ms since the epoch. */
  at: number;
  requestId?: string;
  userId?: string;
  /** The OAuth client that asked (request events). */
  clientId?: string;
  deviceId?: string;
  /** How: device, email, system, push, poll, web, admin… */
  channel?: string;
  /** What: approve/deny, accepted/rejected, pending/denied… */
  outcome?: string;
  /** Why, as a code (an FCM error code, an unreachable reason…) or a short description. */
  reason?: string;
  /** Who acted: `admin`, `device`, `authorization-server`, `service`. */
  actor?: string;
}

export interface StoredAuditEvent extends AuditEvent {
  /** Position in the trail; increasing, and the paging cursor. */
  id: string;
}

export interface AuditQuery {
  userId?: string;
  requestId?: string;
  type?: AuditEventType;
  /** Only events at or after this time (ms since the epoch). */
  since?: number;
  /** Only events after this id (the `next` of a previous page). */
  after?: string;
  limit: number;
}

export interface AuditPage {
  events: StoredAuditEvent[];
  /** Pass as `after` for the next page; absent when the end was reached. */
  next?: string;
}

/** Where the trail is kept: a capped Redis stream, or memory on the embedded default. */
export interface AuditLog {
  append(event: AuditEvent): Promise<void>;
  query(query: AuditQuery): Promise<AuditPage>;
}

/** Whether an event passes a query's filters (time and cursor aside). */
export function matchesAuditQuery(event: AuditEvent, query: AuditQuery): boolean {
  return (
    (query.userId === undefined || event.userId === query.userId) &&
    (query.requestId === undefined || event.requestId === query.requestId) &&
    (query.type === undefined || event.type === query.type)
  );
}
