import { isExpired, type AuthenticationRequest, type ConsentView, type RequestStatus } from '../domain/authentication-request.js';
import type { Device } from '../domain/device.js';
import { AppError } from '../domain/errors.js';
import { partitionOf } from '../domain/identifiers.js';
import type { Dependencies } from './dependencies.js';

export type DeviceRequestView = ConsentView & { consent_hash: string };

/** A request whose view is fixed: devices may list it and the user may decide it. */
export type ReadyRequest = AuthenticationRequest & { view: ConsentView; consentHash: string };

const deviceView = (request: ReadyRequest): DeviceRequestView => ({
  ...request.view,
  consent_hash: request.consentHash,
});

export const isReady = (request: AuthenticationRequest): request is ReadyRequest =>
  request.view !== undefined && request.consentHash !== undefined;

/** Pending requests of the device's user whose view is final. */
export async function listRequestsForDevice(deps: Pick<Dependencies, 'requests' | 'clock'>, device: Device): Promise<DeviceRequestView[]> {
  const requests = await deps.requests.listPending(device.userId, partitionOf(device.deviceId), deps.clock.now());
  return requests.filter(isReady).map(deviceView);
}

/** One request as the device shows it; another user's request is indistinguishable from none. */
export async function getRequestForDevice(
  deps: Pick<Dependencies, 'requests' | 'clock'>,
  device: Device,
  requestId: string,
): Promise<DeviceRequestView> {
  const request = await deps.requests.get(requestId);
  if (request === undefined || request.userId !== device.userId || !isReady(request)) throw AppError.notFound('no such request for this device');
  const status = effectiveStatus(request, deps.clock.now());
  if (status === 'expired') throw AppError.gone('the request expired');
  if (status !== 'pending') throw AppError.conflict('request_already_decided', `the request was already ${status}`);
  return deviceView(request);
}

/** A pending request past its expiry is expired even before the periodic sweep has closed it. */
export function effectiveStatus(request: AuthenticationRequest, now: number): RequestStatus {
  return request.status === 'pending' && isExpired(request, now) ? 'expired' : request.status;
}

export async function getRequestForAdmin(deps: Pick<Dependencies, 'requests'>, requestId: string): Promise<AuthenticationRequest> {
  const request = await deps.requests.get(requestId);
  if (request === undefined) throw AppError.notFound('no such request');
  return request;
}

export interface DecisionEvidence {
  request: AuthenticationRequest;
  /** Absent for a decision taken through an e-mailed magic link: no device key signed it. */
  decisionJws?: string;
  device?: Device;
  view: ConsentView;
  consentHash: string;
}

/** Said in the evidence of a magic-link decision, which has no signature to check. */
export const EMAIL_EVIDENCE_NOTE =
  'decided through a single-use magic link e-mailed to the user; there is no device signature (decision JWS) for this decision';

/** What the user signed, with the key to check it and the view whose hash it carries. */
export async function getDecisionEvidence(deps: Pick<Dependencies, 'requests' | 'devices'>, requestId: string): Promise<DecisionEvidence> {
  const request = await deps.requests.get(requestId);
  if (request === undefined) throw AppError.notFound('no such request');
  const decision = request.decision;
  if (decision?.channel === 'email' && request.view !== undefined && request.consentHash !== undefined) {
    return { request, view: request.view, consentHash: request.consentHash };
  }
  if (decision?.jws === undefined || decision.deviceId === undefined || request.view === undefined || request.consentHash === undefined) {
    throw AppError.notFound('this request has no signed decision');
  }
  const device = await deps.devices.get(decision.deviceId);
  if (device === undefined) throw AppError.notFound('the deciding device is no longer known');
  return { request, decisionJws: decision.jws, device, view: request.view, consentHash: request.consentHash };
}
