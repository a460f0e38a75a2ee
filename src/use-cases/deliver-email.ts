import { isExpired, type AuthenticationRequest } from '../domain/authentication-request.js';
import { newMagicLinkToken } from '../domain/magic-link.js';
import { emailAliasOf } from '../domain/user.js';
import { jobFor, retryBeforeExpiry, type JobContext, type JobRequest } from '../ports/jobs.js';
import type { Dependencies } from './dependencies.js';

/** Where a magic link points: `{PUBLIC_URL}/magic-links/{token}`. */
export const magicLinkUrl = (publicUrl: string, token: string): string => `${publicUrl}/magic-links/${token}`;

/**
 * Whether a request may be decided through an e-mailed link. Not an Open Banking one: the magic-link
 * page cannot offer the accounts to choose, and its approval is not checked against the consent read
 * again (what binds a payment approval to the amount and payee the user saw), so such a request is
 * for devices only.
 */
const emailMayDecide = (request: AuthenticationRequest): boolean => request.openbankingKind === undefined;

/**
 * The e-mail jobs a request just made ready needs: at once for a user whose e-mail alias is their
 * only way in (no active device), after EMAIL_FALLBACK_AFTER_SECONDS when they have devices and the
 * fallback is on (the job sends only if still nobody decided), otherwise none.
 */
export async function emailJobsFor(
  deps: Pick<Dependencies, 'config' | 'users' | 'devices' | 'email' | 'clock'>,
  request: AuthenticationRequest,
): Promise<JobRequest[]> {
  const { config, users, devices, email, clock } = deps;
  if (email === undefined || config.email === undefined || request.userId === null) return [];
  if (!emailMayDecide(request)) return [];
  const user = await users.get(request.userId);
  if (user === undefined || emailAliasOf(user) === undefined) return [];
  const active = (await devices.listForUser(request.userId, request.partition)).filter((device) => device.status === 'active');
  if (active.length === 0) return [jobFor('deliver-email', { requestId: request.requestId })];
  const fallbackSeconds = config.email.fallbackAfterSeconds;
  if (fallbackSeconds === undefined) return [];
  const delayMs = fallbackSeconds * 1000;
  if (clock.now() + delayMs >= request.expiresAt) return [];
  return [jobFor('deliver-email', { requestId: request.requestId }, delayMs)];
}

/**
 * Whether the e-mail channel can reach the request's user: it is configured, the request may be
 * decided by e-mail, and the user, enabled, has an e-mail alias. Used when no device can be reached, before giving up on the user.
 */
export async function emailReaches(
  deps: Pick<Dependencies, 'users' | 'email' | 'config'>,
  request: AuthenticationRequest,
): Promise<boolean> {
  if (deps.email === undefined || deps.config.email === undefined || request.userId === null || !emailMayDecide(request)) return false;
  const user = await deps.users.get(request.userId);
  return user !== undefined && !user.disabled && emailAliasOf(user) !== undefined;
}

/**
 * The e-mail job for a user none of whose devices could be reached. Its id differs from the one
 * `emailJobsFor` uses, because a delayed fallback job may already hold that one.
 */
export const emailNowJob = (requestId: string): JobRequest => ({
  name: 'deliver-email',
  data: { requestId },
  options: { jobId: `deliver-email.${requestId}.unreachable` },
});

const minutesLeft = (expiresAt: number, now: number): string => String(Math.max(1, Math.round((expiresAt - now) / 60_000)));

/**
 * Job: e-mails the user a single-use magic link to the request, if it still awaits a decision. Each
 * run makes a new link (so a retry after a failed send never leaves a working link nobody received);
 * only its hash is kept, in the request.
 */
export async function deliverEmail(
  deps: Pick<Dependencies, 'requests' | 'users' | 'clock' | 'config' | 'logger' | 'audit' | 'email'>,
  requestId: string,
  context: JobContext,
): Promise<void> {
  const channel = deps.email;
  if (channel === undefined) return;
  const request = await deps.requests.get(requestId);
  const now = deps.clock.now();
  if (request === undefined || request.status !== 'pending' || request.view === undefined || request.userId === null) return;
  if (isExpired(request, now)) return;
  // One e-mail per request: a fallback job and an "unreachable" job may both exist.
  if (request.deliveries.some((delivery) => delivery.channel === 'email' && delivery.result === 'sent')) return;
  const log = deps.logger.child({ requestId });

  const user = await deps.users.get(request.userId);
  const to = user === undefined || user.disabled ? undefined : emailAliasOf(user);
  if (to === undefined) {
    await deps.requests.addDelivery(requestId, { channel: 'email', result: 'skipped', at: now, errorCode: 'no_email_alias' });
    return;
  }

  const { token, secretHash } = newMagicLinkToken(requestId);
  if (!(await deps.requests.setMagicLink(requestId, secretHash))) return;
  const view = request.view;
  const message = channel.templates.render(view.binding_message !== undefined ? 'with-binding-message' : 'without-binding-message', {
    app_name: view.client.name ?? view.client.id ?? 'An application',
    magic_link: magicLinkUrl(deps.config.http.publicUrl, token),
    binding_message: view.binding_message ?? '',
    request_id: requestId,
    expires_at: view.expires_at,
    expires_in_minutes: minutesLeft(request.expiresAt, now),
  });

  try {
    await channel.mailer.send({ to, ...message });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    // Any SMTP failure may pass; the mailer gives no time to wait.
    retryBeforeExpiry(context, { now: deps.clock.now(), expiresAt: request.expiresAt }, { message: `e-mail not sent: ${reason}`, retryable: true }, () =>
      log.warn({ attempt: context.attempt, reason }, 'e-mail not sent; will retry'),
    );
    await deps.requests.addDelivery(requestId, { channel: 'email', result: 'failed', at: deps.clock.now(), errorCode: 'smtp_error' });
    log.error({ attempt: context.attempt, reason }, 'e-mail could not be sent');
    await deps.audit.record({ type: 'prompt.failed', at: deps.clock.now(), requestId, userId: request.userId, channel: 'email', actor: 'service', reason: 'smtp_error' });
    return;
  }
  await deps.requests.addDelivery(requestId, { channel: 'email', result: 'sent', at: deps.clock.now() });
  await deps.audit.record({ type: 'prompt.delivered', at: deps.clock.now(), requestId, userId: request.userId, channel: 'email', actor: 'service' });
  log.info({ template: view.binding_message !== undefined ? 'with-binding-message' : 'without-binding-message' }, 'magic link e-mailed');
}
