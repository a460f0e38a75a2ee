import { bankAccountToWire, type BankAccount } from '../domain/account.js';
import type { AuthenticationRequest } from '../domain/authentication-request.js';
import type { Device } from '../domain/device.js';
import type { User } from '../domain/user.js';
import { EMAIL_EVIDENCE_NOTE, effectiveStatus, type DecisionEvidence } from '../use-cases/view-requests.js';
import type { AuditPage } from '../ports/audit.js';
import type { ApiSchemas } from './api-types.js';

const iso = (ms: number): string => new Date(ms).toISOString();

/** Domain records → the shapes the OpenAPI document promises. No secret leaves through here. */
export function presentDevice(device: Device): ApiSchemas['Device'] {
  return {
    device_id: device.deviceId,
    user_id: device.userId,
    platform: device.platform,
    status: device.status,
    alg: device.alg,
    push: device.pushTokenStatus,
    created_at: iso(device.createdAt),
    ...(device.name !== undefined ? { name: device.name } : {}),
    ...(device.lastSeenAt !== undefined ? { last_seen_at: iso(device.lastSeenAt) } : {}),
    ...(device.revokedAt !== undefined ? { revoked_at: iso(device.revokedAt) } : {}),
  };
}

export function presentUser(user: User, devices: Device[]): ApiSchemas['User'] {
  return {
    user_id: user.userId,
    aliases: user.aliases,
    disabled: user.disabled,
    created_at: iso(user.createdAt),
    updated_at: iso(user.updatedAt),
    devices: devices.map(presentDevice),
    ...(user.displayName !== undefined ? { display_name: user.displayName } : {}),
  };
}

/** The operator's view of a request: state, timestamps, deliveries — never login_state or tokens. */
export function presentAdminRequest(request: AuthenticationRequest, now: number): ApiSchemas['AdminRequest'] {
  const decision = request.decision;
  const outcome = request.outcome;
  return {
    request_id: request.requestId,
    login_id: request.loginId,
    user_identifier: request.userIdentifier,
    status: effectiveStatus(request, now),
    view_ready: request.view !== undefined,
    scopes: (request.view?.scopes ?? request.requestedScopes).map((scope) => scope.name),
    created_at: iso(request.createdAt),
    expires_at: iso(request.expiresAt),
    deliveries: request.deliveries.map((delivery) => ({
      channel: delivery.channel,
      result: delivery.result,
      at: iso(delivery.at),
      ...(delivery.deviceId !== undefined ? { device_id: delivery.deviceId } : {}),
      ...(delivery.errorCode !== undefined ? { error_code: delivery.errorCode } : {}),
      ...(delivery.message !== undefined ? { message: delivery.message } : {}),
    })),
    ...(request.userId !== null ? { user_id: request.userId } : {}),
    ...(request.clientId !== undefined ? { client_id: request.clientId } : {}),
    ...(request.bindingMessage !== undefined ? { binding_message: request.bindingMessage } : {}),
    ...(request.openbankingKind !== undefined
      ? {
          openbanking: {
            kind: request.view?.openbanking?.kind ?? request.openbankingKind,
            ...(request.openbankingIntentId !== undefined ? { consent_id: request.openbankingIntentId } : {}),
          },
        }
      : {}),
    ...(decision?.reason !== undefined ? { reason: decision.reason } : {}),
    ...(decision !== undefined
      ? {
          decided_at: iso(decision.decidedAt),
          decision: {
            action: decision.action,
            channel: decision.channel,
            ...(decision.deviceId !== undefined ? { device_id: decision.deviceId } : {}),
            ...(decision.grantedScopes !== undefined ? { granted_scopes: decision.grantedScopes } : {}),
            ...(decision.accountIds !== undefined ? { account_ids: decision.accountIds } : {}),
          },
        }
      : {}),
    ...(outcome !== undefined
      ? {
          completed_at: iso(outcome.completedAt),
          outcome: { result: outcome.result, attempts: outcome.attempts, ...(outcome.error !== undefined ? { error: outcome.error } : {}) },
        }
      : {}),
  };
}

export function presentEvidence(evidence: DecisionEvidence): ApiSchemas['Evidence'] {
  const decision = evidence.request.decision;
  const device = evidence.device;
  return {
    request_id: evidence.request.requestId,
    channel: decision?.channel ?? 'device',
    consent_view: { ...evidence.view },
    consent_hash: evidence.consentHash,
    ...(device !== undefined
      ? { device_id: device.deviceId, public_jwk: { ...device.publicJwk, alg: device.alg, kid: device.deviceId } }
      : {}),
    ...(evidence.decisionJws !== undefined ? { decision_jws: evidence.decisionJws } : {}),
    ...(decision?.channel === 'email' ? { action: decision.action, note: EMAIL_EVIDENCE_NOTE } : {}),
    ...(decision?.bindingChoice !== undefined ? { binding_choice: decision.bindingChoice } : {}),
    ...(decision !== undefined ? { decided_at: iso(decision.decidedAt) } : {}),
  };
}

export function presentAccountList(userId: string, accounts: BankAccount[]): ApiSchemas['UserAccounts'] {
  return { user_id: userId, accounts: accounts.map(bankAccountToWire) };
}

/** Audit events as the admin API shows them: snake_case, ISO times, absent fields left out. */
export function presentAuditPage(page: AuditPage): ApiSchemas['AuditPage'] {
  return {
    events: page.events.map((event) => ({
      id: event.id,
      type: event.type,
      at: iso(event.at),
      ...(event.requestId !== undefined ? { request_id: event.requestId } : {}),
      ...(event.userId !== undefined ? { user_id: event.userId } : {}),
      ...(event.clientId !== undefined ? { client_id: event.clientId } : {}),
      ...(event.deviceId !== undefined ? { device_id: event.deviceId } : {}),
      ...(event.channel !== undefined ? { channel: event.channel } : {}),
      ...(event.outcome !== undefined ? { outcome: event.outcome } : {}),
      ...(event.reason !== undefined ? { reason: event.reason } : {}),
      ...(event.actor !== undefined ? { actor: event.actor } : {}),
    })),
    ...(page.next !== undefined ? { next_cursor: page.next } : {}),
  };
}
