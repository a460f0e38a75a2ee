/**
 * One CIBA authentication request, from `/authentication/start` to the outcome reported to the
 * authorization server. Its status moves once:
 *
 *   pending ──▶ approved ─┬─▶ completed (the authorization server acknowledged)
 *      │     └▶ denied  ──┘─▶ failed    (it could not be told in time, or refused)
 *      └──▶ expired (nobody decided in time)
 */
export type RequestStatus = 'pending' | 'approved' | 'denied' | 'completed' | 'failed' | 'expired';

export interface ScopeView {
  name: string;
  display_name?: string;
  description?: string;
}

export interface ClientView {
  id?: string;
  name?: string;
  logo_uri?: string;
}

/** Exactly what a device shows (snake_case: it is serialised as-is and hashed). */
export interface ConsentView {
  request_id: string;
  client: ClientView;
  binding_message?: string;
  scopes: ScopeView[];
  authorization_details?: Record<string, unknown>[];
  created_at: string;
  expires_at: string;
}

export type DecisionAction = 'approve' | 'deny';
export type DecisionChannel = 'device' | 'system';

export interface DecisionRecord {
  action: DecisionAction;
  channel: DecisionChannel;
  decidedAt: number;
  deviceId?: string;
  grantedScopes?: string[];
  /** The signed decision, kept as evidence of what the user approved. */
  jws?: string;
  /** Why the service decided on its own (`channel: system`), as a code, e.g. `no_active_device`. */
  reason?: string;
  /** The same for a person; sent as the reject's error_description. */
  description?: string;
  /** OAuth-style error sent with a reject. */
  error?: string;
}

export interface OutcomeRecord {
  result: 'accepted' | 'rejected' | 'failed';
  attempts: number;
  completedAt: number;
  error?: string;
}

export interface DeliveryRecord {
  channel: string;
  result: 'sent' | 'failed' | 'skipped';
  at: number;
  deviceId?: string;
  errorCode?: string;
  /** Which message went out: the prompt (the default when absent) or the closing message sent once the request ended. */
  message?: 'prompt' | 'close';
  /** The attempt failed for a passing reason (the push service was unavailable) and will be made again. */
  retryable?: boolean;
}

/** What `/authentication/start` hands over; immutable afterwards. */
export interface RequestDraft {
  requestId: string;
  partition: string;
  loginId: string;
  loginState: string;
  userId: string | null;
  userIdentifier: string;
  clientId?: string;
  clientName?: string;
  bindingMessage?: string;
  requestedScopes: ScopeView[];
  authorizationDetails?: Record<string, unknown>[];
  openbankingIntentId?: string;
  createdAt: number;
  expiresAt: number;
}

export interface AuthenticationRequest extends RequestDraft {
  status: RequestStatus;
  /** Set once what the device displays is final; the request is listed to devices only then. */
  view?: ConsentView;
  consentHash?: string;
  decision?: DecisionRecord;
  outcome?: OutcomeRecord;
  deliveries: DeliveryRecord[];
}

export function isExpired(request: Pick<AuthenticationRequest, 'expiresAt'>, now: number): boolean {
  return now >= request.expiresAt;
}
