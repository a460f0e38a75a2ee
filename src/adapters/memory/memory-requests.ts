import type {
  AuthenticationRequest,
  ConsentView,
  DecisionRecord,
  DeliveryRecord,
  OutcomeRecord,
  RequestDraft,
} from '../../domain/authentication-request.js';
import { unreachableReason } from '../../domain/user.js';
import type { CreateRequestResult, RequestRepository, TransitionResult } from '../../ports/requests.js';
import { ExpiringMap } from './expiring-map.js';
import type { MemoryUsers } from './memory-users.js';

/**
 * In-process requests. Node runs each method to completion between awaits, which gives the same
 * atomicity the Redis scripts give; records vanish after expiry plus retention like Redis keys.
 */
export class MemoryRequests implements RequestRepository {
  private readonly requests = new ExpiringMap<AuthenticationRequest>();

  constructor(private readonly users: MemoryUsers) {}

  async create(draft: RequestDraft, retentionSeconds: number): Promise<CreateRequestResult> {
    if (this.requests.get(draft.requestId) !== undefined) return { created: false };
    const reason =
      draft.userId === null
        ? 'unknown_user'
        : unreachableReason(await this.users.reachability({ userId: draft.userId, partition: draft.partition }));
    // A concurrent create may have happened during the await above.
    if (this.requests.get(draft.requestId) !== undefined) return { created: false };
    const request: AuthenticationRequest = {
      ...structuredClone(draft),
      status: reason === undefined ? 'pending' : 'denied',
      deliveries: [],
      ...(reason === undefined
        ? {}
        : { decision: { action: 'deny', channel: 'system', decidedAt: draft.createdAt, reason, error: 'access_denied' } }),
    };
    this.requests.set(draft.requestId, request, draft.expiresAt - Date.now() + retentionSeconds * 1000);
    return reason === undefined ? { created: true, status: 'pending' } : { created: true, status: 'denied', reason };
  }

  async get(requestId: string): Promise<AuthenticationRequest | undefined> {
    const request = this.requests.get(requestId);
    return request === undefined ? undefined : structuredClone(request);
  }

  async listPending(userId: string, _partition: string, now: number): Promise<AuthenticationRequest[]> {
    return this.requests
      .values()
      .filter((r) => r.userId === userId && r.status === 'pending' && r.view !== undefined && r.expiresAt > now)
      .sort((a, b) => a.createdAt - b.createdAt || a.requestId.localeCompare(b.requestId))
      .map((r) => structuredClone(r));
  }

  async setView(requestId: string, view: ConsentView, consentHash: string): Promise<TransitionResult> {
    const request = this.requests.get(requestId);
    if (request === undefined) return { ok: false, reason: 'not_found' };
    if (request.status !== 'pending') return { ok: false, reason: 'not_pending' };
    request.view = structuredClone(view);
    request.consentHash = consentHash;
    return { ok: true, request: structuredClone(request) };
  }

  async decide(requestId: string, decision: DecisionRecord, now: number, expectedConsentHash?: string): Promise<TransitionResult> {
    const request = this.requests.get(requestId);
    if (request === undefined) return { ok: false, reason: 'not_found' };
    if (request.status !== 'pending') return { ok: false, reason: 'not_pending' };
    if (now >= request.expiresAt) return { ok: false, reason: 'expired' };
    if (expectedConsentHash !== undefined) {
      if (request.consentHash === undefined) return { ok: false, reason: 'not_ready' };
      if (request.consentHash !== expectedConsentHash) return { ok: false, reason: 'view_changed' };
    }
    request.status = decision.action === 'approve' ? 'approved' : 'denied';
    request.decision = structuredClone(decision);
    return { ok: true, request: structuredClone(request) };
  }

  async complete(requestId: string, outcome: OutcomeRecord): Promise<TransitionResult> {
    const request = this.requests.get(requestId);
    if (request === undefined) return { ok: false, reason: 'not_found' };
    if (request.status !== 'approved' && request.status !== 'denied') return { ok: false, reason: 'not_decided' };
    request.status = outcome.result === 'failed' ? 'failed' : 'completed';
    request.outcome = structuredClone(outcome);
    return { ok: true, request: structuredClone(request) };
  }

  async expire(requestId: string, now: number): Promise<TransitionResult> {
    const request = this.requests.get(requestId);
    if (request === undefined) return { ok: false, reason: 'not_found' };
    if (request.status !== 'pending') return { ok: false, reason: 'not_pending' };
    if (now < request.expiresAt) return { ok: false, reason: 'not_ready' };
    request.status = 'expired';
    return { ok: true, request: structuredClone(request) };
  }

  async addDelivery(requestId: string, delivery: DeliveryRecord): Promise<void> {
    this.requests.get(requestId)?.deliveries.push(structuredClone(delivery));
  }
}
