import { matchesAuditQuery, type AuditEvent, type AuditLog, type AuditPage, type AuditQuery, type StoredAuditEvent } from '../../ports/audit.js';

/** The audit trail in memory, capped like the Redis stream; ids have the stream's `ms-seq` shape. */
export class MemoryAuditLog implements AuditLog {
  private readonly events: StoredAuditEvent[] = [];
  private lastMs = 0;
  private sequence = 0;

  constructor(private readonly maxEvents: number) {}

  async append(event: AuditEvent): Promise<void> {
    const ms = Math.max(Date.now(), this.lastMs);
    this.sequence = ms === this.lastMs ? this.sequence + 1 : 0;
    this.lastMs = ms;
    this.events.push({ ...event, id: `${ms}-${this.sequence}` });
    if (this.events.length > this.maxEvents) this.events.splice(0, this.events.length - this.maxEvents);
  }

  async query(query: AuditQuery): Promise<AuditPage> {
    const after = query.after === undefined ? undefined : parseId(query.after);
    const matching = this.events.filter((event) => {
      const id = parseId(event.id);
      if (after !== undefined && compareIds(id, after) <= 0) return false;
      if (query.since !== undefined && id[0] < query.since) return false;
      return matchesAuditQuery(event, query);
    });
    const events = matching.slice(0, query.limit);
    const last = events.at(-1);
    return matching.length > query.limit && last !== undefined ? { events, next: last.id } : { events };
  }
}

const parseId = (id: string): [number, number] => {
  const [ms, seq] = id.split('-');
  return [Number(ms), Number(seq ?? 0)];
};
const compareIds = (a: [number, number], b: [number, number]): number => a[0] - b[0] || a[1] - b[1];
