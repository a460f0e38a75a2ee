import type {
  AuthenticationRequest,
  ConsentView,
  DecisionRecord,
  DeliveryRecord,
  OutcomeRecord,
  RequestDraft,
} from '../../domain/authentication-request.js';
import { DAY_COUNTER_TTL_MS, unreachableReason, utcDay, type LimitReason, type UnreachableReason } from '../../domain/user.js';
import type { CreatePolicy, CreateRequestResult, RequestRepository, TransitionResult } from '../../ports/requests.js';
import { ExpiringMap } from './expiring-map.js';
import type { MemoryUsers } from './memory-users.js';

/**
 * In-process requests. Node runs each method to completion between awaits, which gives the same
 * atomicity the Redis scripts give; records vanish after expiry plus retention like Redis keys.
 */
export class MemoryRequests implements RequestRepository {
  private readonly requests = new ExpiringMap<AuthenticationRequest>();
  /** `userId + UTC day` → requests that reached the user that day (NOTIFY_MAX_PER_DAY). */
  private readonly dailyCounts = new ExpiringMap<number>();

  constructor(private readonly users: MemoryUsers) {}

  async create(draft: RequestDraft, retentionSeconds: number, policy: CreatePolicy = {}): Promise<CreateRequestResult> {
    if (this.requests.get(draft.requestId) !== undefined) return { created: false };
    this.retentionMs = retentionSeconds * 1000;
    const unreachable: UnreachableReason | undefined =
      draft.userId === null
        ? 'unknown_user'
        : unreachableReason(await this.users.reachability({ userId: draft.userId, partition: draft.partition }), {
            email: policy.emailChannel === true,
          });
    // A concurrent create may have happened during the await above; from here on nothing awaits.
    if (this.requests.get(draft.requestId) !== undefined) return { created: false };
    const dayKey = `${draft.userId ?? ''}\u0000${utcDay(draft.createdAt)}`;
    const limited = unreachable === undefined ? this.limitReached(draft, policy, dayKey) : undefined;
    const reason = unreachable ?? limited;
    const description = limited === undefined ? undefined : policy.limitDescriptions?.[limited];
    if (reason === undefined) this.dailyCounts.set(dayKey, (this.dailyCounts.get(dayKey) ?? 0) + 1, DAY_COUNTER_TTL_MS);
    const request: AuthenticationRequest = {
      ...structuredClone(draft),
      status: reason === undefined ? 'pending' : 'denied',
      deliveries: [],
      ...(reason === undefined
        ? {}
        : {
            decision: {
              action: 'deny',
              channel: 'system',
              decidedAt: draft.createdAt,
              reason,
              error: 'access_denied',
              ...(description !== undefined ? { description } : {}),
            },
          }),
    };
    this.requests.set(draft.requestId, request, draft.expiresAt - Date.now() + retentionSeconds * 1000);
    return reason === undefined ? { created: true, status: 'pending' } : { created: true, status: 'denied', reason };
  }

  private limitReached(draft: RequestDraft, policy: CreatePolicy, dayKey: string): LimitReason | undefined {
    if (policy.maxPending !== undefined) {
      const pending = this.requests
        .values()
        .filter((r) => r.userId === draft.userId && r.status === 'pending' && r.expiresAt > draft.createdAt).length;
      if (pending >= policy.maxPending) return 'too_many_pending';
    }
    if (policy.maxPerDay !== undefined && (this.dailyCounts.get(dayKey) ?? 0) >= policy.maxPerDay) return 'daily_limit_reached';
    return undefined;
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

  /** Claimed tokens by request; they vanish with the request, as the claim lines of a Redis record do. */
  private readonly claims = new ExpiringMap<Set<string>>();
  /** How long a record outlives its expiry (REQUEST_RETENTION_SECONDS), for the claims beside it. */
  private retentionMs = 0;
  private readonly expiries = new Map<string, number>();

  async trackExpiry(requestId: string, expiresAt: number): Promise<void> {
    this.expiries.set(requestId, expiresAt);
  }

  async leaseExpired(now: number, leaseMs: number, limit: number): Promise<string[]> {
    const due = [...this.expiries.entries()]
      .filter(([, expiresAt]) => expiresAt <= now)
      .sort((a, b) => a[1] - b[1])
      .slice(0, limit)
      .map(([requestId]) => requestId);
    for (const requestId of due) this.expiries.set(requestId, now + leaseMs);
    return due;
  }

  async forgetExpiry(requestIds: string[]): Promise<void> {
    for (const requestId of requestIds) this.expiries.delete(requestId);
  }

  async claim(requestId: string, token: string): Promise<boolean> {
    const request = this.requests.get(requestId);
    if (request === undefined) return false;
    const claimed = this.claims.get(requestId) ?? new Set<string>();
    this.claims.set(requestId, claimed, request.expiresAt - Date.now() + this.retentionMs);
    if (claimed.has(token)) return false;
    claimed.add(token);
    return true;
  }

  async addDelivery(requestId: string, delivery: DeliveryRecord): Promise<void> {
    this.requests.get(requestId)?.deliveries.push(structuredClone(delivery));
  }

  async setMagicLink(requestId: string, secretHash: string): Promise<boolean> {
    const request = this.requests.get(requestId);
    if (request === undefined || request.status !== 'pending') return false;
    request.magicLinkHash = secretHash;
    return true;
  }
}
