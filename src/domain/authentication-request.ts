import type { BrasilAccountIdentification, OpenBankingKind, OpenBankingView } from './openbanking.js';

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
  /** With binding confirmation on: the binding message among two decoys, shuffled; the user picks one. */
  binding_choices?: string[];
  scopes: ScopeView[];
  authorization_details?: Record<string, unknown>[];
  created_at: string;
  expires_at: string;
  /** Open Banking requests: the consent in plain terms and the accounts to choose from. */
  openbanking?: OpenBankingView;
}

export type DecisionAction = 'approve' | 'deny';
export type DecisionChannel = 'device' | 'system' | 'email';

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
  /** The binding message the user picked (binding confirmation). */
  bindingChoice?: string;
  /** Open Banking: the accounts the user chose (sent as `account_ids`). */
  accountIds?: string[];
  /** Open Banking Brasil payments: the payer's account, sent as `debtor_account`. */
  debtorAccount?: BrasilAccountIdentification;
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
  /** Open Banking requests: the kind first guessed from the scopes; the view holds the confirmed one. */
  openbankingKind?: OpenBankingKind;
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
  /** SHA-256 of the secret of the e-mailed magic link, once one was sent; it lives and dies with the request. */
  magicLinkHash?: string;
}

export function isExpired(request: Pick<AuthenticationRequest, 'expiresAt'>, now: number): boolean {
  return now >= request.expiresAt;
}
