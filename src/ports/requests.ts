import type {
  AuthenticationRequest,
  ConsentView,
  DecisionRecord,
  DeliveryRecord,
  OutcomeRecord,
  RequestDraft,
} from '../domain/authentication-request.js';
import type { LimitReason, UnreachableReason } from '../domain/user.js';

export type CreateRequestResult =
  | { created: true; status: 'pending' }
  /** The user could not be reached; the request was stored already denied by the service. */
  | { created: true; status: 'denied'; reason: UnreachableReason }
  /** A notification limit was reached; the request was stored already denied and nothing is sent. */
  | { created: true; status: 'denied'; reason: LimitReason }
  /** A request for this login id exists already; nothing was changed. */
  | { created: false };

export type TransitionResult =
  | { ok: true; request: AuthenticationRequest }
  | { ok: false; reason: 'not_found' | 'expired' | 'not_pending' | 'not_ready' | 'view_changed' | 'not_decided' };

/**
 * Authentication requests. Every state change is one atomic step; a request can be read with only its
 * id because the id carries the user's partition.
 */
export interface RequestRepository {
  /**
   * Creates the request unless one exists for its id. When `draft.userId` is set the user's reachability
   * is checked in the same atomic step; an unknown identifier (`userId: null`) is stored denied.
   */
  create(draft: RequestDraft, retentionSeconds: number, policy?: CreatePolicy): Promise<CreateRequestResult>;
  get(requestId: string): Promise<AuthenticationRequest | undefined>;
  /** Pending requests of the user whose view is ready and which have not expired, oldest first. */
  listPending(userId: string, partition: string, now: number): Promise<AuthenticationRequest[]>;
  /** Stores the final view of a pending request; it is listed to devices from then on. */
  setView(requestId: string, view: ConsentView, consentHash: string): Promise<TransitionResult>;
  /**
   * pending → approved/denied, only while not expired, only with a ready view whose hash is still
   * `expectedConsentHash` (omit it for decisions the service takes itself). Exactly one concurrent
   * caller wins.
   */
  decide(requestId: string, decision: DecisionRecord, now: number, expectedConsentHash?: string): Promise<TransitionResult>;
  /** approved/denied → completed/failed. */
  complete(requestId: string, outcome: OutcomeRecord): Promise<TransitionResult>;
  /**
   * Remembers when a prepared request expires, so a periodic sweep can close it. One small entry per
   * pending request instead of one delayed job each.
   */
  trackExpiry(requestId: string, expiresAt: number): Promise<void>;
  /**
   * Returns up to `limit` tracked requests whose expiry has passed and puts them off by `leaseMs`,
   * so no other sweep takes them meanwhile and a sweep that died takes them up again later.
   */
  leaseExpired(now: number, leaseMs: number, limit: number): Promise<string[]>;
  /** Stops tracking requests whose expiry has been dealt with. */
  forgetExpiry(requestIds: string[]): Promise<void>;
  /** pending → expired once the expiry has passed. */
  expire(requestId: string, now: number): Promise<TransitionResult>;
  addDelivery(requestId: string, delivery: DeliveryRecord): Promise<void>;
  /**
   * True for exactly one caller per (request, token): lets concurrent jobs agree on who does a
   * one-off step, such as sending one device its closing message. False once the request is gone.
   */
  claim(requestId: string, token: string): Promise<boolean>;
  /** Stores (or replaces) the hash of the request's magic-link secret while it is pending; false otherwise. */
  setMagicLink(requestId: string, secretHash: string): Promise<boolean>;
}

/**
 * What the atomic create step checks besides the user's existence, state and devices. Omitted
 * fields check nothing (the behaviour of the core).
 */
export interface CreatePolicy {
  /** The e-mail channel is configured: a user with an e-mail alias and no device is reachable. */
  emailChannel?: boolean;
  /** Pending requests (not yet expired) the user may have at once; a further one is denied. */
  maxPending?: number;
  /** Requests that may reach the user per UTC day; a further one is denied. */
  maxPerDay?: number;
  /** Descriptions for limit denials, sent as the reject's error_description. */
  limitDescriptions?: Record<LimitReason, string>;
}
