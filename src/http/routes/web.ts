import express, { Router, type ErrorRequestHandler, type Request, type RequestHandler, type Response } from 'express';
import helmet from 'helmet';
import { readFileSync } from 'node:fs';
import { timingSafeEqual } from 'node:crypto';
import { newSecret } from '../../domain/identifiers.js';
import { webAssetPath } from '../../support/project-files.js';
import type { Dependencies } from '../../use-cases/dependencies.js';
import { decideByMagicLink, openMagicLink, type MagicLinkDecision, type MagicLinkState } from '../../use-cases/magic-link-decision.js';
import { bindingChoicesHtml, consentHtml, escapeHtml, htmlPage, messagePage } from '../web/pages.js';

const CSRF_COOKIE = 'ciba_magic_csrf';

/** A magic link's secret is a bearer credential in a URL path: request logs keep only the request id. */
export const withoutUrlSecrets = (path: string): string => path.replace(/(\/magic-links\/[^/.]*)\.[^/]*/, '$1.[redacted]');

/** The web pages' routers, each to be mounted at its own prefix (paths inside are relative to it). */
export interface WebRouters {
  /** `/authenticator`: absent when the web authenticator is disabled. */
  authenticator?: Router;
  /** `/magic-links` */
  magicLinks: Router;
}

/**
 * Pages for people: the web authenticator (static page, one ES module, one style sheet) and the
 * magic-link consent page. They answer HTML — errors too — and are mounted before the JSON API's body
 * parser and OpenAPI validator, which speak JSON only; the OpenAPI document still describes them.
 * Each router is mounted only at its prefix, so API requests never walk these layers.
 */
export function webRoutes(deps: Dependencies): WebRouters {
  const publicUrl = new URL(deps.config.http.publicUrl);
  const basePath = publicUrl.pathname.replace(/\/+$/, '');
  const styles = readFileSync(webAssetPath('authenticator', 'styles.css'), 'utf8');

  // Helmet's defaults, plus client logos from any https origin, the device API at PUBLIC_URL, and forms
  // posting only to this service.
  const pageSecurity = helmet.contentSecurityPolicy({
    useDefaults: true,
    directives: {
      'script-src': ["'self'"],
      'style-src': ["'self'", "'unsafe-inline'"],
      'img-src': ["'self'", 'data:', 'https:'],
      'connect-src': ["'self'", publicUrl.origin],
      'form-action': ["'self'"],
      'frame-ancestors': ["'none'"],
      // On a plain-http PUBLIC_URL (development) the browser must not rewrite form posts to https.
      ...(publicUrl.protocol === 'http:' ? { 'upgrade-insecure-requests': null } : {}),
    },
  });
  const noStore: RequestHandler = (_req, res, next) => {
    res.setHeader('cache-control', 'no-store');
    next();
  };
  // Helmet's `no-referrer` makes browsers post forms with `Origin: null`; `same-origin` keeps the
  // Origin check possible and still sends no referrer (which holds the link) to any other site.
  const sameOriginReferrer: RequestHandler = (_req, res, next) => {
    res.setHeader('referrer-policy', 'same-origin');
    next();
  };

  /** The web authenticator: its page at the prefix itself, its script and style sheet under it. */
  function authenticatorRoutes(): Router {
    const router = Router();
    const page = readFileSync(webAssetPath('authenticator', 'index.html'), 'utf8')
      .replaceAll('{{base_path}}', escapeHtml(basePath))
      .replaceAll('{{public_url}}', escapeHtml(deps.config.http.publicUrl))
      .replaceAll('{{binding_confirmation}}', deps.config.bindingConfirmation);
    const script = readFileSync(webAssetPath('authenticator', 'app.js'), 'utf8');
    router.get('/', pageSecurity, noStore, (_req, res) => {
      res.status(200).type('text/html; charset=utf-8').send(page);
    });
    router.get('/app.js', pageSecurity, noStore, (_req, res) => {
      res.status(200).type('text/javascript; charset=utf-8').send(script);
    });
    router.get('/styles.css', pageSecurity, noStore, (_req, res) => {
      res.status(200).type('text/css; charset=utf-8').send(styles);
    });
    return router;
  }
  const authenticator = deps.config.webAuthenticator.enabled ? authenticatorRoutes() : undefined;

  const send = (res: Response, status: number, html: string): void => {
    res.status(status).type('text/html; charset=utf-8').send(html);
  };
  const invalidLinkPage = messagePage('This link is not valid', 'The link is unknown or incomplete. Open it again from the e-mail, whole.', styles, 'error');
  const cookiePath = (token: string): string => `${basePath}/magic-links/${encodeURIComponent(token)}`;

  /** Pages for every state in which nothing can be decided any more. */
  const closedPage = (res: Response, state: Pick<MagicLinkState | MagicLinkDecision, 'state'>): void => {
    switch (state.state) {
      case 'used':
        send(res, 410, messagePage('This link was already used', 'You already answered this request with this link. Each link works once. Nothing else is needed.', styles));
        return;
      case 'decided_elsewhere':
        send(res, 410, messagePage('This request was already answered', 'The request was answered on another device, so this link no longer works.', styles));
        return;
      case 'expired':
        send(res, 410, messagePage('This link has expired', 'The request expired before it was answered. If you still want to continue, start again from the application.', styles));
        return;
      default:
        send(res, 404, invalidLinkPage);
    }
  };

  const magicLinks = Router();
  magicLinks.get('/:token', pageSecurity, noStore, sameOriginReferrer, async (req, res) => {
    try {
      const token = typeof req.params.token === 'string' ? req.params.token : '';
      const opened = await openMagicLink(deps, token);
      if (opened.state !== 'pending') {
        closedPage(res, opened);
        return;
      }
      const csrf = newSecret(24);
      const maxAge = Math.max(1, Math.ceil((opened.request.expiresAt - deps.clock.now()) / 1000));
      res.setHeader(
        'set-cookie',
        `${CSRF_COOKIE}=${csrf}; Path=${cookiePath(token)}; Max-Age=${maxAge}; HttpOnly; SameSite=Strict${publicUrl.protocol === 'https:' ? '; Secure' : ''}`,
      );
      const view = opened.request.view;
      const form = `<form method="post" class="decision">
<input type="hidden" name="csrf_token" value="${csrf}">
<input type="hidden" name="consent_hash" value="${escapeHtml(opened.request.consentHash)}">
${bindingChoicesHtml(view)}
<div class="buttons"><button type="submit" name="action" value="deny" class="deny">Deny</button><button type="submit" name="action" value="approve" class="approve">Approve</button></div>
</form>`;
      send(res, 200, htmlPage(`${view.client.name ?? 'Approval'} — approve or deny`, consentHtml(view, deps.clock.now()) + form, styles));
    } catch (error) {
      deps.logger.error({ err: error }, 'magic-link page failed');
      send(res, 500, messagePage('Something went wrong', 'The request could not be shown. Try again in a moment.', styles, 'error'));
    }
  });

  magicLinks.post(
    '/:token',
    pageSecurity,
    noStore,
    sameOriginReferrer,
    express.urlencoded({ extended: false, limit: deps.config.http.bodyLimitBytes, parameterLimit: 10 }),
    async (req, res) => {
      try {
        const token = typeof req.params.token === 'string' ? req.params.token : '';
        if (!sameOrigin(req, publicUrl.origin) || !csrfMatches(req)) {
          send(res, 403, messagePage('This form has expired', 'For your safety the answer was not recorded. Open the link from your e-mail again.', styles, 'error'));
          return;
        }
        const body = (req.body ?? {}) as Record<string, unknown>;
        const action = body.action;
        const consentHash = body.consent_hash;
        const bindingChoice = body.binding_choice;
        if ((action !== 'approve' && action !== 'deny') || typeof consentHash !== 'string' || (bindingChoice !== undefined && typeof bindingChoice !== 'string')) {
          send(res, 400, messagePage('Choose Approve or Deny', 'The answer was incomplete. Go back and choose Approve or Deny.', styles, 'error'));
          return;
        }
        const result = await decideByMagicLink(deps, token, {
          action,
          consentHash,
          ...(typeof bindingChoice === 'string' ? { bindingChoice } : {}),
        });
        switch (result.state) {
          case 'recorded':
            res.setHeader('set-cookie', `${CSRF_COOKIE}=; Path=${cookiePath(token)}; Max-Age=0; HttpOnly; SameSite=Strict`);
            if (result.bindingMismatch) {
              send(res, 200, messagePage('Request denied', 'The message you picked is not the one shown on the other screen, so the request was denied for your safety.', styles, 'error'));
            } else if (result.action === 'approve') {
              send(res, 200, messagePage('Approved', `You approved the request of ${result.request.view.client.name ?? 'the application'}. You can close this page.`, styles, 'ok'));
            } else {
              send(res, 200, messagePage('Denied', `You denied the request of ${result.request.view.client.name ?? 'the application'}. You can close this page.`, styles, 'ok'));
            }
            return;
          case 'choice_required':
            send(res, 400, messagePage('Pick the message first', 'Go back and pick the message your other screen shows, then approve.', styles, 'error'));
            return;
          case 'view_changed':
            send(res, 409, messagePage('The request changed', 'What the request shows changed since you opened it. Open the link again to see it as it is now.', styles, 'error'));
            return;
          default:
            closedPage(res, result);
        }
      } catch (error) {
        deps.logger.error({ err: error }, 'magic-link decision failed');
        send(res, 500, messagePage('Something went wrong', 'Your answer could not be recorded. Try again in a moment.', styles, 'error'));
      }
    },
  );

  // Anything else under /magic-links (no token, more segments, another method) is a page too.
  magicLinks.all(['/', '/{*rest}'], pageSecurity, noStore, (_req, res) => {
    send(res, 404, invalidLinkPage);
  });

  // Whatever else fails under /magic-links (a link with broken %-escapes, a body that cannot be read)
  // still answers a page, never JSON or a stack trace.
  magicLinks.use(((error, _req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const status = typeof (error as { status?: unknown }).status === 'number' ? (error as { status: number }).status : 500;
    if (status >= 500) deps.logger.error({ err: error }, 'magic-link page failed');
    send(res, status >= 500 ? 500 : 404, invalidLinkPage);
  }) as ErrorRequestHandler);

  return { ...(authenticator !== undefined ? { authenticator } : {}), magicLinks };
}

/** A browser's form post names its origin; a post from another site (CSRF) is refused. */
function sameOrigin(req: Request, origin: string): boolean {
  const presented = req.headers.origin;
  // `Origin: null` (a sandboxed frame, a redirect across sites) is refused like any other site.
  if (presented === 'null' || (presented !== undefined && presented !== origin)) return false;
  const site = req.headers['sec-fetch-site'];
  return site === undefined || site === 'same-origin';
}

/** Double-submit: the hidden field must equal the cookie the consent page set for this very link. */
function csrfMatches(req: Request): boolean {
  const field = (req.body as Record<string, unknown> | undefined)?.csrf_token;
  const cookie = cookieValue(req.headers.cookie, CSRF_COOKIE);
  if (typeof field !== 'string' || cookie === undefined || field.length === 0) return false;
  const a = Buffer.from(field);
  const b = Buffer.from(cookie);
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}
