import type { ConsentView, ScopeView } from '../../domain/authentication-request.js';

/** Server-rendered HTML for people (magic-link pages). Every value is escaped; no script runs. */

export const escapeHtml = (value: string): string =>
  value.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);

/** Words for the standard OpenID Connect scopes, for when the authorization server gave none. */
const STANDARD_SCOPES: Record<string, string> = {
  openid: 'Confirm who you are',
  profile: 'Your basic profile (name, picture)',
  email: 'Your e-mail address',
  phone: 'Your phone number',
  address: 'Your postal address',
  offline_access: 'Stay signed in',
};

export function scopeInWords(scope: ScopeView): string {
  return scope.display_name ?? STANDARD_SCOPES[scope.name] ?? scope.name;
}

const isPrimitive = (value: unknown): value is string | number | boolean =>
  typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';

/** `instructedAmount` / `creditor_name` → "instructed amount" / "creditor name". */
const words = (key: string): string => key.replace(/_/g, ' ').replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();

/** Amounts read as "50.00 EUR"; flat objects as "key: value, …"; anything deeper as JSON (as the web authenticator does). */
function detailValue(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (isPrimitive(value)) return escapeHtml(String(value));
  if (Array.isArray(value) && value.every(isPrimitive)) return escapeHtml(value.join(', '));
  if (typeof value === 'object' && !Array.isArray(value) && Object.values(value).every(isPrimitive)) {
    const record = value as Record<string, string | number | boolean>;
    if (Object.keys(record).length === 2 && 'amount' in record && 'currency' in record) return escapeHtml(`${record.amount} ${record.currency}`);
    return escapeHtml(Object.entries(record).map(([key, item]) => `${words(key)}: ${item}`).join(', '));
  }
  return `<code>${escapeHtml(JSON.stringify(value))}</code>`;
}

function authorizationDetailsHtml(details: Record<string, unknown>[]): string {
  return details
    .map((detail) => {
      const { type, ...rest } = detail;
      const rows = Object.entries(rest)
        .map(([key, value]) => `<dt>${escapeHtml(words(key))}</dt><dd>${detailValue(value)}</dd>`)
        .join('');
      return `<div class="detail"><h3>${escapeHtml(typeof type === 'string' ? words(type) : 'Details')}</h3><dl>${rows}</dl></div>`;
    })
    .join('');
}

const clientName = (view: ConsentView): string => view.client.name ?? view.client.id ?? 'An application';

const initials = (name: string): string =>
  name
    .split(/\s+/)
    .map((word) => word[0] ?? '')
    .join('')
    .slice(0, 2)
    .toUpperCase();

/** The consent view as the devices show it: client, binding message, scopes, details, expiry. */
export function consentHtml(view: ConsentView, now: number): string {
  const name = clientName(view);
  const logo = view.client.logo_uri !== undefined && /^https:\/\//.test(view.client.logo_uri)
    ? `<img class="logo" src="${escapeHtml(view.client.logo_uri)}" alt="" width="48" height="48">`
    : `<span class="logo logo-initials" aria-hidden="true">${escapeHtml(initials(name))}</span>`;
  const binding =
    view.binding_message === undefined || view.binding_choices !== undefined
      ? ''
      : `<p class="binding-label">Check that your other screen shows</p><p class="binding">${escapeHtml(view.binding_message)}</p>`;
  const scopes = view.scopes
    .map((scope) => `<li><span class="scope">${escapeHtml(scopeInWords(scope))}</span>${scope.description ? `<span class="scope-description">${escapeHtml(scope.description)}</span>` : ''}</li>`)
    .join('');
  const details = view.authorization_details !== undefined ? `<h2>Details</h2>${authorizationDetailsHtml(view.authorization_details)}` : '';
  const expiresAt = Date.parse(view.expires_at);
  const seconds = Math.max(0, Math.round((expiresAt - now) / 1000));
  const left = seconds >= 120 ? `${Math.round(seconds / 60)} minutes` : `${seconds} seconds`;
  return `<header class="client">${logo}<div><h1>${escapeHtml(name)}</h1><p class="subtitle">asks for your approval</p></div></header>
${binding}
<h2>It wants</h2><ul class="scopes">${scopes || '<li>No particular access</li>'}</ul>
${details}
<p class="expiry">Expires in <time datetime="${escapeHtml(view.expires_at)}">${left}</time>.</p>`;
}

/** The binding choices as a radio group; the user picks what their other screen shows. */
export function bindingChoicesHtml(view: ConsentView): string {
  if (view.binding_choices === undefined) return '';
  const options = view.binding_choices
    .map(
      (choice, index) =>
        `<label class="choice"><input type="radio" name="binding_choice" value="${escapeHtml(choice)}" id="choice-${index}"> <span>${escapeHtml(choice)}</span></label>`,
    )
    .join('');
  return `<fieldset class="choices"><legend>Which message does your other screen show?</legend>${options}</fieldset>`;
}

/** A whole page with the shared style sheet inlined (the CSP allows inline styles, not scripts). */
export function htmlPage(title: string, body: string, styles: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${styles}</style>
</head>
<body>
<main class="card">
${body}
</main>
</body>
</html>`;
}

/** A page that only says something: used, expired, unknown link, done. */
export function messagePage(title: string, message: string, styles: string, tone: 'ok' | 'warn' | 'error' = 'warn'): string {
  return htmlPage(title, `<h1 class="message-title ${tone}">${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p>`, styles);
}
