import type { TokenMessage } from 'firebase-admin/messaging';
import type { AuthenticationRequest } from '../../domain/authentication-request.js';

/**
 * The FCM messages, built for firebase-admin (which turns them into FCM HTTP v1 JSON). The data
 * payload carries identifiers only — no personal data, scopes, binding message, login id or state:
 * the app fetches the details over the device API, authenticated.
 */

export const PROMPT_MESSAGE_TYPE = 'ciba.request';
export const CLOSED_MESSAGE_TYPE = 'ciba.request.closed';

/** Texts of the visible notification; `{client_name}` is replaced by the client's name. */
export interface NotificationTexts {
  title: string;
  body: string;
}

const CLIENT_NAME_PLACEHOLDER = /\{client_name\}/g;
const MAX_CLIENT_NAME_LENGTH = 80;

/** The client as the device view names it, made safe for a one-line notification. */
function clientName(request: AuthenticationRequest): string {
  const name = request.view?.client.name ?? request.clientName ?? request.clientId ?? 'an application';
  // eslint-disable-next-line no-control-regex
  const oneLine = name.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return oneLine.length > MAX_CLIENT_NAME_LENGTH ? `${oneLine.slice(0, MAX_CLIENT_NAME_LENGTH - 1)}…` : oneLine || 'an application';
}

const fill = (template: string, name: string): string => template.replace(CLIENT_NAME_PLACEHOLDER, () => name);

/** Whole seconds from now to the expiry, never negative. */
const secondsLeft = (request: AuthenticationRequest, now: number): number => Math.max(0, Math.floor((request.expiresAt - now) / 1000));

/**
 * APNs `apns-expiration`: the request's expiry in epoch seconds, so APNs stops trying when the
 * request could no longer be decided; `0` ("try once, do not store") once it has passed.
 */
const apnsExpiration = (request: AuthenticationRequest, now: number): string =>
  request.expiresAt > now ? String(Math.floor(request.expiresAt / 1000)) : '0';

/**
 * The prompt: a visible notification (so the user sees it with the app closed) plus the data the app
 * needs to fetch the request. High priority on both platforms; it lives as long as the request, and a
 * later message about the same request (the closing one) replaces it while still undelivered.
 */
export function promptMessage(request: AuthenticationRequest, token: string, now: number, texts: NotificationTexts): TokenMessage {
  const name = clientName(request);
  const body = fill(texts.body, name);
  return {
    token,
    data: { type: PROMPT_MESSAGE_TYPE, request_id: request.requestId, expires_at: new Date(request.expiresAt).toISOString() },
    notification: { title: fill(texts.title, name), ...(body.length > 0 ? { body } : {}) },
    android: { priority: 'high', ttl: secondsLeft(request, now) * 1000, collapseKey: request.requestId },
    apns: {
      headers: {
        'apns-priority': '10',
        'apns-push-type': 'alert',
        'apns-expiration': apnsExpiration(request, now),
        'apns-collapse-id': request.requestId,
      },
    },
  };
}

/**
 * The closing message: data only, so the app removes the prompt without showing anything. On Android
 * it shares the prompt's collapse key, so a prompt still waiting for an offline phone is replaced by
 * it; high priority because removing a visible notification is time-sensitive. On iOS it is a
 * background push (`content-available`, which APNs requires to be sent with priority 5).
 */
export function closingMessage(request: AuthenticationRequest, token: string, now: number): TokenMessage {
  return {
    token,
    data: { type: CLOSED_MESSAGE_TYPE, request_id: request.requestId },
    android: { priority: 'high', ttl: secondsLeft(request, now) * 1000, collapseKey: request.requestId },
    apns: {
      headers: { 'apns-priority': '5', 'apns-push-type': 'background', 'apns-expiration': apnsExpiration(request, now) },
      payload: { aps: { contentAvailable: true } },
    },
  };
}
