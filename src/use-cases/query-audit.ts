import { AppError } from '../domain/errors.js';
import type { AuditPage, AuditQuery } from '../ports/audit.js';
import type { Dependencies } from './dependencies.js';

/** `GET /admin/v1/audit`: the trail filtered by user, request, type and time, a page at a time. */
export async function queryAudit(deps: Pick<Dependencies, 'audit'>, query: AuditQuery): Promise<AuditPage> {
  if (query.since !== undefined && Number.isNaN(query.since)) throw AppError.invalidRequest('since: must be a date-time');
  if (!Number.isInteger(query.limit) || query.limit < 1 || query.limit > 500) throw AppError.invalidRequest('limit: must be 1 to 500');
  if (query.after !== undefined && !/^\d{1,16}-\d{1,16}$/.test(query.after)) throw AppError.invalidRequest('cursor: is not a cursor this API gave');
  return deps.audit.query(query);
}
