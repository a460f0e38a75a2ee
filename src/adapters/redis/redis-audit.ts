import { matchesAuditQuery, type AuditEvent, type AuditLog, type AuditPage, type AuditQuery, type StoredAuditEvent } from '../../ports/audit.js';
import type { RedisConnection } from './redis-client.js';
import type { RedisKeys } from './redis-keys.js';

/** Stream entries read per round trip while filtering a query. */
const SCAN_BATCH = 500;
/** Entries a single query reads at most before it answers with what it found and a cursor. */
const SCAN_LIMIT = 20_000;

/**
 * The audit trail as one Redis stream, capped at about AUDIT_MAX_EVENTS entries (`MAXLEN ~`, which
 * trims whole macro nodes and so costs nothing per append). Entry ids are the paging cursor and
 * carry the time, so `since` maps onto a range start.
 */
export class RedisAuditLog implements AuditLog {
  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: RedisKeys,
    private readonly maxEvents: number,
  ) {}

  async append(event: AuditEvent): Promise<void> {
    await this.redis.xadd(this.keys.audit, 'MAXLEN', '~', this.maxEvents, '*', 'e', JSON.stringify(event));
  }

  async query(query: AuditQuery): Promise<AuditPage> {
    let start = query.after !== undefined ? `(${query.after}` : query.since !== undefined ? `${query.since}-0` : '-';
    const found: StoredAuditEvent[] = [];
    let scanned = 0;
    for (;;) {
      const batch = await this.redis.xrange(this.keys.audit, start, '+', 'COUNT', SCAN_BATCH);
      for (const [id, fields] of batch) {
        scanned += 1;
        const event = parseEntry(id, fields);
        if (event === undefined || (query.since !== undefined && event.at < query.since) || !matchesAuditQuery(event, query)) continue;
        found.push(event);
        if (found.length === query.limit) return { events: found, next: id };
      }
      const last = batch.at(-1);
      if (batch.length < SCAN_BATCH || last === undefined) return { events: found };
      // A filter that matches little would otherwise read the whole trail in one call.
      if (scanned >= SCAN_LIMIT) return { events: found, next: last[0] };
      start = `(${last[0]}`;
    }
  }
}

function parseEntry(id: string, fields: string[]): StoredAuditEvent | undefined {
  const json = fields[fields.indexOf('e') + 1];
  if (json === undefined) return undefined;
  try {
    return { ...(JSON.parse(json) as AuditEvent), id };
  } catch {
    return undefined;
  }
}
